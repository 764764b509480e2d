use crate::status::DeliveryStatus;
use sea_orm::entity::prelude::*;

/// An e-mail in the outbox: recorded in the transaction of the change that caused it, sent
/// after commit by the mailer, retried until the SMTP server takes it (at least once: a
/// crash mid-send sends it again, with the same `Message-ID`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `notification:{id}` or `digest:{user}:{date}`.
    #[sea_orm(unique)]
    pub dedup_key: String,
    /// One notification's id, or a digest's (a JSON array of ids): the text is written
    /// when sent, with the deployment's public URL.
    pub notification_ids: String,
    pub to_address: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub claimed_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
