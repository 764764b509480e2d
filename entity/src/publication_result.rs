use sea_orm::entity::prelude::*;

/// One unit's row of a publication, frozen: names, codes, paths and figures as they were
/// when the results were announced. Ranks are derived from the frozen indices by the one
/// ranking function, so they read as announced.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "publication_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub publication_id: i64,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub unit_kind: String,
    pub unit_path: String,
    pub parent_id: Option<i64>,
    pub self_assessment_id: Option<i64>,
    pub appraisal_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub appraisal_status: Option<String>,
    pub self_assessment_status: Option<String>,
    pub index_x100: Option<i64>,
    pub self_total_x100: Option<i64>,
    pub appraised_total_x100: Option<i64>,
    pub bonus_x100: Option<i64>,
    pub deduction_total_x100: Option<i64>,
    pub rating_band: Option<String>,
    pub previous_index_x100: Option<i64>,
    pub components: Option<String>,
    pub unranked: bool,
    pub penalty_total_x100: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
