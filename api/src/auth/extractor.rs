//! `Principal` as an extractor: a handler that takes a `Principal` argument requires a
//! valid bearer token of an active account. Every failure is the same 401.

use super::{Principal, Role, UnitRef};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("expected `Authorization: Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "expected `Authorization: Bearer <token>`",
        ));
    }
    Ok(token.trim().to_string())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let request_id = req
            .extensions()
            .get::<crate::http::middleware::RequestId>()
            .map(|r| r.0.clone());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let claims = state.jwt.verify(&token?)?;
            let user_id: i64 = claims
                .sub
                .parse()
                .map_err(|_| ApiError::unauthorized("the bearer token is invalid or expired"))?;
            let account = crate::services::accounts::load_principal(&state.db, user_id).await?;
            // A deactivated account, or a token issued before a password change, is refused
            // even though its signature and expiry are fine.
            match account {
                Some(a) if a.active && a.token_version == claims.ver => {
                    let role = Role::parse(&a.role).ok_or_else(|| {
                        ApiError::internal(anyhow::anyhow!("user {} has unknown role", a.id))
                    })?;
                    Ok(Principal {
                        user_id: a.id,
                        username: a.username,
                        role,
                        unit: match (a.unit_id, a.unit_path) {
                            (Some(id), Some(path)) => Some(UnitRef { id, path }),
                            _ => None,
                        },
                        request_id,
                    })
                }
                _ => Err(ApiError::unauthorized(
                    "the bearer token is no longer valid for this account",
                )),
            }
        })
    }
}
