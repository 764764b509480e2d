//! The council's work split by agency (since 2025): each leaf a framework assigns to an
//! agency (`appraised_by_unit_id`, inherited from its group) is a task of that agency's
//! appraisers in every file appraised on the framework, `pending` until they decide on it.
//! An agency's appraiser reads its queue; the consolidating appraisers read the progress
//! of every agency on a framework.
//!
//! Pure reads: the review states are written with the entries (`entries`, `lifecycle`).

use super::appraisals::review_state;
use super::frameworks::{self, LoadedFramework};
use super::scope::{Page, PageRequest, Reach, scoped};
use super::scoresheet;
use super::units::{UnitKind, find_unit, kind_of, names_of, unit_ref};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize, field_appraiser};
use crate::error::{ApiError, ApiResult, text};
use entity::status::{AppraisalStatus, ReviewState};
use entity::{appraisal, criterion};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

/// Whose queue: the caller's agency, or an agency named by id (its consolidators, admins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignee {
    Me,
    Agency(i64),
}

/// One unit × criterion an agency appraises.
#[derive(Clone, Debug)]
pub struct Task {
    pub appraisal_id: i64,
    pub appraisal_status: AppraisalStatus,
    pub unit_id: i64,
    pub unit_name: String,
    pub framework_id: i64,
    pub year: i32,
    pub criterion_code: String,
    pub criterion_title: String,
    pub agency_unit_id: i64,
    pub state: ReviewState,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How many tasks are in each state (over every page, before the state filter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: u64,
    pub scored: u64,
    pub confirmed: u64,
}

impl Counts {
    fn add(&mut self, state: ReviewState) {
        match state {
            ReviewState::Pending => self.pending += 1,
            ReviewState::Scored => self.scored += 1,
            ReviewState::Confirmed => self.confirmed += 1,
        }
    }
}

pub struct TaskFilter {
    pub assignee: Assignee,
    pub state: Option<ReviewState>,
    pub framework_id: Option<i64>,
    pub year: Option<i32>,
}

/// The agency whose tasks `actor` asks for, checked: its own agency (`me`, field
/// appraisers only), or an agency whose province the caller consolidates.
async fn agency_of(db: &DatabaseConnection, actor: &Principal, who: Assignee) -> ApiResult<i64> {
    match who {
        Assignee::Me => match (&actor.unit, field_appraiser(actor)) {
            (Some(own), true) => Ok(own.id),
            _ => Err(ApiError::unprocessable(
                "not_an_agency_appraiser",
                text!(
                    "assignee=me lists the tasks of an agency's appraiser; this account is not one: name the agency (assignee=<its unit id>)",
                    "assignee=me liệt kê việc của cán bộ thẩm định thuộc sở, ban, ngành; tài khoản này không phải: hãy nêu cơ quan (assignee=<mã số đơn vị>)"
                ),
            )),
        },
        Assignee::Agency(id) => {
            let agency = find_unit(db, id).await?;
            if kind_of(&agency) != UnitKind::Agency {
                let name = &agency.name;
                return Err(ApiError::unprocessable(
                    "not_an_agency",
                    text!(
                        "{name} is not an agency (sở, ban, ngành)",
                        "{name} không phải sở, ban, ngành"
                    ),
                ));
            }
            let own_agency =
                field_appraiser(actor) && actor.unit.as_ref().map(|u| u.id) == Some(id);
            if !own_agency {
                let province = match agency.parent_id {
                    Some(p) => find_unit(db, p).await?,
                    None => agency.clone(),
                };
                authorize(actor, Action::Consolidate, &unit_ref(&province))?;
            }
            Ok(id)
        }
    }
}

/// The frameworks that assign criteria to `agency` (optionally one of them), loaded.
async fn frameworks_assigning(
    db: &DatabaseConnection,
    agency: i64,
    only: Option<i64>,
) -> ApiResult<Vec<LoadedFramework>> {
    let mut query = criterion::Entity::find()
        .select_only()
        .column(criterion::Column::FrameworkId)
        .distinct()
        .filter(criterion::Column::AppraisedByUnitId.eq(agency));
    if let Some(id) = only {
        query = query.filter(criterion::Column::FrameworkId.eq(id));
    }
    let ids: Vec<i64> = query.into_tuple().all(db).await?;
    let mut loaded = Vec::with_capacity(ids.len());
    for id in ids {
        loaded.push(frameworks::load(db, id).await?);
    }
    Ok(loaded)
}

/// Every task of `appraisals`, for the agencies `keep` accepts, in file then criterion
/// order.
async fn tasks_of(
    db: &DatabaseConnection,
    frameworks: &HashMap<i64, LoadedFramework>,
    appraisals: Vec<appraisal::Model>,
    keep: impl Fn(i64) -> bool,
) -> ApiResult<Vec<Task>> {
    let units: Vec<i64> = appraisals.iter().map(|a| a.unit_id).collect();
    let names = names_of(db, &units).await?;
    let mut tasks = Vec::new();
    for a in appraisals {
        let Some(f) = frameworks.get(&a.framework_id) else {
            continue;
        };
        let mine: Vec<_> = f
            .tree
            .assigned_leaves()
            .filter(|(_, agency)| keep(*agency))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let entries = scoresheet::load_entries(db, a.self_assessment_id).await?;
        for (leaf, agency) in mine {
            let e = entries.get(&leaf.code).map(|e| &e.model);
            tasks.push(Task {
                appraisal_id: a.id,
                appraisal_status: a.status,
                unit_id: a.unit_id,
                unit_name: names.get(&a.unit_id).cloned().unwrap_or_default(),
                framework_id: a.framework_id,
                year: a.year,
                criterion_code: leaf.code.clone(),
                criterion_title: leaf.title.clone(),
                agency_unit_id: agency,
                state: review_state(&entries, &leaf.code),
                reviewed_by: e.and_then(|e| e.reviewed_by),
                reviewed_at: e.and_then(|e| e.reviewed_at),
            });
        }
    }
    Ok(tasks)
}

/// One page of an agency's tasks over the files the caller may read, with the counts per
/// state of all of them.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: TaskFilter,
    page: PageRequest,
) -> ApiResult<(Page<Task>, Counts)> {
    let agency = agency_of(db, actor, filter.assignee).await?;
    let frameworks: HashMap<i64, LoadedFramework> =
        frameworks_assigning(db, agency, filter.framework_id)
            .await?
            .into_iter()
            .map(|f| (f.model.id, f))
            .collect();
    let mut query = scoped(
        appraisal::Entity::find().filter(
            appraisal::Column::FrameworkId.is_in(frameworks.keys().copied().collect::<Vec<_>>()),
        ),
        actor,
        appraisal::Column::UnitId,
        Reach::Records,
    )
    .order_by_asc(appraisal::Column::Id);
    if let Some(year) = filter.year {
        query = query.filter(appraisal::Column::Year.eq(year));
    }
    let mut counts = Counts::default();
    let found = query
        .page_where(
            db,
            page,
            async |rows| {
                let tasks = tasks_of(db, &frameworks, rows, |a| a == agency).await?;
                for t in &tasks {
                    counts.add(t.state);
                }
                Ok(tasks)
            },
            |t| filter.state.is_none_or(|s| t.state == s),
        )
        .await?;
    Ok((found, counts))
}

/// One agency's progress on a framework.
#[derive(Clone, Debug)]
pub struct AgencyProgress {
    pub agency_unit_id: i64,
    pub agency_name: String,
    /// The leaves assigned to it.
    pub criteria: Vec<String>,
    /// Files appraised on the framework, and those where none of its leaves is pending.
    pub files: u64,
    pub files_done: u64,
    pub counts: Counts,
}

/// Every agency's progress on framework `framework_id`, for its consolidators.
pub async fn summary(
    db: &DatabaseConnection,
    actor: &Principal,
    framework_id: i64,
) -> ApiResult<Vec<AgencyProgress>> {
    let framework = frameworks::load(db, framework_id).await?;
    let owner = find_unit(db, framework.model.owner_unit_id).await?;
    authorize(actor, Action::Consolidate, &unit_ref(&owner))?;
    let mut progress: Vec<AgencyProgress> = Vec::new();
    for (leaf, agency) in framework.tree.assigned_leaves() {
        match progress.iter_mut().find(|p| p.agency_unit_id == agency) {
            Some(p) => p.criteria.push(leaf.code.clone()),
            None => progress.push(AgencyProgress {
                agency_unit_id: agency,
                agency_name: String::new(),
                criteria: vec![leaf.code.clone()],
                files: 0,
                files_done: 0,
                counts: Counts::default(),
            }),
        }
    }
    let ids: Vec<i64> = progress.iter().map(|p| p.agency_unit_id).collect();
    let names = names_of(db, &ids).await?;
    for p in &mut progress {
        p.agency_name = names.get(&p.agency_unit_id).cloned().unwrap_or_default();
    }
    let appraisals = scoped(
        appraisal::Entity::find().filter(appraisal::Column::FrameworkId.eq(framework_id)),
        actor,
        appraisal::Column::UnitId,
        Reach::Records,
    )
    .all(db)
    .await?;
    let files = appraisals.len() as u64;
    let frameworks = HashMap::from([(framework_id, framework)]);
    let tasks = tasks_of(db, &frameworks, appraisals, |_| true).await?;
    let mut pending_files: HashMap<i64, Vec<i64>> = HashMap::new();
    for t in &tasks {
        if let Some(p) = progress
            .iter_mut()
            .find(|p| p.agency_unit_id == t.agency_unit_id)
        {
            p.counts.add(t.state);
        }
        if t.state == ReviewState::Pending {
            let agencies = pending_files.entry(t.appraisal_id).or_default();
            if !agencies.contains(&t.agency_unit_id) {
                agencies.push(t.agency_unit_id);
            }
        }
    }
    for p in &mut progress {
        p.files = files;
        let waiting = pending_files
            .values()
            .filter(|agencies| agencies.contains(&p.agency_unit_id))
            .count() as u64;
        p.files_done = files - waiting;
    }
    Ok(progress)
}
