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
    /// The council's review of the leaf: `pending`, `scored` (by its agency) or
    /// `confirmed` (by the consolidating appraisers).
    pub review_state: crate::status::ReviewState,
    /// Who last reviewed it, and when.
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    /// The agency's score the consolidator replaced, and why (both values kept).
    pub overridden_score_x100: Option<i64>,
    pub override_reason: Option<String>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
