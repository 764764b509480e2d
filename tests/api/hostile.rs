//! The bad-input catalogue: every hostile or careless request gets a problem+json 4xx that
//! says what is wrong, and nothing is stored. Plus races, CORS and slow clients.

use crate::fixtures::{Persona, World, seed_self_entries, world};
use crate::helpers::{Resp, TestApp, backends, on_each_backend};
use reqwest::Method;
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

async fn raw(w: &World, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
    Resp::read(
        w.app
            .request(method, path, Some(w.token(Persona::OfficerA)))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await,
    )
    .await
}

/// The entries of commune A's draft stay untouched by every refused request.
async fn draft(w: &World) -> (i64, String) {
    let framework = w.published_framework(w.id("district")).await;
    let sa = w
        .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
        .await;
    (sa, format!("/api/v1/self-assessments/{sa}/entries"))
}

async fn assert_nothing_stored(w: &World, sa: i64) {
    let sheet = w
        .app
        .get(
            &format!("/api/v1/self-assessments/{sa}"),
            w.token(Persona::OfficerA),
        )
        .await;
    assert_eq!(sheet.json["self_total"], "0.00");
    assert!(
        sheet.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["inputs"].is_null()),
        "an entry was stored"
    );
    let trail = w
        .app
        .get("/api/v1/audit-events?entity=assessment_entry", w.admin())
        .await;
    assert_eq!(trail.json["total"], 0);
}

#[tokio::test]
async fn malformed_bodies_are_refused_with_a_problem() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (sa, path) = draft(&w).await;
        let json_ct = "application/json";
        let cases: Vec<(&str, Vec<u8>, &str, u16, &str)> = vec![
            (
                "truncated JSON",
                b"{\"entries\": [".to_vec(),
                json_ct,
                400,
                "malformed_json",
            ),
            (
                "trailing garbage",
                b"{\"entries\": []} x".to_vec(),
                json_ct,
                400,
                "malformed_json",
            ),
            ("empty body", Vec::new(), json_ct, 400, "malformed_json"),
            // The typed parser stops at the first level that does not fit (the untyped
            // recursion limit is unit-tested with 100,000 levels): a 4xx, no stack overflow.
            (
                "deeply nested JSON",
                format!("{{\"entries\": {}{}}}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
                json_ct,
                422,
                "validation_failed",
            ),
            (
                "invalid UTF-8",
                b"{\"entries\": [{\"criterion_code\": \"1.1\", \"explanation\": \"\xff\xfe\"}]}"
                    .to_vec(),
                json_ct,
                400,
                "malformed_json",
            ),
            (
                "text/plain",
                b"{\"entries\": []}".to_vec(),
                "text/plain",
                415,
                "unsupported_media_type",
            ),
            (
                "form data",
                b"entries=1".to_vec(),
                "application/x-www-form-urlencoded",
                415,
                "unsupported_media_type",
            ),
            (
                "over the limit",
                format!(
                    "{{\"entries\": [], \"x\": \"{}\"}}",
                    "a".repeat(2 * 1024 * 1024)
                )
                .into_bytes(),
                json_ct,
                413,
                "payload_too_large",
            ),
            (
                "a JSON array instead of an object",
                b"[1, 2]".to_vec(),
                json_ct,
                422,
                "validation_failed",
            ),
            (
                "unknown field",
                br#"{"entries": [], "force": true}"#.to_vec(),
                json_ct,
                422,
                "validation_failed",
            ),
        ];
        for (what, body, ct, status, code) in cases {
            let resp = raw(&w, Method::PUT, &path, ct, body).await;
            assert_eq!(resp.status.as_u16(), status, "{what}: {}", resp.text);
            resp.assert_problem(status, Some(code));
        }
        assert_nothing_stored(&w, sa).await;
    })
    .await;
}

#[tokio::test]
async fn hostile_values_name_the_field_and_store_nothing() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (sa, path) = draft(&w).await;
        let officer = w.token(Persona::OfficerA);
        let long = "x".repeat(10_000);
        let cases = vec![
            ("3 decimals", json!({"criterion_code": "1.4.1", "score": 0.125}), "entries[0].score"),
            ("negative", json!({"criterion_code": "1.4.1", "score": "-0.5"}), "entries[0].score"),
            ("NaN string", json!({"criterion_code": "1.4.1", "score": "NaN"}), "entries[0].score"),
            ("Infinity string", json!({"criterion_code": "1.4.1", "score": "Infinity"}), "entries[0].score"),
            ("above max", json!({"criterion_code": "1.4.1", "score": 1.01}), "entries[0].score"),
            ("huge number", json!({"criterion_code": "3.12.2", "numerator": 1e300, "denominator": 10}), "entries[0].numerator"),
            ("huge count", json!({"criterion_code": "1.5.4", "count": 99999999999u64}), "entries[0].count"),
            ("negative count", json!({"criterion_code": "1.5.4", "count": -1}), "entries[0].count"),
            ("empty code", json!({"criterion_code": "", "score": 1}), "entries[0].criterion_code"),
            ("10,000-char code", json!({"criterion_code": long, "score": 1}), "entries[0].criterion_code"),
            ("10,000-char explanation", json!({"criterion_code": "1.4.1", "score": 1, "explanation": long}), "entries[0].explanation"),
            ("date 2024-02-30", json!({"criterion_code": "1.4.1", "score": 1, "evidence": [{"title": "QĐ", "issued_on": "2024-02-30"}]}), "entries[0].evidence[0].issued_on"),
            ("unknown enum-like type", json!({"criterion_code": "1.2", "done": "yes"}), "entries[0].done"),
            ("control characters", json!({"criterion_code": "1.4.1", "score": 1, "explanation": "a\u{0007}b"}), "entries[0].explanation"),
            ("bidi override", json!({"criterion_code": "1.4.1", "score": 1, "explanation": "a\u{202E}b"}), "entries[0].explanation"),
            // Values that once moved siblings' scores or panicked the handler.
            ("value 10^24", json!({"criterion_code": "7.1.3", "value": "1000000000000000000000000"}), "entries[0].value"),
            ("value 7.9e28", json!({"criterion_code": "7.1.3", "value": 7.9e28}), "entries[0].value"),
            ("value above the bound", json!({"criterion_code": "7.1.3", "value": 1000000001}), "entries[0].value"),
            ("denominator above the bound", json!({"criterion_code": "3.12.2", "numerator": 1, "denominator": "1000000001"}), "entries[0].denominator"),
            ("count above the bound", json!({"criterion_code": "1.5.4", "count": 1000001}), "entries[0].count"),
        ];
        for (what, entry, field) in cases {
            let resp = w.app.put(&path, officer, &json!({"entries": [entry]})).await;
            assert_eq!(resp.status.as_u16(), 422, "{what}: {}", resp.text);
            resp.assert_problem(422, Some("validation_failed"));
            let errors = resp.json["errors"].as_array().unwrap();
            assert!(errors.iter().any(|e| e["field"] == field), "{what}: expected {field} in {}", resp.text);
            assert!(errors.iter().all(|e| !e["message"].as_str().unwrap().is_empty()));
        }
        // Unknown enum values in other bodies.
        let resp = w.app.post("/api/v1/units", w.admin(), &json!({"code": "Z", "name": "Z", "kind": "hamlet"})).await;
        resp.assert_problem(422, None);
        assert_eq!(resp.json["errors"][0]["field"], "kind");
        assert!(resp.json["errors"][0]["message"].as_str().unwrap().contains("`hamlet` is not an allowed value"));
        assert_nothing_stored(&w, sa).await;
    })
    .await;
}

#[tokio::test]
async fn unknown_and_foreign_ids_and_duplicates() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (sa, _) = draft(&w).await;
        let officer_b = w.token(Persona::OfficerB);
        for path in ["/api/v1/self-assessments/999999", "/api/v1/appraisals/999999", "/api/v1/frameworks/999999",
                     "/api/v1/units/999999", "/api/v1/remediation-plans/999999", "/api/v1/remediation-items/999999"] {
            w.app.get(path, w.admin()).await.assert_problem(404, Some("not_found"));
        }
        w.app.get("/api/v1/units/-1", w.admin()).await.assert_problem(404, None);
        w.app.get("/api/v1/units/99999999999999999999", w.admin()).await.assert_problem(400, Some("invalid_path_parameter"));
        // Commune B's officer on commune A's file.
        w.app.get(&format!("/api/v1/self-assessments/{sa}"), officer_b).await.assert_problem(403, None);
        w.app
            .put(&format!("/api/v1/self-assessments/{sa}/entries"), officer_b, &json!({"entries": [{"criterion_code": "1.1", "score": 2}]}))
            .await
            .assert_problem(403, None);
        // Duplicates.
        w.app
            .post("/api/v1/units", w.admin(), &json!({"code": "19744", "name": "X", "kind": "commune", "parent_id": w.id("district")}))
            .await
            .assert_problem(409, Some("duplicate_code"));
        let framework = w.app.get(&format!("/api/v1/self-assessments/{sa}"), w.admin()).await.json["framework_id"].as_i64().unwrap();
        w.app
            .post("/api/v1/self-assessments", w.token(Persona::OfficerA), &json!({"unit_id": w.id("commune_a"), "framework_id": framework}))
            .await
            .assert_problem(409, Some("already_exists"));
        assert_nothing_stored(&w, sa).await;
    })
    .await;
}

#[tokio::test]
async fn unauthenticated_requests_learn_nothing_from_the_body() {
    on_each_backend(|app| async move {
        let resp = Resp::read(
            app.client
                .post(app.url("/api/v1/users"))
                .header("content-type", "application/json")
                .body("{")
                .send()
                .await,
        )
        .await;
        resp.assert_problem(401, Some("unauthorized"));
        let resp = Resp::read(
            app.client
                .put(app.url("/api/v1/self-assessments/abc/entries"))
                .json(&json!({}))
                .send()
                .await,
        )
        .await;
        resp.assert_problem(401, Some("unauthorized"));
    })
    .await;
}

#[tokio::test]
async fn concurrent_submissions_and_finalizations_have_one_winner() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (sa, path) = draft(&w).await;
        let officer = w.token(Persona::OfficerA);
        w.app
            .put(&path, officer, &json!({"entries": seed_self_entries()}))
            .await
            .assert_status(200);
        let submit = format!("/api/v1/self-assessments/{sa}/submit");
        let empty = json!({});
        let (a, b) = tokio::join!(
            w.app.post(&submit, officer, &empty),
            w.app.post(&submit, officer, &empty)
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses[0], 200, "{} / {}", a.text, b.text);
        assert!(matches!(statuses[1], 409 | 412), "{} / {}", a.text, b.text);
        let winner = if a.status.as_u16() == 200 { &a } else { &b };
        let appraisal = winner.json["appraisal_id"].as_i64().unwrap();
        let trail = w
            .app
            .get(
                &format!(
                    "/api/v1/audit-events?entity=self_assessment&entity_id={sa}&action=submit"
                ),
                w.admin(),
            )
            .await;
        assert_eq!(trail.json["total"], 1, "the trail shows one submission");
        let appraisals = w
            .app
            .get(
                &format!("/api/v1/appraisals?unit_id={}", w.id("commune_a")),
                w.admin(),
            )
            .await;
        assert_eq!(appraisals.json["total"], 1, "one appraisal");

        let appraiser = w.token(Persona::Appraiser);
        let finalize = format!("/api/v1/appraisals/{appraisal}/finalize");
        let (a, b) = tokio::join!(
            w.app.post(&finalize, appraiser, &empty),
            w.app.post(&finalize, w.admin(), &empty)
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses[0], 200, "{} / {}", a.text, b.text);
        assert!(matches!(statuses[1], 409 | 412), "{} / {}", a.text, b.text);
        let trail = w
            .app
            .get(
                &format!(
                    "/api/v1/audit-events?entity=appraisal&entity_id={appraisal}&action=finalize"
                ),
                w.admin(),
            )
            .await;
        assert_eq!(trail.json["total"], 1, "the trail shows one finalization");
    })
    .await;
}

#[tokio::test]
async fn cors_is_closed_unless_origins_are_configured() {
    for backend in backends() {
        let closed = TestApp::spawn(backend.clone()).await;
        let resp = Resp::read(
            closed
                .client
                .get(closed.url("/health/live"))
                .header("origin", "https://evil.example")
                .send()
                .await,
        )
        .await;
        assert!(resp.header("access-control-allow-origin").is_none());

        let open = TestApp::spawn_with(
            backend,
            &[("PARINDEX_CORS_ALLOWED_ORIGINS", "https://cchc.example.vn")],
        )
        .await;
        let preflight = Resp::read(
            open.client
                .request(Method::OPTIONS, open.url("/api/v1/units"))
                .header("origin", "https://cchc.example.vn")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .send()
                .await,
        )
        .await;
        assert_eq!(preflight.status.as_u16(), 200, "{}", preflight.text);
        assert_eq!(
            preflight.header("access-control-allow-origin"),
            Some("https://cchc.example.vn")
        );
        let other = Resp::read(
            open.client
                .get(open.url("/health/live"))
                .header("origin", "https://evil.example")
                .send()
                .await,
        )
        .await;
        assert!(other.header("access-control-allow-origin").is_none());
    }
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    for backend in backends() {
        let app =
            TestApp::spawn_with(backend, &[("PARINDEX_CLIENT_REQUEST_TIMEOUT_MS", "300")]).await;
        let addr = app.address.trim_start_matches("http://").to_string();
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            // Half a request head, then silence.
            stream
                .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
                .expect("write");
            let mut buf = Vec::new();
            let _ = stream.read_to_end(&mut buf);
            buf
        })
        .await
        .expect("join");
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_secs(5),
            "the connection stayed open {waited:?}"
        );
        let text = String::from_utf8_lossy(&outcome);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
}
