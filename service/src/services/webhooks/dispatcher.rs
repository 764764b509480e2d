//! Delivers the outbox after commit, in every replica, without ever slowing a request.
//!
//! A loop per process wakes on a write request of its own replica, or every
//! `PARINDEX_WEBHOOK_POLL_MS` for the others' and for retries. It claims due deliveries
//! with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two replicas never claim the
//! same row; SQLite has one writer) and sends each on its own task, at most `PARALLEL` at
//! once, so a slow receiver holds only its own deliveries. A crash mid-send leaves the
//! lease to expire and the delivery is sent again: at least once, with the same
//! `webhook-id`. Every attempt is recorded; failures are retried with exponential backoff
//! and jitter, then marked failed.
//!
//! The same loop notices remediation milestones coming due and overdue, and records each
//! once (a unique `dedup_key` per milestone and date, however many replicas notice it).

use super::outbox::{self, Event, EventType};
use super::signing::signature_header;
use super::ssrf::GuardedResolver;
use crate::config::WebhookSettings;
use crate::services::{now, sql};
use crate::workflow::DeliveryEvent;
use chrono::{DateTime, NaiveDate, Utc};
use entity::status::{DeliveryStatus, MilestoneStatus, RemediationItemStatus};
use entity::{webhook_attempt, webhook_delivery, webhook_event, webhook_subscription};
use parindex_domain::schedule::{self, Deadline};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, Set, TransactionTrait,
};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};

/// Deliveries in flight per process.
const PARALLEL: usize = 32;
/// Deliveries in flight per subscription and process: a slow or dead receiver holds at
/// most these slots, and the others' deliveries keep going.
const PER_SUBSCRIPTION: usize = 4;
/// Deadlines are looked for at most this often after a change (a write may have added or
/// moved a milestone)...
const DEADLINE_SCAN: Duration = Duration::from_secs(1);
/// ...and this often when nothing changes (a date passing makes a milestone due).
const IDLE_DEADLINE_SCAN: Duration = Duration::from_secs(60);
/// The poll when this replica hears the other replicas' commits (`changes::listening`, or
/// SQLite's one process): only a safety net, so an idle replica stays idle. Otherwise
/// `PARINDEX_WEBHOOK_POLL_MS`.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Wakes the dispatcher of this process (after each write request).
#[derive(Clone, Default)]
pub struct Wake(pub Arc<Notify>);

impl Wake {
    pub fn now(&self) {
        self.0.notify_one();
    }
}

pub use crate::services::retry::backoff;

pub struct Dispatcher {
    db: DatabaseConnection,
    settings: WebhookSettings,
    client: reqwest::Client,
    slots: Arc<Semaphore>,
    /// In-flight deliveries per subscription, in this process.
    busy: std::sync::Mutex<std::collections::HashMap<i64, usize>>,
}

impl Dispatcher {
    pub fn new(db: DatabaseConnection, settings: WebhookSettings) -> Result<Self, anyhow::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private,
            }))
            .redirect(reqwest::redirect::Policy::none())
            // HTTP(S)_PROXY would make the proxy resolve and connect: no SSRF check there.
            .no_proxy()
            .timeout(settings.timeout)
            .user_agent("parindex-webhooks/1")
            .build()?;
        Ok(Dispatcher {
            db,
            settings,
            client,
            slots: Arc::new(Semaphore::new(PARALLEL)),
            busy: Default::default(),
        })
    }

    /// Runs until the process ends. It works when woken (a commit of this replica or, through
    /// `changes`, of another; a delivery done) and when the next retry or lease falls due;
    /// otherwise it polls slowly, so an idle replica stays idle.
    pub async fn run(self: Arc<Self>, wake: Wake) {
        let mut last_scan: Option<Instant> = None;
        let mut woken = true;
        loop {
            let scan = match last_scan {
                None => true,
                Some(t) => {
                    t.elapsed() >= IDLE_DEADLINE_SCAN || (woken && t.elapsed() >= DEADLINE_SCAN)
                }
            };
            if scan {
                if let Err(e) = scan_deadlines(&self.db, self.settings.due_soon_days).await {
                    tracing::warn!(error = %e, "webhook deadline scan failed");
                }
                last_scan = Some(Instant::now());
            }
            let mut sleep = if self.hears_others() {
                IDLE_POLL
            } else {
                self.settings.poll
            };
            match self.claim().await {
                // Every slot busy: a finished delivery wakes it, no lookup needed.
                Ok(ids) if ids.is_empty() && self.slots.available_permits() == 0 => {}
                Ok(ids) if ids.is_empty() => match self.next_due().await {
                    // Sleep until the next retry (or lease) falls due, if before the poll.
                    Ok(Some(due)) => {
                        let wait = (due - now()).to_std().unwrap_or_default();
                        if !wait.is_zero() {
                            sleep = sleep.min(wait + Duration::from_millis(5));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "webhook retry lookup failed"),
                },
                Ok(ids) => {
                    for (id, subscription, permit) in ids {
                        let me = self.clone();
                        let wake = wake.clone();
                        tokio::spawn(async move {
                            if let Err(e) = me.deliver(id).await {
                                tracing::warn!(delivery = id, error = %e, "webhook delivery failed to record");
                            }
                            me.done(subscription);
                            drop(permit);
                            // A slot is free: look for more at once.
                            wake.now();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook claim failed"),
            }
            woken = tokio::select! {
                _ = wake.0.notified() => true,
                _ = tokio::time::sleep(sleep) => false,
            };
        }
    }

    /// Whether every commit that may add deliveries wakes this dispatcher: SQLite is one
    /// process; PostgreSQL replicas hear each other while `changes` listens.
    fn hears_others(&self) -> bool {
        self.db.get_database_backend() == sea_orm::DbBackend::Sqlite || crate::changes::listening()
    }

    /// When the next pending delivery falls due: its next attempt, or the end of the lease
    /// it is held under (a dispatcher that died mid-send).
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, anyhow::Error> {
        #[derive(FromQueryResult)]
        struct Due {
            due: Option<DateTime<Utc>>,
        }
        let row = Due::find_by_statement(sql(
            &self.db,
            "SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > next_attempt_at \
                        THEN claimed_until ELSE next_attempt_at END) AS due \
             FROM webhook_deliveries WHERE status = $1",
            vec![DeliveryStatus::Pending.into()],
        ))
        .one(&self.db)
        .await?;
        Ok(row.and_then(|r| r.due))
    }

    /// Claims as many due deliveries as there are free slots, each with a lease, at most
    /// `PER_SUBSCRIPTION` in flight per subscription (the rest are released at once).
    async fn claim(
        &self,
    ) -> Result<Vec<(i64, i64, tokio::sync::OwnedSemaphorePermit)>, anyhow::Error> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(Vec::new());
        }
        let at = now();
        // Longer than a send may take (the timeout) plus recording it.
        let lease =
            at + chrono::Duration::from_std(self.settings.timeout + Duration::from_secs(5))?;
        let lock = if self.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // Integers only: listed inline.
        let full: Vec<String> = self
            .busy
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .iter()
            .filter(|(_, n)| **n >= PER_SUBSCRIPTION)
            .map(|(id, _)| id.to_string())
            .collect();
        let skip = if full.is_empty() {
            String::new()
        } else {
            format!(" AND subscription_id NOT IN ({})", full.join(", "))
        };
        #[derive(FromQueryResult)]
        struct Claimed {
            id: i64,
            subscription_id: i64,
        }
        let text = format!(
            "UPDATE webhook_deliveries SET claimed_until = $1 WHERE id IN (\
               SELECT id FROM webhook_deliveries WHERE status = $4 \
               AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2){skip} \
               ORDER BY next_attempt_at, id LIMIT $3{lock}) RETURNING id, subscription_id"
        );
        let mut claimed = Claimed::find_by_statement(sql(
            &self.db,
            &text,
            vec![
                lease.into(),
                at.into(),
                (free as i64).into(),
                DeliveryStatus::Pending.into(),
            ],
        ))
        .all(&self.db)
        .await?;
        claimed.sort_by_key(|c| c.id);
        let mut out = Vec::new();
        let mut release = Vec::new();
        for c in claimed {
            let taken = {
                let mut busy = self.busy.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                let n = busy.entry(c.subscription_id).or_default();
                (*n < PER_SUBSCRIPTION).then(|| *n += 1).is_some()
            };
            if taken {
                let permit = self.slots.clone().acquire_owned().await?;
                out.push((c.id, c.subscription_id, permit));
            } else {
                release.push(c.id.to_string());
            }
        }
        if !release.is_empty() {
            self.db
                .execute_unprepared(&format!(
                    "UPDATE webhook_deliveries SET claimed_until = NULL WHERE id IN ({})",
                    release.join(", ")
                ))
                .await?;
        }
        Ok(out)
    }

    /// A delivery of `subscription` is no longer in flight.
    fn done(&self, subscription: i64) {
        if let Ok(mut busy) = self.busy.lock()
            && let Some(n) = busy.get_mut(&subscription)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&subscription);
            }
        }
    }

    /// One attempt of one claimed delivery, recorded. Its span (traces) is a client span
    /// with the receiver's status: never the URL (its query may hold a receiver's secret).
    #[tracing::instrument(
        name = "webhook.delivery",
        skip(self),
        fields(
            otel.kind = "client",
            otel.status_code,
            parindex.delivery_id = id,
            http.response.status_code
        )
    )]
    async fn deliver(&self, id: i64) -> Result<(), anyhow::Error> {
        let Some(delivery) = webhook_delivery::Entity::find_by_id(id)
            .one(&self.db)
            .await?
        else {
            return Ok(());
        };
        let event = webhook_event::Entity::find_by_id(delivery.event_id)
            .one(&self.db)
            .await?;
        let subscription = webhook_subscription::Entity::find_by_id(delivery.subscription_id)
            .one(&self.db)
            .await?;
        let (Some(event), Some(subscription)) = (event, subscription) else {
            return Ok(());
        };
        let started = Instant::now();
        let attempted_at = now();
        let outcome = if subscription.active {
            self.send(&event, &subscription).await
        } else {
            Err("the subscription is paused".to_string())
        };
        let duration_ms = started.elapsed().as_millis() as i64;
        match &outcome {
            Ok(code) => tracing::Span::current().record("http.response.status_code", code),
            Err(_) => tracing::Span::current().record("otel.status_code", "ERROR"),
        };
        let (status_code, error) = match &outcome {
            Ok(code) => (Some(*code as i32), None),
            Err(e) => (None, Some(e.chars().take(500).collect::<String>())),
        };
        let success = outcome.as_ref().is_ok_and(|c| (200..300).contains(c));
        crate::metrics::webhook_attempt(success);
        let attempts = delivery.attempts + 1;
        let txn = self.db.begin().await?;
        webhook_attempt::ActiveModel {
            delivery_id: Set(id),
            attempted_at: Set(attempted_at),
            status_code: Set(status_code),
            error: Set(error.clone()),
            duration_ms: Set(duration_ms),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let event = if success {
            DeliveryEvent::Succeed
        } else {
            DeliveryEvent::Fail {
                last: attempts as u32 >= self.settings.max_attempts,
            }
        };
        let to = crate::workflow::delivery(delivery.status, event)
            .map_err(|e| anyhow::anyhow!("delivery {id}: {}", e.message.en))?;
        let mut am = webhook_delivery::ActiveModel {
            status: Set(to),
            attempts: Set(attempts),
            claimed_until: Set(None),
            last_status_code: Set(status_code),
            last_error: Set(error.or_else(|| {
                (!success).then(|| format!("the receiver answered {}", status_code.unwrap_or(0)))
            })),
            ..Default::default()
        };
        match event {
            DeliveryEvent::Succeed => {
                am.delivered_at = Set(Some(now()));
                am.next_attempt_at = Set(None);
            }
            DeliveryEvent::Fail { last: true } | DeliveryEvent::Redeliver => {
                am.next_attempt_at = Set(None);
            }
            DeliveryEvent::Fail { last: false } => {
                let jitter = rand::rng().random_range(-0.2..=0.2);
                let delay = backoff(self.settings.retry_base, attempts as u32, jitter);
                am.next_attempt_at = Set(Some(now() + chrono::Duration::from_std(delay)?));
            }
        }
        // Guarded: only while the delivery is still ours (its status and lease as claimed).
        // A lease that ran out and was taken by another dispatcher, or a redelivery asked
        // meanwhile, keeps its own state; this attempt stays recorded above.
        let mut update = webhook_delivery::Entity::update_many()
            .set(am)
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(webhook_delivery::Column::Status.eq(delivery.status));
        update = match delivery.claimed_until {
            Some(lease) => update.filter(webhook_delivery::Column::ClaimedUntil.eq(lease)),
            None => update.filter(webhook_delivery::Column::ClaimedUntil.is_null()),
        };
        update.exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Signs and posts; the receiver's status code, or why there was none.
    async fn send(
        &self,
        event: &webhook_event::Model,
        subscription: &webhook_subscription::Model,
    ) -> Result<u16, String> {
        super::ssrf::check_at_delivery(&subscription.url, self.settings.allow_private)?;
        let data: serde_json::Value =
            serde_json::from_str(&event.payload).map_err(|e| e.to_string())?;
        let body = json!({
            "type": event.event_type,
            "timestamp": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": data,
        })
        .to_string();
        let timestamp = Utc::now().timestamp();
        let mut secrets = vec![subscription.secret.as_str()];
        if let (Some(previous), Some(until)) = (
            &subscription.previous_secret,
            subscription.previous_secret_until,
        ) && until > Utc::now()
        {
            secrets.push(previous.as_str());
        }
        let signature = signature_header(&secrets, &event.webhook_id, timestamp, body.as_bytes());
        let response = self
            .client
            .post(&subscription.url)
            .header("content-type", "application/json")
            .header("webhook-id", &event.webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| crate::services::retry::error_chain(&e))?;
        Ok(response.status().as_u16())
    }
}

/// Records `remediation.milestone_due_soon` and `remediation.milestone_overdue` for the
/// open items' milestones not met, once per milestone and date.
pub async fn scan_deadlines(
    db: &DatabaseConnection,
    due_soon_days: u32,
) -> Result<usize, anyhow::Error> {
    let today = parindex_domain::vietnam::today();
    let horizon = today + chrono::Duration::days(due_soon_days.into());
    #[derive(FromQueryResult)]
    struct Row {
        milestone_id: i64,
        label: String,
        due_on: NaiveDate,
        item_id: i64,
        criterion_code: Option<String>,
        plan_id: i64,
        unit_id: i64,
        unit_path: String,
    }
    let rows = Row::find_by_statement(sql(
        db,
        "SELECT m.id AS milestone_id, m.label, m.due_on, i.id AS item_id, i.criterion_code, i.plan_id, \
                p.unit_id, u.path AS unit_path \
         FROM remediation_milestones m \
         JOIN remediation_items i ON i.id = m.item_id \
         JOIN remediation_plans p ON p.id = i.plan_id \
         JOIN units u ON u.id = p.unit_id \
         WHERE m.status <> $2 AND i.status NOT IN ($3, $4) AND m.due_on <= $1",
        vec![
            horizon.into(),
            MilestoneStatus::Met.into(),
            RemediationItemStatus::Done.into(),
            RemediationItemStatus::Cancelled.into(),
        ],
    ))
    .all(db)
    .await?;
    let mut recorded = 0;
    for r in rows {
        let deadline = [Deadline {
            due_on: r.due_on,
            met: false,
        }];
        let kind = if schedule::is_overdue(&deadline, today) {
            EventType::MilestoneOverdue
        } else if schedule::is_due_within(&deadline, today, due_soon_days) {
            EventType::MilestoneDueSoon
        } else {
            continue;
        };
        let txn = db.begin().await?;
        let emitted = outbox::emit(
            &txn,
            Event {
                kind,
                unit_id: r.unit_id,
                unit_path: r.unit_path.clone(),
                data: super::payloads::to_value(&super::payloads::MilestoneEventData {
                    milestone_id: r.milestone_id,
                    label: r.label.clone(),
                    due_on: r.due_on,
                    item_id: r.item_id,
                    criterion_code: r.criterion_code.clone(),
                    plan_id: r.plan_id,
                    unit_id: r.unit_id,
                }),
                dedup_key: Some(format!("{}:{}:{}", kind.as_str(), r.milestone_id, r.due_on)),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        txn.commit().await?;
        if emitted.is_some() {
            recorded += 1;
        }
    }
    Ok(recorded)
}

/// When a delivery's next attempt is due, for the API.
pub fn next_attempt(d: &webhook_delivery::Model) -> Option<DateTime<Utc>> {
    (d.status == DeliveryStatus::Pending)
        .then_some(d.next_attempt_at)
        .flatten()
}
