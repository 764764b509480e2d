//! The caller's notifications, its preferences per kind, and the unsubscribe link of its
//! e-mails.

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, Query};
use crate::services::notifications::compose::Kind;
use crate::services::notifications::{self, EmailChoice, Preference, PreferenceInput};
use crate::state::AppState;
use crate::validation::PageParams;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use entity::notification;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_notifications)
        .service(read_notification)
        .service(get_notification_preferences)
        .service(put_notification_preferences)
        .service(confirm_unsubscribe)
        .service(unsubscribe);
}

/// A kind of notification.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    /// A file returned for supplementation.
    #[serde(rename = "self_assessment.returned")]
    FileReturned,
    /// The submission deadline 7 days, then 1 day ahead (file not submitted).
    #[serde(rename = "self_assessment.deadline_soon")]
    DeadlineSoon,
    #[serde(rename = "results.published")]
    ResultsPublished,
    #[serde(rename = "results.preliminary_released")]
    PreliminaryReleased,
    /// Criteria assigned to the caller's agency to appraise.
    #[serde(rename = "appraisal.criteria_assigned")]
    CriteriaAssigned,
    #[serde(rename = "appeal.decided")]
    AppealDecided,
    #[serde(rename = "remediation.milestone_due_soon")]
    MilestoneDueSoon,
    #[serde(rename = "remediation.milestone_overdue")]
    MilestoneOverdue,
}

impl From<Kind> for NotificationKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::FileReturned => NotificationKind::FileReturned,
            Kind::DeadlineSoon => NotificationKind::DeadlineSoon,
            Kind::ResultsPublished => NotificationKind::ResultsPublished,
            Kind::PreliminaryReleased => NotificationKind::PreliminaryReleased,
            Kind::CriteriaAssigned => NotificationKind::CriteriaAssigned,
            Kind::AppealDecided => NotificationKind::AppealDecided,
            Kind::MilestoneDueSoon => NotificationKind::MilestoneDueSoon,
            Kind::MilestoneOverdue => NotificationKind::MilestoneOverdue,
        }
    }
}

/// How a kind is e-mailed.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EmailDelivery {
    Off,
    /// One e-mail per notification, as it happens.
    Immediate,
    /// One digest a day (from `PARINDEX_DIGEST_HOUR`, Vietnam time).
    Daily,
}

impl From<EmailChoice> for EmailDelivery {
    fn from(c: EmailChoice) -> Self {
        match c {
            EmailChoice::Off => EmailDelivery::Off,
            EmailChoice::Immediate => EmailDelivery::Immediate,
            EmailChoice::Daily => EmailDelivery::Daily,
        }
    }
}

/// One notification.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NotificationResponse {
    pub id: i64,
    #[schema(value_type = NotificationKind)]
    pub kind: String,
    /// In Vietnamese.
    #[schema(example = "Hồ sơ tự đánh giá chỉ số CCHC năm 2024 được trả lại để bổ sung")]
    pub title: String,
    #[schema(example = "Hội đồng thẩm định đề nghị bổ sung các tiêu chí: 1.1, 2.3.")]
    pub body: String,
    /// The resource to open.
    #[schema(example = "/api/v1/self-assessments/12")]
    pub link: String,
    /// The unit it is about.
    pub unit_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Null while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<&notification::Model> for NotificationResponse {
    fn from(n: &notification::Model) -> Self {
        NotificationResponse {
            id: n.id,
            kind: n.kind.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            link: n.link.clone(),
            unit_id: n.unit_id,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// One page of the caller's notifications.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NotificationsPage {
    pub items: Vec<NotificationResponse>,
    pub page: u64,
    pub per_page: u64,
    /// How many the list holds in all (with `unread_only`, the unread ones).
    pub total: u64,
    /// How many of the caller's notifications are unread.
    pub unread: u64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// Only the unread ones.
    pub unread_only: Option<bool>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// The caller's notifications.
///
/// Newest first, paged, with how many are unread: what concerns the account (its unit's
/// file returned, its deadline 7 days and 1 day ahead, results published for its district,
/// an appeal answered, a remediation milestone due or overdue). Kinds the account turned off
/// in the app are not listed.
#[utoipa::path(
    tag = "notifications",
    security(("bearer_auth" = [])),
    params(NotificationsQuery),
    responses((status = 200, description = "One page of notifications", body = NotificationsPage))
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<NotificationsQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let (found, unread) = notifications::list(
        &state.db,
        &principal,
        query.unread_only.unwrap_or(false),
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(NotificationsPage {
        items: found.items().iter().map(Into::into).collect(),
        page: found.page(),
        per_page: found.per_page(),
        total: found.total(),
        unread,
    }))
}

/// Mark one of the caller's notifications read.
///
/// Returns it with `read_at`; marking it again keeps the first time. Another account's
/// notification is a 404, as one that does not exist.
#[utoipa::path(
    tag = "notifications",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Notification id")),
    responses(
        (status = 200, description = "Read", body = NotificationResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/notifications/{id}/read")]
pub async fn read_notification(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let n = notifications::mark_read(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(NotificationResponse::from(&n)))
}

/// One kind's preference.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NotificationPreferenceResponse {
    pub kind: NotificationKind,
    /// The kind's name, in Vietnamese.
    #[schema(example = "Hồ sơ tự đánh giá bị trả lại để bổ sung")]
    pub label: String,
    /// Listed in `GET /notifications`.
    pub in_app: bool,
    pub email: EmailDelivery,
}

/// The caller's address and its preference for every kind.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NotificationPreferencesResponse {
    /// Where e-mails go (null: none are sent).
    #[schema(example = "lien.nt@vinhlong.gov.vn")]
    pub email: Option<String>,
    /// Every kind, in a fixed order (defaults: listed, e-mailed at once).
    pub items: Vec<NotificationPreferenceResponse>,
}

fn preferences_response(
    email: Option<String>,
    prefs: Vec<Preference>,
) -> NotificationPreferencesResponse {
    NotificationPreferencesResponse {
        email,
        items: prefs
            .into_iter()
            .map(|p| NotificationPreferenceResponse {
                kind: p.kind.into(),
                label: p.kind.label_vi().to_string(),
                in_app: p.in_app,
                email: p.email.into(),
            })
            .collect(),
    }
}

/// The caller's notification preferences.
///
/// Its e-mail address and, for every kind, whether it is listed in the app and how it is
/// e-mailed (`off`, `immediate`, `daily` digest).
#[utoipa::path(
    tag = "notifications",
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The preferences", body = NotificationPreferencesResponse))
)]
#[get("/notifications/preferences")]
pub async fn get_notification_preferences(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<HttpResponse> {
    let (email, prefs) = notifications::preferences(&state.db, &principal).await?;
    Ok(HttpResponse::Ok().json(preferences_response(email, prefs)))
}

/// One kind's choice.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferenceRequest {
    /// Read as a string so that an unknown kind is a field error naming it.
    #[schema(value_type = NotificationKind)]
    pub kind: String,
    pub in_app: bool,
    #[schema(value_type = EmailDelivery)]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferencesRequest {
    /// The account's address (null or empty: no e-mail).
    #[schema(example = "lien.nt@vinhlong.gov.vn", max_length = 254)]
    pub email: Option<String>,
    /// The kinds to set; those not listed go back to the defaults.
    #[schema(max_items = 8)]
    pub items: Vec<NotificationPreferenceRequest>,
}

/// Replace the caller's notification preferences.
///
/// Sets the account's e-mail address and the choice for the kinds listed (the others go
/// back to the defaults). An unknown kind or choice, a kind listed twice or an address
/// SMTP cannot take is a 422 naming the field, and nothing is changed.
#[utoipa::path(
    tag = "notifications",
    security(("bearer_auth" = [])),
    request_body = NotificationPreferencesRequest,
    responses(
        (status = 200, description = "The preferences now", body = NotificationPreferencesResponse),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[put("/notifications/preferences")]
pub async fn put_notification_preferences(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<NotificationPreferencesRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (email, prefs) = notifications::set_preferences(
        &state.db,
        &principal,
        body.email,
        body.items
            .into_iter()
            .map(|i| PreferenceInput {
                kind: i.kind,
                in_app: i.in_app,
                email: i.email,
            })
            .collect(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(preferences_response(email, prefs)))
}

const HTML: &str = "text/html; charset=utf-8";

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HTML))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">\
             <title>{title}</title></head><body>\n{body}\n</body></html>\n"
        ))
}

/// The page an e-mail's unsubscribe link opens.
///
/// Asks to confirm with one button (a link opened by a mail scanner must not unsubscribe
/// anyone); the button posts to the same address. 404 for a link that is not valid. No
/// bearer token: the link is the credential, for this and nothing else.
#[utoipa::path(
    tag = "notifications",
    params(("token" = String, Path, description = "The account's unsubscribe token")),
    responses(
        (status = 200, description = "A page asking to confirm", content_type = "text/html", body = String),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/unsubscribe/{token}")]
pub async fn confirm_unsubscribe(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> ApiResult<HttpResponse> {
    notifications::check_unsubscribe(&state.db, &token).await?;
    Ok(page(
        "Ngừng nhận thư thông báo",
        "<p>Ngừng nhận thư điện tử thông báo về chỉ số CCHC? Thông báo trong ứng dụng vẫn giữ \
         nguyên.</p>\n<form method=\"post\"><button type=\"submit\">Ngừng nhận thư</button></form>",
    ))
}

/// Unsubscribe from e-mail (RFC 8058 one-click).
///
/// Turns the e-mail of every kind off for the link's account (its in-app choices stay;
/// a digest not yet made is dropped). Mail programs post `List-Unsubscribe=One-Click`; any
/// body is accepted and ignored. Doing it twice is fine. 404 for a link that is not valid.
#[utoipa::path(
    tag = "notifications",
    params(("token" = String, Path, description = "The account's unsubscribe token")),
    responses(
        (status = 200, description = "Unsubscribed", content_type = "text/html", body = String),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/unsubscribe/{token}")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> ApiResult<HttpResponse> {
    notifications::unsubscribe(&state.db, &token).await?;
    Ok(page(
        "Đã ngừng nhận thư",
        "<p>Đã ngừng gửi thư điện tử thông báo về chỉ số CCHC cho tài khoản này. Có thể bật \
         lại trong phần tuỳ chọn thông báo.</p>",
    ))
}
