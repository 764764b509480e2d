//! `parindex demo-data`: a demo district a new user can query a minute after cloning —
//! Huyện Vĩnh Linh's 18 communes and towns with 2022 and 2023 frameworks, finalized
//! appraisals and published results, where Xã Vĩnh Long reproduces the seed letter:
//! 2023 self 90.88, appraised 87.25, bonus 1, index 88.25, rank 11/18; 2022 index 86.39,
//! rank 8/18 (a fall of 3 places); and its 2024 remediation plan as the letter writes it
//! (`fixtures/seed_vinh_long_2024_plan.json`): each row's officers, bodies and own
//! deadlines, recurring duties, and the tasks of the letter's body with their targets.
//!
//! Everything goes through the same services as the API (same validation, same audit
//! trail), as a command-line actor.

pub mod generate;
mod reorganisation;
pub use reorganisation::{ILLUSTRATIVE, Reorganised, reorganise};

use chrono::NaiveDate;
use entity::unit;
use parindex_domain::schedule::{Recurrence, Target};
use parindex_service::auth::{Principal, Role};
use parindex_service::scoring::{Inputs, Method};
use parindex_service::services::accounts::{self, NewUser};
use parindex_service::services::entries::{Batch, EntryInput};
use parindex_service::services::evidence;
use parindex_service::services::frameworks::{self, FrameworkSpec};
use parindex_service::services::indicators::IndicatorRow;
use parindex_service::services::lifecycle::{appeal, council, feed, file};
use parindex_service::services::remediation::{
    self, Assignment, ItemPatch, Milestone, NewItem, OfficerRole,
};
use parindex_service::services::results;
use parindex_service::services::scoresheet::Evidence;
use parindex_service::services::units::{self, NewStaff, NewUnit, UnitKind};
use parindex_service::services::versioned::Precondition;
use parindex_service::state::AppState;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;

const FRAMEWORK: &str = include_str!("../fixtures/commune_framework_2023.json");
const SEED: &str = include_str!("../fixtures/seed_vinh_long_2023.json");
const DISTRICT: &str = include_str!("../fixtures/demo_vinh_linh.json");
const PLAN: &str = include_str!("../fixtures/seed_vinh_long_2024_plan.json");

/// One of Vĩnh Long's illustrative evidence files (made from the HTML beside them, see
/// `fixtures/evidence/README.md`) and the entry that names it.
struct DemoEvidence {
    code: &'static str,
    title: &'static str,
    number: &'static str,
    issued_on: &'static str,
    filename: &'static str,
    content: &'static [u8],
}

const VINH_LONG_EVIDENCE: [DemoEvidence; 3] = [
    DemoEvidence {
        code: "1.4.1",
        title: "Kế hoạch tuyên truyền cải cách hành chính năm 2023",
        number: "45/KH-UBND",
        issued_on: "2023-02-15",
        filename: "Kế hoạch 45-KH-UBND tuyên truyền CCHC 2023.pdf",
        content: include_bytes!("../fixtures/evidence/ke-hoach-45-KH-UBND.pdf"),
    },
    DemoEvidence {
        code: "1.5.1",
        title: "Báo cáo tình hình thực hiện nhiệm vụ được giao năm 2023",
        number: "103/BC-VP",
        issued_on: "2023-11-29",
        filename: "Báo cáo 103-BC-VP nhiệm vụ được giao.pdf",
        content: include_bytes!("../fixtures/evidence/bao-cao-103-BC-VP.pdf"),
    },
    DemoEvidence {
        code: "1.7",
        title: "Biên bản hội nghị đối thoại năm 2023",
        number: "12/BB-UBND",
        issued_on: "2023-10-20",
        filename: "Biên bản đối thoại 12-BB-UBND.pdf",
        content: include_bytes!("../fixtures/evidence/bien-ban-12-BB-UBND.pdf"),
    },
];

pub const DEMO_PASSWORD: &str = "demo-password-2023";

/// The system the seed's 7.3.1 and 7.3.2 were taken from, as the letter names it.
pub const QLVB: &str = "hệ thống quản lý văn bản và hồ sơ công việc tỉnh";

/// The accounts the demo creates, for the README and the command's output: username,
/// role, unit and the name papers print. The chairman is the seed letter's signer and the
/// office is its CCHC officer; the district's accounts carry their usernames.
pub const DEMO_ACCOUNTS: [(&str, Role, &str, &str); 4] = [
    (
        "vinhlinh.thamdinh",
        Role::Appraiser,
        "Huyện Vĩnh Linh",
        "vinhlinh.thamdinh",
    ),
    (
        "vinhlong.vanphong",
        Role::UnitOfficer,
        "Xã Vĩnh Long",
        "Nguyễn Thị Liên",
    ),
    (
        "vinhlong.chutich",
        Role::UnitLeader,
        "Xã Vĩnh Long",
        "Trần Quốc Lương",
    ),
    (
        "vinhlinh.xem",
        Role::Viewer,
        "Huyện Vĩnh Linh",
        "vinhlinh.xem",
    ),
];

/// Vĩnh Long's 2024 remediation plan as the seed letter writes it (see its `about`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlan {
    pub about: String,
    /// The officers the letter names, by the short name it uses ("Liên", "Hiền VP").
    pub officers: Vec<SeedOfficer>,
    /// The letter's "đợt 1" and "đợt 2", for the items that say so.
    pub phases: Vec<Milestone>,
    /// One per appendix row.
    pub items: Vec<SeedItem>,
    /// The letter's body: duties with no criterion, several with numeric targets.
    pub tasks: Vec<SeedItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOfficer {
    pub key: String,
    pub full_name: String,
    pub title: String,
}

/// An appendix row (`code`) or a task (`title`): who, and by when.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedItem {
    pub code: Option<String>,
    pub title: Option<String>,
    pub lead: Option<String>,
    #[serde(default)]
    pub support: Vec<String>,
    #[serde(default)]
    pub bodies: Vec<String>,
    #[serde(default)]
    pub milestones: Vec<Milestone>,
    /// Whether the plan's two phases are among its deadlines.
    #[serde(default)]
    pub phases: bool,
    pub recurrence: Option<Recurrence>,
    pub target: Option<Target>,
}

impl SeedPlan {
    pub fn load() -> Result<SeedPlan, anyhow::Error> {
        Ok(serde_json::from_str(PLAN)?)
    }

    /// The item's own milestones: its dates, then the phases when it has them.
    pub fn milestones_of(&self, item: &SeedItem) -> Vec<Milestone> {
        let mut all = item.milestones.clone();
        if item.phases {
            all.extend(self.phases.iter().cloned());
        }
        all
    }
}

impl SeedItem {
    /// Lead then supporting officers, as staff ids by the letter's short names.
    fn assignments(&self, staff: &HashMap<&str, i64>) -> Result<Vec<Assignment>, anyhow::Error> {
        let id = |key: &String| {
            staff
                .get(key.as_str())
                .copied()
                .ok_or_else(|| anyhow::anyhow!("the seed plan names no officer {key}"))
        };
        let mut all = Vec::new();
        if let Some(lead) = &self.lead {
            all.push(Assignment {
                staff_id: id(lead)?,
                role: OfficerRole::Lead,
            });
        }
        for s in &self.support {
            all.push(Assignment {
                staff_id: id(s)?,
                role: OfficerRole::Support,
            });
        }
        Ok(all)
    }
}

/// A service refusal, as the command's error.
fn err(e: parindex_service::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn json(text: &str) -> Result<Value, anyhow::Error> {
    Ok(serde_json::from_str(text)?)
}

fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// Inputs from the seed's JSON form ({"score": "0.8"}, {"numerator": 7, …}).
fn inputs(v: &Value) -> Inputs {
    Inputs {
        score: dec(&v["score"]),
        numerator: dec(&v["numerator"]),
        denominator: dec(&v["denominator"]),
        count: v["count"].as_u64().map(|c| c as u32),
        done: v["done"].as_bool(),
        value: dec(&v["value"]),
        not_applicable: v["not_applicable"].as_bool().unwrap_or(false),
    }
}

/// Inputs that earn a leaf its max under its method.
fn inputs_for_max(method: &Method, max: Decimal) -> Inputs {
    let mut i = Inputs::default();
    match method {
        Method::Manual {} => i.score = Some(max),
        Method::Ratio {} | Method::TargetRatio { .. } | Method::Threshold { .. } => {
            i.numerator = Some(Decimal::TEN);
            i.denominator = Some(Decimal::TEN);
        }
        Method::PerItem { .. } | Method::StepTable { .. } => i.count = Some(1000),
        Method::PenaltyPerItem { .. } => i.count = Some(0),
        Method::Boolean {} => i.done = Some(true),
        Method::RelativeToBest {} => i.value = Some(Decimal::ONE_HUNDRED),
    }
    i
}

/// The demo's 2024 campaign: "chấm điểm cải cách hành chính cuối năm 2024" after the seed's
/// second remediation deadline; the other dates are illustrative (minh hoạ).
fn campaign_2024() -> Result<parindex_domain::campaign::Campaign, anyhow::Error> {
    let on =
        |y, m, d, note: &str| -> Result<Option<parindex_domain::campaign::Dated>, anyhow::Error> {
            Ok(Some(parindex_domain::campaign::Dated {
                date: NaiveDate::from_ymd_opt(y, m, d)
                    .ok_or_else(|| anyhow::anyhow!("bad date"))?,
                note: Some(note.to_string()),
            }))
        };
    let illustrative = "Ngày minh hoạ của bản trình diễn";
    Ok(parindex_domain::campaign::Campaign {
        opens_on: on(
            2024,
            12,
            16,
            "Chấm điểm cải cách hành chính cuối năm 2024 (sau hạn khắc phục đợt 2 ngày 15/12/2024)",
        )?,
        submission_note: Some(illustrative.to_string()),
        appraisal_due_on: on(2025, 1, 15, illustrative)?,
        council_meets_on: on(2025, 1, 20, illustrative)?,
        preliminary_release_on: on(2025, 1, 24, illustrative)?,
        appeal_note: Some(illustrative.to_string()),
        announcement_on: on(2025, 2, 14, illustrative)?,
    })
}

fn spec(year: i32, owner: i64) -> Result<FrameworkSpec, anyhow::Error> {
    let f = json(FRAMEWORK)?;
    Ok(FrameworkSpec {
        year,
        name: format!("Bộ chỉ số cải cách hành chính cấp xã năm {year}"),
        owner_unit_id: owner,
        unit_kinds: vec![UnitKind::Commune, UnitKind::Town],
        na_policy: parindex_service::scoring::NotApplicablePolicy::FullScore,
        evidence_policy: entity::framework::EvidencePolicy::None,
        requires_leader_approval: false,
        // The demo's council takes appeals for ten days after its preliminary results.
        appeal_days: Some(10),
        bonus_max: Decimal::from(3),
        penalty_max: Decimal::ZERO,
        rating_bands: serde_json::from_value(f["rating_bands"].clone())?,
        submission_deadline: None,
        criteria: {
            let mut criteria: Vec<parindex_service::scoring::CriterionDef> =
                serde_json::from_value(f["criteria"].clone())?;
            for c in &mut criteria {
                c.indicator_code = match c.code.as_str() {
                    "7.3.1" => Some("qlvb.documents_signed_digitally".to_string()),
                    "7.3.2" => Some("qlvb.leaders_signing_digitally".to_string()),
                    _ => None,
                };
            }
            criteria
        },
        composition: Default::default(),
        campaign: Default::default(),
    })
}

struct Loader<'a> {
    state: &'a AppState,
    actor: Principal,
    /// The seed file's paperwork, once its accounts exist.
    paperwork: Option<Paperwork>,
    /// The agencies' appraisers (since 2025): each enters the council's figures of the
    /// criteria the framework assigns to its agency; `actor` consolidates the rest.
    agencies: Vec<Principal>,
}

/// Vĩnh Long's 2023 file as the process runs it: its chairman signs it off before
/// submission; after the council's preliminary results the commune appeals 1.5.3, and the
/// council answers (the seed letter keeps the council's 0.5, so the answer is no).
struct Paperwork {
    unit_id: i64,
    year: i32,
    leader: Principal,
    officer: Principal,
}

impl Loader<'_> {
    /// A whole file: self entries, submission, council entries, bonus, finalization.
    async fn file(
        &self,
        framework: &frameworks::LoadedFramework,
        unit_id: i64,
        self_entries: Vec<EntryInput>,
        council: Vec<EntryInput>,
        bonus: Decimal,
        bonus_reason: &str,
    ) -> Result<i64, anyhow::Error> {
        let db = &self.state.db;
        let any = Precondition::any();
        let sa = file::open(db, &self.actor, unit_id, framework.model.id).await?;
        file::upsert_entries(
            db,
            &self.actor,
            sa.model.id,
            Batch::Entries(self_entries),
            &any,
        )
        .await?;
        let paperwork = self
            .paperwork
            .as_ref()
            .filter(|p| p.unit_id == unit_id && p.year == framework.model.year);
        if let Some(p) = paperwork {
            file::approve(db, &p.leader, sa.model.id, &any).await?;
        }
        let submitted = file::submit(db, &self.actor, sa.model.id, &any).await?;
        let appraisal = submitted
            .appraisal_id
            .ok_or_else(|| anyhow::anyhow!("submission made no appraisal"))?;
        let mut council = council;
        for agency in &self.agencies {
            let Some(unit) = &agency.unit else { continue };
            // Its criteria: the council's figures where it changes the unit's, and its
            // agreement with the unit's elsewhere.
            let mine: Vec<EntryInput> = framework
                .tree
                .assigned_leaves()
                .filter(|(_, by)| *by == unit.id)
                .map(|(leaf, _)| {
                    let given = council
                        .iter()
                        .position(|e| e.criterion_code == leaf.code)
                        .map(|i| council.remove(i));
                    EntryInput {
                        confirm: true,
                        ..given.unwrap_or_else(|| EntryInput {
                            criterion_code: leaf.code.clone(),
                            ..Default::default()
                        })
                    }
                })
                .collect();
            if !mine.is_empty() {
                council::upsert_entries(db, agency, appraisal, Batch::Entries(mine), &any).await?;
            }
        }
        if !council.is_empty() {
            council::upsert_entries(db, &self.actor, appraisal, Batch::Entries(council), &any)
                .await?;
        }
        if bonus > Decimal::ZERO {
            council::set_bonus(
                db,
                &self.actor,
                appraisal,
                bonus,
                Some(bonus_reason.to_string()),
                &any,
            )
            .await?;
        }
        if let Some(p) = paperwork {
            self.appeal(p, appraisal, framework.model.owner_unit_id)
                .await?;
        }
        council::finalize(db, &self.actor, appraisal, &any).await?;
        Ok(appraisal)
    }

    /// The preliminary results released, the commune's appeal of 1.5.3 and the council's
    /// answer, as the seed letter's comment on 1.5.3 gives it.
    async fn appeal(
        &self,
        p: &Paperwork,
        appraisal: i64,
        district: i64,
    ) -> Result<(), anyhow::Error> {
        let db = &self.state.db;
        appeal::release(db, &self.actor, district, p.year).await?;
        let filed = appeal::file(
            db,
            &p.officer,
            appraisal,
            appeal::NewAppeal {
                criterion_code: "1.5.3".to_string(),
                reason: "Đơn vị đã có Báo cáo số 19/BC-UBND ngày 09/3/2023 về khắc phục tồn tại, \
                         hạn chế năm 2022; đề nghị Hội đồng xem xét chấm đủ 01 điểm."
                    .to_string(),
                evidence: vec![Evidence {
                    title: "Báo cáo khắc phục tồn tại, hạn chế năm 2022".to_string(),
                    number: Some("19/BC-UBND".to_string()),
                    issued_on: NaiveDate::from_ymd_opt(2023, 3, 9),
                    url: None,
                    file_id: None,
                }],
            },
        )
        .await?;
        appeal::decide(
            db,
            &self.actor,
            filed.id,
            appeal::Decision {
                accepted: false,
                response: "Không chấp nhận: Báo cáo số 19/BC-UBND là kế hoạch khắc phục, chưa \
                           báo cáo kết quả khắc phục; đơn vị có tài liệu kiểm chứng khắc phục \
                           theo yêu cầu của huyện nên giữ 0,5 điểm."
                    .to_string(),
                entry: None,
            },
        )
        .await?;
        Ok(())
    }

    /// Every leaf at its max, the council taking `appraised` below 100 off manual leaves.
    async fn quick_file(
        &self,
        framework: &frameworks::LoadedFramework,
        unit_id: i64,
        appraised: Decimal,
        bonus: Decimal,
    ) -> Result<i64, anyhow::Error> {
        let entries = framework
            .tree
            .leaves()
            .map(|c| EntryInput {
                criterion_code: c.code.clone(),
                inputs: Some(inputs_for_max(
                    c.method.as_ref().unwrap_or(&Method::Manual {}),
                    c.max_score,
                )),
                ..Default::default()
            })
            .collect();
        let mut left = Decimal::ONE_HUNDRED - appraised;
        let mut manual: Vec<&parindex_service::scoring::CriterionDef> = framework
            .tree
            .leaves()
            .filter(|c| matches!(c.method, Some(Method::Manual {})))
            .collect();
        manual.sort_by_key(|c| std::cmp::Reverse(c.max_score));
        let mut council = Vec::new();
        for c in manual {
            if left <= Decimal::ZERO {
                break;
            }
            let take = left.min(c.max_score);
            left -= take;
            council.push(EntryInput {
                criterion_code: c.code.clone(),
                inputs: Some(Inputs {
                    score: Some(c.max_score - take),
                    ..Default::default()
                }),
                text: Some("Chưa đạt yêu cầu của tiêu chí".to_string()),
                ..Default::default()
            });
        }
        self.file(
            framework,
            unit_id,
            entries,
            council,
            bonus,
            "Sáng kiến cải cách hành chính được công nhận",
        )
        .await
    }

    /// Stores Vĩnh Long's evidence files through the same path as an upload (spool, sniff,
    /// content-addressed commit, metadata and audit); returns each criterion's evidence.
    async fn seed_evidence(
        &self,
        unit_id: i64,
        year: i32,
    ) -> Result<HashMap<&'static str, Evidence>, anyhow::Error> {
        let u = unit::Entity::find_by_id(unit_id)
            .one(&self.state.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no unit {unit_id}"))?;
        let mut out = HashMap::new();
        for DemoEvidence {
            code,
            title,
            number,
            issued_on,
            filename,
            content,
        } in VINH_LONG_EVIDENCE
        {
            let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
                bytes::Bytes::from_static(content),
            )]);
            let spooled = parindex_service::storage::spool(
                self.state.blobs.spool_dir(),
                body,
                self.state.config.evidence.max_bytes,
                std::time::Duration::from_secs(5),
            )
            .await
            .map_err(|e| anyhow::anyhow!("spooling {filename}: {e:?}"))?;
            let stored = evidence::store(self.state, &self.actor, &u, year, filename, spooled)
                .await
                .map_err(|e| anyhow::anyhow!("storing {filename}: {e}"))?;
            out.insert(
                code,
                Evidence {
                    title: title.to_string(),
                    number: Some(number.to_string()),
                    issued_on: Some(chrono::NaiveDate::from_str(issued_on)?),
                    url: None,
                    file_id: Some(stored.id),
                },
            );
        }
        Ok(out)
    }

    /// Vĩnh Long's 2023 file, exactly as the seed letter's appendix, with a few real
    /// (illustrative) PDFs as evidence.
    async fn seed_file(
        &self,
        framework: &frameworks::LoadedFramework,
        unit_id: i64,
    ) -> Result<i64, anyhow::Error> {
        let seed = json(SEED)?;
        let appendix = seed["appendix"].as_array().cloned().unwrap_or_default();
        let restored = &seed["restored_by_council"];
        let mut files = self.seed_evidence(unit_id, framework.model.year).await?;
        let entries = framework
            .tree
            .leaves()
            .map(|c| {
                let from_seed = appendix.iter().find(|a| a["code"] == c.code.as_str());
                let inputs = match from_seed {
                    Some(a) => inputs(&a["self_inputs"]),
                    None if restored["code"] == c.code.as_str() => inputs(&restored["self_inputs"]),
                    None => {
                        inputs_for_max(c.method.as_ref().unwrap_or(&Method::Manual {}), c.max_score)
                    }
                };
                EntryInput {
                    criterion_code: c.code.clone(),
                    inputs: Some(inputs),
                    evidence: files.remove(c.code.as_str()).into_iter().collect(),
                    ..Default::default()
                }
            })
            .collect();
        // 7.3.1 and 7.3.2 were "trích từ hệ thống QLVB tỉnh": fed from the document
        // system as indicator values (they land as the council's inputs at submission).
        let fed: Vec<&Value> = appendix
            .iter()
            .filter(|a| {
                framework
                    .tree
                    .get(a["code"].as_str().unwrap_or_default())
                    .is_some_and(|c| c.indicator_code.is_some())
            })
            .collect();
        let unit_code = entity::unit::Entity::find_by_id(unit_id)
            .one(&self.state.db)
            .await?
            .map(|u| u.code)
            .unwrap_or_default();
        let rows = fed
            .iter()
            .enumerate()
            .map(|(i, a)| IndicatorRow {
                at: format!("rows[{i}]"),
                unit_code: unit_code.clone(),
                criterion_code: a["code"].as_str().unwrap_or_default().to_string(),
                inputs: inputs(&a["council_inputs"]),
                source_system: QLVB.to_string(),
                period_from: None,
                period_to: None,
                retrieved_at: chrono::DateTime::parse_from_rfc3339("2023-12-05T08:00:00+07:00")
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_default(),
                document_ref: None,
            })
            .collect::<Vec<_>>();
        if !rows.is_empty() {
            feed::import(
                &self.state.db,
                &self.actor,
                framework.model.id,
                rows,
                parindex_service::services::indicators::Feed::Indicator,
                false,
            )
            .await
            .map_err(err)?;
        }
        let mut council: Vec<EntryInput> = appendix
            .iter()
            .filter(|a| !fed.iter().any(|f| f["code"] == a["code"]))
            .map(|a| EntryInput {
                criterion_code: a["code"].as_str().unwrap_or_default().to_string(),
                inputs: (!a["council_inputs"].is_null()).then(|| inputs(&a["council_inputs"])),
                text: a["comment"].as_str().map(str::to_string),
                ..Default::default()
            })
            .collect();
        council.push(EntryInput {
            criterion_code: restored["code"].as_str().unwrap_or_default().to_string(),
            inputs: Some(inputs(&restored["council_inputs"])),
            ..Default::default()
        });
        let bonus = dec(&seed["bonus"]).unwrap_or_default();
        let reason = seed["bonus_reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.file(framework, unit_id, entries, council, bonus, &reason)
            .await
    }
}

/// Loads the demo district; returns false when it is already there.
// Long by nature: the demo district is built step by step, as a script reads.
pub async fn load(state: &AppState) -> Result<bool, anyhow::Error> {
    let db = &state.db;
    let district_data = json(DISTRICT)?;
    let district_code = district_data["district"]["code"].as_str().unwrap_or("464");
    if unit::Entity::find()
        .filter(unit::Column::Code.eq(district_code))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let actor = Principal::system("cli:demo-data");
    let mut loader = Loader {
        state,
        actor: actor.clone(),
        paperwork: None,
        agencies: Vec::new(),
    };

    let province = units::create_unit(
        db,
        &actor,
        NewUnit {
            code: district_data["province"]["code"]
                .as_str()
                .unwrap_or("45")
                .to_string(),
            name: district_data["province"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind: UnitKind::Province,
            parent_id: None,
        },
    )
    .await
    .map_err(err)?;
    let district = units::create_unit(
        db,
        &actor,
        NewUnit {
            code: district_code.to_string(),
            name: district_data["district"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind: UnitKind::District,
            parent_id: Some(province.id),
        },
    )
    .await
    .map_err(err)?;
    let mut communes = Vec::new();
    for u in district_data["units"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let created = units::create_unit(
            db,
            &actor,
            NewUnit {
                code: u["code"].as_str().unwrap_or_default().to_string(),
                name: u["name"].as_str().unwrap_or_default().to_string(),
                kind: if u["kind"] == "town" {
                    UnitKind::Town
                } else {
                    UnitKind::Commune
                },
                parent_id: Some(district.id),
            },
        )
        .await
        .map_err(err)?;
        communes.push((u, created));
    }
    let vinh_long = communes
        .iter()
        .find(|(u, _)| u["2023"] == "seed")
        .map(|(_, c)| c.clone())
        .ok_or_else(|| anyhow::anyhow!("the demo has no seed commune"))?;

    for (username, role, _, full_name) in DEMO_ACCOUNTS {
        accounts::create_user(
            state,
            &actor,
            NewUser {
                username: username.to_string(),
                password: std::env::var("PARINDEX_DEMO_PASSWORD")
                    .unwrap_or_else(|_| DEMO_PASSWORD.to_string()),
                full_name: full_name.to_string(),
                role,
                unit_id: Some(if matches!(role, Role::UnitOfficer | Role::UnitLeader) {
                    vinh_long.id
                } else {
                    district.id
                }),
                email: None,
            },
        )
        .await
        .map_err(err)?;
    }
    let as_user = |username: &str, role: Role| {
        let username = username.to_string();
        let unit = units::unit_ref(&vinh_long);
        async move {
            let id = entity::user::Entity::find()
                .filter(entity::user::Column::Username.eq(username.clone()))
                .one(db)
                .await?
                .map(|u| u.id)
                .ok_or_else(|| anyhow::anyhow!("no demo account {username}"))?;
            Ok::<_, anyhow::Error>(Principal {
                user_id: id,
                username,
                role,
                unit: Some(unit),
                agency: false,
                request_id: None,
                key: None,
            })
        }
    };
    loader.paperwork = Some(Paperwork {
        unit_id: vinh_long.id,
        year: 2023,
        leader: as_user("vinhlong.chutich", Role::UnitLeader).await?,
        officer: as_user("vinhlong.vanphong", Role::UnitOfficer).await?,
    });
    let seed_plan = SeedPlan::load()?;
    let mut officers = HashMap::new();
    for o in &seed_plan.officers {
        let s = units::create_staff(
            db,
            &actor,
            vinh_long.id,
            NewStaff {
                full_name: o.full_name.clone(),
                title: o.title.clone(),
                user_id: None,
                email: None,
                phone: None,
            },
        )
        .await
        .map_err(err)?;
        officers.insert(o.key.as_str(), s.id);
    }

    let any = Precondition::any();
    let f2023 = frameworks::create_framework(db, &actor, spec(2023, district.id)?)
        .await
        .map_err(err)?;
    let f2023 = frameworks::publish(db, &actor, f2023.model.id, &any)
        .await
        .map_err(err)?;
    let f2022 = frameworks::create_framework(db, &actor, spec(2022, district.id)?)
        .await
        .map_err(err)?;
    let f2022 = frameworks::publish(db, &actor, f2022.model.id, &any)
        .await
        .map_err(err)?;
    // The 2024 campaign: the year-end scoring the seed letter's remediation deadlines
    // (31/10 and 15/12/2024) prepare for; its other dates are illustrative, and say so.
    let f2024 = frameworks::create_framework(
        db,
        &actor,
        FrameworkSpec {
            submission_deadline: NaiveDate::from_ymd_opt(2024, 12, 31),
            campaign: campaign_2024()?,
            ..spec(2024, district.id)?
        },
    )
    .await
    .map_err(err)?;
    frameworks::publish(db, &actor, f2024.model.id, &any)
        .await
        .map_err(err)?;

    let decimal = |v: &Value| dec(v).unwrap_or_default();
    let mut seed_appraisal = None;
    for (u, c) in &communes {
        loader
            .quick_file(
                &f2022,
                c.id,
                decimal(&u["2022"]["appraised"]),
                decimal(&u["2022"]["bonus"]),
            )
            .await?;
        if u["2023"] == "seed" {
            seed_appraisal = Some(loader.seed_file(&f2023, c.id).await?);
        } else {
            loader
                .quick_file(
                    &f2023,
                    c.id,
                    decimal(&u["2023"]["appraised"]),
                    decimal(&u["2023"]["bonus"]),
                )
                .await?;
        }
    }
    // The district's results notices; the seed cites 2023's.
    for (year, decision_number, decided_on) in [
        (2022, None, None),
        (
            2023,
            Some("4006/TB-HĐTĐ"),
            NaiveDate::from_ymd_opt(2023, 12, 29),
        ),
    ] {
        results::publish(
            db,
            &actor,
            results::PublishRequest {
                parent_unit_id: district.id,
                year,
                decision_number: decision_number.map(str::to_string),
                decided_on,
            },
        )
        .await
        .map_err(err)?;
    }

    // Vĩnh Long's remediation plan, as the seed letter writes it: each appendix row with
    // its officers, bodies and own deadlines, then the letter's tasks.
    let appraisal = seed_appraisal.ok_or_else(|| anyhow::anyhow!("no seed appraisal"))?;
    let plan = remediation::create_plan(db, &actor, appraisal, Vec::new())
        .await
        .map_err(err)?;
    let seed = json(SEED)?;
    let action_of = |code: &str| {
        seed["appendix"].as_array().and_then(|rows| {
            rows.iter()
                .find(|a| a["code"] == code)
                .and_then(|a| a["responsible_action"].as_str())
                .map(str::to_string)
        })
    };
    for planned in &seed_plan.items {
        let code = planned.code.as_deref().unwrap_or_default();
        let item = plan
            .items
            .iter()
            .find(|i| i.item.criterion_code.as_deref() == Some(code))
            .ok_or_else(|| anyhow::anyhow!("the seed plan's {code} lost no points"))?;
        remediation::update_item(
            db,
            &actor,
            item.item.id,
            ItemPatch {
                action: Some(action_of(code)),
                officers: Some(planned.assignments(&officers)?),
                bodies: Some(planned.bodies.clone()),
                milestones: Some(seed_plan.milestones_of(planned)),
                recurrence: Some(planned.recurrence.clone()),
                target: Some(planned.target.clone()),
                ..Default::default()
            },
            &any,
        )
        .await
        .map_err(err)?;
    }
    for task in &seed_plan.tasks {
        remediation::add_item(
            db,
            &actor,
            plan.plan.id,
            NewItem {
                title: task.title.clone().unwrap_or_default(),
                action: None,
                officers: task.assignments(&officers)?,
                bodies: task.bodies.clone(),
                milestones: seed_plan.milestones_of(task),
                recurrence: task.recurrence.clone(),
                target: task.target.clone(),
            },
        )
        .await
        .map_err(err)?;
    }
    Ok(true)
}
