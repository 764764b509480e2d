//! The stored rows of a framework's mapping from an earlier one, read and replaced (the
//! mapping service's and a copy's one way to write them).

use super::audit::{self, Change};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::scoring::mapping::{CriterionMapping, Relation};
use entity::{criterion_mapping, framework};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

/// The stored rows of `framework_id`'s mapping from `from_framework_id` (empty when none
/// was recorded).
pub async fn rows_between<C: ConnectionTrait>(
    conn: &C,
    framework_id: i64,
    from_framework_id: i64,
) -> ApiResult<Vec<CriterionMapping>> {
    Ok(criterion_mapping::Entity::find()
        .filter(criterion_mapping::Column::FrameworkId.eq(framework_id))
        .filter(criterion_mapping::Column::FromFrameworkId.eq(from_framework_id))
        .order_by_asc(criterion_mapping::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some(CriterionMapping {
                from_code: m.from_code,
                to_code: m.to_code,
                relation: Relation::parse(&m.relation)?,
            })
        })
        .collect())
}

/// Stores `rows` as the mapping of `framework` from `from` (replacing any before it),
/// audited; on `conn` (a copy records its own in its transaction).
pub async fn store<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    framework: &framework::Model,
    from_framework_id: i64,
    rows: &[CriterionMapping],
) -> ApiResult<()> {
    let old = rows_between(conn, framework.id, from_framework_id).await?;
    criterion_mapping::Entity::delete_many()
        .filter(criterion_mapping::Column::FrameworkId.eq(framework.id))
        .filter(criterion_mapping::Column::FromFrameworkId.eq(from_framework_id))
        .exec(conn)
        .await?;
    let models: Vec<criterion_mapping::ActiveModel> = rows
        .iter()
        .enumerate()
        .map(|(i, m)| criterion_mapping::ActiveModel {
            framework_id: Set(framework.id),
            from_framework_id: Set(from_framework_id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            from_code: Set(m.from_code.clone()),
            to_code: Set(m.to_code.clone()),
            relation: Set(m.relation.as_str().to_string()),
            ..Default::default()
        })
        .collect();
    for chunk in models.chunks(200) {
        criterion_mapping::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    audit::record(
        conn,
        actor,
        Change {
            entity: "framework",
            entity_id: framework.id,
            action: "map_criteria",
            unit_id: Some(framework.owner_unit_id),
            results_year: None,
            old: (!old.is_empty())
                .then(|| json!({"from_framework_id": from_framework_id, "mappings": old})),
            new: Some(json!({"from_framework_id": from_framework_id, "mappings": rows})),
        },
    )
    .await?;
    Ok(())
}
