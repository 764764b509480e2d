//! Logs and traces. Logs: human-readable text by default, JSON lines with
//! `PARINDEX_LOG_FORMAT=json`; levels from `RUST_LOG` (default `info`). Every line a request
//! causes carries its request id and its trace id (the `request` span's fields).
//!
//! Traces: when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, see
//! `config::TraceSettings`), spans are exported over OTLP/HTTP in batches from a thread of
//! their own: one per request (route template, method, status, the account and its unit:
//! never a path, a query, a token or a score), one per database statement (SeaORM's, with
//! the statement's text, whose values are bound parameters, never inlined), and one per
//! outgoing delivery (webhook, e-mail). An incoming W3C `traceparent` is continued.

use crate::config::{Config, LogFormat, TraceSettings};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{FilterExt, FilterFn, Targets};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Whether spans are exported (set once, by `init`).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Keeps the exporter alive; dropping it exports what is still buffered.
#[must_use = "dropping the guard stops exporting traces"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports every span ended so far, now (tests; and before a process exits).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(e) = provider.force_flush()
        {
            tracing::warn!(error = %e, "cannot export the buffered spans");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Logs to standard error, and traces when the configuration has an endpoint.
pub fn init(config: &Config) -> Telemetry {
    init_with(
        config.log_format,
        config.traces.as_ref(),
        BoxMakeWriter::new(std::io::stderr),
    )
}

/// Logs only (the administrative commands).
pub fn init_logs(format: LogFormat) -> Telemetry {
    init_with(format, None, BoxMakeWriter::new(std::io::stderr))
}

/// As `init`, with the log lines written to `writer` (tests read them back).
pub fn init_with(
    format: LogFormat,
    traces: Option<&TraceSettings>,
    writer: BoxMakeWriter,
) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    };
    let provider = traces.and_then(|settings| match provider(settings) {
        Ok(provider) => Some(provider),
        Err(e) => {
            // Traces are an aid: the service runs without them, and says so.
            eprintln!("traces are off: cannot build the OTLP exporter: {e}");
            None
        }
    });
    let spans = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("parindex"))
            .with_filter(exported())
    });
    // try_init: tests may initialise more than once.
    if tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_ok()
        && provider.is_some()
    {
        EXPORTING.store(true, Ordering::Relaxed);
        tracing::info!(
            endpoint = traces.map(|t| t.endpoint.as_str()),
            "exporting traces over OTLP/HTTP"
        );
    }
    Telemetry { provider }
}

fn provider(settings: &TraceSettings) -> Result<SdkTracerProvider, anyhow::Error> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.clone())
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(settings.service_name.clone())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// What is exported: the service's spans and SeaORM's statements, never log events (a log
/// line may quote what a span must not carry) and never the HTTP clients' own spans (the
/// exporter's requests would trace themselves).
fn exported<S>() -> impl tracing_subscriber::layer::Filter<S> {
    let targets = Targets::new()
        .with_target("parindex_api", tracing::Level::INFO)
        .with_target("parindex_service", tracing::Level::INFO)
        .with_target("sea_orm", tracing::Level::INFO);
    FilterFn::new(|meta| meta.is_span()).and(targets)
}

/// The span of one request. Its fields, on every log line the request causes, are few: the
/// request id and the trace id (and the span's name and kind, which OpenTelemetry reads from
/// fields). What only a trace needs is set as attributes of the exported span: the method,
/// the route template (never the path: a feed's or an unsubscription's token is in it),
/// and later the status and the account.
pub fn request_span(
    method: &str,
    route: &str,
    request_id: &str,
    headers: &actix_web::http::header::HeaderMap,
) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    );
    span.record("trace_id", continue_trace(&span, headers).as_str());
    if EXPORTING.load(Ordering::Relaxed) {
        span.set_attribute("http.request.method", method.to_string());
        span.set_attribute("http.route", route.to_string());
    }
    span
}

/// The request's outcome: its status, and an error for a 5xx (the server's fault; a 4xx is
/// the client's, as OpenTelemetry's HTTP conventions have it).
pub fn record_status(span: &tracing::Span, status: u16) {
    if EXPORTING.load(Ordering::Relaxed) {
        span.set_attribute("http.response.status_code", i64::from(status));
        if status >= 500 {
            span.set_status(opentelemetry::trace::Status::error(""));
        }
    }
}

/// Who made the request: the account's id and its unit's, never a name or a token.
pub fn record_account(span: &tracing::Span, user_id: i64, unit_id: Option<i64>) {
    if EXPORTING.load(Ordering::Relaxed) {
        span.set_attribute("enduser.id", user_id);
        if let Some(unit) = unit_id {
            span.set_attribute("parindex.unit_id", unit);
        }
    }
}

/// A request's headers, read by the W3C propagator.
struct Headers<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Makes `span` continue the caller's trace (a valid `traceparent`), and returns the trace
/// id its log lines carry: the exported trace's, or without an exporter the caller's (or a
/// new one), so logs of one request can still be found across services.
pub fn continue_trace(
    span: &tracing::Span,
    headers: &actix_web::http::header::HeaderMap,
) -> String {
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let remote = parent.span().span_context().clone();
    if EXPORTING.load(Ordering::Relaxed) {
        if remote.is_valid() {
            let _ = span.set_parent(parent);
        }
        let id = span.context().span().span_context().trace_id();
        if id != opentelemetry::TraceId::INVALID {
            return id.to_string();
        }
    }
    if remote.is_valid() {
        remote.trace_id().to_string()
    } else {
        uuid::Uuid::new_v4().simple().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    #[test]
    fn without_an_exporter_the_callers_trace_id_is_kept_and_a_bad_one_replaced() {
        let span = tracing::Span::none();
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("traceparent"),
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        assert_eq!(
            continue_trace(&span, &headers),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        // An all-zero trace id is invalid (W3C): a new id, 32 hex digits.
        headers.insert(
            HeaderName::from_static("traceparent"),
            HeaderValue::from_static("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        );
        let fresh = continue_trace(&span, &headers);
        assert_eq!(fresh.len(), 32);
        assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(fresh, "00000000000000000000000000000000");
    }
}
