use sea_orm::entity::prelude::*;

/// A webhook subscription: which events of which unit's subtree go where, signed with
/// `secret` (`whsec_…`, Standard Webhooks).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    /// A JSON array of event types.
    pub events: String,
    /// The subtree whose events it receives; `None` (admins only): everything.
    pub unit_id: Option<i64>,
    pub created_by: Option<i64>,
    pub description: Option<String>,
    pub secret: String,
    /// Still signed with until `previous_secret_until`, after a rotation.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
