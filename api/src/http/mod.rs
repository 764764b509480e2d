//! HTTP plumbing shared by every route: body/path/query extractors that fail with
//! problem documents, the 404/405 fallback, and the per-request middleware.

pub mod etag;
pub mod json;
pub mod middleware;
pub mod routes_table;

pub use json::{BodyLimit, BodyTimeout, Json};

use crate::error::ApiError;
use actix_web::web;

/// Path parameters that do not parse (e.g. `/units/abc`) are a 400, never a 500 or HTML.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        ApiError::bad_request(
            "invalid_path_parameter",
            format!("invalid path parameter: {err}"),
        )
        .into()
    })
}

/// Query strings that do not parse are a 400 naming the parameter.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::bad_request("invalid_query", format!("invalid query string: {err}")).into()
    })
}
