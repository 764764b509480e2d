//! The `demo-data` command's loader, then the seed's sentence through HTTP.

use crate::helpers::{TestApp, on_each_backend};
use parindex_api::demo::SeedPlan;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

const SEED: &str = include_str!("../../demo/fixtures/seed_vinh_long_2023.json");

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
        // 7.3.1 and 7.3.2 came from the document system: fed values with their source,
        // the letter's figures and comment unchanged.
        let appraiser = app
            .login("vinhlinh.thamdinh", parindex_api::demo::DEMO_PASSWORD)
            .await;
        let appraisal = app
            .get(
                &format!("/api/v1/appraisals/{}", x["appraisal_id"].as_i64().unwrap()),
                &appraiser,
            )
            .await;
        let fed = appraisal.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["criterion_code"] == "7.3.1")
            .unwrap();
        assert_eq!(fed["appraised_score"], "0.72");
        assert_eq!(
            fed["comment"],
            "Theo số liệu trích từ hệ thống quản lý văn bản và hồ sơ công việc tỉnh"
        );
        let framework = appraisal.json["framework_id"].as_i64().unwrap();
        let values = app
            .get(
                &format!("/api/v1/frameworks/{framework}/indicator-values?unit_id={unit}"),
                &appraiser,
            )
            .await;
        values.assert_status(200);
        let codes: Vec<(&str, &str)> = values.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["criterion_code"].as_str().unwrap(),
                    v["source_system"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                ("7.3.1", parindex_api::demo::QLVB),
                ("7.3.2", parindex_api::demo::QLVB)
            ]
        );
        // The plan names the letter's officers.
        let plans = app
            .get(
                &format!("/api/v1/remediation-plans?unit_id={unit}"),
                &officer,
            )
            .await;
        let plan = plans.json["items"][0]["id"].as_i64().unwrap();
        let plan = app
            .get(&format!("/api/v1/remediation-plans/{plan}"), &officer)
            .await;
        let first = &plan.json["items"][0];
        assert_eq!(first["criterion_code"], "3.3");
        assert_eq!(first["responsible"]["full_name"], "Nguyễn Thị Liên");
        let items = plan.json["items"].as_array().unwrap();
        the_plan_is_the_letter_row_by_row(items);
        the_plan_holds_the_letters_tasks(items);
        overdue_and_the_appendix_follow_each_items_own_deadlines(&app, &officer, unit).await;
        the_seed_file_carries_real_pdfs(&app, &officer, unit).await;
        the_seed_file_was_signed_off_and_appealed(&app, &officer, unit).await;
        the_2024_campaign_is_on_the_officers_calendar(&app, &officer).await;
        repeat_losses_are_flagged(&app, &officer, unit).await;
        let appraiser = app
            .login("vinhlinh.thamdinh", parindex_api::demo::DEMO_PASSWORD)
            .await;
        the_ranking_exports_rank_changes_as_numbers(&app, &appraiser).await;
    })
    .await;
}

/// The criteria Vĩnh Long lost points on in both 2022 and 2023 are flagged in its 2023
/// index and appendix (the two frameworks share their codes: no mapping is recorded).
async fn repeat_losses_are_flagged(app: &TestApp, officer: &str, unit: i64) {
    let lost = |index: &Value| -> std::collections::BTreeSet<String> {
        index["deductions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["criterion_code"].as_str().unwrap().to_string())
            .collect()
    };
    let now = app
        .get(&format!("/api/v1/units/{unit}/index?year=2023"), officer)
        .await;
    let then = app
        .get(&format!("/api/v1/units/{unit}/index?year=2022"), officer)
        .await;
    then.assert_status(200);
    let both: std::collections::BTreeSet<String> = lost(&now.json)
        .intersection(&lost(&then.json))
        .cloned()
        .collect();
    let flagged: std::collections::BTreeSet<String> = now.json["deductions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["repeat_loss"] == true)
        .map(|d| d["criterion_code"].as_str().unwrap().to_string())
        .collect();
    assert!(!both.is_empty(), "the demo loses some criteria both years");
    assert_eq!(flagged, both);
    let appendix = app
        .get(
            &format!("/api/v1/units/{unit}/appendix?year=2023&format=csv"),
            officer,
        )
        .await;
    assert!(appendix.text.contains("BỊ TRỪ ĐIỂM CẢ NĂM TRƯỚC"));
}

/// The officer's calendar of 2024: the letter's remediation deadlines (31/10 and
/// 15/12/2024, among the items' own) and the year-end scoring they prepare for.
async fn the_2024_campaign_is_on_the_officers_calendar(app: &TestApp, officer: &str) {
    let cal = app
        .get("/api/v1/calendar?from=2024-10-01&to=2025-02-28", officer)
        .await;
    cal.assert_status(200);
    let items = cal.json["items"].as_array().unwrap();
    let on = |date: &str, kind: &str| {
        items
            .iter()
            .filter(|e| e["date"] == date && e["kind"] == kind)
            .count()
    };
    assert!(
        on("2024-10-31", "remediation_milestone") > 0,
        "{}",
        cal.text
    );
    assert!(
        on("2024-12-15", "remediation_milestone") > 0,
        "{}",
        cal.text
    );
    let opens = items
        .iter()
        .find(|e| e["kind"] == "campaign_opens")
        .unwrap_or_else(|| panic!("{}", cal.text));
    assert_eq!(opens["date"], "2024-12-16");
    assert!(opens["note"].as_str().unwrap().contains("cuối năm 2024"));
    // The illustrative dates say so.
    let announced = items.iter().find(|e| e["kind"] == "announcement").unwrap();
    assert!(announced["note"].as_str().unwrap().contains("minh hoạ"));
}

/// `/rankings/export.csv` is the CSV alone (one media type per path) and the same bytes as
/// the old `?format=csv`; a rank change is a number (`-3`), not a quoted text (`'-3`).
async fn the_ranking_exports_rank_changes_as_numbers(app: &TestApp, appraiser: &str) {
    let districts = app
        .get("/api/v1/units?kind=district&per_page=200", appraiser)
        .await;
    let district = districts.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Huyện Vĩnh Linh"))
        })
        .and_then(|u| u["id"].as_i64())
        .unwrap_or_else(|| panic!("{}", districts.text));
    let query = format!("parent_unit_id={district}&year=2023");
    let csv = app
        .get(&format!("/api/v1/rankings/export.csv?{query}"), appraiser)
        .await;
    csv.assert_status(200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let old = app
        .get(
            &format!("/api/v1/rankings/export?{query}&format=csv"),
            appraiser,
        )
        .await;
    assert_eq!(csv.bytes, old.bytes);
    let text = String::from_utf8_lossy(&csv.bytes);
    let row = text
        .lines()
        .find(|l| l.contains("Xã Vĩnh Long"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.ends_with(",8,-3"), "{row}");
    assert!(!text.contains("'-") && !text.contains("'+"), "{text}");
    let xlsx = app
        .get(&format!("/api/v1/rankings/export.xlsx?{query}"), appraiser)
        .await;
    assert!(xlsx.bytes.starts_with(b"PK"), "{}", xlsx.text);
    let twice = app
        .get(
            &format!("/api/v1/rankings/export.csv?{query}&format=xlsx"),
            appraiser,
        )
        .await;
    twice.assert_problem(400, None);
}

/// Lists are pages of the same shape, and `page` and `per_page` are honoured on each.
async fn every_list_pages_the_same_way(app: &TestApp, appraiser: &str, unit: i64) {
    for (list, at_least) in [
        (format!("/api/v1/remediation-items?unit_id={unit}"), 2),
        (format!("/api/v1/units/{unit}/staff"), 2),
        ("/api/v1/publications".to_string(), 2),
        ("/api/v1/unit-merges".to_string(), 2),
        ("/api/v1/appeals".to_string(), 1),
        ("/api/v1/remediation-plans".to_string(), 1),
    ] {
        let join = if list.contains('?') { '&' } else { '?' };
        let all = app
            .get(&format!("{list}{join}per_page=100"), appraiser)
            .await;
        all.assert_status(200);
        let total = all.json["total"].as_u64().unwrap();
        assert!(total >= at_least, "{list}: {}", all.text);
        if total < 2 {
            let beyond = app
                .get(&format!("{list}{join}per_page=1&page=2"), appraiser)
                .await;
            assert_eq!(beyond.json["items"], json!([]), "{list}");
            assert_eq!(beyond.json["total"].as_u64(), Some(total), "{list}");
            continue;
        }
        let first = app
            .get(&format!("{list}{join}per_page=1&page=1"), appraiser)
            .await;
        let second = app
            .get(&format!("{list}{join}per_page=1&page=2"), appraiser)
            .await;
        for page in [&first, &second] {
            assert_eq!(
                page.json["items"].as_array().unwrap().len(),
                1,
                "{list}: {}",
                page.text
            );
            assert_eq!(page.json["total"].as_u64(), Some(total), "{list}");
            assert_eq!(page.json["per_page"], 1, "{list}");
        }
        assert_ne!(first.json["items"][0], second.json["items"][0], "{list}");
        assert_eq!(second.json["page"], 2, "{list}");
    }
}

/// Vĩnh Long's chairman signed its 2023 file off; the commune appealed 1.5.3 after the
/// preliminary results and the council said no, so the seed's figures stand.
async fn the_seed_file_was_signed_off_and_appealed(app: &TestApp, officer: &str, unit: i64) {
    let files = app
        .get(
            &format!("/api/v1/self-assessments?unit_id={unit}&year=2023"),
            officer,
        )
        .await;
    let sa = files.json["items"][0]["id"].as_i64().unwrap();
    let file = app
        .get(&format!("/api/v1/self-assessments/{sa}"), officer)
        .await;
    assert_eq!(file.json["approval"]["approved_by_name"], "Trần Quốc Lương");
    let appeals = app.get("/api/v1/appeals?year=2023", officer).await;
    let list = appeals.json["items"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", appeals.text);
    assert_eq!(list[0]["criterion_code"], "1.5.3");
    assert_eq!(list[0]["status"], "rejected");
    assert!(
        list[0]["response"]
            .as_str()
            .unwrap()
            .contains("giữ 0,5 điểm")
    );
}

/// Vĩnh Long's 2023 entries 1.4.1, 1.5.1 and 1.7 carry stored PDFs, served byte-identical
/// and collected in the file's evidence zip under their criteria.
async fn the_seed_file_carries_real_pdfs(app: &TestApp, officer: &str, unit: i64) {
    let listed = app
        .get(
            &format!("/api/v1/evidence-files?unit_id={unit}&year=2023"),
            officer,
        )
        .await;
    listed.assert_status(200);
    let files = listed.json["items"].as_array().unwrap().clone();
    assert_eq!(files.len(), 3, "{}", listed.json);
    for f in &files {
        assert_eq!(f["content_type"], "application/pdf");
        let id = f["id"].as_i64().unwrap();
        let content = app
            .get(&format!("/api/v1/evidence-files/{id}/content"), officer)
            .await;
        content.assert_status(200);
        assert!(content.bytes.starts_with(b"%PDF-"), "{}", f["filename"]);
        assert_eq!(content.bytes.len() as i64, f["size"].as_i64().unwrap());
    }
    let found = app
        .get(
            &format!("/api/v1/self-assessments?unit_id={unit}&year=2023"),
            officer,
        )
        .await;
    found.assert_status(200);
    let sa = found.json["items"][0]["id"]
        .as_i64()
        .expect("Vĩnh Long's 2023 self-assessment");
    let file = app
        .get(&format!("/api/v1/self-assessments/{sa}"), officer)
        .await;
    let with_files: Vec<(String, String)> = file.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e["evidence"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(move |ev| {
                    ev["file_id"].as_i64().map(|_| {
                        (
                            e["criterion_code"].as_str().unwrap().to_string(),
                            ev["number"].as_str().unwrap().to_string(),
                        )
                    })
                })
        })
        .collect();
    assert_eq!(
        with_files,
        [
            ("1.4.1".to_string(), "45/KH-UBND".to_string()),
            ("1.5.1".to_string(), "103/BC-VP".to_string()),
            ("1.7".to_string(), "12/BB-UBND".to_string())
        ]
    );
    let zip = app
        .get(
            &format!("/api/v1/self-assessments/{sa}/evidence.zip"),
            officer,
        )
        .await;
    zip.assert_status(200);
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes.clone())).unwrap();
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.expect("entry name").to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "1.4.1/Kế hoạch 45-KH-UBND tuyên truyền CCHC 2023.pdf",
            "1.5.1/Báo cáo 103-BC-VP nhiệm vụ được giao.pdf",
            "1.7/Biên bản đối thoại 12-BB-UBND.pdf"
        ]
    );
}

/// Every date `d/m/yyyy` a sentence of the letter names, as `yyyy-mm-dd`.
fn dates_in(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for word in text.split(|c: char| !(c.is_ascii_digit() || c == '/')) {
        let parts: Vec<&str> = word.split('/').collect();
        if let [d, m, y] = parts[..]
            && y.len() == 4
            && let (Ok(d), Ok(m), Ok(y)) = (d.parse::<u32>(), m.parse::<u32>(), y.parse::<i32>())
        {
            found.insert(format!("{y:04}-{m:02}-{d:02}"));
        }
    }
    found
}

/// The officer a sentence starts a duty with: the first "Đ/c <name>" ("đ/c" in "nộp về
/// đ/c Liên"), by the longest of the letter's short names.
fn first_officer<'a>(text: &str, keys: &[&'a str]) -> Option<&'a str> {
    let at = ["Đ/c ", "đ/c "].iter().filter_map(|p| text.find(p)).min()?;
    let rest = &text[at + "đ/c ".len()..];
    keys.iter()
        .filter(|k| rest.starts_with(**k))
        .max_by_key(|k| k.len())
        .copied()
}

/// Each appendix row of the seed letter against the demo plan's item: the letter's text
/// as the action, its dates as the item's own milestones, "ngày 25 hàng tháng" as a
/// monthly duty, the officer it names as lead, the ones in parentheses as support, and
/// bodies where it names no officer.
fn the_plan_is_the_letter_row_by_row(items: &[Value]) {
    let seed: Value = serde_json::from_str(SEED).unwrap();
    let plan = SeedPlan::load().unwrap();
    let names: HashMap<&str, &str> = plan
        .officers
        .iter()
        .map(|o| (o.key.as_str(), o.full_name.as_str()))
        .collect();
    let keys: Vec<&str> = names.keys().copied().collect();
    let rows = seed["appendix"].as_array().unwrap();
    assert_eq!(rows.len(), 19);
    let criteria: Vec<&Value> = items
        .iter()
        .filter(|i| !i["criterion_code"].is_null())
        .collect();
    assert_eq!(criteria.len(), rows.len(), "one item per appendix row");
    let mut listed_support = 0;
    for row in rows {
        let code = row["code"].as_str().unwrap();
        let text = row["responsible_action"].as_str().unwrap();
        let item = criteria
            .iter()
            .find(|i| i["criterion_code"] == code)
            .unwrap_or_else(|| panic!("{code}: no item"));
        assert_eq!(item["action"], text, "{code}: the letter's words");
        let own: BTreeSet<String> = item["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["recurring"] == false)
            .map(|m| m["due_on"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(own, dates_in(text), "{code}: its own deadlines");
        let monthly = text
            .split("hàng tháng")
            .next()
            .filter(|before| before.len() < text.len())
            .and_then(|before| before.split_whitespace().last())
            .and_then(|day| day.parse::<u32>().ok());
        match monthly {
            Some(day) => {
                assert_eq!(
                    item["recurrence"],
                    json!({"kind": "monthly", "day": day}),
                    "{code}"
                );
                let occurrences = item["milestones"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["recurring"] == true)
                    .count();
                assert_eq!(occurrences, 12, "{code}: one per month of 2024");
            }
            None => assert!(item["recurrence"].is_null(), "{code}: no recurring duty"),
        }
        let officers = item["officers"].as_array().unwrap();
        let lead: Option<&str> = officers
            .iter()
            .find(|o| o["role"] == "lead")
            .and_then(|o| o["full_name"].as_str());
        match first_officer(text, &keys) {
            Some(key) => assert_eq!(lead, Some(names[key]), "{code}: lead"),
            None => {
                assert_eq!(lead, None, "{code}: the letter names no officer");
                assert!(
                    !item["bodies"].as_array().unwrap().is_empty(),
                    "{code}: who then"
                );
            }
        }
        // "(Long, Văn, Đệ, Hiền KT)": the officers it works with; not "(đợt 1)".
        let listed = text
            .split_once('(')
            .and_then(|(_, r)| r.split_once(')'))
            .map(|(l, _)| l);
        if let Some(named) = listed.and_then(|l| {
            l.split(", ")
                .map(|k| names.get(k.trim()).copied())
                .collect::<Option<BTreeSet<&str>>>()
        }) {
            let support: BTreeSet<&str> = officers
                .iter()
                .filter(|o| o["role"] == "support")
                .map(|o| o["full_name"].as_str().unwrap())
                .collect();
            assert_eq!(support, named, "{code}: supporting officers");
            listed_support += 1;
        }
        if text.contains("toàn bộ CBCC") {
            assert_eq!(item["bodies"], json!(["Toàn bộ CBCC"]), "{code}");
        }
    }
    assert_eq!(listed_support, 2, "3.12.1 and 3.12.2 list their officers");
}

/// The letter's body: targets with their units and directions, bodies outside the staff
/// list, and their dates.
fn the_plan_holds_the_letters_tasks(items: &[Value]) {
    let tasks: Vec<&Value> = items
        .iter()
        .filter(|i| i["criterion_code"].is_null())
        .collect();
    let with_target = |value: &str, unit: &str, direction: &str| -> &Value {
        tasks
            .iter()
            .copied()
            .find(|t| t["target"] == json!({"value": value, "unit": unit, "direction": direction}))
            .unwrap_or_else(|| panic!("no task {direction} {value} {unit}"))
    };
    let online = with_target("50.00", "%", "at_least");
    assert!(online["title"].as_str().unwrap().contains("người có công"));
    with_target("70.00", "%", "more_than");
    let dialogues = with_target("2.00", "hội nghị", "at_least");
    assert_eq!(dialogues["milestones"][0]["due_on"], "2024-12-31");
    let posts = with_target("3.00", "bài/tháng", "at_least");
    assert_eq!(posts["recurrence"], json!({"kind": "monthly", "day": 31}));
    assert_eq!(
        posts["milestones"][1]["due_on"], "2024-02-29",
        "the last day of February"
    );
    let disbursed: Vec<(String, String)> = tasks
        .iter()
        .filter(|t| t["title"].as_str().unwrap().contains("Giải ngân"))
        .map(|t| {
            (
                t["target"]["value"].as_str().unwrap().to_string(),
                t["milestones"][0]["due_on"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        disbursed,
        vec![
            ("80.00".to_string(), "2024-11-15".to_string()),
            ("100.00".to_string(), "2024-12-31".to_string())
        ]
    );
    let bodies: Vec<&Value> = tasks
        .iter()
        .flat_map(|t| t["bodies"].as_array().unwrap())
        .collect();
    assert!(bodies.contains(&&json!("UBMT xã")) && bodies.contains(&&json!("Đoàn Thanh niên xã")));
}

async fn overdue_and_the_appendix_follow_each_items_own_deadlines(
    app: &TestApp,
    officer: &str,
    unit: i64,
) {
    let overdue = app
        .get(
            &format!("/api/v1/remediation-items?unit_id={unit}&overdue=true&as_of=2024-02-15"),
            officer,
        )
        .await;
    overdue.assert_status(200);
    let mut codes: Vec<String> = overdue.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["criterion_code"]
                .as_str()
                .map_or_else(|| i["title"].as_str().unwrap().to_string(), str::to_string)
        })
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        vec![
            "1.4.1",
            "1.5.1",
            "1.5.3",
            "Phát tin bài CCHC trên hệ thống truyền thanh: mỗi tháng 03 bài"
        ],
        "31/01 and 25/01 have passed; 10/3 and the phases have not"
    );
    // Nothing is overdue before its first date.
    let early = app
        .get(
            &format!("/api/v1/remediation-items?unit_id={unit}&overdue=true&as_of=2024-01-24"),
            officer,
        )
        .await;
    assert_eq!(early.json["items"], json!([]));

    let appendix = app
        .get(
            &format!("/api/v1/units/{unit}/appendix?year=2023&format=csv"),
            officer,
        )
        .await;
    appendix.assert_status(200);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&appendix.bytes[3..]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let responsible = |code: &str| -> String {
        let row = rows
            .iter()
            .find(|r| r.first().map(String::as_str) == Some(code))
            .unwrap_or_else(|| panic!("{code} not in the appendix"));
        row.last().unwrap().clone()
    };
    let r141 = responsible("1.4.1");
    assert!(
        r141.contains("Hạn: Hoàn thành 31/01/2024") && !r141.contains("đợt 1"),
        "{r141}"
    );
    assert!(responsible("1.5.1").contains("Hạn: ngày 25 hằng tháng"));
    assert!(responsible("1.7").contains("Hạn: Hoàn thành 25/11/2024"));
    let r3121 = responsible("3.12.1");
    for name in [
        "Nguyễn Thị Liên",
        "Hoàng Văn Long",
        "Phạm Thị Văn",
        "Võ Văn Đệ",
        "Phan Thị Hiền",
    ] {
        assert!(r3121.contains(name), "{name} in {r3121}");
    }
    assert!(
        r3121.contains("đợt 1 31/10/2024; đợt 2 15/12/2024"),
        "{r3121}"
    );
    assert!(
        responsible("7.3.1").starts_with("Toàn bộ CBCC"),
        "bodies answer when no officer does"
    );
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

/// Step 2 (illustrative): the district abolished on 2025-07-01, its communes merged under
/// the province, a 2025 cycle ranked there; Vĩnh Long's 2023 result reads as announced.
#[tokio::test]
async fn the_reorganisation_keeps_the_announced_record() {
    on_each_backend(|app| async move {
        assert!(parindex_api::demo::load(&app.state).await.unwrap());
        let done = parindex_api::demo::reorganise(&app.state)
            .await
            .expect("step 2 runs")
            .expect("step 2 made changes");
        assert!(
            parindex_api::demo::reorganise(&app.state)
                .await
                .unwrap()
                .is_none(),
            "idempotent"
        );
        let province = done.province_id;
        let password = parindex_api::demo::DEMO_PASSWORD;
        let officer = app.login("vinhlong.vanphong", password).await;
        let vinh_long = app.get("/api/v1/auth/me", &officer).await.json["unit_id"]
            .as_i64()
            .unwrap();
        let unit = app
            .get(&format!("/api/v1/units/{vinh_long}"), &officer)
            .await;
        assert_eq!(unit.json["active"], false, "merged away, kept");
        for token in [
            officer.clone(),
            app.login("vinhlinh.thamdinh", password).await,
        ] {
            let index = app
                .get(
                    &format!("/api/v1/units/{vinh_long}/index?year=2023"),
                    &token,
                )
                .await;
            index.assert_status(200);
            assert_eq!(index.json["index"], "88.25");
            assert_eq!(index.json["rank"], 11);
            assert_eq!(index.json["ranked_units"], 18);
            assert_eq!(index.json["unit_name"], "Xã Vĩnh Long");
        }
        let appraiser = app.login("vinhlinh.thamdinh", password).await;
        assert_eq!(
            app.get("/api/v1/auth/me", &appraiser).await.json["unit_id"],
            province
        );
        every_list_pages_the_same_way(&app, &appraiser, vinh_long).await;
        // Weights are scores (two decimals) even when none was given at the merge.
        let merges = app.get("/api/v1/unit-merges", &appraiser).await;
        let merged = merges.json["items"][0]["into_unit_id"].as_i64().unwrap();
        for source in merges.json["items"][0]["sources"].as_array().unwrap() {
            assert_eq!(source["weight"], "1.00", "{}", merges.text);
        }
        let index = app
            .get(
                &format!("/api/v1/units/{merged}/index?year=2025"),
                &appraiser,
            )
            .await;
        let predecessors = index.json["predecessors"].as_array().unwrap();
        assert!(!predecessors.is_empty(), "{}", index.text);
        for p in predecessors {
            assert_eq!(p["weight"], "1.00", "{}", index.text);
        }
        let ranking = app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={province}&year=2025"),
                &appraiser,
            )
            .await;
        ranking.assert_status(200);
        assert_eq!(ranking.json["ranked_units"], 4);
        assert_eq!(ranking.json["published"], true);
        // The 2025 year was appraised by the province's agencies, Sở Nội vụ consolidating:
        // every agency finished every file, and the agencies are ranked apart (unranked:
        // they were not assessed).
        let consolidator = app.login("snv.tonghop", password).await;
        let summary = app
            .get(
                &format!(
                    "/api/v1/appraisal-tasks/summary?framework_id={}",
                    done.framework_id
                ),
                &consolidator,
            )
            .await;
        summary.assert_status(200);
        let agencies = summary.json["agencies"].as_array().unwrap();
        let names: Vec<&str> = agencies
            .iter()
            .map(|a| a["agency_name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "Văn phòng UBND tỉnh",
                "Sở Tư pháp",
                "Sở Tài chính",
                "Sở Khoa học và Công nghệ"
            ]
        );
        for a in agencies {
            assert_eq!(
                (a["files"].as_u64(), a["files_done"].as_u64()),
                (Some(4), Some(4)),
                "{a}"
            );
            assert_eq!(a["counts"]["pending"], 0, "{a}");
        }
        let justice = app.login("stp.thamdinh", password).await;
        let queue = app
            .get("/api/v1/appraisal-tasks?assignee=me", &justice)
            .await;
        queue.assert_status(200);
        assert_eq!(queue.json["counts"]["pending"], 0);
        assert!(
            queue.json["counts"]["scored"].as_u64().unwrap() > 0,
            "{}",
            queue.text
        );
        let agency_ranking = app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={province}&year=2025&kind=agency"),
                &appraiser,
            )
            .await;
        assert_eq!(agency_ranking.json["ranked_units"], 0);
        // The 2025 results notice names the agencies that appraised, and is sent to them.
        let publications = app
            .get("/api/v1/publications?year=2025", &consolidator)
            .await;
        let publication = publications.json["items"][0]["id"].as_i64().unwrap();
        let notice = app
            .get(
                &format!("/api/v1/publications/{publication}/decision.docx"),
                &consolidator,
            )
            .await;
        notice.assert_status(200);
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(notice.bytes.clone())).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert!(
            xml.contains("do Văn phòng UBND tỉnh, Sở Tư pháp, Sở Tài chính, Sở Khoa học và Công nghệ thẩm định"),
            "the notice names the agencies"
        );
        assert_eq!(agency_ranking.json["unranked"].as_array().unwrap().len(), 5);
        let kinds: Vec<String> = app
            .get(
                &format!("/api/v1/units?parent_id={province}&per_page=100"),
                &appraiser,
            )
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["kind"].as_str().unwrap().to_string())
            .collect();
        assert!(kinds.contains(&"special_zone".to_string()), "{kinds:?}");
        let merges = app
            .get(
                &format!("/api/v1/unit-merges?unit_id={vinh_long}"),
                &appraiser,
            )
            .await;
        let merged = merges.json["items"][0]["into_unit_id"].as_i64().unwrap();
        assert!(
            merges.json["items"][0]["decision"]
                .as_str()
                .unwrap()
                .contains(parindex_api::demo::ILLUSTRATIVE)
        );
        let index = app
            .get(
                &format!("/api/v1/units/{merged}/index?year=2025"),
                &appraiser,
            )
            .await;
        index.assert_status(200);
        let predecessors = index.json["predecessors"].as_array().unwrap();
        assert!(predecessors.len() >= 4, "{predecessors:?}");
        let vl = predecessors
            .iter()
            .find(|p| p["unit_id"] == vinh_long)
            .unwrap();
        assert_eq!(
            (
                vl["index"].as_str(),
                vl["rank"].as_i64(),
                vl["ranked_units"].as_i64()
            ),
            (Some("88.25"), Some(11), Some(18))
        );
    })
    .await;
}
