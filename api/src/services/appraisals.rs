//! Appraisals by the district council: its own inputs, scores and comments per criterion
//! (untouched criteria keep the unit's inputs), returns for supplementation, bonus points,
//! and finalization, which stores the totals, the index, the band and each deduction.
//!
//! Workflow: `pending` (submitted, not started) → `in_progress` → `finalized`; a finalized
//! appraisal changes only through an audited reopen by an admin.

use super::assessments::{
    self as sa_service, APPRAISED, FINALIZED, IN_PROGRESS, PENDING, RETURNED, SUBMITTED,
};
use super::audit::{self, Change};
use super::frameworks::{self, LoadedFramework};
use super::now;
use super::scoresheet::{self, Entry};
use super::units::{find_unit, unit_ref};
use super::visibility;
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::etag::{IfMatch, etag, stale};
use crate::scoring::decimal::has_more_places_than;
use crate::scoring::{Inputs, LeafScore, Scorer, band_for, from_hundredths, to_hundredths};
use entity::{appraisal, appraisal_round, assessment_entry, self_assessment, unit};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};

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
        self.model.status == FINALIZED
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
        .ok_or_else(|| ApiError::not_found(format!("appraisal {id} does not exist")))
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
    pub status: Option<String>,
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: AppraisalFilter,
    page: u64,
    per_page: u64,
) -> ApiResult<(Vec<(appraisal::Model, bool)>, u64)> {
    let mut query = appraisal::Entity::find().order_by_asc(appraisal::Column::Id);
    query = sa_service::scope_to_readable_units(query, actor, appraisal::Column::UnitId);
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
    let publications = visibility::Publications::of_years(db, items.iter().map(|a| a.year)).await?;
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

/// Loads for a council action: access, the ETag, and that it is not finalized.
async fn load_for_council<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
    if_match: &IfMatch,
) -> ApiResult<(appraisal::Model, self_assessment::Model)> {
    let a = find(conn, id).await?;
    let u = find_unit(conn, a.unit_id).await?;
    authorize(actor, Action::Appraise, &unit_ref(&u))?;
    if_match.check("appraisal", a.id, a.version)?;
    if a.status == FINALIZED {
        return Err(ApiError::conflict(
            "finalized",
            format!("appraisal {id} is finalized; an admin must reopen it first"),
        ));
    }
    let sa = sa_service::find(conn, a.self_assessment_id).await?;
    Ok((a, sa))
}

/// Writes `am` (with the version bumped) only if the appraisal is still at `read`'s
/// version and status; a concurrent council action gets 412.
async fn guarded_update<C: ConnectionTrait>(
    conn: &C,
    read: &appraisal::Model,
    mut am: appraisal::ActiveModel,
) -> ApiResult<appraisal::Model> {
    am.version = Set(read.version + 1);
    am.updated_at = Set(now());
    let result = appraisal::Entity::update_many()
        .set(am)
        .filter(appraisal::Column::Id.eq(read.id))
        .filter(appraisal::Column::Version.eq(read.version))
        .filter(appraisal::Column::Status.eq(read.status.clone()))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(stale(&etag("appraisal", read.id, read.version)));
    }
    find(conn, read.id).await
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

async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    action: &str,
    old: &appraisal::Model,
    new: &appraisal::Model,
    extra: Option<serde_json::Value>,
) -> ApiResult<()> {
    let mut new_json = appraisal_json(new);
    if let Some(extra) = extra {
        new_json["details"] = extra;
    }
    audit::record(
        conn,
        actor,
        Change {
            entity: "appraisal",
            entity_id: new.id,
            action,
            unit_id: Some(new.unit_id),
            results_year: Some(new.year),
            old: Some(appraisal_json(old)),
            new: Some(new_json),
        },
    )
    .await?;
    Ok(())
}

/// One council entry of a batch.
pub struct CouncilEntryInput {
    pub criterion_code: String,
    /// The council's own inputs; `None` keeps whatever the criterion has.
    pub inputs: Option<Inputs>,
    /// Drop the council's inputs: the unit's apply again.
    pub reset: bool,
    /// The council's comment; `Some("")` clears it.
    pub comment: Option<String>,
}

/// Upserts council entries, all or nothing; the appraisal becomes `in_progress`.
pub async fn upsert_entries(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    batch: Vec<CouncilEntryInput>,
    if_match: &IfMatch,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = load_for_council(&txn, actor, id, if_match).await?;
    let framework = frameworks::load(&txn, a.framework_id).await?;
    let u = find_unit(&txn, a.unit_id).await?;
    let existing = scoresheet::load_entries(&txn, sa.id).await?;
    let best = scoresheet::bests(&txn, &framework, u.parent_id, sa.id).await?;

    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut prepared = Vec::new();
    for (i, item) in batch.into_iter().enumerate() {
        let field = format!("entries[{i}]");
        let code = item.criterion_code.trim().to_string();
        if !seen.insert(code.clone()) {
            errors.push(FieldError::new(
                format!("{field}.criterion_code"),
                "duplicate",
                format!("{code} appears twice in the batch"),
            ));
            continue;
        }
        let Some(def) = framework
            .tree
            .get(&code)
            .filter(|_| framework.tree.is_leaf(&code))
        else {
            errors.push(FieldError::new(
                format!("{field}.criterion_code"),
                "unknown_criterion",
                format!("{code} is not a leaf criterion of this framework"),
            ));
            continue;
        };
        if item.reset && item.inputs.is_some() {
            errors.push(FieldError::new(
                format!("{field}.reset"),
                "conflicting_input",
                "send either inputs or reset",
            ));
            continue;
        }
        if item.reset && def.scorer != Scorer::SelfAssessed {
            errors.push(FieldError::new(
                format!("{field}.reset"),
                "not_self_scored",
                format!("{code} has no unit inputs to fall back on"),
            ));
            continue;
        }
        let score = match &item.inputs {
            Some(inputs) => match scoresheet::score_input(
                def,
                inputs,
                best.get(&code).copied(),
                &format!("{field}.inputs"),
            ) {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            },
            None => None,
        };
        let mut v = crate::error::Violations::new();
        let comment = item.comment.as_deref().map(|c| {
            crate::validation::text(&mut v, &format!("{field}.comment"), c, 5000, false)
                .unwrap_or_default()
        });
        errors.extend(v.into_vec());
        prepared.push((code, item.inputs, score, item.reset, comment));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let t = now();
    for (code, inputs, score, reset, comment) in prepared {
        let inputs_text = inputs
            .as_ref()
            .map(|i| serde_json::to_string(i).map_err(ApiError::internal))
            .transpose()?;
        let (entry_id, old) = match existing.get(&code) {
            Some(e) => {
                let old = json!({"inputs": e.appraised_inputs, "score": e.model.appraised_score_x100.map(from_hundredths), "comment": e.model.comment});
                let mut am: assessment_entry::ActiveModel = e.model.clone().into();
                if let (Some(text), Some(score)) = (&inputs_text, score) {
                    am.appraised_inputs = Set(Some(text.clone()));
                    am.appraised_score_x100 = Set(scoresheet::stored(score));
                    am.appraised_not_applicable = Set(matches!(score, LeafScore::NotApplicable));
                }
                if reset {
                    am.appraised_inputs = Set(None);
                    am.appraised_score_x100 = Set(None);
                    am.appraised_not_applicable = Set(false);
                }
                if let Some(c) = &comment {
                    am.comment = Set(Some(c.clone()).filter(|c| !c.is_empty()));
                }
                am.updated_at = Set(t);
                am.update(&txn).await?;
                (e.model.id, Some(old))
            }
            None => {
                let created = assessment_entry::ActiveModel {
                    self_assessment_id: Set(sa.id),
                    criterion_code: Set(code.clone()),
                    self_inputs: Set(None),
                    self_score_x100: Set(None),
                    self_not_applicable: Set(false),
                    explanation: Set(None),
                    evidence: Set("[]".to_string()),
                    appraised_inputs: Set(inputs_text.clone()),
                    appraised_score_x100: Set(score.and_then(scoresheet::stored)),
                    appraised_not_applicable: Set(matches!(score, Some(LeafScore::NotApplicable))),
                    comment: Set(comment.clone().filter(|c| !c.is_empty())),
                    final_score_x100: Set(None),
                    deduction_x100: Set(None),
                    updated_at: Set(t),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                (created.id, None)
            }
        };
        audit::record(
            &txn,
            actor,
            Change {
                entity: "assessment_entry",
                entity_id: entry_id,
                action: if reset { "appraise_reset" } else { "appraise" },
                unit_id: Some(a.unit_id),
                results_year: Some(a.year),
                old,
                new: Some(json!({
                    "criterion_code": code,
                    "inputs": inputs,
                    "score": score.and_then(scoresheet::stored).map(from_hundredths),
                    "not_applicable": matches!(score, Some(LeafScore::NotApplicable)),
                    "comment": comment,
                })),
            },
        )
        .await?;
    }
    let current = view(&txn, a.clone()).await?;
    let mut am: appraisal::ActiveModel = a.clone().into();
    am.status = Set(IN_PROGRESS.to_string());
    am.appraised_total_x100 = Set(to_hundredths(current.totals.total));
    let updated = guarded_update(&txn, &a, am).await?;
    if a.status == PENDING {
        record(&txn, actor, "start", &a, &updated, None).await?;
    }
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// Returns the file to the unit for supplementation of `codes`, with a note; the unit may
/// then edit only those criteria and resubmit. Every round is kept.
pub async fn return_for_supplementation(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    note: String,
    codes: Vec<String>,
    if_match: &IfMatch,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = load_for_council(&txn, actor, id, if_match).await?;
    let framework = frameworks::load(&txn, a.framework_id).await?;
    let mut v = crate::error::Violations::new();
    let note = crate::validation::text(&mut v, "note", &note, 5000, true).unwrap_or_default();
    let mut unique = Vec::new();
    if codes.is_empty() {
        v.add(
            "criteria",
            "required",
            "name at least one criterion to supplement",
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
                format!("{code} is not a leaf the unit scores"),
            ),
            None => v.add(
                format!("criteria[{i}]"),
                "unknown_criterion",
                format!("{code} is not a criterion of this framework"),
            ),
        }
    }
    v.into_result()?;
    if sa.status != SUBMITTED {
        return Err(ApiError::conflict(
            "not_returnable",
            format!(
                "the self-assessment is {}; only a submitted file can be returned",
                sa.status
            ),
        ));
    }
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
    let mut sa_am: self_assessment::ActiveModel = sa.clone().into();
    sa_am.status = Set(RETURNED.to_string());
    sa_am.editable_codes = Set(Some(codes_text));
    let sa_updated = sa_service::guarded_update(&txn, &sa, sa_am).await?;
    sa_service::record_status(&txn, actor, "return", &sa, &sa_updated).await?;
    let mut am: appraisal::ActiveModel = a.clone().into();
    am.status = Set(IN_PROGRESS.to_string());
    let updated = guarded_update(&txn, &a, am).await?;
    record(
        &txn,
        actor,
        "return",
        &a,
        &updated,
        Some(json!({"round": round, "note": note, "criteria": unique})),
    )
    .await?;
    let v = view(&txn, updated).await?;
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
    if_match: &IfMatch,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let (a, _sa) = load_for_council(&txn, actor, id, if_match).await?;
    let framework = frameworks::load(&txn, a.framework_id).await?;
    let mut v = crate::error::Violations::new();
    let max = framework.bonus_max();
    if points < Decimal::ZERO || points > max {
        v.add(
            "points",
            "out_of_range",
            format!("must be between 0 and the framework's bonus maximum {max}"),
        );
    } else if has_more_places_than(points, 2) {
        v.add("points", "too_many_decimals", "at most 2 decimal places");
    }
    let reason = crate::validation::optional_text(&mut v, "reason", reason.as_deref(), 2000);
    if points > Decimal::ZERO && reason.is_none() {
        v.add("reason", "required", "bonus points need a reason");
    }
    v.into_result()?;
    let mut am: appraisal::ActiveModel = a.clone().into();
    am.bonus_x100 = Set(to_hundredths(points));
    am.bonus_reason = Set(reason);
    am.status = Set(IN_PROGRESS.to_string());
    let updated = guarded_update(&txn, &a, am).await?;
    record(&txn, actor, "bonus", &a, &updated, None).await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// Finalizes: every leaf must be scored and the file must not be out for supplementation.
/// Stores the self and appraised totals, bonus, index, band, and each leaf's final score
/// and deduction; relative-to-best criteria are scored against the district's current best.
pub async fn finalize(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    if_match: &IfMatch,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let (a, sa) = load_for_council(&txn, actor, id, if_match).await?;
    if sa.status != SUBMITTED {
        return Err(ApiError::conflict(
            "not_finalizable",
            format!(
                "the self-assessment is {}: wait for the unit to resubmit",
                sa.status
            ),
        ));
    }
    let current = view(&txn, a.clone()).await?;
    if !current.unscored.is_empty() {
        return Err(ApiError::unprocessable(
            "unscored_criteria",
            format!(
                "{} criteria have no score yet: {}",
                current.unscored.len(),
                current.unscored.join(", ")
            ),
        )
        .with_errors(
            current
                .unscored
                .iter()
                .map(|c| {
                    FieldError::new(
                        format!("entries[{c}]"),
                        "required",
                        format!("{c} has no score"),
                    )
                })
                .collect(),
        ));
    }
    let t = now();
    for c in current.framework.tree.leaves() {
        let score = current.scores.get(&c.code).copied();
        let node = current.totals.by_code.get(&c.code);
        let final_score = match score {
            Some(LeafScore::Scored(s)) => Some(to_hundredths(s)),
            // Not applicable: its max under full_score, nothing under rescale.
            Some(LeafScore::NotApplicable) => node.map(|n| to_hundredths(n.score)),
            None => None,
        };
        let deduction = node.map(|n| to_hundredths(n.deduction()));
        match current.entries.get(&c.code) {
            Some(e) => {
                let mut am: assessment_entry::ActiveModel = e.model.clone().into();
                am.final_score_x100 = Set(final_score);
                am.deduction_x100 = Set(deduction);
                am.update(&txn).await?;
            }
            None => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "scored leaf {} has no entry",
                    c.code
                )));
            }
        }
    }
    let appraised = current.totals.total;
    let index = crate::scoring::round2(appraised + current.bonus());
    let deduction_total: Decimal = current
        .framework
        .tree
        .leaves()
        .filter_map(|c| current.totals.by_code.get(&c.code))
        .map(|n| n.deduction())
        .sum();
    let mut am: appraisal::ActiveModel = a.clone().into();
    am.status = Set(FINALIZED.to_string());
    am.appraised_total_x100 = Set(to_hundredths(appraised));
    am.self_total_x100 = Set(Some(to_hundredths(current.self_totals.total)));
    am.index_x100 = Set(Some(to_hundredths(index)));
    am.deduction_total_x100 = Set(Some(to_hundredths(deduction_total)));
    am.rating_band = Set(band_for(&current.framework.bands, index).map(str::to_string));
    am.finalized_at = Set(Some(t));
    am.finalized_by = Set(Some(actor.user_id).filter(|id| *id > 0));
    let updated = guarded_update(&txn, &a, am).await?;
    let mut sa_am: self_assessment::ActiveModel = sa.clone().into();
    sa_am.status = Set(APPRAISED.to_string());
    sa_am.self_total_x100 = Set(to_hundredths(current.self_totals.total));
    let sa_updated = sa_service::guarded_update(&txn, &sa, sa_am).await?;
    sa_service::record_status(&txn, actor, "appraised", &sa, &sa_updated).await?;
    record(&txn, actor, "finalize", &a, &updated, None).await?;
    let v = view(&txn, updated).await?;
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
    if_match: &IfMatch,
) -> ApiResult<AppraisalView> {
    let txn = crate::db::begin_write(db).await?;
    let a = find(&txn, id).await?;
    let u = find_unit(&txn, a.unit_id).await?;
    authorize(actor, Action::ReopenAppraisal, &unit_ref(&u))?;
    if_match.check("appraisal", a.id, a.version)?;
    let mut v = crate::error::Violations::new();
    let reason = crate::validation::text(&mut v, "reason", &reason, 2000, true).unwrap_or_default();
    v.into_result()?;
    if a.status != FINALIZED {
        return Err(ApiError::conflict(
            "not_finalized",
            format!("appraisal {id} is not finalized"),
        ));
    }
    let sa = sa_service::find(&txn, a.self_assessment_id).await?;
    let mut am: appraisal::ActiveModel = a.clone().into();
    am.status = Set(IN_PROGRESS.to_string());
    am.index_x100 = Set(None);
    am.finalized_at = Set(None);
    am.finalized_by = Set(None);
    let updated = guarded_update(&txn, &a, am).await?;
    let mut sa_am: self_assessment::ActiveModel = sa.clone().into();
    sa_am.status = Set(SUBMITTED.to_string());
    let sa_updated = sa_service::guarded_update(&txn, &sa, sa_am).await?;
    sa_service::record_status(&txn, actor, "reopen", &sa, &sa_updated).await?;
    record(
        &txn,
        actor,
        "reopen",
        &a,
        &updated,
        Some(json!({"reason": reason})),
    )
    .await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}
