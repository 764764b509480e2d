use sea_orm::entity::prelude::*;

/// A key a system sends as `Authorization: Bearer <key>`: it acts as the account that made
/// it, with its scopes, until it expires or is revoked. Only the key's SHA-256 is kept.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The key's first characters (`pik_1a2b3c4d`), to recognise it in lists and the trail.
    pub prefix: String,
    #[sea_orm(unique)]
    pub key_hash: String,
    /// `read` or `read,write`.
    pub scopes: String,
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
