//! The map changes, the record does not: frozen publications read as announced after
//! units move, are renamed and the district is deactivated; merges list their
//! predecessors; a reopen after publication makes a new revision.

use crate::fixtures::{Persona, World, fixture_framework_json, world};
use crate::helpers::Resp;
use crate::helpers::on_each_backend;
use crate::results::vinh_linh;
use serde_json::{Value, json};

/// What a commune officer and the district read of the 2023 results: the unit's index,
/// the ranking, its CSV export and the chart.
async fn what_was_announced(w: &World, token: &str) -> (Value, Value, String, String) {
    let vinh_long = w.id("commune_a");
    let district = w.id("district");
    let index = w
        .app
        .get(&format!("/api/v1/units/{vinh_long}/index?year=2023"), token)
        .await;
    index.assert_status(200);
    let ranking = w
        .app
        .get(
            &format!("/api/v1/rankings?parent_unit_id={district}&year=2023"),
            token,
        )
        .await;
    ranking.assert_status(200);
    let csv = w
        .app
        .get(
            &format!("/api/v1/rankings/export?parent_unit_id={district}&year=2023&format=csv"),
            token,
        )
        .await;
    csv.assert_status(200);
    let chart = Resp::read(
        w.app
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/rankings/chart?parent_unit_id={district}&year=2023"),
                Some(token),
            )
            .send()
            .await,
    )
    .await;
    chart.assert_status(200);
    (index.json, ranking.json, csv.text, chart.text)
}

async fn publish_2023(w: &World) -> Value {
    let published = w
        .app
        .post(
            "/api/v1/publications",
            w.token(Persona::Appraiser),
            &json!({"parent_unit_id": w.id("district"), "year": 2023,
                    "decision_number": "4006/TB-HĐTĐ", "decided_on": "2023-12-29"}),
        )
        .await;
    published.assert_status(201);
    published.json
}

#[tokio::test]
async fn a_publication_reads_as_announced_after_the_map_changes() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (ids, _) = vinh_linh(&w).await;
        let publication = publish_2023(&w).await;
        assert_eq!(publication["revision"], 1);
        assert_eq!(publication["decision_number"], "4006/TB-HĐTĐ");
        assert_eq!(publication["decided_on"], "2023-12-29");
        assert_eq!(publication["scope"]["name"], "Huyện Vĩnh Linh");
        let officer = w.token(Persona::OfficerA);
        let before = what_was_announced(&w, officer).await;
        assert_eq!(before.0["index"], "88.25");
        assert_eq!(before.0["rank"], 11);
        assert_eq!(before.0["ranked_units"], 18);

        // The 2025 reorganisation: every commune moves under the province, the district
        // is deactivated, Vĩnh Long is renamed.
        let admin = w.admin();
        let province = w.id("province");
        for id in ids.values() {
            w.app
                .patch(
                    &format!("/api/v1/units/{id}"),
                    admin,
                    &json!({"parent_id": province}),
                )
                .await
                .assert_status(200);
        }
        w.app
            .patch(
                &format!("/api/v1/units/{}", w.id("district")),
                admin,
                &json!({"active": false, "name": "Huyện Vĩnh Linh (đã giải thể)"}),
            )
            .await
            .assert_status(200);
        w.app
            .patch(
                &format!("/api/v1/units/{}", w.id("commune_a")),
                admin,
                &json!({"name": "Xã Vĩnh Long (tên mới)", "kind": "special_zone"}),
            )
            .await
            .assert_status(200);

        // The officer reads exactly what was announced, without a 403.
        let after = what_was_announced(&w, officer).await;
        assert_eq!(after.0, before.0, "the unit's 2023 index");
        assert_eq!(after.1, before.1, "the district's 2023 ranking");
        assert_eq!(after.2, before.2, "the ranking's CSV export");
        assert_eq!(after.3, before.3, "the ranking's chart");
        assert_eq!(after.0["unit_name"], "Xã Vĩnh Long", "named as announced");
        // Its appraisal's figures stay visible to it, one by one and in lists.
        let appraisal = after.0["appraisal_id"].as_i64().unwrap();
        let one = w
            .app
            .get(&format!("/api/v1/appraisals/{appraisal}"), officer)
            .await;
        one.assert_status(200);
        assert_eq!(one.json["results_visible"], true, "{}", one.text);
        assert_eq!(one.json["index"], "88.25");
        let listed = w.app.get("/api/v1/appraisals?year=2023", officer).await;
        assert_eq!(listed.json["items"][0]["results_visible"], true);
        let trail = w
            .app
            .get(
                "/api/v1/audit-events?entity=appraisal&action=finalize",
                officer,
            )
            .await;
        assert_eq!(trail.json["total"], 1, "{}", trail.text);
        // And so do the province's appraiser and the admin.
        let (_, province_appraiser) = w
            .account("province.appraiser", "district_appraiser", Some(province))
            .await;
        let seen = what_was_announced(&w, &province_appraiser).await;
        assert_eq!(seen.1, before.1);
        let record = w
            .app
            .get(
                &format!("/api/v1/publications/{}", publication["id"]),
                officer,
            )
            .await;
        record.assert_status(200);
        assert_eq!(record.json["ranked_units"], 18);
        assert_eq!(record.json["decision_number"], "4006/TB-HĐTĐ");
        assert_eq!(record.json["scope"]["name"], "Huyện Vĩnh Linh");
        let vl = record.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["unit_id"] == w.id("commune_a"))
            .unwrap();
        assert_eq!(vl["rank"], 11);
        assert_eq!(vl["index"], "88.25");
        assert_eq!(vl["unit_name"], "Xã Vĩnh Long");
        // Another commune's officer of another district sees none of it.
        w.app
            .get(
                &format!("/api/v1/publications/{}", publication["id"]),
                w.token(Persona::OtherAppraiser),
            )
            .await
            .assert_problem(404, Some("not_found"));

        // Live data follows today's map: the province ranks the communes directly under
        // it (2023 is not published at province level, so the admin reads it live).
        let live = w
            .app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={province}&year=2023"),
                admin,
            )
            .await;
        live.assert_status(200);
        assert_eq!(live.json["ranked_units"], 18);
        assert_eq!(live.json["published"], false);
        assert!(
            live.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["unit_name"] == "Xã Vĩnh Long (tên mới)")
        );
    })
    .await;
}

#[tokio::test]
async fn a_merge_of_three_communes_lists_their_predecessors() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (ids, f2023) = vinh_linh(&w).await;
        publish_2023(&w).await;
        let admin = w.admin();
        let province = w.id("province");
        let vinh_long = w.id("commune_a");
        let vinh_chap = w.id("commune_b");
        let third = ids["19701"];
        let merged = w
            .unit("19744-M", "Xã Vĩnh Hoàng", "commune", Some(province))
            .await;
        // Wrong input first: nothing is stored.
        w.app
            .post(
                "/api/v1/unit-merges",
                admin,
                &json!({"from_unit_ids": [vinh_long, vinh_long], "into_unit_id": merged,
                        "effective_on": "2025-07-01", "decision": "1687/NQ-UBTVQH15"}),
            )
            .await
            .assert_problem(422, Some("validation_failed"));
        w.app
            .post(
                "/api/v1/unit-merges",
                admin,
                &json!({"from_unit_ids": [vinh_long, w.id("district")], "into_unit_id": merged,
                        "effective_on": "2025-07-01", "decision": "1687/NQ-UBTVQH15"}),
            )
            .await
            .assert_problem(422, Some("validation_failed"));
        let still = w
            .app
            .get(&format!("/api/v1/units/{vinh_long}"), admin)
            .await;
        assert_eq!(still.json["active"], true);
        let merge = w
            .app
            .post(
                "/api/v1/unit-merges",
                admin,
                &json!({"from_unit_ids": [vinh_long, vinh_chap, third], "into_unit_id": merged,
                        "effective_on": "2025-07-01", "decision": "1687/NQ-UBTVQH15",
                        "weights": [1, 2, 1], "reassign_officers": true}),
            )
            .await;
        merge.assert_status(201);
        assert_eq!(merge.json["accounts_moved"], 2, "officers A and B");
        for id in [vinh_long, vinh_chap, third] {
            let u = w.app.get(&format!("/api/v1/units/{id}"), admin).await;
            assert_eq!(u.json["active"], false, "kept, inactive");
            assert_eq!(u.json["parent_id"], merged, "below the unit it became");
        }
        let listed = w
            .app
            .get(&format!("/api/v1/unit-merges?unit_id={vinh_long}"), admin)
            .await;
        assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);

        // Officer A now belongs to the merged commune and still reads its old unit's
        // published history.
        let officer = w.token(Persona::OfficerA);
        let me = w.app.get("/api/v1/auth/me", officer).await;
        assert_eq!(me.json["unit_id"], merged);
        let old = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/index?year=2023"),
                officer,
            )
            .await;
        old.assert_status(200);
        assert_eq!(old.json["index"], "88.25");
        assert_eq!(old.json["rank"], 11);

        // The merged commune's first year, on a framework of the province.
        let mut spec = fixture_framework_json(&province.to_string());
        spec["year"] = json!(2025);
        let f2025 = w.app.post("/api/v1/frameworks", admin, &spec).await;
        f2025.assert_status(201);
        let f2025 = f2025.json["id"].as_i64().unwrap();
        w.app
            .post(
                &format!("/api/v1/frameworks/{f2025}/publish"),
                admin,
                &json!({}),
            )
            .await
            .assert_status(200);
        w.quick_file(f2025, merged, "91.00", "0").await;
        let index = w
            .app
            .get(&format!("/api/v1/units/{merged}/index?year=2025"), admin)
            .await;
        index.assert_status(200);
        let predecessors = index.json["predecessors"].as_array().unwrap();
        assert_eq!(predecessors.len(), 3);
        let expected: Vec<(i64, &str)> = vec![(vinh_long, "88.25"), (vinh_chap, ""), (third, "")];
        let ranking_2023 = w
            .app
            .get(
                &format!("/api/v1/publications/{}", predecessors[0]["publication_id"]),
                admin,
            )
            .await;
        for (p, (id, _)) in predecessors.iter().zip(&expected) {
            assert_eq!(p["unit_id"], *id);
            assert_eq!(p["year"], 2023);
            assert_eq!(p["ranked_units"], 18);
            let announced = ranking_2023.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["unit_id"] == *id)
                .unwrap();
            assert_eq!(p["index"], announced["index"]);
            assert_eq!(p["rank"], announced["rank"]);
        }
        assert_eq!(predecessors[0]["index"], "88.25");
        assert_eq!(predecessors[0]["rank"], 11);
        assert_eq!(predecessors[1]["weight"], "2.00");

        // Compared with the predecessors, best and weighted.
        let indices: Vec<rust_decimal::Decimal> = predecessors
            .iter()
            .map(|p| p["index"].as_str().unwrap().parse().unwrap())
            .collect();
        let best = w
            .app
            .get(
                &format!(
                    "/api/v1/units/{merged}/comparison?year=2025&against=predecessors&basis=best"
                ),
                admin,
            )
            .await;
        best.assert_status(200);
        assert_eq!(
            best.json["previous_index"].as_str().unwrap(),
            indices.iter().max().unwrap().to_string()
        );
        assert_eq!(best.json["previous_year"], 2023);
        assert!(!best.json["criteria"].as_array().unwrap().is_empty());
        let weighted = w
            .app
            .get(
                &format!("/api/v1/units/{merged}/comparison?year=2025&against=predecessors"),
                admin,
            )
            .await;
        weighted.assert_status(200);
        let expected = (indices[0] + indices[1] * rust_decimal::Decimal::from(2) + indices[2])
            / rust_decimal::Decimal::from(4);
        assert_eq!(
            weighted.json["previous_index"].as_str().unwrap(),
            expected.round_dp(2).to_string()
        );
        assert_eq!(weighted.json["basis"], "weighted");
        assert!(weighted.json["not_comparable"].as_array().unwrap().is_empty());

        // A mapping from the predecessors' framework that makes 1.1 a new criterion: the
        // comparison with the predecessors follows it (1.1 not comparable, the rest the
        // same criterion).
        let theirs = f2023;
        let leaf = "1.1";
        let mut rows: Vec<Value> = spec["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .filter(|code| *code != leaf)
            .map(|code| json!({"from_code": code, "to_code": code, "relation": "same"}))
            .collect();
        rows.push(json!({"from_code": leaf, "to_code": null, "relation": "removed"}));
        rows.push(json!({"from_code": null, "to_code": leaf, "relation": "new"}));
        w.app
            .put(
                &format!("/api/v1/frameworks/{f2025}/mappings"),
                admin,
                &json!({"from_framework_id": theirs, "mappings": rows}),
            )
            .await
            .assert_status(200);
        let mapped = w
            .app
            .get(
                &format!("/api/v1/units/{merged}/comparison?year=2025&against=predecessors"),
                admin,
            )
            .await;
        mapped.assert_status(200);
        assert_eq!(
            mapped.json["not_comparable"],
            json!([{"criterion_code": leaf, "title": mapped.json["not_comparable"][0]["title"], "relation": "new"}])
        );
        let codes: Vec<&str> = mapped.json["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["criterion_code"].as_str().unwrap())
            .collect();
        assert!(!codes.contains(&leaf) && codes.contains(&"1.2"), "{codes:?}");
        assert_eq!(mapped.json["criteria"][0]["relation"], "same");

        // The province ranks the communes directly under it.
        let ranking = w
            .app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={province}&year=2025"),
                admin,
            )
            .await;
        ranking.assert_status(200);
        assert_eq!(ranking.json["ranked_units"], 1);
        assert_eq!(ranking.json["items"][0]["unit_id"], merged);
        // The merge is audited.
        let trail = w
            .app
            .get("/api/v1/audit-events?entity=unit_merge", admin)
            .await;
        assert_eq!(trail.json["items"].as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_reopen_after_publication_makes_revision_two() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        vinh_linh(&w).await;
        let first = publish_2023(&w).await;
        let admin = w.admin();
        let appraiser = w.token(Persona::Appraiser);
        let vinh_long = w.id("commune_a");
        let index = w
            .app
            .get(&format!("/api/v1/units/{vinh_long}/index?year=2023"), admin)
            .await;
        let appraisal = index.json["appraisal_id"].as_i64().unwrap();
        let publish = json!({"parent_unit_id": w.id("district"), "year": 2023,
                             "decision_number": "4120/TB-HĐTĐ", "decided_on": "2024-01-10"});
        w.app
            .post("/api/v1/publications", appraiser, &publish)
            .await
            .assert_problem(409, Some("already_published"));
        w.app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/reopen"),
                admin,
                &json!({"reason": "Kiến nghị của UBND xã được chấp nhận"}),
            )
            .await
            .assert_status(200);
        // While reopened, the announced figures stand and no new revision can be made.
        let during = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/index?year=2023"),
                w.token(Persona::OfficerA),
            )
            .await;
        during.assert_status(200);
        assert_eq!(during.json["index"], "88.25");
        w.app
            .post("/api/v1/publications", appraiser, &publish)
            .await
            .assert_problem(409, Some("appraisal_reopened"));
        w.app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/bonus"),
                appraiser,
                &json!({"points": "2", "reason": "Sáng kiến được công nhận"}),
            )
            .await
            .assert_status(200);
        w.app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                appraiser,
                &json!({}),
            )
            .await
            .assert_status(200);
        let second = w
            .app
            .post("/api/v1/publications", appraiser, &publish)
            .await;
        second.assert_status(201);
        assert_eq!(second.json["revision"], 2);
        assert_eq!(second.json["decision_number"], "4120/TB-HĐTĐ");
        assert!(
            second.json["reason"]
                .as_str()
                .unwrap()
                .contains("Kiến nghị của UBND xã được chấp nhận")
        );
        let vl = |record: &Value| {
            record["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["unit_id"] == vinh_long)
                .unwrap()
                .clone()
        };
        let one = w
            .app
            .get(&format!("/api/v1/publications/{}", first["id"]), admin)
            .await;
        assert_eq!(vl(&one.json)["index"], "88.25", "revision 1 unchanged");
        assert_eq!(vl(&one.json)["rank"], 11);
        assert_eq!(one.json["superseded_by"], second.json["id"]);
        assert_eq!(one.json["decision_number"], "4006/TB-HĐTĐ");
        let two = w
            .app
            .get(
                &format!("/api/v1/publications/{}", second.json["id"]),
                admin,
            )
            .await;
        assert_eq!(vl(&two.json)["index"], "89.25");
        // The unit's index now reads from revision 2.
        let now = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/index?year=2023"),
                w.token(Persona::OfficerA),
            )
            .await;
        assert_eq!(now.json["index"], "89.25");
        assert_eq!(now.json["rank"], vl(&two.json)["rank"]);
        let all = w
            .app
            .get(
                &format!(
                    "/api/v1/publications?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                admin,
            )
            .await;
        assert_eq!(all.json["items"].as_array().unwrap().len(), 2);
        let trail = w
            .app
            .get("/api/v1/audit-events?entity=publication", admin)
            .await;
        assert_eq!(trail.json["items"].as_array().unwrap().len(), 2);
    })
    .await;
}

/// A deployment upgraded with publications on record: migration 9 freezes them from the
/// data as it stands, and they read as frozen from then on.
#[tokio::test]
async fn publications_made_before_the_upgrade_are_frozen_by_it() {
    use crate::helpers::{TestApp, backends, fresh_database};
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    for backend in backends() {
        let (url, database) = fresh_database(&backend).await;
        let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
        migration::Migrator::up(&db, Some(8)).await.unwrap();
        for (id, code, name, kind, parent, path, depth) in [
            (1, "45", "Tỉnh Quảng Trị", "province", "NULL", "/1/", 0),
            (2, "464", "Huyện Vĩnh Linh", "district", "1", "/1/2/", 1),
            (3, "19744", "Xã Vĩnh Long", "commune", "2", "/1/2/3/", 2),
            (4, "19745", "Xã Vĩnh Chấp", "commune", "2", "/1/2/4/", 2),
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO units (id, code, name, name_search, kind, parent_id, path, depth, \
                 active, version, created_at, updated_at) VALUES ({id}, '{code}', '{name}', \
                 '{code}', '{kind}', {parent}, '{path}', {depth}, TRUE, 1, CURRENT_TIMESTAMP, \
                 CURRENT_TIMESTAMP)"
            ))
            .await
            .unwrap();
        }
        db.execute_unprepared(
            "INSERT INTO publications (id, parent_unit_id, year, published_at) \
             VALUES (7, 2, 2023, CURRENT_TIMESTAMP)",
        )
        .await
        .unwrap();
        if matches!(backend, crate::helpers::Backend::Postgres(_)) {
            db.execute_unprepared("SELECT setval('units_id_seq', 10)")
                .await
                .unwrap();
        }
        db.close().await.unwrap();

        let app = TestApp::spawn_on(backend, url, database, &[]).await;
        let admin = app.admin_token().await;
        let record = app.get("/api/v1/publications/7", &admin).await;
        record.assert_status(200);
        assert_eq!(record.json["revision"], 1);
        assert_eq!(record.json["scope"]["name"], "Huyện Vĩnh Linh");
        let names: Vec<&str> = record.json["unranked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["unit_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Xã Vĩnh Chấp", "Xã Vĩnh Long"]);
        app.patch(
            "/api/v1/units/3",
            &admin,
            &json!({"name": "Xã Vĩnh Long mới"}),
        )
        .await
        .assert_status(200);
        let again = app.get("/api/v1/publications/7", &admin).await;
        assert_eq!(again.json, record.json, "frozen");
    }
}
