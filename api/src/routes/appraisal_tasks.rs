//! The council's work by agency: an agency appraiser's queue of unit × criterion, and
//! every agency's progress on a framework for the consolidating appraisers.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, text};
use crate::http::Query;
use crate::services::appraisal_tasks::{self, AgencyProgress, Assignee, Counts, Task, TaskFilter};
use crate::state::AppState;
use crate::validation::{PageParams, Year};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use entity::status::{AppraisalStatus, ReviewState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_appraisal_tasks)
        .service(appraisal_task_summary);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// `me` (the default): the caller's agency; or an agency's unit id (its province's
    /// consolidating appraisers and admins).
    #[param(example = "me")]
    pub assignee: Option<String>,
    /// Only tasks in this state (the counts cover every state).
    pub status: Option<ReviewState>,
    pub framework_id: Option<i64>,
    pub year: Option<Year>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// One unit × criterion an agency appraises.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TaskResponse {
    pub appraisal_id: i64,
    pub appraisal_status: AppraisalStatus,
    pub unit_id: i64,
    pub unit_name: String,
    pub framework_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub criterion_code: String,
    pub criterion_title: String,
    pub agency_unit_id: i64,
    /// `pending`: waiting for the agency; `scored`: the agency decided; `confirmed`: the
    /// consolidating appraisers decided.
    pub status: ReviewState,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl From<&Task> for TaskResponse {
    fn from(t: &Task) -> Self {
        TaskResponse {
            appraisal_id: t.appraisal_id,
            appraisal_status: t.appraisal_status,
            unit_id: t.unit_id,
            unit_name: t.unit_name.clone(),
            framework_id: t.framework_id,
            year: t.year,
            criterion_code: t.criterion_code.clone(),
            criterion_title: t.criterion_title.clone(),
            agency_unit_id: t.agency_unit_id,
            status: t.state,
            reviewed_by: t.reviewed_by,
            reviewed_at: t.reviewed_at,
        }
    }
}

/// How many tasks are in each state.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TaskCounts {
    pub pending: u64,
    pub scored: u64,
    pub confirmed: u64,
}

impl From<Counts> for TaskCounts {
    fn from(c: Counts) -> Self {
        TaskCounts {
            pending: c.pending,
            scored: c.scored,
            confirmed: c.confirmed,
        }
    }
}

/// One page of tasks, with the counts per state of all of them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskResponse>,
    pub page: u64,
    pub per_page: u64,
    /// Tasks on all pages (after the `status` filter).
    pub total: u64,
    /// Tasks per state, before the `status` filter.
    pub counts: TaskCounts,
}

fn assignee(raw: Option<&str>) -> ApiResult<Assignee> {
    match raw.map(str::trim) {
        None | Some("me") => Ok(Assignee::Me),
        Some(id) => Ok(id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Assignee::Agency)
            .ok_or_else(|| {
                ApiError::validation(vec![crate::error::FieldError::new(
                    "assignee",
                    "invalid_format",
                    text!(
                        "`me` or an agency's unit id",
                        "`me` hoặc mã số đơn vị của sở, ban, ngành"
                    ),
                )])
            })?),
    }
}

/// An agency's appraisal tasks: each unit × criterion assigned to it.
///
/// For an agency's appraiser (`assignee=me`): every criterion the frameworks assign to its
/// agency (`appraised_by_unit_id`, inherited by the leaves of a group) in every file
/// appraised on them, with its review state; `status=pending` is the work still waiting.
/// The counts per state cover every page. A consolidating appraiser or an admin names the
/// agency (`assignee=<unit id>`). 422 for `me` from an account that is not an agency's
/// appraiser.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(TaskQuery),
    responses(
        (status = 200, description = "One page", body = TaskPage),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/appraisal-tasks")]
pub async fn list_appraisal_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<TaskQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let filter = TaskFilter {
        assignee: assignee(q.assignee.as_deref())?,
        state: q.status,
        framework_id: q.framework_id,
        year: q.year.map(Year::get),
    };
    let (found, counts) = appraisal_tasks::list(&state.db, &principal, filter, page).await?;
    Ok(HttpResponse::Ok().json(TaskPage {
        items: found.items().iter().map(TaskResponse::from).collect(),
        page: found.page(),
        per_page: found.per_page(),
        total: found.total(),
        counts: counts.into(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    pub framework_id: i64,
}

/// One agency's progress on a framework.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AgencyProgressResponse {
    pub agency_unit_id: i64,
    pub agency_name: String,
    /// The leaves assigned to it.
    pub criteria: Vec<String>,
    /// Files appraised on the framework.
    pub files: u64,
    /// Files where none of its criteria is pending.
    pub files_done: u64,
    pub counts: TaskCounts,
}

impl From<AgencyProgress> for AgencyProgressResponse {
    fn from(p: AgencyProgress) -> Self {
        AgencyProgressResponse {
            agency_unit_id: p.agency_unit_id,
            agency_name: p.agency_name,
            criteria: p.criteria,
            files: p.files,
            files_done: p.files_done,
            counts: p.counts.into(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TaskSummaryResponse {
    pub framework_id: i64,
    pub agencies: Vec<AgencyProgressResponse>,
}

/// Every agency's progress on a framework.
///
/// For the consolidating appraisers of the framework's owner (and admins): per agency, the
/// criteria assigned to it, the files appraised on the framework, those it has finished,
/// and its tasks per state. 403 for anyone else, agencies' appraisers included.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(SummaryQuery),
    responses(
        (status = 200, description = "Progress per agency", body = TaskSummaryResponse),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/appraisal-tasks/summary")]
pub async fn appraisal_task_summary(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<SummaryQuery>,
) -> ApiResult<HttpResponse> {
    let framework_id = query.into_inner().framework_id;
    let agencies = appraisal_tasks::summary(&state.db, &principal, framework_id).await?;
    Ok(HttpResponse::Ok().json(TaskSummaryResponse {
        framework_id,
        agencies: agencies.into_iter().map(Into::into).collect(),
    }))
}
