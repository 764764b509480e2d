//! The status writes of a file's two records, used by the unit's side (`file`) and the
//! council's (`council`): each goes through the state machine and the guarded, audited
//! write (`Write::transition`). Callers hold the file's lock (`FileLock`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, text};
use crate::services::audit::{self, Change};
use crate::services::now;
use crate::services::versioned::{Precondition, Record, Write};
use crate::workflow::{self, AppraisalEvent, FileEvent};
use entity::status::AppraisalStatus;
use entity::{appraisal, appraisal_round, self_assessment};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

/// Moves a (locked) file along its workflow on `event` (the state machine decides), with
/// the status's companions, audited under the event's name. The one place a file's
/// status is written: the council's moves come through here too (return, appraise,
/// reopen).
pub(super) async fn file_transition<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    sa: &self_assessment::Model,
    event: FileEvent,
    precondition: &Precondition,
    changes: self_assessment::ActiveModel,
) -> ApiResult<self_assessment::Model> {
    let action = match event {
        FileEvent::Edit => "edit",
        FileEvent::Approve => "approve",
        FileEvent::Submit => "submit",
        FileEvent::Withdraw => "withdraw",
        FileEvent::Return => "return",
        FileEvent::Appraise => "appraised",
        FileEvent::Reopen => "reopen",
    };
    Write::<self_assessment::Entity>::begin(conn, actor, sa, precondition)
        .await?
        .transition(conn, event, changes, Record::As(action, None))
        .await
}

/// The council returned the file for supplementation of `codes` (JSON list).
pub(super) async fn returned<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    sa: &self_assessment::Model,
    codes_json: String,
) -> ApiResult<self_assessment::Model> {
    let mut changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    changes.editable_codes = Set(Some(codes_json));
    file_transition(
        conn,
        actor,
        sa,
        FileEvent::Return,
        &Precondition::any(),
        changes,
    )
    .await
}

/// The council finalized its appraisal; the self total is settled as finalized.
pub(super) async fn appraised<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    sa: &self_assessment::Model,
    self_total_x100: i64,
) -> ApiResult<self_assessment::Model> {
    let mut changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    changes.self_total_x100 = Set(self_total_x100);
    file_transition(
        conn,
        actor,
        sa,
        FileEvent::Appraise,
        &Precondition::any(),
        changes,
    )
    .await
}

/// An admin reopened the finalized appraisal: the file is with the council again.
pub(super) async fn reopened<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    sa: &self_assessment::Model,
) -> ApiResult<self_assessment::Model> {
    let changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    file_transition(
        conn,
        actor,
        sa,
        FileEvent::Reopen,
        &Precondition::any(),
        changes,
    )
    .await
}

/// Moves a (locked) appraisal on `event` (the state machine decides), with `changes`,
/// recorded as `record` says.
pub(super) async fn appraisal_transition<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    a: &appraisal::Model,
    event: AppraisalEvent,
    changes: appraisal::ActiveModel,
    record: Record<'_>,
) -> ApiResult<appraisal::Model> {
    Write::<appraisal::Entity>::begin(conn, actor, a, &Precondition::any())
        .await?
        .transition(conn, event, changes, record)
        .await
}

/// The unit submitted `sa`: its first submission opens the council's appraisal; a
/// resubmission after a return closes the open round.
pub(super) async fn submitted<C: ConnectionTrait>(
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
            penalties: Set("[]".to_string()),
            penalty_total_x100: Set(0),
            components: Set(None),
            unranked: Set(false),
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
pub(super) async fn withdrawn<C: ConnectionTrait>(
    conn: &C,
    sa: &self_assessment::Model,
) -> ApiResult<()> {
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
