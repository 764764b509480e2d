//! User administration (admins only).

use super::Page;
use crate::auth::policy::require_admin;
use crate::auth::{Principal, Role};
use crate::error::ApiResult;
use crate::http::etag::Precondition;
use crate::http::{Json, Query};
use crate::services::accounts::{self, NewUser, UserFilter, UserPatch};
use crate::services::versioned::etag_of;
use crate::state::AppState;
use crate::validation::PageParams;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::user;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(deactivate_user);
}

/// An account as clients see it (never its password hash).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// The unit whose subtree the account works on; null only for admins.
    pub unit_id: Option<i64>,
    pub active: bool,
    /// Where the account's notifications are e-mailed (null: in the app only).
    #[schema(example = "lien.nt@vinhlong.gov.vn")]
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&user::Model> for UserResponse {
    fn from(u: &user::Model) -> Self {
        UserResponse {
            id: u.id,
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            role: Role::parse(&u.role).unwrap_or(Role::Viewer),
            unit_id: u.unit_id,
            active: u.active,
            email: u.email.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// 200 with the user and its ETag.
pub fn user_response(u: &user::Model) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag_of::<entity::user::Entity>(u)))
        .json(UserResponse::from(u))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::create_user_request))]
pub struct CreateUserRequest {
    /// 3-64 characters: a-z, digits, '.', '_', '-', '@'; case-insensitive.
    #[schema(example = "vinhlong.vp", min_length = 3, max_length = 64)]
    pub username: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    #[schema(example = "Nguyễn Thị Liên", min_length = 1, max_length = 200)]
    pub full_name: String,
    pub role: Role,
    /// Required for every role but `admin`.
    pub unit_id: Option<i64>,
    /// Where notifications are e-mailed (the account may change it in its preferences).
    #[schema(example = "lien.nt@vinhlong.gov.vn", max_length = 254)]
    pub email: Option<String>,
}

/// Create an account.
///
/// Admins only. A `unit_id` is required for every role but `admin`; the password is
/// hashed with argon2id and never returned. 409 when the username is taken (case-
/// insensitive).
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The username is taken", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    require_admin(&principal)?;
    let body = body.into_inner();
    let created = accounts::create_user(
        &state,
        &principal,
        NewUser {
            username: body.username,
            password: body.password,
            full_name: body.full_name,
            role: body.role,
            unit_id: body.unit_id,
            email: body.email,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", created.id)))
        .insert_header((header::ETAG, etag_of::<entity::user::Entity>(&created)))
        .json(UserResponse::from(&created)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub role: Option<Role>,
    pub unit_id: Option<i64>,
    pub active: Option<bool>,
    /// Part of the username or full name.
    pub q: Option<String>,
}

/// List accounts, filtered and paginated.
///
/// Admins only. Filter by role, unit, active flag or a part of the username or full name;
/// oldest account first.
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    params(UserListQuery),
    responses((status = 200, description = "One page of accounts", body = Page<UserResponse>))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<UserListQuery>,
) -> ApiResult<HttpResponse> {
    require_admin(&principal)?;
    let query = query.into_inner();
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let found = accounts::list_users(
        &state.db,
        &principal,
        UserFilter {
            role: query.role,
            unit_id: query.unit_id,
            active: query.active,
            q: query.q,
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |r| UserResponse::from(r))))
}

/// Read an account.
///
/// Admins only. 404 for an unknown id. Keep the `ETag` for a change with `If-Match`.
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The account", body = UserResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    require_admin(&principal)?;
    let user = accounts::get_user(&state.db, &principal, id.into_inner()).await?;
    Ok(user_response(&user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::update_user_request))]
pub struct UpdateUserRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    pub role: Option<Role>,
    /// A unit id, or `null` to detach an admin from any unit.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<i64>)]
    pub unit_id: Option<Option<i64>>,
    /// `false` deactivates the account: its tokens stop working at once.
    pub active: Option<bool>,
    /// Resets the password (at least 12 characters); the account's tokens stop working.
    #[schema(min_length = 12, max_length = 256)]
    pub password: Option<String>,
    /// Where notifications are e-mailed; `null` removes the address.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
}

/// Change an account: name, role, unit, active flag, or reset its password.
///
/// Send the `ETag` of your read as `If-Match` to be sure you change what you saw (412 when
/// it changed since). The last active admin cannot be demoted or deactivated (409).
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Changed", body = UserResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, description = "It is the last active admin", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    require_admin(&principal)?;
    let body = body.into_inner();
    let updated = accounts::update_user(
        &state,
        &principal,
        id.into_inner(),
        UserPatch {
            full_name: body.full_name,
            role: body.role,
            unit_id: body.unit_id,
            active: body.active,
            password: body.password,
            email: body.email,
        },
        &if_match,
    )
    .await?;
    Ok(user_response(&updated))
}

/// Deactivate an account (it is kept, for the audit trail); its tokens stop working.
///
/// Admins only. The account is never deleted: its audit trail and its name on past
/// changes stay. Reactivate it with `PATCH /users/{id}` and `active: true`. The last
/// active admin cannot be deactivated (409).
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    responses(
        (status = 200, description = "Deactivated", body = UserResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, description = "It is the last active admin", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[delete("/users/{id}")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
) -> ApiResult<HttpResponse> {
    require_admin(&principal)?;
    let updated = accounts::deactivate_user(&state, &principal, id.into_inner(), &if_match).await?;
    Ok(user_response(&updated))
}
