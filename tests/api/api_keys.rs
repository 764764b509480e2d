//! API keys for systems: a key acts as the account that made it and never more (a `read`
//! key only reads; the account's scope decides what it reaches), is shown once and stored
//! hashed, is named in the audit trail, and stops at once when revoked, expired, or its
//! account deactivated. Keys cannot make keys.

use crate::fixtures::{Persona, world};
use crate::helpers::on_each_backend;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

#[tokio::test]
async fn a_key_acts_as_its_account_and_never_more() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let officer = w.token(Persona::OfficerA);

        // Bad requests are named field by field, and make nothing.
        let bad = w
            .app
            .post(
                "/api/v1/api-keys",
                officer,
                &json!({"name": " ", "scopes": ["admin"], "expires_at": "2020-01-01T00:00:00Z"}),
            )
            .await;
        bad.assert_problem(422, None);
        for field in ["name", "scopes[0]", "expires_at"] {
            assert!(bad.text.contains(field), "{field}: {}", bad.text);
        }

        let made = w
            .app
            .post(
                "/api/v1/api-keys",
                officer,
                &json!({"name": "Phần mềm một cửa xã Vĩnh Long", "scopes": ["read", "write"]}),
            )
            .await;
        made.assert_status(201);
        assert_eq!(made.header("cache-control"), Some("no-store"));
        let key = made.json["key"].as_str().unwrap().to_string();
        assert!(key.starts_with("pik_") && key.starts_with(made.json["prefix"].as_str().unwrap()));
        assert_eq!(made.json["scopes"], json!(["read", "write"]));
        let key_id = made.json["id"].as_i64().unwrap();

        // It is the officer: the same account, the same reach.
        let me = w.app.get("/api/v1/auth/me", &key).await;
        me.assert_status(200);
        assert_eq!(me.json["username"], "officer.a");
        let framework = w.published_framework(w.id("district")).await;
        let opened = w
            .app
            .post(
                "/api/v1/self-assessments",
                &key,
                &json!({"unit_id": w.id("commune_a"), "framework_id": framework}),
            )
            .await;
        opened.assert_status(201);
        let sa = opened.json["id"].as_i64().unwrap();
        // Never more than the account: another commune's file is refused to both alike.
        let theirs = json!({"unit_id": w.id("commune_b"), "framework_id": framework});
        let by_token = w
            .app
            .post("/api/v1/self-assessments", officer, &theirs)
            .await;
        let by_key = w.app.post("/api/v1/self-assessments", &key, &theirs).await;
        assert_eq!(by_key.status, by_token.status);
        assert!(by_key.status.is_client_error());
        // The trail names the key.
        let trail = w
            .app
            .get(
                &format!("/api/v1/audit-events?entity=self_assessment&entity_id={sa}"),
                admin,
            )
            .await;
        trail.assert_status(200);
        let prefix = made.json["prefix"].as_str().unwrap();
        assert_eq!(
            trail.json["items"][0]["actor_username"],
            format!("officer.a via key {prefix}")
        );
        // Keys cannot make or revoke keys.
        w.app
            .post(
                "/api/v1/api-keys",
                &key,
                &json!({"name": "x", "scopes": ["read"]}),
            )
            .await
            .assert_problem(403, None);

        // A read key reads, and is refused every write.
        let read = w
            .app
            .post(
                "/api/v1/api-keys",
                officer,
                &json!({"name": "Báo cáo tổng hợp", "scopes": ["read"]}),
            )
            .await;
        read.assert_status(201);
        let read_key = read.json["key"].as_str().unwrap().to_string();
        w.app
            .get(&format!("/api/v1/self-assessments/{sa}"), &read_key)
            .await
            .assert_status(200);
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                &read_key,
                &json!({"entries": []}),
            )
            .await
            .assert_problem(403, None);

        // Listed without the key, by its owner; an admin sees every key; another account
        // cannot revoke it.
        let listed = w.app.get("/api/v1/api-keys", officer).await;
        listed.assert_status(200);
        assert_eq!(listed.json["total"], 2);
        assert!(!listed.text.contains(&key) && !listed.text.contains(&read_key));
        assert!(
            listed.json["items"][1]["last_used_at"].is_string(),
            "{}",
            listed.text
        );
        let all = w.app.get("/api/v1/api-keys", admin).await;
        assert_eq!(all.json["total"], 2);
        let other = w
            .app
            .get("/api/v1/api-keys", w.token(Persona::OfficerB))
            .await;
        assert_eq!(other.json["total"], 0);
        w.app
            .delete(
                &format!("/api/v1/api-keys/{key_id}"),
                w.token(Persona::OfficerB),
            )
            .await
            .assert_problem(404, None);
        // Stored hashed: no column holds the key.
        let db = &w.app.state.db;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT name, prefix, key_hash, scopes FROM api_keys",
            ))
            .await
            .unwrap();
        for r in rows {
            for column in ["name", "prefix", "key_hash", "scopes"] {
                let v: String = r.try_get("", column).unwrap();
                assert!(
                    !v.contains(&key[4..]) && !v.contains(&read_key[4..]),
                    "{column}"
                );
            }
        }

        // Revoked: the next request is a 401.
        w.app
            .delete(&format!("/api/v1/api-keys/{key_id}"), officer)
            .await
            .assert_status(204);
        w.app
            .get("/api/v1/auth/me", &key)
            .await
            .assert_problem(401, None);

        // Expired: a 401 once its time has passed.
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
        let brief = w
            .app
            .post(
                "/api/v1/api-keys",
                officer,
                &json!({"name": "tạm", "scopes": ["read"], "expires_at": soon}),
            )
            .await;
        brief.assert_status(201);
        let brief = brief.json["key"].as_str().unwrap().to_string();
        w.app
            .get("/api/v1/auth/me", &brief)
            .await
            .assert_status(200);
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        w.app
            .get("/api/v1/auth/me", &brief)
            .await
            .assert_problem(401, None);

        // Deactivating the account revokes its keys, for good.
        w.app
            .get("/api/v1/auth/me", &read_key)
            .await
            .assert_status(200);
        let user = w.id("user_officer_a");
        w.app
            .patch(
                &format!("/api/v1/users/{user}"),
                admin,
                &json!({"active": false}),
            )
            .await
            .assert_status(200);
        w.app
            .get("/api/v1/auth/me", &read_key)
            .await
            .assert_problem(401, None);
        w.app
            .patch(
                &format!("/api/v1/users/{user}"),
                admin,
                &json!({"active": true}),
            )
            .await
            .assert_status(200);
        w.app
            .get("/api/v1/auth/me", &read_key)
            .await
            .assert_problem(401, None);
        let after = w.app.get("/api/v1/api-keys", admin).await;
        assert!(
            after.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k["revoked_at"].is_string() || k["expires_at"].is_string()),
            "{}",
            after.text
        );
    })
    .await;
}
