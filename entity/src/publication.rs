use sea_orm::entity::prelude::*;

/// A year's results of the units under a parent, made visible to those units, and frozen
/// as they were announced: the rows are in `publication_results`. A reopened appraisal
/// leads to a new revision; earlier revisions stay readable.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "publications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub parent_unit_id: i64,
    pub year: i32,
    pub published_by: Option<i64>,
    pub published_at: DateTimeUtc,
    pub revision: i32,
    /// Number and symbol of the decision or notice (e.g. `4006/TB-HĐTĐ`).
    pub decision_number: Option<String>,
    pub decided_on: Option<Date>,
    /// The scope unit as it was at publication.
    pub scope_code: Option<String>,
    pub scope_name: Option<String>,
    pub scope_kind: Option<String>,
    pub scope_path: Option<String>,
    /// Why this revision replaced the previous one.
    pub reason: Option<String>,
    /// Set when an appraisal this revision covers is reopened.
    pub reopened_at: Option<DateTimeUtc>,
    pub reopen_reason: Option<String>,
    pub superseded_by: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
