//! Optimistic concurrency: every mutable resource has a version; its `ETag` names it, and
//! a write with a stale `If-Match` gets 412 instead of silently overwriting someone's work.
//!
//! Services check `IfMatch` against the version they read inside their transaction, then
//! update with `WHERE version = <read version>`, so a race between the check and the write
//! is also a 412, never a lost update.

use crate::error::{ApiError, ApiResult};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

/// The strong entity tag of a resource version, e.g. `"unit-12-v3"`.
pub fn etag(kind: &str, id: i64, version: i32) -> String {
    format!("\"{kind}-{id}-v{version}\"")
}

/// The request's `If-Match` tags, if it sent any.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    pub fn any() -> Self {
        IfMatch(None)
    }

    pub fn tags(tags: &[&str]) -> Self {
        IfMatch(Some(tags.iter().map(|t| t.to_string()).collect()))
    }

    /// Passes without `If-Match`, with `*`, or when a tag names the current version.
    pub fn check(&self, kind: &str, id: i64, version: i32) -> ApiResult<()> {
        let Some(tags) = &self.0 else {
            return Ok(());
        };
        let current = etag(kind, id, version);
        let matches = tags
            .iter()
            .any(|t| t == "*" || *t == current || t.strip_prefix("W/") == Some(current.as_str()));
        if matches {
            Ok(())
        } else {
            Err(stale(&current))
        }
    }
}

/// The 412 of a write that lost a race or carried a stale `If-Match`.
pub fn stale(current: &str) -> ApiError {
    ApiError::precondition_failed(format!(
        "the resource has changed since it was read (current ETag {current}); read it again and retry"
    ))
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return ready(Ok(IfMatch(None)));
        };
        ready(
            value
                .to_str()
                .map(|v| {
                    IfMatch(Some(
                        v.split(',')
                            .map(|t| t.trim().to_string())
                            .filter(|t| !t.is_empty())
                            .collect(),
                    ))
                })
                .map_err(|_| ApiError::bad_request("invalid_header", "If-Match is not valid text")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_tags() {
        assert_eq!(etag("unit", 12, 3), "\"unit-12-v3\"");
        assert!(IfMatch::any().check("unit", 12, 3).is_ok());
        assert!(
            IfMatch::tags(&["\"unit-12-v3\""])
                .check("unit", 12, 3)
                .is_ok()
        );
        assert!(
            IfMatch::tags(&["W/\"unit-12-v3\""])
                .check("unit", 12, 3)
                .is_ok()
        );
        assert!(IfMatch::tags(&["*"]).check("unit", 12, 3).is_ok());
        let e = IfMatch::tags(&["\"unit-12-v2\""])
            .check("unit", 12, 3)
            .unwrap_err();
        assert_eq!(e.status().as_u16(), 412);
        assert!(
            IfMatch::tags(&["\"unit-13-v3\""])
                .check("unit", 12, 3)
                .is_err()
        );
    }
}
