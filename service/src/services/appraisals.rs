//! Appraisals as they are read: the council's inputs, scores and comments per criterion
//! beside the unit's (untouched criteria keep the unit's inputs), the totals, bonus, index
//! and band (stored at finalization, computed live before), one by one or listed within
//! the caller's scope, and the council's workbook. Every change is `lifecycle::council`'s.
//!
//! Workflow: `pending` (submitted, not started) → `in_progress` → `finalized`; a finalized
//! appraisal changes only through an audited reopen by an admin.

use super::assessments::{self as sa_service};
use super::frameworks::{self, LoadedFramework};
use super::scope::{Page, PageRequest, Reach, scoped};
use super::scoresheet::{self, Entry};
use super::units::{find_unit, unit_ref};
use super::versioned::Stateful;
use super::visibility::{self, Shown, Withhold};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, text};
use crate::scoring::composition::{ComponentFigure, Composed};
use crate::scoring::{LeafScore, band_for, from_hundredths};
use crate::workflow::{self, AppraisalEvent, WorkflowError};
use entity::status::{AppraisalStatus, ReviewState};
use entity::{appraisal, appraisal_round, self_assessment, unit};
use parindex_domain::Side;
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use std::collections::HashMap;

/// An appraisal with everything needed to show it.
#[derive(Clone, Debug)]
pub struct AppraisalView {
    pub model: appraisal::Model,
    pub self_assessment: self_assessment::Model,
    pub unit: unit::Model,
    pub framework: LoadedFramework,
    pub entries: HashMap<String, Entry>,
    pub rounds: Vec<appraisal_round::Model>,
    /// Effective leaf scores (council's inputs where entered, else the unit's).
    pub scores: HashMap<String, LeafScore>,
    pub self_scores: HashMap<String, LeafScore>,
    pub totals: crate::scoring::totals::Totals,
    pub self_totals: crate::scoring::totals::Totals,
    /// Leaves nobody has scored yet (but those of a component without data, which need
    /// none).
    pub unscored: Vec<String>,
    /// The index's composition as it stands (a framework with components only).
    pub composed: Option<Composed>,
}

impl AppraisalView {
    pub fn bonus(&self) -> Decimal {
        from_hundredths(self.model.bonus_x100)
    }

    pub fn is_finalized(&self) -> bool {
        self.model.status == AppraisalStatus::Finalized
    }

    /// Stored at finalization; computed live before.
    pub fn appraised_total(&self) -> Decimal {
        if self.is_finalized() {
            from_hundredths(self.model.appraised_total_x100)
        } else {
            self.totals.total
        }
    }

    pub fn self_total(&self) -> Decimal {
        match self.model.self_total_x100 {
            Some(t) if self.is_finalized() => from_hundredths(t),
            _ => self.self_totals.total,
        }
    }

    /// What the index is built on: the components' composed total where the framework
    /// declares components, else the appraised total.
    pub fn base_total(&self) -> Decimal {
        match &self.composed {
            Some(c) => c.total,
            None => self.appraised_total(),
        }
    }

    /// The components' figures: stored at finalization, computed live before.
    pub fn components(&self) -> Vec<ComponentFigure> {
        match (&self.model.components, &self.composed) {
            (Some(stored), _) if self.is_finalized() => {
                serde_json::from_str(stored).unwrap_or_default()
            }
            (_, Some(c)) => c.components.clone(),
            _ => Vec::new(),
        }
    }

    /// Left out of rankings: a component had no data under `unranked`.
    pub fn unranked(&self) -> bool {
        if self.is_finalized() {
            self.model.unranked
        } else {
            self.composed.as_ref().is_some_and(|c| c.unranked)
        }
    }

    /// The penalty points (điểm trừ) subtracted after the bonus.
    pub fn penalty_total(&self) -> Decimal {
        from_hundredths(self.model.penalty_total_x100)
    }

    /// The penalty items, as stored.
    pub fn penalties(&self) -> Vec<PenaltyItem> {
        serde_json::from_str(&self.model.penalties).unwrap_or_default()
    }

    /// Stored at finalization; computed live before (the one computation, `index_of`).
    pub fn index(&self) -> Decimal {
        match self.model.index_x100 {
            Some(i) if self.is_finalized() => from_hundredths(i),
            _ => crate::scoring::settle::index_of(
                self.base_total(),
                self.bonus(),
                self.penalty_total(),
            )
            .unwrap_or_default(),
        }
    }

    pub fn rating_band(&self) -> Option<String> {
        if self.is_finalized() {
            self.model.rating_band.clone()
        } else {
            band_for(&self.framework.bands, self.index()).map(str::to_string)
        }
    }

    /// Max − score of a leaf (stored at finalization; computed live before).
    pub fn deduction(&self, code: &str) -> Decimal {
        match self.entries.get(code).and_then(|e| e.model.deduction_x100) {
            Some(d) if self.is_finalized() => from_hundredths(d),
            _ => self
                .totals
                .by_code
                .get(code)
                .map(|t| t.deduction())
                .unwrap_or_default(),
        }
    }

    /// The council's review of leaf `code` (pending while it has no row).
    pub fn review_state(&self, code: &str) -> ReviewState {
        review_state(&self.entries, code)
    }

    /// The agencies with assigned leaves still `pending`: finalization waits for them.
    pub fn agencies_pending(&self) -> Vec<(i64, Vec<String>)> {
        agencies_pending(&self.framework, &self.entries)
    }

    pub fn deduction_total(&self) -> Decimal {
        match self.model.deduction_total_x100 {
            Some(d) if self.is_finalized() => from_hundredths(d),
            _ => self
                .framework
                .tree
                .leaves()
                .map(|c| self.deduction(&c.code))
                .sum(),
        }
    }
}

/// The council's review of leaf `code` of a file's `entries` (pending while it has no row).
pub fn review_state(entries: &HashMap<String, Entry>, code: &str) -> ReviewState {
    entries
        .get(code)
        .map_or(ReviewState::Pending, |e| e.model.review_state)
}

/// The agencies with assigned leaves of a file still `pending`, each with those leaves, in
/// criterion order.
pub fn agencies_pending(
    framework: &LoadedFramework,
    entries: &HashMap<String, Entry>,
) -> Vec<(i64, Vec<String>)> {
    let mut waiting: Vec<(i64, Vec<String>)> = Vec::new();
    for (leaf, agency) in framework.tree.assigned_leaves() {
        if review_state(entries, &leaf.code) != ReviewState::Pending {
            continue;
        }
        match waiting.iter_mut().find(|(a, _)| *a == agency) {
            Some((_, codes)) => codes.push(leaf.code.clone()),
            None => waiting.push((agency, vec![leaf.code.clone()])),
        }
    }
    waiting
}

/// One penalty (điểm trừ) of an appraisal: a violation, the points it costs, why, and the
/// document that records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PenaltyItem {
    pub code: String,
    pub points: Decimal,
    pub reason: String,
    pub document_ref: Option<String>,
}

/// The 404 of an appraisal that does not exist (or must not be known to exist).
pub fn not_found(id: i64) -> ApiError {
    ApiError::not_found(text!(
        "appraisal {id} does not exist",
        "không có kết quả thẩm định {id}"
    ))
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<appraisal::Model> {
    appraisal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn view<C: ConnectionTrait>(
    conn: &C,
    model: appraisal::Model,
) -> ApiResult<AppraisalView> {
    let sa = sa_service::find(conn, model.self_assessment_id).await?;
    let u = find_unit(conn, model.unit_id).await?;
    let framework = frameworks::load(conn, model.framework_id).await?;
    let entries = scoresheet::load_entries(conn, sa.id).await?;
    let rounds = appraisal_round::Entity::find()
        .filter(appraisal_round::Column::AppraisalId.eq(model.id))
        .order_by_asc(appraisal_round::Column::Round)
        .all(conn)
        .await?;
    let best = scoresheet::bests(conn, &framework, u.parent_id, sa.id).await?;
    let (scores, mut unscored) = scoresheet::effective_scores(&framework, &entries, &best);
    let composed = scoresheet::composed(&framework, &scores)?;
    if let Some(c) = &composed {
        unscored.retain(|code| !c.excused.contains(code));
    }
    let self_scores = scoresheet::self_scores(&framework, &entries, &best);
    let totals = scoresheet::total_of(&framework, &scores)?;
    let self_totals = scoresheet::total_of(&framework, &self_scores)?;
    Ok(AppraisalView {
        model,
        self_assessment: sa,
        unit: u,
        framework,
        entries,
        rounds,
        scores,
        self_scores,
        totals,
        self_totals,
        unscored,
        composed,
    })
}

/// An appraisal the caller may read, with the council's side only when the year's
/// results are the caller's to see (before that, a unit's officers and viewers read their
/// own side and the return rounds).
pub async fn get(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<Shown<AppraisalView>> {
    let a = find(db, id).await?;
    let u = find_unit(db, a.unit_id).await?;
    authorize(actor, Action::ReadAssessment, &unit_ref(&u))?;
    let year = a.year;
    visibility::disclose(db, actor, &u, year, view(db, a).await?).await
}

/// Before its results are the reader's, an appraisal keeps the unit's side only: the
/// council's inputs, scores, comments, totals, bonus, index and band leave it.
impl Withhold for AppraisalView {
    fn withhold(mut self) -> Self {
        for e in self.entries.values_mut() {
            e.appraised_inputs = None;
            e.model = e.model.clone().withhold();
        }
        self.scores = self.self_scores.clone();
        self.totals = self.self_totals.clone();
        self.model = self.model.withhold();
        self
    }
}

impl Withhold for appraisal::Model {
    fn withhold(mut self) -> Self {
        self.appraised_total_x100 = 0;
        self.bonus_x100 = 0;
        self.bonus_reason = None;
        self.penalties = "[]".to_string();
        self.penalty_total_x100 = 0;
        self.index_x100 = None;
        self.deduction_total_x100 = None;
        self.rating_band = None;
        self
    }
}

impl Withhold for entity::assessment_entry::Model {
    fn withhold(mut self) -> Self {
        self.appraised_inputs = None;
        self.appraised_score_x100 = None;
        self.appraised_not_applicable = false;
        self.comment = None;
        self.final_score_x100 = None;
        self.deduction_x100 = None;
        self.review_state = ReviewState::Pending;
        self.reviewed_by = None;
        self.reviewed_at = None;
        self.overridden_score_x100 = None;
        self.override_reason = None;
        self
    }
}

pub struct AppraisalFilter {
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub year: Option<i32>,
    pub status: Option<AppraisalStatus>,
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: AppraisalFilter,
    page: PageRequest,
) -> ApiResult<Page<Shown<appraisal::Model>>> {
    let mut query = scoped(
        appraisal::Entity::find(),
        actor,
        appraisal::Column::UnitId,
        Reach::Records,
    )
    .order_by_asc(appraisal::Column::Id);
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(appraisal::Column::UnitId.eq(unit_id));
    }
    if let Some(framework_id) = filter.framework_id {
        query = query.filter(appraisal::Column::FrameworkId.eq(framework_id));
    }
    if let Some(year) = filter.year {
        query = query.filter(appraisal::Column::Year.eq(year));
    }
    if let Some(status) = filter.status {
        query = query.filter(appraisal::Column::Status.eq(status));
    }
    let items = query.page(db, page).await?;
    // Whether each row's results may be shown: one query for the units, one for the
    // publications of the years on the page.
    let units: HashMap<i64, unit::Model> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(items.items().iter().map(|a| a.unit_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let publications =
        visibility::Publications::of(db, items.items().iter().map(|a| (a.unit_id, a.year))).await?;
    Ok(items.map(|a| match units.get(&a.unit_id) {
        Some(u) => publications.disclose(actor, &unit_ref(u), a.year, a),
        None => Shown::withheld(a),
    }))
}

/// Appraisal status JSON for the audit trail.
fn appraisal_json(a: &appraisal::Model) -> serde_json::Value {
    json!({
        "status": a.status,
        "appraised_total": from_hundredths(a.appraised_total_x100),
        "bonus": from_hundredths(a.bonus_x100),
        "bonus_reason": a.bonus_reason,
        "penalties": serde_json::from_str::<serde_json::Value>(&a.penalties).unwrap_or_default(),
        "penalty_total": from_hundredths(a.penalty_total_x100),
        "index": a.index_x100.map(from_hundredths),
        "rating_band": a.rating_band,
    })
}

crate::versioned!(
    appraisal,
    kind = "appraisal",
    audit = "appraisal",
    unit_id = |m| Some(m.unit_id),
    results_year = |m| Some(m.year),
    describe = |_conn, m| Ok(appraisal_json(m)),
);

impl Stateful for appraisal::Entity {
    type Status = AppraisalStatus;
    type Event = AppraisalEvent;

    fn status_column() -> appraisal::Column {
        appraisal::Column::Status
    }
    fn status(m: &appraisal::Model) -> AppraisalStatus {
        m.status
    }
    fn next(
        from: AppraisalStatus,
        event: AppraisalEvent,
    ) -> Result<AppraisalStatus, WorkflowError> {
        workflow::appraisal(from, event)
    }
}

/// The identity of an appraisal's workbook.
pub async fn workbook_identity(
    db: &DatabaseConnection,
    id: i64,
) -> ApiResult<(crate::workbook::Identity, LoadedFramework)> {
    let a = find(db, id).await?;
    let framework = frameworks::load(db, a.framework_id).await?;
    Ok((
        crate::workbook::Identity::new(
            Side::Council,
            a.id,
            framework.model.id,
            framework.model.version,
        ),
        framework,
    ))
}

/// The council's workbook of an appraisal: the unit's inputs and scores read-only beside
/// the council's inputs and comments. An agency's cut (`agency`, and always a field
/// appraiser's own) opens only the rows of the criteria assigned to that agency.
pub async fn workbook(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    agency: Option<i64>,
) -> ApiResult<(AppraisalView, Vec<u8>)> {
    let agency = match (&actor.unit, crate::auth::policy::field_appraiser(actor)) {
        (Some(own), true) => Some(own.id),
        _ => agency,
    };
    let Some(v) = get(db, actor, id).await?.results() else {
        // The workbook is the council's figures and comments: nothing of it before they
        // are released to the caller (the JSON hides the same fields).
        return Err(ApiError::forbidden(text!(
            "the council's figures of this appraisal are not released to you yet",
            "kết quả thẩm định của hồ sơ này chưa được công bố cho tài khoản này"
        )));
    };
    let v = v.into_inner();
    let best = scoresheet::bests(db, &v.framework, v.unit.parent_id, v.self_assessment.id).await?;
    let (identity, _) = workbook_identity(db, id).await?;
    let rows: Option<std::collections::HashSet<String>> = agency.map(|agency| {
        v.framework
            .tree
            .assigned_leaves()
            .filter(|(_, by)| *by == agency)
            .map(|(leaf, _)| leaf.code.clone())
            .collect()
    });
    let score = |m: &HashMap<String, LeafScore>| -> HashMap<String, Option<Decimal>> {
        m.iter()
            .map(|(code, s)| {
                let d = match s {
                    LeafScore::Scored(d) => Some(*d),
                    LeafScore::NotApplicable => None,
                };
                (code.clone(), d)
            })
            .collect()
    };
    let sources =
        crate::services::indicators::sources_of(db, &v.framework, v.unit.id, false).await?;
    let source = crate::workbook::Source {
        identity,
        title: format!(
            "THẨM ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {}",
            v.self_assessment.year
        ),
        unit_name: &v.unit.name,
        framework_name: &v.framework.model.name,
        tree: &v.framework.tree,
        entries: &scoresheet::workbook_leaves(&v.entries),
        best: &best,
        scores: score(&v.scores),
        unit_scores: score(&v.self_scores),
        council_rows: rows.as_ref(),
        sources: &sources,
    };
    let bytes = crate::workbook::build(&source).map_err(ApiError::internal)?;
    Ok((v, bytes))
}
