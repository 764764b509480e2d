use sea_orm::entity::prelude::*;

/// Something that concerns one account (a file returned, a deadline coming, results
/// published...), made from an outbox event in the same transaction: one per account and
/// event.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub event_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub unit_id: Option<i64>,
    /// Shown in `GET /notifications` (the account's in-app preference for its kind).
    pub listed: bool,
    /// Waiting for the account's next daily digest e-mail.
    pub digest_pending: bool,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
