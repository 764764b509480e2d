//! Remediation plans from the seed commune's deductions: items, officers, phased
//! deadlines, progress, overdue queries, the year-end report and its export.

use crate::fixtures::{Persona, seed_json, world};
use crate::helpers::on_each_backend;
use serde_json::{Value, json};

fn phases() -> Value {
    json!([{"label": "đợt 1", "due_on": "2024-10-31"}, {"label": "đợt 2", "due_on": "2024-12-15"}])
}

#[tokio::test]
async fn a_plan_turns_every_lost_point_into_an_item_and_reports_at_year_end() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let (_, appraisal) = w.seed_appraisal(framework).await;
        let officer = w.token(Persona::OfficerA);
        let appraiser = w.token(Persona::Appraiser);
        let seed = seed_json();
        // Before publication the unit sees no deductions, so it cannot make the plan yet.
        w.app
            .post("/api/v1/remediation-plans", officer, &json!({"appraisal_id": appraisal, "milestones": phases()}))
            .await
            .assert_problem(403, Some("forbidden"));
        w.app.post("/api/v1/publications", appraiser, &json!({"parent_unit_id": w.id("district"), "year": 2023})).await.assert_status(201);

        let created = w
            .app
            .post("/api/v1/remediation-plans", officer, &json!({"appraisal_id": appraisal, "milestones": phases()}))
            .await;
        created.assert_status(201);
        let plan = &created.json;
        let plan_id = plan["id"].as_i64().unwrap();
        assert_eq!((plan["source_year"].as_i64(), plan["year"].as_i64()), (Some(2023), Some(2024)));
        let items = plan["items"].as_array().unwrap();
        assert_eq!(items.len(), 19, "exactly the appendix's criteria");
        assert_eq!(items[0]["criterion_code"], "3.3", "the largest loss first");
        assert_eq!(items[0]["deduction"], "2.00");
        let deductions: Vec<rust_decimal::Decimal> = items.iter().map(|i| i["deduction"].as_str().unwrap().parse().unwrap()).collect();
        assert!(deductions.windows(2).all(|w| w[0] >= w[1]), "ordered by points lost");
        assert_eq!(deductions.iter().sum::<rust_decimal::Decimal>().to_string(), "12.75");
        let mut codes: Vec<&str> = items.iter().map(|i| i["criterion_code"].as_str().unwrap()).collect();
        codes.sort();
        let mut expected: Vec<&str> = seed["appendix"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
        expected.sort();
        assert_eq!(codes, expected);
        let c1412 = items.iter().find(|i| i["criterion_code"] == "3.12.2").unwrap();
        assert_eq!(c1412["comment"], seed["appendix"][12]["comment"]);
        let dates: Vec<Value> = c1412["milestones"].as_array().unwrap().iter().map(|m| json!({"label": m["label"], "due_on": m["due_on"]})).collect();
        assert_eq!(Value::Array(dates), phases());
        assert!(c1412["milestones"].as_array().unwrap().iter().all(|m| m["status"] == "pending"));
        assert_eq!(c1412["status"], "not_started");
        assert_eq!(plan["summary"]["points_at_stake"], "12.75");
        assert_eq!(plan["summary"]["points_recovered"], Value::Null);
        w.app
            .post("/api/v1/remediation-plans", appraiser, &json!({"appraisal_id": appraisal}))
            .await
            .assert_problem(409, Some("already_exists"));

        // Officers: only the unit's own can be made responsible.
        let lien = w
            .app
            .post(&format!("/api/v1/units/{}/staff", w.id("commune_a")), officer,
                  &json!({"full_name": "Nguyễn Thị Liên", "title": "Công chức Văn phòng - Thống kê"}))
            .await
            .json["id"]
            .as_i64()
            .unwrap();
        let stranger = w
            .app
            .post(&format!("/api/v1/units/{}/staff", w.id("commune_b")), w.token(Persona::OfficerB),
                  &json!({"full_name": "Lê Văn Khác", "title": "Công chức Tư pháp – Hộ tịch"}))
            .await
            .json["id"]
            .as_i64()
            .unwrap();
        let item_33 = items[0]["id"].as_i64().unwrap();
        let refused = w.app.patch(&format!("/api/v1/remediation-items/{item_33}"), officer, &json!({"responsible_staff_id": stranger})).await;
        refused.assert_problem(422, None);
        // Another unit's officer reads like one that does not exist, unnamed.
        assert_eq!(refused.json["errors"][0]["code"], "not_found");
        assert!(!refused.text.contains("Khác"), "{}", refused.text);
        let assigned = w
            .app
            .patch(&format!("/api/v1/remediation-items/{item_33}"), officer,
                   &json!({"responsible_staff_id": lien, "target_score": "2",
                           "action": "Chủ trì, theo dõi tiến độ tiếp nhận và giải quyết TTHC đảm bảo đúng quy định"}))
            .await;
        assigned.assert_status(200);
        assert_eq!(assigned.json["responsible"]["full_name"], "Nguyễn Thị Liên");
        assert_eq!(assigned.json["target_score"], "2.00");
        w.app.patch(&format!("/api/v1/remediation-items/{item_33}"), officer, &json!({"target_score": "2.5"})).await.assert_problem(422, None);

        // An extra item not tied to a criterion, with its own deadline.
        let extra = w
            .app
            .post(&format!("/api/v1/remediation-plans/{plan_id}/items"), officer,
                  &json!({"title": "Mỗi công chức đề xuất 01 sáng kiến, giải pháp", "responsible_staff_id": lien,
                          "milestones": [{"label": "hạn nộp", "due_on": "2024-03-10"}]}))
            .await;
        extra.assert_status(201);
        assert_eq!(extra.json["criterion_code"], Value::Null);

        // Progress: done, in progress, cancelled (with a reason).
        let done_id = items[1]["id"].as_i64().unwrap();
        let done = w
            .app
            .post(&format!("/api/v1/remediation-items/{done_id}/progress"), officer,
                  &json!({"note": "Đã hoàn thành", "status": "done",
                          "evidence": [{"title": "Báo cáo kết quả", "number": "45/BC-UBND", "issued_on": "2024-10-20"}]}))
            .await;
        done.assert_status(201);
        assert_eq!(done.json["status"], "done");
        assert_eq!(done.json["history"][0]["evidence"][0]["number"], "45/BC-UBND");
        w.app
            .post(&format!("/api/v1/remediation-items/{item_33}/progress"), officer, &json!({"note": "Đang làm", "status": "in_progress"}))
            .await
            .assert_status(201);
        let cancel_id = items[2]["id"].as_i64().unwrap();
        let no_reason = w.app.post(&format!("/api/v1/remediation-items/{cancel_id}/progress"), officer, &json!({"note": "Hủy", "status": "cancelled"})).await;
        no_reason.assert_problem(422, None);
        assert_eq!(no_reason.json["errors"][0]["field"], "reason");
        w.app
            .post(&format!("/api/v1/remediation-items/{cancel_id}/progress"), officer,
                  &json!({"note": "Hủy", "status": "cancelled", "reason": "Tiêu chí bị bãi bỏ năm 2024"}))
            .await
            .assert_status(201);
        w.app.post(&format!("/api/v1/remediation-items/{cancel_id}/progress"), officer, &json!({"note": "x", "status": "paused"})).await.assert_problem(422, None);
        // The district comments but cannot report the unit's progress.
        w.app.post(&format!("/api/v1/remediation-items/{item_33}/comments"), appraiser, &json!({"note": "Đề nghị hoàn thành sớm"})).await.assert_status(201);
        w.app.post(&format!("/api/v1/remediation-items/{item_33}/progress"), appraiser, &json!({"note": "x"})).await.assert_problem(403, None);
        w.app.get(&format!("/api/v1/remediation-plans/{plan_id}"), w.token(Persona::OfficerB)).await.assert_problem(403, None);

        // Overdue on 2024-11-01: phase 1 (31/10) passed; not the done nor the cancelled one.
        let overdue = w
            .app
            .get(&format!("/api/v1/remediation-items?unit_id={}&overdue=true&as_of=2024-11-01", w.id("commune_a")), appraiser)
            .await;
        overdue.assert_status(200);
        let ids: Vec<i64> = overdue.json["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 18, "19 + the extra item − done − cancelled");
        assert!(!ids.contains(&done_id) && !ids.contains(&cancel_id));
        assert!(ids.contains(&item_33));
        assert!(overdue.json["items"].as_array().unwrap().iter().all(|i| i["overdue"] == true));
        let district = w
            .app
            .get(&format!("/api/v1/remediation-items?parent_unit_id={}&overdue=true&as_of=2024-10-30", w.id("district")), appraiser)
            .await;
        assert_eq!(district.json["items"].as_array().unwrap().len(), 1, "only the extra item (10/3) on 30/10");
        let soon = w.app.get(&format!("/api/v1/remediation-items?unit_id={}&due_within_days=15&as_of=2024-10-20", w.id("commune_a")), officer).await;
        assert_eq!(soon.json["items"].as_array().unwrap().len(), 17, "open items due by 4/11");
        w.app.get("/api/v1/remediation-items?as_of=2024-02-30", officer).await.assert_problem(400, None);

        // The year-end report.
        let report = w.app.get(&format!("/api/v1/remediation-plans/{plan_id}/report?as_of=2024-11-01"), officer).await;
        report.assert_status(200);
        let r = &report.json;
        assert_eq!(r["rows"].as_array().unwrap().len(), 20);
        assert_eq!(r["total_deduction"], "12.75");
        assert_eq!(r["summary"]["overdue"], 18);
        let by_status: Vec<(String, i64)> = r["summary"]["by_status"].as_array().unwrap().iter()
            .map(|s| (s["status"].as_str().unwrap().to_string(), s["count"].as_i64().unwrap())).collect();
        assert!(by_status.contains(&("done".to_string(), 1)) && by_status.contains(&("cancelled".to_string(), 1)));
        let lien_row = r["summary"]["by_officer"].as_array().unwrap().iter().find(|o| o["staff_id"] == lien).unwrap();
        assert_eq!(lien_row["items"], 2);
        let first = &r["rows"][0];
        assert!(first["responsible"].as_str().unwrap().contains("Nguyễn Thị Liên"));
        assert!(first["responsible"].as_str().unwrap().contains("đợt 1 31/10/2024"));
        assert_eq!(first["latest_note"], "Đang làm");

        let xlsx = w.app.get(&format!("/api/v1/remediation-plans/{plan_id}/report?format=xlsx&as_of=2024-11-01"), officer).await;
        xlsx.assert_status(200);
        use calamine::{Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        let header = rows.iter().position(|r| r[0] == "TT").unwrap();
        assert_eq!(rows[header][8], "TRẠNG THÁI");
        let data = &rows[header + 1..];
        assert_eq!(data.len(), 21, "20 items and the total");
        assert_eq!(data[0][0], "3.3");
        assert_eq!(data[0][5], "-2");
        assert!(data[0][8].contains("quá hạn"));
        assert_eq!(data[20][1], "Tổng cộng");
        assert_eq!(data[20][5], "-12.75");

        // The appendix now names who is responsible.
        let appendix = w.app.get(&format!("/api/v1/units/{}/appendix?year=2023&format=csv", w.id("commune_a")), officer).await;
        appendix.assert_status(200);
        let text = String::from_utf8(appendix.bytes[3..].to_vec()).unwrap();
        assert!(text.contains("Nguyễn Thị Liên (Công chức Văn phòng - Thống kê)"), "{text}");

        // Next year's finalized appraisal shows what was recovered.
        let next = w.app.post(&format!("/api/v1/frameworks/{framework}/copy"), w.admin(), &json!({"year": 2024})).await.json["id"].as_i64().unwrap();
        w.app.post(&format!("/api/v1/frameworks/{next}/publish"), w.admin(), &json!({})).await.assert_status(200);
        w.quick_file(next, w.id("commune_a"), "95.00", "0").await;
        // What was recovered is a 2024 result: the district sees it at once, the unit once
        // 2024 is published.
        let early = w.app.get(&format!("/api/v1/remediation-plans/{plan_id}"), appraiser).await;
        assert_eq!(early.json["summary"]["points_recovered"], "12.75");
        let hidden = w.app.get(&format!("/api/v1/remediation-plans/{plan_id}"), officer).await;
        assert_eq!(hidden.json["summary"]["points_recovered"], Value::Null);
        w.app.post("/api/v1/publications", appraiser, &json!({"parent_unit_id": w.id("district"), "year": 2024})).await.assert_status(201);
        let after = w.app.get(&format!("/api/v1/remediation-plans/{plan_id}"), officer).await;
        assert_eq!(after.json["summary"]["points_recovered"], "12.75", "every appendix criterion at its max in 2024");

        let trail = w.app.get(&format!("/api/v1/audit-events?entity=remediation_item&entity_id={done_id}"), officer).await;
        assert_eq!(trail.json["items"][0]["action"], "progress");
        assert_eq!(trail.json["items"][0]["old_value"]["status"], "not_started");
        assert_eq!(trail.json["items"][0]["new_value"]["status"], "done");
    })
    .await;
}

#[tokio::test]
async fn plans_come_only_from_finalized_appraisals() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let sa = w.open_assessment(Persona::OfficerA, w.id("commune_a"), framework).await;
        let officer = w.token(Persona::OfficerA);
        w.app.put(&format!("/api/v1/self-assessments/{sa}/entries"), officer, &json!({"entries": crate::fixtures::seed_self_entries()})).await;
        let appraisal = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await.json["appraisal_id"].as_i64().unwrap();
        w.app.post("/api/v1/remediation-plans", officer, &json!({"appraisal_id": appraisal})).await.assert_problem(409, Some("not_finalized"));
        w.app.post("/api/v1/remediation-plans", officer, &json!({"appraisal_id": 999999})).await.assert_problem(422, None);
        w.app
            .post("/api/v1/remediation-plans", officer, &json!({"appraisal_id": appraisal, "milestones": [{"label": "", "due_on": "2024-13-01"}]}))
            .await
            .assert_problem(422, None);
        assert_eq!(w.app.get("/api/v1/remediation-plans", officer).await.json.as_array().unwrap().len(), 0);
    })
    .await;
}
