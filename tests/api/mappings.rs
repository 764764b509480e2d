//! Criteria that carry across years: a 2024→2025 mapping with a split and a renumbered
//! criterion makes the comparison match the right criteria and list the new ones and the
//! parts of the split as not comparable; a copy records `same` for every criterion.

use crate::fixtures::{Persona, World, world};
use crate::helpers::on_each_backend;
use serde_json::{Value, json};

fn leaf(code: &str, max: &str) -> Value {
    json!({"code": code, "title": format!("Tiêu chí {code}"), "max_score": max, "method": {"type": "manual"}})
}

fn group(code: &str, max: &str) -> Value {
    json!({"code": code, "title": format!("Lĩnh vực {code}"), "max_score": max})
}

async fn framework(w: &World, year: i32, criteria: Vec<Value>) -> i64 {
    w.published_spec(&json!({"year": year, "name": format!("Bộ chỉ số {year}"),
                             "owner_unit_id": w.id("district"), "unit_kinds": ["commune"],
                             "criteria": criteria}))
        .await
}

/// Commune A's year on `framework`: the council's scores by leaf, finalized.
async fn year_of(w: &World, framework: i64, scores: &[(&str, &str)]) {
    let admin = w.admin();
    let sa = w
        .app
        .post(
            "/api/v1/self-assessments",
            admin,
            &json!({"unit_id": w.id("commune_a"), "framework_id": framework}),
        )
        .await;
    sa.assert_status(201);
    let sa = sa.json["id"].as_i64().unwrap();
    let entries: Vec<Value> = scores
        .iter()
        .map(|(c, s)| json!({"criterion_code": c, "score": s}))
        .collect();
    w.app
        .put(
            &format!("/api/v1/self-assessments/{sa}/entries"),
            admin,
            &json!({"entries": entries}),
        )
        .await
        .assert_status(200);
    let s = w
        .app
        .post(
            &format!("/api/v1/self-assessments/{sa}/submit"),
            admin,
            &json!({}),
        )
        .await;
    s.assert_status(200);
    let a = s.json["appraisal_id"].as_i64().unwrap();
    w.app
        .put(
            &format!("/api/v1/appraisals/{a}/entries"),
            admin,
            &json!({"entries": entries}),
        )
        .await
        .assert_status(200);
    w.app
        .post(
            &format!("/api/v1/appraisals/{a}/finalize"),
            admin,
            &json!({}),
        )
        .await
        .assert_status(200);
}

fn row<'a>(cmp: &'a Value, code: &str) -> Option<&'a Value> {
    cmp["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion_code"] == code)
}

#[tokio::test]
async fn a_mapping_with_a_split_and_a_renumbering_drives_the_comparison() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        // 2024: field 1 (1.1, 1.2) and field 2 (2.1).
        let f2024 = framework(
            &w,
            2024,
            vec![
                group("1", "60"),
                leaf("1.1", "30"),
                leaf("1.2", "30"),
                group("2", "40"),
                leaf("2.1", "40"),
            ],
        )
        .await;
        // 2025: 1.2 split into 1.2 and 1.3; the old field 2 is now field 3; a new field 2.
        let f2025 = framework(
            &w,
            2025,
            vec![
                group("1", "50"),
                leaf("1.1", "30"),
                leaf("1.2", "10"),
                leaf("1.3", "10"),
                group("2", "10"),
                leaf("2.1", "10"),
                group("3", "40"),
                leaf("3.1", "40"),
            ],
        )
        .await;
        year_of(&w, f2024, &[("1.1", "25"), ("1.2", "20"), ("2.1", "35")]).await;
        year_of(
            &w,
            f2025,
            &[
                ("1.1", "28"),
                ("1.2", "8"),
                ("1.3", "9"),
                ("2.1", "5"),
                ("3.1", "38"),
            ],
        )
        .await;
        let path = format!("/api/v1/units/{}/comparison?year=2025", w.id("commune_a"));
        let appraiser = w.token(Persona::Appraiser);

        // Without a mapping, equal codes are taken as the same criterion: 2.1 is compared
        // with the old 2.1, an unrelated criterion.
        let by_code = w.app.get(&path, appraiser).await;
        by_code.assert_status(200);
        assert_eq!(row(&by_code.json, "2.1").unwrap()["score_then"], "35.00");

        let repeats = |index: &Value| -> Vec<String> {
            index["deductions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["repeat_loss"] == true)
                .map(|d| d["criterion_code"].as_str().unwrap().to_string())
                .collect()
        };
        let index_path = format!("/api/v1/units/{}/index?year=2025", w.id("commune_a"));
        let before = w.app.get(&index_path, appraiser).await;
        before.assert_status(200);
        assert_eq!(
            repeats(&before.json),
            ["1.1", "1.2", "2.1"],
            "by code: 2.1 is not the old 2.1"
        );

        // A bad mapping is named row by row and stores nothing.
        let maps = format!("/api/v1/frameworks/{f2025}/mappings");
        let bad = w
            .app
            .put(
                &maps,
                admin,
                &json!({"from_framework_id": f2024, "mappings": [
                    {"from_code": "1.2", "to_code": "1.2", "relation": "split"},
                    {"from_code": "2.1", "to_code": "9.9", "relation": "renamed"},
                    {"to_code": "2", "relation": "same"},
                ]}),
            )
            .await;
        bad.assert_problem(422, None);
        let fields: Vec<&str> = bad.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["mappings[1].to_code", "mappings[2].from_code", "mappings"],
            "{}",
            bad.text
        );
        assert_eq!(w.app.get(&maps, admin).await.json["items"], json!([]));
        // Only the framework's managers map it.
        w.app
            .put(
                &maps,
                w.token(Persona::OfficerA),
                &json!({"from_framework_id": f2024, "mappings": []}),
            )
            .await
            .assert_status(403);

        let mapping = json!({"from_framework_id": f2024, "mappings": [
            {"from_code": "1", "to_code": "1", "relation": "same"},
            {"from_code": "1.1", "to_code": "1.1", "relation": "same"},
            {"from_code": "1.2", "to_code": "1.2", "relation": "split"},
            {"from_code": "1.2", "to_code": "1.3", "relation": "split"},
            {"from_code": "2", "to_code": "3", "relation": "renamed"},
            {"from_code": "2.1", "to_code": "3.1", "relation": "renamed"},
            {"from_code": null, "to_code": "2", "relation": "new"},
            {"from_code": null, "to_code": "2.1", "relation": "new"},
        ]});
        let stored = w.app.put(&maps, admin, &mapping).await;
        stored.assert_status(200);
        assert_eq!(stored.json["items"][0]["mappings"], mapping["mappings"]);

        let cmp = w.app.get(&path, appraiser).await;
        cmp.assert_status(200);
        // The renumbered criterion meets its old self: 35 then, 38 now.
        let renamed = row(&cmp.json, "3.1").unwrap();
        assert_eq!(
            (
                renamed["score_then"].as_str(),
                renamed["score_now"].as_str(),
                renamed["relation"].as_str()
            ),
            (Some("35.00"), Some("38.00"), Some("renamed"))
        );
        assert_eq!(renamed["previous_codes"], json!(["2.1"]));
        // Field 1 is the same field: 45 both years.
        assert_eq!(row(&cmp.json, "1").unwrap()["score_then"], "45.00");
        assert_eq!(row(&cmp.json, "1.1").unwrap()["change"], "3.00");
        // The new criteria and the parts of the split are not compared with anything.
        assert!(row(&cmp.json, "2.1").is_none() && row(&cmp.json, "1.3").is_none());
        let apart: Vec<(String, String)> = cmp.json["not_comparable"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["criterion_code"].as_str().unwrap().to_string(),
                    n["relation"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            apart,
            [
                ("1.2", "split"),
                ("1.3", "split"),
                ("2", "new"),
                ("2.1", "new")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        // The district's criteria-loss view counts the units whose loss repeats.
        let losses = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings/criteria?parent_unit_id={}&year=2025",
                    w.id("district")
                ),
                appraiser,
            )
            .await;
        losses.assert_status(200);
        let repeating = |code: &str| {
            losses.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["criterion_code"] == code)
                .map(|l| l["units_repeating"].as_i64().unwrap())
        };
        assert_eq!(
            (repeating("3.1"), repeating("2.1"), repeating("1.1")),
            (Some(1), Some(0), Some(1)),
            "{}",
            losses.text
        );
        // The criterion's history follows the mapping back: 3.1 was 2.1 in 2024.
        let history = |code: &str| {
            format!(
                "/api/v1/units/{}/history?criterion={code}&year=2025&years=3",
                w.id("commune_a")
            )
        };
        let renamed = w.app.get(&history("3.1"), appraiser).await;
        renamed.assert_status(200);
        let points: Vec<(i64, Value, String, Value)> = renamed.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["year"].as_i64().unwrap(),
                    p["codes"].clone(),
                    p["score"].as_str().unwrap().to_string(),
                    p["relation"].clone(),
                )
            })
            .collect();
        assert_eq!(
            points,
            [
                (2025, json!(["3.1"]), "38.00".to_string(), Value::Null),
                (2024, json!(["2.1"]), "35.00".to_string(), json!("renamed"))
            ]
        );
        // No 2023 result: the history ends there, not cut by the mapping.
        assert_eq!(renamed.json["not_comparable_before"], Value::Null);
        // A part of a split has no earlier self: its history is its one year.
        let part = w.app.get(&history("1.3"), appraiser).await;
        assert_eq!(part.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(part.json["not_comparable_before"], 2025);
        w.app
            .get(&history("9.9"), appraiser)
            .await
            .assert_problem(404, None);
        w.app
            .get(
                &format!(
                    "/api/v1/units/{}/history?criterion=1.1&year=2025&years=50",
                    w.id("commune_a")
                ),
                appraiser,
            )
            .await
            .assert_problem(422, None);
        let trail = w
            .app
            .get(
                "/api/v1/audit-events?entity=framework&action=map_criteria",
                admin,
            )
            .await;
        assert_eq!(trail.json["total"], 1, "{}", trail.text);

        // A copy carries every criterion over as itself.
        let copy = w
            .app
            .post(
                &format!("/api/v1/frameworks/{f2025}/copy"),
                admin,
                &json!({"year": 2026}),
            )
            .await;
        copy.assert_status(201);
        let copied = copy.json["id"].as_i64().unwrap();
        let theirs = w
            .app
            .get(&format!("/api/v1/frameworks/{copied}/mappings"), admin)
            .await;
        assert_eq!(theirs.json["items"][0]["from_framework_id"], f2025);
        let rows = theirs.json["items"][0]["mappings"].as_array().unwrap();
        assert_eq!(rows.len(), 8);
        assert!(
            rows.iter()
                .all(|m| m["relation"] == "same" && m["from_code"] == m["to_code"])
        );
    })
    .await;
}
