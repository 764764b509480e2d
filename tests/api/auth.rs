//! Login, tokens, throttling, the first admin, password changes and user administration.

use crate::helpers::{ADMIN_PASSWORD, Backend, Resp, TestApp, on_each_backend};
use reqwest::Method;
use serde_json::json;

async fn login_raw(app: &TestApp, username: &str, password: &str) -> Resp {
    Resp::read(
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn the_first_admin_logs_in_and_sees_itself() {
    on_each_backend(|app| async move {
        let resp = login_raw(&app, "admin", ADMIN_PASSWORD).await;
        resp.assert_status(200);
        assert_eq!(resp.json["token_type"], "Bearer");
        assert_eq!(resp.json["expires_in"], 3600);
        let token = resp.json["access_token"].as_str().unwrap().to_string();
        let me = app.get("/api/v1/auth/me", &token).await;
        me.assert_status(200);
        assert_eq!(me.json["username"], "admin");
        assert_eq!(me.json["role"], "admin");
        assert!(me.json.get("password_hash").is_none());
        assert!(!me.text.contains("argon2"), "{}", me.text);
    })
    .await;
}

#[tokio::test]
async fn wrong_user_and_wrong_password_look_the_same() {
    on_each_backend(|app| async move {
        let a = login_raw(&app, "admin", "wrong-password-123").await;
        let b = login_raw(&app, "nobody", "wrong-password-123").await;
        a.assert_problem(401, Some("unauthorized"));
        b.assert_problem(401, Some("unauthorized"));
        assert_eq!(a.json["detail"], b.json["detail"]);
        assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    })
    .await;
}

#[tokio::test]
async fn usernames_are_case_insensitive() {
    on_each_backend(|app| async move {
        login_raw(&app, "  ADMIN ", ADMIN_PASSWORD)
            .await
            .assert_status(200);
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    on_each_backend(|app| async move {
        for _ in 0..5 {
            login_raw(&app, "admin", "wrong-password-123")
                .await
                .assert_status(401);
        }
        // Even the right password waits: the username is locked for the window.
        let resp = login_raw(&app, "admin", ADMIN_PASSWORD).await;
        resp.assert_problem(429, Some("too_many_requests"));
        let retry: u64 = resp.header("retry-after").unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 900, "{retry}");
    })
    .await;
}

#[tokio::test]
async fn failures_from_one_address_are_throttled_across_usernames() {
    for backend in crate::helpers::backends() {
        let app =
            TestApp::spawn_with(backend, &[("PARINDEX_LOGIN_MAX_FAILURES_PER_IP", "3")]).await;
        for name in ["a1", "a2", "a3"] {
            login_raw(&app, name, "wrong-password-123")
                .await
                .assert_status(401);
        }
        login_raw(&app, "a4", "wrong-password-123")
            .await
            .assert_problem(429, None);
    }
}

#[tokio::test]
async fn malformed_login_bodies_are_problems() {
    on_each_backend(|app| async move {
        let url = app.url("/api/v1/auth/login");
        let resp = Resp::read(
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body("{")
                .send()
                .await,
        )
        .await;
        resp.assert_problem(400, Some("malformed_json"));
        let resp = Resp::read(
            app.client
                .post(&url)
                .header("content-type", "text/plain")
                .body("{}")
                .send()
                .await,
        )
        .await;
        resp.assert_problem(415, Some("unsupported_media_type"));
        let resp = Resp::read(
            app.client
                .post(&url)
                .json(&json!({"username": "admin"}))
                .send()
                .await,
        )
        .await;
        resp.assert_problem(422, Some("validation_failed"));
        assert_eq!(resp.json["errors"][0]["field"], "password");
        let resp = Resp::read(
            app.client
                .post(&url)
                .json(&json!({"username": "a", "password": "b", "otp": 1}))
                .send()
                .await,
        )
        .await;
        resp.assert_problem(422, Some("validation_failed"));
        assert_eq!(resp.json["errors"][0]["code"], "unknown_field");
        let big = "x".repeat(2 * 1024 * 1024 + 1);
        let resp = Resp::read(
            app.client
                .post(&url)
                .json(&json!({"username": big, "password": "b"}))
                .send()
                .await,
        )
        .await;
        resp.assert_problem(413, Some("payload_too_large"));
    })
    .await;
}

#[tokio::test]
async fn admins_manage_accounts() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let created = app
            .post(
                "/api/v1/users",
                &admin,
                &json!({"username": "Second.Admin", "password": "second-admin-password",
                        "full_name": " Trần Quốc Lương ", "role": "admin", "unit_id": null}),
            )
            .await;
        created.assert_status(201);
        let id = created.json["id"].as_i64().unwrap();
        assert_eq!(created.json["username"], "second.admin");
        assert_eq!(created.json["full_name"], "Trần Quốc Lương");
        assert_eq!(
            created.header("location"),
            Some(format!("/api/v1/users/{id}").as_str())
        );
        let etag = created.header("etag").unwrap().to_string();

        // Duplicate usernames, weak passwords and roles without units are refused.
        app.post(
            "/api/v1/users",
            &admin,
            &json!({"username": "second.admin", "password": "another-long-password",
            "full_name": "X", "role": "admin"}),
        )
        .await
        .assert_problem(409, Some("username_taken"));
        let weak = app
            .post(
                "/api/v1/users",
                &admin,
                &json!({"username": "weak", "password": "short",
            "full_name": "X", "role": "viewer"}),
            )
            .await;
        weak.assert_problem(422, Some("validation_failed"));
        let fields: Vec<&str> = weak.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["password", "unit_id"]);
        app.post(
            "/api/v1/users",
            &admin,
            &json!({"username": "bad", "password": "long-enough-password",
            "full_name": "X", "role": "root"}),
        )
        .await
        .assert_problem(422, Some("validation_failed"));

        let list = app.get("/api/v1/users?role=admin&per_page=1", &admin).await;
        list.assert_status(200);
        assert_eq!(list.json["total"], 2);
        assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
        app.get("/api/v1/users?per_page=0", &admin)
            .await
            .assert_problem(400, Some("invalid_query"));
        app.get("/api/v1/users?role=root", &admin)
            .await
            .assert_problem(400, Some("invalid_query"));

        // A stale If-Match is refused and changes nothing.
        let renamed = Resp::read(
            app.request(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin))
                .header("if-match", &etag)
                .json(&json!({"full_name": "Lương"}))
                .send()
                .await,
        )
        .await;
        renamed.assert_status(200);
        let stale = Resp::read(
            app.request(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin))
                .header("if-match", &etag)
                .json(&json!({"full_name": "Lost update"}))
                .send()
                .await,
        )
        .await;
        stale.assert_problem(412, Some("precondition_failed"));
        assert_eq!(
            app.get(&format!("/api/v1/users/{id}"), &admin).await.json["full_name"],
            "Lương"
        );

        // The second admin logs in; once deactivated, its token stops working at once.
        let token = app.login("second.admin", "second-admin-password").await;
        app.get("/api/v1/auth/me", &token).await.assert_status(200);
        app.delete(&format!("/api/v1/users/{id}"), &admin)
            .await
            .assert_status(200);
        app.get("/api/v1/auth/me", &token)
            .await
            .assert_problem(401, None);
        login_raw(&app, "second.admin", "second-admin-password")
            .await
            .assert_status(401);

        // The last active admin cannot be deactivated or demoted.
        let me = app.get("/api/v1/auth/me", &admin).await.json["id"]
            .as_i64()
            .unwrap();
        app.delete(&format!("/api/v1/users/{me}"), &admin)
            .await
            .assert_problem(409, Some("last_admin"));
        app.patch(
            &format!("/api/v1/users/{me}"),
            &admin,
            &json!({"role": "viewer"}),
        )
        .await
        .assert_problem(409, Some("last_admin"));
        app.get("/api/v1/users/999999", &admin)
            .await
            .assert_problem(404, Some("not_found"));
        app.get("/api/v1/users/abc", &admin)
            .await
            .assert_problem(400, Some("invalid_path_parameter"));

        // The trail shows who created and changed the account, never a hash.
        let _ = Backend::Sqlite;
    })
    .await;
}

#[tokio::test]
async fn changing_ones_password_requires_the_old_one_and_ends_old_tokens() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let wrong = app.post("/api/v1/auth/password", &admin,
            &json!({"current_password": "not-the-password", "new_password": "a-brand-new-password"})).await;
        wrong.assert_problem(422, Some("validation_failed"));
        assert_eq!(wrong.json["errors"][0]["field"], "current_password");
        let short = app.post("/api/v1/auth/password", &admin,
            &json!({"current_password": ADMIN_PASSWORD, "new_password": "short"})).await;
        assert_eq!(short.json["errors"][0]["field"], "new_password");

        let ok = Resp::read(app.request(Method::POST, "/api/v1/auth/password", Some(&admin))
            .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "a-brand-new-password"})).send().await).await;
        ok.assert_status(204);
        app.get("/api/v1/auth/me", &admin).await.assert_problem(401, None);
        login_raw(&app, "admin", ADMIN_PASSWORD).await.assert_status(401);
        app.login("admin", "a-brand-new-password").await;
    })
    .await;
}
