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
        assert_eq!(w.app.get("/api/v1/remediation-plans", officer).await.json["total"], 0);
    })
    .await;
}

/// A published plan of commune A (2023's seed deductions), its unit's officers (Liên,
/// Đệ) and commune B's (Khác). Returns (plan id, item ids by code, Liên, Đệ, Khác).
async fn plan_with_officers(
    w: &crate::fixtures::World,
) -> (i64, std::collections::HashMap<String, i64>, i64, i64, i64) {
    let framework = w.published_framework(w.id("district")).await;
    let (_, appraisal) = w.seed_appraisal(framework).await;
    w.app
        .post(
            "/api/v1/publications",
            w.admin(),
            &json!({"parent_unit_id": w.id("district"), "year": 2023}),
        )
        .await
        .assert_status(201);
    let officer = w.token(Persona::OfficerA);
    let plan = w
        .app
        .post(
            "/api/v1/remediation-plans",
            officer,
            &json!({"appraisal_id": appraisal}),
        )
        .await;
    plan.assert_status(201);
    let items = plan.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["criterion_code"].as_str().unwrap().to_string(),
                i["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let staff = |unit: &'static str, token: &'static str, name: &'static str| {
        let w = &w;
        async move {
            let r = w
                .app
                .post(
                    &format!("/api/v1/units/{}/staff", w.id(unit)),
                    w.token(if token == "a" {
                        Persona::OfficerA
                    } else {
                        Persona::OfficerB
                    }),
                    &json!({"full_name": name, "title": "Công chức"}),
                )
                .await;
            r.assert_status(201);
            r.json["id"].as_i64().unwrap()
        }
    };
    let lien = staff("commune_a", "a", "Nguyễn Thị Liên").await;
    let de = staff("commune_a", "a", "Võ Văn Đệ").await;
    let khac = staff("commune_b", "b", "Lê Văn Khác").await;
    (plan.json["id"].as_i64().unwrap(), items, lien, de, khac)
}

#[tokio::test]
async fn an_item_has_one_lead_any_supporting_officers_and_bodies() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (_, items, lien, de, khac) = plan_with_officers(&w).await;
        let officer = w.token(Persona::OfficerA);
        let item = format!("/api/v1/remediation-items/{}", items["3.12.1"]);
        let set = w
            .app
            .patch(&item, officer, &json!({"officers": [{"staff_id": lien, "role": "lead"}, {"staff_id": de, "role": "support"}],
                                           "bodies": ["UBMT xã", "Đoàn Thanh niên", "UBMT xã"]}))
            .await;
        set.assert_status(200);
        assert_eq!(set.json["responsible_staff_id"], lien);
        assert_eq!(set.json["officers"][1]["role"], "support");
        assert_eq!(set.json["bodies"], json!(["UBMT xã", "Đoàn Thanh niên"]));
        // Found by any of its officers.
        let by_support = w.app.get(&format!("/api/v1/remediation-items?responsible_staff_id={de}"), officer).await;
        let found: Vec<i64> = by_support.json["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
        assert_eq!(found, [items["3.12.1"]]);
        // Two leads, the same officer twice, another unit's officer: refused, nothing changes.
        for (body, field) in [
            (json!({"officers": [{"staff_id": lien, "role": "lead"}, {"staff_id": de, "role": "lead"}]}), "officers"),
            (json!({"officers": [{"staff_id": de, "role": "support"}, {"staff_id": de, "role": "support"}]}), "officers[1].staff_id"),
            (json!({"officers": [{"staff_id": khac, "role": "support"}]}), "officers[0].staff_id"),
        ] {
            let r = w.app.patch(&item, officer, &body).await;
            r.assert_problem(422, None);
            assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
            assert!(!r.text.contains("Khác"));
        }
        // The older single field sets the lead and keeps the supporting officer.
        let relead = w.app.patch(&item, officer, &json!({"responsible_staff_id": de})).await;
        relead.assert_status(200);
        let people: Vec<(i64, String)> = relead.json["officers"].as_array().unwrap().iter().map(|o| (o["staff_id"].as_i64().unwrap(), o["role"].as_str().unwrap().to_string())).collect();
        assert_eq!(people, [(de, "lead".to_string())], "Đệ leads; Liên is no longer on it");
        let report = w.app.get(&format!("/api/v1/remediation-plans/{}/report", relead.json["plan_id"]), officer).await;
        let row = report.json["rows"].as_array().unwrap().iter().find(|r| r["criterion_code"] == "3.12.1").unwrap();
        assert!(row["responsible"].as_str().unwrap().contains("Võ Văn Đệ"), "{}", row["responsible"]);
        assert!(row["responsible"].as_str().unwrap().contains("UBMT xã"), "{}", row["responsible"]);
    })
    .await;
}

#[tokio::test]
async fn deadlines_are_the_items_own_with_a_status_and_overdue_means_not_met() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (_, items, _, _, _) = plan_with_officers(&w).await;
        let officer = w.token(Persona::OfficerA);
        let overdue = |as_of: &'static str| {
            let w = &w;
            async move {
                let r = w
                    .app
                    .get(
                        &format!(
                            "/api/v1/remediation-items?unit_id={}&overdue=true&as_of={as_of}",
                            w.id("commune_a")
                        ),
                        w.token(Persona::OfficerA),
                    )
                    .await;
                r.assert_status(200);
                let mut codes = r.json["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["criterion_code"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>();
                codes.sort();
                codes
            }
        };
        // 1.4.1 "trước ngày 31/01/2024"; 1.5.1 "ngày 25 hằng tháng".
        let own = w
            .app
            .patch(
                &format!("/api/v1/remediation-items/{}", items["1.4.1"]),
                officer,
                &json!({"milestones": [{"label": "Hoàn thành", "due_on": "2024-01-31"}]}),
            )
            .await;
        own.assert_status(200);
        let monthly = w
            .app
            .patch(
                &format!("/api/v1/remediation-items/{}", items["1.5.1"]),
                officer,
                &json!({"recurrence": {"kind": "monthly", "day": 25}}),
            )
            .await;
        monthly.assert_status(200);
        let occurrences = monthly.json["milestones"].as_array().unwrap();
        assert_eq!(occurrences.len(), 12);
        assert_eq!(occurrences[1]["due_on"], "2024-02-25");
        assert_eq!(occurrences[1]["label"], "tháng 2/2024");
        assert!(
            occurrences
                .iter()
                .all(|m| m["recurring"] == true && m["status"] == "pending")
        );
        assert_eq!(
            monthly.json["recurrence"],
            json!({"kind": "monthly", "day": 25})
        );
        // A rule that yields no real dates is refused, and the duty stays as it was.
        for rule in [
            json!({"kind": "monthly", "day": 32}),
            json!({"kind": "quarterly", "month": 4, "day": 20}),
            json!({"kind": "weekly", "day": 1}),
            json!({"kind": "yearly", "month": 3}),
        ] {
            w.app
                .patch(
                    &format!("/api/v1/remediation-items/{}", items["1.5.1"]),
                    officer,
                    &json!({"recurrence": rule}),
                )
                .await
                .assert_problem(422, None);
        }
        let kept = w
            .app
            .get(
                &format!("/api/v1/remediation-items/{}", items["1.5.1"]),
                officer,
            )
            .await;
        assert_eq!(
            kept.json["recurrence"],
            json!({"kind": "monthly", "day": 25})
        );
        assert_eq!(kept.json["milestones"].as_array().unwrap().len(), 12);
        assert_eq!(
            overdue("2024-01-25").await,
            Vec::<String>::new(),
            "due today is not overdue"
        );
        let feb = overdue("2024-02-15").await;
        assert_eq!(
            feb,
            ["1.4.1", "1.5.1"],
            "January's own deadline and its 25th passed, not met"
        );
        // January met: 1.4.1 is never overdue again, and the duty only from 26 February.
        let met = w
            .app
            .patch(
                &format!(
                    "/api/v1/remediation-items/{}/milestones/{}",
                    items["1.4.1"], own.json["milestones"][0]["id"]
                ),
                officer,
                &json!({"status": "met", "met_on": "2024-01-30", "note": "Đã ban hành phụ lục"}),
            )
            .await;
        met.assert_status(200);
        assert_eq!(met.json["milestones"][0]["status"], "met");
        assert_eq!(met.json["milestones"][0]["met_on"], "2024-01-30");
        let jan = w
            .app
            .patch(
                &format!(
                    "/api/v1/remediation-items/{}/milestones/{}",
                    items["1.5.1"], occurrences[0]["id"]
                ),
                officer,
                &json!({"status": "met"}),
            )
            .await;
        jan.assert_status(200);
        assert_eq!(jan.json["next_due"], "2024-02-25");
        assert_eq!(overdue("2024-02-24").await, Vec::<String>::new());
        assert_eq!(overdue("2024-02-26").await, ["1.5.1"]);
        assert!(
            !overdue("2030-01-01").await.contains(&"1.4.1".to_string()),
            "a met milestone is never overdue"
        );
        let soon = w
            .app
            .get(
                &format!(
                    "/api/v1/remediation-items?unit_id={}&due_within_days=5&as_of=2024-02-20",
                    w.id("commune_a")
                ),
                officer,
            )
            .await;
        let soon: Vec<&str> = soon.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["criterion_code"].as_str().unwrap())
            .collect();
        assert_eq!(soon, ["1.5.1"]);
        // A met milestone goes back to pending, not to missed; a bad status is a 422.
        w.app
            .patch(
                &format!(
                    "/api/v1/remediation-items/{}/milestones/{}",
                    items["1.4.1"], own.json["milestones"][0]["id"]
                ),
                officer,
                &json!({"status": "missed"}),
            )
            .await
            .assert_problem(409, Some("invalid_transition"));
        w.app
            .patch(
                &format!(
                    "/api/v1/remediation-items/{}/milestones/{}",
                    items["1.4.1"], own.json["milestones"][0]["id"]
                ),
                officer,
                &json!({"status": "done"}),
            )
            .await
            .assert_problem(422, None);
        let trail = w
            .app
            .get(
                &format!(
                    "/api/v1/audit-events?entity=remediation_item&entity_id={}&action=milestone",
                    items["1.4.1"]
                ),
                officer,
            )
            .await;
        assert_eq!(trail.json["total"], 1);
    })
    .await;
}

#[tokio::test]
async fn tasks_with_targets_are_met_when_the_measure_reaches_them() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (plan, items, lien, _, _) = plan_with_officers(&w).await;
        let officer = w.token(Persona::OfficerA);
        let task = w
            .app
            .post(&format!("/api/v1/remediation-plans/{plan}/items"), officer,
                  &json!({"title": "Tỷ lệ hồ sơ trực tuyến từ 50% trở lên", "officers": [{"staff_id": lien, "role": "lead"}],
                          "target": {"value": 50, "unit": "%", "direction": "at_least"},
                          "milestones": [{"label": "Cuối năm", "due_on": "2024-12-31"}]}))
            .await;
        task.assert_status(201);
        assert_eq!(task.json["target"]["direction"], "at_least");
        assert_eq!(task.json["achieved"], Value::Null);
        let path = format!("/api/v1/remediation-items/{}/progress", task.json["id"]);
        let low = w.app.post(&path, officer, &json!({"note": "Quý 1", "status": "in_progress", "measured": 40, "measured_on": "2024-03-31"})).await;
        low.assert_status(201);
        assert_eq!((low.json["achieved"].as_str(), low.json["target_met"].as_bool()), (Some("40.00"), Some(false)));
        let high = w.app.post(&path, officer, &json!({"note": "Quý 3", "measured": "55.5", "measured_on": "2024-09-30"})).await;
        assert_eq!((high.json["achieved"].as_str(), high.json["target_met"].as_bool()), (Some("55.50"), Some(true)));
        // Only a task with a target is measured.
        w.app
            .post(&format!("/api/v1/remediation-items/{}/progress", items["3.3"]), officer, &json!({"note": "x", "measured": 3}))
            .await
            .assert_problem(422, None);
        w.app
            .post(&format!("/api/v1/remediation-plans/{plan}/items"), officer, &json!({"title": "x", "target": {"value": -1, "unit": "%", "direction": "at_least"}}))
            .await
            .assert_problem(422, None);
        let report = w.app.get(&format!("/api/v1/remediation-plans/{plan}/report"), officer).await;
        let row = report.json["rows"].as_array().unwrap().iter().find(|r| r["title"] == "Tỷ lệ hồ sơ trực tuyến từ 50% trở lên").unwrap();
        assert_eq!(row["target"], "≥ 50 %");
        assert_eq!(row["achieved"], "55.50");
        assert_eq!(row["target_met"], true);
    })
    .await;
}

#[tokio::test]
async fn plans_made_before_carry_over_their_officer_as_lead_and_phases_as_pending() {
    use sea_orm::ConnectionTrait;
    use sea_orm_migration::MigratorTrait;
    for backend in crate::helpers::backends() {
        let (url, database) = crate::helpers::fresh_database(&backend).await;
        let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
        migration::Migrator::up(&db, Some(6)).await.unwrap();
        let t = "'2024-01-15 08:00:00+00:00'";
        for sql in [
            format!("INSERT INTO units (id, code, name, name_search, kind, parent_id, path, depth, active, version, created_at, updated_at) VALUES (1, 'D', 'Huyện', 'huyen', 'district', NULL, '/1/', 0, TRUE, 1, {t}, {t})"),
            format!("INSERT INTO units (id, code, name, name_search, kind, parent_id, path, depth, active, version, created_at, updated_at) VALUES (2, 'C', 'Xã', 'xa', 'commune', 1, '/1/2/', 1, TRUE, 1, {t}, {t})"),
            format!("INSERT INTO staff (id, unit_id, full_name, title, user_id, active, version, created_at, updated_at) VALUES (7, 2, 'Nguyễn Thị Liên', 'VP-TK', NULL, TRUE, 1, {t}, {t})"),
            format!("INSERT INTO frameworks (id, owner_unit_id, year, name, unit_kinds, status, na_policy, bonus_max_x100, rating_bands, submission_deadline, published_at, created_by, version, created_at, updated_at) VALUES (3, 1, 2023, 'F', 'commune', 'published', 'full_score', 0, '[]', NULL, {t}, NULL, 1, {t}, {t})"),
            format!("INSERT INTO self_assessments (id, unit_id, framework_id, year, status, self_total_x100, round, submitted_at, editable_codes, created_by, version, created_at, updated_at) VALUES (4, 2, 3, 2023, 'appraised', 9088, 1, {t}, NULL, NULL, 1, {t}, {t})"),
            format!("INSERT INTO appraisals (id, self_assessment_id, unit_id, framework_id, year, status, appraised_total_x100, bonus_x100, bonus_reason, self_total_x100, index_x100, deduction_total_x100, rating_band, finalized_at, finalized_by, version, created_at, updated_at) VALUES (5, 4, 2, 3, 2023, 'finalized', 8725, 100, NULL, 9088, 8825, 1275, NULL, {t}, NULL, 1, {t}, {t})"),
            format!("INSERT INTO remediation_plans (id, appraisal_id, unit_id, source_year, year, created_by, version, created_at, updated_at) VALUES (6, 5, 2, 2023, 2024, NULL, 1, {t}, {t})"),
            format!("INSERT INTO remediation_items (id, plan_id, unit_id, position, criterion_code, title, max_score_x100, self_score_x100, appraised_score_x100, deduction_x100, comment, action, responsible_staff_id, target_score_x100, status, cancel_reason, version, created_at, updated_at) VALUES (8, 6, 2, 0, '3.3', 'TTHC', 200, 200, 0, 200, NULL, NULL, 7, NULL, 'in_progress', NULL, 1, {t}, {t})"),
            "INSERT INTO remediation_milestones (id, item_id, position, label, due_on) VALUES (9, 8, 0, 'đợt 1', '2024-10-31')".to_string(),
            "INSERT INTO remediation_milestones (id, item_id, position, label, due_on) VALUES (10, 8, 1, 'đợt 2', '2024-12-15')".to_string(),
        ] {
            db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        migration::Migrator::up(&db, None).await.unwrap();
        let _ = db.close().await;
        // The server reads them as the new model does.
        let app = crate::helpers::TestApp::spawn_on(backend.clone(), url, database, &[]).await;
        let admin = app.admin_token().await;
        let item = app
            .get("/api/v1/remediation-items/8?as_of=2024-11-01", &admin)
            .await;
        item.assert_status(200);
        assert_eq!(item.json["responsible_staff_id"], 7, "{}", item.text);
        assert_eq!(
            item.json["officers"],
            json!([{"staff_id": 7, "full_name": "Nguyễn Thị Liên", "title": "VP-TK", "role": "lead"}])
        );
        let phases: Vec<(&str, &str, &str)> = item.json["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["label"].as_str().unwrap(),
                    m["due_on"].as_str().unwrap(),
                    m["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            phases,
            [
                ("đợt 1", "2024-10-31", "pending"),
                ("đợt 2", "2024-12-15", "pending")
            ]
        );
        assert_eq!(item.json["overdue"], true, "đợt 1 passed, not met");
    }
}
