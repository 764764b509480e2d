//! Remediation plans: from a finalized appraisal's deductions to one action per lost
//! point, with a responsible officer, phased deadlines ("đợt 1", "đợt 2"), progress with
//! evidence, and the year-end report of what was recovered.

use super::assessments::today_in_vietnam;
use super::audit::{self, Change};
use super::scope::{Reach, scoped};
use super::scoresheet::{self, Evidence};
use super::units::{find_unit, unit_ref};
use super::versioned::Precondition;
use super::versioned::Write;
use super::visibility;
use super::{frameworks, now};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError, Violations};
use crate::scoring::{from_hundredths, round2, to_hundredths};
use chrono::NaiveDate;
use entity::status::AppraisalStatus;
use entity::{
    appraisal, assessment_entry, remediation_item, remediation_milestone, remediation_plan,
    remediation_progress, staff, unit,
};
use rust_decimal::Decimal;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, SqlErr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

pub use entity::status::RemediationItemStatus as ItemStatus;

/// A deadline of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    #[schema(example = "đợt 1")]
    pub label: String,
    #[schema(example = "2024-10-31")]
    pub due_on: NaiveDate,
}

pub const MAX_MILESTONES: usize = 12;

fn check_milestones(field: &str, milestones: &[Milestone], v: &mut Violations) -> Vec<Milestone> {
    if milestones.len() > MAX_MILESTONES {
        v.add(
            field,
            "too_many",
            format!("at most {MAX_MILESTONES} milestones"),
        );
    }
    let mut out: Vec<Milestone> = milestones
        .iter()
        .enumerate()
        .map(|(i, m)| Milestone {
            label: crate::validation::text(v, &format!("{field}[{i}].label"), &m.label, 100, true)
                .unwrap_or_default(),
            due_on: m.due_on,
        })
        .collect();
    out.sort_by_key(|m| m.due_on);
    out
}

/// An item with its deadlines, history and officer.
#[derive(Clone, Debug)]
pub struct ItemView {
    pub item: remediation_item::Model,
    pub milestones: Vec<remediation_milestone::Model>,
    pub history: Vec<remediation_progress::Model>,
    pub officer: Option<staff::Model>,
}

impl ItemView {
    /// Open (not done nor cancelled) with a milestone before `as_of`.
    pub fn is_overdue(&self, as_of: NaiveDate) -> bool {
        is_open(self.item.status) && self.milestones.iter().any(|m| m.due_on < as_of)
    }

    /// Open with a milestone in `as_of ..= as_of + days`.
    pub fn is_due_within(&self, as_of: NaiveDate, days: u32) -> bool {
        let until = as_of + chrono::Duration::days(days.into());
        is_open(self.item.status)
            && self
                .milestones
                .iter()
                .any(|m| m.due_on >= as_of && m.due_on <= until)
    }

    /// "Đ/c Liên (Công chức Văn phòng - Thống kê): <action> Hạn: đợt 1 31/10/2024; …"
    pub fn responsible_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(o) = &self.officer {
            parts.push(format!("{} ({})", o.full_name, o.title));
        }
        if let Some(a) = &self.item.action {
            parts.push(a.trim_end_matches('.').to_string());
        }
        if !self.milestones.is_empty() {
            parts.push(format!(
                "Hạn: {}",
                self.milestones
                    .iter()
                    .map(|m| format!("{} {}", m.label, m.due_on.format("%d/%m/%Y")))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        parts.join(". ")
    }
}

fn is_open(status: ItemStatus) -> bool {
    !matches!(status, ItemStatus::Done | ItemStatus::Cancelled)
}

/// A plan with its unit and items.
#[derive(Clone, Debug)]
pub struct PlanView {
    pub plan: remediation_plan::Model,
    pub unit: unit::Model,
    pub items: Vec<ItemView>,
    /// Per criterion code, the score of the unit's finalized appraisal of the plan's year,
    /// when there is one (to measure what was recovered).
    pub next_scores: Option<HashMap<String, Decimal>>,
}

pub async fn find_plan<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> ApiResult<remediation_plan::Model> {
    remediation_plan::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("remediation plan {id} does not exist")))
}

pub async fn find_item<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> ApiResult<remediation_item::Model> {
    remediation_item::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("remediation item {id} does not exist")))
}

/// A plan carries its source year's results (deductions, the council's comments): whoever
/// acts on it or its items needs `action` on its unit *and* the right to see those results
/// (`visibility`): a unit's officers and viewers act on it once the year is published.
async fn authorize_plan<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    action: Action,
    plan: &remediation_plan::Model,
) -> ApiResult<unit::Model> {
    let u = find_unit(conn, plan.unit_id).await?;
    authorize(actor, action, &unit_ref(&u))?;
    visibility::require_results(conn, actor, &u, plan.source_year).await?;
    Ok(u)
}

/// `authorize_plan` for an item of the plan.
async fn authorize_item<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    action: Action,
    item: &remediation_item::Model,
) -> ApiResult<unit::Model> {
    let plan = find_plan(conn, item.plan_id).await?;
    authorize_plan(conn, actor, action, &plan).await
}

/// Loads items with their milestones, history and officers, in two queries each.
async fn item_views<C: ConnectionTrait>(
    conn: &C,
    items: Vec<remediation_item::Model>,
) -> ApiResult<Vec<ItemView>> {
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut milestones: HashMap<i64, Vec<remediation_milestone::Model>> = HashMap::new();
    let mut history: HashMap<i64, Vec<remediation_progress::Model>> = HashMap::new();
    let mut officers: HashMap<i64, staff::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for m in remediation_milestone::Entity::find()
            .filter(remediation_milestone::Column::ItemId.is_in(chunk.to_vec()))
            .order_by_asc(remediation_milestone::Column::Position)
            .all(conn)
            .await?
        {
            milestones.entry(m.item_id).or_default().push(m);
        }
        for p in remediation_progress::Entity::find()
            .filter(remediation_progress::Column::ItemId.is_in(chunk.to_vec()))
            .order_by_asc(remediation_progress::Column::Id)
            .all(conn)
            .await?
        {
            history.entry(p.item_id).or_default().push(p);
        }
    }
    let staff_ids: Vec<i64> = items
        .iter()
        .filter_map(|i| i.responsible_staff_id)
        .collect();
    if !staff_ids.is_empty() {
        for s in staff::Entity::find()
            .filter(staff::Column::Id.is_in(staff_ids))
            .all(conn)
            .await?
        {
            officers.insert(s.id, s);
        }
    }
    Ok(items
        .into_iter()
        .map(|item| ItemView {
            milestones: milestones.remove(&item.id).unwrap_or_default(),
            history: history.remove(&item.id).unwrap_or_default(),
            officer: item
                .responsible_staff_id
                .and_then(|id| officers.get(&id).cloned()),
            item,
        })
        .collect())
}

/// A plan with its items; `show_next`: whether the results of the plan's own year (what
/// was recovered) may be shown to the reader.
async fn plan_view<C: ConnectionTrait>(
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
/// most points lost first, each with the default milestones.
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
                format!("appraisal {appraisal_id} does not exist"),
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
            "a plan is made from a finalized appraisal's deductions",
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
            format!("appraisal {appraisal_id} already has a remediation plan"),
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
            responsible_staff_id: Set(None),
            target_score_x100: Set(None),
            status: Set(ItemStatus::NotStarted),
            cancel_reason: Set(None),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        insert_milestones(conn, item.id, milestones).await?;
    }
    Ok(lost.len())
}

async fn insert_milestones<C: ConnectionTrait>(
    conn: &C,
    item_id: i64,
    milestones: &[Milestone],
) -> ApiResult<()> {
    if milestones.is_empty() {
        return Ok(());
    }
    remediation_milestone::Entity::insert_many(milestones.iter().enumerate().map(|(i, m)| {
        remediation_milestone::ActiveModel {
            item_id: Set(item_id),
            position: Set(i as i32),
            label: Set(m.label.clone()),
            due_on: Set(m.due_on),
            ..Default::default()
        }
    }))
    .exec(conn)
    .await?;
    Ok(())
}

pub async fn get_plan(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<PlanView> {
    let plan = find_plan(db, id).await?;
    let u = authorize_plan(db, actor, Action::ReadRemediation, &plan).await?;
    // What was recovered is a result of the plan's own year.
    let show_next = visibility::may_see_results(db, actor, &u, plan.year).await?;
    plan_view(db, plan, show_next).await
}

/// Plans of the units the caller may read.
pub async fn list_plans(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: Option<i64>,
    year: Option<i32>,
) -> ApiResult<Vec<remediation_plan::Model>> {
    let mut query = remediation_plan::Entity::find().order_by_asc(remediation_plan::Column::Id);
    query = scoped(
        query,
        actor,
        remediation_plan::Column::UnitId,
        Reach::Records,
    );
    if let Some(u) = unit_id {
        query = query.filter(remediation_plan::Column::UnitId.eq(u));
    }
    if let Some(y) = year {
        query = query.filter(remediation_plan::Column::Year.eq(y));
    }
    let plans = query.all(db).await?;
    let visible = visible_plan_ids(db, actor, &plans).await?;
    Ok(plans
        .into_iter()
        .filter(|p| visible.contains(&p.id))
        .collect())
}

/// The ids of `plans` whose source year's results `actor` may see (`authorize_plan`, for a
/// list: one query for the units, one for the publications).
async fn visible_plan_ids<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    plans: &[remediation_plan::Model],
) -> ApiResult<std::collections::HashSet<i64>> {
    let units: HashMap<i64, unit::Model> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(plans.iter().map(|p| p.unit_id).collect::<Vec<_>>()))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let publications =
        visibility::Publications::of_years(conn, plans.iter().map(|p| p.source_year)).await?;
    Ok(plans
        .iter()
        .filter(|p| {
            units
                .get(&p.unit_id)
                .is_some_and(|u| publications.may_see(actor, &unit_ref(u), p.source_year))
        })
        .map(|p| p.id)
        .collect())
}

/// An officer assigned to an item must be an active officer of the plan's unit.
async fn check_officer<C: ConnectionTrait>(
    conn: &C,
    v: &mut Violations,
    unit_id: i64,
    staff_id: Option<i64>,
) -> ApiResult<()> {
    if let Some(id) = staff_id {
        // Another unit's officer is reported exactly like one that does not exist: an
        // error must not tell who works elsewhere.
        match staff::Entity::find_by_id(id).one(conn).await? {
            Some(s) if s.unit_id != unit_id => v.add(
                "responsible_staff_id",
                "not_found",
                format!("this unit has no officer {id}"),
            ),
            None => v.add(
                "responsible_staff_id",
                "not_found",
                format!("this unit has no officer {id}"),
            ),
            Some(s) if !s.active => v.add(
                "responsible_staff_id",
                "inactive",
                format!("officer {id} has left the unit"),
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

fn check_target(v: &mut Violations, target: Option<Decimal>, max: Option<i64>) {
    if let Some(t) = target {
        let max = max.map(from_hundredths);
        if t < Decimal::ZERO || max.is_some_and(|m| t > m) {
            v.add(
                "target_score",
                "out_of_range",
                "must be between 0 and the criterion's max score",
            );
        } else if crate::scoring::decimal::has_more_places_than(t, 2) {
            v.add(
                "target_score",
                "too_many_decimals",
                "at most 2 decimal places",
            );
        }
    }
}

/// A new item not tied to a criterion.
pub struct NewItem {
    pub title: String,
    pub action: Option<String>,
    pub responsible_staff_id: Option<i64>,
    pub milestones: Vec<Milestone>,
}

pub async fn add_item(
    db: &DatabaseConnection,
    actor: &Principal,
    plan_id: i64,
    input: NewItem,
) -> ApiResult<ItemView> {
    let txn = crate::db::begin_write(db).await?;
    let plan = find_plan(&txn, plan_id).await?;
    authorize_plan(&txn, actor, Action::ManageRemediation, &plan).await?;
    let mut v = Violations::new();
    let title =
        crate::validation::text(&mut v, "title", &input.title, 1000, true).unwrap_or_default();
    let action = crate::validation::optional_text(&mut v, "action", input.action.as_deref(), 5000);
    let milestones = check_milestones("milestones", &input.milestones, &mut v);
    check_officer(&txn, &mut v, plan.unit_id, input.responsible_staff_id).await?;
    v.into_result()?;
    let position = remediation_item::Entity::find()
        .filter(remediation_item::Column::PlanId.eq(plan.id))
        .all(&txn)
        .await?
        .len() as i32;
    let t = now();
    let item = remediation_item::ActiveModel {
        plan_id: Set(plan.id),
        unit_id: Set(plan.unit_id),
        position: Set(position),
        criterion_code: Set(None),
        title: Set(title),
        max_score_x100: Set(None),
        self_score_x100: Set(None),
        appraised_score_x100: Set(None),
        deduction_x100: Set(None),
        comment: Set(None),
        action: Set(action),
        responsible_staff_id: Set(input.responsible_staff_id),
        target_score_x100: Set(None),
        status: Set(ItemStatus::NotStarted),
        cancel_reason: Set(None),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_milestones(&txn, item.id, &milestones).await?;
    audit::record(&txn, actor, Change {
        entity: "remediation_item",
        entity_id: item.id,
        action: "create",
        unit_id: Some(plan.unit_id),
        results_year: None,
        old: None,
        new: Some(json!({"title": item.title, "action": item.action, "responsible_staff_id": item.responsible_staff_id, "milestones": milestones})),
    })
    .await?;
    let view = item_views(&txn, vec![item]).await?.remove(0);
    txn.commit().await?;
    Ok(view)
}

pub async fn get_item(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<ItemView> {
    let item = find_item(db, id).await?;
    authorize_item(db, actor, Action::ReadRemediation, &item).await?;
    Ok(item_views(db, vec![item]).await?.remove(0))
}

#[derive(Default)]
pub struct ItemPatch {
    pub title: Option<String>,
    pub action: Option<Option<String>>,
    pub responsible_staff_id: Option<Option<i64>>,
    pub milestones: Option<Vec<Milestone>>,
    pub target_score: Option<Option<Decimal>>,
}

fn item_json(v: &ItemView) -> serde_json::Value {
    json!({
        "title": v.item.title,
        "action": v.item.action,
        "responsible_staff_id": v.item.responsible_staff_id,
        "target_score": v.item.target_score_x100.map(from_hundredths),
        "status": v.item.status,
        "milestones": v.milestones.iter().map(|m| json!({"label": m.label, "due_on": m.due_on})).collect::<Vec<_>>(),
    })
}

// Described with its milestones (another table).
crate::versioned!(
    remediation_item,
    kind = "remediation-item",
    audit = "remediation_item",
    unit_id = |m| Some(m.unit_id),
    describe = |conn, m| Ok(item_views(conn, vec![m.clone()])
        .await?
        .first()
        .map(item_json)
        .unwrap_or_default()),
);

/// Edits an item: action, responsible officer (of the unit), milestones, target score.
pub async fn update_item(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    patch: ItemPatch,
    if_match: &Precondition,
) -> ApiResult<ItemView> {
    let txn = crate::db::begin_write(db).await?;
    let item = find_item(&txn, id).await?;
    authorize_item(&txn, actor, Action::ManageRemediation, &item).await?;
    if_match.check("remediation-item", item.id, item.version)?;
    let mut v = Violations::new();
    let title = match &patch.title {
        Some(_) if item.criterion_code.is_some() => {
            v.add(
                "title",
                "immutable",
                "the title of a criterion's item is the criterion's",
            );
            None
        }
        Some(t) => crate::validation::text(&mut v, "title", t, 1000, true),
        None => None,
    };
    let action = patch
        .action
        .as_ref()
        .map(|a| crate::validation::optional_text(&mut v, "action", a.as_deref(), 5000));
    let milestones = patch
        .milestones
        .as_ref()
        .map(|m| check_milestones("milestones", m, &mut v));
    if let Some(staff_id) = patch.responsible_staff_id {
        check_officer(&txn, &mut v, item.unit_id, staff_id).await?;
    }
    if let Some(target) = patch.target_score {
        check_target(&mut v, target, item.max_score_x100);
    }
    v.into_result()?;
    let write = Write::<remediation_item::Entity>::begin(&txn, actor, &item, if_match).await?;
    if let Some(milestones) = milestones {
        remediation_milestone::Entity::delete_many()
            .filter(remediation_milestone::Column::ItemId.eq(item.id))
            .exec(&txn)
            .await?;
        insert_milestones(&txn, item.id, &milestones).await?;
    }
    let mut am = remediation_item::ActiveModel {
        ..Default::default()
    };
    if let Some(t) = title {
        am.title = Set(t);
    }
    if let Some(a) = action {
        am.action = Set(a);
    }
    if let Some(s) = patch.responsible_staff_id {
        am.responsible_staff_id = Set(s);
    }
    if let Some(t) = patch.target_score {
        am.target_score_x100 = Set(t.map(to_hundredths));
    }
    let updated = write.finish(&txn, am, "update", None).await?;
    let after = item_views(&txn, vec![updated]).await?.remove(0);
    txn.commit().await?;
    Ok(after)
}

/// A progress report on an item.
pub struct ProgressReport {
    pub note: String,
    /// The new status, if it changes (as the state machine allows); `cancelled` needs a
    /// reason.
    pub status: Option<ItemStatus>,
    pub reason: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// Reports progress: a note, a new status (a cancellation needs a reason), evidence.
pub async fn report_progress(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    report: ProgressReport,
    if_match: &Precondition,
) -> ApiResult<ItemView> {
    let ProgressReport {
        note,
        status,
        reason,
        evidence,
    } = report;
    let txn = crate::db::begin_write(db).await?;
    let item = find_item(&txn, id).await?;
    authorize_item(&txn, actor, Action::ManageRemediation, &item).await?;
    let write = Write::<remediation_item::Entity>::begin(&txn, actor, &item, if_match).await?;
    let mut v = Violations::new();
    let note = crate::validation::text(&mut v, "note", &note, 5000, true).unwrap_or_default();
    let reason = crate::validation::optional_text(&mut v, "reason", reason.as_deref(), 2000);
    if status == Some(ItemStatus::Cancelled) && reason.is_none() {
        v.add("reason", "required", "a cancellation needs a reason");
    }
    let mut errors = v.into_vec();
    let evidence = scoresheet::check_evidence("evidence", &evidence, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let status = status
        .map(|to| crate::workflow::remediation_item(item.status, to))
        .transpose()?;
    let text = serde_json::to_string(&evidence).map_err(ApiError::internal)?;
    remediation_progress::ActiveModel {
        item_id: Set(item.id),
        kind: Set("progress".to_string()),
        note: Set(note.clone()),
        status: Set(status),
        reason: Set(reason.clone()),
        evidence: Set(text),
        created_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        created_by_name: Set(actor.username.clone()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut am = remediation_item::ActiveModel {
        ..Default::default()
    };
    if let Some(s) = status {
        am.status = Set(s);
        am.cancel_reason = Set((s == ItemStatus::Cancelled)
            .then(|| reason.clone())
            .flatten());
    }
    let details = json!({"note": note, "reason": reason, "evidence": evidence});
    let updated = write.finish(&txn, am, "progress", Some(details)).await?;
    let view = item_views(&txn, vec![updated]).await?.remove(0);
    txn.commit().await?;
    Ok(view)
}

/// A district appraiser's (or the unit's) remark on an item; the status does not change.
pub async fn comment(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    note: String,
) -> ApiResult<ItemView> {
    let txn = crate::db::begin_write(db).await?;
    let item = find_item(&txn, id).await?;
    authorize_item(&txn, actor, Action::CommentRemediation, &item).await?;
    let mut v = Violations::new();
    let note = crate::validation::text(&mut v, "note", &note, 5000, true).unwrap_or_default();
    v.into_result()?;
    remediation_progress::ActiveModel {
        item_id: Set(item.id),
        kind: Set("comment".to_string()),
        note: Set(note.clone()),
        status: Set(None),
        reason: Set(None),
        evidence: Set("[]".to_string()),
        created_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        created_by_name: Set(actor.username.clone()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "remediation_item",
            entity_id: item.id,
            action: "comment",
            unit_id: Some(item.unit_id),
            results_year: None,
            old: None,
            new: Some(json!({"note": note})),
        },
    )
    .await?;
    let view = item_views(&txn, vec![item]).await?.remove(0);
    txn.commit().await?;
    Ok(view)
}

pub struct ItemFilter {
    pub unit_id: Option<i64>,
    /// Every unit below this one (a district).
    pub parent_unit_id: Option<i64>,
    pub plan_id: Option<i64>,
    pub status: Option<ItemStatus>,
    pub responsible_staff_id: Option<i64>,
    pub overdue: bool,
    pub due_within_days: Option<u32>,
    pub as_of: Option<NaiveDate>,
}

/// Items across a unit or a district, optionally only the overdue or the soon due.
pub async fn list_items(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: ItemFilter,
) -> ApiResult<(NaiveDate, Vec<ItemView>)> {
    let as_of = filter.as_of.unwrap_or_else(today_in_vietnam);
    let mut query = remediation_item::Entity::find()
        .order_by_asc(remediation_item::Column::PlanId)
        .order_by_asc(remediation_item::Column::Position);
    query = scoped(
        query,
        actor,
        remediation_item::Column::UnitId,
        Reach::Records,
    );
    if let Some(u) = filter.unit_id {
        query = query.filter(remediation_item::Column::UnitId.eq(u));
    }
    if let Some(p) = filter.parent_unit_id {
        let parent = find_unit(db, p).await?;
        query = query.filter(
            remediation_item::Column::UnitId.in_subquery(
                Query::select()
                    .column(unit::Column::Id)
                    .from(unit::Entity)
                    .and_where(unit::Column::Path.starts_with(&parent.path))
                    .to_owned(),
            ),
        );
    }
    if let Some(p) = filter.plan_id {
        query = query.filter(remediation_item::Column::PlanId.eq(p));
    }
    if let Some(s) = filter.status {
        query = query.filter(remediation_item::Column::Status.eq(s));
    }
    if let Some(s) = filter.responsible_staff_id {
        query = query.filter(remediation_item::Column::ResponsibleStaffId.eq(s));
    }
    if filter.overdue || filter.due_within_days.is_some() {
        // Only open items can be overdue or due: filter in SQL, then on dates.
        query = query.filter(
            remediation_item::Column::Status.is_not_in([ItemStatus::Done, ItemStatus::Cancelled]),
        );
    }
    let items = query.all(db).await?;
    let plans = remediation_plan::Entity::find()
        .filter(
            remediation_plan::Column::Id.is_in(
                items
                    .iter()
                    .map(|i| i.plan_id)
                    .collect::<std::collections::HashSet<_>>(),
            ),
        )
        .all(db)
        .await?;
    let visible = visible_plan_ids(db, actor, &plans).await?;
    let items = items
        .into_iter()
        .filter(|i| visible.contains(&i.plan_id))
        .collect();
    let items = item_views(db, items).await?;
    let items = items
        .into_iter()
        .filter(|i| !filter.overdue || i.is_overdue(as_of))
        .filter(|i| {
            filter
                .due_within_days
                .is_none_or(|d| i.is_due_within(as_of, d))
        })
        .collect();
    Ok((as_of, items))
}

/// What the year-end report shows of a plan.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Every status with its count, in the order of the statuses' names.
    pub by_status: Vec<(ItemStatus, usize)>,
    pub overdue: usize,
    pub points_at_stake: Decimal,
    /// Points regained per the next year's finalized appraisal (None until it exists).
    pub points_recovered: Option<Decimal>,
    /// officer id (None: unassigned) → (name, items, done, overdue)
    pub by_officer: Vec<(Option<i64>, String, usize, usize, usize)>,
}

impl PlanView {
    /// The score the unit got on an item's criterion in the plan's year, if appraised.
    pub fn next_score(&self, item: &remediation_item::Model) -> Option<Decimal> {
        let code = item.criterion_code.as_ref()?;
        self.next_scores.as_ref()?.get(code).copied()
    }

    pub fn summary(&self, as_of: NaiveDate) -> Summary {
        let mut s = Summary::default();
        let mut statuses = ItemStatus::ALL.to_vec();
        statuses.sort_by_key(|s| s.as_str());
        s.by_status = statuses
            .into_iter()
            .map(|status| {
                let n = self
                    .items
                    .iter()
                    .filter(|i| i.item.status == status)
                    .count();
                (status, n)
            })
            .collect();
        let mut officers: BTreeMap<Option<i64>, (String, usize, usize, usize)> = BTreeMap::new();
        for i in &self.items {
            let overdue = i.is_overdue(as_of);
            if overdue {
                s.overdue += 1;
            }
            s.points_at_stake += i
                .item
                .deduction_x100
                .map(from_hundredths)
                .unwrap_or_default();
            let entry = officers
                .entry(i.item.responsible_staff_id)
                .or_insert_with(|| {
                    (
                        i.officer
                            .as_ref()
                            .map_or("(chưa phân công)".to_string(), |o| o.full_name.clone()),
                        0,
                        0,
                        0,
                    )
                });
            entry.1 += 1;
            if i.item.status == ItemStatus::Done {
                entry.2 += 1;
            }
            if overdue {
                entry.3 += 1;
            }
        }
        if self.next_scores.is_some() {
            s.points_recovered = Some(round2(
                self.items
                    .iter()
                    .filter_map(|i| {
                        let next = self.next_score(&i.item)?;
                        let before = from_hundredths(i.item.appraised_score_x100?);
                        Some((next - before).max(Decimal::ZERO))
                    })
                    .sum(),
            ));
        }
        s.by_officer = officers
            .into_iter()
            .map(|(id, (name, n, done, overdue))| (id, name, n, done, overdue))
            .collect();
        s
    }
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
    let view = plan_view(db, plan, false).await?;
    Ok(view
        .items
        .iter()
        .filter_map(|i| Some((i.item.criterion_code.clone()?, i.responsible_text())))
        .collect())
}
