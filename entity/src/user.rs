use sea_orm::entity::prelude::*;

/// An account. `password_hash` is an Argon2id PHC string and never leaves the server.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    pub password_hash: String,
    pub full_name: String,
    pub role: String,
    pub unit_id: Option<i64>,
    pub active: bool,
    pub token_version: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Where notifications are e-mailed (none: in-app only).
    pub email: Option<String>,
    /// The token of the account's unsubscribe links: it grants only turning its e-mail
    /// off (made with its first e-mail).
    pub unsubscribe_token: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
