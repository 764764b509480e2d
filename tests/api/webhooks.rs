//! Webhooks: deliveries to a real receiver on loopback, signatures checked by an
//! independent verifier (`scripts/verify_webhook.py`), scopes, retries after a 500,
//! failure and redelivery, two replicas delivering each event once, a milestone due soon
//! noticed once, and the SSRF rules.

use crate::fixtures::{Persona, World, world};
use crate::helpers::{Database, TestApp, backends};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Fast retries and polling, private addresses allowed (the receiver is on loopback).
pub const FAST: &[(&str, &str)] = &[
    ("PARINDEX_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("PARINDEX_WEBHOOK_RETRY_BASE_MS", "200"),
    ("PARINDEX_WEBHOOK_POLL_MS", "50"),
];

#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }
}

/// A receiver on loopback: answers the queued status codes first, then 200.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, me: web::Data<Receiver>) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    me.received.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    });
    let status = me.statuses.lock().unwrap().pop_front().unwrap_or(200);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            received: Arc::default(),
            statuses: Arc::new(Mutex::new(statuses.iter().copied().collect())),
        };
        let data = web::Data::new(me.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hook", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        me
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn always_answer(&self, status: u16) {
        let mut q = self.statuses.lock().unwrap();
        q.clear();
        q.extend(std::iter::repeat_n(status, 10_000));
    }

    pub fn answer_ok(&self) {
        self.statuses.lock().unwrap().clear();
    }

    /// Waits until `done` holds of what arrived (at most 20 s).
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let all = self.all();
            if done(&all) {
                return all;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "waited 20 s for {what}; received {:#?}",
                all.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Checks a delivery with the independent Python verifier.
pub fn verify_with_python(secret: &str, r: &Received) -> bool {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/verify_webhook.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the verifier");
    let input = json!({"secret": secret, "headers": r.headers, "body": r.body});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap().status.success()
}

fn of_type<'a>(all: &'a [Received], kind: &str) -> Vec<&'a Received> {
    all.iter().filter(|r| r.json()["type"] == kind).collect()
}

pub async fn subscribe(
    w: &World,
    token: &str,
    url: &str,
    events: &[&str],
    unit: Option<i64>,
) -> Value {
    let created = w
        .app
        .post(
            "/api/v1/webhooks",
            token,
            &json!({"url": url, "events": events, "unit_id": unit, "description": "test"}),
        )
        .await;
    created.assert_status(201);
    assert!(
        created.json["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    created.json
}

const WORKFLOW: &[&str] = &[
    "self_assessment.submitted",
    "self_assessment.returned",
    "appraisal.finalized",
    "results.published",
];

#[tokio::test]
async fn deliveries_are_signed_scoped_and_retried_after_a_500() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, FAST).await;
        let w = world(app).await;
        let officer_a = w.token(Persona::OfficerA).to_string();
        let officer_b = w.token(Persona::OfficerB).to_string();
        let to_a = Receiver::start(&[500]).await;
        let to_b = Receiver::start(&[]).await;
        // Wrong scopes and wrong input are refused before anything is stored.
        w.app
            .post(
                "/api/v1/webhooks",
                &officer_a,
                &json!({"url": to_a.url, "events": ["results.published"], "unit_id": w.id("commune_b")}),
            )
            .await
            .assert_problem(403, Some("forbidden"));
        w.app
            .post(
                "/api/v1/webhooks",
                w.token(Persona::Viewer),
                &json!({"url": to_a.url, "events": ["results.published"]}),
            )
            .await
            .assert_problem(403, Some("forbidden"));
        w.app
            .post(
                "/api/v1/webhooks",
                &officer_a,
                &json!({"url": to_a.url, "events": ["appraisal.exploded"]}),
            )
            .await
            .assert_problem(422, Some("validation_failed"));
        let sub_a = subscribe(&w, &officer_a, &to_a.url, WORKFLOW, None).await;
        assert_eq!(
            sub_a["unit_id"],
            w.id("commune_a"),
            "defaults to its own unit"
        );
        let sub_b = subscribe(&w, &officer_b, &to_b.url, WORKFLOW, None).await;
        let listed = w.app.get("/api/v1/webhooks", &officer_a).await;
        assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
        assert!(
            listed.json["items"][0]["secret"].is_null(),
            "secrets are never listed"
        );
        w.app
            .get(&format!("/api/v1/webhooks/{}", sub_b["id"]), &officer_a)
            .await
            .assert_problem(404, Some("not_found"));

        // A refused change (rolled back) records no event.
        w.app
            .post(
                "/api/v1/publications",
                w.token(Persona::Appraiser),
                &json!({"parent_unit_id": w.id("district"), "year": 2022}),
            )
            .await
            .assert_problem(409, Some("nothing_to_publish"));
        // Commune A's year: submitted, finalized, published.
        let framework = w.published_framework(w.id("district")).await;
        w.seed_appraisal(framework).await;
        w.app
            .post(
                "/api/v1/publications",
                w.token(Persona::Appraiser),
                &json!({"parent_unit_id": w.id("district"), "year": 2023}),
            )
            .await
            .assert_status(201);

        let secret_a = sub_a["secret"].as_str().unwrap();
        let all = to_a
            .wait_for("A's three events, the first retried", |all| {
                let ids: std::collections::HashSet<&str> = all.iter().map(Received::id).collect();
                ids.len() >= 3 && all.len() >= 4
            })
            .await;
        for r in &all {
            assert!(verify_with_python(secret_a, r), "signature of {}", r.body);
            let body = r.json();
            assert!(body["timestamp"].is_string());
            for figure in ["index", "appraised_total", "self_total", "score"] {
                assert!(body["data"].get(figure).is_none(), "thin events: {body}");
            }
        }
        // The receiver answered 500 to the first delivery it got (the dispatcher may send
        // a file's events in parallel, so which event that was is not fixed): that event
        // came again, with the same webhook-id, and every other event once.
        let retried = all[0].id().to_string();
        for kind in [
            "self_assessment.submitted",
            "appraisal.finalized",
            "results.published",
        ] {
            let got = of_type(&all, kind);
            let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.id()).collect();
            assert_eq!(ids.len(), 1, "one webhook-id per {kind} event");
            let expected = if got[0].id() == retried.as_str() {
                2
            } else {
                1
            };
            assert_eq!(got.len(), expected, "{kind}: the 500, then the retry");
        }
        assert_eq!(
            all.iter().filter(|r| r.id() == retried).count(),
            2,
            "the event that got the 500 was delivered again"
        );
        let submitted = of_type(&all, "self_assessment.submitted");
        assert_eq!(submitted[0].json()["data"]["unit_id"], w.id("commune_a"));

        // B hears the district's publication, nothing of commune A's file.
        let b = to_b
            .wait_for("the publication at B", |all| {
                !of_type(all, "results.published").is_empty()
            })
            .await;
        assert!(
            b.iter().all(|r| r.json()["type"] == "results.published"),
            "{b:?}"
        );
        assert!(
            b.iter().all(|r| r.json()["data"]["year"] == 2023),
            "the refused 2022 publication sent nothing: {b:?}"
        );

        // The deliveries list keeps every attempt.
        let deliveries = w
            .app
            .get(
                &format!("/api/v1/webhooks/{}/deliveries", sub_a["id"]),
                &officer_a,
            )
            .await;
        deliveries.assert_status(200);
        // The delivery that got the 500 (whichever event the receiver met first).
        let first = deliveries.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["webhook_id"] == retried)
            .unwrap()
            .clone();
        assert_eq!(first["status"], "delivered");
        let codes: Vec<i64> = first["attempt_history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].as_i64().unwrap())
            .collect();
        assert_eq!(codes, [500, 200]);

        // Redelivered: the same webhook-id again.
        w.app
            .post(
                &format!("/api/v1/webhook-deliveries/{}/redeliver", first["id"]),
                &officer_a,
                &json!({}),
            )
            .await
            .assert_status(202);
        let id = first["webhook_id"].as_str().unwrap().to_string();
        to_a.wait_for("the redelivery", |all| {
            all.iter().filter(|r| r.id() == id).count() == 3
        })
        .await;
        w.app
            .post(
                &format!("/api/v1/webhook-deliveries/{}/redeliver", first["id"]),
                &officer_b,
                &json!({}),
            )
            .await
            .assert_problem(404, Some("not_found"));

        // A rotated secret: both signatures for a day, the new one verifies.
        let rotated = w
            .app
            .post(
                &format!("/api/v1/webhooks/{}/rotate-secret", sub_a["id"]),
                &officer_a,
                &json!({}),
            )
            .await;
        rotated.assert_status(200);
        let new_secret = rotated.json["secret"].as_str().unwrap().to_string();
        assert_ne!(new_secret, secret_a);
        let ping = w
            .app
            .post(
                &format!("/api/v1/webhooks/{}/test", sub_a["id"]),
                &officer_a,
                &json!({}),
            )
            .await;
        ping.assert_status(202);
        let ping_id = ping.json["webhook_id"].as_str().unwrap().to_string();
        let all = to_a
            .wait_for("the test event", |all| {
                all.iter().any(|r| r.id() == ping_id)
            })
            .await;
        let ping = all.iter().find(|r| r.id() == ping_id).unwrap();
        assert_eq!(ping.headers["webhook-signature"].split(' ').count(), 2);
        assert!(verify_with_python(&new_secret, ping));
        assert!(
            verify_with_python(secret_a, ping),
            "the old secret still verifies"
        );
        assert!(!verify_with_python(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ping
        ));

        // Paused, then deleted: audited.
        w.app
            .patch(
                &format!("/api/v1/webhooks/{}", sub_a["id"]),
                &officer_a,
                &json!({"active": false}),
            )
            .await
            .assert_status(200);
        w.app
            .delete(&format!("/api/v1/webhooks/{}", sub_a["id"]), &officer_a)
            .await
            .assert_status(204);
        let trail = w
            .app
            .get("/api/v1/audit-events?entity=webhook", w.admin())
            .await;
        let actions: Vec<&str> = trail.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in ["create", "rotate_secret", "update", "delete"] {
            assert!(actions.contains(&a), "{actions:?}");
        }
    }
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_is_marked_failed_then_redelivered() {
    for backend in backends() {
        let mut env = FAST.to_vec();
        env.push(("PARINDEX_WEBHOOK_MAX_ATTEMPTS", "3"));
        let app = TestApp::spawn_with(backend, &env).await;
        let w = world(app).await;
        let receiver = Receiver::start(&[]).await;
        receiver.always_answer(503);
        let sub = subscribe(&w, w.admin(), &receiver.url, &["results.published"], None).await;
        w.app
            .post(
                &format!("/api/v1/webhooks/{}/test", sub["id"]),
                w.admin(),
                &json!({}),
            )
            .await
            .assert_status(202);
        let deliveries = format!("/api/v1/webhooks/{}/deliveries", sub["id"]);
        let started = Instant::now();
        let failed = loop {
            let d = w.app.get(&deliveries, w.admin()).await.json["items"][0].clone();
            if d["status"] == "failed" {
                break d;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{d}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(failed["attempts"], 3);
        assert_eq!(failed["last_status_code"], 503);
        assert!(failed["next_attempt_at"].is_null());
        assert_eq!(receiver.all().len(), 3);
        receiver.answer_ok();
        w.app
            .post(
                &format!("/api/v1/webhook-deliveries/{}/redeliver", failed["id"]),
                w.admin(),
                &json!({}),
            )
            .await
            .assert_status(202);
        receiver
            .wait_for("the redelivery", |all| all.len() == 4)
            .await;
        let d = loop {
            let d = w.app.get(&deliveries, w.admin()).await.json["items"][0].clone();
            if d["status"] == "delivered" {
                break d;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(d["attempt_history"].as_array().unwrap().len(), 4);
    }
}

/// A second server on the same database (its own dispatcher).
async fn replica(of: &TestApp, env: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_on(
        of.backend.clone(),
        of.database_url.clone(),
        Database::Shared,
        env,
    )
    .await
}

#[tokio::test]
async fn two_replicas_deliver_each_of_200_events_once() {
    for backend in backends() {
        let first = TestApp::spawn_with(backend, FAST).await;
        let second = replica(&first, FAST).await;
        let w = world(first).await;
        let receiver = Receiver::start(&[]).await;
        let sub = subscribe(&w, w.admin(), &receiver.url, &["results.published"], None).await;
        let ping = format!("/api/v1/webhooks/{}/test", sub["id"]);
        for i in 0..200 {
            let app = if i % 2 == 0 { &w.app } else { &second };
            app.post(&ping, w.admin(), &json!({}))
                .await
                .assert_status(202);
        }
        receiver
            .wait_for("200 events", |all| {
                all.iter()
                    .map(Received::id)
                    .collect::<std::collections::HashSet<_>>()
                    .len()
                    == 200
            })
            .await;
        // Give a duplicate time to show up.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(receiver.all().len(), 200, "each event delivered once");
    }
}

#[tokio::test]
async fn a_milestone_due_soon_fires_once_across_replicas_and_restarts() {
    for backend in backends() {
        let first = TestApp::spawn_with(backend.clone(), FAST).await;
        let w = world(first).await;
        let receiver = Receiver::start(&[]).await;
        let officer = w.token(Persona::OfficerA).to_string();
        subscribe(
            &w,
            &officer,
            &receiver.url,
            &[
                "remediation.milestone_due_soon",
                "remediation.milestone_overdue",
            ],
            None,
        )
        .await;
        let framework = w.published_framework(w.id("district")).await;
        let (_, appraisal) = w.seed_appraisal(framework).await;
        let today = chrono::Utc::now().date_naive();
        let plan = w
            .app
            .post(
                "/api/v1/remediation-plans",
                w.admin(),
                &json!({"appraisal_id": appraisal, "milestones": [
                    {"label": "đợt 1", "due_on": today - chrono::Duration::days(2)},
                    {"label": "đợt 2", "due_on": today + chrono::Duration::days(3)},
                    {"label": "đợt 3", "due_on": today + chrono::Duration::days(60)}
                ]}),
            )
            .await;
        plan.assert_status(201);
        let items = plan.json["items"].as_array().unwrap().len();
        // Two more replicas notice the same deadlines, one of them started later.
        let second = replica(&w.app, FAST).await;
        let all = receiver
            .wait_for("every item's due-soon and overdue milestone", |all| {
                all.len() >= 2 * items
            })
            .await;
        let third = replica(&w.app, FAST).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let all_after = receiver.all();
        assert_eq!(all_after.len(), all.len(), "nothing fires twice");
        assert_eq!(
            of_type(&all_after, "remediation.milestone_due_soon").len(),
            items
        );
        assert_eq!(
            of_type(&all_after, "remediation.milestone_overdue").len(),
            items
        );
        let milestones: std::collections::HashSet<i64> = all_after
            .iter()
            .map(|r| r.json()["data"]["milestone_id"].as_i64().unwrap())
            .collect();
        assert_eq!(milestones.len(), 2 * items, "one event per milestone");
        drop((second, third));
    }
}

#[tokio::test]
async fn webhook_urls_must_be_public_https() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let w = world(app).await;
        for url in [
            "http://203.113.131.1/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.8/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://localhost/hook",
            "ftp://203.113.131.1/",
            "not a url",
        ] {
            let refused = w
                .app
                .post(
                    "/api/v1/webhooks",
                    w.admin(),
                    &json!({"url": url, "events": ["results.published"]}),
                )
                .await;
            refused.assert_problem(422, Some("validation_failed"));
            assert_eq!(
                refused.json["errors"][0]["field"], "url",
                "{url}: {}",
                refused.text
            );
        }
        let ok = w
            .app
            .post(
                "/api/v1/webhooks",
                w.admin(),
                &json!({"url": "https://203.113.131.1/hook", "events": ["results.published"]}),
            )
            .await;
        ok.assert_status(201);
        // Changing it to a private address is refused the same way.
        w.app
            .patch(
                &format!("/api/v1/webhooks/{}", ok.json["id"]),
                w.admin(),
                &json!({"url": "https://192.168.1.10/hook"}),
            )
            .await
            .assert_problem(422, Some("validation_failed"));
    }
}
