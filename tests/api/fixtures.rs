//! A small world most tests start from, built through the API: a province with two
//! districts, communes A and B in the first and C in the second, and one account per
//! persona of the authorization matrix.

use crate::helpers::TestApp;
use serde_json::{Value, json};
use std::collections::HashMap;

pub const PASSWORD: &str = "fixture-password-123";

/// The 100-point commune framework of the test fixture (every criterion of the seed's
/// appendix with its seed max, and plausible others), owned by `owner` (an id or a
/// `{placeholder}`).
pub fn fixture_framework_json(owner: &str) -> Value {
    let mut f: Value = serde_json::from_str(include_str!(
        "../../demo/fixtures/commune_framework_2023.json"
    ))
    .unwrap();
    f["owner_unit_id"] = match owner.parse::<i64>() {
        Ok(id) => json!(id),
        Err(_) => json!(owner),
    };
    f
}

/// The fixture's criteria as a CSV upload.
pub fn fixture_framework_csv() -> String {
    let f = fixture_framework_json("0");
    let mut out = String::from("code,title,max_score,method,parameters,scorer\n");
    for c in f["criteria"].as_array().unwrap() {
        let method = &c["method"];
        let (name, params) = match method["type"].as_str() {
            None => (String::new(), String::new()),
            Some(t) => {
                let params = match t {
                    "target_ratio" => format!("target={}", method["target"].as_str().unwrap()),
                    "threshold" => format!("threshold={}", method["threshold"].as_str().unwrap()),
                    "per_item" | "penalty_per_item" => {
                        format!("points={}", method["points"].as_str().unwrap())
                    }
                    "step_table" => format!(
                        "steps={}",
                        method["steps"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| format!("{}:{}", s["min_count"], s["score"].as_str().unwrap()))
                            .collect::<Vec<_>>()
                            .join(";")
                    ),
                    _ => String::new(),
                };
                (t.to_string(), params)
            }
        };
        out.push_str(&format!(
            "{},\"{}\",{},{},{},{}\n",
            c["code"].as_str().unwrap(),
            c["title"].as_str().unwrap(),
            c["max_score"].as_str().unwrap(),
            name,
            params,
            c["scorer"].as_str().unwrap_or("")
        ));
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Persona {
    Admin,
    /// District appraiser of the district of communes A and B.
    Appraiser,
    /// District appraiser of the other district.
    OtherAppraiser,
    /// Unit officer of commune A.
    OfficerA,
    /// Unit officer of commune B.
    OfficerB,
    /// Viewer of the district of communes A and B.
    Viewer,
    /// Appraiser of Sở Tư pháp, an agency of the province: a field appraiser. Made by the
    /// authorization matrix's world only (`authz::prepare`), so that the other worlds'
    /// province keeps only its districts.
    AgencyAppraiser,
}

impl Persona {
    pub const ALL: [Persona; 7] = [
        Persona::Admin,
        Persona::Appraiser,
        Persona::OtherAppraiser,
        Persona::OfficerA,
        Persona::OfficerB,
        Persona::Viewer,
        Persona::AgencyAppraiser,
    ];
}

pub struct World {
    pub app: TestApp,
    pub tokens: HashMap<Persona, String>,
    /// Named ids: `province`, `district`, `other_district`, `commune_a`, `commune_b`,
    /// `commune_c`, and the persona accounts' user ids (`user_officer_a`…).
    pub ids: HashMap<String, i64>,
}

impl World {
    pub fn token(&self, persona: Persona) -> &str {
        &self.tokens[&persona]
    }

    pub fn admin(&self) -> &str {
        self.token(Persona::Admin)
    }

    pub fn id(&self, name: &str) -> i64 {
        *self
            .ids
            .get(name)
            .unwrap_or_else(|| panic!("no fixture id named {name}"))
    }

    /// Creates a unit as admin and returns its id.
    pub async fn unit(&self, code: &str, name: &str, kind: &str, parent: Option<i64>) -> i64 {
        let resp = self
            .app
            .post(
                "/api/v1/units",
                self.admin(),
                &json!({"code": code, "name": name, "kind": kind, "parent_id": parent}),
            )
            .await;
        resp.assert_status(201);
        resp.json["id"].as_i64().unwrap()
    }

    /// Creates an account as admin and returns (id, token).
    pub async fn account(&self, username: &str, role: &str, unit: Option<i64>) -> (i64, String) {
        let resp = self
            .app
            .post(
                "/api/v1/users",
                self.admin(),
                &json!({"username": username, "password": PASSWORD, "full_name": username,
                        "role": role, "unit_id": unit}),
            )
            .await;
        resp.assert_status(201);
        let id = resp.json["id"].as_i64().unwrap();
        (id, self.app.login(username, PASSWORD).await)
    }

    /// Creates the fixture framework (draft) for `owner` as admin and returns its id.
    pub async fn framework(&self, owner: i64) -> i64 {
        let resp = self
            .app
            .post(
                "/api/v1/frameworks",
                self.admin(),
                &fixture_framework_json(&owner.to_string()),
            )
            .await;
        resp.assert_status(201);
        resp.json["id"].as_i64().unwrap()
    }

    /// Creates and publishes the fixture framework for `owner`; returns its id.
    pub async fn published_framework(&self, owner: i64) -> i64 {
        let id = self.framework(owner).await;
        self.publish(id).await;
        id
    }

    /// Publishes framework `id` as admin.
    pub async fn publish(&self, id: i64) {
        self.app
            .post(
                &format!("/api/v1/frameworks/{id}/publish"),
                self.admin(),
                &json!({}),
            )
            .await
            .assert_status(200);
    }

    /// Creates a framework from `spec` as admin and publishes it; returns its id.
    pub async fn published_spec(&self, spec: &Value) -> i64 {
        let resp = self
            .app
            .post("/api/v1/frameworks", self.admin(), spec)
            .await;
        resp.assert_status(201);
        let id = resp.json["id"].as_i64().unwrap();
        self.publish(id).await;
        id
    }

    /// Replaces `{name}` placeholders in a path with fixture ids.
    pub fn resolve(&self, path: &str) -> String {
        let out = self.substitute(path);
        assert!(!out.contains('{'), "unresolved placeholder in {out}");
        out
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, id) in &self.ids {
            out = out.replace(&format!("{{{name}}}"), &id.to_string());
        }
        out
    }

    /// Like `resolve` for a JSON body: a string that is just `"{name}"` becomes the number.
    pub fn resolve_json(&self, body: &Value) -> Value {
        let mut text = body.to_string();
        for (name, id) in &self.ids {
            text = text.replace(&format!("\"{{{name}}}\""), &id.to_string());
        }
        serde_json::from_str(&self.substitute(&text)).unwrap()
    }
}

pub async fn world(app: TestApp) -> World {
    let admin = app.admin_token().await;
    let mut w = World {
        app,
        tokens: HashMap::from([(Persona::Admin, admin)]),
        ids: HashMap::new(),
    };
    let province = w.unit("45", "Tỉnh Quảng Trị", "province", None).await;
    let district = w
        .unit("464", "Huyện Vĩnh Linh", "district", Some(province))
        .await;
    let other = w
        .unit("465", "Huyện Gio Linh", "district", Some(province))
        .await;
    let a = w
        .unit("19744", "Xã Vĩnh Long", "commune", Some(district))
        .await;
    let b = w
        .unit("19745", "Xã Vĩnh Chấp", "commune", Some(district))
        .await;
    let c = w.unit("19800", "Xã Gio Mỹ", "commune", Some(other)).await;
    for (name, id) in [
        ("province", province),
        ("district", district),
        ("other_district", other),
        ("commune_a", a),
        ("commune_b", b),
        ("commune_c", c),
    ] {
        w.ids.insert(name.to_string(), id);
    }
    for (persona, username, role, unit) in [
        (
            Persona::Appraiser,
            "appraiser",
            "district_appraiser",
            district,
        ),
        (
            Persona::OtherAppraiser,
            "other.appraiser",
            "district_appraiser",
            other,
        ),
        (Persona::OfficerA, "officer.a", "unit_officer", a),
        (Persona::OfficerB, "officer.b", "unit_officer", b),
        (Persona::Viewer, "viewer", "viewer", district),
    ] {
        let (id, token) = w.account(username, role, Some(unit)).await;
        w.tokens.insert(persona, token);
        w.ids
            .insert(format!("user_{}", username.replace('.', "_")), id);
    }
    w
}

/// The seed letter's figures: Vĩnh Long's 2023 appendix, with self and council inputs
/// that reproduce each score.
pub fn seed_json() -> Value {
    serde_json::from_str(include_str!("../../demo/fixtures/seed_vinh_long_2023.json")).unwrap()
}

/// Inputs that earn a leaf its max under its method.
pub fn inputs_for_max(criterion: &Value) -> Value {
    let method = &criterion["method"];
    match method["type"].as_str().unwrap() {
        "manual" => json!({"score": criterion["max_score"]}),
        "ratio" | "target_ratio" | "threshold" => json!({"numerator": 10, "denominator": 10}),
        "per_item" => json!({"count": 100}),
        "penalty_per_item" => json!({"count": 0}),
        "boolean" => json!({"done": true}),
        "step_table" => json!({"count": 1000}),
        "relative_to_best" => json!({"value": 100}),
        other => panic!("unknown method {other}"),
    }
}

fn with_code(code: &str, inputs: &Value) -> Value {
    let mut entry = inputs.clone();
    entry["criterion_code"] = json!(code);
    entry
}

/// The unit's entries for every leaf of the fixture framework: the appendix's self
/// inputs, 5.2 one point below its max, every other leaf at its max (self total 90.88).
pub fn seed_self_entries() -> Vec<Value> {
    let seed = seed_json();
    let framework = fixture_framework_json("0");
    let restored = &seed["restored_by_council"];
    framework["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("method").is_some())
        .map(|c| {
            let code = c["code"].as_str().unwrap();
            let appendix = seed["appendix"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["code"] == code);
            match appendix {
                Some(a) => with_code(code, &a["self_inputs"]),
                None if restored["code"] == code => with_code(code, &restored["self_inputs"]),
                None => with_code(code, &inputs_for_max(c)),
            }
        })
        .collect()
}

/// The council's entries: its inputs and comments on the 19 appendix criteria, and 5.2
/// restored to its max.
pub fn seed_council_entries() -> Vec<Value> {
    let seed = seed_json();
    let restored = &seed["restored_by_council"];
    let mut entries: Vec<Value> = seed["appendix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let code = a["code"].as_str().unwrap();
            let mut entry = match a["council_inputs"].is_null() {
                true => json!({"criterion_code": code}),
                false => with_code(code, &a["council_inputs"]),
            };
            if let Some(comment) = a["comment"].as_str() {
                entry["comment"] = json!(comment);
            }
            entry
        })
        .collect();
    entries.push(with_code(
        restored["code"].as_str().unwrap(),
        &restored["council_inputs"],
    ));
    entries
}

impl World {
    /// Opens the unit's self-assessment on `framework` as `officer`; returns its id.
    pub async fn open_assessment(&self, officer: Persona, unit: i64, framework: i64) -> i64 {
        let resp = self
            .app
            .post(
                "/api/v1/self-assessments",
                self.token(officer),
                &json!({"unit_id": unit, "framework_id": framework}),
            )
            .await;
        resp.assert_status(201);
        resp.json["id"].as_i64().unwrap()
    }

    /// Commune A's file on `framework`, filled with the seed's self-assessment and
    /// submitted. Returns (self-assessment, appraisal) ids.
    pub async fn submitted_seed_file(&self, framework: i64) -> (i64, i64) {
        let officer = self.token(Persona::OfficerA);
        let sa = self
            .open_assessment(Persona::OfficerA, self.id("commune_a"), framework)
            .await;
        self.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                officer,
                &json!({"entries": seed_self_entries()}),
            )
            .await
            .assert_status(200);
        let submitted = self
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                officer,
                &json!({}),
            )
            .await;
        submitted.assert_status(200);
        (sa, submitted.json["appraisal_id"].as_i64().unwrap())
    }

    /// The seed commune's file on the fixture framework, up to a finalized appraisal with
    /// the council's seed scores and a bonus of 1. Returns (self-assessment, appraisal) ids.
    pub async fn seed_appraisal(&self, framework: i64) -> (i64, i64) {
        let (sa, appraisal) = self.submitted_seed_file(framework).await;
        let appraiser = self.token(Persona::Appraiser);
        self.app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/entries"),
                appraiser,
                &json!({"entries": seed_council_entries()}),
            )
            .await
            .assert_status(200);
        let seed = seed_json();
        self.app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/bonus"),
                appraiser,
                &json!({"points": seed["bonus"], "reason": seed["bonus_reason"]}),
            )
            .await
            .assert_status(200);
        self.app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                appraiser,
                &json!({}),
            )
            .await
            .assert_status(200);
        (sa, appraisal)
    }
}

/// Manual leaves of the fixture framework with their max: where `quick_file` takes points.
const MANUAL_LEAVES: [(&str, i64); 14] = [
    ("7.2.1", 400),
    ("4.1", 300),
    ("5.1", 300),
    ("1.1", 200),
    ("1.4.2", 200),
    ("2.1", 200),
    ("3.5", 200),
    ("3.6", 200),
    ("3.7", 200),
    ("3.9", 200),
    ("7.1.4", 200),
    ("1.4.1", 100),
    ("1.5.3", 100),
    ("1.7", 100),
];

/// Council entries that take `deduction` (in hundredths, at most 29 points) off the
/// manual leaves, largest first.
pub fn council_entries_losing(deduction_x100: i64) -> Vec<Value> {
    let mut left = deduction_x100;
    MANUAL_LEAVES
        .iter()
        .filter_map(|(code, max)| {
            let take = left.min(*max);
            left -= take;
            (take > 0).then(|| {
                json!({"criterion_code": code, "score": format!("{}.{:02}", (max - take) / 100, (max - take) % 100),
                       "comment": "Chưa đạt yêu cầu"})
            })
        })
        .collect()
}

fn hundredths(text: &str) -> i64 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    whole.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}")[..2].parse::<i64>().unwrap()
}

impl World {
    /// A whole year's file of `unit` on `framework`, done by an admin in six requests:
    /// every leaf self-assessed at its max, the council taking off what makes
    /// `appraised_total`, then `bonus`, then finalized. Returns the appraisal id.
    pub async fn quick_file(
        &self,
        framework: i64,
        unit: i64,
        appraised_total: &str,
        bonus: &str,
    ) -> i64 {
        let admin = self.admin();
        let f = fixture_framework_json("0");
        let entries: Vec<Value> = f["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c.get("method").is_some())
            .map(|c| with_code(c["code"].as_str().unwrap(), &inputs_for_max(c)))
            .collect();
        let sa = self
            .app
            .post(
                "/api/v1/self-assessments",
                admin,
                &json!({"unit_id": unit, "framework_id": framework}),
            )
            .await;
        sa.assert_status(201);
        let sa = sa.json["id"].as_i64().unwrap();
        self.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                admin,
                &json!({"entries": entries}),
            )
            .await
            .assert_status(200);
        let appraisal = self
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                admin,
                &json!({}),
            )
            .await
            .json["appraisal_id"]
            .as_i64()
            .unwrap();
        let lost = 10_000 - hundredths(appraised_total);
        if lost > 0 {
            self.app
                .put(
                    &format!("/api/v1/appraisals/{appraisal}/entries"),
                    admin,
                    &json!({"entries": council_entries_losing(lost)}),
                )
                .await
                .assert_status(200);
        }
        if bonus != "0" {
            self.app
                .put(
                    &format!("/api/v1/appraisals/{appraisal}/bonus"),
                    admin,
                    &json!({"points": bonus, "reason": "Điểm thưởng"}),
                )
                .await
                .assert_status(200);
        }
        let f = self
            .app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                admin,
                &json!({}),
            )
            .await;
        f.assert_status(200);
        assert_eq!(
            f.json["appraised_total"],
            format!(
                "{}.{:02}",
                hundredths(appraised_total) / 100,
                hundredths(appraised_total) % 100
            )
        );
        appraisal
    }
}
