//! HTTP plumbing shared by every route: body/path/query extractors that fail with
//! problem documents, the 404/405 fallback, and the per-request middleware.

pub mod etag;
pub mod format_paths;
pub mod json;
pub mod middleware;
pub mod query;
pub mod range;
pub mod routes_table;

pub use json::{BodyLimit, BodyTimeout, Json};
pub use query::Query;

use crate::error::{ApiError, HttpError, Lang};
use actix_web::web;

/// Path parameters that do not parse (e.g. `/units/abc`) are a 400 in plain words, never a
/// 500, HTML or a Rust type name.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let raw = match &err {
            actix_web::error::PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        HttpError::from(ApiError::bad_request(
            "invalid_path_parameter",
            json::plain_words(&raw).map(|words, lang| match lang {
                Lang::En => format!("invalid path parameter: {words}"),
                Lang::Vi => format!("tham số đường dẫn không hợp lệ: {words}"),
            }),
        ))
        .into()
    })
}
