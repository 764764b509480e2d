use crate::helpers::on_each_backend;

#[tokio::test]
async fn liveness_and_readiness_answer_ok() {
    on_each_backend(|app| async move {
        for path in ["/health/live", "/health/ready"] {
            let resp = app.client.get(app.url(path)).send().await.expect("request");
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            let body: serde_json::Value = resp.json().await.expect("json");
            assert_eq!(body["status"], "ok");
        }
    })
    .await;
}
