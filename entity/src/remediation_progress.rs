use sea_orm::entity::prelude::*;

/// A progress report (with a status) or a district comment on an item.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remediation_progress")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    /// `progress` or `comment`.
    pub kind: String,
    pub note: String,
    /// The status the report set, if it changed it.
    pub status: Option<crate::status::RemediationItemStatus>,
    pub reason: Option<String>,
    /// JSON list of evidence references.
    pub evidence: String,
    /// What the report measured of a task's target (hundredths).
    pub measured_x100: Option<i64>,
    /// The day the measurement refers to (the report's day when not given).
    pub measured_on: Option<Date>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
