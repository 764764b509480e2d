//! The caller's calendar of the year's campaign, as JSON and as an iCalendar feed, and the
//! personal feed URLs calendar programs subscribe to.

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, Query};
use crate::services::calendar::{self, CalendarEvent};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use parindex_domain::campaign::EventKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_calendar)
        .service(get_calendar_ics)
        .service(list_calendar_feeds)
        .service(create_calendar_feed)
        .service(revoke_calendar_feed)
        .service(read_calendar_subscription);
}

/// iCalendar's media type.
const ICS: &str = "text/calendar; charset=utf-8";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// First day (default: 1 January of this year).
    pub from: Option<NaiveDate>,
    /// Last day, included (default: 31 December of the next year); at most 732 days after
    /// `from`.
    pub to: Option<NaiveDate>,
}

/// One dated event.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CalendarEventResponse {
    pub date: NaiveDate,
    pub kind: EventKind,
    /// In Vietnamese, as calendars show it.
    #[schema(example = "Hạn nộp hồ sơ tự đánh giá chỉ số CCHC năm 2024 (đã gia hạn)")]
    pub title: String,
    pub note: Option<String>,
    /// The unit it is about: the caller's own for its deadlines and milestones, the
    /// framework's owner for a campaign's dates.
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    /// The resource to open.
    #[schema(example = "/api/v1/frameworks/3")]
    pub link: String,
    /// Stable across reads (the iCalendar UID).
    pub uid: String,
}

impl From<CalendarEvent> for CalendarEventResponse {
    fn from(e: CalendarEvent) -> Self {
        CalendarEventResponse {
            date: e.date,
            kind: e.kind,
            title: e.title,
            note: e.note,
            unit_id: e.unit_id,
            framework_id: e.framework_id,
            link: e.link,
            uid: e.uid,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CalendarResponse {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<CalendarEventResponse>,
}

/// The caller's calendar: the dated events that concern it.
///
/// A unit's accounts see the campaigns of the frameworks that score their unit (the
/// submission deadline with the unit's extension applied, preliminary results, the end of
/// the appeal window, the announcement) and their unit's remediation milestones; the
/// accounts of a framework's owner (or above) see its whole campaign, appraisal and
/// council dates included; an agency's accounts see the campaigns that assign criteria
/// to their agency. Made from each framework's `campaign`, `submission_deadline` and
/// `appeal_days`.
#[utoipa::path(
    tag = "calendar",
    security(("bearer_auth" = [])),
    params(CalendarQuery),
    responses(
        (status = 200, description = "The events, by date", body = CalendarResponse),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/calendar")]
pub async fn get_calendar(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<CalendarQuery>,
) -> ApiResult<HttpResponse> {
    let (from, to) = calendar::range(query.from, query.to)?;
    let items = calendar::events(&state.db, &principal, from, to).await?;
    Ok(HttpResponse::Ok().json(CalendarResponse {
        from,
        to,
        items: items.into_iter().map(Into::into).collect(),
    }))
}

async fn ics_response(
    state: &AppState,
    principal: &parindex_service::auth::Principal,
    query: &CalendarQuery,
) -> ApiResult<HttpResponse> {
    let (from, to) = calendar::range(query.from, query.to)?;
    let items = calendar::events(&state.db, principal, from, to).await?;
    let events: Vec<_> = items.iter().map(CalendarEvent::to_ical).collect();
    let body = parindex_domain::ical::calendar(
        &calendar::calendar_name(principal),
        crate::services::now(),
        &events,
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, ICS))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

/// The caller's calendar as an iCalendar feed (RFC 5545).
///
/// The same events as `GET /calendar`, all-day, with stable UIDs and Vietnamese summaries.
/// Calendar programs cannot send a bearer token: subscribe them to a feed URL
/// (`POST /calendar/feeds`) instead.
#[utoipa::path(
    tag = "calendar",
    security(("bearer_auth" = [])),
    params(CalendarQuery),
    responses(
        (status = 200, description = "The calendar", content_type = "text/calendar", body = String),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/calendar.ics")]
pub async fn get_calendar_ics(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<CalendarQuery>,
) -> ApiResult<HttpResponse> {
    ics_response(&state, &principal, &query).await
}

/// A personal feed URL (never its token, but on creation).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CalendarFeedResponse {
    pub id: i64,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&entity::calendar_feed::Model> for CalendarFeedResponse {
    fn from(m: &entity::calendar_feed::Model) -> Self {
        CalendarFeedResponse {
            id: m.id,
            name: m.name.clone(),
            created_at: m.created_at,
            revoked_at: m.revoked_at,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CalendarFeedsResponse {
    pub items: Vec<CalendarFeedResponse>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarFeedRequest {
    /// A name to tell feeds apart, e.g. "Điện thoại".
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// A feed URL just made: the only time its URL is shown.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewCalendarFeedResponse {
    pub id: i64,
    /// Subscribe a calendar program to it. It reads the caller's calendar and nothing
    /// else; anyone holding it can, until it is revoked.
    #[schema(example = "https://cchc.example.gov.vn/api/v1/calendar/subscriptions/3f9a…")]
    pub url: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The caller's calendar feed URLs.
///
/// The live ones (at most 10), then the most recently revoked, newest first, 50 at most,
/// each with its name and dates; never their tokens (a URL is shown once, when it is made).
#[utoipa::path(
    tag = "calendar",
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The feeds", body = CalendarFeedsResponse))
)]
#[get("/calendar/feeds")]
pub async fn list_calendar_feeds(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<HttpResponse> {
    let feeds = calendar::list_feeds(&state.db, &principal).await?;
    Ok(HttpResponse::Ok().json(CalendarFeedsResponse {
        items: feeds.iter().map(Into::into).collect(),
    }))
}

/// Make a personal calendar feed URL.
///
/// Returns `{id, url}` once: the URL holds an unguessable token (only its hash is kept)
/// that reads the caller's calendar as the account is now, and grants nothing else. At
/// most 10 live feeds per account (409 beyond).
#[utoipa::path(
    tag = "calendar",
    security(("bearer_auth" = [])),
    request_body = CalendarFeedRequest,
    responses(
        (status = 201, description = "Made", body = NewCalendarFeedResponse),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/calendar/feeds")]
pub async fn create_calendar_feed(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: Json<CalendarFeedRequest>,
) -> ApiResult<HttpResponse> {
    let made = calendar::create_feed(&state.db, &principal, body.into_inner().name).await?;
    let info = req.connection_info();
    let url = format!(
        "{}://{}/api/v1/calendar/subscriptions/{}",
        info.scheme(),
        info.host(),
        made.token
    );
    Ok(HttpResponse::Created().json(NewCalendarFeedResponse {
        id: made.feed.id,
        url,
        name: made.feed.name,
        created_at: made.feed.created_at,
    }))
}

/// Revoke one of the caller's calendar feed URLs.
///
/// At once: the URL answers 404 from now on (a calendar program subscribed to it stops
/// updating). Another account's feed is a 404 here too; revoking twice is fine.
#[utoipa::path(
    tag = "calendar",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Feed id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[delete("/calendar/feeds/{id}")]
pub async fn revoke_calendar_feed(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    calendar::revoke_feed(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A calendar feed URL, as calendar programs read it (no bearer token: the URL is the
/// credential, for this calendar only).
///
/// 404 for an unknown or revoked feed, and for an account that can no longer sign in.
#[utoipa::path(
    tag = "calendar",
    params(("token" = String, Path, description = "The feed's token"), CalendarQuery),
    responses(
        (status = 200, description = "The calendar", content_type = "text/calendar", body = String),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/calendar/subscriptions/{token}")]
pub async fn read_calendar_subscription(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: Query<CalendarQuery>,
) -> ApiResult<HttpResponse> {
    let principal = calendar::principal_of_feed(&state.db, &token).await?;
    ics_response(&state, &principal, &query).await
}
