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
