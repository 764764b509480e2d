//! A batch of entries, from the unit (its self-assessment) or from the council (its
//! appraisal), through one pipeline: every entry is checked against the framework and
//! scored first, and only when none is wrong are they written, each with its audit event,
//! in the caller's transaction. One bad entry and none is stored.
//!
//! The two sides differ only in what they may touch: the unit its self-scored leaves
//! (while returned, only the returned ones), its inputs, explanation and evidence; the
//! council any leaf, its own inputs (or a reset back to the unit's) and its comment.

use super::audit::{self, Change};
use super::frameworks::LoadedFramework;
use super::now;
use super::scoresheet::{self, Evidence};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError, Violations, text};
use crate::scoring::{CriterionDef, Inputs, LeafScore, Scorer, from_hundredths};
use entity::status::ReviewState;
use entity::{assessment_entry, self_assessment};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

pub use parindex_domain::Side;

/// One entry of a batch.
#[derive(Clone, Debug, Default)]
pub struct EntryInput {
    pub criterion_code: String,
    /// The raw figures. The council may send none to keep what the criterion has.
    pub inputs: Option<Inputs>,
    /// Council only: drop its inputs, so that the unit's apply again.
    pub reset: bool,
    /// The unit's explanation or the council's comment (`Some("")` clears a comment).
    pub text: Option<String>,
    /// Unit only: its evidence references.
    pub evidence: Vec<Evidence>,
    /// Council only: record the review of the leaf as it stands (an agency agrees with the
    /// figures; the consolidator confirms its agency's).
    pub confirm: bool,
    /// Council only: why the consolidator replaces a score its agency entered.
    pub override_reason: Option<String>,
}

/// What a write sends: entries as given (JSON), or a workbook's leaves, of which only those
/// that differ from what is stored are written (a workbook uploaded unchanged writes
/// nothing).
pub enum Batch {
    Entries(Vec<EntryInput>),
    Workbook(Vec<crate::workbook::ReadLeaf>),
}

impl Batch {
    /// The entries to write: a workbook's leaves against the stored entries (`existing`).
    /// A workbook keeps each entry's evidence (it shows it, read-only) and cannot delete
    /// a unit's inputs; a council's emptied inputs go back to the unit's.
    pub fn entries(
        self,
        side: Side,
        framework: &LoadedFramework,
        existing: &HashMap<String, scoresheet::Entry>,
    ) -> ApiResult<Vec<EntryInput>> {
        let leaves = match self {
            Batch::Entries(entries) => return Ok(entries),
            Batch::Workbook(leaves) => leaves,
        };
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for leaf in leaves {
            let e = existing.get(&leaf.code);
            let self_scored = framework
                .tree
                .get(&leaf.code)
                .is_some_and(|c| c.scorer == Scorer::SelfAssessed);
            match side {
                Side::Unit => {
                    let stored = e.and_then(|e| e.self_inputs.clone());
                    let text = e.and_then(|e| e.model.explanation.clone());
                    match (&leaf.inputs, &stored) {
                        (None, Some(_)) => errors.push(crate::workbook::cleared(side, &leaf)),
                        (None, None) if leaf.text.is_some() => {
                            errors.push(crate::workbook::text_without_inputs(side, &leaf))
                        }
                        (None, None) => {}
                        (Some(_), _) if leaf.inputs == stored && leaf.text == text => {}
                        (Some(_), _) => out.push(EntryInput {
                            criterion_code: leaf.code,
                            inputs: leaf.inputs,
                            reset: false,
                            text: leaf.text,
                            evidence: e.map(|e| e.evidence.clone()).unwrap_or_default(),
                            ..Default::default()
                        }),
                    }
                }
                Side::Council => {
                    if let Some(problem) = crate::workbook::unit_cells_changed(
                        &leaf,
                        e.and_then(|e| e.self_inputs.as_ref()),
                    ) {
                        errors.push(problem);
                        continue;
                    }
                    let stored = e.and_then(|e| e.appraised_inputs.clone());
                    let comment = e.and_then(|e| e.model.comment.clone());
                    let (inputs, reset) = match (&leaf.inputs, &stored) {
                        (a, b) if a == b => (None, false),
                        (None, _) if self_scored => (None, true),
                        (None, _) => {
                            errors.push(crate::workbook::cleared(side, &leaf));
                            continue;
                        }
                        (Some(_), _) => (leaf.inputs.clone(), false),
                    };
                    let text =
                        (leaf.text != comment).then(|| leaf.text.clone().unwrap_or_default());
                    if inputs.is_some() || reset || text.is_some() {
                        out.push(EntryInput {
                            criterion_code: leaf.code,
                            inputs,
                            reset,
                            text,
                            evidence: Vec::new(),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// An entry that passed every check, scored.
struct Prepared {
    code: String,
    inputs: Option<Inputs>,
    score: Option<LeafScore>,
    reset: bool,
    text: Option<String>,
    evidence: Vec<Evidence>,
    confirm: bool,
    override_reason: Option<String>,
}

impl Prepared {
    /// A decision on the leaf's figures (not a comment alone): it records the review.
    fn decides(&self) -> bool {
        self.inputs.is_some() || self.reset || self.confirm
    }
}

/// Who enters the council's figures: the review state each leaf gets follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reviewer {
    /// A field appraiser of this agency: its criteria only; they become `scored`.
    Agency(i64),
    /// The consolidating appraisers: any criterion; it becomes `confirmed`, and replacing
    /// the figures an agency scored needs a reason.
    Consolidator,
}

/// What the batch may touch.
pub struct Scope<'a> {
    pub side: Side,
    pub framework: &'a LoadedFramework,
    /// The best accepted relative-to-best values of the siblings (`scoresheet::bests`).
    pub best: &'a HashMap<String, Decimal>,
    /// While a file is returned: the only criteria the unit may change.
    pub editable: Option<&'a HashSet<String>>,
    /// The council's side: who writes (the unit's side: `None`).
    pub reviewer: Option<Reviewer>,
    /// The unit's side: leaves an indicator fed on the unit's side, which it cannot change.
    pub fed: Option<&'a HashSet<String>>,
    /// The council's side: the values fed from other systems (indicators, surveys), by
    /// leaf. Writing other figures on such a leaf corrects the feed: it needs a reason,
    /// kept with the fed score (`override_reason`, `overridden_score`).
    pub fed_values: Option<&'a HashMap<String, Inputs>>,
}

/// The leaf a batch entry names, or the field error saying why it cannot be scored here.
fn leaf<'f>(scope: &Scope<'f>, field: &str, code: &str) -> Result<&'f CriterionDef, FieldError> {
    let tree = &scope.framework.tree;
    let Some(def) = tree.get(code).filter(|_| tree.is_leaf(code)) else {
        let why = if tree.get(code).is_some() {
            text!(
                "{code} is not a leaf: score its sub-criteria",
                "{code} không phải tiêu chí lá: hãy chấm các tiêu chí con"
            )
        } else {
            text!(
                "{code} is not a criterion of this framework",
                "{code} không phải tiêu chí của bộ tiêu chí này"
            )
        };
        return Err(FieldError::new(
            format!("{field}.criterion_code"),
            "unknown_criterion",
            why,
        ));
    };
    if scope.side == Side::Unit && def.scorer != Scorer::SelfAssessed {
        let (by, by_vi) = if def.scorer == Scorer::Survey {
            ("survey", "kết quả điều tra")
        } else {
            ("council", "hội đồng thẩm định")
        };
        return Err(FieldError::new(
            format!("{field}.criterion_code"),
            "not_self_scored",
            text!(
                "{code} is scored by the {by}: it is entered at appraisal",
                "{code} do {by_vi} chấm: được nhập khi thẩm định"
            ),
        ));
    }
    Ok(def)
}

/// Checks and scores one entry (its leaf already found).
fn prepare_one(
    scope: &Scope<'_>,
    field: &str,
    def: &CriterionDef,
    item: EntryInput,
) -> Result<Prepared, Vec<FieldError>> {
    let code = def.code.clone();
    if item.reset {
        let problem = match scope.side {
            Side::Unit => Some((
                "unexpected_input",
                text!(
                    "only the council resets its inputs",
                    "chỉ hội đồng mới đặt lại số liệu của mình"
                ),
            )),
            Side::Council if item.inputs.is_some() => Some((
                "conflicting_input",
                text!(
                    "send either inputs or reset",
                    "chỉ gửi inputs hoặc reset, không gửi cả hai"
                ),
            )),
            Side::Council if def.scorer != Scorer::SelfAssessed => Some((
                "not_self_scored",
                text!(
                    "{code} has no unit inputs to fall back on",
                    "{code} không có số liệu của đơn vị để dùng lại"
                ),
            )),
            Side::Council => None,
        };
        if let Some((c, message)) = problem {
            return Err(vec![FieldError::new(format!("{field}.reset"), c, message)]);
        }
    }
    let score = match &item.inputs {
        Some(inputs) => Some(
            scoresheet::score_input(def, inputs, scope.best.get(&code).copied(), field)
                .map_err(|e| vec![e])?,
        ),
        None if scope.side == Side::Unit => {
            // The unit always enters something: what its method needs.
            let empty = Inputs::default();
            Some(scoresheet::score_input(def, &empty, None, field).map_err(|e| vec![e])?)
        }
        None => None,
    };
    let mut v = Violations::new();
    if scope.side == Side::Unit && (item.confirm || item.override_reason.is_some()) {
        v.add(
            format!("{field}.confirm"),
            "unexpected_input",
            text!(
                "only the council confirms or overrides a criterion",
                "chỉ hội đồng mới xác nhận hoặc thay đổi điểm của tiêu chí"
            ),
        );
    }
    let override_reason = crate::validation::optional_text(
        &mut v,
        &format!("{field}.override_reason"),
        item.override_reason.as_deref(),
        2000,
    );
    let text = match scope.side {
        Side::Unit => crate::validation::optional_text(
            &mut v,
            &format!("{field}.explanation"),
            item.text.as_deref(),
            5000,
        ),
        // `Some("")` clears the comment: keep it empty rather than absent.
        Side::Council => item.text.as_deref().map(|c| {
            crate::validation::text(&mut v, &format!("{field}.comment"), c, 5000, false)
                .unwrap_or_default()
        }),
    };
    let mut errors = v.into_vec();
    let evidence =
        scoresheet::check_evidence(&format!("{field}.evidence"), &item.evidence, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Prepared {
        code,
        inputs: item.inputs,
        score,
        reset: item.reset,
        text,
        evidence,
        confirm: item.confirm,
        override_reason,
    })
}

/// Checks and scores a whole batch: every problem at once (422), or the criteria of a
/// returned file that were not returned (409).
fn prepare(scope: &Scope<'_>, batch: Vec<EntryInput>) -> ApiResult<Vec<Prepared>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut not_returned = Vec::new();
    let mut not_assigned = Vec::new();
    let mut prepared = Vec::new();
    for (i, mut item) in batch.into_iter().enumerate() {
        let field = format!("entries[{i}]");
        let code = item.criterion_code.trim().to_string();
        if !seen.insert(code.clone()) {
            errors.push(FieldError::new(
                format!("{field}.criterion_code"),
                "duplicate",
                text!(
                    "{code} appears twice in the batch",
                    "{code} xuất hiện hai lần trong lô"
                ),
            ));
            continue;
        }
        let def = match leaf(scope, &field, &code) {
            Ok(def) => def,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(editable) = scope.editable
            && !editable.contains(&code)
        {
            not_returned.push(code);
            continue;
        }
        if scope.side == Side::Unit
            && let Some(fed) = scope.fed
            && fed.contains(&code)
        {
            errors.push(FieldError::new(
                format!("{field}.criterion_code"),
                "fed_from_indicator",
                text!(
                    "{code} is fed from another system's indicator: the unit cannot change it",
                    "{code} lấy số liệu từ hệ thống khác: đơn vị không sửa được"
                ),
            ));
            continue;
        }
        if let Some(Reviewer::Agency(agency)) = scope.reviewer
            && scope.framework.tree.appraiser_of(&code) != Some(agency)
        {
            not_assigned.push(code);
            continue;
        }
        item.criterion_code = code;
        match prepare_one(scope, &field, def, item) {
            Ok(p) => prepared.push(p),
            Err(e) => errors.extend(e),
        }
    }
    if !not_assigned.is_empty() {
        return Err(ApiError::forbidden(text!(
            "this account appraises only the criteria assigned to its agency; not: {}",
            "tài khoản này chỉ thẩm định các tiêu chí giao cho cơ quan của mình; không được: {}",
            not_assigned.join(", ")
        )));
    }
    if !not_returned.is_empty() {
        return Err(ApiError::conflict(
            "criteria_not_returned",
            text!(
                "the file was returned for supplementation of other criteria; these cannot change: {}",
                "hồ sơ bị trả lại để bổ sung các tiêu chí khác; không được sửa các tiêu chí: {}",
                not_returned.join(", ")
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(prepared)
}

/// What the trail records of one side of an entry.
fn describe(side: Side, e: &assessment_entry::Model) -> Value {
    let parse = |t: &Option<String>| {
        t.as_ref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
    };
    match side {
        Side::Unit => json!({
            "inputs": parse(&e.self_inputs),
            "score": e.self_score_x100.map(from_hundredths),
            "text": e.explanation,
            "evidence": serde_json::from_str::<Value>(&e.evidence).unwrap_or_default(),
        }),
        Side::Council => json!({
            "inputs": parse(&e.appraised_inputs),
            "score": e.appraised_score_x100.map(from_hundredths),
            "not_applicable": e.appraised_not_applicable,
            "comment": e.comment,
            "review_state": e.review_state,
            "reviewed_by": e.reviewed_by,
            "overridden_score": e.overridden_score_x100.map(from_hundredths),
            "override_reason": e.override_reason,
        }),
    }
}

/// Applies one prepared entry to its row (new or existing).
fn apply(side: Side, p: &Prepared, am: &mut assessment_entry::ActiveModel) -> ApiResult<()> {
    let inputs_text = p
        .inputs
        .as_ref()
        .map(|i| serde_json::to_string(i).map_err(ApiError::internal))
        .transpose()?;
    let score = p.score.and_then(scoresheet::stored);
    let not_applicable = matches!(p.score, Some(LeafScore::NotApplicable));
    match side {
        Side::Unit => {
            am.self_inputs = Set(inputs_text);
            am.self_score_x100 = Set(score);
            am.self_not_applicable = Set(not_applicable);
            am.explanation = Set(p.text.clone());
            am.evidence = Set(serde_json::to_string(&p.evidence).map_err(ApiError::internal)?);
            // New figures from the unit (a returned criterion supplemented) wait for the
            // council's review again.
            am.review_state = Set(ReviewState::Pending);
            am.reviewed_by = Set(None);
            am.reviewed_at = Set(None);
        }
        Side::Council => {
            if p.reset {
                am.appraised_inputs = Set(None);
                am.appraised_score_x100 = Set(None);
                am.appraised_not_applicable = Set(false);
            } else if inputs_text.is_some() {
                am.appraised_inputs = Set(inputs_text);
                am.appraised_score_x100 = Set(score);
                am.appraised_not_applicable = Set(not_applicable);
            }
            if let Some(c) = &p.text {
                am.comment = Set(Some(c.clone()).filter(|c| !c.is_empty()));
            }
        }
    }
    am.updated_at = Set(now());
    Ok(())
}

/// What a council decision records of the leaf's review.
struct Review {
    state: ReviewState,
    /// The agency's score the consolidator replaced (stored hundredths), and why.
    overridden: Option<(Option<i64>, String)>,
}

impl Review {
    fn apply(&self, actor: &Principal, am: &mut assessment_entry::ActiveModel) {
        am.review_state = Set(self.state);
        am.reviewed_by = Set(Some(actor.user_id).filter(|id| *id > 0));
        am.reviewed_at = Set(Some(now()));
        if let Some((score, reason)) = &self.overridden {
            am.overridden_score_x100 = Set(*score);
            am.override_reason = Set(Some(reason.clone()));
        }
    }
}

/// The review each decision of the batch records, checked against the leaves as stored:
/// an agency cannot change what the consolidator confirmed (409), and the consolidator
/// replaces the figures an agency scored only with a reason (422), both values kept.
// Long by nature: each reviewer's rules for each decision, every refusal named.
fn reviews(
    framework: &LoadedFramework,
    reviewer: Reviewer,
    fed_values: Option<&HashMap<String, Inputs>>,
    prepared: &[Prepared],
    existing: &HashMap<String, scoresheet::Entry>,
) -> ApiResult<HashMap<String, Review>> {
    let mut out = HashMap::new();
    let mut confirmed = Vec::new();
    let mut errors = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        if !p.decides() {
            continue;
        }
        let stored = existing.get(&p.code).map(|e| &e.model);
        let state = stored.map_or(ReviewState::Pending, |m| m.review_state);
        let changes_figures = p.inputs.is_some() || p.reset;
        // Figures other than the value fed from another system correct the feed.
        let corrects_feed = changes_figures
            && fed_values
                .and_then(|f| f.get(&p.code))
                .is_some_and(|fed| p.reset || p.inputs.as_ref() != Some(fed));
        let agency_scored = reviewer == Reviewer::Consolidator
            && changes_figures
            && state == ReviewState::Scored
            && framework.tree.appraiser_of(&p.code).is_some();
        if matches!(reviewer, Reviewer::Agency(_)) && state == ReviewState::Confirmed {
            confirmed.push(p.code.clone());
            continue;
        }
        let overridden = match (agency_scored || corrects_feed, &p.override_reason) {
            (true, Some(reason)) => {
                let score = stored.and_then(|m| {
                    if m.appraised_inputs.is_some() {
                        m.appraised_score_x100
                    } else {
                        m.self_score_x100
                    }
                });
                Some((score, reason.clone()))
            }
            (true, None) => {
                let code = &p.code;
                let why = if corrects_feed {
                    text!(
                        "{code} was fed from another system: correcting its figures needs a reason",
                        "{code} lấy số liệu từ hệ thống khác: điều chỉnh số liệu cần nêu lý do"
                    )
                } else {
                    text!(
                        "{code} was scored by its agency: replacing its figures needs a reason",
                        "{code} đã được cơ quan chủ trì chấm: thay đổi điểm cần nêu lý do"
                    )
                };
                errors.push(FieldError::new(
                    format!("entries[{i}].override_reason"),
                    "required",
                    why,
                ));
                continue;
            }
            (false, _) => None,
        };
        let review = Review {
            state: match reviewer {
                Reviewer::Agency(_) => ReviewState::Scored,
                Reviewer::Consolidator => ReviewState::Confirmed,
            },
            overridden,
        };
        out.insert(p.code.clone(), review);
    }
    if !confirmed.is_empty() {
        return Err(ApiError::conflict(
            "review_confirmed",
            text!(
                "the consolidating appraisers already confirmed: {}",
                "bộ phận tổng hợp đã xác nhận các tiêu chí: {}",
                confirmed.join(", ")
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(out)
}

/// A row for a criterion nobody has entered yet.
fn blank(sa: &self_assessment::Model, code: &str) -> assessment_entry::ActiveModel {
    assessment_entry::ActiveModel {
        self_assessment_id: Set(sa.id),
        criterion_code: Set(code.to_string()),
        self_inputs: Set(None),
        self_score_x100: Set(None),
        self_not_applicable: Set(false),
        explanation: Set(None),
        evidence: Set("[]".to_string()),
        appraised_inputs: Set(None),
        appraised_score_x100: Set(None),
        appraised_not_applicable: Set(false),
        comment: Set(None),
        final_score_x100: Set(None),
        deduction_x100: Set(None),
        review_state: Set(ReviewState::Pending),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        overridden_score_x100: Set(None),
        override_reason: Set(None),
        updated_at: Set(now()),
        ..Default::default()
    }
}

/// Checks the whole batch, then writes every entry of the file `sa` with its audit event.
pub async fn write_batch<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    sa: &self_assessment::Model,
    scope: &Scope<'_>,
    batch: Vec<EntryInput>,
) -> ApiResult<()> {
    let named: Vec<(String, i64)> = batch
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            super::evidence::named_files(&format!("entries[{i}].evidence"), &e.evidence)
        })
        .collect();
    let prepared = prepare(scope, batch)?;
    super::evidence::check_file_ids(conn, sa.unit_id, &named).await?;
    let existing = scoresheet::load_entries(conn, sa.id).await?;
    let (action, results_year) = match scope.side {
        Side::Unit => ("self_assess", None),
        Side::Council => ("appraise", Some(sa.year)),
    };
    // Every entry as its whole new row (the stored one, or a blank, with the batch applied),
    // written in one statement; then every audit event in one more.
    let reviews = match scope.reviewer {
        Some(reviewer) => reviews(
            scope.framework,
            reviewer,
            scope.fed_values,
            &prepared,
            &existing,
        )?,
        None => HashMap::new(),
    };
    let mut rows = Vec::with_capacity(prepared.len());
    let mut olds = HashMap::with_capacity(prepared.len());
    for p in &prepared {
        let mut am = match existing.get(&p.code) {
            Some(e) => {
                olds.insert(p.code.clone(), describe(scope.side, &e.model));
                e.model.clone().into()
            }
            None => blank(sa, &p.code),
        };
        apply(scope.side, p, &mut am)?;
        if let Some(review) = reviews.get(&p.code) {
            review.apply(actor, &mut am);
        }
        rows.push(am);
    }
    let written: HashMap<String, assessment_entry::Model> = store_rows(conn, rows, WRITABLE)
        .await?
        .into_iter()
        .map(|m| (m.criterion_code.clone(), m))
        .collect();
    let mut changes = Vec::with_capacity(prepared.len());
    for p in &prepared {
        let written = written.get(&p.code).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("entry {} was not written", p.code))
        })?;
        let mut new = describe(scope.side, written);
        new["criterion_code"] = json!(p.code);
        changes.push(Change {
            entity: "assessment_entry",
            entity_id: written.id,
            action: match reviews.get(&p.code) {
                Some(Review {
                    overridden: Some(_),
                    ..
                }) => "appraise_override",
                _ if p.reset => "appraise_reset",
                _ => action,
            },
            unit_id: Some(sa.unit_id),
            results_year,
            old: olds.remove(&p.code),
            new: Some(new),
        });
    }
    audit::record_all(conn, actor, changes).await?;
    Ok(())
}

/// The columns a batch of entries may change (all but the row's identity).
const WRITABLE: &[assessment_entry::Column] = {
    use assessment_entry::Column as C;
    &[
        C::SelfInputs,
        C::SelfScoreX100,
        C::SelfNotApplicable,
        C::Explanation,
        C::Evidence,
        C::AppraisedInputs,
        C::AppraisedScoreX100,
        C::AppraisedNotApplicable,
        C::Comment,
        C::FinalScoreX100,
        C::DeductionX100,
        C::ReviewState,
        C::ReviewedBy,
        C::ReviewedAt,
        C::OverriddenScoreX100,
        C::OverrideReason,
        C::UpdatedAt,
    ]
};

/// Writes whole entry rows of one file at once: each is inserted, or, when its criterion
/// already has a row, that row's `columns` are set from it (`ON CONFLICT` on the unique
/// file and criterion). One statement for a whole framework's leaves; the rows as stored.
pub async fn store_rows<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<assessment_entry::ActiveModel>,
    columns: &[assessment_entry::Column],
) -> ApiResult<Vec<assessment_entry::Model>> {
    use sea_orm::sea_query::OnConflict;
    let mut rows = rows;
    for row in &mut rows {
        // The file and criterion identify the row; an id would conflict first.
        row.id = sea_orm::ActiveValue::NotSet;
    }
    let mut stored = Vec::with_capacity(rows.len());
    for chunk in super::statement_batches(rows, row_bytes) {
        let written = assessment_entry::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([
                    assessment_entry::Column::SelfAssessmentId,
                    assessment_entry::Column::CriterionCode,
                ])
                .update_columns(columns.iter().copied())
                .to_owned(),
            )
            .exec_with_returning(conn)
            .await?;
        stored.extend(written);
    }
    Ok(stored)
}

/// Roughly what an entry row weighs in a statement: its texts, and the rest.
fn row_bytes(row: &assessment_entry::ActiveModel) -> usize {
    let text = |v: &sea_orm::ActiveValue<String>| v.try_as_ref().map_or(0, String::len);
    let optional = |v: &sea_orm::ActiveValue<Option<String>>| {
        v.try_as_ref()
            .and_then(Option::as_ref)
            .map_or(0, String::len)
    };
    128 + text(&row.criterion_code)
        + text(&row.evidence)
        + optional(&row.self_inputs)
        + optional(&row.explanation)
        + optional(&row.appraised_inputs)
        + optional(&row.comment)
}
