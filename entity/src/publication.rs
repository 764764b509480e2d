use sea_orm::entity::prelude::*;

/// A year's results of the units under a parent, made visible to those units.
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
}

impl ActiveModelBehavior for ActiveModel {}
