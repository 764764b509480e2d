//! Webhooks: signed deliveries of what happened, from a transactional outbox.
//!
//! - `outbox`: events written in the transaction of the change that causes them;
//! - `dispatcher`: delivery after commit, retries, deadlines noticed once;
//! - `signing`: Standard Webhooks signatures;
//! - `ssrf`: where deliveries may go.
//!
//! Subscriptions follow the policy (`Action::ManageWebhooks`): an admin subscribes to
//! anything (no `unit_id`: everything), an appraiser to its subtree, a unit officer to its
//! own unit; each receives only the events of units under the subscription's unit.

pub mod dispatcher;
pub mod outbox;
pub mod payloads;
pub mod signing;
pub mod ssrf;

pub use dispatcher::{Dispatcher, Wake};
pub use outbox::{Event, EventType, emit};

use super::now;
use super::scope::{self, Found, Page, PageRequest, Reach};
use super::units::{find_unit, unit_ref};
use super::versioned::{Precondition, Write, record_created};
use crate::auth::Principal;
use crate::auth::policy::{Action, allows};
use crate::error::{ApiError, ApiResult, Violations, text};
use crate::state::AppState;
use entity::{webhook_attempt, webhook_delivery, webhook_subscription};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

crate::versioned!(
    webhook_subscription,
    kind = "webhook",
    audit = "webhook",
    unit_id = |m| m.unit_id,
    describe = |_conn, m| Ok(json!({
        "url": m.url,
        "events": events_of(m),
        "unit_id": m.unit_id,
        "description": m.description,
        "active": m.active,
    })),
);

/// A subscription's event types.
pub fn events_of(m: &webhook_subscription::Model) -> Vec<String> {
    serde_json::from_str(&m.events).unwrap_or_default()
}

/// How long the previous secret is still signed with after a rotation.
const PREVIOUS_SECRET_GRACE: chrono::Duration = chrono::Duration::hours(24);

pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub unit_id: Option<i64>,
    pub description: Option<String>,
}

#[derive(Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// Checks the URL (scheme and addresses), the event types and the description.
async fn check_fields(
    state: &AppState,
    v: &mut Violations,
    url: Option<&str>,
    events: Option<&[String]>,
    description: Option<&str>,
) -> (Option<String>, Option<String>, Option<String>) {
    let url = match url {
        None => None,
        Some(u) if u.len() > 2000 => {
            v.add(
                "url",
                "too_long",
                text!("at most 2,000 characters", "tối đa 2.000 ký tự"),
            );
            None
        }
        Some(u) => match ssrf::check_url(u.trim(), state.config.webhooks.allow_private).await {
            Ok(parsed) => Some(parsed.to_string()),
            Err(why) => {
                v.add(
                    "url",
                    "url_not_allowed",
                    text!(
                        "{why} (PARINDEX_WEBHOOK_ALLOW_PRIVATE lifts this on closed networks)",
                        "{why} (PARINDEX_WEBHOOK_ALLOW_PRIVATE bỏ giới hạn này trên mạng nội bộ)"
                    ),
                );
                None
            }
        },
    };
    let events = events.and_then(|list| {
        let mut known = Vec::new();
        if list.is_empty() || list.len() > 20 {
            v.add(
                "events",
                "invalid_length",
                text!(
                    "name 1 to 20 event types",
                    "cần nêu từ 1 đến 20 loại sự kiện"
                ),
            );
        }
        for e in list {
            match EventType::parse(e) {
                Some(kind) if !known.contains(&kind.as_str()) => known.push(kind.as_str()),
                Some(_) => {}
                None => {
                    let all: Vec<&str> =
                        EventType::SUBSCRIBABLE.iter().map(|k| k.as_str()).collect();
                    v.add(
                        "events",
                        "unknown_event",
                        text!(
                            "{e:?} is not one of: {}",
                            "{e:?} không thuộc: {}",
                            all.join(", ")
                        ),
                    );
                }
            }
        }
        serde_json::to_string(&known).ok()
    });
    let description =
        description.and_then(|d| crate::validation::text(v, "description", d, 500, false));
    (url, events, description)
}

/// May `actor` manage (and see) this subscription? Those who may not get a 404.
fn may_manage(actor: &Principal, unit: Option<&entity::unit::Model>) -> bool {
    match unit {
        None => actor.is_admin(),
        Some(u) => allows(actor, Action::ManageWebhooks, &unit_ref(u)),
    }
}

/// A subscription `actor` may manage, as the scope of its deliveries.
async fn found<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
) -> ApiResult<Found<webhook_subscription::Model>> {
    let m = webhook_subscription::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| not_found(id))?;
    let unit = unit_of(conn, &m).await?.map(|u| unit_ref(&u));
    scope::found(actor, Action::ManageWebhooks, unit.as_ref(), m).map_err(|_| not_found(id))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(text!(
        "webhook {id} does not exist",
        "không có webhook {id}"
    ))
}

async fn unit_of<C: ConnectionTrait>(
    conn: &C,
    m: &webhook_subscription::Model,
) -> ApiResult<Option<entity::unit::Model>> {
    match m.unit_id {
        None => Ok(None),
        Some(id) => Ok(Some(find_unit(conn, id).await?)),
    }
}

/// The subscription, if `actor` may manage it (404 otherwise).
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
) -> ApiResult<webhook_subscription::Model> {
    let m = webhook_subscription::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| not_found(id))?;
    if may_manage(actor, unit_of(conn, &m).await?.as_ref()) {
        Ok(m)
    } else {
        Err(not_found(id))
    }
}

/// Subscribes; the secret is in the returned model, shown once by the route.
pub async fn create(
    state: &AppState,
    actor: &Principal,
    input: NewWebhook,
) -> ApiResult<webhook_subscription::Model> {
    let mut v = Violations::new();
    let (url, events, description) = check_fields(
        state,
        &mut v,
        Some(&input.url),
        Some(&input.events),
        input.description.as_deref(),
    )
    .await;
    let db = &state.db;
    // Without a unit: everything for an admin, the caller's own unit for anyone else.
    let unit_id = match (input.unit_id, &actor.unit) {
        (Some(id), _) => Some(id),
        (None, _) if actor.is_admin() => None,
        (None, Some(own)) => Some(own.id),
        (None, None) => None,
    };
    let unit = match unit_id {
        Some(id) => Some(find_unit(db, id).await?),
        None => None,
    };
    if !may_manage(actor, unit.as_ref()) {
        return Err(crate::auth::policy::authorize(
            actor,
            Action::ManageWebhooks,
            &unit.as_ref().map(unit_ref).unwrap_or(crate::auth::UnitRef {
                id: 0,
                path: "/".to_string(),
            }),
        )
        .err()
        .unwrap_or_else(|| ApiError::forbidden(Action::ManageWebhooks.describe())));
    }
    v.into_result()?;
    let at = now();
    let txn = crate::db::begin_write(db).await?;
    let created = webhook_subscription::ActiveModel {
        url: Set(url.unwrap_or_default()),
        events: Set(events.unwrap_or_else(|| "[]".to_string())),
        unit_id: Set(unit_id),
        created_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        description: Set(description.filter(|d| !d.is_empty())),
        secret: Set(signing::new_secret()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        active: Set(true),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_created::<webhook_subscription::Entity, _>(&txn, actor, &created, "create").await?;
    txn.commit().await?;
    Ok(created)
}

/// The subscriptions `actor` may manage, oldest first, one page: those of the units in
/// its read scope, when its role manages webhooks there (appraisers their subtree,
/// officers their unit; viewers and leaders none).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    page: PageRequest,
) -> ApiResult<Page<webhook_subscription::Model>> {
    let manages = actor.is_admin()
        || actor
            .unit
            .as_ref()
            .is_some_and(|own| allows(actor, Action::ManageWebhooks, own));
    let mut query = scope::scoped(
        webhook_subscription::Entity::find(),
        actor,
        webhook_subscription::Column::UnitId,
        Reach::Records,
    )
    .order_by_asc(webhook_subscription::Column::Id);
    if !manages {
        query = query.filter(sea_orm::sea_query::Expr::cust("1 = 0"));
    }
    query.page(db, page).await
}

pub async fn update(
    state: &AppState,
    actor: &Principal,
    id: i64,
    patch: WebhookPatch,
    precondition: &Precondition,
) -> ApiResult<webhook_subscription::Model> {
    let mut v = Violations::new();
    let (url, events, description) = check_fields(
        state,
        &mut v,
        patch.url.as_deref(),
        patch.events.as_deref(),
        patch.description.as_deref(),
    )
    .await;
    v.into_result()?;
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find(&txn, actor, id).await?;
    let write =
        Write::<webhook_subscription::Entity>::begin(&txn, actor, &current, precondition).await?;
    let mut am = webhook_subscription::ActiveModel {
        ..Default::default()
    };
    if let Some(url) = url {
        am.url = Set(url);
    }
    if let Some(events) = events {
        am.events = Set(events);
    }
    if let Some(d) = description {
        am.description = Set((!d.is_empty()).then_some(d));
    }
    if let Some(active) = patch.active {
        am.active = Set(active);
    }
    let updated = write.finish(&txn, am, "update", None).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a subscription with its deliveries and their attempts.
pub async fn delete(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let current = find(&txn, actor, id).await?;
    webhook_subscription::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Change {
            entity: "webhook",
            entity_id: current.id,
            action: "delete",
            unit_id: current.unit_id,
            results_year: None,
            old: Some(json!({"url": current.url, "events": events_of(&current)})),
            new: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A new secret; the old one is still signed with for a day, so receivers can switch.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<webhook_subscription::Model> {
    let txn = crate::db::begin_write(db).await?;
    let current = find(&txn, actor, id).await?;
    let write =
        Write::<webhook_subscription::Entity>::begin(&txn, actor, &current, &Precondition::any())
            .await?;
    let am = webhook_subscription::ActiveModel {
        secret: Set(signing::new_secret()),
        previous_secret: Set(Some(current.secret.clone())),
        previous_secret_until: Set(Some(now() + PREVIOUS_SECRET_GRACE)),
        ..Default::default()
    };
    let updated = write.finish(&txn, am, "rotate_secret", None).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Sends a `webhook.test` event to this subscription only.
pub async fn send_test(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<String> {
    let txn = crate::db::begin_write(db).await?;
    let current = find(&txn, actor, id).await?;
    let event = outbox::emit_test(
        &txn,
        current.id,
        payloads::to_value(&payloads::TestEventData {
            subscription_id: current.id,
            sent_by: actor.username.clone(),
        }),
    )
    .await?;
    let webhook_id = entity::webhook_event::Entity::find_by_id(event)
        .one(&txn)
        .await?
        .map(|e| e.webhook_id)
        .unwrap_or_default();
    txn.commit().await?;
    Ok(webhook_id)
}

/// A delivery with its event and every attempt.
pub struct DeliveryView {
    pub delivery: webhook_delivery::Model,
    pub event: entity::webhook_event::Model,
    pub attempts: Vec<webhook_attempt::Model>,
}

async fn delivery_views<C: ConnectionTrait>(
    conn: &C,
    deliveries: Vec<webhook_delivery::Model>,
) -> ApiResult<Vec<DeliveryView>> {
    let ids: Vec<i64> = deliveries.iter().map(|d| d.id).collect();
    let event_ids: Vec<i64> = deliveries.iter().map(|d| d.event_id).collect();
    let mut attempts = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(conn)
        .await?;
    let events: std::collections::HashMap<i64, entity::webhook_event::Model> =
        entity::webhook_event::Entity::find()
            .filter(entity::webhook_event::Column::Id.is_in(event_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
    let mut out = Vec::new();
    for d in deliveries {
        let (mine, rest): (Vec<_>, Vec<_>) =
            attempts.into_iter().partition(|a| a.delivery_id == d.id);
        attempts = rest;
        if let Some(event) = events.get(&d.event_id) {
            out.push(DeliveryView {
                event: event.clone(),
                delivery: d,
                attempts: mine,
            });
        }
    }
    Ok(out)
}

/// A subscription's deliveries, newest first, a page at a time.
pub async fn deliveries(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    page: PageRequest,
) -> ApiResult<Page<DeliveryView>> {
    let sub = found(db, actor, id).await?;
    scope::rows_of(
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::SubscriptionId.eq(sub.get().id)),
        &sub,
    )
    .order_by_desc(webhook_delivery::Column::Id)
    .page(db, page)
    .await?
    .try_map_all(async |items| delivery_views(db, items).await)
    .await
}

/// Sends a delivery again, whatever its last status: a new round of attempts with the same
/// `webhook-id`; earlier attempts stay listed.
pub async fn redeliver(
    db: &DatabaseConnection,
    actor: &Principal,
    delivery_id: i64,
) -> ApiResult<DeliveryView> {
    let missing = || {
        ApiError::not_found(text!(
            "webhook delivery {delivery_id} does not exist",
            "không có lượt gửi webhook {delivery_id}"
        ))
    };
    let txn = crate::db::begin_write(db).await?;
    let d = webhook_delivery::Entity::find_by_id(delivery_id)
        .one(&txn)
        .await?
        .ok_or_else(missing)?;
    find(&txn, actor, d.subscription_id)
        .await
        .map_err(|_| missing())?;
    let to = crate::workflow::delivery(d.status, crate::workflow::DeliveryEvent::Redeliver)?;
    let mut am: webhook_delivery::ActiveModel = d.into();
    am.status = Set(to);
    am.attempts = Set(0);
    am.next_attempt_at = Set(Some(now()));
    am.claimed_until = Set(None);
    let updated = am.update(&txn).await?;
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Change {
            entity: "webhook_delivery",
            entity_id: updated.id,
            action: "redeliver",
            unit_id: None,
            results_year: None,
            old: None,
            new: Some(json!({"subscription_id": updated.subscription_id})),
        },
    )
    .await?;
    let view = delivery_views(&txn, vec![updated])
        .await?
        .pop()
        .ok_or_else(missing)?;
    txn.commit().await?;
    Ok(view)
}

/// The unit (with its path) an event about `unit_id` is scoped by.
pub async fn unit_event<C: ConnectionTrait>(
    conn: &C,
    kind: EventType,
    unit_id: i64,
    data: serde_json::Value,
) -> ApiResult<()> {
    let unit = find_unit(conn, unit_id).await?;
    emit(
        conn,
        Event {
            kind,
            unit_id,
            unit_path: unit.path,
            data,
            dedup_key: None,
        },
    )
    .await?;
    Ok(())
}
