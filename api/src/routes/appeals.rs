//! Preliminary results and appeals (kiến nghị).

use super::appraisals::AppraisalEntryRequest;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, Query};
use crate::services::appeals::{self, AppealFilter};
use crate::services::lifecycle;
use crate::services::lifecycle::appeal::{Decision, NewAppeal};
use crate::services::scoresheet::Evidence;
use crate::state::AppState;
use crate::validation::Year;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use entity::appeal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(release_preliminary_results)
        .service(file_appeal)
        .service(list_appeals)
        .service(get_appeal)
        .service(decide_appeal);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreliminaryReleaseRequest {
    pub parent_unit_id: i64,
    pub year: Year,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PreliminaryReleaseResponse {
    pub id: i64,
    pub parent_unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub released_by: Option<i64>,
    pub released_at: DateTime<Utc>,
}

/// Release the council's preliminary results to the units under a parent.
///
/// District appraisers of the parent (or admins). Each unit below may then read its own
/// appraisal (the council's scores and comments), not yet the ranking, and appeal a
/// criterion during the framework's `appeal_days`. 409 `already_released` the second time.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    request_body = PreliminaryReleaseRequest,
    responses(
        (status = 201, description = "Released", body = PreliminaryReleaseResponse),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/preliminary-results")]
pub async fn release_preliminary_results(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<PreliminaryReleaseRequest>,
) -> ApiResult<HttpResponse> {
    let r = lifecycle::appeal::release(&state.db, &principal, body.parent_unit_id, body.year.get())
        .await?;
    Ok(HttpResponse::Created().json(PreliminaryReleaseResponse {
        id: r.id,
        parent_unit_id: r.parent_unit_id,
        year: r.year,
        released_by: r.released_by,
        released_at: r.released_at,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    /// The criterion whose council score the unit objects to.
    #[schema(example = "1.5.3")]
    pub criterion_code: String,
    #[schema(
        max_length = 5000,
        example = "Đơn vị đã có Kế hoạch khắc phục số 19/KH-UBND ngày 09/3/2023"
    )]
    pub reason: String,
    /// Documents behind the objection (links or stored evidence files of the unit).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

pub use entity::status::AppealStatus;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AppealResponse {
    pub id: i64,
    pub appraisal_id: i64,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub criterion_code: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    pub status: AppealStatus,
    pub filed_by: Option<i64>,
    pub filed_at: DateTime<Utc>,
    /// The council's answer.
    pub response: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
}

fn appeal_response(a: &appeal::Model) -> AppealResponse {
    AppealResponse {
        id: a.id,
        appraisal_id: a.appraisal_id,
        unit_id: a.unit_id,
        year: a.year,
        criterion_code: a.criterion_code.clone(),
        reason: a.reason.clone(),
        evidence: serde_json::from_str(&a.evidence).unwrap_or_default(),
        status: a.status,
        filed_by: a.filed_by,
        filed_at: a.filed_at,
        response: a.response.clone(),
        decided_by: a.decided_by,
        decided_at: a.decided_at,
    }
}

/// Appeal the council's preliminary score of a criterion.
///
/// The unit's officers or leaders, once the preliminary results are released and until
/// `appeal_days` after (409 `not_released`, `no_appeal_window`, `appeal_window_closed`,
/// `appraisal_finalized`; `appeal_open` while one on the same criterion waits).
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Appraisal id")),
    request_body = AppealRequest,
    responses(
        (status = 201, description = "Filed", body = AppealResponse),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/appraisals/{id}/appeals")]
pub async fn file_appeal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<AppealRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let a = lifecycle::appeal::file(
        &state.db,
        &principal,
        id.into_inner(),
        NewAppeal {
            criterion_code: body.criterion_code,
            reason: body.reason,
            evidence: body.evidence,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(appeal_response(&a)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppealQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// The district or province whose units' appeals are listed.
    pub parent_unit_id: Option<i64>,
    pub appraisal_id: Option<i64>,
    pub year: Option<Year>,
    pub status: Option<AppealStatus>,
}

/// List appeals within the caller's reach.
///
/// Filter by the district (or province) whose units filed them, by appraisal and by year;
/// oldest first. A unit's officers see their own unit's.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(AppealQuery),
    responses(
        (status = 200, description = "One page of appeals", body = super::Page<AppealResponse>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/appeals")]
pub async fn list_appeals(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<AppealQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = crate::validation::PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let found = appeals::list(
        &state.db,
        &principal,
        AppealFilter {
            parent_unit_id: q.parent_unit_id,
            appraisal_id: q.appraisal_id,
            year: q.year.map(Year::get),
            status: q.status,
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(super::Page::of(&found, appeal_response)))
}

/// One appeal, with the council's answer once given.
///
/// 404 for an appeal of a unit the caller may not read.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Appeal id")),
    responses(
        (status = 200, description = "The appeal", body = AppealResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/appeals/{id}")]
pub async fn get_appeal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let a = appeals::get(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(appeal_response(&a)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionRequest {
    pub accepted: bool,
    #[schema(max_length = 5000)]
    pub response: String,
    /// Required when accepted: the council's new entry for the appealed criterion,
    /// written as `PUT /appraisals/{id}/entries` writes it (audited).
    pub entry: Option<AppraisalEntryRequest>,
}

/// Answer an appeal.
///
/// District appraisers of the unit. An accepted appeal carries the council's new entry for
/// its criterion, written in the same transaction through the same path as the council's
/// entries; the appeal and the entry are audited. 409 `appeal_decided` the second time.
/// Finalization and publication wait for every answer (409 `appeal_open`).
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Appeal id")),
    request_body = AppealDecisionRequest,
    responses(
        (status = 200, description = "Answered", body = AppealResponse),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/appeals/{id}/decision")]
pub async fn decide_appeal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<AppealDecisionRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let a = lifecycle::appeal::decide(
        &state.db,
        &principal,
        id.into_inner(),
        Decision {
            accepted: body.accepted,
            response: body.response,
            entry: body.entry.map(AppraisalEntryRequest::into_input),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(appeal_response(&a)))
}
