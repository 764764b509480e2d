//! Self-assessments as they are read: the file with its framework, entries, deadline and
//! appraisal, one by one or listed within the caller's scope, and its workbook. Every
//! change of a file is `lifecycle::file`'s.
//!
//! Workflow: `draft` → `submitted` → (`returned` → `submitted`)* → `appraised`.

use super::frameworks::{self, LoadedFramework};
use super::scope::{Page, PageRequest, Reach, scoped};
use super::scoresheet::{self, Entry};
use super::units::{find_unit, unit_ref};
use super::versioned::Stateful;
use crate::auth::policy::{Action, authorize};
use crate::auth::{Principal, UnitRef};
use crate::error::{ApiError, ApiResult, text};
use crate::scoring::Scorer;
use crate::workflow::{self, FileEvent, WorkflowError};
use chrono::NaiveDate;
use entity::framework::EvidencePolicy;
use entity::status::SelfAssessmentStatus as Status;
use entity::{appraisal, deadline_extension, self_assessment, unit};
use parindex_domain::Side;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use std::collections::HashMap;

/// A self-assessment with what clients need to show it.
#[derive(Clone, Debug)]
pub struct AssessmentView {
    pub model: self_assessment::Model,
    pub framework: LoadedFramework,
    pub entries: HashMap<String, Entry>,
    pub appraisal_id: Option<i64>,
    /// The deadline that applies to this unit (extension or framework deadline).
    pub deadline: Option<NaiveDate>,
}

impl AssessmentView {
    /// Self-scored leaves without an entry yet, in code order.
    pub fn missing_codes(&self) -> Vec<String> {
        self.framework
            .tree
            .leaves()
            .filter(|c| c.scorer == Scorer::SelfAssessed)
            .filter(|c| {
                self.entries
                    .get(&c.code)
                    .is_none_or(|e| e.self_inputs.is_none())
            })
            .map(|c| c.code.clone())
            .collect()
    }

    /// Self-scored, applicable leaves without what the framework's evidence policy asks:
    /// an evidence file (`evidence`), or a file or an explanation
    /// (`evidence_or_explanation`). Leaves without an entry are `missing_codes`' business.
    pub fn lacking_evidence(&self) -> Vec<String> {
        let policy = self.framework.model.evidence_policy;
        if policy == EvidencePolicy::None {
            return Vec::new();
        }
        self.framework
            .tree
            .leaves()
            .filter(|c| c.scorer == Scorer::SelfAssessed)
            .filter_map(|c| {
                let e = self.entries.get(&c.code)?;
                if e.self_inputs.is_none() || e.model.self_not_applicable {
                    return None;
                }
                let has_file = e.evidence.iter().any(|ev| ev.file_id.is_some());
                let explained = e
                    .model
                    .explanation
                    .as_deref()
                    .is_some_and(|t| !t.trim().is_empty());
                let enough = match policy {
                    EvidencePolicy::None => true,
                    EvidencePolicy::Evidence => has_file,
                    EvidencePolicy::EvidenceOrExplanation => has_file || explained,
                };
                (!enough).then(|| c.code.clone())
            })
            .collect()
    }

    pub fn editable_codes(&self) -> Option<Vec<String>> {
        self.model
            .editable_codes
            .as_ref()
            .and_then(|t| serde_json::from_str(t).ok())
    }
}

/// The 404 of a self-assessment that does not exist (or must not be known to exist).
pub fn not_found(id: i64) -> ApiError {
    ApiError::not_found(text!(
        "self-assessment {id} does not exist",
        "không có hồ sơ tự đánh giá {id}"
    ))
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<self_assessment::Model> {
    self_assessment::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| not_found(id))
}

pub(crate) async fn unit_of<C: ConnectionTrait>(
    conn: &C,
    sa: &self_assessment::Model,
) -> ApiResult<unit::Model> {
    find_unit(conn, sa.unit_id).await
}

pub(crate) async fn deadline_for<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    unit_id: i64,
) -> ApiResult<Option<NaiveDate>> {
    let extension = deadline_extension::Entity::find()
        .filter(deadline_extension::Column::FrameworkId.eq(framework.model.id))
        .filter(deadline_extension::Column::UnitId.eq(unit_id))
        .one(conn)
        .await?;
    Ok(extension
        .map(|e| e.until)
        .or(framework.model.submission_deadline))
}

/// Loads the whole view of a self-assessment.
pub async fn view<C: ConnectionTrait>(
    conn: &C,
    model: self_assessment::Model,
) -> ApiResult<AssessmentView> {
    let framework = frameworks::load(conn, model.framework_id).await?;
    let entries = scoresheet::load_entries(conn, model.id).await?;
    let appraisal_id = appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(model.id))
        .one(conn)
        .await?
        .map(|a| a.id);
    let deadline = deadline_for(conn, &framework, model.unit_id).await?;
    Ok(AssessmentView {
        model,
        framework,
        entries,
        appraisal_id,
        deadline,
    })
}

/// Reads a self-assessment the caller may see.
pub async fn get(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<AssessmentView> {
    let sa = find(db, id).await?;
    let u = unit_of(db, &sa).await?;
    authorize(actor, Action::ReadAssessment, &unit_ref(&u))?;
    view(db, sa).await
}

pub(crate) fn sa_json(sa: &self_assessment::Model) -> serde_json::Value {
    json!({"status": sa.status, "round": sa.round, "self_total": crate::scoring::from_hundredths(sa.self_total_x100),
           "editable_codes": sa.editable_codes, "approved_at": sa.approved_at,
           "approved_by": sa.approved_by, "approved_by_name": sa.approved_by_name})
}

crate::versioned!(
    self_assessment,
    kind = "self-assessment",
    audit = "self_assessment",
    unit_id = |m| Some(m.unit_id),
    describe = |_conn, m| Ok(sa_json(m)),
);

impl Stateful for self_assessment::Entity {
    type Status = Status;
    type Event = FileEvent;

    fn status_column() -> self_assessment::Column {
        self_assessment::Column::Status
    }
    fn status(m: &self_assessment::Model) -> Status {
        m.status
    }
    fn next(from: Status, event: FileEvent) -> Result<Status, WorkflowError> {
        workflow::self_assessment(from, event)
    }
}

pub struct AssessmentFilter {
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub year: Option<i32>,
    pub status: Option<Status>,
}

/// Self-assessments of the units the caller may read.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: AssessmentFilter,
    page: PageRequest,
) -> ApiResult<Page<self_assessment::Model>> {
    let mut query = scoped(
        self_assessment::Entity::find(),
        actor,
        self_assessment::Column::UnitId,
        Reach::Records,
    )
    .order_by_asc(self_assessment::Column::Id);
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(self_assessment::Column::UnitId.eq(unit_id));
    }
    if let Some(framework_id) = filter.framework_id {
        query = query.filter(self_assessment::Column::FrameworkId.eq(framework_id));
    }
    if let Some(year) = filter.year {
        query = query.filter(self_assessment::Column::Year.eq(year));
    }
    if let Some(status) = filter.status {
        query = query.filter(self_assessment::Column::Status.eq(status));
    }
    query.page(db, page).await
}

/// The unit of a self-assessment, for callers that authorize on it.
pub async fn unit_ref_of<C: ConnectionTrait>(
    conn: &C,
    sa: &self_assessment::Model,
) -> ApiResult<UnitRef> {
    Ok(unit_ref(&unit_of(conn, sa).await?))
}

/// The unit's self totals of a file (each field and group, and the total out of 100), as
/// submitting it would store them.
pub async fn self_totals<C: ConnectionTrait>(
    conn: &C,
    v: &AssessmentView,
    parent_id: Option<i64>,
) -> ApiResult<crate::scoring::totals::Totals> {
    let best = scoresheet::bests(conn, &v.framework, parent_id, v.model.id).await?;
    scoresheet::total_of(
        &v.framework,
        &scoresheet::self_scores(&v.framework, &v.entries, &best),
    )
}

/// The identity of a file's workbook: the file, its framework and the framework's version.
pub async fn workbook_identity(
    db: &DatabaseConnection,
    id: i64,
) -> ApiResult<(crate::workbook::Identity, LoadedFramework)> {
    let sa = find(db, id).await?;
    let framework = frameworks::load(db, sa.framework_id).await?;
    Ok((
        crate::workbook::Identity::new(
            Side::Unit,
            sa.id,
            framework.model.id,
            framework.model.version,
        ),
        framework,
    ))
}

/// The unit's workbook of a file: every criterion with what is stored, for Excel.
pub async fn workbook(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<(AssessmentView, Vec<u8>)> {
    let v = get(db, actor, id).await?;
    let u = find_unit(db, v.model.unit_id).await?;
    let best = scoresheet::bests(db, &v.framework, u.parent_id, v.model.id).await?;
    let (identity, _) = workbook_identity(db, id).await?;
    let sources = crate::services::indicators::sources_of(db, &v.framework, u.id, true).await?;
    let source = crate::workbook::Source {
        identity,
        title: format!(
            "TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {}",
            v.model.year
        ),
        unit_name: &u.name,
        framework_name: &v.framework.model.name,
        tree: &v.framework.tree,
        entries: &scoresheet::workbook_leaves(&v.entries),
        best: &best,
        scores: v
            .entries
            .iter()
            .map(|(code, e)| (code.clone(), scoresheet::score_of(e.model.self_score_x100)))
            .collect(),
        unit_scores: HashMap::new(),
        council_rows: None,
        sources: &sources,
    };
    let bytes = crate::workbook::build(&source).map_err(ApiError::internal)?;
    Ok((v, bytes))
}
