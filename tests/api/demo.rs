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

#[tokio::test]
async fn generated_data_is_consistent_and_the_api_keeps_working_on_it() {
    on_each_backend(|app| async move {
        let options = parindex_api::generate::GenerateOptions {
            communes: 40,
            years: vec![2022, 2023],
            communes_per_district: 8,
            districts_per_province: 3,
            pending: 5,
            seed: 7,
            prefix: "T".to_string(),
        };
        let g = parindex_api::generate::generate(&app.state, &options, false).await.expect("generate");
        assert_eq!((g.provinces, g.districts, g.communes), (2, 5, 40));
        assert_eq!(g.entries, 40 * 2 * 54);
        let admin = app.admin_token().await;
        let districts = app.get("/api/v1/units?kind=district", &admin).await;
        let district = districts.json["items"][0]["id"].as_i64().unwrap();
        let ranking = app.get(&format!("/api/v1/rankings?parent_unit_id={district}&year=2023"), &admin).await;
        ranking.assert_status(200);
        assert_eq!(ranking.json["ranked_units"], 8);
        let first = &ranking.json["items"][0];
        assert!(first["previous_rank"].is_number(), "both years are there");
        // The stored totals agree with the stored entries.
        let unit = first["unit_id"].as_i64().unwrap();
        let index = app.get(&format!("/api/v1/units/{unit}/index?year=2023"), &admin).await;
        index.assert_status(200);
        let lost: rust_decimal::Decimal = index.json["deductions"].as_array().unwrap().iter()
            .map(|d| d["deduction"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap()).sum();
        assert_eq!(lost.to_string(), index.json["deduction_total"].as_str().unwrap());
        let appraised: rust_decimal::Decimal = index.json["appraised_total"].as_str().unwrap().parse().unwrap();
        assert_eq!(appraised + lost, rust_decimal::Decimal::from(100));
        // The last communes' files wait for finalization.
        let pending = app.get("/api/v1/appraisals?status=in_progress", &admin).await;
        assert_eq!(pending.json["total"], 5);
        let id = pending.json["items"][0]["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/appraisals/{id}/finalize"), &admin, &serde_json::json!({})).await.assert_status(200);
        // Ids continue after the generated ones (PostgreSQL sequences were moved).
        app.post("/api/v1/units", &admin, &serde_json::json!({"code": "NEW-1", "name": "Xã Mới", "kind": "commune", "parent_id": district}))
            .await
            .assert_status(201);
    })
    .await;
}
