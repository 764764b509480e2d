use sea_orm::entity::prelude::*;

/// The council's appraisal of a submitted self-assessment; totals are stored at
/// finalization so that rankings are one indexed query.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appraisals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub self_assessment_id: i64,
    pub unit_id: i64,
    pub framework_id: i64,
    pub year: i32,
    pub status: crate::status::AppraisalStatus,
    pub appraised_total_x100: i64,
    pub bonus_x100: i64,
    pub bonus_reason: Option<String>,
    pub self_total_x100: Option<i64>,
    pub index_x100: Option<i64>,
    pub deduction_total_x100: Option<i64>,
    pub rating_band: Option<String>,
    /// JSON list of penalty items (điểm trừ): code, points, reason, document reference.
    pub penalties: String,
    /// Their total, subtracted after the bonus.
    pub penalty_total_x100: i64,
    /// JSON list of the components' figures, stored at finalization (null: none).
    pub components: Option<String>,
    /// A component had no data and the framework leaves such units unranked.
    pub unranked: bool,
    pub finalized_at: Option<DateTimeUtc>,
    pub finalized_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
