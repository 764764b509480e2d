//! Items of a plan: adding tasks of its own, changing an item (action, officers, bodies,
//! deadlines, recurring duty, targets), a milestone's status, progress reports (with a
//! measurement of a task's target) and remarks, and the lists of items (overdue, due soon,
//! by officer).

use super::{
    Assignment, ItemStatus, ItemView, MAX_MILESTONES, Milestone, OfficerRole, authorize_item,
    authorize_plan, find_item, find_plan, item_views,
};
use crate::auth::Principal;
use crate::auth::policy::Action;
use crate::error::{ApiError, ApiResult, Violations, text};
use crate::scoring::{from_hundredths, to_hundredths};
use crate::services::audit::{self, Change};
use crate::services::now;
use crate::services::scope::{Page, PageRequest, Reach, scoped};
use crate::services::scoresheet::{self, Evidence};
use crate::services::units::{find_unit, unit_ref};
use crate::services::versioned::{Precondition, Write, record_created};
use chrono::NaiveDate;
use entity::status::MilestoneStatus;
use entity::{
    remediation_item, remediation_item_officer, remediation_milestone, remediation_plan,
    remediation_progress, staff,
};
use parindex_domain::schedule::{Recurrence, Target};
use parindex_domain::vietnam::today as today_in_vietnam;
use rust_decimal::Decimal;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use std::collections::HashSet;

/// The most officers and bodies on one item.
const MAX_PEOPLE: usize = 30;

pub(super) fn check_milestones(
    field: &str,
    milestones: &[Milestone],
    v: &mut Violations,
) -> Vec<Milestone> {
    if milestones.len() > MAX_MILESTONES {
        v.add(
            field,
            "too_many",
            text!(
                "at most {MAX_MILESTONES} milestones",
                "tối đa {MAX_MILESTONES} mốc thời gian"
            ),
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

/// Inserts pending milestones (`recurring`: occurrences of the item's duty).
pub(super) async fn insert_milestones<C: ConnectionTrait>(
    conn: &C,
    item_id: i64,
    milestones: &[Milestone],
    recurring: bool,
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
            status: Set(MilestoneStatus::Pending),
            met_on: Set(None),
            note: Set(None),
            evidence: Set("[]".to_string()),
            recurring: Set(recurring),
            ..Default::default()
        }
    }))
    .exec(conn)
    .await?;
    Ok(())
}

/// Replaces the item's milestones of one kind (its own dates, or its duty's occurrences).
async fn replace_milestones<C: ConnectionTrait>(
    conn: &C,
    item_id: i64,
    milestones: &[Milestone],
    recurring: bool,
) -> ApiResult<()> {
    remediation_milestone::Entity::delete_many()
        .filter(remediation_milestone::Column::ItemId.eq(item_id))
        .filter(remediation_milestone::Column::Recurring.eq(recurring))
        .exec(conn)
        .await?;
    insert_milestones(conn, item_id, milestones, recurring).await
}

/// The occurrences of a recurring duty in the plan's year.
fn occurrences(rule: &Recurrence, year: i32) -> Vec<Milestone> {
    rule.occurrences(year)
        .into_iter()
        .map(|(label, due_on)| Milestone { label, due_on })
        .collect()
}

/// Officers of an item: active officers of the plan's unit, each once, one lead at most
/// (another unit's officer reads exactly like a missing one: an error must not tell who
/// works elsewhere).
async fn check_assignments<C: ConnectionTrait>(
    conn: &C,
    v: &mut Violations,
    unit_id: i64,
    assignments: &[Assignment],
) -> ApiResult<()> {
    if assignments.len() > MAX_PEOPLE {
        v.add(
            "officers",
            "too_many",
            text!(
                "at most {MAX_PEOPLE} officers",
                "tối đa {MAX_PEOPLE} công chức"
            ),
        );
        return Ok(());
    }
    if assignments
        .iter()
        .filter(|a| a.role == OfficerRole::Lead)
        .count()
        > 1
    {
        v.add(
            "officers",
            "two_leads",
            text!(
                "an item has one lead officer",
                "mỗi nhiệm vụ chỉ có một người chủ trì"
            ),
        );
    }
    let mut seen = HashSet::new();
    for (i, a) in assignments.iter().enumerate() {
        let field = format!("officers[{i}].staff_id");
        if !seen.insert(a.staff_id) {
            v.add(
                field,
                "duplicate",
                text!(
                    "officer {} is named twice",
                    "công chức {} được nêu hai lần",
                    a.staff_id
                ),
            );
            continue;
        }
        match staff::Entity::find_by_id(a.staff_id).one(conn).await? {
            Some(s) if s.unit_id == unit_id && !s.active => v.add(
                field,
                "inactive",
                text!(
                    "officer {} has left the unit",
                    "công chức {} đã rời đơn vị",
                    a.staff_id
                ),
            ),
            Some(s) if s.unit_id == unit_id => {}
            _ => v.add(
                field,
                "not_found",
                text!(
                    "this unit has no officer {}",
                    "đơn vị này không có công chức {}",
                    a.staff_id
                ),
            ),
        }
    }
    Ok(())
}

/// The bodies outside the staff list, trimmed, each once.
fn check_bodies(v: &mut Violations, bodies: &[String]) -> Vec<String> {
    if bodies.len() > MAX_PEOPLE {
        v.add(
            "bodies",
            "too_many",
            text!(
                "at most {MAX_PEOPLE} bodies",
                "tối đa {MAX_PEOPLE} cơ quan, tổ chức"
            ),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for (i, b) in bodies.iter().enumerate() {
        if let Some(b) = crate::validation::text(v, &format!("bodies[{i}]"), b, 200, true)
            && !out.contains(&b)
        {
            out.push(b);
        }
    }
    out
}

fn check_recurrence(v: &mut Violations, rule: &Recurrence) {
    for (field, message) in rule.check() {
        v.add(format!("recurrence.{field}"), "out_of_range", message);
    }
}

fn check_task_target(v: &mut Violations, target: &Target) -> Target {
    if target.value < Decimal::ZERO || target.value > Decimal::from(1_000_000_000) {
        v.add(
            "target.value",
            "out_of_range",
            text!(
                "must be between 0 and 1,000,000,000",
                "phải từ 0 đến 1.000.000.000"
            ),
        );
    } else if crate::scoring::decimal::has_more_places_than(target.value, 2) {
        v.add(
            "target.value",
            "too_many_decimals",
            text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
        );
    }
    let unit =
        crate::validation::text(v, "target.unit", &target.unit, 50, true).unwrap_or_default();
    Target {
        value: target.value,
        unit,
        direction: target.direction,
    }
}

fn check_target_score(v: &mut Violations, target: Option<Decimal>, max: Option<i64>) {
    if let Some(t) = target {
        let max = max.map(from_hundredths);
        if t < Decimal::ZERO || max.is_some_and(|m| t > m) {
            v.add(
                "target_score",
                "out_of_range",
                text!(
                    "must be between 0 and the criterion's max score",
                    "phải từ 0 đến điểm tối đa của tiêu chí"
                ),
            );
        } else if crate::scoring::decimal::has_more_places_than(t, 2) {
            v.add(
                "target_score",
                "too_many_decimals",
                text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
            );
        }
    }
}

/// Replaces an item's officers.
async fn write_assignments<C: ConnectionTrait>(
    conn: &C,
    item_id: i64,
    assignments: &[Assignment],
) -> ApiResult<()> {
    remediation_item_officer::Entity::delete_many()
        .filter(remediation_item_officer::Column::ItemId.eq(item_id))
        .exec(conn)
        .await?;
    if assignments.is_empty() {
        return Ok(());
    }
    remediation_item_officer::Entity::insert_many(assignments.iter().enumerate().map(|(i, a)| {
        remediation_item_officer::ActiveModel {
            item_id: Set(item_id),
            staff_id: Set(a.staff_id),
            role: Set(a.role.as_str().to_string()),
            position: Set(i as i32),
            ..Default::default()
        }
    }))
    .exec(conn)
    .await?;
    Ok(())
}

/// A new item of a plan: a task not tied to a criterion ("each officer proposes one
/// initiative", "≥ 50 % of dossiers online").
#[derive(Default)]
pub struct NewItem {
    pub title: String,
    pub action: Option<String>,
    pub officers: Vec<Assignment>,
    pub bodies: Vec<String>,
    pub milestones: Vec<Milestone>,
    pub recurrence: Option<Recurrence>,
    pub target: Option<Target>,
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
    check_assignments(&txn, &mut v, plan.unit_id, &input.officers).await?;
    let bodies = check_bodies(&mut v, &input.bodies);
    if let Some(rule) = &input.recurrence {
        check_recurrence(&mut v, rule);
    }
    let target = input.target.as_ref().map(|t| check_task_target(&mut v, t));
    v.into_result()?;
    let position = remediation_item::Entity::find()
        .filter(remediation_item::Column::PlanId.eq(plan.id))
        .count(&txn)
        .await? as i32;
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
        target_score_x100: Set(None),
        status: Set(ItemStatus::NotStarted),
        cancel_reason: Set(None),
        bodies: Set(serde_json::to_string(&bodies).map_err(ApiError::internal)?),
        recurrence: Set(input
            .recurrence
            .as_ref()
            .map(|r| serde_json::to_string(r).map_err(ApiError::internal))
            .transpose()?),
        target_value_x100: Set(target.as_ref().map(|t| to_hundredths(t.value))),
        target_unit: Set(target.as_ref().map(|t| t.unit.clone())),
        target_direction: Set(target.as_ref().map(|t| t.direction.as_str().to_string())),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_milestones(&txn, item.id, &milestones, false).await?;
    if let Some(rule) = &input.recurrence {
        insert_milestones(&txn, item.id, &occurrences(rule, plan.year), true).await?;
    }
    write_assignments(&txn, item.id, &input.officers).await?;
    record_created::<remediation_item::Entity, _>(&txn, actor, &item, "create").await?;
    let view = item_views(&txn, vec![item]).await?.remove(0);
    txn.commit().await?;
    Ok(view)
}

pub async fn get_item(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<ItemView> {
    let item = find_item(db, id).await?;
    authorize_item(db, actor, Action::ReadRemediation, &item).await?;
    Ok(item_views(db, vec![item]).await?.remove(0))
}

/// A change of an item; `None` leaves a field as it is.
#[derive(Default)]
pub struct ItemPatch {
    pub title: Option<String>,
    pub action: Option<Option<String>>,
    /// Sets the lead (keeping the supporting officers); `Some(None)` removes the lead.
    pub responsible_staff_id: Option<Option<i64>>,
    /// Replaces every officer.
    pub officers: Option<Vec<Assignment>>,
    pub bodies: Option<Vec<String>>,
    /// Replaces the item's own dated milestones (a recurring duty's stay).
    pub milestones: Option<Vec<Milestone>>,
    /// Sets (or with `Some(None)` removes) the recurring duty; its occurrences in the
    /// plan's year are made anew.
    pub recurrence: Option<Option<Recurrence>>,
    pub target_score: Option<Option<Decimal>>,
    pub target: Option<Option<Target>>,
}

/// The officers after a patch: `officers` replaces them, `responsible_staff_id` the lead.
fn patched_officers(current: &ItemView, patch: &ItemPatch) -> Option<Vec<Assignment>> {
    if let Some(all) = &patch.officers {
        return Some(all.clone());
    }
    let lead = patch.responsible_staff_id?;
    let mut all: Vec<Assignment> = current
        .officers
        .iter()
        .filter(|(role, s)| *role == OfficerRole::Support && Some(s.id) != lead)
        .map(|(_, s)| Assignment {
            staff_id: s.id,
            role: OfficerRole::Support,
        })
        .collect();
    if let Some(id) = lead {
        all.insert(
            0,
            Assignment {
                staff_id: id,
                role: OfficerRole::Lead,
            },
        );
    }
    Some(all)
}

/// The checked values of a patch.
struct CheckedPatch {
    title: Option<String>,
    action: Option<Option<String>>,
    officers: Option<Vec<Assignment>>,
    bodies: Option<Vec<String>>,
    milestones: Option<Vec<Milestone>>,
    target: Option<Option<Target>>,
}

async fn check_patch<C: ConnectionTrait>(
    conn: &C,
    current: &ItemView,
    patch: &ItemPatch,
) -> ApiResult<CheckedPatch> {
    let item = &current.item;
    let mut v = Violations::new();
    let title = match &patch.title {
        Some(_) if item.criterion_code.is_some() => {
            v.add(
                "title",
                "immutable",
                text!(
                    "the title of a criterion's item is the criterion's",
                    "tên của nhiệm vụ gắn với tiêu chí là tên tiêu chí"
                ),
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
    let officers = patched_officers(current, patch);
    if let Some(all) = &officers {
        check_assignments(conn, &mut v, item.unit_id, all).await?;
    }
    let bodies = patch.bodies.as_ref().map(|b| check_bodies(&mut v, b));
    let milestones = patch
        .milestones
        .as_ref()
        .map(|m| check_milestones("milestones", m, &mut v));
    if let Some(Some(rule)) = &patch.recurrence {
        check_recurrence(&mut v, rule);
    }
    if let Some(target) = patch.target_score {
        check_target_score(&mut v, target, item.max_score_x100);
    }
    let target = patch
        .target
        .as_ref()
        .map(|t| t.as_ref().map(|t| check_task_target(&mut v, t)));
    v.into_result()?;
    Ok(CheckedPatch {
        title,
        action,
        officers,
        bodies,
        milestones,
        target,
    })
}

/// Edits an item: action, officers and bodies, deadlines, recurring duty, targets.
pub async fn update_item(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    patch: ItemPatch,
    precondition: &Precondition,
) -> ApiResult<ItemView> {
    let txn = crate::db::begin_write(db).await?;
    let item = find_item(&txn, id).await?;
    let plan = authorize_item(&txn, actor, Action::ManageRemediation, &item).await?;
    let write = Write::<remediation_item::Entity>::begin(&txn, actor, &item, precondition).await?;
    let current = item_views(&txn, vec![item.clone()]).await?.remove(0);
    let checked = check_patch(&txn, &current, &patch).await?;
    if let Some(milestones) = &checked.milestones {
        replace_milestones(&txn, item.id, milestones, false).await?;
    }
    if let Some(rule) = &patch.recurrence {
        let occurring = rule.as_ref().map(|r| occurrences(r, plan.year));
        replace_milestones(&txn, item.id, &occurring.unwrap_or_default(), true).await?;
    }
    if let Some(officers) = &checked.officers {
        write_assignments(&txn, item.id, officers).await?;
    }
    let mut am = remediation_item::ActiveModel {
        ..Default::default()
    };
    if let Some(t) = checked.title {
        am.title = Set(t);
    }
    if let Some(a) = checked.action {
        am.action = Set(a);
    }
    if let Some(b) = &checked.bodies {
        am.bodies = Set(serde_json::to_string(b).map_err(ApiError::internal)?);
    }
    if let Some(rule) = &patch.recurrence {
        am.recurrence = Set(rule
            .as_ref()
            .map(|r| serde_json::to_string(r).map_err(ApiError::internal))
            .transpose()?);
    }
    if let Some(t) = patch.target_score {
        am.target_score_x100 = Set(t.map(to_hundredths));
    }
    if let Some(target) = &checked.target {
        am.target_value_x100 = Set(target.as_ref().map(|t| to_hundredths(t.value)));
        am.target_unit = Set(target.as_ref().map(|t| t.unit.clone()));
        am.target_direction = Set(target.as_ref().map(|t| t.direction.as_str().to_string()));
    }
    let updated = write.finish(&txn, am, "update", None).await?;
    let after = item_views(&txn, vec![updated]).await?.remove(0);
    txn.commit().await?;
    Ok(after)
}

/// A milestone's new state: met (on a day), missed, or back to pending; with a note and
/// evidence.
pub struct MilestoneUpdate {
    pub status: MilestoneStatus,
    /// The day it was met (default: today in Vietnam); only with `met`.
    pub met_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// Sets one milestone's status (as the state machine allows), audited on its item.
pub async fn update_milestone(
    db: &DatabaseConnection,
    actor: &Principal,
    item_id: i64,
    milestone_id: i64,
    update: MilestoneUpdate,
    precondition: &Precondition,
) -> ApiResult<ItemView> {
    let txn = crate::db::begin_write(db).await?;
    let item = find_item(&txn, item_id).await?;
    authorize_item(&txn, actor, Action::ManageRemediation, &item).await?;
    let milestone = remediation_milestone::Entity::find_by_id(milestone_id)
        .filter(remediation_milestone::Column::ItemId.eq(item.id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "item {item_id} has no milestone {milestone_id}",
                "nhiệm vụ {item_id} không có mốc {milestone_id}"
            ))
        })?;
    let write = Write::<remediation_item::Entity>::begin(&txn, actor, &item, precondition).await?;
    let mut v = Violations::new();
    let note = crate::validation::optional_text(&mut v, "note", update.note.as_deref(), 2000);
    if update.met_on.is_some() && update.status != MilestoneStatus::Met {
        v.add(
            "met_on",
            "unexpected_input",
            text!(
                "only a met milestone has a day it was met",
                "chỉ mốc đã đạt mới có ngày đạt"
            ),
        );
    }
    let mut errors = v.into_vec();
    let evidence = scoresheet::check_evidence("evidence", &update.evidence, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let named = crate::services::evidence::named_files("evidence", &evidence);
    crate::services::evidence::check_file_ids(&txn, item.unit_id, &named).await?;
    let status = crate::workflow::milestone(milestone.status, update.status)?;
    let mut am: remediation_milestone::ActiveModel = milestone.clone().into();
    am.status = Set(status);
    am.met_on =
        Set((status == MilestoneStatus::Met)
            .then(|| update.met_on.unwrap_or_else(today_in_vietnam)));
    am.note = Set(note.clone());
    am.evidence = Set(serde_json::to_string(&evidence).map_err(ApiError::internal)?);
    am.update(&txn).await?;
    let details = json!({"milestone": milestone.label, "due_on": milestone.due_on, "note": note, "evidence": evidence});
    let updated = write
        .finish(
            &txn,
            remediation_item::ActiveModel {
                ..Default::default()
            },
            "milestone",
            Some(details),
        )
        .await?;
    let view = item_views(&txn, vec![updated]).await?.remove(0);
    txn.commit().await?;
    Ok(view)
}

/// A progress report on an item.
pub struct ProgressReport {
    pub note: String,
    /// The new status, if it changes (as the state machine allows); `cancelled` needs a
    /// reason.
    pub status: Option<ItemStatus>,
    pub reason: Option<String>,
    pub evidence: Vec<Evidence>,
    /// What was measured of a task's target (a task with a target only)…
    pub measured: Option<Decimal>,
    /// …as of this day (default: the day of the report).
    pub measured_on: Option<NaiveDate>,
}

/// Reports progress: a note, a new status (a cancellation needs a reason), evidence, a
/// measurement.
pub async fn report_progress(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    report: ProgressReport,
    precondition: &Precondition,
) -> ApiResult<ItemView> {
    let txn = crate::db::begin_write(db).await?;
    let item = find_item(&txn, id).await?;
    authorize_item(&txn, actor, Action::ManageRemediation, &item).await?;
    let write = Write::<remediation_item::Entity>::begin(&txn, actor, &item, precondition).await?;
    let mut v = Violations::new();
    let note =
        crate::validation::text(&mut v, "note", &report.note, 5000, true).unwrap_or_default();
    let reason = crate::validation::optional_text(&mut v, "reason", report.reason.as_deref(), 2000);
    if report.status == Some(ItemStatus::Cancelled) && reason.is_none() {
        v.add(
            "reason",
            "required",
            text!("a cancellation needs a reason", "hủy nhiệm vụ cần có lý do"),
        );
    }
    if report.measured_on.is_some() && report.measured.is_none() {
        v.add(
            "measured_on",
            "unexpected_input",
            text!("goes with `measured`", "chỉ đi kèm `measured`"),
        );
    }
    if let Some(m) = report.measured {
        if item.target_value_x100.is_none() {
            v.add(
                "measured",
                "unexpected_input",
                text!(
                    "only a task with a target is measured",
                    "chỉ nhiệm vụ có chỉ tiêu mới báo cáo số đo"
                ),
            );
        } else if m < Decimal::ZERO || m > Decimal::from(1_000_000_000) {
            v.add(
                "measured",
                "out_of_range",
                text!(
                    "must be between 0 and 1,000,000,000",
                    "phải từ 0 đến 1.000.000.000"
                ),
            );
        } else if crate::scoring::decimal::has_more_places_than(m, 2) {
            v.add(
                "measured",
                "too_many_decimals",
                text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
            );
        }
    }
    let mut errors = v.into_vec();
    let evidence = scoresheet::check_evidence("evidence", &report.evidence, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let named = crate::services::evidence::named_files("evidence", &evidence);
    crate::services::evidence::check_file_ids(&txn, item.unit_id, &named).await?;
    let status = report
        .status
        .map(|to| crate::workflow::remediation_item(item.status, to))
        .transpose()?;
    remediation_progress::ActiveModel {
        item_id: Set(item.id),
        kind: Set(super::HistoryKind::Progress.as_str().to_string()),
        note: Set(note.clone()),
        status: Set(status),
        reason: Set(reason.clone()),
        evidence: Set(serde_json::to_string(&evidence).map_err(ApiError::internal)?),
        measured_x100: Set(report.measured.map(to_hundredths)),
        measured_on: Set(report.measured.and(report.measured_on)),
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
    let details =
        json!({"note": note, "reason": reason, "evidence": evidence, "measured": report.measured});
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
        kind: Set(super::HistoryKind::Comment.as_str().to_string()),
        note: Set(note.clone()),
        status: Set(None),
        reason: Set(None),
        evidence: Set("[]".to_string()),
        measured_x100: Set(None),
        measured_on: Set(None),
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
    /// Items this officer leads or supports.
    pub responsible_staff_id: Option<i64>,
    pub overdue: bool,
    pub due_within_days: Option<u32>,
    pub as_of: Option<NaiveDate>,
}

/// Items across a unit or a district, optionally only the overdue or the soon due, one
/// page: those of the plans the caller may read (`visible_plans`).
pub async fn list_items(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: ItemFilter,
    page: PageRequest,
) -> ApiResult<(NaiveDate, Page<ItemView>)> {
    let as_of = filter.as_of.unwrap_or_else(today_in_vietnam);
    let plans = super::visible_plans(actor);
    let mut query = scoped(
        remediation_item::Entity::find(),
        actor,
        remediation_item::Column::UnitId,
        Reach::Records,
    )
    .filter(
        remediation_item::Column::PlanId.in_subquery(plans.into_ids(remediation_plan::Column::Id)),
    )
    .order_by_asc(remediation_item::Column::PlanId)
    .order_by_asc(remediation_item::Column::Position);
    if let Some(u) = filter.unit_id {
        query = query.filter(remediation_item::Column::UnitId.eq(u));
    }
    if let Some(p) = filter.parent_unit_id {
        let parent = find_unit(db, p).await?;
        query = query.within(remediation_item::Column::UnitId, &unit_ref(&parent));
    }
    if let Some(p) = filter.plan_id {
        query = query.filter(remediation_item::Column::PlanId.eq(p));
    }
    if let Some(s) = filter.status {
        query = query.filter(remediation_item::Column::Status.eq(s));
    }
    if let Some(s) = filter.responsible_staff_id {
        query = query.filter(
            remediation_item::Column::Id.in_subquery(
                Query::select()
                    .column(remediation_item_officer::Column::ItemId)
                    .from(remediation_item_officer::Entity)
                    .and_where(remediation_item_officer::Column::StaffId.eq(s))
                    .to_owned(),
            ),
        );
    }
    let dated = filter.overdue || filter.due_within_days.is_some();
    if dated {
        // Only open items can be overdue or due: filter in SQL, then on dates.
        query = query.filter(
            remediation_item::Column::Status.is_not_in([ItemStatus::Done, ItemStatus::Cancelled]),
        );
    }
    let page = if dated {
        // Whether an item is overdue or due soon is its schedule's (recurring deadlines,
        // met milestones): decided in Rust, over the scope's open items, then paged.
        query
            .page_where(
                db,
                page,
                async |items| item_views(db, items).await,
                |i: &ItemView| {
                    (!filter.overdue || i.is_overdue(as_of))
                        && filter
                            .due_within_days
                            .is_none_or(|d| i.is_due_within(as_of, d))
                },
            )
            .await?
    } else {
        query
            .page(db, page)
            .await?
            .try_map_all(async |items| item_views(db, items).await)
            .await?
    };
    Ok((as_of, page))
}
