//! Criteria that carry across years: a framework's mapping from the framework it follows.

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::Json;
use crate::scoring::mapping::CriterionMapping;
use crate::services::mappings::{self, MappingSet};
use crate::state::AppState;
use actix_web::{HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_mappings).service(put_mappings);
}

/// A framework's mapping from one earlier framework.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingRequest {
    /// The framework it follows (usually last year's).
    pub from_framework_id: i64,
    /// One row per relation: `same` (same code), `renamed`, `split` (one row per part),
    /// `merged` (one row per source), `new` (no `from_code`), `removed` (no `to_code`).
    /// At most 4,000 rows.
    pub mappings: Vec<CriterionMapping>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MappingsResponse {
    /// One per earlier framework this one is mapped from (a copy records `same` for
    /// every criterion of its source).
    pub items: Vec<MappingRequest>,
}

fn response(sets: Vec<MappingSet>) -> HttpResponse {
    HttpResponse::Ok().json(MappingsResponse {
        items: sets
            .into_iter()
            .map(|s| MappingRequest {
                from_framework_id: s.from_framework_id,
                mappings: s.rows,
            })
            .collect(),
    })
}

/// A framework's mappings from earlier frameworks.
///
/// For each earlier framework (usually last year's) it was mapped from: each old
/// criterion's successor and the relation. Year-over-year comparisons of a unit follow the
/// mapping between the two years' frameworks. Those who read the framework.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id")),
    responses(
        (status = 200, description = "The mappings", body = MappingsResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/frameworks/{id}/mappings")]
pub async fn get_mappings(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(response(
        mappings::get(&state.db, &principal, id.into_inner()).await?,
    ))
}

/// Record how an earlier framework's criteria carry into this one.
///
/// Replaces the mapping from `from_framework_id` (audited, `map_criteria`, with the one
/// before). Every row is checked against both frameworks and each problem named
/// (`mappings[3].to_code`): codes that are not criteria, codes a relation needs or
/// forbids, `same` between different codes, a criterion paired twice, a split into one
/// part or a merge of one. Allowed on a published framework too: a mapping changes no
/// score, only what comparisons match. The framework's managers.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id")),
    request_body = MappingRequest,
    responses(
        (status = 200, description = "Stored; the framework's mappings", body = MappingsResponse),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[put("/frameworks/{id}/mappings")]
pub async fn put_mappings(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<MappingRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    Ok(response(
        mappings::put(
            &state.db,
            &principal,
            id.into_inner(),
            body.from_framework_id,
            body.mappings,
        )
        .await?,
    ))
}
