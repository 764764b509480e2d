use sea_orm::entity::prelude::*;

/// Units merged into one (2025's reorganisation): the sources stay, inactive, under the
/// unit they merged into; `unit_merge_sources` lists them.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_merges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub into_unit_id: i64,
    pub effective_on: Date,
    pub decision: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
