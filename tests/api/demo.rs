//! The `demo-data` command's loader, then the seed's sentence through HTTP.

use crate::helpers::on_each_backend;

#[tokio::test]
async fn the_demo_district_reproduces_the_seed_letter() {
    on_each_backend(|app| async move {
        assert!(
            parindex_api::demo::load(&app.state)
                .await
                .expect("demo loads")
        );
        assert!(
            !parindex_api::demo::load(&app.state)
                .await
                .expect("second run"),
            "idempotent"
        );
        let officer = app
            .login("vinhlong.vanphong", parindex_api::demo::DEMO_PASSWORD)
            .await;
        let me = app.get("/api/v1/auth/me", &officer).await;
        let unit = me.json["unit_id"].as_i64().unwrap();
        let index = app
            .get(&format!("/api/v1/units/{unit}/index?year=2023"), &officer)
            .await;
        index.assert_status(200);
        let x = &index.json;
        assert_eq!(x["unit_name"], "Xã Vĩnh Long");
        assert_eq!(
            (
                x["self_total"].as_str(),
                x["appraised_total"].as_str(),
                x["bonus"].as_str(),
                x["index"].as_str()
            ),
            (Some("90.88"), Some("87.25"), Some("1.00"), Some("88.25"))
        );
        assert_eq!(
            (
                x["rank"].as_i64(),
                x["ranked_units"].as_i64(),
                x["rank_change"].as_i64()
            ),
            (Some(11), Some(18), Some(-3))
        );
        assert_eq!(x["previous"]["index"], "86.39");
        assert_eq!(x["previous"]["rank"], 8);
        // The plan names the letter's officers.
        let plans = app
            .get(
                &format!("/api/v1/remediation-plans?unit_id={unit}"),
                &officer,
            )
            .await;
        let plan = plans.json[0]["id"].as_i64().unwrap();
        let plan = app
            .get(&format!("/api/v1/remediation-plans/{plan}"), &officer)
            .await;
        let first = &plan.json["items"][0];
        assert_eq!(first["criterion_code"], "3.3");
        assert_eq!(first["responsible"]["full_name"], "Nguyễn Thị Liên");
        assert_eq!(plan.json["items"].as_array().unwrap().len(), 19);
    })
    .await;
}
