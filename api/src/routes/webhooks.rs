//! Webhooks: subscriptions, their signing secrets, their deliveries.

use super::Page;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::etag::Precondition;
use crate::http::{Json, Query};
use crate::services::versioned::etag_of;
use crate::services::webhooks::{self, DeliveryView, NewWebhook, WebhookPatch};
use crate::state::AppState;
use crate::validation::PageParams;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::webhook_subscription;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_secret)
        .service(test_webhook)
        .service(list_deliveries)
        .service(redeliver);
}

/// An event type a subscription may list.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookEventType {
    #[serde(rename = "self_assessment.submitted")]
    SelfAssessmentSubmitted,
    #[serde(rename = "self_assessment.returned")]
    SelfAssessmentReturned,
    #[serde(rename = "self_assessment.deadline_soon")]
    DeadlineSoon,
    #[serde(rename = "appraisal.finalized")]
    AppraisalFinalized,
    #[serde(rename = "appraisal.agency_done")]
    AppraisalAgencyDone,
    #[serde(rename = "appraisal.agencies_done")]
    AppraisalAgenciesDone,
    #[serde(rename = "results.published")]
    ResultsPublished,
    #[serde(rename = "results.preliminary_released")]
    PreliminaryReleased,
    #[serde(rename = "appraisal.criteria_assigned")]
    CriteriaAssigned,
    #[serde(rename = "remediation.milestone_due_soon")]
    MilestoneDueSoon,
    #[serde(rename = "remediation.milestone_overdue")]
    MilestoneOverdue,
    #[serde(rename = "appeal.filed")]
    AppealFiled,
    #[serde(rename = "appeal.decided")]
    AppealDecided,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::webhook_request))]
pub struct WebhookRequest {
    /// Where deliveries are posted: `https`, not resolving to loopback, private,
    /// link-local or metadata addresses (unless `PARINDEX_WEBHOOK_ALLOW_PRIVATE=true`).
    #[schema(
        max_length = 2000,
        example = "https://hcc.quangtri.gov.vn/parindex-hook"
    )]
    pub url: String,
    /// The event types to receive (1 to 20). Read as strings so that an unknown one is
    /// a field error naming it, not a body that fails to parse.
    #[schema(value_type = Vec<WebhookEventType>, min_items = 1, max_items = 20)]
    pub events: Vec<String>,
    /// The subtree whose events are received: for an admin, none means everything; for
    /// anyone else it defaults to the caller's own unit.
    pub unit_id: Option<i64>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatchRequest {
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<WebhookEventType>>, min_items = 1, max_items = 20)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `false` pauses deliveries (pending ones fail with "paused"; redeliver later).
    pub active: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookResponse {
    pub id: i64,
    pub url: String,
    pub events: Vec<WebhookEventType>,
    pub unit_id: Option<i64>,
    pub description: Option<String>,
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signing secret (`whsec_…`): only in the answers that create or rotate it;
    /// null everywhere else.
    pub secret: Option<String>,
}

fn response(m: &webhook_subscription::Model, with_secret: bool) -> WebhookResponse {
    WebhookResponse {
        id: m.id,
        url: m.url.clone(),
        events: webhooks::events_of(m)
            .iter()
            .filter_map(|e| serde_json::from_value(serde_json::Value::String(e.clone())).ok())
            .collect(),
        unit_id: m.unit_id,
        description: m.description.clone(),
        active: m.active,
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
        secret: with_secret.then(|| m.secret.clone()),
    }
}

fn webhook_response(
    status: StatusCode,
    m: &webhook_subscription::Model,
    with_secret: bool,
) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header((header::ETAG, etag_of::<webhook_subscription::Entity>(m)));
    if status == StatusCode::CREATED {
        r.insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", m.id)));
    }
    // The secret is shown once; nothing keeps a copy on the way.
    if with_secret {
        r.insert_header((header::CACHE_CONTROL, "no-store"));
    }
    r.json(response(m, with_secret))
}

/// Subscribe to events.
///
/// Deliveries follow the Standard Webhooks specification: a JSON body `{type, timestamp,
/// data}` with headers `webhook-id` (the same on every retry of one event),
/// `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
/// `id.timestamp.body` keyed with the secret's decoded bytes). The `secret` is in this
/// answer only. Events carry ids, statuses, units and years, never scores: read those
/// with your own token. An admin may subscribe to anything, an appraiser to its subtree,
/// a unit officer to its own unit.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    request_body = WebhookRequest,
    responses(
        (status = 201, description = "Subscribed; the secret is shown once", body = WebhookResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<WebhookRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let created = webhooks::create(
        &state,
        &principal,
        NewWebhook {
            url: body.url,
            events: body.events,
            unit_id: body.unit_id,
            description: body.description,
        },
    )
    .await?;
    Ok(webhook_response(StatusCode::CREATED, &created, true))
}

/// List the webhook subscriptions the caller manages.
///
/// An admin sees every subscription; an appraiser those of its subtree; a unit officer
/// those of its unit. Secrets are never listed.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of subscriptions", body = Page<WebhookResponse>))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    principal: Principal,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let found = webhooks::list(&state.db, &principal, page.resolve()?).await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |m| response(m, false))))
}

/// One webhook subscription (without its secret).
///
/// 404 for a subscription the caller may not manage, as for one that does not exist.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = WebhookResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let m = webhooks::find(&state.db, &principal, id.into_inner()).await?;
    Ok(webhook_response(StatusCode::OK, &m, false))
}

/// Change a subscription: its URL (checked again), events, description, or pause it.
///
/// Send the `ETag` back as `If-Match` to get 412 rather than overwrite another change.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Subscription id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = WebhookPatchRequest,
    responses(
        (status = 200, description = "Changed", body = WebhookResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<WebhookPatchRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let updated = webhooks::update(
        &state,
        &principal,
        id.into_inner(),
        WebhookPatch {
            url: body.url,
            events: body.events,
            description: body.description,
            active: body.active,
        },
        &if_match,
    )
    .await?;
    Ok(webhook_response(StatusCode::OK, &updated, false))
}

/// Delete a subscription, with its deliveries and their history.
///
/// Deliveries not yet made are dropped. Audited.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    webhooks::delete(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the signing secret.
///
/// The new secret is in this answer only. For 24 hours deliveries carry two signatures
/// (new and old, space-separated in `webhook-signature`), so a receiver can switch without
/// losing one.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription with its new secret", body = WebhookResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let m = webhooks::rotate_secret(&state.db, &principal, id.into_inner()).await?;
    Ok(webhook_response(StatusCode::OK, &m, true))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TestEventResponse {
    /// The `webhook-id` the delivery will carry.
    pub webhook_id: String,
}

/// Send a `webhook.test` event to this subscription.
///
/// To check a receiver and its signature verification; delivered like any event (see its
/// deliveries).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 202, description = "Queued", body = TestEventResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let webhook_id = webhooks::send_test(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(TestEventResponse { webhook_id }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookAttemptResponse {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status code; null when none came (timeout, refused address…).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

pub use entity::status::DeliveryStatus;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryResponse {
    pub id: i64,
    pub subscription_id: i64,
    /// The `webhook-id` header of every attempt.
    pub webhook_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first (redeliveries included).
    pub attempt_history: Vec<WebhookAttemptResponse>,
}

fn delivery_response(v: &DeliveryView) -> WebhookDeliveryResponse {
    let d = &v.delivery;
    WebhookDeliveryResponse {
        id: d.id,
        subscription_id: d.subscription_id,
        webhook_id: v.event.webhook_id.clone(),
        event_type: v.event.event_type.clone(),
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: webhooks::dispatcher::next_attempt(d),
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        delivered_at: d.delivered_at,
        created_at: d.created_at,
        attempt_history: v
            .attempts
            .iter()
            .map(|a| WebhookAttemptResponse {
                attempted_at: a.attempted_at,
                status_code: a.status_code,
                error: a.error.clone(),
                duration_ms: a.duration_ms,
            })
            .collect(),
    }
}

/// A subscription's deliveries, newest first, with every attempt.
///
/// Status codes, errors, the number of attempts and when the next is due.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Subscription id"), PageParams),
    responses(
        (status = 200, description = "Deliveries", body = Page<WebhookDeliveryResponse>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = page.resolve()?;
    let found = webhooks::deliveries(&state.db, &principal, id.into_inner(), page).await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, delivery_response)))
}

/// Deliver again, whatever the last status.
///
/// A new round of attempts starts now with the same `webhook-id`; earlier attempts stay in
/// the history. Audited.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued", body = WebhookDeliveryResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/webhook-deliveries/{id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let view = webhooks::redeliver(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(delivery_response(&view)))
}
