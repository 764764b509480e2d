//! Work in Excel, land in the service: the self-assessment and appraisal workbooks filled
//! with a spreadsheet library as a person fills them in Excel, uploaded back, and the
//! district's survey import.

use crate::fixtures::{Persona, World, fixture_framework_json, inputs_for_max, world};
use crate::helpers::{Resp, on_each_backend};
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Cursor;
use umya_spreadsheet::{Spreadsheet, Worksheet};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The columns of the unit's inputs (and the council's, 8 further right).
const NUMERATOR: u32 = 5;
const DENOMINATOR: u32 = 6;
const COUNT: u32 = 7;
const DONE: u32 = 8;
const VALUE: u32 = 9;
pub const SCORE: u32 = 10;
const EXPLANATION: u32 = 12;
/// The council's inputs start 8 columns (7 unit inputs and the unit's score) further.
pub const COUNCIL: u32 = 8;

pub fn open(bytes: &[u8]) -> Spreadsheet {
    umya_spreadsheet::reader::xlsx::read_reader(Cursor::new(bytes.to_vec()), true)
        .expect("the workbook opens")
}

pub fn save(book: &Spreadsheet) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    umya_spreadsheet::writer::xlsx::write_writer(book, &mut out).expect("the workbook saves");
    out.into_inner()
}

/// The row (1-based) of a criterion: the one whose column A holds its code.
pub fn row_of(sheet: &Worksheet, code: &str) -> u32 {
    (1..=sheet.get_highest_row())
        .find(|r| sheet.get_value((1, *r)) == code)
        .unwrap_or_else(|| panic!("no row for {code}"))
}

/// Inputs that are not the maxima, so that every method computes a fraction somewhere.
fn inputs_for(criterion: &Value) -> Value {
    let max: f64 = criterion["max_score"].as_str().map_or_else(
        || criterion["max_score"].as_f64().unwrap(),
        |s| s.parse().unwrap(),
    );
    match criterion["method"]["type"].as_str().unwrap() {
        "manual" => json!({"score": format!("{:.2}", max / 2.0)}),
        "ratio" => json!({"numerator": 7, "denominator": 9}),
        "target_ratio" => json!({"numerator": 1, "denominator": 7}),
        "threshold" => json!({"numerator": 2, "denominator": 3}),
        "per_item" => json!({"count": 1}),
        "penalty_per_item" => json!({"count": 1}),
        "boolean" => json!({"done": true}),
        "step_table" => json!({"count": 2}),
        "relative_to_best" => json!({"value": "42.5"}),
        _ => inputs_for_max(criterion),
    }
}

/// Types `inputs` into a leaf's row, as a person would: numbers, "Có".
fn type_inputs(sheet: &mut Worksheet, row: u32, inputs: &Value, offset: u32) {
    let number = |v: &Value| -> f64 {
        v.as_f64()
            .unwrap_or_else(|| v.as_str().unwrap().parse().unwrap())
    };
    for (field, col) in [
        ("numerator", NUMERATOR),
        ("denominator", DENOMINATOR),
        ("count", COUNT),
        ("value", VALUE),
        ("score", SCORE),
    ] {
        if let Some(v) = inputs.get(field) {
            sheet
                .get_cell_mut((col + offset, row))
                .set_value_number(number(v));
        }
    }
    if let Some(done) = inputs.get("done") {
        sheet
            .get_cell_mut((DONE + offset, row))
            .set_value(if done.as_bool().unwrap() {
                "Có"
            } else {
                "Không"
            });
    }
}

pub async fn put_xlsx(
    w: &World,
    path: &str,
    token: &str,
    bytes: Vec<u8>,
    if_match: Option<&str>,
) -> Resp {
    let mut rb = w
        .app
        .request(Method::PUT, path, Some(token))
        .header("content-type", XLSX)
        .body(bytes);
    if let Some(tag) = if_match {
        rb = rb.header("if-match", tag);
    }
    Resp::read(rb.send().await).await
}

async fn download(w: &World, path: &str, token: &str) -> Vec<u8> {
    let r = w.app.get(path, token).await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some(XLSX));
    assert!(r.header("content-disposition").unwrap().contains(".xlsx"));
    r.bytes.clone()
}

async fn audit_total(w: &World) -> u64 {
    w.app
        .get("/api/v1/audit-events?per_page=1", w.admin())
        .await
        .json["total"]
        .as_u64()
        .unwrap()
}

fn leaves() -> Vec<Value> {
    fixture_framework_json("0")["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("method").is_some())
        .cloned()
        .collect()
}

/// Commune A's file with every leaf at its max, submitted: its appraisal id.
async fn submitted_at_max(w: &World, framework: i64) -> i64 {
    let officer = w.token(Persona::OfficerA);
    let sa = w
        .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
        .await;
    let entries: Vec<Value> = leaves()
        .iter()
        .map(|c| {
            let mut e = inputs_for_max(c);
            e["criterion_code"] = c["code"].clone();
            e
        })
        .collect();
    w.app
        .put(
            &format!("/api/v1/self-assessments/{sa}/entries"),
            officer,
            &json!({"entries": entries}),
        )
        .await
        .assert_status(200);
    let submitted = w
        .app
        .post(
            &format!("/api/v1/self-assessments/{sa}/submit"),
            officer,
            &json!({}),
        )
        .await;
    submitted.assert_status(200);
    submitted.json["appraisal_id"].as_i64().unwrap()
}

/// The field of the only error of a 422, and its code.
fn only_error(r: &Resp) -> (String, String) {
    r.assert_problem(422, Some("validation_failed"));
    let errors = r.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", r.text);
    (
        errors[0]["field"].as_str().unwrap().to_string(),
        errors[0]["code"].as_str().unwrap().to_string(),
    )
}

/// Every leaf of a framework using all nine methods, typed into the workbook, gives the
/// same self total and leaf scores as the same inputs sent as JSON; downloaded and
/// uploaded unchanged it changes nothing; a text in a count cell, a negative number, a
/// deleted row and another file's workbook are refused naming the cell.
#[tokio::test]
async fn a_filled_workbook_lands_as_the_same_json_would() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let a = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        let b = w
            .open_assessment(Persona::OfficerB, w.id("commune_b"), framework)
            .await;
        let (officer_a, officer_b) = (w.token(Persona::OfficerA), w.token(Persona::OfficerB));
        let methods: std::collections::BTreeSet<String> = leaves()
            .iter()
            .map(|c| c["method"]["type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            methods.len(),
            9,
            "the framework uses every method: {methods:?}"
        );

        // A fills the workbook; B sends the same inputs as JSON.
        let path_a = format!("/api/v1/self-assessments/{a}/workbook");
        let mut book = open(&download(&w, &path_a, officer_a).await);
        let sheet = book.get_sheet_by_name_mut("Tự đánh giá").unwrap();
        let mut json_entries = Vec::new();
        for c in leaves() {
            let code = c["code"].as_str().unwrap();
            let inputs = inputs_for(&c);
            let row = row_of(sheet, code);
            type_inputs(sheet, row, &inputs, 0);
            let mut entry = inputs.clone();
            entry["criterion_code"] = json!(code);
            json_entries.push(entry);
        }
        let row = row_of(sheet, "1.4.1");
        sheet
            .get_cell_mut((EXPLANATION, row))
            .set_value("Kế hoạch số 45/KH-UBND ngày 15/02/2023");
        json_entries
            .iter_mut()
            .find(|e| e["criterion_code"] == "1.4.1")
            .unwrap()["explanation"] = json!("Kế hoạch số 45/KH-UBND ngày 15/02/2023");
        let filled = save(&book);
        let uploaded = put_xlsx(
            &w,
            &format!("/api/v1/self-assessments/{a}/entries"),
            officer_a,
            filled.clone(),
            None,
        )
        .await;
        uploaded.assert_status(200);
        let sent = w
            .app
            .put(
                &format!("/api/v1/self-assessments/{b}/entries"),
                officer_b,
                &json!({"entries": json_entries}),
            )
            .await;
        sent.assert_status(200);
        assert_eq!(uploaded.json["self_total"], sent.json["self_total"]);
        assert_ne!(uploaded.json["self_total"], "0.00");
        let scores = |r: &Resp| -> Vec<(Value, Value, Value)> {
            r.json["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["criterion_code"].clone(),
                        e["self_score"].clone(),
                        e["explanation"].clone(),
                    )
                })
                .collect()
        };
        assert_eq!(scores(&uploaded), scores(&sent));

        // Unchanged round trip: nothing written, nothing audited, same ETag.
        let before = audit_total(&w).await;
        let etag = uploaded.header("etag").unwrap().to_string();
        let again = download(&w, &path_a, officer_a).await;
        let r = put_xlsx(
            &w,
            &format!("/api/v1/self-assessments/{a}/entries"),
            officer_a,
            again.clone(),
            Some(&etag),
        )
        .await;
        r.assert_status(200);
        assert_eq!(r.header("etag"), Some(etag.as_str()));
        assert_eq!(
            audit_total(&w).await,
            before,
            "an unchanged workbook is a no-op"
        );

        // Mistakes, each named by its cell; nothing is stored.
        let per_item = leaves()
            .into_iter()
            .find(|c| c["method"]["type"] == "per_item")
            .unwrap();
        let per_item = per_item["code"].as_str().unwrap().to_string();
        let ratio = leaves()
            .into_iter()
            .find(|c| c["method"]["type"] == "ratio")
            .unwrap();
        let ratio = ratio["code"].as_str().unwrap().to_string();
        let entries_path = format!("/api/v1/self-assessments/{a}/entries");
        let edit = |f: &dyn Fn(&mut Worksheet)| {
            let mut book = open(&again);
            f(book.get_sheet_by_name_mut("Tự đánh giá").unwrap());
            save(&book)
        };
        let text_in_count = edit(&|s| {
            let r = row_of(s, &per_item);
            s.get_cell_mut((COUNT, r)).set_value("hai");
        });
        let r = put_xlsx(&w, &entries_path, officer_a, text_in_count, None).await;
        let mut book = open(&again);
        let sheet = book.get_sheet_by_name_mut("Tự đánh giá").unwrap();
        let count_row = row_of(sheet, &per_item);
        let ratio_row = row_of(sheet, &ratio);
        assert_eq!(
            only_error(&r),
            (
                format!("Tự đánh giá!G{count_row} ({per_item}, Số lượng)"),
                "not_whole".to_string()
            )
        );
        let negative = edit(&|s| {
            let r = row_of(s, &ratio);
            s.get_cell_mut((NUMERATOR, r)).set_value_number(-3);
        });
        let r = put_xlsx(&w, &entries_path, officer_a, negative, None).await;
        assert_eq!(
            only_error(&r),
            (
                format!("Tự đánh giá!E{ratio_row} ({ratio}, Tử số)"),
                "out_of_range".to_string()
            )
        );
        let deleted = edit(&|s| s.remove_row(&ratio_row, &1));
        let r = put_xlsx(&w, &entries_path, officer_a, deleted, None).await;
        assert_eq!(
            only_error(&r),
            (format!("Tự đánh giá!A{ratio_row}"), "row_moved".to_string())
        );
        let vi = w
            .app
            .request(Method::PUT, &entries_path, Some(officer_a))
            .header("content-type", XLSX)
            .header("accept-language", "vi")
            .body(edit(&|s| {
                let r = row_of(s, &per_item);
                s.get_cell_mut((COUNT, r)).set_value_number(1.5);
            }))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(
            vi["detail"],
            format!("Tự đánh giá!G{count_row} ({per_item}, Số lượng): phải là số nguyên")
        );
        // A workbook made on another framework, or on an older version of this one (its
        // hidden identity row says which), and a file that is no workbook of ours.
        for (cell, code) in [("D4", "wrong_framework"), ("E4", "stale_framework")] {
            let tampered = edit(&|s| {
                let old: f64 = s.get_value(cell).parse().unwrap();
                s.get_cell_mut(cell).set_value_number(old + 1.0);
            });
            let r = put_xlsx(&w, &entries_path, officer_a, tampered, None).await;
            assert_eq!(only_error(&r), ("file".to_string(), code.to_string()));
        }
        let foreign = edit(&|s| {
            s.get_cell_mut("A4").set_value("hello");
        });
        let r = put_xlsx(&w, &entries_path, officer_a, foreign, None).await;
        assert_eq!(only_error(&r).1, "not_a_workbook");
        // Another file's workbook, and a stale ETag.
        let r = put_xlsx(
            &w,
            &format!("/api/v1/self-assessments/{b}/entries"),
            officer_b,
            again.clone(),
            None,
        )
        .await;
        assert_eq!(only_error(&r).1, "wrong_workbook");
        let after = w
            .app
            .get(&format!("/api/v1/self-assessments/{a}"), officer_a)
            .await;
        assert_eq!(
            after.json["self_total"], uploaded.json["self_total"],
            "nothing stored"
        );
        assert_eq!(after.header("etag"), Some(etag.as_str()));
        assert_eq!(audit_total(&w).await, before);
        let changed = edit(&|s| {
            let r = row_of(s, &per_item);
            s.get_cell_mut((COUNT, r)).set_value_number(0);
        });
        put_xlsx(
            &w,
            &entries_path,
            officer_a,
            changed.clone(),
            Some("\"self_assessment-0-0\""),
        )
        .await
        .assert_problem(412, None);
        let r = put_xlsx(&w, &entries_path, officer_a, changed, Some(&etag)).await;
        r.assert_status(200);
        assert_ne!(r.header("etag"), Some(etag.as_str()));
        assert_eq!(
            audit_total(&w).await,
            before + 1,
            "one entry changed, one event"
        );
        // Officer B may not upload into A's file: refused before the workbook is read.
        put_xlsx(
            &w,
            &entries_path,
            officer_b,
            b"not even a zip".to_vec(),
            None,
        )
        .await
        .assert_problem(403, None);
    })
    .await;
}

/// The council's workbook: the unit's inputs read-only beside the council's; what the
/// council types lands as its entries, an emptied council input goes back to the unit's.
#[tokio::test]
async fn the_council_appraises_in_its_workbook() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let appraisal = submitted_at_max(&w, framework).await;
        let appraiser = w.token(Persona::Appraiser);
        let path = format!("/api/v1/appraisals/{appraisal}/workbook");
        let original = download(&w, &path, appraiser).await;
        let entries = format!("/api/v1/appraisals/{appraisal}/entries");
        let before = w.app.get(&format!("/api/v1/appraisals/{appraisal}"), appraiser).await;
        let events = audit_total(&w).await;
        put_xlsx(&w, &entries, appraiser, original.clone(), None).await.assert_status(200);
        assert_eq!(audit_total(&w).await, events, "unchanged: no-op");

        let ratio = leaves().into_iter().find(|c| c["method"]["type"] == "ratio").unwrap();
        let code = ratio["code"].as_str().unwrap().to_string();
        let mut book = open(&original);
        let sheet = book.get_sheet_by_name_mut("Thẩm định").unwrap();
        let row = row_of(sheet, &code);
        type_inputs(sheet, row, &json!({"numerator": 1, "denominator": 4}), COUNCIL);
        sheet
            .get_cell_mut((EXPLANATION + COUNCIL, row))
            .set_value("Chỉ 1/4 hồ sơ đúng hạn");
        let r = put_xlsx(&w, &entries, appraiser, save(&book), None).await;
        r.assert_status(200);
        let same = w
            .app
            .put(
                &entries,
                appraiser,
                &json!({"entries": [{"criterion_code": code, "numerator": 1, "denominator": 4, "comment": "Chỉ 1/4 hồ sơ đúng hạn"}]}),
            )
            .await;
        same.assert_status(200);
        assert_eq!(r.json["appraised_total"], same.json["appraised_total"]);
        assert_ne!(r.json["appraised_total"], before.json["appraised_total"]);
        // The unit's columns are read-only: typing in them is refused, naming the cell.
        let mut book = open(&original);
        let sheet = book.get_sheet_by_name_mut("Thẩm định").unwrap();
        sheet.get_cell_mut((NUMERATOR, row)).set_value_number(2);
        let r = put_xlsx(&w, &entries, appraiser, save(&book), None).await;
        r.assert_problem(422, Some("validation_failed"));
        // A self-assessment workbook is not an appraisal's.
        let officer = w.token(Persona::OfficerA);
        let sa = w.app.get(&format!("/api/v1/appraisals/{appraisal}"), appraiser).await.json["self_assessment_id"]
            .as_i64()
            .unwrap();
        let own = download(&w, &format!("/api/v1/self-assessments/{sa}/workbook"), officer).await;
        let r = put_xlsx(&w, &entries, appraiser, own, None).await;
        assert_eq!(only_error(&r).1, "wrong_workbook");
        // Emptying the council's inputs goes back to the unit's.
        let r = put_xlsx(&w, &entries, appraiser, original, None).await;
        r.assert_status(200);
        assert_eq!(r.json["appraised_total"], before.json["appraised_total"]);
    })
    .await;
}

/// The district imports one survey table for its 18 units: their survey criterion is set
/// on each appraisal and the ranking follows the survey.
#[tokio::test]
async fn a_survey_import_sets_every_units_survey_criterion() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let district = w.id("district");
        // The fixture framework with one ratio leaf scored by the survey.
        let mut f = fixture_framework_json(&district.to_string());
        let survey_code = {
            let c = f["criteria"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|c| c["method"]["type"] == "ratio")
                .unwrap();
            c["scorer"] = json!("survey");
            c["code"].as_str().unwrap().to_string()
        };
        f["year"] = json!(2026);
        let framework = w.app.post("/api/v1/frameworks", w.admin(), &f).await;
        framework.assert_status(201);
        let framework = framework.json["id"].as_i64().unwrap();
        w.app
            .post(
                &format!("/api/v1/frameworks/{framework}/publish"),
                w.admin(),
                &json!({}),
            )
            .await
            .assert_status(200);
        let mut units = Vec::new();
        for i in 0..18 {
            let code = format!("SV{i:02}");
            let id = w
                .unit(
                    &code,
                    &format!("Xã Khảo Sát {i}"),
                    "commune",
                    Some(district),
                )
                .await;
            let entries: Vec<Value> = leaves()
                .iter()
                .filter(|c| c["code"] != survey_code.as_str())
                .map(|c| {
                    let mut e = inputs_for_max(c);
                    e["criterion_code"] = c["code"].clone();
                    e
                })
                .collect();
            let sa = w
                .app
                .post(
                    "/api/v1/self-assessments",
                    w.admin(),
                    &json!({"unit_id": id, "framework_id": framework}),
                )
                .await
                .json["id"]
                .as_i64()
                .unwrap();
            w.app
                .put(
                    &format!("/api/v1/self-assessments/{sa}/entries"),
                    w.admin(),
                    &json!({"entries": entries}),
                )
                .await
                .assert_status(200);
            let submitted = w
                .app
                .post(
                    &format!("/api/v1/self-assessments/{sa}/submit"),
                    w.admin(),
                    &json!({}),
                )
                .await;
            submitted.assert_status(200);
            units.push((code, id, submitted.json["appraisal_id"].as_i64().unwrap()));
        }
        let appraiser = w.token(Persona::Appraiser);
        let path = format!("/api/v1/frameworks/{framework}/survey-results");
        // Bad rows are named and nothing is stored; a unit that cannot be placed is not
        // a bad row (it is named in the report of an import that goes through).
        let bad = w
            .app
            .post(
                &path,
                appraiser,
                &json!({"results": [
                    {"unit_code": "SV00", "criterion_code": survey_code, "value": 101},
                    {"unit_code": "NOPE", "criterion_code": survey_code, "value": 50},
                    {"unit_code": "SV01", "criterion_code": "1.1", "value": 50},
                ]}),
            )
            .await;
        bad.assert_problem(422, Some("validation_failed"));
        let fields: Vec<&str> = bad.json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["results[0].value", "results[2].criterion_code"]);
        assert!(
            w.app.get(&path, appraiser).await.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["score"].is_null())
        );
        // The table, as the district receives it: a CSV, units in reverse order of satisfaction.
        let mut csv = String::from("Mã đơn vị,Mã tiêu chí,Giá trị\n");
        for (i, (code, _, _)) in units.iter().enumerate() {
            csv.push_str(&format!("{code},{survey_code},{}\n", 50 + i));
        }
        let events = audit_total(&w).await;
        let checked = Resp::read(
            w.app
                .request(
                    Method::POST,
                    &format!("{path}?dry_run=true"),
                    Some(appraiser),
                )
                .header("content-type", "text/csv")
                .body(csv.clone())
                .send()
                .await,
        )
        .await;
        checked.assert_status(200);
        assert!(
            checked.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["score"].is_null()),
            "a dry run stores nothing"
        );
        assert_eq!(audit_total(&w).await, events);
        let r = Resp::read(
            w.app
                .request(Method::POST, &path, Some(appraiser))
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await,
        )
        .await;
        r.assert_status(200);
        let items = r.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 18);
        assert!(items.iter().all(|i| !i["score"].is_null()), "{}", r.text);
        assert_eq!(r.json["import"]["applied"], 18);
        assert_eq!(r.json["import"]["unplaced"], json!([]));
        assert_eq!(
            audit_total(&w).await,
            events + 18 + 18 + 18 + 1,
            "a stored value, an entry and a start per unit, and the import"
        );
        let read = w.app.get(&path, appraiser).await;
        assert_eq!(read.json["items"], r.json["items"]);
        assert!(read.json["import"].is_null());
        // The council's figures: nothing for the district's viewer before publication.
        let viewer = w.token(Persona::Viewer);
        let hidden = w.app.get(&path, viewer).await;
        hidden.assert_status(200);
        assert_eq!(hidden.json["items"], json!([]), "{}", hidden.text);
        for (_, _, appraisal) in &units {
            w.app
                .post(
                    &format!("/api/v1/appraisals/{appraisal}/finalize"),
                    appraiser,
                    &json!({}),
                )
                .await
                .assert_status(200);
        }
        let ranking = w
            .app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={district}&year=2026"),
                appraiser,
            )
            .await;
        ranking.assert_status(200);
        let order: Vec<String> = ranking.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["unit_code"].as_str().unwrap().to_string())
            .filter(|c| c.starts_with("SV"))
            .collect();
        let mut expected: Vec<String> = units.iter().map(|(c, _, _)| c.clone()).collect();
        expected.reverse();
        assert_eq!(order, expected, "the ranking follows the survey");
        w.app
            .post(
                "/api/v1/publications",
                appraiser,
                &json!({"parent_unit_id": district, "year": 2026}),
            )
            .await
            .assert_status(201);
        let shown = w.app.get(&path, viewer).await;
        assert_eq!(shown.json, read.json, "published: the viewer reads them");
    })
    .await;
}
