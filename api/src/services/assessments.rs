//! Self-assessments: a unit opens one per published framework, fills its entries in
//! batches (all or nothing), attaches evidence, and submits; submission creates the
//! appraisal. Returned files may be edited only on the returned criteria.
//!
//! Workflow: `draft` → `submitted` → (`returned` → `submitted`)* → `appraised`.

use super::audit::{self, Change};
use super::frameworks::{self, LoadedFramework};
use super::now;
use super::scoresheet::{self, Entry, Evidence};
use super::units::{UnitKind, find_unit, unit_ref};
use crate::auth::policy::{Action, authorize};
use crate::auth::{Principal, UnitRef};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::etag::{IfMatch, etag, stale};
use crate::scoring::{Inputs, Scorer, to_hundredths};
use chrono::NaiveDate;
use entity::{
    appraisal, appraisal_round, assessment_entry, deadline_extension, self_assessment, unit,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};

pub const DRAFT: &str = "draft";
pub const SUBMITTED: &str = "submitted";
pub const RETURNED: &str = "returned";
pub const APPRAISED: &str = "appraised";

pub const PENDING: &str = "pending";
pub const IN_PROGRESS: &str = "in_progress";
pub const FINALIZED: &str = "finalized";

/// Deadlines are days in Vietnam (UTC+7, no daylight saving).
pub fn today_in_vietnam() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// A self-assessment with what clients need to show it.
#[derive(Clone, Debug)]
pub struct AssessmentView {
    pub model: self_assessment::Model,
    pub framework: LoadedFramework,
    pub entries: HashMap<String, Entry>,
    pub appraisal_id: Option<i64>,
    /// The deadline that applies to this unit (extension or framework deadline).
    pub deadline: Option<NaiveDate>,
}

impl AssessmentView {
    /// Self-scored leaves without an entry yet, in code order.
    pub fn missing_codes(&self) -> Vec<String> {
        self.framework
            .tree
            .leaves()
            .filter(|c| c.scorer == Scorer::SelfAssessed)
            .filter(|c| {
                self.entries
                    .get(&c.code)
                    .is_none_or(|e| e.self_inputs.is_none())
            })
            .map(|c| c.code.clone())
            .collect()
    }

    pub fn editable_codes(&self) -> Option<Vec<String>> {
        self.model
            .editable_codes
            .as_ref()
            .and_then(|t| serde_json::from_str(t).ok())
    }
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<self_assessment::Model> {
    self_assessment::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("self-assessment {id} does not exist")))
}

async fn unit_of<C: ConnectionTrait>(
    conn: &C,
    sa: &self_assessment::Model,
) -> ApiResult<unit::Model> {
    find_unit(conn, sa.unit_id).await
}

async fn deadline_for<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    unit_id: i64,
) -> ApiResult<Option<NaiveDate>> {
    let extension = deadline_extension::Entity::find()
        .filter(deadline_extension::Column::FrameworkId.eq(framework.model.id))
        .filter(deadline_extension::Column::UnitId.eq(unit_id))
        .one(conn)
        .await?;
    Ok(extension
        .map(|e| e.until)
        .or(framework.model.submission_deadline))
}

/// Loads the whole view of a self-assessment.
pub async fn view<C: ConnectionTrait>(
    conn: &C,
    model: self_assessment::Model,
) -> ApiResult<AssessmentView> {
    let framework = frameworks::load(conn, model.framework_id).await?;
    let entries = scoresheet::load_entries(conn, model.id).await?;
    let appraisal_id = appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(model.id))
        .one(conn)
        .await?
        .map(|a| a.id);
    let deadline = deadline_for(conn, &framework, model.unit_id).await?;
    Ok(AssessmentView {
        model,
        framework,
        entries,
        appraisal_id,
        deadline,
    })
}

/// Reads a self-assessment the caller may see.
pub async fn get(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<AssessmentView> {
    let sa = find(db, id).await?;
    let u = unit_of(db, &sa).await?;
    authorize(actor, Action::ReadAssessment, &unit_ref(&u))?;
    view(db, sa).await
}

fn sa_json(sa: &self_assessment::Model) -> serde_json::Value {
    json!({"status": sa.status, "round": sa.round, "self_total": crate::scoring::from_hundredths(sa.self_total_x100),
           "editable_codes": sa.editable_codes})
}

pub async fn record_status<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    action: &str,
    old: &self_assessment::Model,
    new: &self_assessment::Model,
) -> ApiResult<()> {
    audit::record(
        conn,
        actor,
        Change {
            entity: "self_assessment",
            entity_id: new.id,
            action,
            unit_id: Some(new.unit_id),
            results_year: None,
            old: Some(sa_json(old)),
            new: Some(sa_json(new)),
        },
    )
    .await?;
    Ok(())
}

/// Opens a self-assessment of `unit_id` on a published framework that covers the unit.
pub async fn open(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: i64,
    framework_id: i64,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let u = unit::Entity::find_by_id(unit_id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "unit_id",
                "not_found",
                format!("unit {unit_id} does not exist"),
            )])
        })?;
    authorize(actor, Action::EditSelfAssessment, &unit_ref(&u))?;
    let framework = match frameworks::load(&txn, framework_id).await {
        Ok(f) => f,
        Err(e) if e.status().as_u16() == 404 => {
            return Err(ApiError::validation(vec![FieldError::new(
                "framework_id",
                "not_found",
                format!("framework {framework_id} does not exist"),
            )]));
        }
        Err(e) => return Err(e),
    };
    let owner = find_unit(&txn, framework.model.owner_unit_id).await?;
    let mut errors = Vec::new();
    if !framework.is_published() {
        errors.push(FieldError::new(
            "framework_id",
            "not_published",
            "the framework is still a draft",
        ));
    }
    let kind = UnitKind::parse(&u.kind).unwrap_or(UnitKind::Commune);
    if !framework.unit_kinds.contains(&kind)
        || !unit_ref(&u).is_within(&unit_ref(&owner))
        || u.id == owner.id
    {
        errors.push(FieldError::new(
            "framework_id",
            "not_applicable",
            format!(
                "framework {framework_id} does not cover {} ({})",
                u.name, u.kind
            ),
        ));
    }
    if !u.active {
        errors.push(FieldError::new(
            "unit_id",
            "inactive",
            "the unit is inactive",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // One file per unit and year: rankings and indices take "the" appraisal of a year.
    if let Some(existing) = self_assessment::Entity::find()
        .filter(self_assessment::Column::UnitId.eq(u.id))
        .filter(self_assessment::Column::Year.eq(framework.model.year))
        .one(&txn)
        .await?
    {
        return Err(ApiError::conflict(
            "already_exists",
            format!(
                "{} already has self-assessment {} for {}",
                u.name, existing.id, framework.model.year
            ),
        ));
    }
    let t = now();
    let created = self_assessment::ActiveModel {
        unit_id: Set(u.id),
        framework_id: Set(framework.model.id),
        year: Set(framework.model.year),
        status: Set(DRAFT.to_string()),
        self_total_x100: Set(0),
        round: Set(0),
        submitted_at: Set(None),
        editable_codes: Set(None),
        created_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "already_exists",
            format!(
                "{} already has a self-assessment on framework {framework_id}",
                u.name
            ),
        ),
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "self_assessment",
            entity_id: created.id,
            action: "open",
            unit_id: Some(u.id),
            results_year: None,
            old: None,
            new: Some(sa_json(&created)),
        },
    )
    .await?;
    let v = view(&txn, created).await?;
    txn.commit().await?;
    Ok(v)
}

pub struct AssessmentFilter {
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub year: Option<i32>,
    pub status: Option<String>,
}

/// Self-assessments of the units the caller may read.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: AssessmentFilter,
    page: u64,
    per_page: u64,
) -> ApiResult<(Vec<self_assessment::Model>, u64)> {
    let mut query = self_assessment::Entity::find().order_by_asc(self_assessment::Column::Id);
    query = scope_to_readable_units(query, actor, self_assessment::Column::UnitId);
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(self_assessment::Column::UnitId.eq(unit_id));
    }
    if let Some(framework_id) = filter.framework_id {
        query = query.filter(self_assessment::Column::FrameworkId.eq(framework_id));
    }
    if let Some(year) = filter.year {
        query = query.filter(self_assessment::Column::Year.eq(year));
    }
    if let Some(status) = filter.status {
        query = query.filter(self_assessment::Column::Status.eq(status));
    }
    let paginator = query.paginate(db, per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page - 1).await?;
    Ok((items, total))
}

/// Restricts a query on a table with a unit column to the units `actor` may read:
/// all for admins, its own unit for officers, its subtree otherwise.
pub fn scope_to_readable_units<E, C>(
    query: sea_orm::Select<E>,
    actor: &Principal,
    column: C,
) -> sea_orm::Select<E>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    use crate::auth::Role;
    match (&actor.unit, actor.role) {
        (_, Role::Admin) => query,
        (Some(own), Role::UnitOfficer) => query.filter(column.eq(own.id)),
        (Some(own), _) => query.filter(
            column.in_subquery(
                Query::select()
                    .column(unit::Column::Id)
                    .from(unit::Entity)
                    .and_where(unit::Column::Path.starts_with(&own.path))
                    .to_owned(),
            ),
        ),
        (None, _) => query.filter(column.eq(-1)),
    }
}

/// One entry of a batch, as sent by the unit.
pub struct SelfEntryInput {
    pub criterion_code: String,
    pub inputs: Inputs,
    pub explanation: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// Loads a self-assessment for a change by its unit: access, ETag and editable state.
async fn load_for_edit<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
    if_match: &IfMatch,
) -> ApiResult<(self_assessment::Model, unit::Model)> {
    let sa = find(conn, id).await?;
    let u = unit_of(conn, &sa).await?;
    authorize(actor, Action::EditSelfAssessment, &unit_ref(&u))?;
    if_match.check("self-assessment", sa.id, sa.version)?;
    Ok((sa, u))
}

/// Bumps the version if it is still `read.version` (else 412), with `changes` applied.
pub async fn guarded_update<C: ConnectionTrait>(
    conn: &C,
    read: &self_assessment::Model,
    mut am: self_assessment::ActiveModel,
) -> ApiResult<self_assessment::Model> {
    am.version = Set(read.version + 1);
    am.updated_at = Set(now());
    let result = self_assessment::Entity::update_many()
        .set(am)
        .filter(self_assessment::Column::Id.eq(read.id))
        .filter(self_assessment::Column::Version.eq(read.version))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(stale(&etag("self-assessment", read.id, read.version)));
    }
    find(conn, read.id).await
}

fn entry_json(
    inputs: &Option<String>,
    score: Option<i64>,
    text: &Option<String>,
    evidence: &str,
) -> serde_json::Value {
    json!({
        "inputs": inputs.as_ref().and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok()),
        "score": score.map(crate::scoring::from_hundredths),
        "text": text,
        "evidence": serde_json::from_str::<serde_json::Value>(evidence).unwrap_or_default(),
    })
}

/// Upserts a batch of the unit's entries in one transaction: one bad entry and none is
/// stored. Recomputes the running self total.
pub async fn upsert_entries(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    batch: Vec<SelfEntryInput>,
    if_match: &IfMatch,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let (sa, u) = load_for_edit(&txn, actor, id, if_match).await?;
    let editable: Option<HashSet<String>> = match sa.status.as_str() {
        DRAFT => None,
        RETURNED => Some(
            sa.editable_codes
                .as_deref()
                .and_then(|t| serde_json::from_str::<Vec<String>>(t).ok())
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ),
        other => {
            return Err(ApiError::conflict(
                "not_editable",
                format!(
                    "the self-assessment is {other}: only a draft or a returned file can be edited"
                ),
            ));
        }
    };
    let framework = frameworks::load(&txn, sa.framework_id).await?;
    let existing = scoresheet::load_entries(&txn, sa.id).await?;
    let best = scoresheet::bests(&txn, &framework, u.parent_id, sa.id).await?;

    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut not_returned = Vec::new();
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
            let why = if framework.tree.get(&code).is_some() {
                "is not a leaf: score its sub-criteria"
            } else {
                "is not a criterion of this framework"
            };
            errors.push(FieldError::new(
                format!("{field}.criterion_code"),
                "unknown_criterion",
                format!("{code} {why}"),
            ));
            continue;
        };
        if def.scorer != Scorer::SelfAssessed {
            errors.push(FieldError::new(
                format!("{field}.criterion_code"),
                "not_self_scored",
                format!(
                    "{code} is scored by the {}: it is entered at appraisal",
                    if def.scorer == Scorer::Survey {
                        "survey"
                    } else {
                        "council"
                    }
                ),
            ));
            continue;
        }
        if let Some(editable) = &editable
            && !editable.contains(&code)
        {
            not_returned.push(code.clone());
            continue;
        }
        let score =
            match scoresheet::score_input(def, &item.inputs, best.get(&code).copied(), &field) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
        let mut v = crate::error::Violations::new();
        let explanation = crate::validation::optional_text(
            &mut v,
            &format!("{field}.explanation"),
            item.explanation.as_deref(),
            5000,
        );
        errors.extend(v.into_vec());
        let evidence =
            scoresheet::check_evidence(&format!("{field}.evidence"), &item.evidence, &mut errors);
        prepared.push((code, item.inputs, score, explanation, evidence));
    }
    if !not_returned.is_empty() {
        return Err(ApiError::conflict(
            "criteria_not_returned",
            format!(
                "the file was returned for supplementation of other criteria; these cannot change: {}",
                not_returned.join(", ")
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }

    let t = now();
    for (code, inputs, score, explanation, evidence) in prepared {
        let inputs_text = serde_json::to_string(&inputs).map_err(ApiError::internal)?;
        let evidence_text = serde_json::to_string(&evidence).map_err(ApiError::internal)?;
        let score_x100 = scoresheet::stored(score);
        let (entry_id, old) = match existing.get(&code) {
            Some(e) => {
                let old = entry_json(
                    &e.model.self_inputs,
                    e.model.self_score_x100,
                    &e.model.explanation,
                    &e.model.evidence,
                );
                let mut am: assessment_entry::ActiveModel = e.model.clone().into();
                am.self_inputs = Set(Some(inputs_text.clone()));
                am.self_score_x100 = Set(score_x100);
                am.self_not_applicable = Set(inputs.not_applicable);
                am.explanation = Set(explanation.clone());
                am.evidence = Set(evidence_text.clone());
                am.updated_at = Set(t);
                am.update(&txn).await?;
                (e.model.id, Some(old))
            }
            None => {
                let created = assessment_entry::ActiveModel {
                    self_assessment_id: Set(sa.id),
                    criterion_code: Set(code.clone()),
                    self_inputs: Set(Some(inputs_text.clone())),
                    self_score_x100: Set(score_x100),
                    self_not_applicable: Set(inputs.not_applicable),
                    explanation: Set(explanation.clone()),
                    evidence: Set(evidence_text.clone()),
                    appraised_inputs: Set(None),
                    appraised_score_x100: Set(None),
                    appraised_not_applicable: Set(false),
                    comment: Set(None),
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
        let mut new = entry_json(&Some(inputs_text), score_x100, &explanation, &evidence_text);
        new["criterion_code"] = json!(code);
        audit::record(
            &txn,
            actor,
            Change {
                entity: "assessment_entry",
                entity_id: entry_id,
                action: "self_assess",
                unit_id: Some(sa.unit_id),
                results_year: None,
                old,
                new: Some(new),
            },
        )
        .await?;
    }
    let entries = scoresheet::load_entries(&txn, sa.id).await?;
    let total = scoresheet::total_of(
        &framework,
        &scoresheet::self_scores(&framework, &entries, &best),
    )?
    .total;
    let mut am: self_assessment::ActiveModel = sa.clone().into();
    am.self_total_x100 = Set(to_hundredths(total));
    let updated = guarded_update(&txn, &sa, am).await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// Submits a draft or a returned file. Refused while self-scored leaves have no entry
/// (422 listing them) and after the deadline (unless extended for the unit).
pub async fn submit(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    if_match: &IfMatch,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let (sa, _u) = load_for_edit(&txn, actor, id, if_match).await?;
    if sa.status != DRAFT && sa.status != RETURNED {
        return Err(ApiError::conflict(
            "not_submittable",
            format!("the self-assessment is already {}", sa.status),
        ));
    }
    let current = view(&txn, sa.clone()).await?;
    if let Some(deadline) = current.deadline
        && today_in_vietnam() > deadline
    {
        return Err(ApiError::conflict(
            "deadline_passed",
            format!(
                "the submission deadline {deadline} has passed; the district can extend it for this unit"
            ),
        ));
    }
    let missing = current.missing_codes();
    if !missing.is_empty() {
        return Err(ApiError::unprocessable(
            "incomplete",
            format!(
                "{} self-scored criteria have no entry: {}",
                missing.len(),
                missing.join(", ")
            ),
        )
        .with_errors(
            missing
                .iter()
                .map(|c| {
                    FieldError::new(
                        format!("entries[{c}]"),
                        "required",
                        format!("{c} has no entry"),
                    )
                })
                .collect(),
        ));
    }
    let mut am: self_assessment::ActiveModel = sa.clone().into();
    am.status = Set(SUBMITTED.to_string());
    am.round = Set(sa.round + 1);
    am.submitted_at = Set(Some(now()));
    am.editable_codes = Set(None);
    let updated = guarded_update(&txn, &sa, am).await?;
    let t = now();
    match appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(sa.id))
        .one(&txn)
        .await?
    {
        None => {
            let created = appraisal::ActiveModel {
                self_assessment_id: Set(sa.id),
                unit_id: Set(sa.unit_id),
                framework_id: Set(sa.framework_id),
                year: Set(sa.year),
                status: Set(PENDING.to_string()),
                appraised_total_x100: Set(updated.self_total_x100),
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
            .insert(&txn)
            .await?;
            audit::record(
                &txn,
                actor,
                Change {
                    entity: "appraisal",
                    entity_id: created.id,
                    action: "create",
                    unit_id: Some(sa.unit_id),
                    results_year: None,
                    old: None,
                    new: Some(json!({"status": PENDING})),
                },
            )
            .await?;
        }
        Some(existing) => {
            // A resubmission after a return closes the open round.
            let open_round = appraisal_round::Entity::find()
                .filter(appraisal_round::Column::AppraisalId.eq(existing.id))
                .filter(appraisal_round::Column::ResubmittedAt.is_null())
                .all(&txn)
                .await?;
            for r in open_round {
                let mut am: appraisal_round::ActiveModel = r.into();
                am.resubmitted_at = Set(Some(t));
                am.update(&txn).await?;
            }
        }
    }
    record_status(&txn, actor, "submit", &sa, &updated).await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// Takes a submitted file back to draft while the council has not started on it.
pub async fn withdraw(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    if_match: &IfMatch,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let (sa, _u) = load_for_edit(&txn, actor, id, if_match).await?;
    let appraisal = appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(sa.id))
        .one(&txn)
        .await?;
    let pending = appraisal.as_ref().filter(|a| a.status == PENDING);
    if sa.status != SUBMITTED || pending.is_none() {
        return Err(ApiError::conflict(
            "not_withdrawable",
            "only a submitted file the council has not started appraising can be withdrawn",
        ));
    }
    if let Some(a) = pending {
        // Deleted only if still pending: a council that started meanwhile wins.
        let deleted = appraisal::Entity::delete_many()
            .filter(appraisal::Column::Id.eq(a.id))
            .filter(appraisal::Column::Status.eq(PENDING))
            .filter(appraisal::Column::Version.eq(a.version))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(ApiError::conflict(
                "not_withdrawable",
                "the council has started appraising",
            ));
        }
    }
    let mut am: self_assessment::ActiveModel = sa.clone().into();
    am.status = Set(DRAFT.to_string());
    am.submitted_at = Set(None);
    let updated = guarded_update(&txn, &sa, am).await?;
    record_status(&txn, actor, "withdraw", &sa, &updated).await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// Lets a unit submit until `until` although the framework's deadline passed.
pub async fn extend_deadline(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    until: NaiveDate,
    reason: Option<String>,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let sa = find(&txn, id).await?;
    let u = unit_of(&txn, &sa).await?;
    authorize(actor, Action::Appraise, &unit_ref(&u))?;
    let mut v = crate::error::Violations::new();
    let reason = crate::validation::optional_text(&mut v, "reason", reason.as_deref(), 2000);
    v.into_result()?;
    let existing = deadline_extension::Entity::find()
        .filter(deadline_extension::Column::FrameworkId.eq(sa.framework_id))
        .filter(deadline_extension::Column::UnitId.eq(sa.unit_id))
        .one(&txn)
        .await?;
    let old = existing
        .as_ref()
        .map(|e| json!({"until": e.until, "reason": e.reason}));
    let saved = match existing {
        Some(e) => {
            let mut am: deadline_extension::ActiveModel = e.into();
            am.until = Set(until);
            am.reason = Set(reason.clone());
            am.granted_by = Set(Some(actor.user_id).filter(|id| *id > 0));
            am.granted_at = Set(now());
            am.update(&txn).await?
        }
        None => {
            deadline_extension::ActiveModel {
                framework_id: Set(sa.framework_id),
                unit_id: Set(sa.unit_id),
                until: Set(until),
                reason: Set(reason.clone()),
                granted_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
                granted_at: Set(now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    audit::record(
        &txn,
        actor,
        Change {
            entity: "deadline_extension",
            entity_id: saved.id,
            action: "extend",
            unit_id: Some(sa.unit_id),
            results_year: None,
            old,
            new: Some(json!({"until": until, "reason": reason})),
        },
    )
    .await?;
    let v = view(&txn, sa).await?;
    txn.commit().await?;
    Ok(v)
}

/// The unit of a self-assessment, for callers that authorize on it.
pub async fn unit_ref_of<C: ConnectionTrait>(
    conn: &C,
    sa: &self_assessment::Model,
) -> ApiResult<UnitRef> {
    Ok(unit_ref(&unit_of(conn, sa).await?))
}
