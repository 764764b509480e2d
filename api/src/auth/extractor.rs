//! Authentication happens in the `authenticate` middleware, before any extractor runs:
//! a bearer token is verified and its account loaded once per request. The `Principal`
//! extractor then only reads the outcome, synchronously — so a handler's first failing
//! argument is always the missing or bad token (401), never a body error that would tell
//! an unauthenticated caller anything.

use crate::error::{ApiError, HttpError, Text, text};
use crate::services::accounts::AccountCache;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use parindex_service::auth::Principal as Account;
use std::future::{Ready, ready};

/// What the middleware concluded about the request's token.
#[derive(Clone)]
enum Authentication {
    Valid(Account),
    Invalid(Text),
    /// The account could not be read: the database is down or stalled. Not the token's
    /// fault, so not a 401 (a client would drop a good token): a 503 to retry.
    Unavailable(Text),
    /// A valid `read` API key on a request that writes: 403.
    Forbidden(Text),
}

fn bearer_token(req: &ServiceRequest) -> Option<Result<String, Text>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let Ok(value) = value.to_str() else {
        return Some(Err(text!(
            "the Authorization header is not valid text",
            "tiêu đề Authorization không phải văn bản hợp lệ"
        )));
    };
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Some(Ok(token.trim().to_string()))
        }
        _ => Some(Err(text!(
            "expected `Authorization: Bearer <token>`",
            "cần tiêu đề `Authorization: Bearer <token>`"
        ))),
    }
}

fn unavailable() -> Authentication {
    Authentication::Unavailable(text!(
        "the account could not be checked: the database is not available; retry in a few seconds",
        "chưa kiểm tra được tài khoản: cơ sở dữ liệu đang không sẵn sàng; hãy thử lại sau vài giây"
    ))
}

/// An API key (`pik_…`): the account that made it, with the key's scope; a `read` key on a
/// request that writes is a 403. Keys are read at every request (a revocation takes
/// effect at once); the account through the same cache as sign-in tokens.
async fn authenticate_key(
    state: &AppState,
    accounts: &AccountCache,
    key: &str,
    writes: bool,
    request_id: Option<String>,
) -> Authentication {
    let found = match crate::services::api_keys::authenticate(&state.db, key).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read an API key");
            return unavailable();
        }
    };
    let Some(found) = found else {
        return Authentication::Invalid(text!(
            "the API key is unknown, revoked or expired",
            "khóa API không tồn tại, đã bị thu hồi hoặc đã hết hạn"
        ));
    };
    let account = accounts.get_or_load(found.user_id, async {
        crate::services::accounts::load_principal(&state.db, found.user_id).await
    });
    let principal = match account.await {
        Ok(a) => a.as_ref().as_ref().and_then(|a| a.principal(request_id)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot load the account of an API key");
            return unavailable();
        }
    };
    let Some(mut principal) = principal else {
        return Authentication::Invalid(text!(
            "the API key's account is inactive",
            "tài khoản của khóa API đã ngừng hoạt động"
        ));
    };
    let write = crate::services::api_keys::scopes_of(&found)
        .contains(&crate::services::api_keys::Scope::Write);
    if writes && !write {
        return Authentication::Forbidden(text!(
            "this API key may only read (scope read): use a key with scope write",
            "khóa API này chỉ được đọc (phạm vi read): hãy dùng khóa có phạm vi write"
        ));
    }
    principal.key = Some(parindex_service::auth::KeyRef {
        id: found.id,
        prefix: found.prefix.clone(),
        write,
    });
    Authentication::Valid(principal)
}

/// A token of the configured OpenID Connect provider: verified there, then the account its
/// username claim names, with the service's own role, unit and active flag.
async fn authenticate_oidc(
    state: &AppState,
    accounts: &AccountCache,
    oidc: &parindex_service::auth::oidc::Oidc,
    token: &str,
    request_id: Option<String>,
) -> Authentication {
    use parindex_service::auth::oidc::Refusal;
    let username = match oidc.verify(token).await {
        Ok(username) => username,
        Err(Refusal::Invalid(reason)) => return Authentication::Invalid(reason),
        Err(Refusal::Unavailable(reason)) => return Authentication::Unavailable(reason),
    };
    let id = match crate::services::accounts::account_id_by_username(&state.db, &username).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Authentication::Invalid(text!(
                "no account here is named {username:?}, as the identity provider's token says: ask an administrator to create it",
                "không có tài khoản {username:?} như mã của hệ thống xác thực nêu: hãy đề nghị quản trị viên tạo tài khoản"
            ));
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot find the account of a provider's token");
            return unavailable();
        }
    };
    let account = accounts.get_or_load(id, async {
        crate::services::accounts::load_principal(&state.db, id).await
    });
    match account.await {
        Ok(a) => match a.as_ref().as_ref().and_then(|a| a.principal(request_id)) {
            Some(principal) => Authentication::Valid(principal),
            None => Authentication::Invalid(text!(
                "the account {username:?} is inactive",
                "tài khoản {username:?} đã ngừng hoạt động"
            )),
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot load the account of a provider's token");
            unavailable()
        }
    }
}

async fn authenticate_token(
    state: &AppState,
    accounts: &AccountCache,
    token: &str,
    writes: bool,
    request_id: Option<String>,
) -> Authentication {
    if token.starts_with(crate::services::api_keys::KEY_PREFIX) {
        return authenticate_key(state, accounts, token, writes, request_id).await;
    }
    if let Some(oidc) = &state.oidc
        && oidc.claims_to_be_ours(token)
    {
        return authenticate_oidc(state, accounts, oidc, token, request_id).await;
    }
    let invalid = || {
        Authentication::Invalid(text!(
            "the bearer token is invalid or expired",
            "mã xác thực (bearer token) không hợp lệ hoặc đã hết hạn"
        ))
    };
    let Ok(claims) = state.jwt.verify(token) else {
        return invalid();
    };
    let Ok(user_id) = claims.sub.parse::<i64>() else {
        return invalid();
    };
    let account = accounts.get_or_load(user_id, async {
        crate::services::accounts::load_principal(&state.db, user_id).await
    });
    let account = match account.await {
        Ok(account) => account,
        Err(e) => {
            tracing::warn!(error = %e, "cannot load the account of a token");
            return unavailable();
        }
    };
    // A deactivated account, or a token issued before a password change, is refused even
    // though its signature and expiry are fine.
    match account.as_ref() {
        Some(a) if a.active && a.token_version == claims.ver => match a.principal(request_id) {
            Some(principal) => Authentication::Valid(principal),
            None => invalid(),
        },
        _ => Authentication::Invalid(text!(
            "the bearer token is no longer valid for this account",
            "mã xác thực không còn hiệu lực với tài khoản này"
        )),
    }
}

/// Middleware: resolves the bearer token, if any, into the request's extensions.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(token) = bearer_token(&req) {
        let outcome = match token {
            Err(reason) => Authentication::Invalid(reason),
            Ok(token) => match (
                req.app_data::<web::Data<AppState>>().cloned(),
                req.app_data::<web::Data<AccountCache>>().cloned(),
            ) {
                (Some(state), Some(accounts)) => {
                    let request_id = req
                        .extensions()
                        .get::<crate::http::middleware::RequestId>()
                        .map(|r| r.0.clone());
                    // Reads are GET and HEAD (and OPTIONS): all a `read` key may send.
                    let writes = !matches!(
                        *req.method(),
                        actix_web::http::Method::GET
                            | actix_web::http::Method::HEAD
                            | actix_web::http::Method::OPTIONS
                    );
                    authenticate_token(&state, &accounts, &token, writes, request_id).await
                }
                _ => Authentication::Invalid(text!(
                    "authentication is not configured",
                    "chưa cấu hình xác thực"
                )),
            },
        };
        if let Authentication::Valid(account) = &outcome {
            // The request's span (`observe`): who asked, by id, never by token.
            crate::telemetry::record_account(
                &tracing::Span::current(),
                account.user_id,
                account.unit.as_ref().map(|u| u.id),
            );
        }
        req.extensions_mut().insert(outcome);
    }
    next.call(req).await
}

impl FromRequest for super::Principal {
    type Error = HttpError;
    type Future = Ready<Result<Self, HttpError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Authentication>() {
            Some(Authentication::Valid(p)) => Ok(super::Principal(p.clone())),
            Some(Authentication::Invalid(reason)) => {
                Err(ApiError::unauthorized(reason.clone()).into())
            }
            Some(Authentication::Forbidden(reason)) => {
                Err(ApiError::forbidden(reason.clone()).into())
            }
            Some(Authentication::Unavailable(reason)) => {
                Err(ApiError::service_unavailable(reason.clone())
                    .with_retry_after(2)
                    .into())
            }
            None => Err(ApiError::unauthorized(text!(
                "a bearer token is required",
                "cần mã xác thực (bearer token)"
            ))
            .into()),
        })
    }
}
