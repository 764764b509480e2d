//! The unit's side of its file: it opens a self-assessment on a published framework, fills
//! its entries in batches (all or nothing), attaches evidence, has a leader sign it off
//! where the framework asks, and submits; submission opens the council's appraisal.
//! Returned files may be edited only on the returned criteria. The council's moves of the
//! file (return, appraise, reopen) come through `returned`, `appraised` and `reopened`.
//!
//! Workflow: `draft` → `submitted` → (`returned` → `submitted`)* → `appraised`.

use super::{FileLock, status};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError, text};
use crate::scoring::to_hundredths;
use crate::services::assessments::{AssessmentView, sa_json, unit_of, view};
use crate::services::audit::{self, Change};
use crate::services::entries::{self, Batch, Scope, Side};
use crate::services::frameworks::{self, LoadedFramework};
use crate::services::now;
use crate::services::scoresheet;
use crate::services::units::{UnitKind, find_unit, unit_ref};
use crate::services::versioned::{Precondition, Versioned, Write};
use crate::services::webhooks::{self, EventType, payloads};
use crate::workflow::FileEvent;
use chrono::NaiveDate;
use entity::framework::EvidencePolicy;
use entity::status::SelfAssessmentStatus as Status;
use entity::{deadline_extension, self_assessment, unit};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, SqlErr,
};
use serde_json::json;
use std::collections::HashSet;

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
                text!("unit {unit_id} does not exist", "không có đơn vị {unit_id}"),
            )])
        })?;
    authorize(actor, Action::EditSelfAssessment, &unit_ref(&u))?;
    let framework = match frameworks::load(&txn, framework_id).await {
        Ok(f) => f,
        Err(e) if e.status().as_u16() == 404 => {
            return Err(ApiError::validation(vec![FieldError::new(
                "framework_id",
                "not_found",
                text!(
                    "framework {framework_id} does not exist",
                    "không có bộ tiêu chí {framework_id}"
                ),
            )]));
        }
        Err(e) => return Err(e),
    };
    check_openable(&txn, &u, &framework).await?;
    let created = insert_draft(&txn, actor, &u, &framework).await?;
    let created = super::feed::at_open(&txn, &framework, created).await?;
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

/// A unit may open a file on a published framework that covers its kind and lies above it,
/// while active, once a year.
async fn check_openable<C: ConnectionTrait>(
    conn: &C,
    u: &unit::Model,
    framework: &LoadedFramework,
) -> ApiResult<()> {
    let owner = find_unit(conn, framework.model.owner_unit_id).await?;
    let mut errors = Vec::new();
    if !framework.is_published() {
        errors.push(FieldError::new(
            "framework_id",
            "not_published",
            text!(
                "the framework is still a draft",
                "bộ tiêu chí vẫn là bản nháp"
            ),
        ));
    }
    let kind = UnitKind::parse(&u.kind).unwrap_or(UnitKind::Commune);
    if !framework.unit_kinds.contains(&kind)
        || !unit_ref(u).is_within(&unit_ref(&owner))
        || u.id == owner.id
    {
        errors.push(FieldError::new("framework_id", "not_applicable", {
            let (id, name, kind) = (framework.model.id, &u.name, &u.kind);
            let kind_vi = crate::services::units::kind_of(u).words_vi();
            text!(
                "framework {id} does not cover {name} ({kind})",
                "bộ tiêu chí {id} không áp dụng cho {name} ({kind_vi})"
            )
        }));
    }
    if !u.active {
        errors.push(FieldError::new(
            "unit_id",
            "inactive",
            text!("the unit is inactive", "đơn vị đã ngừng hoạt động"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // One file per unit and year: rankings and indices take "the" appraisal of a year.
    if let Some(existing) = self_assessment::Entity::find()
        .filter(self_assessment::Column::UnitId.eq(u.id))
        .filter(self_assessment::Column::Year.eq(framework.model.year))
        .one(conn)
        .await?
    {
        return Err(ApiError::conflict(
            "already_exists",
            text!(
                "{} already has self-assessment {} for {}",
                "{} đã có hồ sơ tự đánh giá {} cho năm {}",
                u.name,
                existing.id,
                framework.model.year
            ),
        ));
    }
    Ok(())
}

async fn insert_draft<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    u: &unit::Model,
    framework: &LoadedFramework,
) -> ApiResult<self_assessment::Model> {
    let t = now();
    self_assessment::ActiveModel {
        unit_id: Set(u.id),
        framework_id: Set(framework.model.id),
        year: Set(framework.model.year),
        status: Set(Status::Draft),
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
    .insert(conn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "already_exists",
            text!(
                "{} already has a self-assessment on framework {}",
                "{} đã có hồ sơ tự đánh giá theo bộ tiêu chí {}",
                u.name,
                framework.model.id
            ),
        ),
        _ => e.into(),
    })
}

/// Locks a self-assessment for a change by its unit, then checks access and the caller's
/// precondition (both before anything is validated, as clients expect).
async fn load_for_edit<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
    precondition: &Precondition,
) -> ApiResult<(self_assessment::Model, unit::Model)> {
    let sa = FileLock::of_file(conn, id).await?.self_assessment;
    let u = unit_of(conn, &sa).await?;
    authorize(actor, Action::EditSelfAssessment, &unit_ref(&u))?;
    precondition.check(self_assessment::Entity::KIND, sa.id, sa.version)?;
    Ok((sa, u))
}

/// Upserts a batch of the unit's entries in one transaction: one bad entry and none is
/// stored (`entries`). Recomputes the running self total.
pub async fn upsert_entries(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    batch: Batch,
    precondition: &Precondition,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let (sa, u) = load_for_edit(&txn, actor, id, precondition).await?;
    crate::workflow::self_assessment(sa.status, FileEvent::Edit)?;
    let framework = frameworks::load(&txn, sa.framework_id).await?;
    let existing = scoresheet::load_entries(&txn, sa.id).await?;
    let batch = batch.entries(Side::Unit, &framework, &existing)?;
    if batch.is_empty() {
        // Nothing differs from what is stored: nothing is written, nothing audited.
        return view(&txn, sa).await;
    }
    let editable: Option<HashSet<String>> = (sa.status == Status::Returned).then(|| {
        sa.editable_codes
            .as_deref()
            .and_then(|t| serde_json::from_str::<Vec<String>>(t).ok())
            .unwrap_or_default()
            .into_iter()
            .collect()
    });
    let best = scoresheet::bests(&txn, &framework, u.parent_id, sa.id).await?;
    let fed = Some(super::feed::fed_on_unit_side(&txn, &framework, sa.unit_id).await?);
    let scope = Scope {
        side: Side::Unit,
        framework: &framework,
        best: &best,
        editable: editable.as_ref(),
        reviewer: None,
        fed: fed.as_ref(),
        fed_values: None,
    };
    entries::write_batch(&txn, actor, &sa, &scope, batch).await?;
    let entries = scoresheet::load_entries(&txn, sa.id).await?;
    let total = scoresheet::total_of(
        &framework,
        &scoresheet::self_scores(&framework, &entries, &best),
    )?
    .total;
    let mut changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    changes.self_total_x100 = Set(to_hundredths(total));
    let write = Write::<self_assessment::Entity>::begin(&txn, actor, &sa, precondition).await?;
    let updated = if sa.approved_at.is_some() {
        // Any change after the leader's sign-off withdraws it: the leader approved
        // what it read, not what came after.
        changes.approved_at = Set(None);
        changes.approved_by = Set(None);
        changes.approved_by_name = Set(None);
        write
            .finish(&txn, changes, "withdraw_approval", None)
            .await?
    } else {
        // The entries are audited one by one: the running total needs no event of its own.
        write.finish_unrecorded(&txn, changes).await?
    };
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// Why a file cannot be submitted yet: a deadline passed, or self-scored leaves have no
/// entry (422 listing them).
fn check_submittable(current: &AssessmentView) -> ApiResult<()> {
    if let Some(deadline) = current.deadline
        && parindex_domain::vietnam::today() > deadline
    {
        return Err(ApiError::conflict(
            "deadline_passed",
            text!(
                "the submission deadline {deadline} has passed; the district can extend it for this unit",
                "đã quá hạn nộp {deadline}; cấp huyện có thể gia hạn cho đơn vị này"
            ),
        ));
    }
    let missing = current.missing_codes();
    if missing.is_empty() {
        return check_evidence_policy(current);
    }
    Err(ApiError::unprocessable(
        "incomplete",
        text!(
            "{} self-scored criteria have no entry: {}",
            "{} tiêu chí tự chấm chưa có số liệu: {}",
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
                    text!("{c} has no entry", "{c} chưa có số liệu"),
                )
            })
            .collect(),
    ))
}

/// The framework's evidence policy, checked at submission: every leaf lacking what it
/// asks is named.
fn check_evidence_policy(current: &AssessmentView) -> ApiResult<()> {
    let lacking = current.lacking_evidence();
    if lacking.is_empty() {
        return Ok(());
    }
    let (what, what_vi) = match current.framework.model.evidence_policy {
        EvidencePolicy::EvidenceOrExplanation => (
            "an evidence file or an explanation",
            "tài liệu kiểm chứng hoặc giải trình",
        ),
        _ => ("an evidence file", "tài liệu kiểm chứng"),
    };
    Err(ApiError::unprocessable(
        "evidence_required",
        text!(
            "the framework asks each scored criterion for {what}; {} lack it: {}",
            "bộ chỉ số yêu cầu mỗi tiêu chí được chấm có {what_vi}; {} tiêu chí còn thiếu: {}",
            lacking.len(),
            lacking.join(", ")
        ),
    )
    .with_errors(
        lacking
            .iter()
            .map(|c| {
                FieldError::new(
                    format!("entries[{c}].evidence"),
                    "evidence_required",
                    text!("{c} needs {what}", "{c} cần có {what_vi}"),
                )
            })
            .collect(),
    ))
}

/// Submits a draft or a returned file. Refused while self-scored leaves have no entry
/// and after the deadline (unless extended for the unit). The council's appraisal opens
/// (or resumes its round) in the same transaction.
pub async fn submit(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    precondition: &Precondition,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let (sa, _u) = load_for_edit(&txn, actor, id, precondition).await?;
    crate::workflow::self_assessment(sa.status, FileEvent::Submit)?;
    let current = view(&txn, sa.clone()).await?;
    check_leader_approval(&current)?;
    check_submittable(&current)?;
    let mut changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    changes.round = Set(sa.round + 1);
    changes.submitted_at = Set(Some(now()));
    changes.editable_codes = Set(None);
    let first = !super::feed::had_appraisal(&txn, sa.id).await?;
    let updated =
        status::file_transition(&txn, actor, &sa, FileEvent::Submit, precondition, changes).await?;
    status::submitted(&txn, actor, &updated).await?;
    if first {
        super::feed::at_first_submission(&txn, &updated).await?;
    }
    let v = view(&txn, updated).await?;
    webhooks::unit_event(
        &txn,
        EventType::SelfAssessmentSubmitted,
        v.model.unit_id,
        payloads::to_value(&payloads::FileEventData {
            self_assessment_id: v.model.id,
            appraisal_id: v.appraisal_id,
            unit_id: v.model.unit_id,
            year: v.model.year,
            round: v.model.round,
            criteria: Vec::new(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(v)
}

/// A framework that requires it: a leader of the unit approved the file as it stands.
fn check_leader_approval(current: &AssessmentView) -> ApiResult<()> {
    if current.framework.model.requires_leader_approval && current.model.approved_at.is_none() {
        return Err(ApiError::unprocessable(
            "leader_approval_required",
            text!(
                "the framework requires a leader of the unit to approve the self-assessment before it is submitted (again after any change)",
                "bộ chỉ số yêu cầu lãnh đạo đơn vị phê duyệt hồ sơ tự đánh giá trước khi nộp (phê duyệt lại sau mỗi lần sửa)"
            ),
        ));
    }
    Ok(())
}

/// A leader of the unit signs off the file as it stands: recorded with the time and the
/// leader's name, audited; any later edit withdraws it.
pub async fn approve(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    precondition: &Precondition,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let sa = FileLock::of_file(&txn, id).await?.self_assessment;
    let u = unit_of(&txn, &sa).await?;
    authorize(actor, Action::ApproveSelfAssessment, &unit_ref(&u))?;
    let name = entity::user::Entity::find_by_id(actor.user_id)
        .one(&txn)
        .await?
        .map(|user| user.full_name)
        .unwrap_or_else(|| actor.username.clone());
    let mut changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    changes.approved_at = Set(Some(now()));
    changes.approved_by = Set(Some(actor.user_id).filter(|id| *id > 0));
    changes.approved_by_name = Set(Some(name));
    let updated =
        status::file_transition(&txn, actor, &sa, FileEvent::Approve, precondition, changes)
            .await?;
    let v = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(v)
}

/// Takes a submitted file back to draft while the council has not started on it.
pub async fn withdraw(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    precondition: &Precondition,
) -> ApiResult<AssessmentView> {
    let txn = crate::db::begin_write(db).await?;
    let (sa, _u) = load_for_edit(&txn, actor, id, precondition).await?;
    crate::workflow::self_assessment(sa.status, FileEvent::Withdraw)?;
    // The appraisal goes first, and only if still pending: a council that started wins.
    status::withdrawn(&txn, &sa).await?;
    let mut changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    changes.submitted_at = Set(None);
    let updated =
        status::file_transition(&txn, actor, &sa, FileEvent::Withdraw, precondition, changes)
            .await?;
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
    let sa = FileLock::of_file(&txn, id).await?.self_assessment;
    let u = unit_of(&txn, &sa).await?;
    authorize(actor, Action::Consolidate, &unit_ref(&u))?;
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

/// Checks that `actor` may change file `id` (before an upload is read at all; the change
/// itself checks again, under the file's lock).
pub async fn may_edit(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let sa = crate::services::assessments::find(db, id).await?;
    let u = unit_of(db, &sa).await?;
    authorize(actor, Action::EditSelfAssessment, &unit_ref(&u))
}
