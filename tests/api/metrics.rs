//! Prometheus metrics on their own listener (`PARINDEX_METRICS_ADDR`): the exposition is
//! well-formed text format (every sample line a name, labels and a number), its request
//! histogram counts requests by route template, and it carries the build, the pool, the
//! outboxes and the evidence stored. (The CI also reads it with Python's
//! `prometheus_client` parser: scripts/smtp_check.py.)

use crate::fixtures::{Persona, world};
use crate::helpers::{TestApp, backends};
use crate::smtp_sink::free_port;
use std::collections::HashMap;

/// Sample lines as (name, labels, value), checking the text format on the way.
fn samples(text: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                let mut labels = HashMap::new();
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                    labels.insert(k.to_string(), v.trim_end_matches('"').to_string());
                }
                (name.to_string(), labels)
            }
            None => (series.to_string(), HashMap::new()),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        out.push((name, labels, value));
    }
    out
}

fn requests_of(text: &str, route: &str, method: &str, status: &str) -> f64 {
    samples(text)
        .into_iter()
        .filter(|(n, l, _)| {
            n == "http_server_request_duration_seconds_count"
                && l.get("http_route").map(String::as_str) == Some(route)
                && l.get("http_request_method").map(String::as_str) == Some(method)
                && l.get("http_response_status_code").map(String::as_str) == Some(status)
        })
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test]
async fn metrics_count_requests_by_route_on_their_own_listener() {
    for backend in backends() {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let app = TestApp::spawn_with(backend, &[("PARINDEX_METRICS_ADDR", &addr)]).await;
        let w = world(app).await;
        let scrape = || async {
            let r = reqwest::get(format!("http://{addr}/metrics"))
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/plain; version=0.0.4")
            );
            r.text().await.unwrap()
        };
        let officer = w.token(Persona::OfficerA);
        let unit = format!("/api/v1/units/{}", w.id("commune_a"));
        w.app.get(&unit, officer).await.assert_status(200);
        let before = scrape().await;
        let counted = requests_of(&before, "/api/v1/units/{id}", "GET", "200");
        assert!(counted >= 1.0, "{before}");
        for _ in 0..3 {
            w.app.get(&unit, officer).await.assert_status(200);
        }
        w.app
            .get("/api/v1/units/999999", officer)
            .await
            .assert_problem(404, None);
        let after = scrape().await;
        // Other tests of this process count too: at least these requests, never fewer.
        assert!(requests_of(&after, "/api/v1/units/{id}", "GET", "200") >= counted + 3.0);
        assert!(requests_of(&after, "/api/v1/units/{id}", "GET", "404") >= 1.0);
        // No series per record: the path's ids never appear.
        assert!(!after.contains(&format!("\"{unit}\"")));
        let all = samples(&after);
        let names: std::collections::HashSet<&str> =
            all.iter().map(|(n, _, _)| n.as_str()).collect();
        for expected in [
            "parindex_build_info",
            "parindex_db_pool_connections",
            // The world's set-up wrote: its transactions' waits are counted.
            "parindex_db_begin_wait_seconds_count",
            "parindex_outbox_pending",
            "parindex_outbox_oldest_age_seconds",
            "parindex_evidence_files",
            "parindex_evidence_bytes",
            "parindex_metrics_database_up",
            "http_server_request_duration_seconds_bucket",
        ] {
            assert!(names.contains(expected), "{expected} missing");
        }
        let up = all
            .iter()
            .find(|(n, _, _)| n == "parindex_metrics_database_up")
            .unwrap();
        assert_eq!(up.2, 1.0);
        // The public listener has no /metrics.
        let public = w.app.get("/metrics", officer).await;
        assert_eq!(public.status.as_u16(), 404);
    }
}
