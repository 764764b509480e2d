#![allow(clippy::unwrap_used)]
//! Traces, black-box: the server exports over OTLP/HTTP to a receiver this test runs, which
//! decodes what it is sent with OpenTelemetry's own protocol types. One request that
//! carries a W3C `traceparent` becomes a server span of that trace (route template, status,
//! the account), with the SeaORM statements it ran as its children; a webhook delivery is
//! a client span with the receiver's status; no span and no log line carries a bearer
//! token or an API key (used or mistyped); and the request's log lines carry its trace id.
//!
//! A binary of its own: the exporter is part of the process's global subscriber.

#[allow(dead_code)]
#[path = "../api/contract.rs"]
mod contract;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use actix_web::{App, HttpResponse, HttpServer, web};
use helpers::{TestApp, backends};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as Any};
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use parindex_api::config::{LogFormat, TraceSettings};
use prost::Message;
use reqwest::Method;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// What the OTLP receiver was sent: the export requests, decoded.
type Exports = Arc<Mutex<Vec<ExportTraceServiceRequest>>>;

async fn start_receiver() -> (String, Exports) {
    let exports: Exports = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!(
        "http://127.0.0.1:{}/v1/traces",
        listener.local_addr().unwrap().port()
    );
    let kept = exports.clone();
    let server = HttpServer::new(move || {
        let kept = kept.clone();
        App::new()
            .app_data(web::PayloadConfig::new(64 << 20))
            .route(
                "/v1/traces",
                web::post().to(move |req: actix_web::HttpRequest, body: web::Bytes| {
                    let kept = kept.clone();
                    async move {
                        assert_eq!(
                            req.headers().get("content-type").unwrap(),
                            "application/x-protobuf",
                            "OTLP/HTTP in its binary encoding"
                        );
                        let decoded = ExportTraceServiceRequest::decode(body.as_ref())
                            .expect("an OTLP export request");
                        kept.lock().unwrap().push(decoded);
                        HttpResponse::Ok()
                            .content_type("application/x-protobuf")
                            .body(Vec::<u8>::new())
                    }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (endpoint, exports)
}

/// The log lines, as the server wrote them.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attribute(attributes, key)? {
        Any::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key)? {
        Any::IntValue(i) => Some(*i),
        Any::StringValue(s) => s.parse().ok(),
        _ => None,
    }
}

/// Every span exported so far, with its resource's service name.
fn spans(exports: &Exports) -> Vec<(String, Span)> {
    let mut all = Vec::new();
    for export in exports.lock().unwrap().iter() {
        for resource in &export.resource_spans {
            let service = resource
                .resource
                .as_ref()
                .and_then(|r| text(&r.attributes, "service.name"))
                .unwrap_or_default()
                .to_string();
            for scope in &resource.scope_spans {
                for span in &scope.spans {
                    all.push((service.clone(), span.clone()));
                }
            }
        }
    }
    all
}

/// Flushes the exporter until `found` holds of what was received (spans end as their
/// futures finish: a delivery's may end just after its receiver answered).
async fn wait_for<T>(
    telemetry: &parindex_api::telemetry::Telemetry,
    exports: &Exports,
    what: &str,
    found: impl Fn(&[(String, Span)]) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // The flush blocks on the batch processor's thread: not on the runtime's.
        tokio::task::block_in_place(|| telemetry.flush());
        if let Some(t) = found(&spans(exports)) {
            return t;
        }
        assert!(Instant::now() < deadline, "no {what} was exported");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_a_trace_with_its_statements_and_its_trace_id_in_the_logs() {
    let (endpoint, exports) = start_receiver().await;
    let lines = Lines::default();
    let writer = lines.clone();
    let telemetry = parindex_api::telemetry::init_with(
        LogFormat::Json,
        Some(&TraceSettings {
            endpoint,
            service_name: "parindex-test".into(),
        }),
        BoxMakeWriter::new(move || writer.clone()),
    );
    for (n, backend) in backends().into_iter().enumerate() {
        let db_system = match &backend {
            helpers::Backend::Sqlite => "sqlite",
            helpers::Backend::Postgres(_) => "postgresql",
        };
        let app = TestApp::spawn_with(
            backend,
            &[
                ("PARINDEX_WEBHOOK_ALLOW_PRIVATE", "true"),
                ("PARINDEX_WEBHOOK_POLL_MS", "50"),
            ],
        )
        .await;
        let admin = app.admin_token().await;
        let me = app.get("/api/v1/auth/me", &admin).await;
        me.assert_status(200);
        let admin_id = me.json["id"].as_i64().unwrap();

        // The caller's trace: its id and its span, continued by the server.
        let trace_id = format!("4bf92f3577b34da6a3ce929d0e0e47{n:02x}");
        let caller_span = "00f067aa0ba902b7";
        let resp = app
            .request(Method::GET, "/api/v1/units", Some(&admin))
            .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);

        let (server, statements) = wait_for(&telemetry, &exports, "request span", |all| {
            let server = all
                .iter()
                .find(|(_, s)| hex(&s.trace_id) == trace_id && s.kind == SpanKind::Server as i32)?;
            let statements: Vec<Span> = all
                .iter()
                .filter(|(_, s)| {
                    s.parent_span_id == server.1.span_id
                        && text(&s.attributes, "db.system") == Some(db_system)
                })
                .map(|(_, s)| s.clone())
                .collect();
            (!statements.is_empty()).then(|| (server.clone(), statements))
        })
        .await;
        let (service, server) = server;
        assert_eq!(service, "parindex-test");
        assert_eq!(server.name, "GET /api/v1/units");
        assert_eq!(hex(&server.parent_span_id), caller_span);
        assert_eq!(
            text(&server.attributes, "http.route"),
            Some("/api/v1/units")
        );
        assert_eq!(text(&server.attributes, "http.request.method"), Some("GET"));
        assert_eq!(
            int(&server.attributes, "http.response.status_code"),
            Some(200)
        );
        assert_eq!(int(&server.attributes, "enduser.id"), Some(admin_id));
        for statement in &statements {
            assert_eq!(hex(&statement.trace_id), trace_id);
            assert_eq!(statement.kind, SpanKind::Client as i32);
            assert!(statement.start_time_unix_nano >= server.start_time_unix_nano);
            assert!(statement.end_time_unix_nano <= server.end_time_unix_nano);
            assert!(text(&statement.attributes, "db.operation").is_some());
        }

        // A delivery: a client span with the receiver's answer.
        let hook = start_hook_receiver().await;
        let sub = app
            .post(
                "/api/v1/webhooks",
                &admin,
                &json!({"url": hook, "events": ["results.published"]}),
            )
            .await;
        sub.assert_status(201);
        app.post(
            &format!("/api/v1/webhooks/{}/test", sub.json["id"]),
            &admin,
            &json!({}),
        )
        .await
        .assert_status(202);
        let delivery = wait_for(&telemetry, &exports, "webhook delivery span", |all| {
            all.iter()
                .find(|(_, s)| s.name == "webhook.delivery")
                .map(|(_, s)| s.clone())
        })
        .await;
        assert_eq!(delivery.kind, SpanKind::Client as i32);
        assert_eq!(
            int(&delivery.attributes, "http.response.status_code"),
            Some(204)
        );

        // A system's API key, used and mistyped: it acts, and is never written down.
        let made = app
            .post(
                "/api/v1/api-keys",
                &admin,
                &json!({"name": "Hệ thống một cửa", "scopes": ["read"]}),
            )
            .await;
        made.assert_status(201);
        let key = made.json["key"].as_str().unwrap().to_string();
        app.get("/api/v1/units", &key).await.assert_status(200);
        let mistyped = format!("{}x", &key[..key.len() - 1]);
        assert_eq!(app.get("/api/v1/units", &mistyped).await.status, 401);
        wait_for(&telemetry, &exports, "the key's request", |all| {
            all.iter()
                .any(|(_, s)| {
                    s.name == "GET /api/v1/units"
                        && int(&s.attributes, "http.response.status_code") == Some(401)
                })
                .then_some(())
        })
        .await;

        // Nothing exported carries a token, a key, or the receiver's address.
        for (_, span) in spans(&exports) {
            let rendered = format!("{span:?}");
            assert!(!rendered.contains(&admin), "a span carries the token");
            assert!(!rendered.contains(&key[4..]), "a span carries the key");
            assert!(!rendered.contains(&mistyped[4..]), "a span carries a key");
            assert!(!rendered.contains(&hook), "a span carries a webhook's URL");
        }
        exports.lock().unwrap().clear();

        // Every log line of the request carries its trace id.
        let logs = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let access = logs
            .lines()
            .filter(|l| l.contains("\"message\":\"request\"") && l.contains(&trace_id))
            .count();
        assert_eq!(access, 1, "the access log line with the trace id:\n{logs}");
        assert!(!logs.contains(&admin), "a log line carries the token");
        assert!(!logs.contains(&key[4..]), "a log line carries the key");
        assert!(!logs.contains(&mistyped[4..]), "a log line carries a key");
    }
}

/// A webhook receiver answering 204.
async fn start_hook_receiver() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let server =
        HttpServer::new(|| App::new().route("/hook", web::post().to(HttpResponse::NoContent)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
    tokio::spawn(server);
    url
}
