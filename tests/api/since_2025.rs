//! The 2025 vocabulary: the appraiser role named after its function (`appraiser`, the old
//! `district_appraiser` still accepted on input), and new frameworks scoring the kinds of
//! unit that exist since the reorganisation unless told otherwise.

use crate::fixtures::{Persona, fixture_framework_json, world};
use crate::helpers::{TestApp, backends};
use serde_json::json;

#[tokio::test]
async fn the_appraiser_role_keeps_its_old_name_as_an_alias() {
    for backend in backends() {
        let w = world(TestApp::spawn(backend.clone()).await).await;
        let admin = w.admin();
        let district = w.id("district");
        // The world's appraiser was created as `district_appraiser`: it reads as `appraiser`.
        let me = w
            .app
            .get("/api/v1/auth/me", w.token(Persona::Appraiser))
            .await;
        me.assert_status(200);
        assert_eq!(me.json["role"], "appraiser");
        for (username, role) in [
            ("new.name", "appraiser"),
            ("old.name", "district_appraiser"),
        ] {
            let created = w
                .app
                .post(
                    "/api/v1/users",
                    admin,
                    &json!({"username": username, "password": "appraiser-password-01",
                            "full_name": username, "role": role, "unit_id": district}),
                )
                .await;
            created.assert_status(201);
            assert_eq!(created.json["role"], "appraiser", "{role}");
            // Either name, the same rights: this district's appraisals.
            let token = w.app.login(username, "appraiser-password-01").await;
            w.app
                .get("/api/v1/appraisals", &token)
                .await
                .assert_status(200);
        }
        // The filter takes both names and lists the same accounts.
        let by_new = w.app.get("/api/v1/users?role=appraiser", admin).await;
        let by_old = w
            .app
            .get("/api/v1/users?role=district_appraiser", admin)
            .await;
        by_new.assert_status(200);
        assert_eq!(by_new.json["items"], by_old.json["items"]);
        // Two fixture appraisers and the two made here.
        assert_eq!(by_new.json["items"].as_array().unwrap().len(), 4);
        // A role change may use the old name too; an unknown role is still refused.
        let id = by_new.json["items"][0]["id"].as_i64().unwrap();
        let changed = w
            .app
            .patch(
                &format!("/api/v1/users/{id}"),
                admin,
                &json!({"role": "district_appraiser"}),
            )
            .await;
        changed.assert_status(200);
        assert_eq!(changed.json["role"], "appraiser");
        let refused = w
            .app
            .post(
                "/api/v1/users",
                admin,
                &json!({"username": "x.y", "password": "appraiser-password-01",
                        "full_name": "X", "role": "province_appraiser", "unit_id": district}),
            )
            .await;
        assert!(refused.status.is_client_error(), "{}", refused.status);
    }
}

#[tokio::test]
async fn new_frameworks_score_the_kinds_of_their_year() {
    for backend in backends() {
        let w = world(TestApp::spawn(backend.clone()).await).await;
        let admin = w.admin();
        let province = w.id("province");
        for (year, kinds) in [
            (2025, json!(["commune", "ward", "special_zone"])),
            (2026, json!(["commune", "ward", "special_zone"])),
            (2024, json!(["commune", "town", "ward"])),
        ] {
            let mut f = fixture_framework_json(&province.to_string());
            f["year"] = json!(year);
            f.as_object_mut().unwrap().remove("unit_kinds");
            let created = w.app.post("/api/v1/frameworks", admin, &f).await;
            created.assert_status(201);
            assert_eq!(created.json["unit_kinds"], kinds, "{year}");
        }
        // Named kinds are kept as given (a framework since 2025 may still name towns).
        let mut f = fixture_framework_json(&province.to_string());
        f["year"] = json!(2027);
        f["unit_kinds"] = json!(["commune", "town"]);
        let created = w.app.post("/api/v1/frameworks", admin, &f).await;
        created.assert_status(201);
        assert_eq!(created.json["unit_kinds"], json!(["commune", "town"]));
    }
}
