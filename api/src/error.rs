//! The service's `ApiError` as an HTTP response: an RFC 9457 problem document
//! (`application/problem+json`) in the language the request prefers, with the headers the
//! problem carries (`Allow`, `Content-Range`, `Retry-After`, `WWW-Authenticate`).
//!
//! Handlers return `ApiResult<T>` = `Result<T, HttpError>`; `?` on a service call turns its
//! `ApiError` into an `HttpError`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use std::fmt;

pub use parindex_service::error::{
    ApiError, FieldError, Lang, PROBLEM_CONTENT_TYPE, Problem, Text, Violations, text, unavailable,
};

/// An `ApiError` on its way to the client.
pub struct HttpError(pub ApiError);

/// What a handler returns.
pub type ApiResult<T> = Result<T, HttpError>;

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

impl From<sea_orm::DbErr> for HttpError {
    fn from(e: sea_orm::DbErr) -> Self {
        HttpError(e.into())
    }
}

impl From<actix_web::error::BlockingError> for HttpError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        HttpError(ApiError::internal(anyhow::anyhow!(
            "blocking task failed: {err}"
        )))
    }
}

impl std::ops::Deref for HttpError {
    type Target = ApiError;
    fn deref(&self) -> &ApiError {
        &self.0
    }
}

impl fmt::Debug for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The response of `error` in `lang`, with its `Content-Language`.
pub fn render(error: &ApiError, lang: Lang) -> HttpResponse {
    let status = error.status();
    let mut response = HttpResponse::build(status);
    response.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    ));
    response.insert_header((header::CONTENT_LANGUAGE, lang.tag()));
    if let Some((name, value)) = error.extra_header() {
        response.insert_header((name.clone(), value.to_string()));
    }
    if let Some(secs) = error.retry_after_secs() {
        response.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    let body = serde_json::to_vec(&error.problem_in(lang)).unwrap_or_default();
    response.body(body)
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    /// English; the request middleware renders it again in the language the request
    /// prefers (`http::middleware::observe`).
    fn error_response(&self) -> HttpResponse {
        self.0.log_cause();
        render(&self.0, Lang::En)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn responses_are_problem_json_and_hide_internal_causes() {
        let e = HttpError(ApiError::internal(anyhow::anyhow!(
            "password=hunter2 leaked in SQL"
        )));
        let resp = e.error_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            resp.headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(PROBLEM_CONTENT_TYPE.as_bytes())
        );
        let body = resp.into_body().try_into_bytes().unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("hunter2"), "{text}");
    }
}
