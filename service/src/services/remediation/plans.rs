//! Making a plan from a finalized appraisal's deductions, reading and listing plans.

use super::items::{check_milestones, insert_milestones};
use super::{ItemStatus, Milestone, PlanView, authorize_plan, find_plan, item_views};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError, Violations, text};
use crate::scoring::{from_hundredths, to_hundredths};
use crate::services::audit::{self, Change};
use crate::services::scope::{Page, PageRequest};
use crate::services::scoresheet;
use crate::services::units::{find_unit, unit_ref};
use crate::services::{frameworks, now, visibility};
use entity::status::AppraisalStatus;
use entity::{appraisal, assessment_entry, remediation_item, remediation_plan};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, SqlErr,
};
use serde_json::json;
use std::collections::HashMap;

/// A plan with its items; `show_next`: whether the results of the plan's own year (what
/// was recovered) may be shown to the reader.
pub(super) async fn plan_view<C: ConnectionTrait>(
    conn: &C,
    plan: remediation_plan::Model,
    show_next: bool,
) -> ApiResult<PlanView> {
    let u = find_unit(conn, plan.unit_id).await?;
    let items = remediation_item::Entity::find()
        .filter(remediation_item::Column::PlanId.eq(plan.id))
        .order_by_asc(remediation_item::Column::Position)
        .order_by_asc(remediation_item::Column::Id)
        .all(conn)
        .await?;
    let items = item_views(conn, items).await?;
    let next = match show_next {
        false => None,
        true => {
            appraisal::Entity::find()
                .filter(appraisal::Column::UnitId.eq(plan.unit_id))
                .filter(appraisal::Column::Year.eq(plan.year))
                .filter(appraisal::Column::Status.eq(AppraisalStatus::Finalized))
                .one(conn)
                .await?
        }
    };
    let next_scores = match next {
        None => None,
        Some(a) => Some(
            assessment_entry::Entity::find()
                .filter(assessment_entry::Column::SelfAssessmentId.eq(a.self_assessment_id))
                .all(conn)
                .await?
                .into_iter()
                .filter_map(|e| {
                    e.final_score_x100
                        .map(|s| (e.criterion_code, from_hundredths(s)))
                })
                .collect(),
        ),
    };
    Ok(PlanView {
        plan,
        unit: u,
        items,
        next_scores,
    })
}

fn plan_json(p: &remediation_plan::Model, items: usize) -> serde_json::Value {
    json!({"appraisal_id": p.appraisal_id, "source_year": p.source_year, "year": p.year, "items": items})
}

/// Creates the plan of a finalized appraisal: one item per criterion with a deduction,
/// most points lost first, each with the default milestones (the plan's phases; each item
/// may then have its own).
pub async fn create_plan(
    db: &DatabaseConnection,
    actor: &Principal,
    appraisal_id: i64,
    milestones: Vec<Milestone>,
) -> ApiResult<PlanView> {
    let txn = crate::db::begin_write(db).await?;
    let a = appraisal::Entity::find_by_id(appraisal_id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "appraisal_id",
                "not_found",
                text!(
                    "appraisal {appraisal_id} does not exist",
                    "không có kết quả thẩm định {appraisal_id}"
                ),
            )])
        })?;
    let u = find_unit(&txn, a.unit_id).await?;
    authorize(actor, Action::CreateRemediation, &unit_ref(&u))?;
    let mut v = Violations::new();
    let milestones = check_milestones("milestones", &milestones, &mut v);
    v.into_result()?;
    if a.status != AppraisalStatus::Finalized {
        return Err(ApiError::conflict(
            "not_finalized",
            text!(
                "a plan is made from a finalized appraisal's deductions",
                "kế hoạch được lập từ các điểm bị trừ của kết quả thẩm định đã chốt"
            ),
        ));
    }
    // The plan shows the deductions: a unit makes it once its results are published.
    visibility::require_results(&txn, actor, &u, a.year).await?;
    let t = now();
    let plan = remediation_plan::ActiveModel {
        appraisal_id: Set(a.id),
        unit_id: Set(a.unit_id),
        source_year: Set(a.year),
        year: Set(a.year + 1),
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
            text!(
                "appraisal {appraisal_id} already has a remediation plan",
                "kết quả thẩm định {appraisal_id} đã có kế hoạch khắc phục"
            ),
        ),
        _ => e.into(),
    })?;
    let items = items_from_deductions(&txn, &a, &plan, &milestones).await?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "remediation_plan",
            entity_id: plan.id,
            action: "create",
            unit_id: Some(a.unit_id),
            results_year: None,
            old: None,
            new: Some(plan_json(&plan, items)),
        },
    )
    .await?;
    let show_next = visibility::may_see_results(&txn, actor, &u, plan.year).await?;
    let view = plan_view(&txn, plan, show_next).await?;
    txn.commit().await?;
    Ok(view)
}

/// One item per criterion of the appraisal that lost points, most points lost first, each
/// with the default milestones; returns how many.
async fn items_from_deductions<C: ConnectionTrait>(
    conn: &C,
    a: &appraisal::Model,
    plan: &remediation_plan::Model,
    milestones: &[Milestone],
) -> ApiResult<usize> {
    let framework = frameworks::load(conn, a.framework_id).await?;
    let entries = scoresheet::load_entries(conn, a.self_assessment_id).await?;
    let mut lost: Vec<(&crate::scoring::CriterionDef, &scoresheet::Entry, i64)> = framework
        .tree
        .leaves()
        .filter_map(|c| {
            let e = entries.get(&c.code)?;
            let d = e.model.deduction_x100?;
            (d > 0).then_some((c, e, d))
        })
        .collect();
    lost.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then_with(|| crate::scoring::framework::compare_codes(&a.0.code, &b.0.code))
    });
    let t = now();
    for (position, (c, e, d)) in lost.iter().enumerate() {
        let item = remediation_item::ActiveModel {
            plan_id: Set(plan.id),
            unit_id: Set(a.unit_id),
            position: Set(position as i32),
            criterion_code: Set(Some(c.code.clone())),
            title: Set(c.title.clone()),
            max_score_x100: Set(Some(to_hundredths(c.max_score))),
            self_score_x100: Set(e.model.self_score_x100),
            appraised_score_x100: Set(e.model.final_score_x100),
            deduction_x100: Set(Some(*d)),
            comment: Set(e.model.comment.clone()),
            action: Set(None),
            target_score_x100: Set(None),
            status: Set(ItemStatus::NotStarted),
            cancel_reason: Set(None),
            bodies: Set("[]".to_string()),
            recurrence: Set(None),
            target_value_x100: Set(None),
            target_unit: Set(None),
            target_direction: Set(None),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        insert_milestones(conn, item.id, milestones, false).await?;
    }
    Ok(lost.len())
}

pub async fn get_plan(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<PlanView> {
    let plan = find_plan(db, id).await?;
    let u = authorize_plan(db, actor, Action::ReadRemediation, &plan).await?;
    // What was recovered is a result of the plan's own year.
    let show_next = visibility::may_see_results(db, actor, &u, plan.year).await?;
    plan_view(db, plan, show_next).await
}

/// Plans of the units the caller may read whose source year's results it may see (a
/// plan carries them), one page.
pub async fn list_plans(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: Option<i64>,
    year: Option<i32>,
    page: PageRequest,
) -> ApiResult<Page<remediation_plan::Model>> {
    let mut query = super::visible_plans(actor).order_by_asc(remediation_plan::Column::Id);
    if let Some(u) = unit_id {
        query = query.filter(remediation_plan::Column::UnitId.eq(u));
    }
    if let Some(y) = year {
        query = query.filter(remediation_plan::Column::Year.eq(y));
    }
    query.page(db, page).await
}

/// The remediation text per criterion code of an appraisal's plan (empty without plan).
pub async fn responsible_by_code(
    db: &DatabaseConnection,
    appraisal_id: i64,
) -> ApiResult<HashMap<String, String>> {
    let Some(plan) = remediation_plan::Entity::find()
        .filter(remediation_plan::Column::AppraisalId.eq(appraisal_id))
        .one(db)
        .await?
    else {
        return Ok(HashMap::new());
    };
    Ok(plan_view(db, plan, false).await?.responsible_by_code())
}
