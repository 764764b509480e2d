//! `If-Match` → `Precondition`: the one place HTTP meets the write path's optimistic
//! concurrency (`services::versioned`). Routes take a `Precondition` argument; services
//! never see a request.

use crate::error::{ApiError, text};
use crate::services::versioned::Precondition;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

pub use crate::services::versioned::{etag, stale};

impl FromRequest for Precondition {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return ready(Ok(Precondition::any()));
        };
        ready(
            value
                .to_str()
                .map(Precondition::from_if_match)
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_header",
                        text!(
                            "If-Match is not valid text",
                            "If-Match không phải văn bản hợp lệ"
                        ),
                    )
                }),
        )
    }
}
