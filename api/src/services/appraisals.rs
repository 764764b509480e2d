//! Appraisals by the district council: its own inputs, scores and comments per criterion
//! (untouched criteria keep the unit's inputs), returns for supplementation, bonus points,
//! and finalization, which stores the totals, the index, the band and each deduction.
//!
//! Workflow: `pending` (submitted, not started) → `in_progress` → `finalized`; a finalized
//! appraisal changes only through an audited reopen by an admin.

use super::assessments::{self as sa_service};
use super::audit::{self, Change};
use super::entries::{self, Batch, EntryInput, Scope, Side};
use super::frameworks::{self, LoadedFramework};
use super::now;
use super::scope::{Reach, scoped};
use super::scoresheet::{self, Entry};
use super::units::{find_unit, unit_ref};
use super::versioned::{Precondition, Versioned, Write};
use super::visibility;
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError, text};
use crate::scoring::decimal::has_more_places_than;
use crate::scoring::settle::settle;
use crate::scoring::{LeafScore, Scorer, band_for, from_hundredths, to_hundredths};
use crate::workflow::{self, AppraisalEvent, FileEvent};
use entity::status::AppraisalStatus;
use entity::{appraisal, appraisal_round, assessment_entry, self_assessment, unit};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use std::collections::HashMap;

/// An appraisal with everything needed to show it.
#[derive(Clone, Debug)]
pub struct AppraisalView {
    pub model: appraisal::Model,
    pub self_assessment: self_assessment::Model,
    pub unit: unit::Model,
    pub framework: LoadedFramework,
    pub entries: HashMap<String, Entry>,
    pub rounds: Vec<appraisal_round::Model>,
    /// Effective leaf scores (council's inputs where entered, else the unit's).
    pub scores: HashMap<String, LeafScore>,
    pub self_scores: HashMap<String, LeafScore>,
    pub totals: crate::scoring::totals::Totals,
    pub self_totals: crate::scoring::totals::Totals,
    /// Leaves nobody has scored yet.
    pub unscored: Vec<String>,
    /// Whether the reader may see the results (the council's side, totals, index): false
    /// for a unit's officers and viewers before publication (`visibility`).
    pub results_visible: bool,
}

impl AppraisalView {
    pub fn bonus(&self) -> Decimal {
        from_hundredths(self.model.bonus_x100)
    }

    pub fn is_finalized(&self) -> bool {
        self.model.status == AppraisalStatus::Finalized
    }

    /// Stored at finalization; computed live before.
    pub fn appraised_total(&self) -> Decimal {
        if self.is_finalized() {
            from_hundredths(self.model.appraised_total_x100)
        } else {
            self.totals.total
        }
    }

    pub fn self_total(&self) -> Decimal {
        match self.model.self_total_x100 {
            Some(t) if self.is_finalized() => from_hundredths(t),
            _ => self.self_totals.total,
        }
    }

    pub fn index(&self) -> Decimal {
        crate::scoring::round2(self.appraised_total() + self.bonus())
    }

    pub fn rating_band(&self) -> Option<String> {
        if self.is_finalized() {
            self.model.rating_band.clone()
        } else {
            band_for(&self.framework.bands, self.index()).map(str::to_string)
        }
    }

    /// Max − score of a leaf (stored at finalization; computed live before).
    pub fn deduction(&self, code: &str) -> Decimal {
        match self.entries.get(code).and_then(|e| e.model.deduction_x100) {
            Some(d) if self.is_finalized() => from_hundredths(d),
            _ => self
                .totals
                .by_code
                .get(code)
                .map(|t| t.deduction())
                .unwrap_or_default(),
        }
    }

    pub fn deduction_total(&self) -> Decimal {
        match self.model.deduction_total_x100 {
            Some(d) if self.is_finalized() => from_hundredths(d),
            _ => self
                .framework
                .tree
                .leaves()
                .map(|c| self.deduction(&c.code))
                .sum(),
        }
    }
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<appraisal::Model> {
    appraisal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "appraisal {id} does not exist",
                "không có kết quả thẩm định {id}"
            ))
        })
}

pub async fn view<C: ConnectionTrait>(
    conn: &C,
    model: appraisal::Model,
) -> ApiResult<AppraisalView> {
    let sa = sa_service::find(conn, model.self_assessment_id).await?;
    let u = find_unit(conn, model.unit_id).await?;
    let framework = frameworks::load(conn, model.framework_id).await?;
    let entries = scoresheet::load_entries(conn, sa.id).await?;
    let rounds = appraisal_round::Entity::find()
        .filter(appraisal_round::Column::AppraisalId.eq(model.id))
        .order_by_asc(appraisal_round::Column::Round)
        .all(conn)
        .await?;
    let best = scoresheet::bests(conn, &framework, u.parent_id, sa.id).await?;
    let (scores, unscored) = scoresheet::effective_scores(&framework, &entries, &best);
    let self_scores = scoresheet::self_scores(&framework, &entries, &best);
    let totals = scoresheet::total_of(&framework, &scores)?;
    let self_totals = scoresheet::total_of(&framework, &self_scores)?;
    Ok(AppraisalView {
        model,
        self_assessment: sa,
        unit: u,
        framework,
        entries,
        rounds,
        scores,
        self_scores,
        totals,
        self_totals,
        unscored,
        results_visible: true,
    })
}

pub async fn get(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<AppraisalView> {
    let a = find(db, id).await?;
    let u = find_unit(db, a.unit_id).await?;
    authorize(actor, Action::ReadAssessment, &unit_ref(&u))?;
    let results_visible = visibility::may_see_results(db, actor, &u, a.year).await?;
    Ok(AppraisalView {
        results_visible,
        ..view(db, a).await?
    })
}

pub struct AppraisalFilter {
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub year: Option<i32>,
    pub status: Option<AppraisalStatus>,
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: AppraisalFilter,
    page: u64,
    per_page: u64,
) -> ApiResult<(Vec<(appraisal::Model, bool)>, u64)> {
    let mut query = appraisal::Entity::find().order_by_asc(appraisal::Column::Id);
    query = scoped(query, actor, appraisal::Column::UnitId, Reach::Records);
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(appraisal::Column::UnitId.eq(unit_id));
    }
    if let Some(framework_id) = filter.framework_id {
        query = query.filter(appraisal::Column::FrameworkId.eq(framework_id));
    }
    if let Some(year) = filter.year {
        query = query.filter(appraisal::Column::Year.eq(year));
    }
    if let Some(status) = filter.status {
        query = query.filter(appraisal::Column::Status.eq(status));
    }
    let paginator = query.paginate(db, per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page - 1).await?;
    // Whether each row's results may be shown: one query for the units, one for the
    // publications of the years on the page.
    let units: HashMap<i64, unit::Model> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(items.iter().map(|a| a.unit_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let publications =
        visibility::Publications::of(db, items.iter().map(|a| (a.unit_id, a.year))).await?;
    let items = items
        .into_iter()
        .map(|a| {
            let visible = units
                .get(&a.unit_id)
                .is_some_and(|u| publications.may_see(actor, &unit_ref(u), a.year));
            (a, visible)
        })
        .collect();
    Ok((items, total))
}

/// Loads for a council action: access, the caller's precondition, and that the state
/// machine lets the council work on it (not finalized).
async fn load_for_council<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
    precondition: &Precondition,
) -> ApiResult<(appraisal::Model, self_assessment::Model)> {
    let a = find(conn, id).await?;
    let u = find_unit(conn, a.unit_id).await?;
    authorize(actor, Action::Appraise, &unit_ref(&u))?;
    precondition.check(appraisal::Entity::KIND, a.id, a.version)?;
    workflow::appraisal(a.status, AppraisalEvent::Work)?;
    let sa = sa_service::find(conn, a.self_assessment_id).await?;
    Ok((a, sa))
}

/// Appraisal status JSON for the audit trail.
fn appraisal_json(a: &appraisal::Model) -> serde_json::Value {
    json!({
        "status": a.status,
        "appraised_total": from_hundredths(a.appraised_total_x100),
        "bonus": from_hundredths(a.bonus_x100),
        "bonus_reason": a.bonus_reason,
        "index": a.index_x100.map(from_hundredths),
        "rating_band": a.rating_band,
    })
}

crate::versioned!(
    appraisal,
    kind = "appraisal",
    audit = "appraisal",
    unit_id = |m| Some(m.unit_id),
    results_year = |m| Some(m.year),
    describe = |_conn, m| Ok(appraisal_json(m)),
);

/// Moves an appraisal on `event` (the state machine decides), with `changes`, audited as
/// `action` (unrecorded when `action` is `None`: the change is recorded by its parts).
async fn transition<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    a: &appraisal::Model,
    event: AppraisalEvent,
    mut changes: appraisal::ActiveModel,
    action: Option<&str>,
    details: Option<serde_json::Value>,
) -> ApiResult<appraisal::Model> {
    let to = workflow::appraisal(a.status, event)?;
    changes.status = Set(to);
    let write = Write::<appraisal::Entity>::begin(conn, actor, a, &Precondition::any()).await?;
    match action {
        Some(action) => write.finish(conn, changes, action, details).await,
        None => write.finish_unrecorded(conn, changes).await,
    }
}

/// The unit submitted `sa`: its first submission opens the council's appraisal; a
/// resubmission after a return closes the open round.
pub async fn submitted<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    sa: &self_assessment::Model,
) -> ApiResult<()> {
    let t = now();
    let existing = appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(sa.id))
        .one(conn)
        .await?;
    let Some(existing) = existing else {
        let created = appraisal::ActiveModel {
            self_assessment_id: Set(sa.id),
            unit_id: Set(sa.unit_id),
            framework_id: Set(sa.framework_id),
            year: Set(sa.year),
            status: Set(AppraisalStatus::Pending),
            appraised_total_x100: Set(sa.self_total_x100),
            bonus_x100: Set(0),
            bonus_reason: Set(None),
            self_total_x100: Set(None),
            index_x100: Set(None),
            deduction_total_x100: Set(None),
            rating_band: Set(None),
            finalized_at: Set(None),
            finalized_by: Set(None),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        audit::record(
            conn,
            actor,
            Change {
                entity: "appraisal",
                entity_id: created.id,
                action: "create",
                unit_id: Some(sa.unit_id),
                results_year: None,
                old: None,
                new: Some(json!({"status": AppraisalStatus::Pending})),
            },
        )
        .await?;
        return Ok(());
    };
    appraisal_round::Entity::update_many()
        .col_expr(appraisal_round::Column::ResubmittedAt, Expr::value(t))
        .filter(appraisal_round::Column::AppraisalId.eq(existing.id))
        .filter(appraisal_round::Column::ResubmittedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// The unit withdraws `sa`: its appraisal goes, only while the council has not started
/// (and only if nobody started meanwhile: the delete is conditional).
pub async fn withdrawn<C: ConnectionTrait>(conn: &C, sa: &self_assessment::Model) -> ApiResult<()> {
    let a = appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(sa.id))
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "not_withdrawable",
                text!(
                    "only a submitted file the council has not started appraising can be withdrawn",
                    "chỉ rút lại được hồ sơ đã nộp mà hội đồng chưa bắt đầu thẩm định"
                ),
            )
        })?;
    workflow::appraisal(a.status, AppraisalEvent::Withdraw)?;
    let deleted = appraisal::Entity::delete_many()
        .filter(appraisal::Column::Id.eq(a.id))
        .filter(appraisal::Column::Status.eq(AppraisalStatus::Pending))
        .filter(appraisal::Column::Version.eq(a.version))
        .exec(conn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::conflict(
            "not_withdrawable",
            text!(
                "the council has started appraising",
                "hội đồng đã bắt đầu thẩm định"
            ),
        ));
    }
    Ok(())
}

/// Upserts council entries, all or nothing (`entries`); the appraisal becomes
/// `in_progress`.
pub async fn upsert_entries(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    batch: Batch,
    precondition: &Precondition,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let batch = match batch {
        Batch::Entries(entries) => entries,
        workbook => {
            let (a, sa) = load_for_council(&txn, actor, id, precondition).await?;
            let framework = frameworks::load(&txn, a.framework_id).await?;
            let existing = scoresheet::load_entries(&txn, sa.id).await?;
            let entries = workbook.entries(Side::Council, &framework, &existing)?;
            if entries.is_empty() {
                // Nothing differs from what is stored: nothing is written, nothing audited.
                return view(&txn, a).await;
            }
            entries
        }
    };
    let v = write_council_entries(&txn, actor, id, batch, precondition).await?;
    txn.commit().await?;
    Ok(v)
}

/// Checks that `actor` may enter the council's figures on appraisal `id` (before an
/// upload is read at all).
pub async fn may_appraise(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    load_for_council(db, actor, id, &Precondition::any())
        .await
        .map(|_| ())
}

/// The identity of an appraisal's workbook.
pub async fn workbook_identity(
    db: &DatabaseConnection,
    id: i64,
) -> ApiResult<(crate::workbook::Identity, LoadedFramework)> {
    let a = find(db, id).await?;
    let framework = frameworks::load(db, a.framework_id).await?;
    Ok((
        crate::workbook::Identity::new(Side::Council, a.id, &framework),
        framework,
    ))
}

/// The council's workbook of an appraisal: the unit's inputs and scores read-only beside
/// the council's inputs and comments.
pub async fn workbook(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<(AppraisalView, Vec<u8>)> {
    let v = get(db, actor, id).await?;
    if !v.results_visible {
        // The workbook is the council's figures and comments: nothing of it before they
        // are released to the caller (the JSON hides the same fields).
        return Err(ApiError::forbidden(text!(
            "the council's figures of this appraisal are not released to you yet",
            "kết quả thẩm định của hồ sơ này chưa được công bố cho tài khoản này"
        )));
    }
    let best = scoresheet::bests(db, &v.framework, v.unit.parent_id, v.self_assessment.id).await?;
    let (identity, _) = workbook_identity(db, id).await?;
    let score = |m: &HashMap<String, LeafScore>| -> HashMap<String, Option<Decimal>> {
        m.iter()
            .map(|(code, s)| {
                let d = match s {
                    LeafScore::Scored(d) => Some(*d),
                    LeafScore::NotApplicable => None,
                };
                (code.clone(), d)
            })
            .collect()
    };
    let source = crate::workbook::Source {
        identity,
        title: format!(
            "THẨM ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {}",
            v.self_assessment.year
        ),
        unit_name: &v.unit.name,
        framework: &v.framework,
        entries: &v.entries,
        best: &best,
        scores: score(&v.scores),
        unit_scores: score(&v.self_scores),
    };
    let bytes = crate::workbook::build(&source).map_err(ApiError::internal)?;
    Ok((v, bytes))
}

/// The council's entries written on `conn` (the one path: `upsert_entries`, and an
/// accepted appeal), each audited, with the running total.
pub(crate) async fn write_council_entries<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
    batch: Vec<EntryInput>,
    precondition: &Precondition,
) -> ApiResult<AppraisalView> {
    let (a, sa) = load_for_council(conn, actor, id, precondition).await?;
    let framework = frameworks::load(conn, a.framework_id).await?;
    let u = find_unit(conn, a.unit_id).await?;
    let best = scoresheet::bests(conn, &framework, u.parent_id, sa.id).await?;
    let scope = Scope {
        side: Side::Council,
        framework: &framework,
        best: &best,
        editable: None,
    };
    entries::write_batch(conn, actor, &sa, &scope, batch).await?;
    let current = view(conn, a.clone()).await?;
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.appraised_total_x100 = Set(to_hundredths(current.totals.total));
    // The entries are audited one by one; the appraisal records only that work started.
    let action = (a.status == AppraisalStatus::Pending).then_some("start");
    let updated = transition(conn, actor, &a, AppraisalEvent::Work, changes, action, None).await?;
    view(conn, updated).await
}

/// The criteria a return names, checked: leaves the unit scores, each once.
fn returnable_codes(
    framework: &LoadedFramework,
    codes: Vec<String>,
    v: &mut crate::error::Violations,
) -> Vec<String> {
    let mut unique = Vec::new();
    if codes.is_empty() {
        v.add(
            "criteria",
            "required",
            text!(
                "name at least one criterion to supplement",
                "cần nêu ít nhất một tiêu chí cần bổ sung"
            ),
        );
    }
    for (i, code) in codes.iter().enumerate() {
        let code = code.trim().to_string();
        match framework.tree.get(&code) {
            Some(def) if framework.tree.is_leaf(&code) && def.scorer == Scorer::SelfAssessed => {
                if !unique.contains(&code) {
                    unique.push(code);
                }
            }
            Some(_) => v.add(
                format!("criteria[{i}]"),
                "not_self_scored",
                text!(
                    "{code} is not a leaf the unit scores",
                    "{code} không phải tiêu chí lá do đơn vị tự chấm"
                ),
            ),
            None => v.add(
                format!("criteria[{i}]"),
                "unknown_criterion",
                text!(
                    "{code} is not a criterion of this framework",
                    "{code} không phải tiêu chí của bộ tiêu chí này"
                ),
            ),
        }
    }
    unique
}

/// Returns the file to the unit for supplementation of `codes`, with a note; the unit may
/// then edit only those criteria and resubmit. Every round is kept.
pub async fn return_for_supplementation(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    note: String,
    codes: Vec<String>,
    precondition: &Precondition,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = load_for_council(&txn, actor, id, precondition).await?;
    let framework = frameworks::load(&txn, a.framework_id).await?;
    let mut v = crate::error::Violations::new();
    let note = crate::validation::text(&mut v, "note", &note, 5000, true).unwrap_or_default();
    let unique = returnable_codes(&framework, codes, &mut v);
    v.into_result()?;
    workflow::self_assessment(sa.status, FileEvent::Return)?;
    let round = appraisal_round::Entity::find()
        .filter(appraisal_round::Column::AppraisalId.eq(a.id))
        .count(&txn)
        .await? as i32
        + 1;
    let codes_text = serde_json::to_string(&unique).map_err(ApiError::internal)?;
    appraisal_round::ActiveModel {
        appraisal_id: Set(a.id),
        round: Set(round),
        note: Set(note.clone()),
        criteria: Set(codes_text.clone()),
        returned_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        returned_at: Set(now()),
        resubmitted_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    sa_service::returned(&txn, actor, &sa, codes_text).await?;
    let details = json!({"round": round, "note": note, "criteria": unique});
    let updated = transition(
        &txn,
        actor,
        &a,
        AppraisalEvent::Work,
        appraisal::ActiveModel {
            ..Default::default()
        },
        Some("return"),
        Some(details),
    )
    .await?;
    let v = view(&txn, updated).await?;
    crate::services::webhooks::unit_event(
        &txn,
        crate::services::webhooks::EventType::SelfAssessmentReturned,
        v.unit.id,
        crate::services::webhooks::payloads::to_value(
            &crate::services::webhooks::payloads::FileEventData {
                self_assessment_id: v.self_assessment.id,
                appraisal_id: Some(v.model.id),
                unit_id: v.unit.id,
                year: v.model.year,
                round: v.self_assessment.round,
                criteria: unique.clone(),
            },
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(v)
}

/// Sets the bonus points (0 to the framework's bonus maximum) with a reason.
pub async fn set_bonus(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    points: Decimal,
    reason: Option<String>,
    precondition: &Precondition,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let (a, _sa) = load_for_council(&txn, actor, id, precondition).await?;
    let framework = frameworks::load(&txn, a.framework_id).await?;
    let mut v = crate::error::Violations::new();
    let max = framework.bonus_max();
    if points < Decimal::ZERO || points > max {
        v.add(
            "points",
            "out_of_range",
            text!(
                "must be between 0 and the framework's bonus maximum {max}",
                "phải từ 0 đến điểm thưởng tối đa của bộ tiêu chí {max}"
            ),
        );
    } else if has_more_places_than(points, 2) {
        v.add(
            "points",
            "too_many_decimals",
            text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
        );
    }
    let reason = crate::validation::optional_text(&mut v, "reason", reason.as_deref(), 2000);
    if points > Decimal::ZERO && reason.is_none() {
        v.add(
            "reason",
            "required",
            text!("bonus points need a reason", "điểm thưởng cần có lý do"),
        );
    }
    v.into_result()?;
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.bonus_x100 = Set(to_hundredths(points));
    changes.bonus_reason = Set(reason);
    let updated = transition(
        &txn,
        actor,
        &a,
        AppraisalEvent::Work,
        changes,
        Some("bonus"),
        None,
    )
    .await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// The problem of a finalization with leaves nobody scored.
fn unscored_problem(unscored: &[String]) -> ApiError {
    ApiError::unprocessable(
        "unscored_criteria",
        text!(
            "{} criteria have no score yet: {}",
            "{} tiêu chí chưa có điểm: {}",
            unscored.len(),
            unscored.join(", ")
        ),
    )
    .with_errors(
        unscored
            .iter()
            .map(|c| {
                FieldError::new(
                    format!("entries[{c}]"),
                    "required",
                    text!("{c} has no score", "{c} chưa có điểm"),
                )
            })
            .collect(),
    )
}

/// Finalizes: every leaf must be scored and the file must not be out for supplementation.
/// Stores the self and appraised totals, bonus, index, band, and each leaf's final score
/// and deduction (`scoring::settle`, the one computation of them); relative-to-best
/// criteria are scored against the district's current best.
pub async fn finalize(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    precondition: &Precondition,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = load_for_council(&txn, actor, id, precondition).await?;
    workflow::self_assessment(sa.status, FileEvent::Appraise)?;
    crate::services::appeals::refuse_while_open(&txn, Some(a.id), None).await?;
    let current = view(&txn, a.clone()).await?;
    if !current.unscored.is_empty() {
        return Err(unscored_problem(&current.unscored));
    }
    let settled = settle(
        &current.framework.tree,
        current.framework.policy,
        &current.framework.bands,
        &current.self_scores,
        &current.scores,
        current.bonus(),
    )
    .map_err(ApiError::internal)?;
    for (code, leaf) in &settled.leaves {
        let e = current.entries.get(code).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("scored leaf {code} has no entry"))
        })?;
        let mut am: assessment_entry::ActiveModel = e.model.clone().into();
        am.final_score_x100 = Set(Some(to_hundredths(leaf.final_score)));
        am.deduction_x100 = Set(Some(to_hundredths(leaf.deduction)));
        am.update(&txn).await?;
    }
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.appraised_total_x100 = Set(to_hundredths(settled.appraised_total));
    changes.self_total_x100 = Set(Some(to_hundredths(settled.self_total)));
    changes.index_x100 = Set(Some(to_hundredths(settled.index)));
    changes.deduction_total_x100 = Set(Some(to_hundredths(settled.deduction_total)));
    changes.rating_band = Set(settled.band.clone());
    changes.finalized_at = Set(Some(now()));
    changes.finalized_by = Set(Some(actor.user_id).filter(|id| *id > 0));
    sa_service::appraised(&txn, actor, &sa, to_hundredths(settled.self_total)).await?;
    let updated = transition(
        &txn,
        actor,
        &a,
        AppraisalEvent::Finalize,
        changes,
        Some("finalize"),
        None,
    )
    .await?;
    let v = view(&txn, updated).await?;
    // Thin: the figures are read with the receiver's own rights.
    crate::services::webhooks::unit_event(
        &txn,
        crate::services::webhooks::EventType::AppraisalFinalized,
        v.unit.id,
        crate::services::webhooks::payloads::to_value(
            &crate::services::webhooks::payloads::AppraisalEventData {
                appraisal_id: v.model.id,
                self_assessment_id: v.self_assessment.id,
                unit_id: v.unit.id,
                year: v.model.year,
            },
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(v)
}

/// Reopens a finalized appraisal (admins only, with a reason); its stored results are
/// withdrawn from rankings until it is finalized again.
pub async fn reopen(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    reason: String,
    precondition: &Precondition,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let a = find(&txn, id).await?;
    let u = find_unit(&txn, a.unit_id).await?;
    authorize(actor, Action::ReopenAppraisal, &unit_ref(&u))?;
    precondition.check(appraisal::Entity::KIND, a.id, a.version)?;
    let mut v = crate::error::Violations::new();
    let reason = crate::validation::text(&mut v, "reason", &reason, 2000, true).unwrap_or_default();
    v.into_result()?;
    workflow::appraisal(a.status, AppraisalEvent::Reopen)?;
    let sa = sa_service::find(&txn, a.self_assessment_id).await?;
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.index_x100 = Set(None);
    changes.finalized_at = Set(None);
    changes.finalized_by = Set(None);
    sa_service::reopened(&txn, actor, &sa).await?;
    // A published result stays as announced until the scope is published again.
    crate::services::results::note_reopen(&txn, a.unit_id, a.year, &u.name, &reason).await?;
    let updated = transition(
        &txn,
        actor,
        &a,
        AppraisalEvent::Reopen,
        changes,
        Some("reopen"),
        Some(json!({"reason": reason})),
    )
    .await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}
