//! Races: the same change sent many times at once, and two changes that must not both
//! happen. SQLite's single writer hides them; PostgreSQL runs transactions side by side,
//! so these tests are the ones that matter there. Each ends in a state some serial order
//! of the requests gives, with one audit event and one webhook event per change.

use crate::fixtures::{Persona, World, fixture_framework_json, seed_council_entries, world};
use crate::helpers::{Resp, TestApp, backends};
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

/// Enough connections and workers that the parallel requests really run side by side.
pub const PARALLEL: &[(&str, &str)] = &[
    ("PARINDEX_DB_MAX_CONNECTIONS", "24"),
    ("PARINDEX_WORKERS", "4"),
];

/// One number from the test's database.
async fn count(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    let db = &app.state.db;
    let backend: DbBackend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

fn statuses(responses: &[Resp]) -> Vec<u16> {
    let mut s: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    s.sort_unstable();
    s
}

/// A district whose framework takes appeals; commune A's file submitted and appraised by
/// the council (the seed's figures), its preliminary results released. Returns the world,
/// the framework and commune A's appraisal.
pub(crate) async fn released_appraisal(app: TestApp) -> (World, i64, i64) {
    let w = world(app).await;
    let mut spec = fixture_framework_json(&w.id("district").to_string());
    spec["appeal_days"] = json!(10);
    let framework = w.app.post("/api/v1/frameworks", w.admin(), &spec).await;
    framework.assert_status(201);
    let framework = framework.json["id"].as_i64().unwrap();
    w.app
        .post(
            &format!("/api/v1/frameworks/{framework}/publish"),
            w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
    let sa = w
        .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
        .await;
    w.app
        .put(
            &format!("/api/v1/self-assessments/{sa}/entries"),
            w.token(Persona::OfficerA),
            &json!({"entries": crate::fixtures::seed_self_entries()}),
        )
        .await
        .assert_status(200);
    let appraisal = w
        .app
        .post(
            &format!("/api/v1/self-assessments/{sa}/submit"),
            w.token(Persona::OfficerA),
            &json!({}),
        )
        .await
        .json["appraisal_id"]
        .as_i64()
        .unwrap();
    w.app
        .put(
            &format!("/api/v1/appraisals/{appraisal}/entries"),
            w.token(Persona::Appraiser),
            &json!({"entries": seed_council_entries()}),
        )
        .await
        .assert_status(200);
    w.app
        .post(
            "/api/v1/preliminary-results",
            w.token(Persona::Appraiser),
            &json!({"parent_unit_id": w.id("district"), "year": 2023}),
        )
        .await
        .assert_status(201);
    (w, framework, appraisal)
}

fn appeal(code: &str) -> Value {
    json!({"criterion_code": code, "reason": "Đơn vị đã có tài liệu kiểm chứng bổ sung"})
}

#[tokio::test]
async fn twenty_decisions_on_one_appeal_answer_it_once() {
    for backend in backends() {
        eprintln!("-- running on {}", backend.name());
        let app = TestApp::spawn_with(backend, PARALLEL).await;
        let (w, _, appraisal) = released_appraisal(app).await;
        let filed = w
            .app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/appeals"),
                w.token(Persona::OfficerA),
                &appeal("1.5.3"),
            )
            .await;
        filed.assert_status(201);
        let id = filed.json["id"].as_i64().unwrap();
        let decide = format!("/api/v1/appeals/{id}/decision");
        // Rejections and acceptances mixed, as two council members clicking at once.
        let bodies: Vec<Value> = (0..20)
            .map(|i| {
                if i % 3 == 0 {
                    json!({"accepted": true, "response": format!("Chấp nhận ({i})"),
                           "entry": {"criterion_code": "1.5.3", "score": "1"}})
                } else {
                    json!({"accepted": false, "response": format!("Giữ nguyên ({i})")})
                }
            })
            .collect();
        let appraiser = w.token(Persona::Appraiser);
        let answers = join_all(bodies.iter().map(|b| w.app.post(&decide, appraiser, b))).await;
        let codes = statuses(&answers);
        assert_eq!(
            codes.iter().filter(|s| **s == 200).count(),
            1,
            "exactly one decision: {codes:?}"
        );
        for r in answers.iter().filter(|r| r.status != 200) {
            r.assert_problem(409, Some("appeal_decided"));
        }
        let winner = answers.iter().find(|r| r.status == 200).unwrap();
        let stored = w.app.get(&format!("/api/v1/appeals/{id}"), appraiser).await;
        assert_eq!(stored.json["status"], winner.json["status"]);
        assert_eq!(stored.json["response"], winner.json["response"]);
        assert_eq!(
            count(
                &w.app,
                "SELECT COUNT(*) FROM audit_events WHERE entity = 'appeal' AND entity_id = $1 \
                 AND action = 'decide'",
                vec![id.into()],
            )
            .await,
            1,
            "one audit event"
        );
        assert_eq!(
            count(
                &w.app,
                "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'appeal.decided'",
                vec![],
            )
            .await,
            1,
            "one appeal.decided event, so one webhook per subscriber"
        );
        let accepted = winner.json["status"] == "accepted";
        let entry = w
            .app
            .get(&format!("/api/v1/appraisals/{appraisal}"), appraiser)
            .await;
        let e153 = entry.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["criterion_code"] == "1.5.3")
            .unwrap()
            .clone();
        if accepted {
            assert_eq!(e153["appraised_score"], "1.00", "{e153}");
        } else {
            assert_ne!(e153["appraised_score"], "1.00", "{e153}");
        }
    }
}

#[tokio::test]
async fn forty_filings_on_one_criterion_leave_one_open_appeal() {
    for backend in backends() {
        eprintln!("-- running on {}", backend.name());
        let app = TestApp::spawn_with(backend, PARALLEL).await;
        let (w, _, appraisal) = released_appraisal(app).await;
        let path = format!("/api/v1/appraisals/{appraisal}/appeals");
        let officer = w.token(Persona::OfficerA);
        let body = appeal("1.5.3");
        let answers = join_all((0..40).map(|_| w.app.post(&path, officer, &body))).await;
        let codes = statuses(&answers);
        assert_eq!(
            codes.iter().filter(|s| **s == 201).count(),
            1,
            "exactly one filing: {codes:?}"
        );
        for r in answers.iter().filter(|r| r.status != 201) {
            r.assert_problem(409, Some("appeal_open"));
        }
        let open = w
            .app
            .get(
                &format!("/api/v1/appeals?appraisal_id={appraisal}&status=open"),
                officer,
            )
            .await;
        open.assert_status(200);
        assert_eq!(open.json["total"], 1, "{}", open.text);
        assert_eq!(
            count(
                &w.app,
                "SELECT COUNT(*) FROM appeals WHERE appraisal_id = $1",
                vec![appraisal.into()],
            )
            .await,
            1,
            "nothing half-stored"
        );
        assert_eq!(
            count(
                &w.app,
                "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'appeal.filed'",
                vec![],
            )
            .await,
            1
        );
    }
}

#[tokio::test]
async fn a_finalization_and_an_appeal_sent_together_never_both_happen() {
    for backend in backends() {
        eprintln!("-- running on {}", backend.name());
        let app = TestApp::spawn_with(backend, PARALLEL).await;
        let (w, _, appraisal) = released_appraisal(app).await;
        let appraiser = w.token(Persona::Appraiser);
        let officer = w.token(Persona::OfficerA);
        let finalize = format!("/api/v1/appraisals/{appraisal}/finalize");
        let appeals = format!("/api/v1/appraisals/{appraisal}/appeals");
        // Ten rounds, each from an appraisal in progress with no open appeal.
        let codes = [
            "1.4.1", "1.5.1", "1.5.3", "1.5.4", "2.4.2", "3.11.1", "3.11.2", "3.12.1", "3.12.2",
            "3.13.1",
        ];
        let (mut finalized, mut appealed) = (0, 0);
        for code in codes {
            let body = appeal(code);
            let empty = json!({});
            let (f, a) = tokio::join!(
                w.app.post(&finalize, appraiser, &empty),
                w.app.post(&appeals, officer, &body)
            );
            match (f.status.as_u16(), a.status.as_u16()) {
                (200, _) => {
                    a.assert_problem(409, Some("appraisal_finalized"));
                    finalized += 1;
                }
                (_, 201) => {
                    f.assert_problem(409, Some("appeal_open"));
                    appealed += 1;
                }
                other => panic!("{code}: {other:?}: {} / {}", f.text, a.text),
            }
            // The state is one a serial order gives: a finalized appraisal has no open
            // appeal.
            let state = w
                .app
                .get(&format!("/api/v1/appraisals/{appraisal}"), appraiser)
                .await;
            let open = count(
                &w.app,
                "SELECT COUNT(*) FROM appeals WHERE appraisal_id = $1 AND status = 'open'",
                vec![appraisal.into()],
            )
            .await;
            if state.json["status"] == "finalized" {
                assert_eq!(open, 0, "{code}: a finalized appraisal with an open appeal");
                w.app
                    .post(
                        &format!("/api/v1/appraisals/{appraisal}/reopen"),
                        w.admin(),
                        &json!({"reason": "Vòng thử tiếp theo"}),
                    )
                    .await
                    .assert_status(200);
            } else {
                assert_eq!(open, 1, "{code}");
                let id = a.json["id"].as_i64().unwrap();
                w.app
                    .post(
                        &format!("/api/v1/appeals/{id}/decision"),
                        appraiser,
                        &json!({"accepted": false, "response": "Giữ nguyên"}),
                    )
                    .await
                    .assert_status(200);
            }
        }
        eprintln!("finalize first {finalized}, appeal first {appealed}");
    }
}

async fn finalize(w: &World, id: i64) -> Resp {
    w.app
        .post(
            &format!("/api/v1/appraisals/{id}/finalize"),
            w.token(Persona::Appraiser),
            &json!({}),
        )
        .await
}

async fn reopen(w: &World, id: i64, why: String) -> Resp {
    w.app
        .post(
            &format!("/api/v1/appraisals/{id}/reopen"),
            w.admin(),
            &json!({"reason": why}),
        )
        .await
}

/// The publication of the district's 2023 results, current revision (or none).
async fn current_publication(w: &World) -> Option<Value> {
    let list = w
        .app
        .get(
            &format!(
                "/api/v1/publications?parent_unit_id={}&year=2023",
                w.id("district")
            ),
            w.token(Persona::Appraiser),
        )
        .await;
    list.assert_status(200);
    let items = list.json.get("items").unwrap_or(&list.json).clone();
    items
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["superseded_by"].is_null())
        .max_by_key(|p| p["revision"].as_i64())
        .cloned()
}

#[tokio::test]
async fn a_publication_and_a_reopen_sent_together_end_as_one_then_the_other() {
    for backend in backends() {
        eprintln!("-- running on {}", backend.name());
        let app = TestApp::spawn_with(backend, PARALLEL).await;
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let a = w
            .quick_file(framework, w.id("commune_a"), "90.00", "0")
            .await;
        let b = w
            .quick_file(framework, w.id("commune_b"), "80.00", "0")
            .await;
        let appraiser = w.token(Persona::Appraiser);
        let publish = json!({"parent_unit_id": w.id("district"), "year": 2023});
        w.app
            .post("/api/v1/publications", appraiser, &publish)
            .await
            .assert_status(201);
        let (mut publish_first, mut reopen_first) = (0, 0);
        for round in 0..10 {
            // A new revision is due: commune B was reopened and finalized again.
            reopen(&w, b, format!("Vòng {round}: rà soát lại"))
                .await
                .assert_status(200);
            finalize(&w, b).await.assert_status(200);
            // The race: publishing the district while commune A is reopened.
            let (p, r) = tokio::join!(
                w.app.post("/api/v1/publications", appraiser, &publish),
                reopen(&w, a, format!("Vòng {round}: kiến nghị"))
            );
            r.assert_status(200);
            let current = current_publication(&w).await.expect("a publication");
            match p.status.as_u16() {
                201 => {
                    // Whether it ranked commune A (published first) or not, a revision
                    // that announced A's result is marked reopened now.
                    publish_first += 1;
                    assert!(
                        !current["reopened_at"].is_null(),
                        "round {round}: revision {} announced A, A is reopened, and \
                         nothing marks it: {current}",
                        current["revision"]
                    );
                }
                409 => {
                    reopen_first += 1;
                    p.assert_problem(409, Some("appraisal_reopened"));
                }
                other => panic!("round {round}: publish answered {other}: {}", p.text),
            }
            // The council finalizes A again: the district publishes its next revision.
            finalize(&w, a).await.assert_status(200);
            let next = w
                .app
                .post("/api/v1/publications", appraiser, &publish)
                .await;
            next.assert_status(201);
            let index = w
                .app
                .get(
                    &format!("/api/v1/units/{}/index?year=2023", w.id("commune_a")),
                    appraiser,
                )
                .await;
            index.assert_status(200);
            assert_eq!(
                index.json["index"], "90.00",
                "round {round}: {}",
                index.text
            );
        }
        eprintln!("publish first {publish_first}, reopen first {reopen_first}");
    }
}

#[tokio::test]
async fn twelve_replacements_of_one_mapping_leave_it_once() {
    for backend in backends() {
        let w = world(TestApp::spawn_with(backend, PARALLEL).await).await;
        let admin = w.admin();
        let district = w.id("district").to_string();
        let f2023 = w.published_spec(&fixture_framework_json(&district)).await;
        let copied = w
            .app
            .post(
                &format!("/api/v1/frameworks/{f2023}/copy"),
                admin,
                &json!({"year": 2024}),
            )
            .await;
        copied.assert_status(201);
        let f2024 = copied.json["id"].as_i64().unwrap();
        let path = format!("/api/v1/frameworks/{f2024}/mappings");
        let before = w.app.get(&path, admin).await;
        before.assert_status(200);
        let rows = before.json["items"][0]["mappings"].clone();
        let body = json!({"from_framework_id": f2023, "mappings": rows});
        let answers = join_all((0..12).map(|_| w.app.put(&path, admin, &body))).await;
        assert_eq!(statuses(&answers), vec![200; 12]);
        let after = w.app.get(&path, admin).await;
        assert_eq!(after.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(after.json["items"][0]["mappings"], rows, "each row once");
        let stored = count(
            &w.app,
            "SELECT COUNT(*) FROM criterion_mappings WHERE framework_id = $1",
            vec![f2024.into()],
        )
        .await;
        assert_eq!(stored as usize, rows.as_array().unwrap().len());
    }
}

#[tokio::test]
async fn fifteen_feeds_asked_at_once_make_ten() {
    for backend in backends() {
        let w = world(TestApp::spawn_with(backend, PARALLEL).await).await;
        let officer = w.token(Persona::OfficerA);
        let bodies: Vec<Value> = (0..15)
            .map(|i| json!({"name": format!("máy {i}")}))
            .collect();
        let answers = join_all(
            bodies
                .iter()
                .map(|b| w.app.post("/api/v1/calendar/feeds", officer, b)),
        )
        .await;
        let made = answers.iter().filter(|r| r.status == 201).count();
        let refused = answers.iter().filter(|r| r.status == 409).count();
        assert_eq!((made, refused), (10, 5), "{:?}", statuses(&answers));
        let live = count(
            &w.app,
            "SELECT COUNT(*) FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL",
            vec![w.id("user_officer_a").into()],
        )
        .await;
        assert_eq!(live, 10);
    }
}

#[tokio::test]
async fn ten_replacements_of_one_accounts_preferences_leave_one_set() {
    for backend in backends() {
        let w = world(TestApp::spawn_with(backend, PARALLEL).await).await;
        let officer = w.token(Persona::OfficerA);
        let bodies: Vec<Value> = (0..10)
            .map(|i| {
                json!({"email": format!("officer{i}@vinhlong.gov.vn"), "items": [
                    {"kind": "self_assessment.returned", "in_app": true, "email": "daily"},
                    {"kind": "results.published", "in_app": i % 2 == 0, "email": "off"}
                ]})
            })
            .collect();
        let answers = join_all(
            bodies
                .iter()
                .map(|b| w.app.put("/api/v1/notifications/preferences", officer, b)),
        )
        .await;
        assert_eq!(statuses(&answers), vec![200; 10]);
        let stored = count(
            &w.app,
            "SELECT COUNT(*) FROM notification_preferences WHERE user_id = $1",
            vec![w.id("user_officer_a").into()],
        )
        .await;
        assert_eq!(stored, 2, "one set of rows, whoever came last");
    }
}
