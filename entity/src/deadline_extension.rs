use sea_orm::entity::prelude::*;

/// A later submission deadline granted to one unit for one framework.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deadline_extensions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub framework_id: i64,
    pub unit_id: i64,
    pub until: Date,
    pub reason: Option<String>,
    pub granted_by: Option<i64>,
    pub granted_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
