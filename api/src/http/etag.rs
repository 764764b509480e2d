//! `If-Match` → `Precondition`: the one place HTTP meets the write path's optimistic
//! concurrency (`services::versioned`). Routes take a `Precondition` argument (this
//! extractor, which derefs to the service's precondition); services never see a request.

use crate::error::{ApiError, HttpError, text};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

pub use crate::services::versioned::{etag, stale};

/// The service's precondition, read from `If-Match` (none: `any`).
pub struct Precondition(pub crate::services::versioned::Precondition);

impl std::ops::Deref for Precondition {
    type Target = crate::services::versioned::Precondition;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Precondition {
    type Error = HttpError;
    type Future = Ready<Result<Self, HttpError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return ready(Ok(Precondition(
                crate::services::versioned::Precondition::any(),
            )));
        };
        ready(
            value
                .to_str()
                .map(|v| Precondition(crate::services::versioned::Precondition::from_if_match(v)))
                .map_err(|_| {
                    HttpError::from(ApiError::bad_request(
                        "invalid_header",
                        text!(
                            "If-Match is not valid text",
                            "If-Match không phải văn bản hợp lệ"
                        ),
                    ))
                }),
        )
    }
}
