//! Liveness and readiness probes, for load balancers and orchestrators.

use crate::error::{ApiError, ApiResult, text};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    /// Always `ok` when the probe succeeds.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up and serving HTTP.
///
/// For a process supervisor or Kubernetes liveness probe: 200 whenever the HTTP server
/// answers, without touching the database. No token needed.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The process is alive", body = HealthStatus))
)]
#[get("/health/live")]
pub async fn health_live() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers a trivial query.
///
/// For a load balancer or readiness probe: 200 when one trivial database query succeeds,
/// 503 otherwise. No token needed.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The database is reachable", body = HealthStatus),
        (status = 503, description = "The database is not reachable", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn health_ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    crate::db::ping(&state.db).await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::service_unavailable(text!(
            "the database is not reachable",
            "không kết nối được cơ sở dữ liệu"
        ))
    })?;
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}
