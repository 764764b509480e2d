//! The index's composition (a province's 70/30 appraisal and survey) and survey results
//! for every unit: a unit without a survey is rescaled to the total (figures written by
//! hand below), a unit with one sums both; the survey import stores results whatever
//! state a unit's file is in, names the rows it cannot place, and the results wait for
//! files not yet with the council.

use crate::fixtures::{Persona, World, world};
use crate::helpers::on_each_backend;
use serde_json::{Value, json};

/// Fields 1 (40 points) and 2 (30) are the appraisal, 70 points; field 3 is the survey,
/// 30 points: citizens (a percentage of 20 points) and officials (scored by hand, 10).
fn composed_framework(owner: i64, year: i32, missing: &str) -> Value {
    json!({
        "year": year,
        "name": format!("Bộ chỉ số CCHC cấp xã năm {year} (70/30)"),
        "owner_unit_id": owner,
        "unit_kinds": ["commune"],
        "bonus_max": "2",
        "penalty_max": "2",
        "criteria": [
            {"code": "1", "title": "Công tác chỉ đạo, điều hành", "max_score": "40"},
            {"code": "1.1", "title": "Kế hoạch và báo cáo CCHC", "max_score": "40", "method": {"type": "manual"}},
            {"code": "2", "title": "Cải cách thủ tục hành chính", "max_score": "30"},
            {"code": "2.1", "title": "Giải quyết thủ tục hành chính", "max_score": "30", "method": {"type": "manual"}},
            {"code": "3", "title": "Mức độ hài lòng", "max_score": "30"},
            {"code": "3.1", "title": "Sự hài lòng của người dân", "max_score": "20", "method": {"type": "ratio"}, "scorer": "survey"},
            {"code": "3.2", "title": "Đánh giá của công chức", "max_score": "10", "method": {"type": "manual"}, "scorer": "survey"},
        ],
        "components": [
            {"code": "appraisal", "name": "Thẩm định", "fields": ["1", "2"]},
            {"code": "survey", "name": "Điều tra xã hội học", "fields": ["3"]},
        ],
        "missing_component": missing,
    })
}

async fn published(w: &World, spec: &Value) -> i64 {
    w.published_spec(spec).await
}

/// Opens `unit`'s file (as an admin), self-assesses the two appraisal leaves and submits;
/// returns (self-assessment, appraisal).
async fn submitted(w: &World, framework: i64, unit: i64) -> (i64, i64) {
    let admin = w.admin();
    let sa = opened(w, framework, unit).await;
    w.app
        .put(
            &format!("/api/v1/self-assessments/{sa}/entries"),
            admin,
            &json!({"entries": [{"criterion_code": "1.1", "score": "40"},
                                {"criterion_code": "2.1", "score": "30"}]}),
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
    (sa, s.json["appraisal_id"].as_i64().unwrap())
}

async fn opened(w: &World, framework: i64, unit: i64) -> i64 {
    let r = w
        .app
        .post(
            "/api/v1/self-assessments",
            w.admin(),
            &json!({"unit_id": unit, "framework_id": framework}),
        )
        .await;
    r.assert_status(201);
    r.json["id"].as_i64().unwrap()
}

async fn council(w: &World, appraisal: i64, entries: Value) -> Value {
    let r = w
        .app
        .put(
            &format!("/api/v1/appraisals/{appraisal}/entries"),
            w.token(Persona::Appraiser),
            &json!({"entries": entries}),
        )
        .await;
    r.assert_status(200);
    r.json
}

#[tokio::test]
async fn a_unit_without_a_survey_is_rescaled_to_the_frameworks_total() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let district = w.id("district");
        let appraiser = w.token(Persona::Appraiser);

        // A composition must cover each top-level field once: 422 naming the field.
        let mut bad = composed_framework(district, 2025, "rescale");
        bad["components"][1]["fields"] = json!(["2", "3"]);
        let r = w.app.post("/api/v1/frameworks", admin, &bad).await;
        r.assert_problem(422, None);
        assert_eq!(
            r.json["errors"][0]["field"], "components[1].fields",
            "{}",
            r.text
        );
        assert_eq!(r.json["errors"][0]["code"], "duplicate");

        let f = published(&w, &composed_framework(district, 2025, "rescale")).await;
        let read = w.app.get(&format!("/api/v1/frameworks/{f}"), admin).await;
        assert_eq!(read.json["missing_component"], "rescale");
        assert_eq!(read.json["components"][1]["fields"], json!(["3"]));

        // Vĩnh Long had no survey: 35.5 + 24.75 = 60.25 of the appraisal's 70.
        let (_, a) = submitted(&w, f, w.id("commune_a")).await;
        council(
            &w,
            a,
            json!([{"criterion_code": "1.1", "score": "35.5"},
                              {"criterion_code": "2.1", "score": "24.75"}]),
        )
        .await;
        w.app
            .put(
                &format!("/api/v1/appraisals/{a}/bonus"),
                appraiser,
                &json!({"points": 1, "reason": "Sáng kiến"}),
            )
            .await
            .assert_status(200);
        w.app
            .put(
                &format!("/api/v1/appraisals/{a}/penalties"),
                appraiser,
                &json!({"items": [{"code": "VP-01", "points": "0.5", "reason": "Chậm báo cáo"}]}),
            )
            .await
            .assert_status(200);
        // Rescaled by hand: 60.25 × 100 / 70 = 86.0714… → 86.07; + 1 − 0.5 = 86.57.
        let live = w
            .app
            .get(&format!("/api/v1/appraisals/{a}"), appraiser)
            .await;
        assert_eq!(live.json["index"], "86.57", "{}", live.text);
        assert_eq!(
            live.json["unscored_codes"],
            json!([]),
            "the survey's leaves need no score"
        );
        assert_eq!(live.json["components"][0]["points"], "60.25");
        assert_eq!(live.json["components"][0]["counted"], "86.07");
        assert_eq!(live.json["components"][0]["rescaled"], true);
        assert_eq!(live.json["components"][1]["has_data"], false);
        let done = w
            .app
            .post(
                &format!("/api/v1/appraisals/{a}/finalize"),
                appraiser,
                &json!({}),
            )
            .await;
        done.assert_status(200);
        assert_eq!(done.json["index"], "86.57");
        assert_eq!(
            done.json["appraised_total"], "60.25",
            "the criteria's own sum"
        );

        // Vĩnh Chấp had one: 30 + 20 for the appraisal, 80 % of 20 = 16 and 7.5 for the
        // survey: 73.50, nothing rescaled.
        let (_, b) = submitted(&w, f, w.id("commune_b")).await;
        council(
            &w,
            b,
            json!([{"criterion_code": "1.1", "score": "30"},
                              {"criterion_code": "2.1", "score": "20"},
                              {"criterion_code": "3.1", "numerator": 80, "denominator": 100},
                              {"criterion_code": "3.2", "score": "7.5"}]),
        )
        .await;
        let done = w
            .app
            .post(
                &format!("/api/v1/appraisals/{b}/finalize"),
                appraiser,
                &json!({}),
            )
            .await;
        done.assert_status(200);
        assert_eq!(done.json["index"], "73.50", "{}", done.text);

        let index = w
            .app
            .get(
                &format!("/api/v1/units/{}/index?year=2025", w.id("commune_a")),
                appraiser,
            )
            .await;
        index.assert_status(200);
        assert_eq!(
            (
                index.json["index"].as_str(),
                index.json["penalty_total"].as_str(),
                index.json["components"][0]["counted"].as_str(),
                index.json["components"][1]["max"].as_str()
            ),
            (Some("86.57"), Some("0.50"), Some("86.07"), Some("30.00")),
            "{}",
            index.text
        );
        let ranking = w
            .app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={district}&year=2025"),
                appraiser,
            )
            .await;
        let items = ranking.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{}", ranking.text);
        assert_eq!(items[0]["unit_id"], w.id("commune_a"));
        assert_eq!(items[0]["penalty_total"], "0.50");
        assert_eq!(items[0]["components"][0]["rescaled"], true);
        assert_eq!(items[1]["components"][1]["counted"], "23.50");
        // The ranking sheet gains the components and the penalty points.
        let sheet = w
            .app
            .get(
                &format!("/api/v1/rankings/export?parent_unit_id={district}&year=2025&format=csv"),
                appraiser,
            )
            .await;
        sheet.assert_status(200);
        assert!(
            sheet.text.contains("THÀNH PHẦN: THẨM ĐỊNH") && sheet.text.contains("ĐIỂM TRỪ"),
            "{}",
            sheet.text
        );
        let line = sheet
            .text
            .lines()
            .find(|l| l.contains("Xã Vĩnh Long"))
            .unwrap();
        assert!(line.contains("86.07") && line.contains("-0.5"), "{line}");

        // Published: the snapshot keeps the components and the penalty points.
        w.app
            .post(
                "/api/v1/publications",
                admin,
                &json!({"parent_unit_id": district, "year": 2025}),
            )
            .await
            .assert_status(201);
        let officer = w.token(Persona::OfficerA);
        let seen = w
            .app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={district}&year=2025"),
                officer,
            )
            .await;
        seen.assert_status(200);
        assert_eq!(seen.json["items"][0]["index"], "86.57", "{}", seen.text);
        assert_eq!(seen.json["items"][0]["penalty_total"], "0.50");
        assert_eq!(seen.json["items"][0]["components"][0]["counted"], "86.07");
    })
    .await;
}

#[tokio::test]
async fn under_unranked_a_unit_without_a_survey_is_left_out_of_the_ranking() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let district = w.id("district");
        let appraiser = w.token(Persona::Appraiser);
        let f = published(&w, &composed_framework(district, 2025, "unranked")).await;
        let (_, a) = submitted(&w, f, w.id("commune_a")).await;
        council(
            &w,
            a,
            json!([{"criterion_code": "1.1", "score": "35.5"},
                              {"criterion_code": "2.1", "score": "24.75"}]),
        )
        .await;
        let done = w
            .app
            .post(
                &format!("/api/v1/appraisals/{a}/finalize"),
                appraiser,
                &json!({}),
            )
            .await;
        done.assert_status(200);
        // Counts 0 for the survey: 60.25, and not ranked.
        assert_eq!(done.json["index"], "60.25", "{}", done.text);
        assert_eq!(done.json["unranked"], true);
        let ranking = w
            .app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={district}&year=2025"),
                appraiser,
            )
            .await;
        assert_eq!(ranking.json["items"], json!([]), "{}", ranking.text);
        let line = ranking.json["unranked"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit_id"] == w.id("commune_a"))
            .cloned()
            .unwrap();
        assert_eq!(line["status"], "missing_component");
        let index = w
            .app
            .get(
                &format!("/api/v1/units/{}/index?year=2025", w.id("commune_a")),
                appraiser,
            )
            .await;
        assert_eq!(index.status.as_u16(), 404, "{}", index.text);
        assert!(index.text.contains("Điều tra xã hội học"), "{}", index.text);
    })
    .await;
}

#[tokio::test]
async fn a_survey_import_stores_results_for_units_in_every_state_and_names_the_rest() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let district = w.id("district");
        let admin = w.admin();
        let appraiser = w.token(Persona::Appraiser);
        let f = published(&w, &composed_framework(district, 2025, "zero")).await;
        let mut units = Vec::new();
        for (code, name) in [
            ("30001", "Xã Chưa Mở"),
            ("30002", "Xã Đang Làm"),
            ("30003", "Xã Đã Nộp"),
            ("30004", "Xã Bị Trả"),
            ("30005", "Xã Đã Chốt"),
        ] {
            units.push(w.unit(code, name, "commune", Some(district)).await);
        }
        // 30001 never opened its file; 30002 is a draft; 30003 is with the council;
        // 30004 was returned for supplementation; 30005 is finalized.
        let draft = opened(&w, f, units[1]).await;
        let (_, pending) = submitted(&w, f, units[2]).await;
        let (_, returned) = submitted(&w, f, units[3]).await;
        w.app
            .post(
                &format!("/api/v1/appraisals/{returned}/return"),
                appraiser,
                &json!({"note": "Bổ sung kế hoạch", "criteria": ["1.1"]}),
            )
            .await
            .assert_status(200);
        let (_, finalized) = submitted(&w, f, units[4]).await;
        council(
            &w,
            finalized,
            json!([{"criterion_code": "3.1", "numerator": 90, "denominator": 100},
                                      {"criterion_code": "3.2", "score": "9"}]),
        )
        .await;
        w.app
            .post(
                &format!("/api/v1/appraisals/{finalized}/finalize"),
                appraiser,
                &json!({}),
            )
            .await
            .assert_status(200);

        let path = format!("/api/v1/frameworks/{f}/survey-results");
        let mut rows = Vec::new();
        for code in [
            "30001", "30002", "30003", "30004", "30005", "99999", "19800",
        ] {
            rows.push(json!({"unit_code": code, "criterion_code": "3.1", "value": 75}));
            rows.push(json!({"unit_code": code, "criterion_code": "3.2", "score": "8"}));
        }
        // A figure out of range refuses the whole request: nothing stored.
        let mut wrong = rows.clone();
        wrong.push(json!({"unit_code": "30001", "criterion_code": "1.1", "value": 75}));
        let r = w
            .app
            .post(&path, appraiser, &json!({"results": wrong}))
            .await;
        r.assert_problem(422, None);
        assert_eq!(
            r.json["errors"][0]["field"], "results[14].criterion_code",
            "{}",
            r.text
        );
        let values = w
            .app
            .get(
                &format!("/api/v1/frameworks/{f}/indicator-values"),
                appraiser,
            )
            .await;
        assert_eq!(values.json["total"], 0, "{}", values.text);

        let r = w
            .app
            .post(
                &path,
                appraiser,
                &json!({"results": rows, "source_system": "Điều tra xã hội học năm 2025",
                          "document_ref": "Báo cáo 45/BC-SNV"}),
            )
            .await;
        r.assert_status(200);
        let import = &r.json["import"];
        // Four units of two results each placed: two at once (with the council), six wait.
        assert_eq!(
            (
                import["stored"].as_u64(),
                import["applied"].as_u64(),
                import["waiting"].as_u64()
            ),
            (Some(8), Some(4), Some(4)),
            "{}",
            r.text
        );
        let unplaced: Vec<(&str, &str)> = import["unplaced"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            unplaced,
            [
                ("results[8].unit_code", "finalized"),
                ("results[9].unit_code", "finalized"),
                ("results[10].unit_code", "unknown_unit"),
                ("results[11].unit_code", "unknown_unit"),
                ("results[12].unit_code", "unknown_unit"),
                ("results[13].unit_code", "unknown_unit"),
            ]
        );
        // With the council at once: the pending and the returned file.
        for a in [pending, returned] {
            let v = w
                .app
                .get(&format!("/api/v1/appraisals/{a}"), appraiser)
                .await;
            let e = v.json["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["criterion_code"] == "3.1")
                .cloned()
                .unwrap();
            assert_eq!(e["appraised_score"], "15.00", "{}", v.text);
            assert!(
                e["comment"]
                    .as_str()
                    .unwrap()
                    .contains("Điều tra xã hội học năm 2025")
            );
        }
        // The finalized one keeps its figure.
        let v = w
            .app
            .get(&format!("/api/v1/appraisals/{finalized}"), appraiser)
            .await;
        assert_eq!(v.json["index"], "97.00", "{}", v.text);

        // The draft, submitted later, takes its results then.
        w.app
            .put(
                &format!("/api/v1/self-assessments/{draft}/entries"),
                admin,
                &json!({"entries": [{"criterion_code": "1.1", "score": "40"},
                                     {"criterion_code": "2.1", "score": "30"}]}),
            )
            .await
            .assert_status(200);
        let s = w
            .app
            .post(
                &format!("/api/v1/self-assessments/{draft}/submit"),
                admin,
                &json!({}),
            )
            .await;
        s.assert_status(200);
        let a = s.json["appraisal_id"].as_i64().unwrap();
        let v = w
            .app
            .get(&format!("/api/v1/appraisals/{a}"), appraiser)
            .await;
        // 40 + 30 + 15 + 8.
        assert_eq!(v.json["index"], "93.00", "{}", v.text);
        let trail = w
            .app
            .get(
                "/api/v1/audit-events?entity=framework&action=import_survey",
                admin,
            )
            .await;
        assert_eq!(trail.json["total"], 1, "{}", trail.text);
        assert_eq!(trail.json["items"][0]["new_value"]["unplaced"], 6);
    })
    .await;
}
