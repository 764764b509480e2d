use sea_orm::entity::prelude::*;

/// A unit's objection (kiến nghị) to the council's score of one criterion.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub appraisal_id: i64,
    pub unit_id: i64,
    pub year: i32,
    pub criterion_code: String,
    pub reason: String,
    /// JSON array of evidence items.
    pub evidence: String,
    pub status: crate::status::AppealStatus,
    pub filed_by: Option<i64>,
    pub filed_at: DateTimeUtc,
    pub response: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
