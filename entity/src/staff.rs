use sea_orm::entity::prelude::*;

/// An officer (cán bộ, công chức) of a unit; remediation items are assigned to officers.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub full_name: String,
    pub title: String,
    pub user_id: Option<i64>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
