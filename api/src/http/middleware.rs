//! The one middleware every request passes: a request id (taken from `X-Request-Id` when
//! sane, else generated) echoed on the response and carried by every log line, security
//! headers, one structured access-log line with method, path, status and latency, and a
//! guard that turns a panic anywhere below it into a logged 500 problem instead of a
//! dropped connection.

use crate::error::{ApiError, HttpError, Lang, text};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request, available to handlers through request extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Accepts a client's request id only if it is short and plain, so it cannot inject
/// anything into logs; otherwise makes a new one.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// A write request may have recorded webhook events: when it ends, whether answered,
/// failed or dropped mid-way by a vanished client, the dispatcher looks at once. (The read
/// caches learn of writes from the commits themselves: `db::WriteTxn`.)
struct WakeDispatcher {
    webhooks: Option<Data<crate::services::webhooks::Wake>>,
}

impl WakeDispatcher {
    fn after_writes(req: &ServiceRequest) -> Self {
        let writes = !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
        WakeDispatcher {
            webhooks: writes.then(|| req.app_data().cloned()).flatten(),
        }
    }
}

impl Drop for WakeDispatcher {
    fn drop(&mut self) {
        if let Some(webhooks) = &self.webhooks {
            webhooks.now();
        }
    }
}

/// Swagger UI runs its own scripts and styles from this server (no inline script; React
/// sets inline styles; icons are data: URIs); everything else (JSON, the SVG chart, files)
/// may load nothing at all, so an SVG or a name opened in a browser can run no script.
/// With an identity provider (`sso`, its origin), Swagger UI also reads its discovery
/// document and exchanges the login's code for a token there.
fn content_security_policy(path: &str, sso: Option<&str>) -> String {
    if path.starts_with("/swagger-ui") {
        let connect = sso.map_or(String::new(), |origin| {
            format!("connect-src 'self' {origin}; ")
        });
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; {connect}object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    } else {
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            .to_string()
    }
}

/// `https://sso.tinh.gov.vn/realms/cchc` → `https://sso.tinh.gov.vn`.
fn origin_of(url: &str) -> &str {
    let host = url.find("://").map_or(0, |i| i + 3);
    match url[host..].find('/') {
        Some(end) => &url[..host + end],
        None => url,
    }
}

/// The response with its problem (if it is one) in `lang`: problems are rendered in
/// English where they are raised, so only a Vietnamese reader's needs rendering again.
fn in_language(response: ServiceResponse<BoxBody>, lang: Lang) -> ServiceResponse<BoxBody> {
    if lang == Lang::En {
        return response;
    }
    let rendered = response
        .response()
        .error()
        .and_then(|e| e.as_error::<HttpError>())
        .map(|problem| crate::error::render(problem, lang));
    match rendered {
        Some(rendered) => response.into_response(rendered),
        None => response,
    }
}

/// An error on its way to the dispatcher, answered in `lang` when it is one of ours.
fn error_in_language(err: Error, lang: Lang) -> Error {
    match err.as_error::<HttpError>() {
        Some(problem) if lang != Lang::En => {
            problem.log_cause();
            let rendered = crate::error::render(problem, lang);
            actix_web::error::InternalError::from_response(problem.to_string(), rendered).into()
        }
        _ => err,
    }
}

/// Whether answering `path` needs the database: the API and readiness do; liveness, the
/// OpenAPI document and Swagger UI do not, and keep working during an outage.
fn needs_database(path: &str) -> bool {
    path.starts_with("/api/") || path == "/health/ready"
}

/// The longest request line (path and query) read: the longest a client needs is far
/// shorter; anything longer is a mistake or an attack.
pub const MAX_REQUEST_TARGET: usize = 32 * 1024;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = request_id_of(&req);
    let lang = Lang::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_string();
    // The route template, not the path: ids would make a time series per record.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let _forget = WakeDispatcher::after_writes(&req);
    let sso = path
        .starts_with("/swagger-ui")
        .then(|| req.app_data::<Data<crate::state::AppState>>())
        .flatten()
        .and_then(|state| state.config.oidc.as_ref())
        .map(|oidc| origin_of(&oidc.issuer).to_string());
    let span = crate::telemetry::request_span(&method, &route, &request_id, req.headers());

    // A request line longer than anything the API takes: 414 before any work. (Past
    // 64 KiB the HTTP parser refuses it itself, before this runs.)
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let outage = needs_database(&path).then(crate::outage::current).flatten();
    let result = if let Some((down_for, _)) = outage {
        // The database server is known to be down: answered at once, rather than after
        // waiting out the pool (`outage`).
        let seconds = down_for.as_secs();
        Err(HttpError::from(
            ApiError::service_unavailable(text!(
                "the database server does not accept connections (for {seconds} s now); retry in a few seconds",
                "máy chủ cơ sở dữ liệu không nhận kết nối (đã {seconds} giây); hãy thử lại sau vài giây"
            ))
            .with_retry_after(2),
        )
        .into())
    } else if target > MAX_REQUEST_TARGET {
        Err(HttpError::from(
            ApiError::new(
                actix_web::http::StatusCode::URI_TOO_LONG,
                "uri_too_long",
                text!(
                    "the request line is {target} bytes long; at most {MAX_REQUEST_TARGET} are read: send long texts in a body",
                    "dòng yêu cầu dài {target} byte; chỉ đọc tối đa {MAX_REQUEST_TARGET} byte: hãy gửi nội dung dài trong thân yêu cầu"
                ),
            ),
        )
        .into())
    } else {
        match AssertUnwindSafe(next.call(req).instrument(span.clone()))
            .catch_unwind()
            .await
        {
            Ok(result) => result,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_string());
                let _entered = span.enter();
                tracing::error!(%method, %path, panic = %message, "the handler panicked");
                // The request was consumed by the handler: the problem itself names the
                // request id, which the log line above carries too.
                Err(HttpError::from(ApiError::internal(anyhow::anyhow!(
                "the handler panicked: {message}"
            ))
            .with_detail(text!(
                "an internal error occurred; it has been logged under request id {request_id}",
                "đã xảy ra lỗi nội bộ; lỗi đã được ghi nhận với mã yêu cầu {request_id}"
            )))
            .into())
            }
        }
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    // Every problem, whether a handler returned it or an extractor or this guard raised
    // it, is answered here in the language the request prefers.
    let mut response = match result {
        Ok(response) => in_language(response.map_into_boxed_body(), lang),
        Err(err) => {
            let status = err.as_response_error().status_code().as_u16();
            crate::telemetry::record_status(&span, status);
            crate::metrics::observe_request(&route, &method, status, latency_ms / 1000.0);
            tracing::warn!(%method, %path, status, latency_ms, error = %err, "request");
            return Err(error_in_language(err, lang));
        }
    };
    let status = response.status().as_u16();
    crate::telemetry::record_status(&span, status);
    crate::metrics::observe_request(&route, &method, status, latency_ms / 1000.0);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&content_security_policy(&path, sso.as_deref()))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        );
    }
    if path.starts_with("/api/") && !headers.contains_key(header::CACHE_CONTROL) {
        // Scores and personal data must not linger in shared caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if status >= 500 {
        tracing::error!(%method, %path, status, latency_ms, "request");
    } else {
        tracing::info!(%method, %path, status, latency_ms, "request");
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, test, web};

    #[actix_web::test]
    async fn a_panicking_handler_is_a_logged_500_problem_with_the_request_id() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(observe))
                .route(
                    "/boom",
                    web::get().to(|| async {
                        let figures: Vec<u32> = Vec::new();
                        // An index out of bounds, as a bug would do it.
                        let n = figures.len() + 3;
                        figures[n].to_string()
                    }),
                ),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/boom")
            .insert_header(("x-request-id", "req-42"))
            .to_request();
        // What the server's dispatcher turns into the response.
        let error = match test::try_call_service(&app, req).await {
            Err(e) => e,
            Ok(resp) => panic!("expected an error, got {}", resp.status()),
        };
        let resp = error.error_response();
        assert_eq!(resp.status().as_u16(), 500);
        assert_eq!(
            resp.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
        let body = actix_web::body::to_bytes(resp.into_body()).await.unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "internal_error");
        assert!(
            problem["detail"].as_str().unwrap().contains("req-42"),
            "{problem}"
        );
        assert!(!String::from_utf8_lossy(&body).contains("index out of bounds"));

        // The same problem for a reader of Vietnamese.
        let req = test::TestRequest::get()
            .uri("/boom")
            .insert_header(("accept-language", "vi-VN,vi;q=0.9,en;q=0.5"))
            .to_request();
        let error = match test::try_call_service(&app, req).await {
            Err(e) => e,
            Ok(resp) => panic!("expected an error, got {}", resp.status()),
        };
        let resp = error.error_response();
        assert_eq!(
            resp.headers().get("content-language").map(|v| v.as_bytes()),
            Some(&b"vi"[..])
        );
        let body = actix_web::body::to_bytes(resp.into_body()).await.unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "internal_error");
        assert_eq!(problem["title"], "Lỗi máy chủ");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .starts_with("đã xảy ra lỗi nội bộ")
        );
    }
}
