//! The audit trail, read back.

use super::Page;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::Query;
use crate::services::audit::{self, AuditFilter};
use crate::state::AppState;
use crate::validation::PageParams;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use entity::audit_event;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}

/// One recorded change.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditEventResponse {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The account that made the change (null for command-line actions).
    pub actor_user_id: Option<i64>,
    pub actor_username: String,
    /// E.g. `assessment_entry`, `self_assessment`, `appraisal`, `framework`, `unit`, `user`.
    pub entity: String,
    pub entity_id: i64,
    /// E.g. `create`, `update`, `self_assess`, `appraise`, `submit`, `return`, `finalize`.
    pub action: String,
    pub unit_id: Option<i64>,
    /// The value before (null when the record did not exist).
    #[schema(value_type = Option<crate::schema::JsonObject>)]
    pub old_value: Option<serde_json::Value>,
    /// The value after (null when the record was deleted).
    #[schema(value_type = Option<crate::schema::JsonObject>)]
    pub new_value: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

impl From<&audit_event::Model> for AuditEventResponse {
    fn from(m: &audit_event::Model) -> Self {
        let parse = |t: &Option<String>| t.as_ref().and_then(|t| serde_json::from_str(t).ok());
        AuditEventResponse {
            id: m.id,
            at: m.at,
            actor_user_id: m.actor_user_id,
            actor_username: m.actor_username.clone(),
            entity: m.entity.clone(),
            entity_id: m.entity_id,
            action: m.action.clone(),
            unit_id: m.unit_id,
            old_value: parse(&m.old_value),
            new_value: parse(&m.new_value),
            request_id: m.request_id.clone(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    /// Only changes at or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only changes before this instant (RFC 3339).
    pub until: Option<DateTime<Utc>>,
}

/// Read the audit trail of the units the caller may read, newest first.
///
/// Each event says who (`actor_user_id`, username), when, what (`entity`, `entity_id`,
/// `action`) and the values before and after. Filter by entity, unit, actor, action and
/// time; admins read all, others the events of the units they may read.
#[utoipa::path(
    tag = "audit",
    security(("bearer_auth" = [])),
    params(AuditQuery),
    responses((status = 200, description = "One page of changes", body = Page<AuditEventResponse>))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let found = audit::list(
        &state.db,
        &principal,
        AuditFilter {
            entity: q.entity,
            entity_id: q.entity_id,
            unit_id: q.unit_id,
            actor_user_id: q.actor_user_id,
            action: q.action,
            since: q.since,
            until: q.until,
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |r| AuditEventResponse::from(r))))
}
