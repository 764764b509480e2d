//! Unit merges: communes, wards and special zones joined into one (2025's reorganisation).

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, Query};
use crate::services::merges::{self, MergeRequest, MergeView};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_merge)
        .service(list_merges)
        .service(get_merge);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::unit_merge_request))]
pub struct UnitMergeRequest {
    /// The units merged (1 to 50; may include `into_unit_id` when one absorbs the others).
    pub from_unit_ids: Vec<i64>,
    /// The unit they become: created beforehand (`POST /units`) or one of the sources.
    pub into_unit_id: i64,
    pub effective_on: NaiveDate,
    /// The decision that made it, e.g. `1687/NQ-UBTVQH15`.
    #[schema(max_length = 200)]
    pub decision: String,
    /// One positive weight per source, same order (e.g. population), for the weighted
    /// comparison with the predecessors; equal weights when omitted.
    #[schema(value_type = Option<Vec<crate::schema::FigureInput>>)]
    pub weights: Option<Vec<Decimal>>,
    /// Move the sources' unit-officer accounts and officers (công chức) to the new unit
    /// now; otherwise reassign them later through `PATCH /users/{id}`.
    #[serde(default)]
    pub reassign_officers: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MergeSource {
    pub unit_id: i64,
    #[schema(value_type = crate::schema::Score)]
    pub weight: Decimal,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UnitMergeResponse {
    pub id: i64,
    pub from_unit_ids: Vec<i64>,
    pub into_unit_id: i64,
    pub effective_on: NaiveDate,
    pub decision: String,
    pub sources: Vec<MergeSource>,
    /// Accounts moved by this call (0 when read back).
    pub accounts_moved: u64,
    /// Officers (công chức) moved by this call (0 when read back).
    pub officers_moved: u64,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<&MergeView> for UnitMergeResponse {
    fn from(m: &MergeView) -> Self {
        UnitMergeResponse {
            id: m.merge.id,
            from_unit_ids: m.sources.iter().map(|s| s.from_unit_id).collect(),
            into_unit_id: m.merge.into_unit_id,
            effective_on: m.merge.effective_on,
            decision: m.merge.decision.clone(),
            sources: m
                .sources
                .iter()
                .map(|s| MergeSource {
                    unit_id: s.from_unit_id,
                    weight: merges::weight_of(s.weight_x100),
                })
                .collect(),
            accounts_moved: m.accounts_moved,
            officers_moved: m.officers_moved,
            created_by: m.merge.created_by,
            created_at: m.merge.created_at,
        }
    }
}

/// Merge units into one.
///
/// District or province appraisers over every unit named (or admins). The sources other
/// than `into_unit_id` become inactive, never deleted, and are kept below the unit they
/// merged into: their published history stays as announced and is read by whoever may
/// read the new unit (its officers, the province's appraisers). The new unit's index for
/// the year of `effective_on` lists them as `predecessors`. One transaction, audited.
/// Splits are not supported.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    request_body = UnitMergeRequest,
    responses(
        (status = 201, description = "Merged", body = UnitMergeResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/unit-merges")]
pub async fn create_merge(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<UnitMergeRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let view = merges::merge(
        &state.db,
        &principal,
        MergeRequest {
            from_unit_ids: body.from_unit_ids,
            into_unit_id: body.into_unit_id,
            effective_on: body.effective_on,
            decision: body.decision,
            weights: body.weights,
            reassign_officers: body.reassign_officers,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(UnitMergeResponse::from(&view)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MergeQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Merges that made this unit or merged it away.
    pub unit_id: Option<i64>,
}

/// List unit merges within the caller's reach, oldest first.
///
/// With `unit_id`, the merges that made that unit or merged it away: how a front end
/// shows a commune's lineage. Merges are listed for those who may read the unit they
/// made.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(MergeQuery),
    responses(
        (status = 200, description = "One page of merges", body = super::Page<UnitMergeResponse>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/unit-merges")]
pub async fn list_merges(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<MergeQuery>,
) -> ApiResult<HttpResponse> {
    let page = crate::validation::PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let found = merges::list_merges(&state.db, &principal, query.unit_id, page).await?;
    Ok(HttpResponse::Ok().json(super::Page::of(&found, |m| UnitMergeResponse::from(m))))
}

/// One unit merge.
///
/// Its sources (with their weights), the unit they became, the date it took effect and
/// the decision; 404 for those who may not read the unit it made.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Merge id")),
    responses(
        (status = 200, description = "The merge", body = UnitMergeResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/unit-merges/{id}")]
pub async fn get_merge(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let view = merges::get_merge(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UnitMergeResponse::from(&view)))
}
