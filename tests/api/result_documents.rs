//! Stored results documents (`services::results::documents`): a ranking, a district's
//! criteria losses or a unit's index is served from the body stored by an earlier read,
//! byte for byte what the live read gives, never after a write it did not see, and to
//! nobody the live read would refuse.

use crate::fixtures::{Persona, World, world};
use crate::helpers::{Backend, Database, TestApp, backends};
use crate::results::vinh_linh;
use sea_orm::ConnectionTrait;
use serde_json::json;
use std::time::{Duration, Instant};

/// Every read reaches the database: no process cache in front of the documents.
const UNCACHED: [(&str, &str); 2] = [
    ("PARINDEX_RESULTS_CACHE_MS", "0"),
    ("PARINDEX_AUTH_CACHE_MS", "0"),
];

/// The reads that are stored as documents, for the demo district of `w`.
fn reads(w: &World, commune: i64) -> Vec<String> {
    let (province, district) = (w.id("province"), w.id("district"));
    vec![
        format!("/api/v1/rankings?parent_unit_id={district}&year=2023"),
        format!("/api/v1/rankings?parent_unit_id={province}&year=2023&depth=all"),
        "/api/v1/rankings?year=2023&depth=all".to_string(),
        format!("/api/v1/units/{commune}/index?year=2023"),
        format!("/api/v1/rankings/criteria?parent_unit_id={district}&year=2023"),
        format!("/api/v1/rankings/criteria?parent_unit_id={province}&year=2023&depth=all"),
    ]
}

async fn stored_documents(app: &TestApp) -> i64 {
    let row = app
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM result_documents",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Documents are stored after the response: wait until `n` are.
async fn wait_for_documents(app: &TestApp, n: i64) {
    let started = Instant::now();
    while stored_documents(app).await < n {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{n} documents were not stored within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn execute(app: &TestApp, sql: &str) {
    app.state.db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn a_stored_document_is_the_live_read_byte_for_byte_until_a_write() {
    for backend in backends() {
        let w = world(TestApp::spawn_with(backend.clone(), &UNCACHED).await).await;
        let (ids, _) = vinh_linh(&w).await;
        let commune = ids["19744"];
        let reads = reads(&w, commune);
        assert_eq!(stored_documents(&w.app).await, 0);

        // A replica that stores no documents, on the same database: the live reads.
        let live = TestApp::spawn_on(
            backend.clone(),
            w.app.database_url.clone(),
            Database::Shared,
            &[
                UNCACHED[0],
                UNCACHED[1],
                ("PARINDEX_RESULT_DOCUMENTS", "false"),
            ],
        )
        .await;
        let live_admin = live.admin_token().await;
        let mut expected = Vec::new();
        for path in &reads {
            let r = live.get(path, &live_admin).await;
            r.assert_status(200);
            expected.push(r.bytes);
        }
        assert_eq!(
            stored_documents(&w.app).await,
            0,
            "documents off stores none"
        );

        // The first read builds and stores each document; the second is served from it.
        for (path, want) in reads.iter().zip(&expected) {
            let first = w.app.get(path, w.admin()).await;
            first.assert_status(200);
            assert_eq!(&first.bytes, want, "{path}: first read");
        }
        wait_for_documents(&w.app, reads.len() as i64).await;
        for (path, want) in reads.iter().zip(&expected) {
            let again = w.app.get(path, w.admin()).await;
            assert_eq!(&again.bytes, want, "{path}: from its document");
            assert_eq!(
                again.header("content-type"),
                Some("application/json"),
                "{path}"
            );
        }

        // Served from the document indeed: a body changed behind the service's back shows.
        execute(
            &w.app,
            "UPDATE result_documents SET body = REPLACE(body, 'Xã Vĩnh Long', 'Planted') \
             WHERE kind = 'unit_index'",
        )
        .await;
        let index_path = &reads[3];
        let planted = w.app.get(index_path, w.admin()).await;
        assert_eq!(planted.json["unit_name"], "Planted");

        // Any committed write makes every document stale: the next read is live again.
        w.app
            .patch(
                &format!("/api/v1/units/{commune}"),
                w.admin(),
                &json!({"name": "Xã Vĩnh Long Mới"}),
            )
            .await
            .assert_status(200);
        let after = w.app.get(index_path, w.admin()).await;
        after.assert_status(200);
        assert_eq!(after.json["unit_name"], "Xã Vĩnh Long Mới");
        let ranking = w.app.get(&reads[0], w.admin()).await;
        let names: Vec<&str> = ranking.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["unit_name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"Xã Vĩnh Long Mới"), "{names:?}");
        for path in &reads {
            let fresh = w.app.get(path, w.admin()).await;
            let want = live.get(path, &live_admin).await;
            assert_eq!(fresh.bytes, want.bytes, "{path}: after the write");
        }
        eprintln!("-- documents checked on {}", backend.name());
    }
}

#[tokio::test]
async fn a_document_stored_for_one_caller_is_refused_to_those_the_live_read_refuses() {
    for backend in backends() {
        let w = world(TestApp::spawn_with(backend.clone(), &UNCACHED).await).await;
        let (ids, _) = vinh_linh(&w).await;
        let commune = ids["19744"];
        let district = w.id("district");
        let ranking = format!("/api/v1/rankings?parent_unit_id={district}&year=2023");
        let losses = format!("/api/v1/rankings/criteria?parent_unit_id={district}&year=2023");
        let index = format!("/api/v1/units/{commune}/index?year=2023");
        let country = "/api/v1/rankings?year=2023&depth=all".to_string();
        // The district's appraiser reads everything of the district, not yet published.
        for path in [&ranking, &losses, &index] {
            w.app
                .get(path, w.token(Persona::Appraiser))
                .await
                .assert_status(200);
        }
        w.app.get(&country, w.admin()).await.assert_status(200);
        wait_for_documents(&w.app, 4).await;

        // Stored, yet every other caller is checked as the live read checks them.
        let refused = [
            (Persona::OfficerA, &ranking),
            (Persona::OfficerA, &losses),
            (Persona::OfficerA, &index),
            (Persona::Viewer, &ranking),
            (Persona::OtherAppraiser, &ranking),
            (Persona::OtherAppraiser, &losses),
            (Persona::OtherAppraiser, &index),
            (Persona::Appraiser, &country),
            (Persona::OfficerA, &country),
        ];
        for (persona, path) in refused {
            w.app
                .get(path, w.token(persona))
                .await
                .assert_problem(403, None);
        }

        // Published: the unit's officer and the district's viewer may read them now, from
        // documents built after the publication (a write) and stored for them.
        w.app
            .post(
                "/api/v1/publications",
                w.token(Persona::Appraiser),
                &json!({"parent_unit_id": district, "year": 2023}),
            )
            .await
            .assert_status(201);
        for (persona, path) in [
            (Persona::OfficerA, &index),
            (Persona::OfficerA, &ranking),
            (Persona::Viewer, &ranking),
            (Persona::Viewer, &losses),
        ] {
            let first = w.app.get(path, w.token(persona)).await;
            first.assert_status(200);
            let again = w.app.get(path, w.token(persona)).await;
            assert_eq!(first.bytes, again.bytes, "{persona:?} {path}");
        }
        // Still not the other district's, nor a commune's of another unit.
        w.app
            .get(&index, w.token(Persona::OtherAppraiser))
            .await
            .assert_problem(403, None);
        w.app
            .get(&country, w.token(Persona::Viewer))
            .await
            .assert_problem(403, None);
    }
}

/// PostgreSQL: readers storing documents while a write commits never leave a document
/// that hides the write (the generation moves on after each commit, before the write is
/// acknowledged; a document is stamped with the generation read before its data).
#[tokio::test]
async fn documents_stored_by_parallel_readers_never_hide_an_acknowledged_write() {
    for backend in backends() {
        if matches!(backend, Backend::Sqlite) {
            continue; // one writer, bumped inside it: the first test covers SQLite
        }
        let w = world(
            TestApp::spawn_with(
                backend.clone(),
                &[
                    UNCACHED[0],
                    UNCACHED[1],
                    ("PARINDEX_DB_MAX_CONNECTIONS", "12"),
                ],
            )
            .await,
        )
        .await;
        let (ids, _) = vinh_linh(&w).await;
        let commune = ids["19744"];
        let path = format!("/api/v1/units/{commune}/index?year=2023");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..6 {
            let client = w.app.client.clone();
            let url = w.app.url(&path);
            let token = w.admin().to_string();
            let stop = stop.clone();
            readers.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let _ = client.get(&url).bearer_auth(&token).send().await;
                }
            }));
        }
        for round in 0..15 {
            let name = format!("Xã Vĩnh Long {round}");
            w.app
                .patch(
                    &format!("/api/v1/units/{commune}"),
                    w.admin(),
                    &json!({ "name": name }),
                )
                .await
                .assert_status(200);
            // Acknowledged: every read from now on shows it, stored documents or not.
            for _ in 0..5 {
                let r = w.app.get(&path, w.admin()).await;
                assert_eq!(r.json["unit_name"], name.as_str(), "round {round}");
            }
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for r in readers {
            r.await.unwrap();
        }
    }
}
