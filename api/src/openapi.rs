//! The OpenAPI document: generated from the very services the app registers
//! (utoipa-actix-web), then completed with the problem responses every operation shares.
//! Used by the server (`/api-docs/openapi.json`), the `openapi` CLI command that writes
//! `openapi/openapi.json`, and the test that fails when the committed file drifts.

use crate::error::Problem;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{Modify, OpenApi as _};
use utoipa_actix_web::AppExt;

pub const BEARER_SCHEME: &str = "bearer_auth";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "parindex",
        description = "The yearly administrative-reform (PAR, \"chỉ số CCHC\") index of Vietnamese \
communes, end to end: criteria frameworks, self-assessments with evidence, council appraisals, \
bonus points, indices and district rankings, and remediation plans.\n\n\
Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`. \
Decimal scores are accepted as JSON numbers or strings and always returned as strings with \
two decimals (e.g. `\"87.25\"`).",
        license(name = "MIT", identifier = "MIT"),
    ),
    // Types that only appear in query parameters are not collected from bodies: list them.
    components(schemas(
        Problem,
        crate::error::FieldError,
        crate::routes::frameworks::FrameworkExportFormat,
        entity::status::FrameworkStatus,
        crate::routes::results::SheetFormat,
        crate::routes::results::DepthParam,
        crate::routes::remediation::ReportFormat,
        entity::status::RemediationItemStatus,
        entity::status::SelfAssessmentStatus,
        entity::status::AppraisalStatus,
        crate::auth::Role,
        crate::services::units::UnitKind,
        crate::validation::Year,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An HS256 JWT from `POST /api/v1/auth/login`, sent as `Authorization: Bearer <token>`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every (method, operation) of a path item.
pub fn operations(item: &PathItem) -> Vec<(&'static str, &Operation)> {
    [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("OPTIONS", &item.options),
        ("HEAD", &item.head),
        ("PATCH", &item.patch),
        ("TRACE", &item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
    .collect()
}

fn operations_mut(item: &mut PathItem) -> Vec<&mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(|op| op.as_mut())
    .collect()
}

/// The shared problem responses, as named components.
const SHARED_RESPONSES: &[(&str, &str)] = &[
    (
        "BadRequest",
        "The request is malformed: invalid JSON, path or query parameter.",
    ),
    (
        "Unauthorized",
        "No valid bearer token: missing, expired, tampered, or its user is deactivated.",
    ),
    (
        "Forbidden",
        "The token's role or unit does not allow this operation.",
    ),
    (
        "NotFound",
        "No such resource (or it is outside the caller's units).",
    ),
    (
        "PayloadTooLarge",
        "The body exceeds the configured limit (PARINDEX_MAX_BODY_BYTES, 2 MiB by default), or an uploaded spreadsheet inflates beyond its budget (code `upload_over_budget`, the limit named in `errors[0].code`).",
    ),
    (
        "RequestTimeout",
        "The body did not arrive in time (PARINDEX_BODY_TIMEOUT_MS, 60 s by default; code `body_timeout`).",
    ),
    (
        "ServiceUnavailable",
        "The server is busy reading other uploads; retry in a few seconds.",
    ),
    (
        "UnsupportedMediaType",
        "The body is not sent as application/json.",
    ),
    (
        "ValidationFailed",
        "The body is well-formed JSON but invalid; `errors` lists each field.",
    ),
    (
        "PreconditionFailed",
        "`If-Match` names an older version: the resource changed since it was read.",
    ),
    (
        "Conflict",
        "The request conflicts with the resource's current state or another record.",
    ),
];

/// Reusable responses for `#[utoipa::path(responses((status = 404, response = NotFound)))]`;
/// their definitions are the shared components above.
macro_rules! shared_response {
    ($($name:ident),*) => {$(
        pub struct $name;
        impl<'s> utoipa::ToResponse<'s> for $name {
            fn response() -> (&'s str, RefOr<Response>) {
                let description = SHARED_RESPONSES
                    .iter()
                    .find(|(n, _)| *n == stringify!($name))
                    .map(|(_, d)| *d)
                    .unwrap_or_default();
                (stringify!($name), RefOr::T(problem_response(description)))
            }
        }
    )*};
}
shared_response!(
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    Forbidden,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    BadRequest,
    ServiceUnavailable
);

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            crate::error::PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn add_response(op: &mut Operation, status: &str, component: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{component}"))));
}

/// Adds the responses every operation of a kind shares, so no handler can forget them:
/// 401/403 where a bearer token is required, 400/413/415/422 where a JSON body is read,
/// 408 where any body is read, 400 where path or query parameters are parsed.
fn add_shared_responses(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, description) in SHARED_RESPONSES {
        components
            .responses
            .insert((*name).to_string(), RefOr::T(problem_response(description)));
    }
    for item in openapi.paths.paths.values_mut() {
        for op in operations_mut(item) {
            let secured = op.security.as_ref().is_some_and(|reqs| !reqs.is_empty());
            if secured {
                add_response(op, "401", "Unauthorized");
                add_response(op, "403", "Forbidden");
            }
            let json_body = op.request_body.as_ref().is_some_and(|body| match body {
                RefOr::T(body) => body.content.keys().any(|ct| ct.contains("json")),
                RefOr::Ref(_) => true,
            });
            if json_body {
                add_response(op, "400", "BadRequest");
                add_response(op, "413", "PayloadTooLarge");
                add_response(op, "415", "UnsupportedMediaType");
                add_response(op, "422", "ValidationFailed");
            }
            if op.request_body.is_some() {
                add_response(op, "408", "RequestTimeout");
            }
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            if has_params {
                add_response(op, "400", "BadRequest");
            }
        }
    }
}

/// The complete OpenAPI 3.1 document of the service.
pub fn spec() -> OpenApi {
    let (_, mut openapi) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    add_shared_responses(&mut openapi);
    openapi
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn committed_spec_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        let generated = spec_json();
        assert!(
            committed == generated,
            "openapi/openapi.json is out of date: run `cargo run -p parindex-api -- openapi --output openapi/openapi.json` and commit it"
        );
    }

    #[test]
    fn spec_is_openapi_3_1_with_bearer_scheme() {
        let json: serde_json::Value = serde_json::from_str(&spec_json()).unwrap_or_default();
        assert_eq!(json["openapi"], "3.1.0");
        assert_eq!(
            json["components"]["securitySchemes"][BEARER_SCHEME]["scheme"],
            "bearer"
        );
        assert!(json["info"]["license"]["name"].is_string());
    }

    #[test]
    fn every_operation_is_named_uniquely_and_answers_are_described() {
        let spec = spec();
        let mut ids = HashSet::new();
        for (path, item) in &spec.paths.paths {
            for (method, op) in operations(item) {
                let id = op
                    .operation_id
                    .clone()
                    .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                assert!(ids.insert(id.clone()), "duplicate operationId {id}");
                assert!(
                    !op.responses.responses.is_empty(),
                    "{method} {path} documents no response"
                );
                for (status, response) in &op.responses.responses {
                    if let RefOr::T(r) = response {
                        assert!(
                            !r.description.is_empty(),
                            "{method} {path} {status} has no description"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        let json: serde_json::Value = serde_json::from_str(&spec_json()).unwrap_or_default();
        let mut refs = Vec::new();
        fn walk(v: &serde_json::Value, refs: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        match (k.as_str(), v) {
                            ("$ref", serde_json::Value::String(r)) => refs.push(r.clone()),
                            _ => walk(v, refs),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
                _ => {}
            }
        }
        walk(&json, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r.trim_start_matches('#');
            assert!(
                json.pointer(pointer).is_some(),
                "unresolvable reference {r}"
            );
        }
    }

    #[test]
    fn secured_operations_document_401_and_403() {
        let spec = spec();
        for (path, item) in &spec.paths.paths {
            for (method, op) in operations(item) {
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    for status in ["401", "403"] {
                        assert!(
                            op.responses.responses.contains_key(status),
                            "{method} {path} lacks {status}"
                        );
                    }
                }
            }
        }
    }
}
