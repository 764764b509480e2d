//! Login, the current account, and changing one's own password.

use super::users::UserResponse;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::Json;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(get_me).service(change_password);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::login_request))]
pub struct LoginRequest {
    #[schema(example = "admin")]
    pub username: String,
    #[schema(example = "a-long-admin-password")]
    pub password: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::token_response))]
pub struct TokenResponse {
    /// An HS256 JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
}

/// The address attempts are counted by (the peer: behind a proxy, the proxy's).
fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Log in with a username and password.
///
/// Wrong usernames and wrong passwords get the same 401 after the same work (no account
/// enumeration). Repeated failures for one username (5 in 15 minutes by default) or from
/// one address (30) are refused with 429 and `Retry-After` until the window passes. Where
/// passwords are turned off (`PARINDEX_LOCAL_LOGIN=false`, accounts sign in through the
/// province's OpenID Connect provider and send its token), every account but the
/// break-glass admin gets 403.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Unknown user, wrong password or deactivated account",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 429, description = "Too many failed logins; retry after `Retry-After` seconds",
            body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (access_token, expires_in) =
        crate::services::accounts::login(&state, &body.username, body.password, &client_ip(&req))
            .await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token,
        token_type: "Bearer".to_string(),
        expires_in,
    }))
}

/// The account of the bearer token.
///
/// Who the bearer token belongs to: username, full name, role and unit. A front end calls
/// it after login to decide which screens to show (the role) and which unit to start from
/// (`unit_id`, null for admins).
#[utoipa::path(
    tag = "auth",
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The current account", body = UserResponse))
)]
#[get("/auth/me")]
pub async fn get_me(state: web::Data<AppState>, principal: Principal) -> ApiResult<HttpResponse> {
    let user = crate::services::accounts::own_account(&state.db, &principal).await?;
    Ok(super::users::user_response(&user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::change_password_request))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// Change the caller's own password.
///
/// Every token of the account stops working, including the one used here: log in again.
/// Wrong current passwords are throttled like failed logins (429 with `Retry-After`).
#[utoipa::path(
    tag = "auth",
    security(("bearer_auth" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; log in again"),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 429, description = "Too many wrong current passwords for this account or address; retry after `Retry-After` seconds",
            body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    crate::services::accounts::change_own_password(
        &state,
        &principal,
        body.current_password,
        body.new_password,
        &client_ip(&req),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
