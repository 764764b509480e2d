//! Figures fed from other systems: the seed's 7.3.1 and 7.3.2 are "trích từ hệ thống
//! QLVB tỉnh". Values imported before the file opens and after it is submitted land as the
//! council's inputs with their source; a re-import is audited with both values; bad rows
//! are named and nothing is stored; the seed's index comes out unchanged.

use crate::fixtures::{
    Persona, fixture_framework_json, seed_council_entries, seed_self_entries, world,
};
use crate::helpers::{Resp, on_each_backend};
use reqwest::Method;
use serde_json::{Value, json};

const QLVB: &str = "Hệ thống quản lý văn bản và hồ sơ công việc tỉnh";

fn row(unit: &str, code: &str, numerator: i64) -> Value {
    json!({"unit_code": unit, "criterion_code": code, "numerator": numerator, "denominator": 100,
           "source_system": QLVB, "period_from": "2023-01-01", "period_to": "2023-11-30",
           "retrieved_at": "2023-12-05T02:00:00Z", "document_ref": "https://qlvb.quangtri.gov.vn/bao-cao/2023"})
}

fn entry<'a>(appraisal: &'a Value, code: &str) -> &'a Value {
    appraisal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["criterion_code"] == code)
        .unwrap()
}

#[tokio::test]
async fn values_from_the_document_system_land_as_the_councils_inputs() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let mut spec = fixture_framework_json(&w.id("district").to_string());
        for c in spec["criteria"].as_array_mut().unwrap() {
            match c["code"].as_str().unwrap() {
                "7.3.1" => c["indicator_code"] = json!("qlvb.documents_signed_digitally"),
                "7.3.2" => c["indicator_code"] = json!("qlvb.leaders_signing_digitally"),
                _ => {}
            }
        }
        let f = w.published_spec(&spec).await;
        let path = format!("/api/v1/frameworks/{f}/indicator-values");
        let appraiser = w.token(Persona::Appraiser);
        let officer = w.token(Persona::OfficerA);

        // Bad rows are named by row; nothing is stored.
        let bad = w
            .app
            .post(&path, appraiser, &json!({"rows": [
                row("19744", "7.3.1", 72),
                row("00000", "7.3.1", 72),
                row("19744", "1.1", 72),
                row("19800", "7.3.1", 72),
                row("19744", "7.3.2", 120),
                {"unit_code": "19745", "criterion_code": "7.3.1", "numerator": 1, "denominator": 2,
                 "source_system": "", "retrieved_at": "2023-12-05T02:00:00Z"},
            ]}))
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
            [
                "rows[1].unit_code",
                "rows[2].criterion_code",
                "rows[3].unit_code",
                "rows[4].numerator",
                "rows[5].source_system"
            ],
            "{}",
            bad.text
        );
        let listed = w.app.get(&path, appraiser).await;
        listed.assert_status(200);
        assert!(listed.json["items"].as_array().unwrap().is_empty());
        // A dry run checks and stores nothing.
        let dry = w
            .app
            .post(
                &format!("{path}?dry_run=true"),
                appraiser,
                &json!({"rows": [row("19744", "7.3.1", 72)]}),
            )
            .await;
        dry.assert_status(200);
        assert_eq!(
            dry.json,
            json!({"rows": 1, "applied": 0, "waiting": 1, "dry_run": true})
        );
        assert!(
            w.app.get(&path, appraiser).await.json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // Units do not import, nor read the council's figures here.
        w.app
            .post(
                &path,
                officer,
                &json!({"rows": [row("19744", "7.3.1", 72)]}),
            )
            .await
            .assert_status(403);
        w.app.get(&path, officer).await.assert_status(403);

        // Before the file exists: kept for the unit.
        let before = w
            .app
            .post(
                &path,
                appraiser,
                &json!({"rows": [row("19744", "7.3.1", 72)]}),
            )
            .await;
        before.assert_status(200);
        assert_eq!(
            before.json,
            json!({"rows": 1, "applied": 0, "waiting": 1, "dry_run": false})
        );
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), f)
            .await;
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                officer,
                &json!({"entries": seed_self_entries()}),
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
        let a = submitted.json["appraisal_id"].as_i64().unwrap();
        let appraisal = w
            .app
            .get(&format!("/api/v1/appraisals/{a}"), appraiser)
            .await;
        let fed = entry(&appraisal.json, "7.3.1");
        assert_eq!(fed["appraised_inputs"]["numerator"], "72");
        assert_eq!(fed["appraised_score"], "0.72");
        assert_eq!(
            fed["self_score"], "1.00",
            "the unit's own figure stays beside it"
        );
        assert!(
            fed["comment"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Theo số liệu trích từ {QLVB}")),
            "{fed}"
        );
        assert_eq!(
            appraisal.json["status"], "pending",
            "the feed does not start the council's work"
        );

        // After submission: applied at once. Then a re-import replaces it, audited.
        let after = w
            .app
            .post(
                &path,
                appraiser,
                &json!({"rows": [row("19744", "7.3.2", 80)]}),
            )
            .await;
        assert_eq!(after.json["applied"], 1);
        // The re-import comes as the system's CSV export, with Vietnamese headers.
        let csv = format!(
            "Mã đơn vị,Mã tiêu chí,Tử số,Mẫu số,Hệ thống nguồn,Từ ngày,Đến ngày,Thời điểm lấy số liệu,Văn bản\n\
             19744,7.3.2,87,100,{QLVB},01/01/2023,30/11/2023,2023-12-05T02:00:00Z,https://qlvb.quangtri.gov.vn/bao-cao/2023\n"
        );
        let bad_csv = csv.replace("30/11/2023", "31/13/2023");
        let csv_post = |body: String| {
            w.app
                .request(Method::POST, &path, Some(appraiser))
                .header("content-type", "text/csv")
                .body(body)
                .send()
        };
        let bad = Resp::read(csv_post(bad_csv).await).await;
        bad.assert_problem(422, None);
        assert_eq!(bad.json["errors"][0]["field"], "row 2.period_to", "{}", bad.text);
        let again = Resp::read(csv_post(csv).await).await;
        again.assert_status(200);
        assert_eq!(again.json["applied"], 1, "{}", again.text);
        let trail = w
            .app
            .get(
                "/api/v1/audit-events?entity=indicator_value&action=reimport",
                admin,
            )
            .await;
        assert_eq!(trail.json["total"], 1, "{}", trail.text);
        assert_eq!(
            trail.json["items"][0]["old_value"]["inputs"]["numerator"],
            "80"
        );
        assert_eq!(
            trail.json["items"][0]["new_value"]["inputs"]["numerator"],
            "87"
        );
        let values = w
            .app
            .get(&format!("{path}?unit_id={}", w.id("commune_a")), appraiser)
            .await;
        let items = values.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["criterion_code"], "7.3.2");
        assert_eq!(items[1]["period_to"], "2023-11-30");
        assert!(
            items[1]["provenance"]
                .as_str()
                .unwrap()
                .contains("https://qlvb.quangtri.gov.vn/bao-cao/2023")
        );
        // Paged like every list.
        let first = w
            .app
            .get(
                &format!("{path}?unit_id={}&per_page=1", w.id("commune_a")),
                appraiser,
            )
            .await;
        assert_eq!(
            (
                first.json["total"].as_u64(),
                first.json["items"].as_array().unwrap().len()
            ),
            (Some(2), 1)
        );

        // The council may correct a fed value, with a reason kept beside the fed score.
        let correct = |reason: Option<&str>| {
            let mut e = json!({"criterion_code": "7.3.1", "numerator": 75, "denominator": 100});
            if let Some(r) = reason {
                e["override_reason"] = json!(r);
            }
            json!({"entries": [e]})
        };
        let entries_path = format!("/api/v1/appraisals/{a}/entries");
        let refused = w.app.put(&entries_path, appraiser, &correct(None)).await;
        refused.assert_problem(422, None);
        assert_eq!(refused.json["errors"][0]["field"], "entries[0].override_reason", "{}", refused.text);
        let corrected = w
            .app
            .put(&entries_path, appraiser, &correct(Some("Số liệu QLVB thiếu 3 văn bản ký số tháng 11")))
            .await;
        corrected.assert_status(200);
        let e = entry(&corrected.json, "7.3.1");
        assert_eq!(e["appraised_score"], "0.75");
        assert_eq!(e["review"]["overridden_score"], "0.72", "{e}");
        assert_eq!(e["review"]["override_reason"], "Số liệu QLVB thiếu 3 văn bản ký số tháng 11");
        let trail = w
            .app
            .get("/api/v1/audit-events?entity=assessment_entry&action=appraise_override", admin)
            .await;
        assert_eq!(trail.json["total"], 1, "{}", trail.text);
        // A re-import from the system replaces the correction again.
        w.app
            .post(&path, appraiser, &json!({"rows": [row("19744", "7.3.1", 72)]}))
            .await
            .assert_status(200);

        // The council enters the rest as the seed letter did: the figures are the seed's.
        let rest: Vec<Value> = seed_council_entries()
            .into_iter()
            .filter(|e| !matches!(e["criterion_code"].as_str(), Some("7.3.1" | "7.3.2")))
            .collect();
        w.app
            .put(
                &format!("/api/v1/appraisals/{a}/entries"),
                appraiser,
                &json!({"entries": rest}),
            )
            .await
            .assert_status(200);
        w.app
            .put(
                &format!("/api/v1/appraisals/{a}/bonus"),
                appraiser,
                &json!({"points": 1, "reason": "Sáng kiến"}),
            )
            .await
            .assert_status(200);
        let done = w
            .app
            .post(
                &format!("/api/v1/appraisals/{a}/finalize"),
                appraiser,
                &json!({}),
            )
            .await;
        done.assert_status(200);
        assert_eq!(done.json["appraised_total"], "87.25");
        assert_eq!(done.json["index"], "88.25");
        assert_eq!(entry(&done.json, "7.3.2")["appraised_score"], "1.74");
        // The papers say where the figures came from: the appendix beside the council's
        // comment, the council's workbook read-only with the source.
        let appendix = w
            .app
            .get(
                &format!("/api/v1/units/{}/appendix?year=2023&format=csv", w.id("commune_a")),
                appraiser,
            )
            .await;
        appendix.assert_status(200);
        let line = appendix
            .text
            .lines()
            .find(|l| l.starts_with("7.3.1,") || l.starts_with("\"7.3.1\""))
            .unwrap_or_else(|| panic!("7.3.1 not in the appendix: {}", appendix.text))
            .to_string();
        assert!(line.contains(&format!("Theo số liệu trích từ {QLVB}")), "{line}");
        // The unit's report to the council names the source beside 7.3.1 too.
        let report = w
            .app
            .get(&format!("/api/v1/self-assessments/{sa}/report"), officer)
            .await;
        report.assert_status(200);
        let report = crate::documents::Docx::parse(&report.bytes);
        let annexed = report
            .tables
            .iter()
            .flatten()
            .find(|r| r.first().map(String::as_str) == Some("7.3.1"))
            .expect("7.3.1 in the report's annex");
        assert!(
            annexed.iter().any(|c| c.contains("Theo số liệu trích từ")),
            "{annexed:?}"
        );
        let book = w.app.get(&format!("/api/v1/appraisals/{a}/workbook"), appraiser).await;
        book.assert_status(200);
        let book = crate::workbooks::open(&book.bytes);
        let sheet = book.get_sheet_by_name("Thẩm định").unwrap();
        let line_731 = crate::workbooks::row_of(sheet, "7.3.1");
        assert!(
            (1..=30).any(|col| sheet
                .get_value((col, line_731))
                .contains("Theo số liệu trích từ")),
            "the workbook names the source"
        );
        // A finalized file takes no more values.
        let late = w
            .app
            .post(
                &path,
                appraiser,
                &json!({"rows": [row("19744", "7.3.1", 90)]}),
            )
            .await;
        late.assert_problem(422, None);
        assert_eq!(late.json["errors"][0]["code"], "finalized");
    })
    .await;
}

/// A value that feeds the unit's side too fills the unit's input, which the unit then
/// cannot change; a re-import while the file is a draft moves the unit's total with it.
#[tokio::test]
async fn a_value_fed_on_the_units_side_cannot_be_changed_by_the_unit() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let mut spec = fixture_framework_json(&w.id("district").to_string());
        for c in spec["criteria"].as_array_mut().unwrap() {
            if c["code"] == "7.3.2" {
                c["indicator_code"] = json!("qlvb.leaders_signing_digitally");
                c["indicator_feeds_self"] = json!(true);
            }
        }
        // Only a self-scored leaf with an indicator feeds the unit's side.
        let mut wrong = spec.clone();
        for c in wrong["criteria"].as_array_mut().unwrap() {
            if c["code"] == "7.3.1" {
                c["indicator_feeds_self"] = json!(true);
            }
        }
        w.app
            .post("/api/v1/frameworks", admin, &wrong)
            .await
            .assert_problem(422, None);
        let f = w.published_spec(&spec).await;
        let path = format!("/api/v1/frameworks/{f}/indicator-values");
        let appraiser = w.token(Persona::Appraiser);
        let officer = w.token(Persona::OfficerA);
        w.app
            .post(
                &path,
                appraiser,
                &json!({"rows": [row("19744", "7.3.2", 87)]}),
            )
            .await
            .assert_status(200);
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), f)
            .await;
        let url = format!("/api/v1/self-assessments/{sa}");
        let opened = w.app.get(&url, officer).await;
        let fed = opened.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["criterion_code"] == "7.3.2")
            .unwrap()
            .clone();
        assert_eq!(fed["inputs"]["numerator"], "87", "{fed}");
        assert_eq!(fed["self_score"], "1.74");
        // The unit enters everything else; the fed leaf is refused, naming it, and the
        // whole batch with it.
        let all = seed_self_entries();
        let refused = w
            .app
            .put(&format!("{url}/entries"), officer, &json!({"entries": all}))
            .await;
        refused.assert_problem(422, None);
        assert!(
            refused.text.contains("7.3.2") && refused.text.contains("fed_from_indicator"),
            "{}",
            refused.text
        );
        let others: Vec<Value> = all
            .into_iter()
            .filter(|e| e["criterion_code"] != "7.3.2")
            .collect();
        let filled = w
            .app
            .put(
                &format!("{url}/entries"),
                officer,
                &json!({"entries": others}),
            )
            .await;
        filled.assert_status(200);
        // The seed's 90.88 with 7.3.2 at 1.74 of 2, as the document system says.
        assert_eq!(filled.json["self_total"], "90.62");
        // A re-import while the file is a draft moves it.
        w.app
            .post(
                &path,
                appraiser,
                &json!({"rows": [row("19744", "7.3.2", 100)]}),
            )
            .await
            .assert_status(200);
        let now = w.app.get(&url, officer).await;
        assert_eq!(now.json["self_total"], "90.88");
        w.app
            .post(&format!("{url}/submit"), officer, &json!({}))
            .await
            .assert_status(200);
    })
    .await;
}

/// Twelve imports of the same unit's value at once (PostgreSQL runs them side by side):
/// each is answered, one value is stored, and the trail has one import and a re-import
/// for every other acknowledged one, the last value the one stored.
#[tokio::test]
async fn parallel_imports_of_one_value_store_it_once() {
    for backend in crate::helpers::backends() {
        eprintln!("-- running on {}", backend.name());
        let app = crate::helpers::TestApp::spawn_with(backend, crate::races::PARALLEL).await;
        let w = world(app).await;
        let admin = w.admin();
        let mut spec = fixture_framework_json(&w.id("district").to_string());
        for c in spec["criteria"].as_array_mut().unwrap() {
            if c["code"] == "7.3.1" {
                c["indicator_code"] = json!("qlvb.documents_signed_digitally");
            }
        }
        let f = w.published_spec(&spec).await;
        let path = format!("/api/v1/frameworks/{f}/indicator-values");
        let appraiser = w.token(Persona::Appraiser);
        let bodies: Vec<Value> = (0..12)
            .map(|i| json!({"rows": [row("19745", "7.3.1", 60 + i)]}))
            .collect();
        let answers =
            futures_util::future::join_all(bodies.iter().map(|b| w.app.post(&path, appraiser, b)))
                .await;
        let ok = answers.iter().filter(|r| r.status.as_u16() == 200).count();
        assert!(
            answers
                .iter()
                .all(|r| matches!(r.status.as_u16(), 200 | 409 | 503)),
            "{:?}",
            answers
                .iter()
                .map(|r| (r.status, r.text.clone()))
                .collect::<Vec<_>>()
        );
        assert!(ok >= 1);
        let listed = w.app.get(&path, appraiser).await;
        assert_eq!(listed.json["total"], 1, "{}", listed.text);
        let trail = |action: &'static str| {
            let app = &w.app;
            async move {
                app.get(
                    &format!("/api/v1/audit-events?entity=indicator_value&action={action}"),
                    admin,
                )
                .await
                .json["total"]
                    .as_u64()
                    .unwrap()
            }
        };
        assert_eq!(trail("import").await, 1);
        assert_eq!(trail("reimport").await, ok as u64 - 1);
    }
}

/// The row budget: more rows than one import takes is refused whole, and nothing stored.
#[tokio::test]
async fn an_import_over_the_row_budget_is_refused() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let mut spec = fixture_framework_json(&w.id("district").to_string());
        for c in spec["criteria"].as_array_mut().unwrap() {
            if c["code"] == "7.3.1" {
                c["indicator_code"] = json!("qlvb.documents_signed_digitally");
            }
        }
        let f = w.app.post("/api/v1/frameworks", admin, &spec).await;
        let f = f.json["id"].as_i64().unwrap();
        let path = format!("/api/v1/frameworks/{f}/indicator-values");
        let appraiser = w.token(Persona::Appraiser);
        // 20,001 short rows in a CSV: the sheet reader's budget stops it first.
        let mut csv = String::from(
            "unit_code,criterion_code,numerator,denominator,source_system,retrieved_at\n",
        );
        for _ in 0..20_001 {
            csv.push_str("19745,7.3.1,1,2,QLVB,2023-12-05\n");
        }
        let r = Resp::read(
            w.app
                .request(Method::POST, &path, Some(appraiser))
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await,
        )
        .await;
        assert!(
            matches!(r.status.as_u16(), 413 | 422),
            "{} {}",
            r.status,
            r.text
        );
        assert!(
            r.status.as_u16() == 413 || r.json["code"] == "upload_over_budget",
            "{}",
            r.text
        );
        let listed = w.app.get(&path, appraiser).await;
        assert_eq!(listed.json["total"], 0);
    })
    .await;
}
