//! The council's side of a file: its own inputs, scores and comments per criterion
//! (untouched criteria keep the unit's inputs), returns for supplementation, bonus points,
//! finalization, which stores the totals, the index, the band and each deduction, and an
//! admin's reopen.
//!
//! Workflow: `pending` (submitted, not started) → `in_progress` → `finalized`; a finalized
//! appraisal changes only through an audited reopen by an admin.

use super::{FileLock, status};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize, field_appraiser};
use crate::error::{ApiError, ApiResult, FieldError, text};
use crate::scoring::decimal::has_more_places_than;
use crate::scoring::settle::settle;
use crate::scoring::{Scorer, to_hundredths};
use crate::services::appraisals::{AppraisalView, view};
use crate::services::entries::{self, Batch, EntryInput, Reviewer, Scope, Side};
use crate::services::frameworks::{self, LoadedFramework};
use crate::services::now;
use crate::services::scoresheet;
use crate::services::units::{find_unit, unit_ref};
use crate::services::versioned::{Precondition, Record, Versioned};
use crate::services::visibility::{self, Visible};
use crate::services::webhooks::{self, EventType, payloads};
use crate::workflow::{self, AppraisalEvent, FileEvent};
use entity::status::AppraisalStatus;
use entity::{appraisal, appraisal_round, assessment_entry, self_assessment};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;

/// What the council's actions answer: the appraisal with its results, which the council
/// (and an admin) sees before anyone else (`visibility`).
fn council_sees(actor: &Principal, v: AppraisalView) -> ApiResult<Visible<AppraisalView>> {
    let unit = unit_ref(&v.unit);
    visibility::published_results(actor, &unit, false, v)
}

/// Locks the file for a council action (`Appraise`: entries and returns, which field
/// appraisers may make on their criteria; `Consolidate`: the rest), then checks access,
/// the caller's precondition, and that the state machine lets the council work on it
/// (not finalized).
async fn load_for_council<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    action: Action,
    id: i64,
    precondition: &Precondition,
) -> ApiResult<(appraisal::Model, self_assessment::Model)> {
    let (a, sa) = FileLock::of_appraisal(conn, id).await?;
    let u = find_unit(conn, a.unit_id).await?;
    authorize(actor, action, &unit_ref(&u))?;
    precondition.check(appraisal::Entity::KIND, a.id, a.version)?;
    workflow::appraisal(a.status, AppraisalEvent::Work)?;
    Ok((a, sa))
}

/// Upserts council entries, all or nothing (`entries`); the appraisal becomes
/// `in_progress`.
pub async fn upsert_entries(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    batch: Batch,
    precondition: &Precondition,
) -> ApiResult<Visible<AppraisalView>> {
    let txn = crate::db::begin_write(db).await?;
    let batch = match batch {
        Batch::Entries(entries) => entries,
        workbook => {
            let (a, sa) = load_for_council(&txn, actor, Action::Appraise, id, precondition).await?;
            let framework = frameworks::load(&txn, a.framework_id).await?;
            let existing = scoresheet::load_entries(&txn, sa.id).await?;
            let entries = workbook.entries(Side::Council, &framework, &existing)?;
            if entries.is_empty() {
                // Nothing differs from what is stored: nothing is written, nothing audited.
                return council_sees(actor, view(&txn, a).await?);
            }
            entries
        }
    };
    let v = write_council_entries(&txn, actor, id, batch, precondition).await?;
    txn.commit().await?;
    council_sees(actor, v)
}

/// Checks that `actor` may enter the council's figures on appraisal `id` (before an
/// upload is read at all).
pub async fn may_appraise(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let a = crate::services::appraisals::find(db, id).await?;
    let u = find_unit(db, a.unit_id).await?;
    authorize(actor, Action::Appraise, &unit_ref(&u))?;
    workflow::appraisal(a.status, AppraisalEvent::Work)?;
    Ok(())
}

/// Who the actor is on the council: its agency's field appraiser, or a consolidator.
fn reviewer(actor: &Principal) -> ApiResult<Reviewer> {
    if !field_appraiser(actor) {
        return Ok(Reviewer::Consolidator);
    }
    actor
        .unit
        .as_ref()
        .map(|u| Reviewer::Agency(u.id))
        .ok_or_else(|| ApiError::forbidden(Action::Appraise.describe()))
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
    let (a, sa) = load_for_council(conn, actor, Action::Appraise, id, precondition).await?;
    let framework = frameworks::load(conn, a.framework_id).await?;
    let u = find_unit(conn, a.unit_id).await?;
    let best = scoresheet::bests(conn, &framework, u.parent_id, sa.id).await?;
    let fed_values = crate::services::indicators::fed_values(conn, &framework, u.id).await?;
    let scope = Scope {
        side: Side::Council,
        framework: &framework,
        best: &best,
        editable: None,
        reviewer: Some(reviewer(actor)?),
        fed: None,
        fed_values: Some(&fed_values),
    };
    let assigned = framework.tree.assigned_leaves().next().is_some();
    let waiting_before = if assigned {
        let stored = scoresheet::load_entries(conn, sa.id).await?;
        crate::services::appraisals::agencies_pending(&framework, &stored)
    } else {
        Vec::new()
    };
    entries::write_batch(conn, actor, &sa, &scope, batch).await?;
    let current = view(conn, a.clone()).await?;
    if assigned {
        announce_agencies_done(conn, &current, &waiting_before).await?;
    }
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.appraised_total_x100 = Set(to_hundredths(current.totals.total));
    // The entries are audited one by one; the appraisal records only that work started.
    let record = match a.status {
        AppraisalStatus::Pending => Record::As("start", None),
        _ => Record::ByItsParts,
    };
    let updated =
        status::appraisal_transition(conn, actor, &a, AppraisalEvent::Work, changes, record)
            .await?;
    view(conn, updated).await
}

/// The webhook events of agencies that have just decided on all their criteria of the
/// file (`appraisal.agency_done`), and of the last one (`appraisal.agencies_done`).
async fn announce_agencies_done<C: ConnectionTrait>(
    conn: &C,
    current: &AppraisalView,
    waiting_before: &[(i64, Vec<String>)],
) -> ApiResult<()> {
    let waiting_now = current.agencies_pending();
    let data = |agency_unit_id| {
        payloads::to_value(&payloads::AgencyReviewEventData {
            appraisal_id: current.model.id,
            self_assessment_id: current.self_assessment.id,
            unit_id: current.unit.id,
            year: current.model.year,
            agency_unit_id,
        })
    };
    for (agency, _) in waiting_before {
        if !waiting_now.iter().any(|(a, _)| a == agency) {
            webhooks::unit_event(
                conn,
                EventType::AppraisalAgencyDone,
                current.unit.id,
                data(Some(*agency)),
            )
            .await?;
        }
    }
    if !waiting_before.is_empty() && waiting_now.is_empty() {
        webhooks::unit_event(
            conn,
            EventType::AppraisalAgenciesDone,
            current.unit.id,
            data(None),
        )
        .await?;
    }
    Ok(())
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
) -> ApiResult<Visible<AppraisalView>> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = load_for_council(&txn, actor, Action::Appraise, id, precondition).await?;
    let framework = frameworks::load(&txn, a.framework_id).await?;
    let mut v = crate::error::Violations::new();
    let note = crate::validation::text(&mut v, "note", &note, 5000, true).unwrap_or_default();
    let unique = returnable_codes(&framework, codes, &mut v);
    v.into_result()?;
    if let Reviewer::Agency(agency) = reviewer(actor)? {
        let others: Vec<&str> = unique
            .iter()
            .filter(|c| framework.tree.appraiser_of(c) != Some(agency))
            .map(String::as_str)
            .collect();
        if !others.is_empty() {
            return Err(ApiError::forbidden(text!(
                "this account returns only the criteria assigned to its agency; not: {}",
                "tài khoản này chỉ trả lại các tiêu chí giao cho cơ quan của mình; không được: {}",
                others.join(", ")
            )));
        }
    }
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
    status::returned(&txn, actor, &sa, codes_text).await?;
    let details = json!({"round": round, "note": note, "criteria": unique});
    let updated = status::appraisal_transition(
        &txn,
        actor,
        &a,
        AppraisalEvent::Work,
        appraisal::ActiveModel {
            ..Default::default()
        },
        Record::As("return", Some(details)),
    )
    .await?;
    let v = view(&txn, updated).await?;
    webhooks::unit_event(
        &txn,
        EventType::SelfAssessmentReturned,
        v.unit.id,
        payloads::to_value(&payloads::FileEventData {
            self_assessment_id: v.self_assessment.id,
            appraisal_id: Some(v.model.id),
            unit_id: v.unit.id,
            year: v.model.year,
            round: v.self_assessment.round,
            criteria: unique.clone(),
        }),
    )
    .await?;
    txn.commit().await?;
    council_sees(actor, v)
}

/// Sets the bonus points (0 to the framework's bonus maximum) with a reason.
pub async fn set_bonus(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    points: Decimal,
    reason: Option<String>,
    precondition: &Precondition,
) -> ApiResult<Visible<AppraisalView>> {
    let txn = crate::db::begin_write(db).await?;
    let (a, _sa) = load_for_council(&txn, actor, Action::Consolidate, id, precondition).await?;
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
    change_figures(txn, actor, &a, changes, "bonus").await
}

/// A change of the appraisal's own figures (bonus, penalties): recorded as `action`,
/// committed, answered with the appraisal.
async fn change_figures(
    txn: crate::db::WriteTxn,
    actor: &Principal,
    a: &appraisal::Model,
    changes: appraisal::ActiveModel,
    action: &'static str,
) -> ApiResult<Visible<AppraisalView>> {
    let updated = status::appraisal_transition(
        &txn,
        actor,
        a,
        AppraisalEvent::Work,
        changes,
        Record::As(action, None),
    )
    .await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    council_sees(actor, v)
}

/// One penalty as sent: checked by `set_penalties`.
pub struct PenaltyInput {
    pub code: String,
    pub points: Decimal,
    pub reason: String,
    pub document_ref: Option<String>,
}

/// Replaces the penalty points (điểm trừ) of an appraisal: each with a code, points (more
/// than 0, at most 2 decimals), a reason and the document recording the violation; their
/// total at most the framework's `penalty_max`. The consolidating appraisers only.
pub async fn set_penalties(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    items: Vec<PenaltyInput>,
    precondition: &Precondition,
) -> ApiResult<Visible<AppraisalView>> {
    let txn = crate::db::begin_write(db).await?;
    let (a, _sa) = load_for_council(&txn, actor, Action::Consolidate, id, precondition).await?;
    let framework = frameworks::load(&txn, a.framework_id).await?;
    let mut v = crate::error::Violations::new();
    if items.len() > 50 {
        v.add(
            "items",
            "too_many",
            text!("at most 50 penalties", "tối đa 50 khoản điểm trừ"),
        );
    }
    let mut stored = Vec::with_capacity(items.len());
    let mut total = Decimal::ZERO;
    for (i, item) in items.into_iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let code = crate::validation::text(&mut v, &field("code"), &item.code, 32, true)
            .unwrap_or_default();
        if stored
            .iter()
            .any(|p: &crate::services::appraisals::PenaltyItem| p.code == code)
        {
            v.add(
                field("code"),
                "duplicate",
                text!("{code} appears twice", "{code} xuất hiện hai lần"),
            );
        }
        if item.points <= Decimal::ZERO {
            v.add(
                field("points"),
                "out_of_range",
                text!("must be more than 0", "phải lớn hơn 0"),
            );
        } else if has_more_places_than(item.points, 2) {
            v.add(
                field("points"),
                "too_many_decimals",
                text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
            );
        }
        let reason = crate::validation::text(&mut v, &field("reason"), &item.reason, 2000, true)
            .unwrap_or_default();
        let document_ref = crate::validation::optional_text(
            &mut v,
            &field("document_ref"),
            item.document_ref.as_deref(),
            500,
        );
        total = total
            .checked_add(item.points.max(Decimal::ZERO))
            .unwrap_or(Decimal::MAX);
        stored.push(crate::services::appraisals::PenaltyItem {
            code,
            points: crate::scoring::round2(item.points),
            reason,
            document_ref,
        });
    }
    let max = framework.penalty_max();
    if total > max {
        v.add(
            "items",
            "over_cap",
            text!(
                "the penalties add up to {total}, more than the framework's penalty maximum {max}",
                "tổng điểm trừ {total} vượt mức tối đa của bộ tiêu chí {max}"
            ),
        );
    }
    v.into_result()?;
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.penalties = Set(serde_json::to_string(&stored).map_err(ApiError::internal)?);
    changes.penalty_total_x100 = Set(to_hundredths(total));
    change_figures(txn, actor, &a, changes, "penalties").await
}

/// The 409 of a finalization while agencies have criteria still pending, naming them.
async fn agencies_pending_problem<C: ConnectionTrait>(
    conn: &C,
    waiting: &[(i64, Vec<String>)],
) -> ApiResult<ApiError> {
    let ids: Vec<i64> = waiting.iter().map(|(id, _)| *id).collect();
    let names = crate::services::units::names_of(conn, &ids).await?;
    let listed: Vec<String> = waiting
        .iter()
        .map(|(id, codes)| {
            let name = names.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
            format!("{name} ({})", codes.join(", "))
        })
        .collect();
    let listed = listed.join("; ");
    Ok(ApiError::conflict(
        "agencies_pending",
        text!(
            "agencies have not scored their criteria yet: {listed}",
            "các cơ quan chưa chấm xong tiêu chí được giao: {listed}"
        ),
    ))
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
) -> ApiResult<Visible<AppraisalView>> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = load_for_council(&txn, actor, Action::Consolidate, id, precondition).await?;
    workflow::self_assessment(sa.status, FileEvent::Appraise)?;
    crate::services::appeals::refuse_while_open(&txn, Some(a.id), None).await?;
    let current = view(&txn, a.clone()).await?;
    let waiting = current.agencies_pending();
    if !waiting.is_empty() {
        return Err(agencies_pending_problem(&txn, &waiting).await?);
    }
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
        current.penalty_total(),
        current.composed.as_ref(),
    )
    .map_err(ApiError::internal)?;
    let mut rows = Vec::with_capacity(settled.leaves.len());
    for (code, leaf) in &settled.leaves {
        // A missing component's leaves may have no entry at all.
        let excused = current
            .composed
            .as_ref()
            .is_some_and(|c| c.excused.contains(code));
        if excused && !current.entries.contains_key(code) {
            continue;
        }
        let e = current.entries.get(code).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("scored leaf {code} has no entry"))
        })?;
        let mut am: assessment_entry::ActiveModel = e.model.clone().into();
        am.final_score_x100 = Set(Some(to_hundredths(leaf.final_score)));
        am.deduction_x100 = Set(Some(to_hundredths(leaf.deduction)));
        rows.push(am);
    }
    // Every leaf's final score and deduction in one statement.
    crate::services::entries::store_rows(
        &txn,
        rows,
        &[
            assessment_entry::Column::FinalScoreX100,
            assessment_entry::Column::DeductionX100,
        ],
    )
    .await?;
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.appraised_total_x100 = Set(to_hundredths(settled.appraised_total));
    changes.self_total_x100 = Set(Some(to_hundredths(settled.self_total)));
    changes.index_x100 = Set(Some(to_hundredths(settled.index)));
    changes.deduction_total_x100 = Set(Some(to_hundredths(settled.deduction_total)));
    changes.rating_band = Set(settled.band.clone());
    changes.components = Set(match &current.composed {
        Some(c) => Some(serde_json::to_string(&c.components).map_err(ApiError::internal)?),
        None => None,
    });
    changes.unranked = Set(current.composed.as_ref().is_some_and(|c| c.unranked));
    changes.finalized_at = Set(Some(now()));
    changes.finalized_by = Set(Some(actor.user_id).filter(|id| *id > 0));
    status::appraised(&txn, actor, &sa, to_hundredths(settled.self_total)).await?;
    let updated = status::appraisal_transition(
        &txn,
        actor,
        &a,
        AppraisalEvent::Finalize,
        changes,
        Record::As("finalize", None),
    )
    .await?;
    let v = view(&txn, updated).await?;
    // Thin: the figures are read with the receiver's own rights.
    webhooks::unit_event(
        &txn,
        EventType::AppraisalFinalized,
        v.unit.id,
        payloads::to_value(&payloads::AppraisalEventData {
            appraisal_id: v.model.id,
            self_assessment_id: v.self_assessment.id,
            unit_id: v.unit.id,
            year: v.model.year,
        }),
    )
    .await?;
    txn.commit().await?;
    council_sees(actor, v)
}

/// Reopens a finalized appraisal (admins only, with a reason); its stored results are
/// withdrawn from rankings until it is finalized again.
pub async fn reopen(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    reason: String,
    precondition: &Precondition,
) -> ApiResult<Visible<AppraisalView>> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = FileLock::of_appraisal(&txn, id).await?;
    let u = find_unit(&txn, a.unit_id).await?;
    authorize(actor, Action::ReopenAppraisal, &unit_ref(&u))?;
    precondition.check(appraisal::Entity::KIND, a.id, a.version)?;
    let mut v = crate::error::Violations::new();
    let reason = crate::validation::text(&mut v, "reason", &reason, 2000, true).unwrap_or_default();
    v.into_result()?;
    workflow::appraisal(a.status, AppraisalEvent::Reopen)?;
    // A publication of a scope above the unit waits for this reopen, or this reopen for
    // it: either way the publication that ranks the unit is marked reopened below.
    crate::services::results::lock_scopes_of(&txn, &u).await?;
    let mut changes = appraisal::ActiveModel {
        ..Default::default()
    };
    changes.index_x100 = Set(None);
    changes.components = Set(None);
    changes.unranked = Set(false);
    changes.finalized_at = Set(None);
    changes.finalized_by = Set(None);
    status::reopened(&txn, actor, &sa).await?;
    // A published result stays as announced until the scope is published again.
    crate::services::results::note_reopen(&txn, a.unit_id, a.year, &u.name, &reason).await?;
    let updated = status::appraisal_transition(
        &txn,
        actor,
        &a,
        AppraisalEvent::Reopen,
        changes,
        Record::As("reopen", Some(json!({"reason": reason}))),
    )
    .await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    council_sees(actor, v)
}
