//! API keys for systems: made, listed and revoked by the account they act as (an admin
//! lists and revokes every account's).

use super::Page;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, Query};
use crate::services::api_keys::{self, Scope};
use crate::state::AppState;
use crate::validation::PageParams;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use entity::api_key;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_api_key)
        .service(list_api_keys)
        .service(revoke_api_key);
}

/// What a key may do.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyScope {
    /// GET and HEAD only.
    Read,
    /// Every request its account may make.
    Write,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequest {
    /// What the key is for (the system that holds it).
    #[schema(
        example = "Phần mềm một cửa xã Vĩnh Long",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// `["read"]`, or `["read", "write"]` (`write` includes reading). Read as strings so
    /// that an unknown one is a field error naming it.
    #[schema(value_type = Vec<ApiKeyScope>, min_items = 1, max_items = 2)]
    pub scopes: Vec<String>,
    /// When it stops working (in the future); none: until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key, as lists show it: never the key itself.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: i64,
    /// The account it acts as.
    pub user_id: i64,
    pub name: String,
    /// Its first characters, to recognise it (`pik_1a2b3c4d`).
    #[schema(example = "pik_1a2b3c4d")]
    pub prefix: String,
    pub scopes: Vec<ApiKeyScope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute); null if never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Null while live.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&api_key::Model> for ApiKeyResponse {
    fn from(k: &api_key::Model) -> Self {
        ApiKeyResponse {
            id: k.id,
            user_id: k.user_id,
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: api_keys::scopes_of(k)
                .into_iter()
                .map(|s| match s {
                    Scope::Read => ApiKeyScope::Read,
                    Scope::Write => ApiKeyScope::Write,
                })
                .collect(),
            expires_at: k.expires_at,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just made: the key itself, shown this once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewApiKeyResponse {
    pub id: i64,
    /// Send it as `Authorization: Bearer <key>`. Only its hash is kept: it cannot be shown
    /// again.
    #[schema(example = "pik_1a2b3c4d…")]
    pub key: String,
    pub prefix: String,
    pub name: String,
    pub scopes: Vec<ApiKeyScope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Make an API key for a system.
///
/// The key acts as the caller's account, never more: with `read` it may only send GET and
/// HEAD (403 otherwise), with `write` whatever the account may; the account's role, unit
/// and active flag decide at every request (deactivating it revokes its keys). The key is
/// in this answer only (`Cache-Control: no-store`); keys cannot make keys (403). At most 20
/// live keys per account (409 beyond).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer_auth" = [])),
    request_body = ApiKeyRequest,
    responses(
        (status = 201, description = "Made", body = NewApiKeyResponse),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<ApiKeyRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let made = api_keys::create(
        &state.db,
        &principal,
        &body.name,
        &body.scopes,
        body.expires_at,
    )
    .await?;
    let shown = ApiKeyResponse::from(&made.model);
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(NewApiKeyResponse {
            id: shown.id,
            key: made.key,
            prefix: shown.prefix,
            name: shown.name,
            scopes: shown.scopes,
            expires_at: shown.expires_at,
            created_at: shown.created_at,
        }))
}

/// The caller's API keys.
///
/// Newest first, live and revoked, with when each was last used; never the keys. An admin
/// lists every account's keys.
#[utoipa::path(
    tag = "api-keys",
    security(("bearer_auth" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of keys", body = Page<ApiKeyResponse>))
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    principal: Principal,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let found = api_keys::list(&state.db, &principal, page.resolve()?).await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |k| ApiKeyResponse::from(k))))
}

/// Revoke an API key.
///
/// At once: the next request with it is a 401. Its owner's, or any for an admin (another
/// account's key is a 404); revoking twice is fine; a key cannot revoke keys (403).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api_keys::revoke(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
