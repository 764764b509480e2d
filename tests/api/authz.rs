//! The authorization matrix: for every protected endpoint, every hostile token is a 401,
//! every persona outside the endpoint's rule a 403 (or 404), and every persona inside it
//! gets through. A test also fails when the OpenAPI document has a protected operation
//! that is not in the matrix: adding an endpoint means adding one line to `matrix()`.

use crate::fixtures::{
    Persona, Persona::*, World, fixture_framework_csv, fixture_framework_json, seed_self_entries,
    world,
};
use crate::helpers::{Resp, TEST_JWT_SECRET, on_each_backend};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone)]
pub enum Body {
    Json(Value),
    Csv(String),
    /// An evidence upload (multipart) of a small PDF to commune A.
    Upload,
}

pub struct Row {
    pub method: Method,
    /// Path with `{fixture}` placeholders.
    pub path: &'static str,
    pub body: Option<Body>,
    /// The personas the rule lets through; all others must be refused.
    pub allowed: &'static [Persona],
}

fn row(
    method: Method,
    path: &'static str,
    body: Option<Value>,
    allowed: &'static [Persona],
) -> Row {
    Row {
        method,
        path,
        body: body.map(Body::Json),
        allowed,
    }
}

fn csv_row(method: Method, path: &'static str, csv: String, allowed: &'static [Persona]) -> Row {
    Row {
        method,
        path,
        body: Some(Body::Csv(csv)),
        allowed,
    }
}

const EVERYONE: &[Persona] = &Persona::ALL;
const ADMIN: &[Persona] = &[Admin];
/// Only the unit's leader, who is none of the personas: nobody signs in a leader's place,
/// not an admin either.
const LEADER_ONLY: &[Persona] = &[];
const DISTRICT: &[Persona] = &[Admin, Appraiser];
/// Who reads commune A's files: the unit, the district, its viewers, and the province's
/// field appraisers (an agency's appraisers read every file of their province).
const UNIT_A_READERS: &[Persona] = &[Admin, Appraiser, OfficerA, Viewer, AgencyAppraiser];
/// The council's reads of commune A before publication: the district's appraisers and the
/// province's field appraisers.
const COUNCIL_READERS: &[Persona] = &[Admin, Appraiser, AgencyAppraiser];
const UNIT_A_STAFF_EDITORS: &[Persona] = &[Admin, Appraiser, OfficerA];
/// Who may edit commune A's self-assessment: its officers (and admins).
const UNIT_A_EDITORS: &[Persona] = &[Admin, OfficerA];
/// Who may make and comment on commune A's plan: its officers and the district.
const PLAN_MAKERS: &[Persona] = &[Admin, Appraiser, OfficerA];
/// Who manages commune A's webhooks: its officers, the district, admins.
const WEBHOOK_A: &[Persona] = &[Admin, Appraiser, OfficerA];
/// The other district's published results: its appraiser, and the province's field
/// appraisers (the province's units, published).
const OTHER_DISTRICT_PUBLISHED: &[Persona] = &[Admin, OtherAppraiser, AgencyAppraiser];
/// Who reads the district's subtree.
const DISTRICT_VIEWERS: &[Persona] = &[Admin, Appraiser, Viewer, AgencyAppraiser];
/// Units of the district and the district itself read its frameworks.
const DISTRICT_READERS: &[Persona] = &[
    Admin,
    Appraiser,
    OfficerA,
    OfficerB,
    Viewer,
    AgencyAppraiser,
];

/// One line per protected endpoint.
#[rustfmt::skip]
pub fn matrix() -> Vec<Row> {
    // Each row's variants right after it: later rows change the world (a publication makes
    // results readable), and the variants must meet it as their row did.
    rows()
        .into_iter()
        .flat_map(|row| {
            let variants = format_variants(&row);
            std::iter::once(row).chain(variants)
        })
        .collect()
}

/// The same rule at each path per media type (`{path}.{ext}`, see
/// `parindex_api::http::format_paths`): a row for every format of the row's operation.
fn format_variants(r: &Row) -> Vec<Row> {
    use parindex_api::http::format_paths::FORMAT_PATHS;
    let (base, query) = r.path.split_once('?').unwrap_or((r.path, ""));
    let Some(fp) = FORMAT_PATHS.iter().find(|fp| {
        fp.method.eq_ignore_ascii_case(r.method.as_str()) && shape(fp.path) == shape(base)
    }) else {
        return Vec::new();
    };
    let query: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("format="))
        .collect();
    fp.formats
        .iter()
        .map(|(ext, _)| {
            let mut path = format!("{base}.{ext}");
            if !query.is_empty() {
                path = format!("{path}?{}", query.join("&"));
            }
            Row {
                method: r.method.clone(),
                // Leaked: rows name their paths for the whole test, as the literal ones do.
                path: Box::leak(path.into_boxed_str()),
                body: r.body.clone(),
                allowed: r.allowed,
            }
        })
        .collect()
}

fn rows() -> Vec<Row> {
    use Method as M;
    vec![
        // auth
        row(M::GET, "/api/v1/auth/me", None, EVERYONE),
        row(
            M::POST,
            "/api/v1/auth/password",
            Some(
                json!({"current_password": "not-the-password", "new_password": "whatever-long-password"}),
            ),
            EVERYONE,
        ),
        // users
        row(
            M::POST,
            "/api/v1/users",
            Some(
                json!({"username": "matrix.user", "password": "matrix-password-123", "full_name": "M", "role": "viewer", "unit_id": "{district}"}),
            ),
            ADMIN,
        ),
        row(M::GET, "/api/v1/users", None, ADMIN),
        row(M::GET, "/api/v1/users/{user_viewer}", None, ADMIN),
        row(
            M::PATCH,
            "/api/v1/users/{user_viewer}",
            Some(json!({"full_name": "Viewer"})),
            ADMIN,
        ),
        row(M::DELETE, "/api/v1/users/{victim}", None, ADMIN),
        // units
        row(
            M::POST,
            "/api/v1/units",
            Some(
                json!({"code": "M-1", "name": "Xã Mới", "kind": "commune", "parent_id": "{district}"}),
            ),
            DISTRICT,
        ),
        row(M::GET, "/api/v1/units", None, EVERYONE),
        row(M::GET, "/api/v1/units/{commune_a}", None, UNIT_A_READERS),
        row(
            M::PATCH,
            "/api/v1/units/{commune_a}",
            Some(json!({"name": "Xã Vĩnh Long"})),
            DISTRICT,
        ),
        row(M::DELETE, "/api/v1/units/{spare_commune}", None, DISTRICT),
        row(
            M::POST,
            "/api/v1/units/{commune_a}/staff",
            Some(json!({"full_name": "Lê Văn Đệ", "title": "Công chức Địa chính – Xây dựng"})),
            UNIT_A_STAFF_EDITORS,
        ),
        row(
            M::GET,
            "/api/v1/units/{commune_a}/staff",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::GET,
            "/api/v1/units/{commune_a}/staff/{staff_a}",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::PATCH,
            "/api/v1/units/{commune_a}/staff/{staff_a}",
            Some(json!({"title": "Công chức Văn phòng - Thống kê"})),
            UNIT_A_STAFF_EDITORS,
        ),
        // frameworks
        row(
            M::POST,
            "/api/v1/frameworks",
            Some(fixture_framework_json("{district}")),
            DISTRICT,
        ),
        csv_row(
            M::POST,
            "/api/v1/frameworks/import?year=2023&name=Imported&owner_unit_id={district}",
            fixture_framework_csv(),
            DISTRICT,
        ),
        row(M::GET, "/api/v1/frameworks", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/frameworks/{framework}",
            None,
            DISTRICT_READERS,
        ),
        row(
            M::PUT,
            "/api/v1/frameworks/{framework}",
            Some(fixture_framework_json("{district}")),
            DISTRICT,
        ),
        row(
            M::DELETE,
            "/api/v1/frameworks/{framework_spare}",
            None,
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/frameworks/{framework}/criteria",
            None,
            DISTRICT_READERS,
        ),
        row(
            M::PUT,
            "/api/v1/frameworks/{framework}/criteria",
            Some(json!({"criteria": fixture_framework_json("{district}")["criteria"]})),
            DISTRICT,
        ),
        row(
            M::POST,
            "/api/v1/frameworks/{framework_to_publish}/publish",
            None,
            DISTRICT,
        ),
        row(
            M::POST,
            "/api/v1/frameworks/{framework}/copy",
            Some(json!({"year": 2030})),
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/frameworks/{framework}/export?format=csv",
            None,
            DISTRICT_READERS,
        ),
        row(
            M::POST,
            "/api/v1/frameworks/{published}/survey-results",
            Some(json!({"results": [{"unit_code": "X", "criterion_code": "1.1", "value": 1}]})),
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/frameworks/{published}/survey-results",
            None,
            DISTRICT_READERS,
        ),
        row(
            M::GET,
            "/api/v1/frameworks/{published}/mappings",
            None,
            DISTRICT_READERS,
        ),
        row(
            M::PUT,
            "/api/v1/frameworks/{published}/mappings",
            Some(json!({"from_framework_id": "{framework_spare}", "mappings": []})),
            DISTRICT,
        ),
        // self-assessments
        row(
            M::POST,
            "/api/v1/self-assessments",
            Some(json!({"unit_id": "{commune_a}", "framework_id": "{published}"})),
            UNIT_A_EDITORS,
        ),
        row(M::GET, "/api/v1/self-assessments", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/self-assessments/{sa_a}",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::PUT,
            "/api/v1/self-assessments/{sa_a}/entries",
            Some(json!({"entries": [{"criterion_code": "1.1", "score": 2}]})),
            UNIT_A_EDITORS,
        ),
        row(
            M::POST,
            "/api/v1/self-assessments/{sa_a}/submit",
            None,
            UNIT_A_EDITORS,
        ),
        row(
            M::POST,
            "/api/v1/self-assessments/{sa_a}/withdraw",
            None,
            UNIT_A_EDITORS,
        ),
        row(
            M::POST,
            "/api/v1/self-assessments/{sa_a}/approve",
            None,
            LEADER_ONLY,
        ),
        row(
            M::PUT,
            "/api/v1/self-assessments/{sa_a}/deadline-extension",
            Some(json!({"until": "2099-01-01"})),
            DISTRICT,
        ),
        // appraisals
        row(M::GET, "/api/v1/appraisals", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/appraisals/{appraisal}",
            None,
            UNIT_A_READERS,
        ),
        // Commune A's 2024 appraisal is in progress: its figures are not released to the unit.
        row(
            M::GET,
            "/api/v1/appraisals/{appraisal}/workbook",
            None,
            COUNCIL_READERS,
        ),
        row(
            M::PUT,
            "/api/v1/appraisals/{appraisal}/entries",
            Some(json!({"entries": [{"criterion_code": "1.4.1", "score": "0.8", "comment": "x"}]})),
            DISTRICT,
        ),
        row(
            M::PUT,
            "/api/v1/appraisals/{appraisal}/bonus",
            Some(json!({"points": 1, "reason": "Sáng kiến"})),
            DISTRICT,
        ),
        row(
            M::POST,
            "/api/v1/frameworks/{framework}/indicator-values",
            Some(json!({"rows": []})),
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/frameworks/{framework}/indicator-values",
            None,
            COUNCIL_READERS,
        ),
        row(
            M::PUT,
            "/api/v1/appraisals/{appraisal}/penalties",
            Some(json!({"items": []})),
            DISTRICT,
        ),
        row(
            M::POST,
            "/api/v1/appraisals/{appraisal}/return",
            Some(json!({"note": "Bổ sung", "criteria": ["1.5.3"]})),
            DISTRICT,
        ),
        row(
            M::POST,
            "/api/v1/appraisals/{appraisal}/finalize",
            None,
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/appraisal-tasks?assignee={agency}",
            None,
            &[Admin, AgencyAppraiser],
        ),
        row(
            M::GET,
            "/api/v1/appraisal-tasks/summary?framework_id={framework}",
            None,
            DISTRICT,
        ),
        // Everyone has a calendar of their own, and feed URLs of their own (another's
        // feed is a 404 to anyone else).
        row(M::GET, "/api/v1/calendar", None, EVERYONE),
        row(M::GET, "/api/v1/calendar.ics", None, EVERYONE),
        row(M::GET, "/api/v1/calendar/feeds", None, EVERYONE),
        row(
            M::POST,
            "/api/v1/calendar/feeds",
            Some(json!({"name": "matrix"})),
            EVERYONE,
        ),
        row(
            M::DELETE,
            "/api/v1/calendar/feeds/{district}",
            None,
            EVERYONE,
        ),
        // Everyone may make API keys for their own account, and list their own (another's
        // key is a 404 to anyone but an admin).
        row(
            M::POST,
            "/api/v1/api-keys",
            Some(json!({"name": "matrix", "scopes": ["read"]})),
            EVERYONE,
        ),
        row(M::GET, "/api/v1/api-keys", None, EVERYONE),
        row(M::DELETE, "/api/v1/api-keys/{district}", None, EVERYONE),
        // Everyone has notifications and preferences of their own (another's notification
        // is a 404 to anyone else).
        row(M::GET, "/api/v1/notifications", None, EVERYONE),
        row(
            M::POST,
            "/api/v1/notifications/{district}/read",
            Some(json!({})),
            EVERYONE,
        ),
        row(M::GET, "/api/v1/notifications/preferences", None, EVERYONE),
        row(
            M::PUT,
            "/api/v1/notifications/preferences",
            Some(json!({"email": null, "items": []})),
            EVERYONE,
        ),
        row(
            M::POST,
            "/api/v1/appraisals/{appraisal}/reopen",
            Some(json!({"reason": "x"})),
            ADMIN,
        ),
        // preliminary results and appeals (commune A's 2024 appraisal is in progress)
        row(
            M::POST,
            "/api/v1/appraisals/{appraisal}/appeals",
            Some(json!({"criterion_code": "1.5.3", "reason": "Đã có kế hoạch"})),
            UNIT_A_EDITORS,
        ),
        row(M::GET, "/api/v1/appeals", None, EVERYONE),
        row(M::GET, "/api/v1/appeals/{appeal_a}", None, UNIT_A_READERS),
        row(
            M::POST,
            "/api/v1/appeals/{appeal_a}/decision",
            Some(json!({"accepted": false, "response": "Chưa đủ căn cứ"})),
            DISTRICT,
        ),
        row(
            M::POST,
            "/api/v1/preliminary-results",
            Some(json!({"parent_unit_id": "{district}", "year": 2030})),
            DISTRICT,
        ),
        // results (2022 is finalized for commune A but not yet published: rows before publication)
        row(
            M::GET,
            "/api/v1/units/{commune_a}/index?year=2022",
            None,
            COUNCIL_READERS,
        ),
        row(
            M::GET,
            "/api/v1/units/{commune_a}/comparison?year=2022&previous_year=2022",
            None,
            COUNCIL_READERS,
        ),
        row(
            M::GET,
            "/api/v1/units/{commune_a}/history?criterion=1.1&year=2022",
            None,
            COUNCIL_READERS,
        ),
        row(
            M::GET,
            "/api/v1/units/{commune_a}/appendix?year=2022&format=csv",
            None,
            COUNCIL_READERS,
        ),
        row(
            M::GET,
            "/api/v1/rankings?parent_unit_id={district}&year=2022",
            None,
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/rankings/criteria?parent_unit_id={district}&year=2022",
            None,
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/rankings/export?parent_unit_id={district}&year=2022&format=csv",
            None,
            DISTRICT,
        ),
        row(
            M::GET,
            "/api/v1/rankings/chart?parent_unit_id={district}&year=2022",
            None,
            DISTRICT,
        ),
        row(
            M::POST,
            "/api/v1/publications",
            Some(json!({"parent_unit_id": "{district}", "year": 2022})),
            DISTRICT,
        ),
        row(M::GET, "/api/v1/publications", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/publications/{other_publication}",
            None,
            OTHER_DISTRICT_PUBLISHED,
        ),
        row(
            M::GET,
            "/api/v1/publications/{other_publication}/decision",
            None,
            OTHER_DISTRICT_PUBLISHED,
        ),
        // unit merges
        row(
            M::POST,
            "/api/v1/unit-merges",
            Some(
                json!({"from_unit_ids": ["{merge_a}", "{merge_b}"], "into_unit_id": "{merge_a}", "effective_on": "2025-07-01", "decision": "1687/NQ-UBTVQH15"}),
            ),
            DISTRICT,
        ),
        row(M::GET, "/api/v1/unit-merges", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/unit-merges/{merge}",
            None,
            DISTRICT_VIEWERS,
        ),
        // remediation
        row(
            M::POST,
            "/api/v1/remediation-plans",
            Some(json!({"appraisal_id": "{final_appraisal}"})),
            PLAN_MAKERS,
        ),
        row(M::GET, "/api/v1/remediation-plans", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/remediation-plans/{plan}",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::POST,
            "/api/v1/remediation-plans/{plan}/items",
            Some(json!({"title": "Mỗi công chức đề xuất 01 sáng kiến"})),
            UNIT_A_EDITORS,
        ),
        row(
            M::GET,
            "/api/v1/remediation-plans/{plan}/report",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::GET,
            "/api/v1/remediation-plans/{plan}/letter",
            None,
            UNIT_A_READERS,
        ),
        row(M::GET, "/api/v1/remediation-items", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/remediation-items/{item}",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::PATCH,
            "/api/v1/remediation-items/{item}",
            Some(json!({"action": "Xây dựng kế hoạch"})),
            UNIT_A_EDITORS,
        ),
        row(
            M::POST,
            "/api/v1/remediation-items/{item}/progress",
            Some(json!({"note": "Đang thực hiện", "status": "in_progress"})),
            UNIT_A_EDITORS,
        ),
        row(
            M::POST,
            "/api/v1/remediation-items/{item}/comments",
            Some(json!({"note": "Đề nghị đẩy nhanh"})),
            PLAN_MAKERS,
        ),
        row(
            M::PATCH,
            "/api/v1/remediation-items/{item}/milestones/{milestone}",
            Some(json!({"status": "pending"})),
            UNIT_A_EDITORS,
        ),
        // evidence files
        Row {
            method: M::POST,
            path: "/api/v1/evidence-files",
            body: Some(Body::Upload),
            allowed: UNIT_A_EDITORS,
        },
        row(M::GET, "/api/v1/evidence-files", None, EVERYONE),
        row(
            M::GET,
            "/api/v1/evidence-files/{evidence_a}",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::GET,
            "/api/v1/evidence-files/{evidence_a}/content",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::DELETE,
            "/api/v1/evidence-files/{evidence_spare}",
            None,
            UNIT_A_EDITORS,
        ),
        row(
            M::GET,
            "/api/v1/self-assessments/{sa_a}/evidence.zip",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::GET,
            "/api/v1/self-assessments/{sa_a}/report",
            None,
            UNIT_A_READERS,
        ),
        row(
            M::GET,
            "/api/v1/self-assessments/{sa_a}/workbook",
            None,
            UNIT_A_READERS,
        ),
        // webhooks (commune A's subscription, made by its officer)
        row(
            M::POST,
            "/api/v1/webhooks",
            Some(
                json!({"url": "https://203.113.131.1/hook", "events": ["results.published"], "unit_id": "{commune_a}"}),
            ),
            WEBHOOK_A,
        ),
        row(M::GET, "/api/v1/webhooks", None, EVERYONE),
        row(M::GET, "/api/v1/webhooks/{webhook_a}", None, WEBHOOK_A),
        row(
            M::PATCH,
            "/api/v1/webhooks/{webhook_a}",
            Some(json!({"description": "Một cửa"})),
            WEBHOOK_A,
        ),
        row(
            M::POST,
            "/api/v1/webhooks/{webhook_a}/rotate-secret",
            None,
            WEBHOOK_A,
        ),
        row(
            M::POST,
            "/api/v1/webhooks/{webhook_a}/test",
            None,
            WEBHOOK_A,
        ),
        row(
            M::GET,
            "/api/v1/webhooks/{webhook_a}/deliveries",
            None,
            WEBHOOK_A,
        ),
        row(
            M::POST,
            "/api/v1/webhook-deliveries/{delivery_a}/redeliver",
            None,
            WEBHOOK_A,
        ),
        row(
            M::DELETE,
            "/api/v1/webhooks/{webhook_spare}",
            None,
            WEBHOOK_A,
        ),
        // audit
        row(M::GET, "/api/v1/audit-events", None, EVERYONE),
    ]
}

/// Extra fixtures the matrix rows name.
async fn prepare(w: &mut World) {
    let agency = w
        .unit("STP-45", "Sở Tư pháp", "agency", Some(w.id("province")))
        .await;
    w.ids.insert("agency".into(), agency);
    let (_, token) = w
        .account("agency.appraiser", "appraiser", Some(agency))
        .await;
    w.tokens.insert(AgencyAppraiser, token);
    let (victim, _) = w.account("victim", "viewer", Some(w.id("district"))).await;
    w.ids.insert("victim".into(), victim);
    let spare = w
        .unit("SPARE-1", "Xã Dự Phòng", "commune", Some(w.id("district")))
        .await;
    w.ids.insert("spare_commune".into(), spare);
    // Communes to merge: two for the matrix's merge, two merged already.
    for (name, code) in [
        ("merge_a", "MERGE-A"),
        ("merge_b", "MERGE-B"),
        ("merge_c", "MERGE-C"),
        ("merge_d", "MERGE-D"),
    ] {
        let id = w.unit(code, name, "commune", Some(w.id("district"))).await;
        w.ids.insert(name.into(), id);
    }
    let merged = w
        .app
        .post(
            "/api/v1/unit-merges",
            w.admin(),
            &json!({"from_unit_ids": [w.id("merge_c"), w.id("merge_d")], "into_unit_id": w.id("merge_c"),
                    "effective_on": "2025-07-01", "decision": "1687/NQ-UBTVQH15"}),
        )
        .await;
    merged.assert_status(201);
    w.ids
        .insert("merge".into(), merged.json["id"].as_i64().unwrap());
    // An appeal of commune A on a 2025 framework that takes them, after the release.
    let mut spec = fixture_framework_json(&w.id("district").to_string());
    spec["year"] = json!(2025);
    spec["appeal_days"] = json!(30);
    let f2025 = w.app.post("/api/v1/frameworks", w.admin(), &spec).await;
    f2025.assert_status(201);
    let f2025 = f2025.json["id"].as_i64().unwrap();
    w.app
        .post(
            &format!("/api/v1/frameworks/{f2025}/publish"),
            w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
    let s2025 = w.open_assessment(OfficerA, w.id("commune_a"), f2025).await;
    w.app
        .put(
            &format!("/api/v1/self-assessments/{s2025}/entries"),
            w.token(OfficerA),
            &json!({"entries": seed_self_entries()}),
        )
        .await
        .assert_status(200);
    let a2025 = w
        .app
        .post(
            &format!("/api/v1/self-assessments/{s2025}/submit"),
            w.token(OfficerA),
            &json!({}),
        )
        .await
        .json["appraisal_id"]
        .as_i64()
        .unwrap();
    w.app
        .post(
            "/api/v1/preliminary-results",
            w.admin(),
            &json!({"parent_unit_id": w.id("district"), "year": 2025}),
        )
        .await
        .assert_status(201);
    let appeal = w
        .app
        .post(
            &format!("/api/v1/appraisals/{a2025}/appeals"),
            w.token(OfficerA),
            &json!({"criterion_code": "1.4.1", "reason": "Đã có kế hoạch tuyên truyền"}),
        )
        .await;
    appeal.assert_status(201);
    w.ids
        .insert("appeal_a".into(), appeal.json["id"].as_i64().unwrap());
    // Commune A's webhooks, one with a delivery.
    for name in ["webhook_a", "webhook_spare"] {
        let created = w
            .app
            .post(
                "/api/v1/webhooks",
                w.token(OfficerA),
                &json!({"url": "https://203.113.131.1/hook", "events": ["results.published"]}),
            )
            .await;
        created.assert_status(201);
        w.ids
            .insert(name.into(), created.json["id"].as_i64().unwrap());
    }
    w.app
        .post(
            &format!("/api/v1/webhooks/{}/test", w.id("webhook_a")),
            w.token(OfficerA),
            &json!({}),
        )
        .await
        .assert_status(202);
    let deliveries = w
        .app
        .get(
            &format!("/api/v1/webhooks/{}/deliveries", w.id("webhook_a")),
            w.token(OfficerA),
        )
        .await;
    w.ids.insert(
        "delivery_a".into(),
        deliveries.json["items"][0]["id"].as_i64().unwrap(),
    );
    // The other district's 2023 results, published.
    let other_framework = w.published_framework(w.id("other_district")).await;
    w.quick_file(other_framework, w.id("commune_c"), "90.00", "0")
        .await;
    let published = w
        .app
        .post(
            "/api/v1/publications",
            w.admin(),
            &json!({"parent_unit_id": w.id("other_district"), "year": 2023}),
        )
        .await;
    published.assert_status(201);
    w.ids.insert(
        "other_publication".into(),
        published.json["id"].as_i64().unwrap(),
    );
    let staff = w
        .app
        .post(
            &format!("/api/v1/units/{}/staff", w.id("commune_a")),
            w.admin(),
            &json!({"full_name": "Nguyễn Thị Liên", "title": "Công chức Văn phòng - Thống kê"}),
        )
        .await;
    staff.assert_status(201);
    w.ids
        .insert("staff_a".into(), staff.json["id"].as_i64().unwrap());
    for name in ["framework", "framework_spare", "framework_to_publish"] {
        let id = w.framework(w.id("district")).await;
        w.ids.insert(name.into(), id);
    }
    // A published 2023 framework with commune A's complete draft on it, and a 2024 one
    // with commune A's submitted file and its appraisal.
    let published = w.published_framework(w.id("district")).await;
    w.ids.insert("published".into(), published);
    let officer = w.token(OfficerA).to_string();
    let sa = w
        .open_assessment(OfficerA, w.id("commune_a"), published)
        .await;
    w.app
        .put(
            &format!("/api/v1/self-assessments/{sa}/entries"),
            &officer,
            &json!({"entries": seed_self_entries()}),
        )
        .await
        .assert_status(200);
    w.ids.insert("sa_a".into(), sa);
    let next = w
        .app
        .post(
            &format!("/api/v1/frameworks/{published}/copy"),
            w.admin(),
            &json!({"year": 2024}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    w.app
        .post(
            &format!("/api/v1/frameworks/{next}/publish"),
            w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
    let sb = w.open_assessment(OfficerA, w.id("commune_a"), next).await;
    w.app
        .put(
            &format!("/api/v1/self-assessments/{sb}/entries"),
            &officer,
            &json!({"entries": seed_self_entries()}),
        )
        .await
        .assert_status(200);
    let submitted = w
        .app
        .post(
            &format!("/api/v1/self-assessments/{sb}/submit"),
            &officer,
            &json!({}),
        )
        .await;
    w.ids.insert(
        "appraisal".into(),
        submitted.json["appraisal_id"].as_i64().unwrap(),
    );
    // A finalized 2022 file of commune A, with its remediation plan.
    let y2022 = w
        .app
        .post(
            &format!("/api/v1/frameworks/{published}/copy"),
            w.admin(),
            &json!({"year": 2022}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    w.app
        .post(
            &format!("/api/v1/frameworks/{y2022}/publish"),
            w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
    let (_, final_appraisal) = w.seed_appraisal(y2022).await;
    w.ids.insert("final_appraisal".into(), final_appraisal);
    let plan = w
        .app
        .post(
            "/api/v1/remediation-plans",
            w.admin(),
            &json!({"appraisal_id": final_appraisal, "milestones": [{"label": "đợt 1", "due_on": "2023-10-31"}]}),
        )
        .await;
    plan.assert_status(201);
    w.ids
        .insert("plan".into(), plan.json["id"].as_i64().unwrap());
    w.ids
        .insert("item".into(), plan.json["items"][0]["id"].as_i64().unwrap());
    for name in ["evidence_a", "evidence_spare"] {
        let up = crate::evidence::upload_as(
            w,
            w.token(OfficerA),
            w.id("commune_a"),
            &format!("{name}.pdf"),
            &crate::evidence::pdf(400),
        )
        .await;
        up.assert_status(201);
        w.ids.insert(name.into(), up.json["id"].as_i64().unwrap());
    }
    w.ids.insert(
        "milestone".into(),
        plan.json["items"][0]["milestones"][0]["id"]
            .as_i64()
            .unwrap(),
    );
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn hmac_token(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
            .expect("sign");
    format!("{message}.{signature}")
}

/// Tokens that must all be refused with 401, each with what it tries.
async fn hostile_tokens(w: &mut World) -> Vec<(&'static str, String)> {
    let me = w.app.get("/api/v1/auth/me", w.admin()).await.json;
    let admin_id = me["id"].as_i64().unwrap().to_string();
    let now = chrono::Utc::now().timestamp();
    let claims = |iat: i64, exp: i64| {
        json!({"sub": admin_id, "role": "admin", "unit_id": null, "ver": 0, "iss": "parindex",
               "iat": iat, "nbf": iat, "exp": exp})
    };
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let secret = TEST_JWT_SECRET.as_bytes();

    let valid = w.admin().to_string();
    let mut parts: Vec<String> = valid.split('.').map(str::to_string).collect();
    // Change the payload (role) but keep the signature.
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["sub"] = json!("999999");
    parts[1] = b64(&payload);
    let tampered = parts.join(".");

    let (_, deactivated) = w
        .account("soon.gone", "viewer", Some(w.id("district")))
        .await;
    let gone_id = w.app.get("/api/v1/auth/me", &deactivated).await.json["id"]
        .as_i64()
        .unwrap();
    w.app
        .delete(&format!("/api/v1/users/{gone_id}"), w.admin())
        .await
        .assert_status(200);

    vec![
        (
            "expired",
            hmac_token(&hs256, &claims(now - 7200, now - 3600), secret),
        ),
        (
            "not yet valid",
            hmac_token(&hs256, &claims(now + 3600, now + 7200), secret),
        ),
        (
            "signed with another secret",
            hmac_token(
                &hs256,
                &claims(now, now + 3600),
                b"another-secret-another-secret-123",
            ),
        ),
        ("tampered payload", tampered),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims(now, now + 3600))
            ),
        ),
        (
            "RS256 header, HMAC signature",
            hmac_token(
                &json!({"alg": "RS256", "typ": "JWT"}),
                &claims(now, now + 3600),
                secret,
            ),
        ),
        (
            "wrong issuer",
            hmac_token(
                &hs256,
                &json!({"sub": admin_id, "role": "admin", "ver": 0, "iss": "evil",
            "iat": now, "nbf": now, "exp": now + 3600}),
                secret,
            ),
        ),
        ("garbage", "not-a-jwt".to_string()),
        ("deactivated account", deactivated),
    ]
}

async fn call(w: &World, row: &Row, token: Option<&str>) -> Resp {
    let path = w.resolve(row.path);
    let mut request = w.app.request(row.method.clone(), &path, token);
    match &row.body {
        Some(Body::Json(body)) => request = request.json(&w.resolve_json(body)),
        Some(Body::Csv(text)) => {
            request = request
                .header("content-type", "text/csv")
                .body(text.clone())
        }
        Some(Body::Upload) => {
            let unit = w.id("commune_a").to_string();
            let (ct, body) = crate::evidence::multipart(&[
                ("unit_id", None, unit.as_bytes()),
                ("file", Some("matrix.pdf"), &crate::evidence::pdf(300)),
            ]);
            request = request.header("content-type", ct).body(body)
        }
        None => {}
    }
    Resp::read(request.send().await).await
}

#[tokio::test]
async fn every_protected_endpoint_enforces_the_matrix() {
    on_each_backend(|app| async move {
        let mut w = world(app).await;
        prepare(&mut w).await;
        let hostile = hostile_tokens(&mut w).await;
        let mut wrong = Vec::new();
        for row in matrix() {
            let what = format!("{} {}", row.method, row.path);
            let resp = call(&w, &row, None).await;
            assert_eq!(
                resp.status.as_u16(),
                401,
                "{what} without a token: {}",
                resp.text
            );
            resp.assert_problem(401, Some("unauthorized"));
            for (name, token) in &hostile {
                let resp = call(&w, &row, Some(token)).await;
                assert_eq!(
                    resp.status.as_u16(),
                    401,
                    "{what} with a token {name}: {}",
                    resp.text
                );
            }
            // Refusals first, so that an allowed call that deletes cannot hide one.
            for persona in Persona::ALL.iter().filter(|p| !row.allowed.contains(p)) {
                let resp = call(&w, &row, Some(w.token(*persona))).await;
                if !matches!(resp.status.as_u16(), 403 | 404)
                    || resp.header("content-type") != Some("application/problem+json")
                {
                    wrong.push(format!(
                        "{what} as {persona:?} must be refused, got {}: {}",
                        resp.status, resp.text
                    ));
                }
            }
            for persona in row.allowed {
                let resp = call(&w, &row, Some(w.token(*persona))).await;
                if matches!(resp.status.as_u16(), 401 | 403 | 405 | 500..) {
                    wrong.push(format!(
                        "{what} as {persona:?} must be let through, got {}: {}",
                        resp.status, resp.text
                    ));
                }
            }
        }
        // Every mismatch at once: a rule changed in one place shows all it touched.
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    })
    .await;
}

/// `/api/v1/units/{id}/staff/{staff_id}?x=1` → `/api/v1/units/{}/staff/{}`.
fn shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn the_matrix_covers_every_protected_operation_of_the_spec() {
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let rows: Vec<(String, String)> = matrix()
        .iter()
        .map(|r| (r.method.to_string(), shape(r.path)))
        .collect();
    let mut missing = Vec::new();
    let mut protected = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if !secured {
                continue;
            }
            protected += 1;
            let key = (method.to_uppercase(), shape(path));
            if !rows.contains(&key) {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(protected > 0);
    assert!(
        missing.is_empty(),
        "not in the authorization matrix: {missing:#?}"
    );
    assert_eq!(
        rows.len(),
        protected,
        "the matrix names operations the spec does not have"
    );
}
