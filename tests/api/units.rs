//! The unit tree and officers.

use crate::fixtures::{Persona, world};
use crate::helpers::on_each_backend;
use serde_json::json;

#[tokio::test]
async fn vietnamese_names_are_stored_exactly_and_searchable_without_accents() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        // Sent decomposed (NFD): stored and returned composed (NFC).
        let resp = w
            .app
            .post(
                "/api/v1/units",
                admin,
                &json!({"code": "19746", "name": "Thi\u{0323} tra\u{0302}\u{0301}n Ho\u{0302}\u{0300} Xa\u{0301}",
                        "kind": "town", "parent_id": w.id("district")}),
            )
            .await;
        resp.assert_status(201);
        assert_eq!(resp.json["name"], "Thị trấn Hồ Xá");
        assert_eq!(resp.json["depth"], 2);

        let found = w.app.get("/api/v1/units?q=ho%20xa", admin).await;
        assert_eq!(found.json["total"], 1, "{}", found.text);
        assert_eq!(found.json["items"][0]["name"], "Thị trấn Hồ Xá");
        let found = w.app.get("/api/v1/units?q=V%C4%A8NH%20LONG", admin).await;
        assert_eq!(found.json["items"][0]["name"], "Xã Vĩnh Long");

        let children = w
            .app
            .get(&format!("/api/v1/units?parent_id={}&kind=commune", w.id("district")), admin)
            .await;
        assert_eq!(children.json["total"], 2);
    })
    .await;
}

#[tokio::test]
async fn the_tree_refuses_cycles_inversions_and_duplicates() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        // Duplicate official code.
        w.app
            .post("/api/v1/units", admin, &json!({"code": "19744", "name": "X", "kind": "commune", "parent_id": w.id("district")}))
            .await
            .assert_problem(409, Some("duplicate_code"));
        // A district under a commune.
        let r = w
            .app
            .post("/api/v1/units", admin, &json!({"code": "X1", "name": "X", "kind": "district", "parent_id": w.id("commune_a")}))
            .await;
        r.assert_problem(422, Some("validation_failed"));
        assert_eq!(r.json["errors"][0]["code"], "invalid_hierarchy");
        // A province moved under its own district: a cycle.
        let r = w
            .app
            .patch(&format!("/api/v1/units/{}", w.id("province")), admin, &json!({"parent_id": w.id("district")}))
            .await;
        r.assert_problem(422, None);
        assert!(r.text.contains("cycle") || r.text.contains("invalid_hierarchy"), "{}", r.text);
        // A district turned into a commune while it has communes.
        let r = w
            .app
            .patch(&format!("/api/v1/units/{}", w.id("district")), admin, &json!({"kind": "commune"}))
            .await;
        r.assert_problem(422, None);
        // Unknown kinds and parents.
        w.app
            .post("/api/v1/units", admin, &json!({"code": "X2", "name": "X", "kind": "village", "parent_id": null}))
            .await
            .assert_problem(422, None);
        w.app
            .post("/api/v1/units", admin, &json!({"code": "X3", "name": "X", "kind": "commune", "parent_id": 999999}))
            .await
            .assert_problem(422, None);
        // Nothing of the refused was stored.
        let all = w.app.get("/api/v1/units?per_page=200", admin).await;
        assert_eq!(all.json["total"], 6);
    })
    .await;
}

#[tokio::test]
async fn moving_a_unit_moves_its_subtree() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        // Commune A moves to the other district: its appraiser gains it, the first loses it.
        let moved = w
            .app
            .patch(
                &format!("/api/v1/units/{}", w.id("commune_a")),
                admin,
                &json!({"parent_id": w.id("other_district")}),
            )
            .await;
        moved.assert_status(200);
        assert_eq!(moved.json["parent_id"], w.id("other_district"));
        let path = format!("/api/v1/units/{}", w.id("commune_a"));
        w.app
            .get(&path, w.token(Persona::OtherAppraiser))
            .await
            .assert_status(200);
        w.app
            .get(&path, w.token(Persona::Appraiser))
            .await
            .assert_problem(403, None);
        // Its officer still works on it.
        w.app
            .get(&path, w.token(Persona::OfficerA))
            .await
            .assert_status(200);

        // Moving a whole district moves its communes' paths too.
        let province2 = w.unit("46", "Tỉnh Thừa Thiên Huế", "province", None).await;
        w.app
            .patch(
                &format!("/api/v1/units/{}", w.id("district")),
                admin,
                &json!({"parent_id": province2}),
            )
            .await
            .assert_status(200);
        let under = w
            .app
            .get(&format!("/api/v1/units/{}", w.id("commune_b")), admin)
            .await;
        assert_eq!(under.json["depth"], 2);
        let viewer = w.token(Persona::Viewer);
        w.app
            .get(&format!("/api/v1/units/{}", w.id("commune_b")), viewer)
            .await
            .assert_status(200);
    })
    .await;
}

#[tokio::test]
async fn units_in_use_cannot_be_deleted() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let r = w
            .app
            .delete(&format!("/api/v1/units/{}", w.id("district")), admin)
            .await;
        r.assert_problem(409, Some("unit_in_use"));
        let r = w
            .app
            .delete(&format!("/api/v1/units/{}", w.id("commune_a")), admin)
            .await;
        r.assert_problem(409, Some("unit_in_use"));
        assert!(r.json["detail"].as_str().unwrap().contains("account"));
        let spare = w
            .unit("S1", "Xã Trống", "commune", Some(w.id("district")))
            .await;
        let r = w.app.delete(&format!("/api/v1/units/{spare}"), admin).await;
        r.assert_status(204);
        w.app
            .get(&format!("/api/v1/units/{spare}"), admin)
            .await
            .assert_problem(404, None);
    })
    .await;
}

#[tokio::test]
async fn officers_belong_to_their_unit() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let officer = w.token(Persona::OfficerA);
        let path = format!("/api/v1/units/{}/staff", w.id("commune_a"));
        let created = w
            .app
            .post(
                &path,
                officer,
                &json!({"full_name": "Trần Thị Liên", "title": "Công chức Văn phòng - Thống kê",
                                         "user_id": w.id("user_officer_a")}),
            )
            .await;
        created.assert_status(201);
        let id = created.json["id"].as_i64().unwrap();
        // An account of another unit cannot be linked.
        let r = w
            .app
            .post(
                &path,
                officer,
                &json!({"full_name": "X", "title": "Y", "user_id": w.id("user_officer_b")}),
            )
            .await;
        r.assert_problem(422, None);
        assert_eq!(r.json["errors"][0]["code"], "not_found");
        // Blank names are refused, nothing stored.
        w.app
            .post(&path, officer, &json!({"full_name": "  ", "title": "Y"}))
            .await
            .assert_problem(422, None);
        let list = w.app.get(&path, officer).await;
        assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(list.json["total"], 1);
        // Officer B can neither read nor add A's officers; officer ids are scoped by unit.
        w.app
            .get(&path, w.token(Persona::OfficerB))
            .await
            .assert_problem(403, None);
        w.app
            .get(
                &format!("/api/v1/units/{}/staff/{id}", w.id("commune_b")),
                w.admin(),
            )
            .await
            .assert_problem(404, None);
        // Leaving: deactivated, kept.
        let left = w
            .app
            .patch(
                &format!("{path}/{id}"),
                officer,
                &json!({"active": false, "user_id": null}),
            )
            .await;
        left.assert_status(200);
        assert_eq!(left.json["active"], false);
        assert_eq!(left.json["user_id"], serde_json::Value::Null);
        let active = w.app.get(&format!("{path}?active=true"), officer).await;
        assert_eq!(active.json["total"], 0);
    })
    .await;
}
