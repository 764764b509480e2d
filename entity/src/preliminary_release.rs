use sea_orm::entity::prelude::*;

/// The council's preliminary results of the units under a parent, released to those units
/// (each sees its own appraisal) to open the appeal window.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "preliminary_releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub parent_unit_id: i64,
    pub year: i32,
    pub released_by: Option<i64>,
    pub released_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
