//! What replicas learn of each other's commits (`changes`: PostgreSQL's LISTEN/NOTIFY):
//! every committed write announces itself, and a notice from another replica makes this
//! one's caches stale at once, however long their time limit. (Two replicas in one test
//! process share their caches' write generation, so "another replica" is the database
//! itself here: a change written behind the server's back, then its notice.
//! `bench/replicas.py` measures two real processes.)

use crate::helpers::{Backend, TestApp, backends};
use parindex_api::changes::CHANNEL;
use sea_orm::ConnectionTrait;
use sea_orm::sqlx::postgres::PgListener;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn another_replicas_commit_makes_cached_accounts_stale_at_once() {
    for backend in backends() {
        // A minute-long account cache: only a notice can end it early.
        let app =
            TestApp::spawn_with(backend.clone(), &[("PARINDEX_AUTH_CACHE_MS", "60000")]).await;
        let admin = app.admin_token().await;
        let created = app
            .post(
                "/api/v1/users",
                &admin,
                &json!({"username": "replica.probe", "password": "probe-password-0001",
                        "full_name": "Probe", "role": "admin"}),
            )
            .await;
        created.assert_status(201);
        let id = created.json["id"].as_i64().unwrap();
        let token = app.login("replica.probe", "probe-password-0001").await;
        app.get("/api/v1/auth/me", &token).await.assert_status(200);

        // Deactivated behind this server's back (as by a process that announces nothing):
        // the cached account still passes: the cache is on.
        let off = if matches!(backend, Backend::Sqlite) {
            "0"
        } else {
            "FALSE"
        };
        app.state
            .db
            .execute_unprepared(&format!("UPDATE users SET active = {off} WHERE id = {id}"))
            .await
            .unwrap();
        app.get("/api/v1/auth/me", &token).await.assert_status(200);
        if matches!(backend, Backend::Sqlite) {
            continue; // one process: nobody else to hear
        }

        // Another replica's commit is announced: this one refuses the token at once.
        let announced = Instant::now();
        app.state
            .db
            .execute_unprepared(&format!("NOTIFY {CHANNEL}, 'another-replica'"))
            .await
            .unwrap();
        loop {
            let status = app.get("/api/v1/auth/me", &token).await.status;
            if status == 401 {
                break;
            }
            assert!(
                announced.elapsed() < Duration::from_secs(2),
                "still {status} 2 s after another replica's notice"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn every_committed_write_is_announced_and_a_rolled_back_one_is_not() {
    for backend in backends() {
        let app = TestApp::spawn(backend.clone()).await;
        let admin = app.admin_token().await;
        // SQLite has one process: nothing to announce, the same writes answer the same.
        let mut listener = match &backend {
            Backend::Postgres(_) => {
                let mut l = PgListener::connect(&app.database_url).await.unwrap();
                l.listen(CHANNEL).await.unwrap();
                Some(l)
            }
            Backend::Sqlite => None,
        };
        let province = |code: &str| json!({"code": code, "name": "Tỉnh X", "kind": "province"});
        // A refused write (422) commits nothing and announces nothing.
        app.post("/api/v1/units", &admin, &province(""))
            .await
            .assert_status(422);
        if let Some(l) = &mut listener {
            let heard = tokio::time::timeout(Duration::from_millis(300), l.recv()).await;
            assert!(heard.is_err(), "a write that did not commit was announced");
        }
        app.post("/api/v1/units", &admin, &province("X1"))
            .await
            .assert_status(201);
        if let Some(l) = &mut listener {
            let notice = tokio::time::timeout(Duration::from_secs(2), l.recv())
                .await
                .expect("the commit was announced within 2 s")
                .expect("a notice");
            assert!(!notice.payload().is_empty(), "the notice names its replica");
        }
    }
}
