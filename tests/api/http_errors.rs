//! HTTP-level behaviour every route shares: problem documents for unknown routes and
//! methods, request ids and security headers.

use crate::helpers::{Resp, on_each_backend};

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    on_each_backend(|app| async move {
        for path in ["/nope", "/api/v1/nope", "/api/v1/", "/health/live/extra"] {
            let resp = Resp::read(app.client.get(app.url(path)).send().await).await;
            resp.assert_problem(404, Some("not_found"));
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    on_each_backend(|app| async move {
        let resp = Resp::read(app.client.post(app.url("/health/live")).send().await).await;
        resp.assert_problem(405, Some("method_not_allowed"));
        assert_eq!(resp.header("allow"), Some("GET"));
        let resp = Resp::read(app.client.delete(app.url("/health/ready")).send().await).await;
        resp.assert_problem(405, Some("method_not_allowed"));
    })
    .await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    on_each_backend(|app| async move {
        let resp = Resp::read(
            app.client
                .get(app.url("/health/live"))
                .header("x-request-id", "abc-123")
                .send()
                .await,
        )
        .await;
        assert_eq!(resp.header("x-request-id"), Some("abc-123"));

        // An id that could inject into logs is replaced by a generated one.
        let resp = Resp::read(
            app.client
                .get(app.url("/health/live"))
                .header("x-request-id", "evil\tid with spaces")
                .send()
                .await,
        )
        .await;
        let id = resp.header("x-request-id").expect("generated id");
        assert_eq!(id.len(), 32);

        let resp = Resp::read(app.client.get(app.url("/nope")).send().await).await;
        assert!(
            resp.header("x-request-id").is_some(),
            "errors carry a request id too"
        );
    })
    .await;
}

#[tokio::test]
async fn security_headers_are_set_and_no_server_version_leaks() {
    on_each_backend(|app| async move {
        let resp = Resp::read(app.client.get(app.url("/health/live")).send().await).await;
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
        assert!(resp.header("server").is_none());
    })
    .await;
}

/// Commune staff read the messages front ends show: the same error in Vietnamese when the
/// request prefers it, in English otherwise, with the same codes and `Content-Language`.
#[tokio::test]
async fn problems_speak_the_language_the_request_prefers() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let send = |lang: Option<&'static str>| {
            let mut rb = app
                .request(reqwest::Method::POST, "/api/v1/units", Some(&admin))
                .json(&serde_json::json!({"code": "bad code!", "name": "", "kind": "commune"}));
            if let Some(lang) = lang {
                rb = rb.header("accept-language", lang);
            }
            async move { Resp::read(rb.send().await).await }
        };
        let english = send(None).await;
        english.assert_problem(422, Some("validation_failed"));
        assert_eq!(english.header("content-language"), Some("en"));
        assert_eq!(english.json["title"], "Unprocessable Entity");
        let vietnamese = send(Some("vi-VN,vi;q=0.9,en;q=0.8")).await;
        vietnamese.assert_problem(422, Some("validation_failed"));
        assert_eq!(vietnamese.header("content-language"), Some("vi"));
        assert_eq!(vietnamese.json["title"], "Dữ liệu không hợp lệ");
        assert_eq!(vietnamese.json["detail"], "2 trường không hợp lệ");
        assert_eq!(english.json["detail"], "2 fields are invalid");
        // Same fields and codes, messages in each language.
        let fields = |r: &Resp| -> Vec<(String, String, String)> {
            r.json["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_string(),
                        e["code"].as_str().unwrap().to_string(),
                        e["message"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        let (en, vi) = (fields(&english), fields(&vietnamese));
        assert_eq!(en.len(), 2);
        for ((ef, ec, em), (vf, vc, vm)) in en.iter().zip(&vi) {
            assert_eq!((ef, ec), (vf, vc));
            assert_ne!(em, vm, "{ef} is translated");
        }
        assert!(
            vi.iter()
                .any(|(f, _, m)| f == "name" && m == "không được để trống"),
            "{vi:?}"
        );
        // English preferred over Vietnamese, or a language we do not write: English.
        for header in ["en-US,en;q=0.9,vi;q=0.8", "fr-FR", "vi;q=0"] {
            let r = send(Some(header)).await;
            assert_eq!(r.json["detail"], "2 fields are invalid", "{header}");
        }

        // A problem raised before any handler (no token), a body that is not JSON, and a
        // 404 of the router: all in Vietnamese.
        let vi_get = |path: &'static str| {
            let rb = app
                .client
                .get(app.url(path))
                .header("accept-language", "vi");
            async move { Resp::read(rb.send().await).await }
        };
        let anonymous = vi_get("/api/v1/units").await;
        anonymous.assert_problem(401, Some("unauthorized"));
        assert_eq!(anonymous.json["detail"], "cần mã xác thực (bearer token)");
        let nowhere = vi_get("/api/v1/nope").await;
        nowhere.assert_problem(404, Some("not_found"));
        assert_eq!(
            nowhere.json["detail"],
            "không có tài nguyên tại /api/v1/nope"
        );
        let garbled = Resp::read(
            app.request(reqwest::Method::POST, "/api/v1/units", Some(&admin))
                .header("accept-language", "vi")
                .header("content-type", "application/json")
                .body("{\"code\": 12}")
                .send()
                .await,
        )
        .await;
        garbled.assert_problem(422, Some("validation_failed"));
        assert_eq!(garbled.json["errors"][0]["field"], "code");
        assert_eq!(
            garbled.json["errors"][0]["message"],
            "sai kiểu dữ liệu: nhận số `12`, cần một chuỗi"
        );
        let bad_path = Resp::read(
            app.request(reqwest::Method::GET, "/api/v1/units/abc", Some(&admin))
                .header("accept-language", "vi")
                .send()
                .await,
        )
        .await;
        bad_path.assert_problem(400, Some("invalid_path_parameter"));
        assert!(
            bad_path.json["detail"]
                .as_str()
                .unwrap()
                .starts_with("tham số đường dẫn không hợp lệ: "),
            "{}",
            bad_path.text
        );
        assert!(!bad_path.text.contains("i64"), "{}", bad_path.text);
    })
    .await;
}
