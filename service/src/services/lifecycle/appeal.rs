//! Preliminary results and appeals (kiến nghị).
//!
//! The council releases its preliminary results of a district or province
//! (`release`): each unit below may then read its own appraisal, not yet the ranking.
//! During the framework's `appeal_days` from the release, the unit's officers or leaders
//! object to the council's score of a criterion (`file`); the council answers each
//! (`decide`), and an accepted appeal changes the council's entry through the same path as
//! `PUT /appraisals/{id}/entries`, audited. Finalizing an appraisal, and publishing a scope,
//! wait until every appeal is answered (`appeals::refuse_while_open`).
//!
//! Filing and deciding lock the appraisal's file (`FileLock`), as finalizing does: two
//! decisions on one appeal, two filings on one criterion, or a filing beside a
//! finalization run one after the other. A unique index on the open appeals of a
//! criterion keeps the rule even against a writer that would skip the lock.

use super::FileLock;
use super::council::write_council_entries;
use crate::auth::Principal;
use crate::auth::policy::{Action, allows, authorize};
use crate::error::{ApiError, ApiResult, FieldError, Violations, text};
use crate::services::appeals::{appeals_until, not_found};
use crate::services::audit::{self, Change};
use crate::services::entries::EntryInput;
use crate::services::now;
use crate::services::scoresheet::{self, Evidence};
use crate::services::units::{find_unit, unit_ref};
use crate::services::versioned::{Precondition, Record, Write, record_created};
use crate::services::visibility;
use crate::services::webhooks::{self, EventType, payloads};
use crate::workflow::AppealEvent;
use entity::status::{AppealStatus, AppraisalStatus};
use entity::{appeal, preliminary_release};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};
use serde_json::json;

/// Releases the preliminary results of `year` to the units under `parent_unit_id`.
pub async fn release(
    db: &DatabaseConnection,
    actor: &Principal,
    parent_unit_id: i64,
    year: i32,
) -> ApiResult<preliminary_release::Model> {
    let txn = crate::db::begin_write(db).await?;
    let parent = find_unit(&txn, parent_unit_id).await?;
    authorize(actor, Action::Publish, &unit_ref(&parent))?;
    let created = preliminary_release::ActiveModel {
        parent_unit_id: Set(parent.id),
        year: Set(year),
        released_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        released_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "already_released",
            text!(
                "the preliminary {year} results of {} are already released",
                "kết quả sơ bộ năm {year} của {} đã được thông báo",
                parent.name
            ),
        ),
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "preliminary_release",
            entity_id: created.id,
            action: "release",
            unit_id: Some(parent.id),
            results_year: None,
            old: None,
            new: Some(json!({"parent_unit_id": parent.id, "year": year})),
        },
    )
    .await?;
    webhooks::emit(
        &txn,
        webhooks::Event {
            kind: EventType::PreliminaryReleased,
            unit_id: parent.id,
            unit_path: parent.path.clone(),
            data: payloads::to_value(&payloads::PreliminaryEventData {
                release_id: created.id,
                parent_unit_id: parent.id,
                year,
            }),
            dedup_key: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub struct NewAppeal {
    pub criterion_code: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

/// A unit's objection to one criterion of its appraisal, while the window is open.
pub async fn file(
    db: &DatabaseConnection,
    actor: &Principal,
    appraisal_id: i64,
    input: NewAppeal,
) -> ApiResult<appeal::Model> {
    let txn = crate::db::begin_write(db).await?;
    let (a, _) = FileLock::of_appraisal(&txn, appraisal_id).await?;
    let u = find_unit(&txn, a.unit_id).await?;
    authorize(actor, Action::FileAppeal, &unit_ref(&u))?;
    let framework = crate::services::frameworks::load(&txn, a.framework_id).await?;
    let mut v = Violations::new();
    let code = input.criterion_code.trim().to_string();
    if !framework.tree.is_leaf(&code) {
        v.add(
            "criterion_code",
            "unknown_criterion",
            text!(
                "{code} is not a scored criterion of this framework",
                "{code} không phải tiêu chí được chấm của bộ tiêu chí này"
            ),
        );
    }
    let reason =
        crate::validation::text(&mut v, "reason", &input.reason, 5000, true).unwrap_or_default();
    let mut errors: Vec<FieldError> = Vec::new();
    let evidence = scoresheet::check_evidence("evidence", &input.evidence, &mut errors);
    for e in errors {
        v.push(e);
    }
    v.into_result()?;
    crate::services::evidence::check_file_ids(
        &txn,
        u.id,
        &crate::services::evidence::named_files("evidence", &evidence),
    )
    .await?;
    let Some(released) = visibility::release_covering(&txn, &u, a.year).await? else {
        return Err(ApiError::conflict(
            "not_released",
            text!(
                "the council has not released its preliminary {} results yet",
                "hội đồng chưa thông báo kết quả sơ bộ năm {}",
                a.year
            ),
        ));
    };
    let Some(days) = framework.model.appeal_days else {
        return Err(ApiError::conflict(
            "no_appeal_window",
            text!(
                "this framework takes no appeals (appeal_days is not set)",
                "bộ tiêu chí này không nhận kiến nghị (chưa đặt appeal_days)"
            ),
        ));
    };
    // Days in Vietnam, as deadlines are.
    let released_on = parindex_domain::vietnam::day_of(released.released_at);
    let until = appeals_until(released_on, days);
    if parindex_domain::vietnam::today() > until {
        return Err(ApiError::conflict(
            "appeal_window_closed",
            text!(
                "appeals were taken until {until}",
                "thời hạn kiến nghị đã hết ngày {until}"
            ),
        ));
    }
    if a.status == AppraisalStatus::Finalized {
        return Err(ApiError::conflict(
            "appraisal_finalized",
            text!(
                "the appraisal is finalized: appeals are taken on preliminary results",
                "kết quả thẩm định đã chốt: kiến nghị chỉ nhận trên kết quả sơ bộ"
            ),
        ));
    }
    let already_open = || {
        ApiError::conflict(
            "appeal_open",
            text!(
                "an appeal on {code} is waiting for the council's answer",
                "kiến nghị về tiêu chí {code} đang chờ hội đồng trả lời"
            ),
        )
    };
    let open = appeal::Entity::find()
        .filter(appeal::Column::AppraisalId.eq(a.id))
        .filter(appeal::Column::CriterionCode.eq(code.clone()))
        .filter(appeal::Column::Status.eq(AppealStatus::Open))
        .one(&txn)
        .await?;
    if open.is_some() {
        return Err(already_open());
    }
    let created = appeal::ActiveModel {
        appraisal_id: Set(a.id),
        unit_id: Set(u.id),
        year: Set(a.year),
        criterion_code: Set(code.clone()),
        reason: Set(reason.clone()),
        evidence: Set(serde_json::to_string(&evidence).map_err(ApiError::internal)?),
        status: Set(AppealStatus::Open),
        filed_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        filed_at: Set(now()),
        response: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        // The unique index of open appeals: the lock makes this unreachable, the index
        // makes it impossible.
        Some(SqlErr::UniqueConstraintViolation(_)) => already_open(),
        _ => e.into(),
    })?;
    record_created::<appeal::Entity, _>(&txn, actor, &created, "file").await?;
    webhooks::unit_event(
        &txn,
        EventType::AppealFiled,
        u.id,
        payloads::to_value(&payloads::AppealEventData::of(&created)),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub struct Decision {
    pub accepted: bool,
    pub response: String,
    /// For an accepted appeal: the council's new entry for the criterion.
    pub entry: Option<EntryInput>,
}

/// The council's answer; an accepted appeal changes the council's entry in the same
/// transaction, through the one path the council's entries take.
pub async fn decide(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    decision: Decision,
) -> ApiResult<appeal::Model> {
    let txn = crate::db::begin_write(db).await?;
    let appraisal_id = appeal::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| not_found(id))?
        .appraisal_id;
    // The file's lock first, then the appeal as it is now: a decision that waited for
    // another sees it answered.
    FileLock::of_appraisal(&txn, appraisal_id).await?;
    let current = appeal::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| not_found(id))?;
    let u = find_unit(&txn, current.unit_id).await?;
    if !allows(actor, Action::ReadAssessment, &unit_ref(&u)) {
        return Err(not_found(id));
    }
    authorize(actor, Action::Consolidate, &unit_ref(&u))?;
    let mut v = Violations::new();
    let response = crate::validation::text(&mut v, "response", &decision.response, 5000, true)
        .unwrap_or_default();
    match (&decision.entry, decision.accepted) {
        (None, true) => v.add(
            "entry",
            "required",
            text!(
                "an accepted appeal carries the council's new entry for its criterion",
                "kiến nghị được chấp nhận phải kèm số liệu mới của hội đồng cho tiêu chí"
            ),
        ),
        (Some(e), true) if e.criterion_code.trim() != current.criterion_code => v.add(
            "entry.criterion_code",
            "mismatch",
            text!(
                "the appeal is about {}",
                "kiến nghị này về tiêu chí {}",
                current.criterion_code
            ),
        ),
        (Some(_), false) => v.add(
            "entry",
            "not_allowed",
            text!(
                "a rejected appeal changes no entry",
                "kiến nghị không được chấp nhận thì không sửa số liệu"
            ),
        ),
        _ => {}
    }
    v.into_result()?;
    let event = if decision.accepted {
        AppealEvent::Accept
    } else {
        AppealEvent::Reject
    };
    // Refused before the entry is written: an answered appeal changes nothing.
    crate::workflow::appeal(current.status, event)?;
    if let Some(entry) = decision.entry.filter(|_| decision.accepted) {
        write_council_entries(
            &txn,
            actor,
            current.appraisal_id,
            vec![entry],
            &Precondition::any(),
        )
        .await?;
    }
    let changes = appeal::ActiveModel {
        response: Set(Some(response)),
        decided_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        decided_at: Set(Some(now())),
        ..Default::default()
    };
    let updated = Write::<appeal::Entity>::begin(&txn, actor, &current, &Precondition::any())
        .await?
        .transition(&txn, event, changes, Record::As("decide", None))
        .await?;
    webhooks::unit_event(
        &txn,
        EventType::AppealDecided,
        u.id,
        payloads::to_value(&payloads::AppealEventData::of(&updated)),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
