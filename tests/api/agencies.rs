//! The province's appraisal since 2025: provincial agencies (sở, ban, ngành) appraise the
//! criteria of their field, the consolidating appraisers (the province's, or Sở Nội vụ's)
//! settle, override with a reason and finalize once every agency is done.

use crate::fixtures::{
    World, fixture_framework_json, seed_council_entries, seed_self_entries, world,
};
use crate::helpers::{TestApp, backends};
use serde_json::{Value, json};

/// Field 1's leaves in the fixture framework: what Sở Tư pháp appraises below.
const FIELD_1_LEAVES: [&str; 11] = [
    "1.1", "1.2", "1.3", "1.4.1", "1.4.2", "1.5.1", "1.5.2", "1.5.3", "1.5.4", "1.6", "1.7",
];

struct Province {
    w: World,
    province: i64,
    justice: i64,
    finance: i64,
    framework: i64,
    /// The province's consolidating appraiser, and each agency's appraiser.
    consolidator: String,
    justice_appraiser: String,
    finance_appraiser: String,
    /// Two communes directly under the province, with an officer each.
    communes: [(i64, String); 2],
}

async fn province(app: TestApp) -> Province {
    let w = world(app).await;
    let province = w.id("province");
    let justice = w
        .unit("STP-45", "Sở Tư pháp", "agency", Some(province))
        .await;
    let finance = w
        .unit("STC-45", "Sở Tài chính", "agency", Some(province))
        .await;
    let (_, consolidator) = w.account("snv.tonghop", "appraiser", Some(province)).await;
    let (_, justice_appraiser) = w.account("stp.thamdinh", "appraiser", Some(justice)).await;
    // The old name of the role still makes an appraiser, of an agency too.
    let (_, finance_appraiser) = w
        .account("stc.thamdinh", "district_appraiser", Some(finance))
        .await;
    let mut communes = Vec::new();
    for (code, name, officer) in [
        ("P-19744", "Xã Vĩnh Linh", "vinhlinh.canbo"),
        ("P-19745", "Xã Cửa Tùng", "cuatung.canbo"),
    ] {
        let id = w.unit(code, name, "commune", Some(province)).await;
        let (_, token) = w.account(officer, "unit_officer", Some(id)).await;
        communes.push((id, token));
    }
    let mut spec = fixture_framework_json(&province.to_string());
    spec["year"] = json!(2025);
    spec["unit_kinds"] = json!(["commune"]);
    for c in spec["criteria"].as_array_mut().unwrap() {
        match c["code"].as_str().unwrap() {
            "1" => c["appraised_by_unit_id"] = json!(justice),
            "7.2.1" => c["appraised_by_unit_id"] = json!(finance),
            _ => {}
        }
    }
    let created = w.app.post("/api/v1/frameworks", w.admin(), &spec).await;
    created.assert_status(201);
    let framework = created.json["id"].as_i64().unwrap();
    w.app
        .post(
            &format!("/api/v1/frameworks/{framework}/publish"),
            w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
    let communes: [(i64, String); 2] = communes.try_into().unwrap();
    Province {
        w,
        province,
        justice,
        finance,
        framework,
        consolidator,
        justice_appraiser,
        finance_appraiser,
        communes,
    }
}

impl Province {
    /// Opens, fills with the seed's figures and submits a commune's file; the appraisal id.
    async fn submitted(&self, which: usize) -> i64 {
        let (unit, officer) = &self.communes[which];
        let sa = self
            .w
            .app
            .post(
                "/api/v1/self-assessments",
                officer,
                &json!({"unit_id": unit, "framework_id": self.framework}),
            )
            .await;
        sa.assert_status(201);
        let sa = sa.json["id"].as_i64().unwrap();
        self.w
            .app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                officer,
                &json!({"entries": seed_self_entries()}),
            )
            .await
            .assert_status(200);
        let submitted = self
            .w
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

    async fn entries(
        &self,
        token: &str,
        appraisal: i64,
        entries: &[Value],
    ) -> crate::helpers::Resp {
        self.w
            .app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/entries"),
                token,
                &json!({"entries": entries}),
            )
            .await
    }
}

fn code_of(e: &Value) -> &str {
    e["criterion_code"].as_str().unwrap()
}

/// Sở Tư pháp's decisions on field 1: the seed council's inputs where it changed the
/// unit's, and agreement (`confirm`) with the unit's figures elsewhere.
fn justice_entries() -> Vec<Value> {
    let council = seed_council_entries();
    FIELD_1_LEAVES
        .iter()
        .map(|code| {
            let mut e = council
                .iter()
                .find(|e| code_of(e) == *code)
                .cloned()
                .unwrap_or_else(|| json!({"criterion_code": code}));
            e["confirm"] = json!(true);
            e
        })
        .collect()
}

/// The seed council's entries outside the agencies' criteria: the consolidator's own.
fn consolidator_entries() -> Vec<Value> {
    seed_council_entries()
        .into_iter()
        .filter(|e| !FIELD_1_LEAVES.contains(&code_of(e)) && code_of(e) != "7.2.1")
        .collect()
}

fn review<'a>(appraisal: &'a Value, code: &str) -> &'a Value {
    &appraisal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["criterion_code"] == code)
        .unwrap()["review"]
}

#[tokio::test]
async fn agencies_appraise_their_fields_and_the_consolidator_finalizes() {
    for backend in backends() {
        let p = province(TestApp::spawn_with(backend.clone(), crate::webhooks::FAST).await).await;
        let app = &p.w.app;
        let receiver = crate::webhooks::Receiver::start(&[]).await;
        crate::webhooks::subscribe(
            &p.w,
            &p.consolidator,
            &receiver.url,
            &["appraisal.agency_done", "appraisal.agencies_done"],
            Some(p.province),
        )
        .await;
        let x = p.submitted(0).await;

        // The framework's read names each criterion's agency; leaves inherit their field's.
        let f = app
            .get(
                &format!("/api/v1/frameworks/{}", p.framework),
                &p.justice_appraiser,
            )
            .await;
        f.assert_status(200);
        let field_1 = f.json["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "1")
            .unwrap();
        assert_eq!(field_1["appraised_by_unit_id"], json!(p.justice));
        let tree_1 = &f.json["tree"][0];
        assert_eq!(
            tree_1["children"][0]["appraised_by_unit_id"],
            json!(p.justice),
            "1.1 inherits"
        );

        // The work queue: every pending unit × criterion of Sở Tư pháp, paged, with counts.
        let queue = app
            .get(
                "/api/v1/appraisal-tasks?assignee=me&status=pending&per_page=5",
                &p.justice_appraiser,
            )
            .await;
        queue.assert_status(200);
        assert_eq!(queue.json["total"], 11);
        assert_eq!(queue.json["items"].as_array().unwrap().len(), 5);
        assert_eq!(
            queue.json["counts"],
            json!({"pending": 11, "scored": 0, "confirmed": 0})
        );
        assert_eq!(queue.json["items"][0]["appraisal_id"], x);
        assert_eq!(queue.json["items"][0]["criterion_code"], "1.1");
        let finance_queue = app
            .get(
                "/api/v1/appraisal-tasks?status=pending",
                &p.finance_appraiser,
            )
            .await;
        finance_queue.assert_status(200);
        let codes: Vec<&str> = finance_queue.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["criterion_code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["7.2.1"]);
        // `me` is an agency appraiser's queue; the consolidator names the agency.
        app.get("/api/v1/appraisal-tasks?assignee=me", &p.consolidator)
            .await
            .assert_problem(422, Some("not_an_agency_appraiser"));
        let named = app
            .get(
                &format!("/api/v1/appraisal-tasks?assignee={}", p.justice),
                &p.consolidator,
            )
            .await;
        named.assert_status(200);
        assert_eq!(named.json["counts"]["pending"], 11);
        app.get(
            &format!("/api/v1/appraisal-tasks?assignee={}", p.justice),
            &p.finance_appraiser,
        )
        .await
        .assert_status(403);
        app.get(
            &format!("/api/v1/appraisal-tasks?assignee={}", p.justice),
            &p.communes[0].1,
        )
        .await
        .assert_status(403);

        // An agency enters its own criteria only: another agency's is 403 naming it, and
        // nothing of the batch is stored.
        let mut mixed = justice_entries();
        mixed.push(json!({"criterion_code": "7.2.1", "score": "1"}));
        let refused = p.entries(&p.justice_appraiser, x, &mixed).await;
        refused.assert_status(403);
        assert!(
            refused.json["detail"].as_str().unwrap().contains("7.2.1"),
            "{}",
            refused.json
        );
        let refused = p
            .entries(&p.justice_appraiser, x, &consolidator_entries())
            .await;
        refused.assert_status(403);
        let still = app
            .get("/api/v1/appraisal-tasks?assignee=me", &p.justice_appraiser)
            .await;
        assert_eq!(still.json["counts"]["pending"], 11, "nothing stored");
        // Nor may it settle the file.
        for (path, body) in [
            ("bonus", json!({"points": 1, "reason": "Sáng kiến"})),
            ("finalize", json!({})),
        ] {
            let url = format!("/api/v1/appraisals/{x}/{path}");
            let r = if path == "bonus" {
                app.put(&url, &p.justice_appraiser, &body).await
            } else {
                app.post(&url, &p.justice_appraiser, &body).await
            };
            r.assert_status(403);
        }

        p.entries(&p.consolidator, x, &consolidator_entries())
            .await
            .assert_status(200);
        let done = p.entries(&p.justice_appraiser, x, &justice_entries()).await;
        done.assert_status(200);
        assert_eq!(review(&done.json, "1.4.1")["state"], "scored");
        assert_eq!(review(&done.json, "1.1")["state"], "scored");
        assert_eq!(review(&done.json, "7.2.1")["state"], "pending");
        let queue = app
            .get(
                "/api/v1/appraisal-tasks?assignee=me&status=pending",
                &p.justice_appraiser,
            )
            .await;
        assert_eq!(
            queue.json["total"], 0,
            "the queue empties as criteria are scored"
        );
        assert_eq!(
            queue.json["counts"],
            json!({"pending": 0, "scored": 11, "confirmed": 0})
        );

        // The consolidator sees each agency's progress; the agencies do not.
        let summary = app
            .get(
                &format!(
                    "/api/v1/appraisal-tasks/summary?framework_id={}",
                    p.framework
                ),
                &p.consolidator,
            )
            .await;
        summary.assert_status(200);
        let agencies = summary.json["agencies"].as_array().unwrap();
        let justice = agencies
            .iter()
            .find(|a| a["agency_unit_id"] == p.justice)
            .unwrap();
        assert_eq!(justice["agency_name"], "Sở Tư pháp");
        assert_eq!(justice["criteria"].as_array().unwrap().len(), 11);
        assert_eq!(
            (justice["files"].as_u64(), justice["files_done"].as_u64()),
            (Some(1), Some(1))
        );
        let finance = agencies
            .iter()
            .find(|a| a["agency_unit_id"] == p.finance)
            .unwrap();
        assert_eq!(finance["counts"]["pending"], 1);
        assert_eq!(finance["files_done"], 0);
        app.get(
            &format!(
                "/api/v1/appraisal-tasks/summary?framework_id={}",
                p.framework
            ),
            &p.justice_appraiser,
        )
        .await
        .assert_status(403);

        // Finalize waits for Sở Tài chính, naming it and its criterion.
        app.put(
            &format!("/api/v1/appraisals/{x}/bonus"),
            &p.consolidator,
            &json!({"points": 1, "reason": "Sáng kiến"}),
        )
        .await
        .assert_status(200);
        let early = app
            .post(
                &format!("/api/v1/appraisals/{x}/finalize"),
                &p.consolidator,
                &json!({}),
            )
            .await;
        early.assert_problem(409, Some("agencies_pending"));
        let detail = early.json["detail"].as_str().unwrap();
        assert!(
            detail.contains("Sở Tài chính") && detail.contains("7.2.1"),
            "{detail}"
        );
        assert!(!detail.contains("Sở Tư pháp"), "{detail}");

        p.entries(
            &p.finance_appraiser,
            x,
            &[json!({"criterion_code": "7.2.1", "score": "3.5"})],
        )
        .await
        .assert_status(200);
        // The consolidator replaces the agency's score only with a reason; both are kept.
        let no_reason = p
            .entries(
                &p.consolidator,
                x,
                &[json!({"criterion_code": "7.2.1", "score": "3"})],
            )
            .await;
        no_reason.assert_status(422);
        assert_eq!(
            no_reason.json["errors"][0]["field"],
            "entries[0].override_reason"
        );
        let overridden = p
            .entries(
                &p.consolidator,
                x,
                &[json!({"criterion_code": "7.2.1", "score": "3",
                "override_reason": "Số liệu hệ thống QLVB tỉnh quý IV"})],
            )
            .await;
        overridden.assert_status(200);
        let r = review(&overridden.json, "7.2.1");
        assert_eq!(r["state"], "confirmed");
        assert_eq!(r["overridden_score"], "3.50");
        assert_eq!(r["override_reason"], "Số liệu hệ thống QLVB tỉnh quý IV");
        let trail = app
            .get(
                "/api/v1/audit-events?entity=assessment_entry&action=appraise_override",
                p.w.admin(),
            )
            .await;
        trail.assert_status(200);
        let events = trail.json["items"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{}", trail.json);
        assert_eq!(events[0]["old_value"]["score"], "3.50");
        assert_eq!(events[0]["new_value"]["score"], "3.00");
        assert_eq!(
            events[0]["new_value"]["override_reason"],
            "Số liệu hệ thống QLVB tỉnh quý IV"
        );
        // What the consolidator confirmed, the agency no longer changes.
        p.entries(
            &p.finance_appraiser,
            x,
            &[json!({"criterion_code": "7.2.1", "score": "4"})],
        )
        .await
        .assert_problem(409, Some("review_confirmed"));

        let finalized = app
            .post(
                &format!("/api/v1/appraisals/{x}/finalize"),
                &p.consolidator,
                &json!({}),
            )
            .await;
        finalized.assert_status(200);

        // The same figures entered by the consolidator alone give the same index.
        let y = p.submitted(1).await;
        let mut alone = consolidator_entries();
        alone.extend(justice_entries());
        alone.push(json!({"criterion_code": "7.2.1", "score": "3"}));
        p.entries(&p.consolidator, y, &alone)
            .await
            .assert_status(200);
        app.put(
            &format!("/api/v1/appraisals/{y}/bonus"),
            &p.consolidator,
            &json!({"points": 1, "reason": "Sáng kiến"}),
        )
        .await
        .assert_status(200);
        let y_done = app
            .post(
                &format!("/api/v1/appraisals/{y}/finalize"),
                &p.consolidator,
                &json!({}),
            )
            .await;
        y_done.assert_status(200);
        for figure in ["appraised_total", "index", "deduction_total", "rating_band"] {
            assert_eq!(
                finalized.json[figure],
                y_done.json[figure],
                "{figure} ({})",
                backend.name()
            );
        }
        // The seed's 88.25, less the point the consolidator took off 7.2.1 (4 → 3).
        assert_eq!(y_done.json["index"], "87.25");

        // The appendix of lost points names the agency that appraised each criterion.
        let appendix = app
            .get(
                &format!("/api/v1/units/{}/appendix.csv?year=2025", p.communes[0].0),
                &p.consolidator,
            )
            .await;
        appendix.assert_status(200);
        let mut lines = appendix.text.lines();
        assert!(
            lines.next().unwrap().contains("CƠ QUAN THẨM ĐỊNH"),
            "{}",
            appendix.text
        );
        let row = |code: &str| {
            appendix
                .text
                .lines()
                .find(|l| l.starts_with(&format!("{code},")))
                .unwrap_or_else(|| panic!("no {code} in {}", appendix.text))
                .to_string()
        };
        assert!(row("7.2.1").contains("Sở Tài chính"), "{}", row("7.2.1"));
        assert!(row("1.4.1").contains("Sở Tư pháp"), "{}", row("1.4.1"));

        // Each agency's end of a file is announced once, then the end of all of them: for
        // x as the agencies finished, for y as the consolidator entered everything.
        let events = receiver
            .wait_for("6 agency events", |all| all.len() >= 6)
            .await;
        let mut seen: Vec<(i64, String, Option<i64>)> = events
            .iter()
            .map(|r| {
                let body = r.json();
                (
                    body["data"]["appraisal_id"].as_i64().unwrap(),
                    body["type"].as_str().unwrap().to_string(),
                    body["data"]["agency_unit_id"].as_i64(),
                )
            })
            .collect();
        seen.sort();
        let mut expected = Vec::new();
        for a in [x, y] {
            expected.push((a, "appraisal.agencies_done".to_string(), None));
            expected.push((a, "appraisal.agency_done".to_string(), Some(p.justice)));
            expected.push((a, "appraisal.agency_done".to_string(), Some(p.finance)));
        }
        expected.sort();
        assert_eq!(seen, expected);

        // Agencies are ranked apart from the communes, wards and special zones.
        let ids = |r: &Value, part: &str| -> Vec<i64> {
            r[part]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["unit_id"].as_i64().unwrap())
                .collect()
        };
        let local = app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={}&year=2025", p.province),
                &p.consolidator,
            )
            .await;
        local.assert_status(200);
        assert_eq!(local.json["kind_group"], "local");
        let mut ranked = ids(&local.json, "items");
        ranked.sort_unstable();
        assert_eq!(ranked, [p.communes[0].0, p.communes[1].0]);
        let listed: Vec<i64> = ranked
            .into_iter()
            .chain(ids(&local.json, "unranked"))
            .collect();
        assert!(
            !listed.contains(&p.justice) && !listed.contains(&p.finance),
            "{listed:?}"
        );
        let agencies = app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2025&kind=agency",
                    p.province
                ),
                &p.consolidator,
            )
            .await;
        agencies.assert_status(200);
        assert_eq!(agencies.json["kind_group"], "agency");
        assert!(ids(&agencies.json, "items").is_empty());
        let mut unranked = ids(&agencies.json, "unranked");
        unranked.sort_unstable();
        assert_eq!(unranked, [p.justice, p.finance]);

        // Before publication the unit reads its own side only, without the council's review.
        let officer_view = app
            .get(&format!("/api/v1/appraisals/{x}"), &p.communes[0].1)
            .await;
        officer_view.assert_status(200);
        assert_eq!(officer_view.json["results_visible"], false);
        assert!(review(&officer_view.json, "7.2.1").is_null());
        let _ = p.province;
    }
}

#[tokio::test]
async fn an_agency_reaches_its_province_only() {
    for backend in backends() {
        let p = province(TestApp::spawn(backend.clone()).await).await;
        let app = &p.w.app;
        // Another province, its commune, framework and file.
        let other =
            p.w.unit("46", "Tỉnh Thừa Thiên Huế", "province", None)
                .await;
        let commune =
            p.w.unit("46-1", "Xã Phong Điền", "commune", Some(other))
                .await;
        let (_, officer) =
            p.w.account("phongdien.canbo", "unit_officer", Some(commune))
                .await;
        let mut spec = fixture_framework_json(&other.to_string());
        spec["unit_kinds"] = json!(["commune"]);
        let f = app.post("/api/v1/frameworks", p.w.admin(), &spec).await;
        f.assert_status(201);
        let f = f.json["id"].as_i64().unwrap();
        app.post(
            &format!("/api/v1/frameworks/{f}/publish"),
            p.w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
        let sa = app
            .post(
                "/api/v1/self-assessments",
                &officer,
                &json!({"unit_id": commune, "framework_id": f}),
            )
            .await;
        sa.assert_status(201);
        let sa = sa.json["id"].as_i64().unwrap();
        app.put(
            &format!("/api/v1/self-assessments/{sa}/entries"),
            &officer,
            &json!({"entries": seed_self_entries()}),
        )
        .await
        .assert_status(200);
        let submitted = app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                &officer,
                &json!({}),
            )
            .await;
        submitted.assert_status(200);
        let elsewhere = submitted.json["appraisal_id"].as_i64().unwrap();
        app.get(
            &format!("/api/v1/appraisals/{elsewhere}"),
            &p.justice_appraiser,
        )
        .await
        .assert_status(403);
        p.entries(
            &p.justice_appraiser,
            elsewhere,
            &[json!({"criterion_code": "1.1", "score": "1"})],
        )
        .await
        .assert_status(403);
        let listed = app.get("/api/v1/appraisals", &p.justice_appraiser).await;
        listed.assert_status(200);
        assert!(
            listed.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["id"] != elsewhere)
        );

        // Within its province it reads the files, never the unpublished ranking, and manages
        // nothing.
        let x = p.submitted(0).await;
        app.get(&format!("/api/v1/appraisals/{x}"), &p.justice_appraiser)
            .await
            .assert_status(200);
        app.get(
            &format!("/api/v1/rankings?parent_unit_id={}&year=2025", p.province),
            &p.justice_appraiser,
        )
        .await
        .assert_status(403);
        app.post(
            "/api/v1/units",
            &p.justice_appraiser,
            &json!({"code": "X-1", "name": "Xã Mới", "kind": "commune", "parent_id": p.province}),
        )
        .await
        .assert_status(403);
        // Its workbook opens its own rows only; an upload touching another agency's row is
        // refused, one touching its own lands.
        let path = format!("/api/v1/appraisals/{x}/workbook");
        let wb = app.get(&path, &p.justice_appraiser).await;
        wb.assert_status(200);
        let score_col = crate::workbooks::SCORE + crate::workbooks::COUNCIL;
        let mut book = crate::workbooks::open(&wb.bytes);
        let sheet = book.get_sheet_by_name_mut("Thẩm định").unwrap();
        let locked = |sheet: &umya_spreadsheet::Worksheet, row: u32| {
            sheet
                .get_style((score_col, row))
                .get_protection()
                .is_none_or(|p| *p.get_locked())
        };
        let (mine, other) = (
            crate::workbooks::row_of(sheet, "1.1"),
            crate::workbooks::row_of(sheet, "7.2.1"),
        );
        assert!(!locked(sheet, mine), "its own row is open");
        assert!(locked(sheet, other), "another agency's row is read-only");
        let consolidator_wb = app.get(&path, &p.consolidator).await;
        let full = crate::workbooks::open(&consolidator_wb.bytes);
        let full_sheet = full.get_sheet_by_name("Thẩm định").unwrap();
        assert!(
            !locked(full_sheet, other),
            "the consolidator's workbook opens every row"
        );
        sheet.get_cell_mut((score_col, other)).set_value_number(1);
        let entries = format!("/api/v1/appraisals/{x}/entries");
        crate::workbooks::put_xlsx(
            &p.w,
            &entries,
            &p.justice_appraiser,
            crate::workbooks::save(&book),
            None,
        )
        .await
        .assert_status(403);
        let mut book = crate::workbooks::open(&wb.bytes);
        let sheet = book.get_sheet_by_name_mut("Thẩm định").unwrap();
        sheet.get_cell_mut((score_col, mine)).set_value_number(1);
        crate::workbooks::put_xlsx(
            &p.w,
            &entries,
            &p.justice_appraiser,
            crate::workbooks::save(&book),
            None,
        )
        .await
        .assert_status(200);

        // Returns name its own criteria only.
        p.entries(&p.justice_appraiser, x, &justice_entries())
            .await
            .assert_status(200);
        app.post(
            &format!("/api/v1/appraisals/{x}/return"),
            &p.justice_appraiser,
            &json!({"note": "Bổ sung", "criteria": ["7.2.2"]}),
        )
        .await
        .assert_status(403);
        app.post(
            &format!("/api/v1/appraisals/{x}/return"),
            &p.justice_appraiser,
            &json!({"note": "Bổ sung kế hoạch", "criteria": ["1.4.1"]}),
        )
        .await
        .assert_status(200);
        // The unit's supplement puts the criterion back in the agency's queue.
        let officer = &p.communes[0].1;
        let sa = app
            .get(&format!("/api/v1/appraisals/{x}"), &p.consolidator)
            .await
            .json["self_assessment_id"]
            .as_i64()
            .unwrap();
        app.put(&format!("/api/v1/self-assessments/{sa}/entries"), officer, &json!({"entries": [{"criterion_code": "1.4.1", "score": "1", "explanation": "Đã bổ sung phụ lục"}]}))
            .await
            .assert_status(200);
        app.post(
            &format!("/api/v1/self-assessments/{sa}/submit"),
            officer,
            &json!({}),
        )
        .await
        .assert_status(200);
        let queue = app
            .get(
                "/api/v1/appraisal-tasks?status=pending",
                &p.justice_appraiser,
            )
            .await;
        let codes: Vec<&str> = queue.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["criterion_code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["1.4.1"]);
    }
}

#[tokio::test]
async fn agencies_and_assignments_are_validated() {
    for backend in backends() {
        let p = province(TestApp::spawn(backend.clone()).await).await;
        let app = &p.w.app;
        let admin = p.w.admin();
        // An agency sits directly under a province and has nothing under it.
        app.post("/api/v1/units", admin, &json!({"code": "S-1", "name": "Sở Y tế", "kind": "agency", "parent_id": p.w.id("district")}))
            .await
            .assert_problem(422, None);
        app.post(
            "/api/v1/units",
            admin,
            &json!({"code": "S-2", "name": "Sở Y tế", "kind": "agency"}),
        )
        .await
        .assert_problem(422, None);
        app.post(
            "/api/v1/units",
            admin,
            &json!({"code": "S-3", "name": "Xã Con", "kind": "commune", "parent_id": p.justice}),
        )
        .await
        .assert_problem(422, None);
        // A criterion's agency is an agency of the framework's owner.
        for (agency, why) in [
            (p.w.id("commune_a"), "a commune"),
            (p.w.id("district"), "a district"),
            (999_999, "no unit"),
        ] {
            let mut spec = fixture_framework_json(&p.province.to_string());
            spec["unit_kinds"] = json!(["commune"]);
            spec["criteria"][0]["appraised_by_unit_id"] = json!(agency);
            let r = app.post("/api/v1/frameworks", admin, &spec).await;
            r.assert_problem(422, None);
            assert_eq!(
                r.json["errors"][0]["field"], "criteria[0].appraised_by_unit_id",
                "{why}"
            );
        }
        // An agency of the province cannot appraise for a district's framework.
        let mut spec = fixture_framework_json(&p.w.id("district").to_string());
        spec["criteria"][0]["appraised_by_unit_id"] = json!(p.justice);
        app.post("/api/v1/frameworks", admin, &spec)
            .await
            .assert_problem(422, None);
        // An agency is assessed itself when a framework's kinds include it, and ranked
        // among agencies only.
        let mut spec = fixture_framework_json(&p.province.to_string());
        spec["unit_kinds"] = json!(["agency"]);
        spec["year"] = json!(2026);
        let f = app.post("/api/v1/frameworks", admin, &spec).await;
        f.assert_status(201);
        let f = f.json["id"].as_i64().unwrap();
        app.post(
            &format!("/api/v1/frameworks/{f}/publish"),
            admin,
            &json!({}),
        )
        .await
        .assert_status(200);
        p.w.quick_file(f, p.justice, "91.50", "0").await;
        let agencies = app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2026&kind=agency",
                    p.province
                ),
                admin,
            )
            .await;
        agencies.assert_status(200);
        assert_eq!(agencies.json["items"][0]["unit_id"], p.justice);
        assert_eq!(agencies.json["items"][0]["index"], "91.50");
        let local = app
            .get(
                &format!("/api/v1/rankings?parent_unit_id={}&year=2026", p.province),
                admin,
            )
            .await;
        assert_eq!(local.json["ranked_units"], 0);
        let index = app
            .get(
                &format!("/api/v1/units/{}/index?year=2026", p.justice),
                admin,
            )
            .await;
        index.assert_status(200);
        assert_eq!(
            (
                index.json["rank"].as_u64(),
                index.json["ranked_units"].as_u64()
            ),
            (Some(1), Some(1))
        );

        // The criteria spreadsheet carries the column both ways.
        let csv = app
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/frameworks/{}/export?format=csv", p.framework),
                Some(admin),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let header = csv.lines().next().unwrap().trim_start_matches('\u{feff}');
        assert!(
            header.split(',').any(|h| h == "appraised_by_unit_id"),
            "{header}"
        );
        let field_1 = csv.lines().find(|l| l.starts_with("1,")).unwrap();
        assert!(field_1.contains(&format!(",{},", p.justice)), "{field_1}");
        let imported = app
            .request(
                reqwest::Method::POST,
                &format!(
                    "/api/v1/frameworks/import?year=2027&name=CSV&owner_unit_id={}&unit_kinds=commune",
                    p.province
                ),
                Some(admin),
            )
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
            .await
            .unwrap();
        let imported = crate::helpers::Resp::read(Ok(imported)).await;
        imported.assert_status(201);
        let field_1 = imported.json["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "1")
            .unwrap();
        assert_eq!(field_1["appraised_by_unit_id"], json!(p.justice));
        // A bad cell is named by its row.
        let bad = csv.replacen(&format!(",{},", p.justice), ",Sở Tư pháp,", 1);
        assert_ne!(bad, csv);
        let refused = app
            .request(
                reqwest::Method::POST,
                &format!(
                    "/api/v1/frameworks/import?year=2027&name=CSV&owner_unit_id={}",
                    p.province
                ),
                Some(admin),
            )
            .header("content-type", "text/csv")
            .body(bad)
            .send()
            .await
            .unwrap();
        let refused = crate::helpers::Resp::read(Ok(refused)).await;
        refused.assert_problem(422, None);
        assert!(
            refused.text.contains("appraised_by_unit_id"),
            "{}",
            refused.text
        );
        let _ = (p.finance, &p.consolidator, &p.finance_appraiser);
    }
}

/// An agency's last criterion and the consolidator's finalization sent together: the
/// finalization sees the agency's figure or waits for it, and nothing is written into a
/// finalized file. SQLite's single writer hides this; PostgreSQL runs them side by side.
#[tokio::test]
async fn an_agency_scoring_and_a_finalization_sent_together_stay_consistent() {
    for backend in backends() {
        let p = province(TestApp::spawn_with(backend.clone(), crate::races::PARALLEL).await).await;
        let app = &p.w.app;
        let x = p.submitted(0).await;
        p.entries(&p.consolidator, x, &consolidator_entries())
            .await
            .assert_status(200);
        p.entries(&p.justice_appraiser, x, &justice_entries())
            .await
            .assert_status(200);
        app.put(
            &format!("/api/v1/appraisals/{x}/bonus"),
            &p.consolidator,
            &json!({"points": 1, "reason": "Sáng kiến"}),
        )
        .await
        .assert_status(200);
        // Only Sở Tài chính's 7.2.1 is pending: eight scorings and eight finalizations.
        let scores: Vec<String> = (1..=8).map(|i| format!("3.{i}")).collect();
        let bodies: Vec<Vec<Value>> = scores
            .iter()
            .map(|s| vec![json!({"criterion_code": "7.2.1", "score": s})])
            .collect();
        let scorings = bodies
            .iter()
            .map(|body| p.entries(&p.finance_appraiser, x, body));
        let finalize_path = format!("/api/v1/appraisals/{x}/finalize");
        let empty = json!({});
        let finalizations = (0..8).map(|_| app.post(&finalize_path, &p.consolidator, &empty));
        let (scored, finalized) = futures_util::future::join(
            futures_util::future::join_all(scorings),
            futures_util::future::join_all(finalizations),
        )
        .await;
        let accepted: Vec<&String> = scored
            .iter()
            .zip(&scores)
            .filter(|(r, _)| r.status.as_u16() == 200)
            .map(|(_, s)| s)
            .collect();
        assert!(
            !accepted.is_empty(),
            "a scoring before any finalization lands"
        );
        for r in &scored {
            assert!(matches!(r.status.as_u16(), 200 | 409), "{}", r.text);
        }
        let done: Vec<_> = finalized
            .iter()
            .filter(|r| r.status.as_u16() == 200)
            .collect();
        assert!(done.len() <= 1, "finalized once at most");
        for r in finalized.iter().filter(|r| r.status.as_u16() != 200) {
            assert_eq!(r.status.as_u16(), 409, "{}", r.text);
        }
        if done.is_empty() {
            app.post(
                &format!("/api/v1/appraisals/{x}/finalize"),
                &p.consolidator,
                &json!({}),
            )
            .await
            .assert_status(200);
        }
        // The finalized figures are the last accepted scoring's, and the stored council
        // input is that same figure: nothing landed after the finalization.
        let a = app
            .get(&format!("/api/v1/appraisals/{x}"), &p.consolidator)
            .await;
        let entry = a.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["criterion_code"] == "7.2.1")
            .unwrap();
        let final_score = entry["appraised_score"].as_str().unwrap().to_string();
        let input = entry["appraised_inputs"]["score"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            final_score.parse::<f64>().unwrap(),
            input.parse::<f64>().unwrap(),
            "{}",
            backend.name()
        );
        assert!(
            accepted
                .iter()
                .any(|s| s.parse::<f64>().unwrap() == input.parse::<f64>().unwrap())
        );
        // 87.25 with 7.2.1 at its max 4, less what 7.2.1 lost, plus the bonus.
        let expected = rust_decimal::Decimal::from_str_exact("84.25").unwrap()
            + rust_decimal::Decimal::from_str_exact(&input).unwrap();
        assert_eq!(
            a.json["index"].as_str().unwrap(),
            format!("{:.2}", expected)
        );
    }
}
