use sea_orm::entity::prelude::*;

/// One criterion of a self-assessment: the unit's inputs and score, and the council's.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub self_assessment_id: i64,
    pub criterion_code: String,
    pub self_inputs: Option<String>,
    pub self_score_x100: Option<i64>,
    pub self_not_applicable: bool,
    pub explanation: Option<String>,
    /// JSON list of evidence references.
    pub evidence: String,
    pub appraised_inputs: Option<String>,
    pub appraised_score_x100: Option<i64>,
    pub appraised_not_applicable: bool,
    pub comment: Option<String>,
    pub final_score_x100: Option<i64>,
    pub deduction_x100: Option<i64>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
