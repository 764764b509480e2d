//! The OpenAPI document: generated from the very services the app registers
//! (utoipa-actix-web), then completed with the problem responses every operation shares.
//! Used by the server (`/api-docs/openapi.json`), the `openapi` CLI command that writes
//! `openapi/openapi.json`, and the test that fails when the committed file drifts.

use crate::error::Problem;
use serde_json::{Value, json};
use std::collections::BTreeSet;
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
Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`; their \
`title`, `detail` and field messages are in Vietnamese when `Accept-Language` prefers `vi`, in \
English otherwise (`Content-Language` says which). \
Decimal scores are accepted as JSON numbers or strings and always returned as strings with \
two decimals (e.g. `\"87.25\"`). Writes of versioned records take `If-Match` with the ETag \
read (412 when it changed since).",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "parindex maintainers (see README.md)"),
    ),
    servers(
        (url = "/", description = "The server that serves this document (e.g. `cargo run --release` on http://localhost:8080)"),
    ),
    // Types that only appear in query parameters are not collected from bodies: list them.
    components(schemas(
        Problem,
        crate::error::FieldError,
        crate::routes::frameworks::FrameworkExportFormat,
        entity::status::FrameworkStatus,
        crate::routes::results::SheetFormat,
        crate::routes::results::AppendixFormat,
        crate::routes::documents::PaperFormat,
        crate::routes::documents::SignerPosition,
        crate::routes::results::DepthParam,
        crate::routes::remediation::ReportFormat,
        entity::status::RemediationItemStatus,
        entity::status::SelfAssessmentStatus,
        entity::status::AppraisalStatus,
        crate::auth::Role,
        crate::services::units::UnitKind,
        crate::validation::Year,
        crate::services::webhooks::payloads::FileEventData,
        crate::services::webhooks::payloads::AppraisalEventData,
        crate::services::webhooks::payloads::AgencyReviewEventData,
        crate::services::webhooks::payloads::PublicationEventData,
        crate::services::webhooks::payloads::MilestoneEventData,
        crate::services::webhooks::payloads::DeadlineEventData,
        crate::services::webhooks::payloads::PreliminaryEventData,
        crate::services::webhooks::payloads::AssignmentEventData,
        crate::services::webhooks::payloads::TestEventData,
        crate::services::webhooks::payloads::AppealEventData,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Log in (a bearer token for every other call), who am I, change my password."),
        (name = "users", description = "Accounts and their roles (admins)."),
        (name = "units", description = "The unit tree (province → district → commune, ward, town, special zone; since 2025 communes sit under their province), each unit's officers, and merges of units."),
        (name = "frameworks", description = "The year's criteria framework: codes, maxima, scoring methods, rating bands; import and export as JSON, CSV or XLSX; publish, copy."),
        (name = "self-assessments", description = "A unit's self-assessment: raw figures, explanations and evidence per criterion; submit and withdraw."),
        (name = "appraisals", description = "The council's appraisal of a submitted file: its own inputs and comments, returns for supplementation, bonus points, finalize, reopen."),
        (name = "results", description = "Indices, ranks and their change, rankings, criteria losing most points, comparisons, publications, XLSX/CSV exports, the printed papers (DOCX/PDF) and the SVG chart."),
        (name = "calendar", description = "The year as a campaign: the dated events that concern the caller (deadlines with extensions, appraisal and council dates, results, remediation milestones) as JSON and iCalendar, and personal feed URLs for calendar programs."),
        (name = "api-keys", description = "Keys for systems (a commune's software) instead of a person's password: each acts as the account that made it, never more (`read`: GET and HEAD only; `write`), shown once, stored hashed, revoked at once; deactivating the account revokes them."),
        (name = "notifications", description = "What concerns the caller (a file returned, a deadline 7 days and 1 day ahead, results published, an appeal answered, a milestone due or overdue) in the app and by e-mail (`PARINDEX_SMTP_URL`): the list with its unread count, marking read, preferences per kind (in the app; e-mail off, immediate or a daily digest), the unsubscribe link."),
        (name = "remediation", description = "The plan a unit makes from its lost points: items with officers and deadlines, recurring duties, tasks with targets, progress, overdue, the year-end report."),
        (name = "evidence-files", description = "The documents behind the scores (tài liệu kiểm chứng): upload, read, download (with Range), delete while unused; a self-assessment's files as one zip."),
        (name = "webhooks", description = "Signed deliveries (Standard Webhooks) of what happened: submissions, returns, finalizations, publications, milestones due soon and overdue; subscriptions, secrets, deliveries and their attempts."),
        (name = "webhook-events", description = "The deliveries the service posts to each subscription (OpenAPI `webhooks`), one per event type: the body, its `data` and the signature headers."),
        (name = "audit", description = "Every change, who made it and when, within the caller's units."),
        (name = "health", description = "Liveness and readiness probes."),
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
        "The database cannot serve the request now: unreachable, stalled by another transaction, or its disk is full (nothing was changed; `Retry-After` says when to retry), or the server is busy reading other uploads.",
    ),
    (
        "InsufficientStorage",
        "No room for the file: the evidence store's disk is full (code `insufficient_storage`), or the unit has used its quota for the year (code `quota_exceeded`, naming the quota and the use: PARINDEX_EVIDENCE_QUOTA_BYTES, PARINDEX_EVIDENCE_QUOTA_FILES). Nothing was kept.",
    ),
    (
        "UriTooLong",
        "The request line (path and query) is longer than the server reads (32 KiB): send long texts in a body, or fewer of them (code `uri_too_long`).",
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
    (
        "FileTooLarge",
        "The uploaded file is larger than PARINDEX_EVIDENCE_MAX_BYTES (20 MiB by default; code `payload_too_large`).",
    ),
    (
        "UnsupportedFileType",
        "The file's content (its first bytes, never its name or declared type) is none of the accepted kinds (PARINDEX_EVIDENCE_TYPES: PDF, DOCX, XLSX, DOC, XLS, ODT, ODS, JPEG, PNG by default; code `unsupported_media_type`).",
    ),
    (
        "PdfFailed",
        "LibreOffice could not print the paper (it failed, timed out or wrote nothing; code `internal_error`): the server's log says why, under the request's `X-Request-Id`. The DOCX path serves the same paper.",
    ),
    (
        "PdfUnavailable",
        "`format=pdf` needs LibreOffice and the server is not configured with it (`PARINDEX_SOFFICE`; code `pdf_unavailable`): ask for `format=docx`.",
    ),
    (
        "RangeNotSatisfiable",
        "The `Range` starts at or past the end of the file; `Content-Range: bytes */<size>` gives its size.",
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
    ServiceUnavailable,
    InsufficientStorage,
    UriTooLong,
    FileTooLarge,
    UnsupportedFileType,
    RangeNotSatisfiable,
    PdfUnavailable
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
    for (path, item) in openapi.paths.paths.iter_mut() {
        // Liveness reads nothing; everything else may meet a database that cannot serve.
        let reads_database = path != "/health/live";
        for op in operations_mut(item) {
            add_response(op, "414", "UriTooLong");
            if reads_database {
                add_response(op, "503", "ServiceUnavailable");
            }
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

/// Operations anyone may call (login, probes) say so: `security: []`.
fn mark_public_operations(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for op in operations_mut(item) {
            if op.security.is_none() {
                op.security = Some(Vec::new());
            }
        }
    }
}

/// The schemas `root` reaches through `$ref`s, by name.
fn reachable(doc: &Value, roots: Vec<&Value>) -> BTreeSet<String> {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&Value> = roots;
    while let Some(v) = todo.pop() {
        let mut found = Vec::new();
        refs(v, &mut found);
        for r in found {
            if let Some(name) = r.strip_prefix("#/components/schemas/")
                && seen.insert(name.to_string())
                && let Some(schema) = doc.pointer(&format!("/components/schemas/{name}"))
            {
                todo.push(schema);
            }
        }
    }
    seen
}

/// The request bodies, parameters and responses of every operation (responses include
/// the shared problem responses they refer to).
fn operation_parts(doc: &Value) -> (Vec<&Value>, Vec<&Value>) {
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    // The service's own operations, and the deliveries it sends (`webhooks`).
    for item in ["paths", "webhooks"]
        .into_iter()
        .flat_map(|section| doc[section].as_object())
        .flat_map(|m| m.values())
    {
        for op in item.as_object().into_iter().flat_map(|m| m.values()) {
            requests.extend(op.get("requestBody"));
            requests.extend(op.get("parameters"));
            responses.extend(op.get("responses"));
        }
    }
    responses.extend(doc.pointer("/components/responses"));
    (requests, responses)
}

/// Response types whose empty fields are left out (`skip_serializing_if`), not sent as null.
const LEAVES_OUT_ABSENT: &[&str] = &["Inputs", "Problem"];

fn is_nullable(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        _ => schema
            .get("oneOf")
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().any(|a| a.get("type") == Some(&json!("null")))),
    }
}

/// A property the server always sends, as `null` when it has no value, is required in a
/// schema only responses use: generated clients then type it `T | null`, not
/// `T | null | undefined`. Schemas requests use too keep such properties optional (a
/// client may leave them out). Responses are checked against this by schemathesis in CI.
/// Types in `LEAVES_OUT_ABSENT` serialise without their empty fields (`Inputs` is also
/// stored as JSON that way; a `Problem` names `errors_total` only when it cut `errors`):
/// theirs stay optional.
fn require_what_responses_always_send(doc: &mut Value) {
    let (requests, responses) = operation_parts(doc);
    let read_by_clients = reachable(doc, responses);
    let sent_by_clients = reachable(doc, requests);
    for name in read_by_clients.difference(&sent_by_clients) {
        if LEAVES_OUT_ABSENT.contains(&name.as_str()) {
            continue;
        }
        let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{name}")) else {
            continue;
        };
        require_nullable_properties(schema);
        // A flattened struct is an `allOf` of its parts: the inline ones are its own.
        if let Some(Value::Array(parts)) = schema.get_mut("allOf") {
            parts.iter_mut().for_each(require_nullable_properties);
        }
    }
}

fn require_nullable_properties(schema: &mut Value) {
    let nullable: Vec<String> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, p)| is_nullable(p))
        .map(|(k, _)| k.clone())
        .collect();
    if nullable.is_empty() {
        return;
    }
    let required = schema
        .as_object_mut()
        .map(|o| o.entry("required").or_insert_with(|| json!([])));
    if let Some(Value::Array(required)) = required {
        for key in nullable {
            if !required.contains(&json!(key)) {
                required.push(json!(key));
            }
        }
    }
}

/// An example problem for each shared problem response, by component name: status, code,
/// detail. Swagger UI shows a response's own example; without these every error status
/// showed the schema's single 422.
const PROBLEM_EXAMPLES: &[(&str, u16, &str, &str)] = &[
    (
        "BadRequest",
        400,
        "invalid_query",
        "query parameter `year`: invalid digit found in string",
    ),
    (
        "Unauthorized",
        401,
        "unauthorized",
        "a bearer token is required",
    ),
    (
        "Forbidden",
        403,
        "forbidden",
        "this operation needs the role appraiser",
    ),
    ("NotFound", 404, "not_found", "no such unit"),
    (
        "PdfUnavailable",
        406,
        "pdf_unavailable",
        "PDF needs LibreOffice, which this server is not configured with: ask for format=docx",
    ),
    (
        "RequestTimeout",
        408,
        "body_timeout",
        "the body did not arrive within 60 s",
    ),
    (
        "Conflict",
        409,
        "already_exists",
        "a framework for 2024 already exists",
    ),
    (
        "PreconditionFailed",
        412,
        "precondition_failed",
        "the resource changed since it was read (If-Match names version 3, it is at 4)",
    ),
    (
        "PayloadTooLarge",
        413,
        "payload_too_large",
        "the body is larger than 2097152 bytes",
    ),
    (
        "FileTooLarge",
        413,
        "payload_too_large",
        "the file is larger than 20971520 bytes",
    ),
    (
        "UriTooLong",
        414,
        "uri_too_long",
        "the request line is longer than 32768 bytes",
    ),
    (
        "UnsupportedMediaType",
        415,
        "unsupported_media_type",
        "send the body as application/json",
    ),
    (
        "UnsupportedFileType",
        415,
        "unsupported_media_type",
        "the file is none of the accepted kinds (PDF, DOCX, XLSX, DOC, XLS, ODT, ODS, JPEG, PNG)",
    ),
    (
        "RangeNotSatisfiable",
        416,
        "range_not_satisfiable",
        "the range starts past the end of the file (48213 bytes)",
    ),
    (
        "ValidationFailed",
        422,
        "validation_failed",
        "1 field is invalid",
    ),
    (
        "ServiceUnavailable",
        503,
        "service_unavailable",
        "the database cannot be reached; nothing was changed, retry later",
    ),
    (
        "InsufficientStorage",
        507,
        "quota_exceeded",
        "the unit has used its evidence quota for 2024 (1073741824 bytes)",
    ),
    (
        "PdfFailed",
        500,
        "internal_error",
        "an internal error occurred; it has been logged",
    ),
];

/// Inline problem responses (a handler's own 409, 429…) by status and a word of their
/// description: code and detail.
const INLINE_PROBLEM_EXAMPLES: &[(u16, &str, &str, &str)] = &[
    (401, "", "unauthorized", "wrong username or password"),
    (409, "username", "username_taken", "the username is taken"),
    (
        409,
        "last active admin",
        "last_admin",
        "it is the last active admin",
    ),
    (
        413,
        "zip",
        "zip_too_large",
        "the files add up to more than one zip may hold",
    ),
    (
        429,
        "",
        "too_many_requests",
        "too many failed attempts: retry after Retry-After seconds",
    ),
    (
        503,
        "",
        "service_unavailable",
        "the database cannot be reached",
    ),
];

fn problem_example(status: u16, code: &str, detail: &str) -> Value {
    let status_code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let title = parindex_service::error::title_of(status_code, crate::error::Lang::En);
    let mut example = json!({
        "type": format!("urn:parindex:problem:{code}"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    });
    if code == "validation_failed" {
        example["errors"] = json!([{"field": "max_score", "code": "too_many_decimals",
                                    "message": "at most 2 decimal places"}]);
    }
    example
}

/// Gives every problem response its own example (see `PROBLEM_EXAMPLES`).
fn problem_examples(doc: &mut Value) {
    let problem = crate::error::PROBLEM_CONTENT_TYPE;
    if let Some(Value::Object(responses)) = doc.pointer_mut("/components/responses") {
        for (name, response) in responses.iter_mut() {
            let Some(media) = response.pointer_mut(&format!("/content/{}", escape(problem))) else {
                continue;
            };
            if let Some((_, status, code, detail)) =
                PROBLEM_EXAMPLES.iter().find(|(n, ..)| n == name)
            {
                media["example"] = problem_example(*status, code, detail);
            }
        }
    }
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut() {
            let Some(Value::Object(responses)) = op.get_mut("responses") else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                if response
                    .pointer(&format!("/content/{}", escape(problem)))
                    .is_none()
                {
                    continue;
                }
                let status: u16 = status.parse().unwrap_or(500);
                let description = response["description"].as_str().unwrap_or_default();
                let example = INLINE_PROBLEM_EXAMPLES
                    .iter()
                    .find(|(s, word, ..)| *s == status && description.contains(word));
                if let Some((_, _, code, detail)) = example {
                    response["content"][problem]["example"] = problem_example(status, code, detail);
                }
            }
        }
    }
}

/// The headers every operation reads and every response carries, declared once as
/// components: `Accept-Language` chooses the language of problems (`Content-Language`
/// says which it got); `X-Request-Id` is the client's (when short and plain) or a new one,
/// sent back on every response and written to the server's log.
fn language_and_request_id_headers(doc: &mut Value) {
    doc["components"]["parameters"] = json!({
        "AcceptLanguage": {
            "name": "Accept-Language", "in": "header", "required": false,
            "description": "The language of problem titles, details and field messages: Vietnamese when `vi` is preferred, English otherwise.",
            "schema": {"type": "string"}, "example": "vi-VN,vi;q=0.9,en;q=0.5"
        },
        "RequestId": {
            "name": "X-Request-Id", "in": "header", "required": false,
            "description": "The caller's id for this request (at most 64 letters, digits, `-_.:`), echoed in the response and the server's log; another is made when absent or unfit.",
            "schema": {"type": "string", "maxLength": 64, "pattern": "^[A-Za-z0-9._:-]+$"}
        }
    });
    doc["components"]["headers"] = json!({
        "RequestId": {
            "description": "The request's id (the caller's `X-Request-Id` or a new one), as logged by the server.",
            "schema": {"type": "string"}
        },
        "ContentLanguage": {
            "description": "The language of the problem's texts: `vi` or `en`.",
            "schema": {"type": "string", "enum": ["vi", "en"]}
        }
    });
    let problem = escape(crate::error::PROBLEM_CONTENT_TYPE);
    let add_headers = |response: &mut Value| {
        let is_problem = response.pointer(&format!("/content/{problem}")).is_some();
        let headers = response
            .as_object_mut()
            .map(|r| r.entry("headers").or_insert_with(|| json!({})));
        if let Some(Value::Object(headers)) = headers {
            headers.insert(
                "X-Request-Id".into(),
                json!({"$ref": "#/components/headers/RequestId"}),
            );
            if is_problem {
                headers.insert(
                    "Content-Language".into(),
                    json!({"$ref": "#/components/headers/ContentLanguage"}),
                );
            }
        }
    };
    if let Some(Value::Object(responses)) = doc.pointer_mut("/components/responses") {
        responses.values_mut().for_each(add_headers);
    }
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let params = op
            .as_object_mut()
            .map(|o| o.entry("parameters").or_insert_with(|| json!([])));
        if let Some(Value::Array(params)) = params {
            params.push(json!({"$ref": "#/components/parameters/AcceptLanguage"}));
            params.push(json!({"$ref": "#/components/parameters/RequestId"}));
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            responses
                .values_mut()
                .filter(|r| r.get("$ref").is_none())
                .for_each(add_headers);
        }
    }
}

/// One media type per operation (see `crate::http::format_paths`): each operation of
/// `FORMAT_PATHS` is copied to `{path}.{ext}` with that format's media type alone, and the
/// path without a suffix keeps its default type. `format` leaves the document (the
/// suffix says it); the server still reads it on the old paths.
fn one_media_type_per_operation(doc: &mut Value) {
    use crate::http::format_paths::{FORMAT_PATHS, PDF, Told};
    // The schemas of the `format` parameters left out: dropped when nothing else names them.
    let mut format_schemas = BTreeSet::new();
    for fp in FORMAT_PATHS {
        let pointer = format!("/paths/{}/{}", escape(fp.path), fp.method);
        let Some(op) = doc.pointer(&pointer).cloned() else {
            panic!(
                "FORMAT_PATHS names {} {}, which the document lacks",
                fp.method, fp.path
            );
        };
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        let summary = op["summary"].as_str().unwrap_or_default().to_owned();
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["name"] == "format"
                && let Some(r) = param["schema"]["$ref"].as_str()
            {
                format_schemas.insert(r.to_owned());
            }
        }
        let restrict = |media: &str| {
            let mut op = op.clone();
            match fp.told {
                Told::ByFormatQuery => {
                    if let Some(Value::Array(params)) = op.get_mut("parameters") {
                        params.retain(|p| p["name"] != "format");
                    }
                    if let Some(Value::Object(content)) = op.pointer_mut("/responses/200/content") {
                        content.retain(|m, _| m == media);
                    }
                }
                Told::ByContentType => {
                    if let Some(Value::Object(content)) = op.pointer_mut("/requestBody/content") {
                        content.retain(|m, _| m == media);
                    }
                }
            }
            if let Some(Value::Object(responses)) = op.get_mut("responses") {
                if media == PDF {
                    // Printing is the one step a correct request can see fail.
                    responses.insert(
                        "500".into(),
                        json!({"$ref": "#/components/responses/PdfFailed"}),
                    );
                } else {
                    responses.remove("406");
                }
            }
            op
        };
        let others: Vec<String> = fp
            .formats
            .iter()
            .map(|(ext, _)| format!("`{}.{ext}`", fp.path))
            .collect();
        for (i, (ext, media)) in fp.formats.iter().enumerate() {
            let mut variant = restrict(media);
            if i == 0 {
                let mut original = variant.clone();
                let told = match fp.told {
                    Told::ByFormatQuery => "its `format` parameter still works here",
                    Told::ByContentType => "other body types are still read here",
                };
                let description = original["description"].as_str().unwrap_or_default();
                original["description"] = json!(format!(
                    "{description}\n\nOne media type per path: {} ({told}, for older clients).",
                    others.join(", ")
                ));
                if let Some(o) = doc.pointer_mut(&pointer) {
                    *o = original;
                }
            }
            variant["operationId"] = json!(format!("{id}_{ext}"));
            variant["summary"] = json!(format!("{summary} ({})", ext.to_uppercase()));
            doc["paths"][format!("{}.{ext}", fp.path)][fp.method] = variant;
        }
    }
    for reference in format_schemas {
        let named = format!("\"{reference}\"");
        if !doc.to_string().contains(&named)
            && let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas")
        {
            schemas.remove(reference.trim_start_matches("#/components/schemas/"));
        }
    }
}

/// A JSON pointer token: `/` and `~` escaped.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// utoipa inlines the item type of a generic `Page<T>` (juhaku/utoipa#1586): point
/// `Page_X.items` at `X` instead, so that generated clients have one `X`, not a copy.
fn page_items_by_reference(doc: &mut Value) {
    let names: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for name in names {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if !names_contain(doc, item) {
            continue;
        }
        if let Some(items) = doc.pointer_mut(&format!(
            "/components/schemas/{name}/properties/items/items"
        )) {
            *items = json!({"$ref": format!("#/components/schemas/{item}")});
        }
    }
}

fn names_contain(doc: &Value, name: &str) -> bool {
    doc.pointer(&format!("/components/schemas/{name}"))
        .is_some()
}

/// An absent header is not a null one: `If-Match` is an optional string.
fn header_parameters_are_strings(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            for param in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if param["in"] == "header" && param["schema"]["type"] == json!(["string", "null"]) {
                    param["schema"]["type"] = json!("string");
                }
            }
        }
    }
}

/// The document as utoipa generates it from the code, with the shared responses and the
/// public operations marked, then completed at the JSON level where utoipa's types cannot
/// say it (see each step).
fn document() -> Result<Value, serde_json::Error> {
    let (_, mut openapi) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    add_shared_responses(&mut openapi);
    mark_public_operations(&mut openapi);
    let mut doc = serde_json::to_value(&openapi)?;
    one_media_type_per_operation(&mut doc);
    page_items_by_reference(&mut doc);
    require_what_responses_always_send(&mut doc);
    header_parameters_are_strings(&mut doc);
    problem_examples(&mut doc);
    language_and_request_id_headers(&mut doc);
    describe_webhooks(&mut doc);
    Ok(doc)
}

/// The deliveries the service sends, as OpenAPI 3.1 `webhooks`: one per event type, its
/// body `{type, timestamp, data}` with the `data` schema the emitter serializes, and the
/// Standard Webhooks headers.
fn describe_webhooks(doc: &mut Value) {
    let header = |name: &str, description: &str| {
        serde_json::json!({
            "name": name, "in": "header", "required": true,
            "description": description, "schema": {"type": "string"}
        })
    };
    let mut hooks = serde_json::Map::new();
    for (kind, data, meaning) in crate::services::webhooks::payloads::EVENTS {
        let id = format!("webhook_{}", kind.replace('.', "_"));
        hooks.insert(
            kind.to_string(),
            serde_json::json!({"post": {
                "operationId": id,
                // Not `webhooks`: generators that make one class per tag (openapi-generator)
                // would write `WebhooksApi` twice, the events' over the subscriptions'.
                "tags": ["webhook-events"],
                "summary": format!("Event `{kind}`"),
                "description": format!(
                    "{meaning}\n\nPosted to each matching subscription's URL. Verify \
                     `webhook-signature` (Standard Webhooks: `v1,` + base64 HMAC-SHA256 of \
                     `webhook-id.webhook-timestamp.body` keyed with the secret's decoded \
                     bytes) before trusting it, and drop a `webhook-id` already seen: \
                     delivery is at least once."
                ),
                "security": [],
                "parameters": [
                    header("webhook-id", "The event's id (`msg_…`), the same on every retry."),
                    header("webhook-timestamp", "Unix seconds when this attempt was signed."),
                    header("webhook-signature", "`v1,<base64>` signatures, space-separated (two for a day after a rotation)."),
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["type", "timestamp", "data"],
                    "properties": {
                        "type": {"type": "string", "enum": [kind]},
                        "timestamp": {"type": "string", "format": "date-time",
                                      "description": "When the event was recorded (in the change's transaction)."},
                        "data": {"$ref": format!("#/components/schemas/{data}")}
                    }
                }}}},
                "responses": {
                    "2XX": {"description": "Received: the delivery is done."},
                    "4XX": {"description": "Refused: retried with backoff, then marked failed."},
                    "5XX": {"description": "Receiver error (or no answer within PARINDEX_WEBHOOK_TIMEOUT_MS): retried with backoff, then marked failed."}
                }
            }}),
        );
    }
    doc["webhooks"] = Value::Object(hooks);
}

/// The complete OpenAPI 3.1 document of the service. An error is a bug in the code that
/// builds it (a test reads it on every run), and the server refuses to start with it.
pub fn spec() -> Result<OpenApi, serde_json::Error> {
    serde_json::from_value(document()?)
}

/// The security scheme of the province's identity provider, in the served document only.
pub const OIDC_SCHEME: &str = "oidc";

/// The document this deployment serves: the committed one, and with an identity provider
/// configured (`PARINDEX_OIDC_*`) its OpenID Connect scheme, accepted wherever a bearer
/// token is, so that Swagger UI offers the provider's login and sends its token.
pub fn served(oidc: Option<&crate::config::OidcSettings>) -> Result<OpenApi, serde_json::Error> {
    let mut doc = document()?;
    if let Some(oidc) = oidc {
        doc["components"]["securitySchemes"][OIDC_SCHEME] = json!({
            "type": "openIdConnect",
            "openIdConnectUrl": format!("{}/.well-known/openid-configuration", oidc.issuer),
            "description": "The province's identity provider (authorization code with PKCE): \
                its access token is sent as `Authorization: Bearer <token>` and maps to the \
                account its username claim names.",
        });
        let bearer = json!({ (BEARER_SCHEME): [] });
        if let Some(paths) = doc["paths"].as_object_mut() {
            for item in paths.values_mut().filter_map(Value::as_object_mut) {
                for operation in item.values_mut() {
                    if let Some(security) = operation
                        .get_mut("security")
                        .and_then(Value::as_array_mut)
                        .filter(|s| s.contains(&bearer))
                    {
                        security.push(json!({ (OIDC_SCHEME): [] }));
                    }
                }
            }
        }
    }
    serde_json::from_value(doc)
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn spec_json() -> Result<String, serde_json::Error> {
    let mut json = serde_json::to_string_pretty(&spec()?)?;
    json.push('\n');
    Ok(json)
}

#[cfg(test)]
mod tests {
    /// The types of `LEAVES_OUT_ABSENT` (checked against responses by schemathesis in CI
    /// and by the suite's contract check): their sparsest value, as sent, carries every
    /// property the document requires.
    #[test]
    fn what_is_left_out_when_empty_is_not_required() {
        let doc = super::document().expect("document");
        let plain = crate::error::ApiError::unauthorized(crate::error::text!(
            "a bearer token is required",
            "cần bearer token"
        ));
        let sparsest = [
            (
                "Inputs",
                serde_json::to_value(crate::scoring::Inputs::default()),
            ),
            ("Problem", serde_json::to_value(plain.to_problem())),
        ];
        assert_eq!(sparsest.len(), super::LEAVES_OUT_ABSENT.len());
        for (name, value) in sparsest {
            let value = value.expect("json");
            let required = doc
                .pointer(&format!("/components/schemas/{name}/required"))
                .and_then(serde_json::Value::as_array)
                .cloned()
                .unwrap_or_default();
            for key in required {
                let key = key.as_str().unwrap_or_default();
                assert!(
                    value.get(key).is_some(),
                    "{name}.{key} is required in the document but left out: {value}"
                );
            }
        }
    }

    use super::*;
    use std::collections::HashSet;

    #[test]
    fn committed_spec_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        let generated = spec_json().expect("the document builds");
        assert!(
            committed == generated,
            "openapi/openapi.json is out of date: run `cargo run -p parindex-api -- openapi --output openapi/openapi.json` and commit it"
        );
    }

    #[test]
    fn spec_is_openapi_3_1_with_bearer_scheme() {
        let json: serde_json::Value =
            serde_json::from_str(&spec_json().expect("the document builds")).unwrap_or_default();
        assert_eq!(json["openapi"], "3.1.0");
        assert_eq!(
            json["components"]["securitySchemes"][BEARER_SCHEME]["scheme"],
            "bearer"
        );
        assert!(json["info"]["license"]["name"].is_string());
    }

    #[test]
    fn every_operation_is_named_uniquely_and_answers_are_described() {
        let spec = spec().expect("the document builds");
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
        let json: serde_json::Value =
            serde_json::from_str(&spec_json().expect("the document builds")).unwrap_or_default();
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
        let spec = spec().expect("the document builds");
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

    /// The JSON-level steps must survive utoipa's types: what is served is what they made.
    #[test]
    fn the_completed_document_round_trips_without_loss() {
        let made = document().expect("the document builds");
        let served = serde_json::to_value(spec().expect("the document parses")).unwrap();
        assert!(
            made == served,
            "utoipa's types dropped or changed part of the document"
        );
    }

    #[test]
    fn every_operation_has_a_summary_a_description_and_a_declared_tag() {
        let doc: Value = serde_json::from_str(&spec_json().expect("the document builds")).unwrap();
        let declared: BTreeSet<&str> = doc["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["description"].as_str().is_some_and(|d| !d.is_empty()))
            .filter_map(|t| t["name"].as_str())
            .collect();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let summary = op["summary"].as_str().unwrap_or_default();
                assert!(
                    !summary.is_empty() && summary.len() <= 120,
                    "{method} {path}: a summary of one short line"
                );
                let description = op["description"].as_str().unwrap_or_default();
                assert!(
                    description.len() >= 40,
                    "{method} {path} needs a description a front-end developer can act on"
                );
                let tags = op["tags"].as_array().cloned().unwrap_or_default();
                assert!(!tags.is_empty(), "{method} {path} has no tag");
                for tag in tags {
                    let tag = tag.as_str().unwrap_or_default();
                    assert!(
                        declared.contains(tag),
                        "{method} {path}: tag {tag} is not declared"
                    );
                }
            }
        }
    }

    /// Swagger UI shows each error status with its own example, of that status.
    #[test]
    fn every_problem_response_has_an_example_of_its_status() {
        let doc = document().expect("the document builds");
        let mut seen = 0;
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    let response = match response["$ref"].as_str() {
                        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
                        None => response,
                    };
                    let Some(media) = response["content"].get(crate::error::PROBLEM_CONTENT_TYPE)
                    else {
                        continue;
                    };
                    seen += 1;
                    let example = &media["example"];
                    assert_eq!(
                        example["status"].as_u64().map(|s| s.to_string()).as_deref(),
                        Some(status.as_str()),
                        "{status} {response}"
                    );
                    let code = example["code"].as_str().unwrap_or_default();
                    assert_eq!(example["type"], format!("urn:parindex:problem:{code}"));
                }
            }
        }
        assert!(seen > 500, "{seen} problem responses");
    }

    /// Generators that make one class per tag (openapi-generator's `WebhooksApi`) keep only
    /// one of two same-named classes: the events' tags are not the operations' tags.
    #[test]
    fn webhook_events_share_no_tag_with_operations() {
        let doc = document().expect("the document builds");
        let tags_of = |part: &str| -> BTreeSet<String> {
            doc[part]
                .as_object()
                .into_iter()
                .flat_map(|items| items.values())
                .filter_map(Value::as_object)
                .flat_map(|item| item.values())
                .flat_map(|op| op["tags"].as_array().cloned().unwrap_or_default())
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        };
        let (operations, events) = (tags_of("paths"), tags_of("webhooks"));
        assert!(!events.is_empty());
        let shared: Vec<_> = operations.intersection(&events).collect();
        assert!(
            shared.is_empty(),
            "tags on operations and events: {shared:?}"
        );
    }

    #[test]
    fn every_schema_is_used() {
        let doc = document().expect("the document builds");
        let (requests, responses) = operation_parts(&doc);
        let used: BTreeSet<String> =
            reachable(&doc, requests.into_iter().chain(responses).collect());
        let defined: BTreeSet<String> = doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let unused: Vec<&String> = defined.difference(&used).collect();
        assert!(unused.is_empty(), "schemas no operation uses: {unused:?}");
    }

    #[test]
    fn properties_responses_always_send_are_required() {
        let doc = document().expect("the document builds");
        let summary = &doc["components"]["schemas"]["AppraisalSummary"];
        let required = summary["required"].as_array().unwrap();
        assert!(required.contains(&json!("index")), "{summary}");
        let page = &doc["components"]["schemas"]["Page_UnitResponse"]["properties"]["items"];
        assert_eq!(page["items"]["$ref"], "#/components/schemas/UnitResponse");
    }
}
