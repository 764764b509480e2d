use sea_orm::entity::prelude::*;

/// An event in the outbox, written in the transaction of the change that caused it.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `webhook-id` of every delivery attempt (`msg_…`).
    #[sea_orm(unique)]
    pub webhook_id: String,
    pub event_type: String,
    pub unit_id: Option<i64>,
    pub unit_path: Option<String>,
    /// The `data` of the body, as JSON.
    pub payload: String,
    pub occurred_at: DateTimeUtc,
    /// Makes a time-based event happen once (e.g. `due_soon:milestone:12`).
    #[sea_orm(unique)]
    pub dedup_key: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
