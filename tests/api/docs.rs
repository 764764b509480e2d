use crate::helpers::{Resp, on_each_backend};

#[tokio::test]
async fn the_served_spec_is_the_committed_one() {
    on_each_backend(|app| async move {
        let resp = Resp::read(
            app.client
                .get(app.url("/api-docs/openapi.json"))
                .send()
                .await,
        )
        .await;
        resp.assert_status(200);
        let committed: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi/openapi.json"))
                .expect("committed spec is JSON");
        assert_eq!(resp.json, committed);
        assert_eq!(resp.json["openapi"], "3.1.0");
    })
    .await;
}

#[tokio::test]
async fn swagger_ui_is_served_without_any_download() {
    on_each_backend(|app| async move {
        let resp = Resp::read(app.client.get(app.url("/swagger-ui/")).send().await).await;
        resp.assert_status(200);
        assert!(resp.text.contains("swagger-ui"), "{}", resp.text);
        let init = Resp::read(
            app.client
                .get(app.url("/swagger-ui/swagger-initializer.js"))
                .send()
                .await,
        )
        .await;
        init.assert_status(200);
        assert!(
            init.text.contains("/api-docs/openapi.json"),
            "{}",
            init.text
        );
    })
    .await;
}
