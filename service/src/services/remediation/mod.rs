//! Remediation plans, as the seed letter writes them: from a finalized appraisal's
//! deductions, one item per lost point, plus tasks of its own (with a numeric target);
//! each item with one lead officer and any number of supporting officers or bodies outside
//! the staff list, its own deadlines (each with a status) and recurring duties, progress
//! reports with evidence and measurements, and the year-end report of what was recovered.
//!
//! - `plans`: making, reading and listing plans;
//! - `items`: adding and changing items, their officers, deadlines and progress;
//! - here: the shapes clients send, the views the routes show, loading them, and access.

mod items;
mod plans;

pub use items::{
    ItemFilter, ItemPatch, MilestoneUpdate, NewItem, ProgressReport, add_item, comment, get_item,
    list_items, report_progress, update_item, update_milestone,
};
pub use plans::{create_plan, get_plan, list_plans, responsible_by_code};

use super::scope::{Reach, Scoped, scoped};
use super::units::{find_unit, unit_ref};
use super::visibility;
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, text};
use crate::scoring::{from_hundredths, round2};
use chrono::NaiveDate;
use entity::status::MilestoneStatus;
use entity::{
    remediation_item, remediation_item_officer, remediation_milestone, remediation_plan,
    remediation_progress, staff, unit,
};
use parindex_domain::schedule::{self, Deadline, Recurrence, Target};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

pub use entity::status::RemediationItemStatus as ItemStatus;

/// The plans `actor` may read: in its read scope, and whose source year's results it may
/// see.
fn visible_plans(actor: &Principal) -> Scoped<remediation_plan::Entity> {
    let query = scoped(
        remediation_plan::Entity::find(),
        actor,
        remediation_plan::Column::UnitId,
        Reach::Records,
    );
    match visibility::results_condition(
        actor,
        "remediation_plans.unit_id",
        "remediation_plans.source_year",
    ) {
        Some(condition) => query.filter(Expr::cust(condition)),
        None => query,
    }
}

/// What an entry of an item's history is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// A progress report by the unit (note, status, evidence, measure).
    Progress,
    /// A remark, e.g. the district's follow-up; changes nothing.
    Comment,
}

impl HistoryKind {
    /// The name stored in `remediation_progress.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryKind::Progress => "progress",
            HistoryKind::Comment => "comment",
        }
    }

    /// The kind of a stored entry (anything but a comment is a report).
    pub fn of_stored(kind: &str) -> Self {
        if kind == HistoryKind::Comment.as_str() {
            HistoryKind::Comment
        } else {
            HistoryKind::Progress
        }
    }
}

/// A deadline of an item as clients set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    #[schema(example = "đợt 1", min_length = 1, max_length = 100)]
    pub label: String,
    #[schema(example = "2024-10-31")]
    pub due_on: NaiveDate,
}

/// What an officer does on an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfficerRole {
    /// Answers for it ("chủ trì"); one per item.
    Lead,
    /// Works on it ("phối hợp").
    Support,
}

impl OfficerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OfficerRole::Lead => "lead",
            OfficerRole::Support => "support",
        }
    }

    fn parse(s: &str) -> OfficerRole {
        if s == "lead" {
            OfficerRole::Lead
        } else {
            OfficerRole::Support
        }
    }
}

/// An officer of the unit on an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub staff_id: i64,
    pub role: OfficerRole,
}

pub const MAX_MILESTONES: usize = 24;

/// An item with its officers, deadlines and history.
#[derive(Clone, Debug)]
pub struct ItemView {
    pub item: remediation_item::Model,
    /// Its own dated milestones and the occurrences of its recurring duty, by date.
    pub milestones: Vec<remediation_milestone::Model>,
    pub history: Vec<remediation_progress::Model>,
    /// Its officers, the lead first.
    pub officers: Vec<(OfficerRole, staff::Model)>,
    /// Bodies outside the staff list.
    pub bodies: Vec<String>,
    pub recurrence: Option<Recurrence>,
    pub target: Option<Target>,
}

impl ItemView {
    fn deadlines(&self) -> Vec<Deadline> {
        self.milestones
            .iter()
            .map(|m| Deadline {
                due_on: m.due_on,
                met: m.status == MilestoneStatus::Met,
            })
            .collect()
    }

    fn is_open(&self) -> bool {
        !matches!(self.item.status, ItemStatus::Done | ItemStatus::Cancelled)
    }

    /// Open with a milestone past its date and not met (`schedule::is_overdue`).
    pub fn is_overdue(&self, as_of: NaiveDate) -> bool {
        self.is_open() && schedule::is_overdue(&self.deadlines(), as_of)
    }

    /// Open with a milestone not met in `as_of ..= as_of + days`.
    pub fn is_due_within(&self, as_of: NaiveDate, days: u32) -> bool {
        self.is_open() && schedule::is_due_within(&self.deadlines(), as_of, days)
    }

    /// The earliest milestone not met.
    pub fn next_due(&self) -> Option<NaiveDate> {
        schedule::next_due(&self.deadlines())
    }

    pub fn lead(&self) -> Option<&staff::Model> {
        self.officers
            .iter()
            .find(|(role, _)| *role == OfficerRole::Lead)
            .map(|(_, s)| s)
    }

    /// A task's latest measurement by its last deadline, and whether it meets the target.
    pub fn achieved(&self) -> Option<(Decimal, bool)> {
        let target = self.target.as_ref()?;
        let measurements: Vec<(NaiveDate, Decimal)> = self
            .history
            .iter()
            .filter_map(|p| {
                let reported = parindex_domain::vietnam::day_of(p.created_at);
                Some((
                    p.measured_on.unwrap_or(reported),
                    from_hundredths(p.measured_x100?),
                ))
            })
            .collect();
        let by = self.milestones.iter().map(|m| m.due_on).max();
        schedule::achieved(target, &measurements, by)
    }

    /// Who answers for it and by when, in the letter's words: "Nguyễn Thị Liên (Công chức
    /// VP-TK) chủ trì; phối hợp: …, UBMT xã. <action>. Hạn: đợt 1 31/10/2024; ngày 25 hằng
    /// tháng"; without a lead, "Toàn bộ CBCC thực hiện. …".
    pub fn responsible_text(&self) -> String {
        let others: Vec<String> = self
            .officers
            .iter()
            .filter(|(role, _)| *role == OfficerRole::Support)
            .map(|(_, s)| s.full_name.clone())
            .chain(self.bodies.iter().cloned())
            .collect();
        let mut parts = Vec::new();
        match (self.lead(), others.is_empty()) {
            (Some(o), true) => parts.push(format!("{} ({}) chủ trì", o.full_name, o.title)),
            (Some(o), false) => parts.push(format!(
                "{} ({}) chủ trì; phối hợp: {}",
                o.full_name,
                o.title,
                others.join(", ")
            )),
            // With no lead, the bodies the letter names are the ones who act.
            (None, false) => parts.push(format!("{} thực hiện", others.join(", "))),
            (None, true) => {}
        }
        if let Some(a) = &self.item.action {
            parts.push(a.trim_end_matches('.').to_string());
        }
        if let Some(due) = self.deadlines_text() {
            parts.push(due);
        }
        parts.join(". ")
    }

    /// Its deadlines in the letter's words: "Hạn: đợt 1 31/10/2024; ngày 25 hằng tháng".
    pub fn deadlines_text(&self) -> Option<String> {
        let mut due: Vec<String> = self
            .milestones
            .iter()
            .filter(|m| !m.recurring)
            .map(|m| format!("{} {}", m.label, m.due_on.format("%d/%m/%Y")))
            .collect();
        if let Some(r) = &self.recurrence {
            due.push(r.words());
        }
        (!due.is_empty()).then(|| format!("Hạn: {}", due.join("; ")))
    }
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

impl PlanView {
    /// The remediation text per criterion code (the appendix's last column).
    pub fn responsible_by_code(&self) -> HashMap<String, String> {
        self.items
            .iter()
            .filter_map(|i| Some((i.item.criterion_code.clone()?, i.responsible_text())))
            .collect()
    }
}

pub async fn find_plan<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> ApiResult<remediation_plan::Model> {
    remediation_plan::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "remediation plan {id} does not exist",
                "không có kế hoạch khắc phục {id}"
            ))
        })
}

pub async fn find_item<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> ApiResult<remediation_item::Model> {
    remediation_item::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "remediation item {id} does not exist",
                "không có nhiệm vụ khắc phục {id}"
            ))
        })
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
) -> ApiResult<remediation_plan::Model> {
    let plan = find_plan(conn, item.plan_id).await?;
    authorize_plan(conn, actor, action, &plan).await?;
    Ok(plan)
}

/// A task's target from its columns.
fn target_of(item: &remediation_item::Model) -> Option<Target> {
    Some(Target {
        value: from_hundredths(item.target_value_x100?),
        unit: item.target_unit.clone().unwrap_or_default(),
        direction: schedule::Direction::parse(item.target_direction.as_deref()?)?,
    })
}

/// Loads items with their milestones, history and officers, a few queries for all.
async fn item_views<C: ConnectionTrait>(
    conn: &C,
    items: Vec<remediation_item::Model>,
) -> ApiResult<Vec<ItemView>> {
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut milestones: HashMap<i64, Vec<remediation_milestone::Model>> = HashMap::new();
    let mut history: HashMap<i64, Vec<remediation_progress::Model>> = HashMap::new();
    let mut assigned: HashMap<i64, Vec<remediation_item_officer::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for m in remediation_milestone::Entity::find()
            .filter(remediation_milestone::Column::ItemId.is_in(chunk.to_vec()))
            .order_by_asc(remediation_milestone::Column::DueOn)
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
        for o in remediation_item_officer::Entity::find()
            .filter(remediation_item_officer::Column::ItemId.is_in(chunk.to_vec()))
            .order_by_asc(remediation_item_officer::Column::Position)
            .all(conn)
            .await?
        {
            assigned.entry(o.item_id).or_default().push(o);
        }
    }
    let staff_ids: Vec<i64> = assigned.values().flatten().map(|o| o.staff_id).collect();
    let mut officers: HashMap<i64, staff::Model> = HashMap::new();
    for chunk in staff_ids.chunks(500) {
        for s in staff::Entity::find()
            .filter(staff::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            officers.insert(s.id, s);
        }
    }
    Ok(items
        .into_iter()
        .map(|item| {
            let mut people: Vec<(OfficerRole, staff::Model)> = assigned
                .remove(&item.id)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| {
                    Some((
                        OfficerRole::parse(&o.role),
                        officers.get(&o.staff_id)?.clone(),
                    ))
                })
                .collect();
            people.sort_by_key(|(role, _)| *role != OfficerRole::Lead);
            ItemView {
                milestones: milestones.remove(&item.id).unwrap_or_default(),
                history: history.remove(&item.id).unwrap_or_default(),
                officers: people,
                bodies: serde_json::from_str(&item.bodies).unwrap_or_default(),
                recurrence: item
                    .recurrence
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r).ok()),
                target: target_of(&item),
                item,
            }
        })
        .collect())
}

/// What the trail records of an item (with its officers and deadlines).
fn item_json(v: &ItemView) -> serde_json::Value {
    json!({
        "title": v.item.title,
        "action": v.item.action,
        "officers": v.officers.iter().map(|(role, s)| json!({"staff_id": s.id, "role": role})).collect::<Vec<_>>(),
        "bodies": v.bodies,
        "target_score": v.item.target_score_x100.map(from_hundredths),
        "target": v.target,
        "recurrence": v.recurrence,
        "status": v.item.status,
        "milestones": v.milestones.iter().map(|m| json!({
            "label": m.label, "due_on": m.due_on, "status": m.status, "met_on": m.met_on,
        })).collect::<Vec<_>>(),
    })
}

// Described with its officers and milestones (other tables).
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

/// What the year-end report shows of a plan.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Every status with its count, in the order of the statuses' names.
    pub by_status: Vec<(ItemStatus, usize)>,
    pub overdue: usize,
    pub points_at_stake: Decimal,
    /// Points regained per the next year's finalized appraisal (None until it exists).
    pub points_recovered: Option<Decimal>,
    /// Per officer, by any role (None: items with no officer): (name, items, done, overdue).
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
            let mut people: Vec<(Option<i64>, String)> = i
                .officers
                .iter()
                .map(|(_, o)| (Some(o.id), o.full_name.clone()))
                .collect();
            if people.is_empty() {
                people.push((None, "(chưa phân công)".to_string()));
            }
            for (id, name) in people {
                let entry = officers.entry(id).or_insert_with(|| (name, 0, 0, 0));
                entry.1 += 1;
                if i.item.status == ItemStatus::Done {
                    entry.2 += 1;
                }
                if overdue {
                    entry.3 += 1;
                }
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
