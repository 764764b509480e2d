//! Preliminary results and appeals (kiến nghị).
//!
//! The council releases its preliminary results of a district or province
//! (`release`): each unit below may then read its own appraisal, not yet the ranking.
//! During the framework's `appeal_days` from the release, the unit's officers or leaders
//! object to the council's score of a criterion (`file`); the council answers each
//! (`decide`), and an accepted appeal changes the council's entry through the same path as
//! `PUT /appraisals/{id}/entries`, audited. Finalizing an appraisal, and publishing a scope,
//! wait until every appeal is answered.

use super::appraisals::{self, write_council_entries};
use super::audit::{self, Change};
use super::entries::EntryInput;
use super::scoresheet::{self, Evidence};
use super::units::{find_unit, unit_ref};
use super::versioned::Precondition;
use super::webhooks::{self, EventType, payloads};
use super::{now, sql};
use crate::auth::Principal;
use crate::auth::policy::{Action, allows, authorize};
use crate::error::{ApiError, ApiResult, FieldError, Violations, text};
use crate::services::visibility::lineage;
use chrono::NaiveDate;
use entity::status::AppraisalStatus;
use entity::{appeal, preliminary_release, unit};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde_json::json;

pub const OPEN: &str = "open";
pub const ACCEPTED: &str = "accepted";
pub const REJECTED: &str = "rejected";

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
    txn.commit().await?;
    Ok(created)
}

/// The release covering `unit` for `year` (made for it or an ancestor), if any.
async fn release_of<C: ConnectionTrait>(
    conn: &C,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<Option<preliminary_release::Model>> {
    Ok(preliminary_release::Entity::find()
        .filter(preliminary_release::Column::Year.eq(year))
        .filter(preliminary_release::Column::ParentUnitId.is_in(lineage(&unit.path)))
        .order_by_asc(preliminary_release::Column::ReleasedAt)
        .one(conn)
        .await?)
}

/// The last day appeals are taken: the release's day (in Vietnam) plus `appeal_days`.
pub fn appeals_until(released_on: NaiveDate, appeal_days: i32) -> NaiveDate {
    released_on + chrono::Duration::days(appeal_days.into())
}

pub struct NewAppeal {
    pub criterion_code: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(text!(
        "appeal {id} does not exist",
        "không có kiến nghị {id}"
    ))
}

/// A unit's objection to one criterion of its appraisal, while the window is open.
pub async fn file(
    db: &DatabaseConnection,
    actor: &Principal,
    appraisal_id: i64,
    input: NewAppeal,
) -> ApiResult<appeal::Model> {
    let txn = crate::db::begin_write(db).await?;
    let a = appraisals::find(&txn, appraisal_id).await?;
    let u = find_unit(&txn, a.unit_id).await?;
    authorize(actor, Action::FileAppeal, &unit_ref(&u))?;
    let framework = super::frameworks::load(&txn, a.framework_id).await?;
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
    super::evidence::check_file_ids(
        &txn,
        u.id,
        &super::evidence::named_files("evidence", &evidence),
    )
    .await?;
    let Some(released) = release_of(&txn, &u, a.year).await? else {
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
    // Days in Vietnam (UTC+7), as deadlines are.
    let released_on = (released.released_at + chrono::Duration::hours(7)).date_naive();
    let until = appeals_until(released_on, days);
    if super::assessments::today_in_vietnam() > until {
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
    let open = appeal::Entity::find()
        .filter(appeal::Column::AppraisalId.eq(a.id))
        .filter(appeal::Column::CriterionCode.eq(code.clone()))
        .filter(appeal::Column::Status.eq(OPEN))
        .one(&txn)
        .await?;
    if open.is_some() {
        return Err(ApiError::conflict(
            "appeal_open",
            text!(
                "an appeal on {code} is waiting for the council's answer",
                "kiến nghị về tiêu chí {code} đang chờ hội đồng trả lời"
            ),
        ));
    }
    let created = appeal::ActiveModel {
        appraisal_id: Set(a.id),
        unit_id: Set(u.id),
        year: Set(a.year),
        criterion_code: Set(code.clone()),
        reason: Set(reason.clone()),
        evidence: Set(serde_json::to_string(&evidence).map_err(ApiError::internal)?),
        status: Set(OPEN.to_string()),
        filed_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        filed_at: Set(now()),
        response: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "appeal",
            entity_id: created.id,
            action: "file",
            unit_id: Some(u.id),
            results_year: Some(a.year),
            old: None,
            new: Some(json!({"appraisal_id": a.id, "criterion_code": code, "reason": reason})),
        },
    )
    .await?;
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
    let current = appeal::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| not_found(id))?;
    let u = find_unit(&txn, current.unit_id).await?;
    if !allows(actor, Action::ReadAssessment, &unit_ref(&u)) {
        return Err(not_found(id));
    }
    authorize(actor, Action::Appraise, &unit_ref(&u))?;
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
    if current.status != OPEN {
        return Err(ApiError::conflict(
            "appeal_decided",
            text!(
                "appeal {id} was already answered",
                "kiến nghị {id} đã được trả lời"
            ),
        ));
    }
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
    let status = if decision.accepted {
        ACCEPTED
    } else {
        REJECTED
    };
    let mut am: appeal::ActiveModel = current.clone().into();
    am.status = Set(status.to_string());
    am.response = Set(Some(response.clone()));
    am.decided_by = Set(Some(actor.user_id).filter(|id| *id > 0));
    am.decided_at = Set(Some(now()));
    am.version = Set(current.version + 1);
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "appeal",
            entity_id: updated.id,
            action: "decide",
            unit_id: Some(u.id),
            results_year: Some(updated.year),
            old: Some(json!({"status": OPEN})),
            new: Some(json!({"status": status, "response": response})),
        },
    )
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

/// One appeal, for those who may read its unit's assessments.
pub async fn get(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<appeal::Model> {
    let a = appeal::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| not_found(id))?;
    let u = find_unit(db, a.unit_id).await?;
    if allows(actor, Action::ReadAssessment, &unit_ref(&u)) {
        Ok(a)
    } else {
        Err(not_found(id))
    }
}

/// The appeals of the units under `parent_unit_id` (or of one appraisal) the caller may
/// read, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    parent_unit_id: Option<i64>,
    appraisal_id: Option<i64>,
    year: Option<i32>,
) -> ApiResult<Vec<appeal::Model>> {
    let mut query = appeal::Entity::find().order_by_asc(appeal::Column::Id);
    if let Some(p) = parent_unit_id {
        let parent = find_unit(db, p).await?;
        authorize(actor, Action::ReadUnit, &unit_ref(&parent))?;
        query = query.filter(
            appeal::Column::UnitId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(unit::Column::Id)
                    .from(unit::Entity)
                    .and_where(unit::Column::Path.like(format!("{}%", parent.path)))
                    .to_owned(),
            ),
        );
    }
    if let Some(a) = appraisal_id {
        query = query.filter(appeal::Column::AppraisalId.eq(a));
    }
    if let Some(y) = year {
        query = query.filter(appeal::Column::Year.eq(y));
    }
    let mut out = Vec::new();
    for a in query.all(db).await? {
        let u = find_unit(db, a.unit_id).await?;
        if allows(actor, Action::ReadAssessment, &unit_ref(&u)) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Refuses to finalize an appraisal (`appraisal_id`) or publish a scope while an appeal
/// is waiting for its answer.
pub async fn refuse_while_open<C: ConnectionTrait>(
    conn: &C,
    appraisal_id: Option<i64>,
    scope: Option<(&unit::Model, i32)>,
) -> ApiResult<()> {
    #[derive(FromQueryResult)]
    struct Open {
        id: i64,
        criterion_code: String,
    }
    let found = match (appraisal_id, scope) {
        (Some(a), _) => {
            Open::find_by_statement(sql(
                conn,
                "SELECT id, criterion_code FROM appeals WHERE appraisal_id = $1 AND status = 'open' \
                 ORDER BY id LIMIT 1",
                vec![a.into()],
            ))
            .one(conn)
            .await?
        }
        (None, Some((parent, year))) => {
            Open::find_by_statement(sql(
                conn,
                "SELECT ap.id, ap.criterion_code FROM appeals ap JOIN units u ON u.id = ap.unit_id \
                 WHERE ap.year = $1 AND ap.status = 'open' AND u.path LIKE $2 ORDER BY ap.id LIMIT 1",
                vec![year.into(), format!("{}%", parent.path).into()],
            ))
            .one(conn)
            .await?
        }
        (None, None) => None,
    };
    match found {
        None => Ok(()),
        Some(open) => Err(ApiError::conflict(
            "appeal_open",
            text!(
                "appeal {} on {} is waiting for the council's answer",
                "kiến nghị {} về tiêu chí {} đang chờ hội đồng trả lời",
                open.id,
                open.criterion_code
            ),
        )),
    }
}
