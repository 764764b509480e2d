//! Criteria that carry across years (issue 35): a framework's mapping from the framework
//! it follows, read and replaced whole (a copy records `same` for every criterion,
//! `mapping_rows`);
//! comparisons between the two years follow it (`results::compare`).

use super::frameworks;
pub use super::mapping_rows::rows_between;
use super::units::{find_unit, unit_ref};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError, text};
use crate::scoring::mapping::{self, CriterionMapping, Relation};
use entity::criterion_mapping;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// A framework's mapping from an earlier one.
#[derive(Clone, Debug)]
pub struct MappingSet {
    pub from_framework_id: i64,
    pub rows: Vec<CriterionMapping>,
}

/// The mappings of framework `id` (one per earlier framework it was mapped from), for
/// those who read the framework.
pub async fn get(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<Vec<MappingSet>> {
    frameworks::get_framework(db, actor, id).await?;
    let rows = criterion_mapping::Entity::find()
        .filter(criterion_mapping::Column::FrameworkId.eq(id))
        .order_by_asc(criterion_mapping::Column::FromFrameworkId)
        .order_by_asc(criterion_mapping::Column::Position)
        .all(db)
        .await?;
    let mut sets: Vec<MappingSet> = Vec::new();
    for m in rows {
        let Some(relation) = Relation::parse(&m.relation) else {
            continue;
        };
        let row = CriterionMapping {
            from_code: m.from_code,
            to_code: m.to_code,
            relation,
        };
        match sets.last_mut() {
            Some(set) if set.from_framework_id == m.from_framework_id => set.rows.push(row),
            _ => sets.push(MappingSet {
                from_framework_id: m.from_framework_id,
                rows: vec![row],
            }),
        }
    }
    Ok(sets)
}

/// Replaces framework `id`'s mapping from `from_framework_id`, checked against both
/// trees (every problem named by row); the framework's managers only, whatever its state.
pub async fn put(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    from_framework_id: i64,
    rows: Vec<CriterionMapping>,
) -> ApiResult<Vec<MappingSet>> {
    let txn = crate::db::begin_write(db).await?;
    // Two replacements of one framework's mappings run one after the other (PostgreSQL:
    // the framework's row lock), or both would delete nothing and insert their rows.
    entity::framework::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let framework = frameworks::load(&txn, id).await?;
    let owner = find_unit(&txn, framework.model.owner_unit_id).await?;
    authorize(actor, Action::ManageFrameworks, &unit_ref(&owner))?;
    if from_framework_id == id {
        return Err(ApiError::validation(vec![FieldError::new(
            "from_framework_id",
            "same_framework",
            text!(
                "a framework is mapped from an earlier one, not from itself",
                "bộ tiêu chí được ánh xạ từ bộ năm trước, không phải từ chính nó"
            ),
        )]));
    }
    let from = frameworks::load(&txn, from_framework_id)
        .await
        .map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "from_framework_id",
                "unknown_framework",
                text!(
                    "framework {from_framework_id} does not exist",
                    "không có bộ tiêu chí {from_framework_id}"
                ),
            )])
        })?;
    // The earlier framework must be one the caller reads.
    let from_owner = find_unit(&txn, from.model.owner_unit_id).await?;
    authorize(actor, Action::ReadFramework, &unit_ref(&from_owner))?;
    let errors = mapping::check(&from.tree, &framework.tree, &rows);
    if !errors.is_empty() {
        return Err(ApiError::validation(
            errors
                .into_iter()
                .map(|e| FieldError::new(e.field, e.code, e.message))
                .collect(),
        ));
    }
    super::mapping_rows::store(&txn, actor, &framework.model, from.model.id, &rows).await?;
    txn.commit().await?;
    get(db, actor, id).await
}
