use sea_orm::entity::prelude::*;

/// One failed login, counted for throttling (kept in the database so that every
/// replica sees the same counts).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub ip: String,
    pub at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
