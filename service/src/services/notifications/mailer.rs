//! Sends the mail outbox over SMTP after commit, in every replica (when `PARINDEX_SMTP_URL`
//! is set), and makes the daily digests.
//!
//! Like webhook deliveries: a message is claimed with a lease (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so two replicas never send the same one at once), sent, and recorded under
//! the lease it was claimed with. A crash mid-send leaves the lease to expire and the
//! message is sent again, with the same `Message-ID` (at least once); an SMTP server that
//! is down or refuses is retried with backoff, then the message is marked failed. The text
//! is written at sending, from the stored notifications and the public URL.

use super::compose::{self, Listed, Notice};
use crate::config::MailSettings;
use crate::services::retry::backoff;
use crate::services::{now, sql};
use crate::workflow::DeliveryEvent;
use chrono::{DateTime, Timelike, Utc};
use entity::status::DeliveryStatus;
use entity::{mail_message, notification, user};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages claimed at once.
const BATCH: i64 = 20;
/// Digests are looked for at most this often.
const DIGEST_SCAN: Duration = Duration::from_secs(60);

pub struct Mailer {
    db: DatabaseConnection,
    settings: MailSettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// `List-Unsubscribe` (RFC 2369): the link mail programs offer as "unsubscribe".
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post` (RFC 8058): the link works with one POST, no page to confirm.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

impl Mailer {
    pub fn new(db: DatabaseConnection, settings: MailSettings) -> Result<Self, anyhow::Error> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url.expose())
            .map_err(|e| anyhow::anyhow!("PARINDEX_SMTP_URL: {e}"))?
            .timeout(Some(settings.timeout))
            .build();
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| anyhow::anyhow!("PARINDEX_SMTP_FROM: {e}"))?;
        Ok(Mailer {
            db,
            settings,
            transport,
            from,
        })
    }

    /// Runs until the process ends: digests when due, then what is due to send, then a
    /// poll's sleep.
    pub async fn run(self: Arc<Self>) {
        let mut last_digest: Option<Instant> = None;
        loop {
            if last_digest.is_none_or(|t| t.elapsed() >= DIGEST_SCAN) {
                if let Err(e) = make_digests(&self.db, self.settings.digest_hour).await {
                    tracing::warn!(error = %e, "digest scan failed");
                }
                last_digest = Some(Instant::now());
            }
            loop {
                match self.claim().await {
                    Ok(ids) if ids.is_empty() => break,
                    Ok(ids) => {
                        for (id, lease) in ids {
                            if let Err(e) = self.deliver(id, lease).await {
                                tracing::warn!(message = id, error = %e, "e-mail failed to record");
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "mail claim failed");
                        break;
                    }
                }
            }
            tokio::time::sleep(self.settings.poll).await;
        }
    }

    /// Claims due messages with a lease (longer than one SMTP conversation each).
    async fn claim(&self) -> Result<Vec<(i64, DateTime<Utc>)>, anyhow::Error> {
        let at = now();
        let lease = at
            + chrono::Duration::from_std(
                (self.settings.timeout + Duration::from_secs(5)) * BATCH as u32,
            )?;
        let lock = if self.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        #[derive(FromQueryResult)]
        struct Claimed {
            id: i64,
        }
        let mut claimed = Claimed::find_by_statement(sql(
            &self.db,
            &format!(
                "UPDATE mail_messages SET claimed_until = $1 WHERE id IN (\
                   SELECT id FROM mail_messages WHERE status = $4 AND next_attempt_at <= $2 \
                   AND (claimed_until IS NULL OR claimed_until < $2) \
                   ORDER BY next_attempt_at, id LIMIT $3{lock}) RETURNING id"
            ),
            vec![
                lease.into(),
                at.into(),
                BATCH.into(),
                DeliveryStatus::Pending.into(),
            ],
        ))
        .all(&self.db)
        .await?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed.into_iter().map(|c| (c.id, lease)).collect())
    }

    /// One attempt of one claimed message, recorded under its lease. Its span (traces) says
    /// which message and whether it went, never to whom.
    #[tracing::instrument(
        name = "mail.send",
        skip(self, lease),
        fields(otel.kind = "client", parindex.mail_id = id, otel.status_code)
    )]
    async fn deliver(&self, id: i64, lease: DateTime<Utc>) -> Result<(), anyhow::Error> {
        let Some(message) = mail_message::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(());
        };
        let outcome = match self.compose(&message).await {
            Ok(email) => self
                .transport
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| crate::services::retry::error_chain(&e)),
            Err(e) => Err(e.to_string()),
        };
        crate::metrics::mail_attempt(outcome.is_ok());
        if outcome.is_err() {
            tracing::Span::current().record("otel.status_code", "ERROR");
        }
        let attempts = message.attempts + 1;
        let event = match &outcome {
            Ok(()) => DeliveryEvent::Succeed,
            Err(_) => DeliveryEvent::Fail {
                last: attempts as u32 >= self.settings.max_attempts,
            },
        };
        let to = crate::workflow::delivery(message.status, event)
            .map_err(|e| anyhow::anyhow!("mail {id}: {}", e.message.en))?;
        let mut am = mail_message::ActiveModel {
            status: Set(to),
            attempts: Set(attempts),
            claimed_until: Set(None),
            last_error: Set(outcome
                .as_ref()
                .err()
                .map(|e| e.chars().take(500).collect())),
            ..Default::default()
        };
        match event {
            DeliveryEvent::Succeed => {
                am.sent_at = Set(Some(now()));
                am.next_attempt_at = Set(None);
            }
            DeliveryEvent::Fail { last: false } => {
                let jitter = rand::rng().random_range(-0.2..=0.2);
                let delay = backoff(self.settings.retry_base, attempts as u32, jitter);
                am.next_attempt_at = Set(Some(now() + chrono::Duration::from_std(delay)?));
            }
            _ => am.next_attempt_at = Set(None),
        }
        if let Err(e) = &outcome {
            tracing::warn!(message = id, attempts, error = %e, "e-mail not sent");
        }
        // Only while the message is still ours: a lease that ran out and was taken by
        // another replica keeps that replica's record.
        mail_message::Entity::update_many()
            .set(am)
            .filter(mail_message::Column::Id.eq(id))
            .filter(mail_message::Column::Status.eq(message.status))
            .filter(mail_message::Column::ClaimedUntil.eq(lease))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The e-mail of a stored message, written now.
    async fn compose(&self, message: &mail_message::Model) -> Result<Message, anyhow::Error> {
        let account = user::Entity::find_by_id(message.user_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the account no longer exists"))?;
        if !account.active {
            anyhow::bail!("the account is inactive");
        }
        let token = unsubscribe_token(&self.db, &account).await?;
        let ids: Vec<i64> = serde_json::from_str(&message.notification_ids)?;
        let rows = notification::Entity::find()
            .filter(notification::Column::Id.is_in(ids))
            .order_by_asc(notification::Column::CreatedAt)
            .order_by_asc(notification::Column::Id)
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            anyhow::bail!("its notifications no longer exist");
        }
        let notices: Vec<(Notice, String)> = rows
            .iter()
            .map(|n| {
                let at = parindex_domain::vietnam::local(n.created_at)
                    .format("%d/%m/%Y %H:%M")
                    .to_string();
                (
                    Notice {
                        title: n.title.clone(),
                        body: n.body.clone(),
                        link: n.link.clone(),
                    },
                    at,
                )
            })
            .collect();
        let listed: Vec<Listed<'_>> = notices
            .iter()
            .map(|(notice, at)| Listed {
                notice,
                at: at.clone(),
            })
            .collect();
        let digest_of = message
            .dedup_key
            .starts_with("digest:")
            .then(|| message.dedup_key.rsplit(':').next())
            .flatten()
            .and_then(|d| d.parse().ok());
        let public = &self.settings.public_url;
        let unsubscribe = format!("{public}/api/v1/unsubscribe/{token}");
        let mail = compose::mail(&account.full_name, &listed, digest_of, public, &unsubscribe);
        let to: Mailbox = message.to_address.parse()?;
        let domain = self.from.email.domain().to_string();
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(format!("<parindex.mail.{}@{domain}>", message.id)))
            .header(ListUnsubscribe(unsubscribe))
            .header(ListUnsubscribePost)
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))?)
    }
}

/// The account's unsubscribe token, made on its first e-mail (32 random bytes, hex; a
/// conditional update, so two replicas agree on one).
async fn unsubscribe_token(
    db: &DatabaseConnection,
    account: &user::Model,
) -> Result<String, anyhow::Error> {
    if let Some(t) = &account.unsubscribe_token {
        return Ok(t.clone());
    }
    let token = crate::auth::random_token(32);
    user::Entity::update_many()
        .col_expr(
            user::Column::UnsubscribeToken,
            sea_orm::sea_query::Expr::value(token),
        )
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::UnsubscribeToken.is_null())
        .exec(db)
        .await?;
    user::Entity::find_by_id(account.id)
        .one(db)
        .await?
        .and_then(|u| u.unsubscribe_token)
        .ok_or_else(|| anyhow::anyhow!("no unsubscribe token"))
}

/// From `digest_hour` (Vietnam time) each day: one digest per account of the notifications
/// waiting for it, once a day (`digest:{user}:{date}`, however many replicas look), the
/// notifications taken out of the wait in the same transaction.
pub async fn make_digests(
    db: &DatabaseConnection,
    digest_hour: u32,
) -> Result<usize, anyhow::Error> {
    let local = parindex_domain::vietnam::local(Utc::now());
    if local.hour() < digest_hour {
        return Ok(0);
    }
    let today = local.date();
    let waiting: Vec<i64> = notification::Entity::find()
        .select_only()
        .column(notification::Column::UserId)
        .distinct()
        .filter(notification::Column::DigestPending.eq(true))
        .order_by_asc(notification::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    let mut made = 0;
    for user_id in waiting {
        let key = format!("digest:{}:{today}", user_id);
        let txn = db.begin().await?;
        let done = mail_message::Entity::find()
            .filter(mail_message::Column::DedupKey.eq(&key))
            .one(&txn)
            .await?;
        if done.is_some() {
            continue;
        }
        let pending = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::DigestPending.eq(true))
            .order_by_asc(notification::Column::Id)
            .all(&txn)
            .await?;
        let ids: Vec<i64> = pending.iter().map(|n| n.id).collect();
        let account = user::Entity::find_by_id(user_id).one(&txn).await?;
        let queued = match account.and_then(|a| a.email.filter(|_| a.active)) {
            Some(to) if !ids.is_empty() => super::queue_mail(&txn, user_id, &key, &ids, &to)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
            // No address any more: the wait ends without an e-mail.
            _ => true,
        };
        if !queued {
            // Another replica made it meanwhile.
            continue;
        }
        notification::Entity::update_many()
            .col_expr(
                notification::Column::DigestPending,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(notification::Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        made += 1;
    }
    Ok(made)
}
