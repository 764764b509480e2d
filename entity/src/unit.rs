use sea_orm::entity::prelude::*;

/// An administrative unit: province, district, commune, town or ward.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// `name` in lower case without diacritics, for search.
    pub name_search: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    /// Ids from the root down to this unit, e.g. `/1/5/23/`.
    pub path: String,
    pub depth: i32,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
