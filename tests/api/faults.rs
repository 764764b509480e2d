//! Faults and what a file can hide, as a user meets them: a database stalled by another
//! transaction, text XML cannot hold, a name that lies about its kind, a unit filling the
//! store, a very long request line, a flood of errors, an admin signing in a leader's
//! place, addresses that embed loopback. (A database that stops, and a full disk, are
//! `scripts/faults.py`: they need a server of their own.)

use crate::evidence::{pdf, upload_as};
use crate::fixtures::{Persona, World, seed_self_entries, world};
use crate::helpers::{Backend, TestApp, backends, on_each_backend};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A world with a published framework and commune A's self-assessment opened; returns
/// the world and the self-assessment's id.
async fn open_file(w: &World) -> i64 {
    let framework = w.published_framework(w.id("district")).await;
    w.open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
        .await
}

#[tokio::test]
async fn a_stalled_table_holds_only_the_requests_that_need_it_and_those_answer_503() {
    for backend in backends() {
        eprintln!("-- running on {}", backend.name());
        let app = TestApp::spawn_with(
            backend.clone(),
            &[
                ("PARINDEX_DB_LOCK_TIMEOUT_MS", "1000"),
                ("PARINDEX_DB_MAX_CONNECTIONS", "4"),
            ],
        )
        .await;
        let w = world(app).await;
        let sa = open_file(&w).await;
        let officer = w.token(Persona::OfficerA).to_string();
        let entries = format!("/api/v1/self-assessments/{sa}/entries");
        let body = json!({"entries": [seed_self_entries()[0].clone()]});
        // Another client holds the entries (a migration, a stuck script).
        let other = sea_orm::Database::connect(w.app.database_url.as_str())
            .await
            .unwrap();
        let holder = match backend {
            Backend::Postgres(_) => {
                let t = other.begin().await.unwrap();
                t.execute_unprepared("LOCK TABLE assessment_entries IN EXCLUSIVE MODE")
                    .await
                    .unwrap();
                t
            }
            Backend::Sqlite => {
                let t = other
                    .begin_with_options(sea_orm::TransactionOptions {
                        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                t.execute_unprepared("UPDATE health_probe SET at = NULL")
                    .await
                    .unwrap();
                t
            }
        };
        // More writers than connections: each gives up within the lock timeout.
        let started = Instant::now();
        let writes =
            futures_util::future::join_all((0..8).map(|_| w.app.put(&entries, &officer, &body)));
        let reads = async {
            // Meanwhile, what does not need the entries keeps answering.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let ready = w.app.get("/health/live", &officer).await;
            let unit = w
                .app
                .get(&format!("/api/v1/units/{}", w.id("commune_a")), &officer)
                .await;
            (ready, unit)
        };
        let (writes, (live, unit)) = tokio::join!(writes, reads);
        let elapsed = started.elapsed();
        live.assert_status(200);
        unit.assert_status(200);
        for r in &writes {
            r.assert_problem(503, Some("service_unavailable"));
            assert!(r.header("retry-after").is_some(), "{}", r.text);
        }
        assert!(
            elapsed < Duration::from_secs(8),
            "8 stalled writes answered within {elapsed:?}"
        );
        drop(holder);
        let _ = other.close().await;
        // Released: the same write goes through.
        w.app
            .put(&entries, &officer, &body)
            .await
            .assert_status(200);
        w.app
            .get("/health/ready", &officer)
            .await
            .assert_status(200);
    }
}

#[tokio::test]
async fn text_xml_cannot_hold_is_refused_and_never_printed() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let sa = open_file(&w).await;
        let officer = w.token(Persona::OfficerA).to_string();
        let mut entry = seed_self_entries()[0].clone();
        entry["explanation"] = json!("Báo cáo \u{FFFF} số 12");
        let r = w
            .app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                &officer,
                &json!({"entries": [entry]}),
            )
            .await;
        r.assert_problem(422, Some("validation_failed"));
        assert!(r.text.contains("invalid_characters"), "{}", r.text);
        // Nothing was stored.
        let file = w
            .app
            .get(&format!("/api/v1/self-assessments/{sa}"), &officer)
            .await;
        assert!(
            file.json["entries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["self_inputs"].is_null())
        );
        // A paper's parameters too (U+FFFE in a recipient).
        w.app
            .get(
                &format!(
                    "/api/v1/self-assessments/{sa}/report?recipients=UBND%20huy%E1%BB%87n%EF%BF%BE"
                ),
                &officer,
            )
            .await
            .assert_problem(422, Some("validation_failed"));
    })
    .await;
}

#[tokio::test]
async fn a_name_cannot_lie_about_the_kind_of_its_file() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let officer = w.token(Persona::OfficerA).to_string();
        let a = w.id("commune_a");
        // A PDF, by its bytes, named as a Windows batch file.
        let mut bytes = b"%PDF-1.4\r\n@echo off\r\nstart calc.exe\r\n".to_vec();
        bytes.extend_from_slice(&pdf(400));
        for (name, served) in [
            ("Bao cao.bat", "Bao cao.bat.pdf"),
            ("run.hta", "run.hta.pdf"),
            ("page.html", "page.html.pdf"),
            ("Kế hoạch.PDF", "Kế hoạch.PDF"),
        ] {
            let up = upload_as(&w, &officer, a, name, &bytes).await;
            up.assert_status(201);
            assert_eq!(up.json["filename"], served, "{name}");
            assert_eq!(up.json["content_type"], "application/pdf");
            let id = up.json["id"].as_i64().unwrap();
            let got = w
                .app
                .get(&format!("/api/v1/evidence-files/{id}/content"), &officer)
                .await;
            got.assert_status(200);
            let disposition = got.header("content-disposition").unwrap_or_default();
            let ext = served.rsplit('.').next().unwrap();
            assert!(
                disposition.ends_with(&format!(".{ext}\""))
                    || disposition.contains(&format!(".{ext}")),
                "{name}: {disposition}"
            );
            assert!(!disposition.ends_with(".bat\""), "{disposition}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_unit_has_a_quota_a_zip_a_cap_and_deleted_files_free_their_bytes() {
    for backend in backends() {
        eprintln!("-- running on {}", backend.name());
        let app = TestApp::spawn_with(
            backend,
            &[
                ("PARINDEX_EVIDENCE_QUOTA_FILES", "3"),
                ("PARINDEX_EVIDENCE_QUOTA_BYTES", "5000"),
                ("PARINDEX_EVIDENCE_GC_SECONDS", "1"),
                ("PARINDEX_EVIDENCE_GC_GRACE_SECONDS", "0"),
            ],
        )
        .await;
        let w = world(app).await;
        let officer = w.token(Persona::OfficerA).to_string();
        let a = w.id("commune_a");
        let first = upload_as(&w, &officer, a, "a.pdf", &pdf(1500)).await;
        first.assert_status(201);
        upload_as(&w, &officer, a, "b.pdf", &pdf(1600))
            .await
            .assert_status(201);
        // Over the bytes quota: 507, saying the quota and the use; nothing kept.
        let over = upload_as(&w, &officer, a, "c.pdf", &pdf(2500)).await;
        over.assert_problem(507, Some("quota_exceeded"));
        assert!(over.text.contains("5000"), "{}", over.text);
        upload_as(&w, &officer, a, "c.pdf", &pdf(1700))
            .await
            .assert_status(201);
        // Over the files quota.
        upload_as(&w, &officer, a, "d.pdf", &pdf(100))
            .await
            .assert_problem(507, Some("quota_exceeded"));
        // Another unit has its own quota.
        upload_as(
            &w,
            w.token(Persona::OfficerB),
            w.id("commune_b"),
            "x.pdf",
            &pdf(100),
        )
        .await
        .assert_status(201);
        // A deleted file gives its room back, and its bytes leave the store.
        let id = first.json["id"].as_i64().unwrap();
        let sha = first.json["sha256"].as_str().unwrap().to_string();
        w.app
            .delete(&format!("/api/v1/evidence-files/{id}"), &officer)
            .await
            .assert_status(204);
        upload_as(&w, &officer, a, "d.pdf", &pdf(100))
            .await
            .assert_status(201);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let blobs = w.app.state.blobs.list().await.unwrap();
            if !blobs.iter().any(|b| b.sha256 == sha) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the deleted file's blob is still stored"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test]
async fn a_zip_larger_than_its_cap_is_refused() {
    for backend in backends() {
        let app =
            TestApp::spawn_with(backend, &[("PARINDEX_EVIDENCE_ZIP_MAX_BYTES", "2048")]).await;
        let w = world(app).await;
        let sa = open_file(&w).await;
        let officer = w.token(Persona::OfficerA).to_string();
        let mut ids = Vec::new();
        for name in ["a.pdf", "b.pdf"] {
            let up = upload_as(&w, &officer, w.id("commune_a"), name, &pdf(1500)).await;
            up.assert_status(201);
            ids.push(up.json["id"].as_i64().unwrap());
        }
        let mut entry = seed_self_entries()[0].clone();
        entry["evidence"] = json!(
            ids.iter()
                .map(|id| json!({"title": "Kế hoạch", "file_id": id}))
                .collect::<Vec<_>>()
        );
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                &officer,
                &json!({"entries": [entry]}),
            )
            .await
            .assert_status(200);
        w.app
            .get(
                &format!("/api/v1/self-assessments/{sa}/evidence.zip"),
                &officer,
            )
            .await
            .assert_problem(413, Some("zip_too_large"));
    }
}

#[tokio::test]
async fn a_request_line_longer_than_read_is_a_414_problem() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let long = "a".repeat(40 * 1024);
        let r = w
            .app
            .get(&format!("/api/v1/units?q={long}"), w.admin())
            .await;
        r.assert_problem(414, Some("uri_too_long"));
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    })
    .await;
}

#[tokio::test]
async fn a_flood_of_errors_lists_the_first_hundred_and_counts_them_all() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let sa = open_file(&w).await;
        let bad: Vec<Value> = (0..250)
            .map(|i| json!({"criterion_code": format!("9.{i}"), "score": "1"}))
            .collect();
        let r = w
            .app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                w.token(Persona::OfficerA),
                &json!({"entries": bad}),
            )
            .await;
        r.assert_problem(422, Some("validation_failed"));
        assert_eq!(r.json["errors"].as_array().unwrap().len(), 100);
        assert_eq!(r.json["errors_total"], 250);
        assert!(r.text.len() < 40_000, "{} bytes", r.text.len());
    })
    .await;
}

#[tokio::test]
async fn nobody_signs_off_in_a_leaders_place() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let sa = open_file(&w).await;
        let r = w
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa}/approve"),
                w.admin(),
                &json!({}),
            )
            .await;
        r.assert_problem(403, Some("forbidden"));
        let file = w
            .app
            .get(&format!("/api/v1/self-assessments/{sa}"), w.admin())
            .await;
        assert!(
            file.json["approval"].is_null() || file.json["approval"]["approved_by_name"].is_null(),
            "{}",
            file.text
        );
    })
    .await;
}

#[tokio::test]
async fn webhook_addresses_that_embed_loopback_are_refused() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        for url in [
            "https://[::127.0.0.1]/hook",
            "https://[::ffff:0:7f00:1]/hook",
            "https://[2002:7f00:1::]/hook",
            "https://[::ffff:0:a9fe:a9fe]/latest",
        ] {
            let r = w
                .app
                .post(
                    "/api/v1/webhooks",
                    w.admin(),
                    &json!({"url": url, "events": ["results.published"]}),
                )
                .await;
            r.assert_problem(422, Some("validation_failed"));
        }
    })
    .await;
}
