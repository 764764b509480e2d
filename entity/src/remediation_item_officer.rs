use sea_orm::entity::prelude::*;

/// An officer of an item: its lead (one) or a supporting officer (any number).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remediation_item_officers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    pub staff_id: i64,
    /// `lead` or `support`.
    pub role: String,
    pub position: i32,
}

impl ActiveModelBehavior for ActiveModel {}
