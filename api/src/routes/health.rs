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

/// How long readiness waits for the database.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);
/// How long readiness waits for the pool's answer before asking the server directly.
const ASK_THE_SERVER_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Readiness: the database answers, and takes writes.
///
/// For a load balancer or readiness probe: 200 when one trivial database query succeeds
/// within 2 s (and, after a write failed for want of the database, such as on a full disk,
/// when a probe write commits again); 503 with `Retry-After` and the reason otherwise. No
/// token needed.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The database is reachable and takes writes", body = HealthStatus),
        (status = 503, description = "The database is not reachable, too slow, or cannot commit a write", body = crate::error::Problem,
            content_type = "application/problem+json", headers(("Retry-After" = String))),
    )
)]
#[get("/health/ready")]
pub async fn health_ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let ping = crate::db::ping(&state.db);
    tokio::pin!(ping);
    // A healthy database answers at once. Only when it does not is the server asked
    // directly whether it accepts connections at all, so that one that is down is told in
    // half a second (the pool would retry for its whole wait); a connection attempt costs
    // PostgreSQL a process, too dear for every probe of a busy load balancer.
    let answer = match tokio::time::timeout(ASK_THE_SERVER_AFTER, &mut ping).await {
        Ok(answer) => Some(answer),
        Err(_) => {
            if let Some(address) = crate::outage::Address::of(&state.config.database_url)
                && let Err(why) = address.accepts().await
            {
                tracing::warn!(reason = %why, "readiness: the database server does not accept connections");
                crate::outage::suspect();
                return Err(ApiError::service_unavailable(text!(
                    "the database server does not accept connections",
                    "máy chủ cơ sở dữ liệu không nhận kết nối"
                ))
                .with_retry_after(2)
                .into());
            }
            tokio::time::timeout(READY_WITHIN - ASK_THE_SERVER_AFTER, ping)
                .await
                .ok()
        }
    };
    match answer {
        Some(Ok(())) => Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" })),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(match crate::error::unavailable(&e) {
                Some(_) => ApiError::from(e),
                None => ApiError::service_unavailable(text!(
                    "the database cannot be used",
                    "không sử dụng được cơ sở dữ liệu"
                ))
                .with_retry_after(5),
            }
            .into())
        }
        None => Err({
            crate::outage::suspect();
            ApiError::service_unavailable(text!(
                "the database did not answer within 2 s",
                "cơ sở dữ liệu không trả lời trong vòng 2 giây"
            ))
            .with_retry_after(2)
        }
        .into()),
    }
}
