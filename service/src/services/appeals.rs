//! Appeals (kiến nghị) as they are read, and the rule that an open appeal holds back the
//! finalization of its appraisal and the publication of its scope. Filing, deciding and
//! releasing the preliminary results are `lifecycle::appeal`'s.

use super::scope::{Page, PageRequest, Reach, scoped};
use super::units::{find_unit, unit_ref};
use super::versioned::{Stateful, Versioned};
use crate::auth::Principal;
use crate::auth::policy::{Action, allows, authorize};
use crate::error::{ApiError, ApiResult, text};
use crate::workflow::{self, AppealEvent, WorkflowError};
use chrono::NaiveDate;
use entity::appeal;
use entity::status::AppealStatus;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

/// The last day appeals are taken: the release's day (in Vietnam) plus `appeal_days`.
pub fn appeals_until(released_on: NaiveDate, appeal_days: i32) -> NaiveDate {
    released_on + chrono::Duration::days(appeal_days.into())
}

/// The 404 of an appeal that does not exist (or must not be known to exist).
pub fn not_found(id: i64) -> ApiError {
    ApiError::not_found(text!(
        "appeal {id} does not exist",
        "không có kiến nghị {id}"
    ))
}

/// What the audit trail records of an appeal.
pub(crate) fn appeal_json(a: &appeal::Model) -> serde_json::Value {
    json!({
        "appraisal_id": a.appraisal_id,
        "criterion_code": a.criterion_code,
        "status": a.status,
        "reason": a.reason,
        "response": a.response,
    })
}

impl Versioned for appeal::Entity {
    const KIND: &'static str = "appeal";
    const AUDIT_ENTITY: &'static str = "appeal";

    fn id_column() -> appeal::Column {
        appeal::Column::Id
    }
    fn version_column() -> appeal::Column {
        appeal::Column::Version
    }
    fn updated_at_column() -> Option<appeal::Column> {
        None
    }
    fn id(m: &appeal::Model) -> i64 {
        m.id
    }
    fn version(m: &appeal::Model) -> i32 {
        m.version
    }
    fn unit_id(m: &appeal::Model) -> Option<i64> {
        Some(m.unit_id)
    }
    fn results_year(m: &appeal::Model) -> Option<i32> {
        Some(m.year)
    }
    async fn describe<C: ConnectionTrait>(
        _conn: &C,
        m: &appeal::Model,
    ) -> ApiResult<serde_json::Value> {
        Ok(appeal_json(m))
    }
}

impl Stateful for appeal::Entity {
    type Status = AppealStatus;
    type Event = AppealEvent;

    fn status_column() -> appeal::Column {
        appeal::Column::Status
    }
    fn status(m: &appeal::Model) -> AppealStatus {
        m.status
    }
    fn next(from: AppealStatus, event: AppealEvent) -> Result<AppealStatus, WorkflowError> {
        workflow::appeal(from, event)
    }
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

/// Which appeals a list shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppealFilter {
    pub parent_unit_id: Option<i64>,
    pub appraisal_id: Option<i64>,
    pub year: Option<i32>,
    pub status: Option<AppealStatus>,
}

/// The appeals the caller may read (those of the units whose assessments it reads), under
/// `parent_unit_id` or of one appraisal, oldest first, one page.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: AppealFilter,
    page: PageRequest,
) -> ApiResult<Page<appeal::Model>> {
    let mut query = scoped(
        appeal::Entity::find(),
        actor,
        appeal::Column::UnitId,
        Reach::Records,
    )
    .order_by_asc(appeal::Column::Id);
    if let Some(p) = filter.parent_unit_id {
        let parent = find_unit(db, p).await?;
        authorize(actor, Action::ReadUnit, &unit_ref(&parent))?;
        query = query.within(appeal::Column::UnitId, &unit_ref(&parent));
    }
    if let Some(a) = filter.appraisal_id {
        query = query.filter(appeal::Column::AppraisalId.eq(a));
    }
    if let Some(y) = filter.year {
        query = query.filter(appeal::Column::Year.eq(y));
    }
    if let Some(s) = filter.status {
        query = query.filter(appeal::Column::Status.eq(s));
    }
    query.page(db, page).await
}

/// Refuses to finalize an appraisal (`appraisal_id`) or publish a scope while an appeal
/// is waiting for its answer.
pub async fn refuse_while_open<C: ConnectionTrait>(
    conn: &C,
    appraisal_id: Option<i64>,
    scope: Option<(&entity::unit::Model, i32)>,
) -> ApiResult<()> {
    let open = appeal::Entity::find()
        .filter(appeal::Column::Status.eq(AppealStatus::Open))
        .order_by_asc(appeal::Column::Id)
        .limit(1);
    let found = match (appraisal_id, scope) {
        (Some(a), _) => {
            open.filter(appeal::Column::AppraisalId.eq(a))
                .one(conn)
                .await?
        }
        (None, Some((parent, year))) => {
            open.filter(appeal::Column::Year.eq(year))
                .filter(super::scope::within(
                    appeal::Column::UnitId,
                    &unit_ref(parent),
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
