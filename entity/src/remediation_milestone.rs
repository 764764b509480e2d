use sea_orm::entity::prelude::*;

/// A deadline of an item, e.g. "đợt 1" on 2024-10-31.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remediation_milestones")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    pub position: i32,
    pub label: String,
    pub due_on: Date,
    pub status: crate::status::MilestoneStatus,
    pub met_on: Option<Date>,
    pub note: Option<String>,
    /// JSON list of evidence references.
    pub evidence: String,
    /// An occurrence of the item's recurring duty (regenerated when the rule changes).
    pub recurring: bool,
}

impl ActiveModelBehavior for ActiveModel {}
