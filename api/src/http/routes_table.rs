//! The fallback for requests no route matched: 405 with `Allow` when the path exists with
//! other methods, else 404 — both as problem documents.
//!
//! The table of known paths is derived from the OpenAPI spec, which utoipa-actix-web builds
//! from the very services the app registers, so the two cannot disagree.

use crate::error::{ApiError, HttpError, text};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<&'static str>)>,
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal(s.to_string())
            }
        })
        .collect()
}

impl RouteTable {
    pub fn from_openapi(spec: &OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = crate::openapi::operations(item)
                    .into_iter()
                    .map(|(method, _)| method)
                    .collect();
                (segments(path), methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods routed for `path`, or `None` when no route has that shape.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<&'static str>> {
        let wanted: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        let mut found = false;
        for (pattern, methods) in &self.routes {
            if pattern.len() == wanted.len()
                && pattern.iter().zip(&wanted).all(|(p, w)| match p {
                    Segment::Literal(l) => l == w,
                    Segment::Param => !w.is_empty(),
                })
            {
                found = true;
                for m in methods {
                    if !allowed.contains(m) {
                        allowed.push(m);
                    }
                }
            }
        }
        found.then_some(allowed)
    }
}

/// Default service of the app.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, HttpError> {
    Err(HttpError(match table.allowed_methods(req.path()) {
        Some(methods) if !methods.is_empty() => {
            ApiError::method_not_allowed(req.method().as_str(), req.path(), methods.join(", "))
        }
        _ => {
            let path = req.path();
            ApiError::not_found(text!(
                "no resource at {path}",
                "không có tài nguyên tại {path}"
            ))
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_templates_and_collects_methods() {
        let table = RouteTable {
            routes: vec![
                (segments("/api/v1/units"), vec!["GET", "POST"]),
                (segments("/api/v1/units/{id}"), vec!["GET"]),
                (segments("/api/v1/units/{id}"), vec!["PATCH"]),
            ],
        };
        assert_eq!(
            table.allowed_methods("/api/v1/units/7"),
            Some(vec!["GET", "PATCH"])
        );
        assert_eq!(
            table.allowed_methods("/api/v1/units"),
            Some(vec!["GET", "POST"])
        );
        assert_eq!(table.allowed_methods("/api/v1/units/7/x"), None);
        assert_eq!(table.allowed_methods("/api/v1/units/"), None);
    }
}
