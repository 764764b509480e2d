//! Publishing a year's results of the units under a district or province.

use super::rows::{ResultRow, Scope, result_rows};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, text};
use crate::services::audit::{self, Change};
use crate::services::now;
use crate::services::units::{find_unit, unit_ref};
use entity::publication;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};
use serde_json::json;

/// Publishes a year's results of the units under `parent_unit_id`: their officers and
/// viewers may then read their indices and the ranking.
pub async fn publish(
    db: &DatabaseConnection,
    actor: &Principal,
    parent_unit_id: i64,
    year: i32,
) -> ApiResult<publication::Model> {
    let txn = crate::db::begin_write(db).await?;
    let parent = find_unit(&txn, parent_unit_id).await?;
    authorize(actor, Action::Publish, &unit_ref(&parent))?;
    let rows = result_rows(&txn, Scope::Children(parent.id), year).await?;
    if !rows.iter().any(ResultRow::is_ranked) {
        return Err(ApiError::conflict(
            "nothing_to_publish",
            text!(
                "no unit under {} has a finalized appraisal for {year}",
                "chưa đơn vị nào thuộc {} có kết quả thẩm định đã chốt năm {year}",
                parent.name
            ),
        ));
    }
    let created = publication::ActiveModel {
        parent_unit_id: Set(parent.id),
        year: Set(year),
        published_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        published_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "already_published",
            text!(
                "the {year} results of {} are already published",
                "kết quả năm {year} của {} đã được công bố",
                parent.name
            ),
        ),
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "publication",
            entity_id: created.id,
            action: "publish",
            unit_id: Some(parent.id),
            results_year: None,
            old: None,
            new: Some(json!({"parent_unit_id": parent.id, "year": year})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn list_publications(
    db: &DatabaseConnection,
    actor: &Principal,
    parent_unit_id: Option<i64>,
    year: Option<i32>,
) -> ApiResult<Vec<publication::Model>> {
    let mut query = publication::Entity::find();
    if let Some(p) = parent_unit_id {
        query = query.filter(publication::Column::ParentUnitId.eq(p));
    }
    if let Some(y) = year {
        query = query.filter(publication::Column::Year.eq(y));
    }
    let all = query.all(db).await?;
    // Publications are public to anyone who may read the unit they concern.
    let mut visible = Vec::new();
    for p in all {
        let u = find_unit(db, p.parent_unit_id).await?;
        if crate::auth::policy::allows(actor, Action::ReadUnit, &unit_ref(&u)) {
            visible.push(p);
        }
    }
    Ok(visible)
}
