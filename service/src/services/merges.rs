//! Unit merges (2025's reorganisation: most communes were merged from several old ones).
//!
//! A merge joins `from_unit_ids` into `into_unit_id`, a unit created for it or one of the
//! sources. The other sources are never deleted: they become inactive and are kept below
//! the unit they merged into, so the tree itself says where their history belongs. Who may
//! read the new unit's subtree (its officers, the province's appraisers) reads the old
//! units' published results; their published rows stay as announced (see
//! `results::publication`). Officers of the sources may be moved to the new unit in the
//! same call, or later through the accounts API.
//!
//! A split (one commune into parts) is not supported: a unit's history would have to be
//! divided, and nothing in the seed says how.

use super::audit::{self, Change};
use super::scope::{Page, PageRequest, Reach, scoped};
use super::units::{BASE_KIND_LEVEL, find_unit, kind_of, move_subtree, unit_ref};
use super::versioned::{Precondition, Write};
use super::{now, sql};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, Violations, text};
use crate::scoring::{from_hundredths, to_hundredths};
use chrono::NaiveDate;
use entity::{staff, unit, unit_merge, unit_merge_source, user};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use std::collections::HashSet;

/// At most this many units merge into one (the 2025 merges joined two to five).
const MAX_SOURCES: usize = 50;

pub struct MergeRequest {
    pub from_unit_ids: Vec<i64>,
    pub into_unit_id: i64,
    pub effective_on: NaiveDate,
    pub decision: String,
    /// One weight per source, in order (e.g. population), for the weighted comparison.
    pub weights: Option<Vec<Decimal>>,
    /// Move the sources' accounts and officers to the new unit now.
    pub reassign_officers: bool,
}

/// A merge, as stored.
#[derive(Clone, Debug)]
pub struct MergeView {
    pub merge: unit_merge::Model,
    pub sources: Vec<unit_merge_source::Model>,
    pub accounts_moved: u64,
    pub officers_moved: u64,
}

fn check_request(request: &MergeRequest) -> ApiResult<String> {
    let mut v = Violations::new();
    let decision = crate::validation::text(&mut v, "decision", &request.decision, 200, true)
        .unwrap_or_default();
    let distinct: HashSet<i64> = request.from_unit_ids.iter().copied().collect();
    if request.from_unit_ids.is_empty() || request.from_unit_ids.len() > MAX_SOURCES {
        v.add(
            "from_unit_ids",
            "invalid_length",
            text!(
                "name 1 to {MAX_SOURCES} units to merge",
                "cần nêu từ 1 đến {MAX_SOURCES} đơn vị được sáp nhập"
            ),
        );
    } else if distinct.len() != request.from_unit_ids.len() {
        v.add(
            "from_unit_ids",
            "duplicate",
            text!("a unit is named twice", "một đơn vị được nêu hai lần"),
        );
    } else if !distinct.iter().any(|id| *id != request.into_unit_id) {
        v.add(
            "from_unit_ids",
            "nothing_to_merge",
            text!(
                "name at least one unit other than into_unit_id",
                "cần nêu ít nhất một đơn vị khác into_unit_id"
            ),
        );
    }
    if let Some(w) = &request.weights {
        if w.len() != request.from_unit_ids.len() {
            v.add(
                "weights",
                "invalid_length",
                text!(
                    "one weight per unit of from_unit_ids, in the same order",
                    "mỗi đơn vị trong from_unit_ids một trọng số, cùng thứ tự"
                ),
            );
        } else if w
            .iter()
            .any(|w| *w <= Decimal::ZERO || *w > Decimal::from(1_000_000_000))
        {
            v.add(
                "weights",
                "out_of_range",
                text!(
                    "weights are positive numbers up to 1,000,000,000",
                    "trọng số là số dương không quá 1.000.000.000"
                ),
            );
        }
    }
    v.into_result()?;
    Ok(decision)
}

/// Merges units, in one transaction, audited.
// Long by nature: each source is checked, moved and recorded in turn.
pub async fn merge(
    db: &DatabaseConnection,
    actor: &Principal,
    request: MergeRequest,
) -> ApiResult<MergeView> {
    let decision = check_request(&request)?;
    let txn = crate::db::begin_write(db).await?;
    let into = find_unit(&txn, request.into_unit_id).await?;
    authorize(actor, Action::ManageUnits, &unit_ref(&into))?;
    let mut v = Violations::new();
    let base_level = |u: &unit::Model| kind_of(u).level() == BASE_KIND_LEVEL;
    if !into.active || !base_level(&into) {
        v.add(
            "into_unit_id",
            "invalid_target",
            text!(
                "{} must be an active commune, ward, town or special zone",
                "{} phải là xã, phường, thị trấn hoặc đặc khu đang hoạt động",
                into.name
            ),
        );
    }
    let mut sources = Vec::new();
    for id in &request.from_unit_ids {
        let Some(u) = unit::Entity::find_by_id(*id).one(&txn).await? else {
            v.add(
                "from_unit_ids",
                "not_found",
                text!("unit {id} does not exist", "không có đơn vị {id}"),
            );
            continue;
        };
        authorize(actor, Action::ManageUnits, &unit_ref(&u))?;
        if u.id != into.id && unit_ref(&into).is_within(&unit_ref(&u)) {
            v.add(
                "into_unit_id",
                "cycle",
                text!(
                    "{} lies below {}, which it would absorb",
                    "{} nằm dưới {}, đơn vị sẽ được sáp nhập vào nó",
                    into.name,
                    u.name
                ),
            );
        }
        if !u.active || !base_level(&u) {
            v.add(
                "from_unit_ids",
                "invalid_source",
                text!(
                    "{} is not an active commune, ward, town or special zone",
                    "{} không phải xã, phường, thị trấn hoặc đặc khu đang hoạt động",
                    u.name
                ),
            );
        }
        sources.push(u);
    }
    v.into_result()?;

    let created = unit_merge::ActiveModel {
        into_unit_id: Set(into.id),
        effective_on: Set(request.effective_on),
        decision: Set(decision.clone()),
        created_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut stored = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let weight = request.weights.as_ref().map(|w| to_hundredths(w[i]));
        stored.push(
            unit_merge_source::ActiveModel {
                merge_id: Set(created.id),
                from_unit_id: Set(source.id),
                weight_x100: Set(weight),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        );
        if source.id == into.id {
            continue;
        }
        // Inactive, below the unit it merged into; its own predecessors move with it.
        let write = Write::<unit::Entity>::begin(&txn, actor, source, &Precondition::any()).await?;
        let mut am = unit::ActiveModel {
            active: Set(false),
            ..Default::default()
        };
        move_subtree(&txn, source, &into, &mut am).await?;
        write
            .finish(
                &txn,
                am,
                "merge",
                Some(json!({"merge_id": created.id, "into_unit_id": into.id})),
            )
            .await?;
    }
    let moved_from: Vec<i64> = sources
        .iter()
        .map(|s| s.id)
        .filter(|id| *id != into.id)
        .collect();
    let (accounts_moved, officers_moved) = if request.reassign_officers {
        reassign(&txn, &moved_from, into.id).await?
    } else {
        (0, 0)
    };
    audit::record(
        &txn,
        actor,
        Change {
            entity: "unit_merge",
            entity_id: created.id,
            action: "create",
            unit_id: Some(into.id),
            results_year: None,
            old: None,
            new: Some(json!({
                "from_unit_ids": request.from_unit_ids,
                "into_unit_id": into.id,
                "effective_on": request.effective_on,
                "decision": decision,
                "accounts_moved": accounts_moved,
                "officers_moved": officers_moved,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(MergeView {
        merge: created,
        sources: stored,
        accounts_moved,
        officers_moved,
    })
}

/// Moves the unit-officer accounts and the officers (công chức) of `from` to `into`.
async fn reassign<C: ConnectionTrait>(conn: &C, from: &[i64], into: i64) -> ApiResult<(u64, u64)> {
    let accounts = user::Entity::update_many()
        .col_expr(user::Column::UnitId, Expr::value(into))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .filter(user::Column::UnitId.is_in(from.to_vec()))
        .filter(user::Column::Role.eq("unit_officer"))
        .exec(conn)
        .await?
        .rows_affected;
    let officers = staff::Entity::update_many()
        .col_expr(staff::Column::UnitId, Expr::value(into))
        .filter(staff::Column::UnitId.is_in(from.to_vec()))
        .exec(conn)
        .await?
        .rows_affected;
    Ok((accounts, officers))
}

async fn view_of<C: ConnectionTrait>(conn: &C, m: unit_merge::Model) -> ApiResult<MergeView> {
    let sources = unit_merge_source::Entity::find()
        .filter(unit_merge_source::Column::MergeId.eq(m.id))
        .order_by_asc(unit_merge_source::Column::Id)
        .all(conn)
        .await?;
    Ok(MergeView {
        merge: m,
        sources,
        accounts_moved: 0,
        officers_moved: 0,
    })
}

/// One merge, for those who may read the unit it made.
pub async fn get_merge(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<MergeView> {
    let m = unit_merge::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "merge {id} does not exist",
                "không có lần sáp nhập {id}"
            ))
        })?;
    let into = find_unit(db, m.into_unit_id).await?;
    authorize(actor, Action::ReadUnit, &unit_ref(&into))?;
    view_of(db, m).await
}

/// The merges that made or used `unit_id` (as target or source), oldest first; every merge
/// under the caller's reach when no unit is named.
pub async fn list_merges(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: Option<i64>,
    page: PageRequest,
) -> ApiResult<Page<MergeView>> {
    // Whoever may read the unit merged into (its subtree, or one of the reader's
    // ancestors: `ReadUnit`).
    let mut query = scoped(
        unit_merge::Entity::find(),
        actor,
        unit_merge::Column::IntoUnitId,
        Reach::OwnedAbove,
    )
    .order_by_asc(unit_merge::Column::Id);
    if let Some(id) = unit_id {
        let u = find_unit(db, id).await?;
        authorize(actor, Action::ReadUnit, &unit_ref(&u))?;
        query = query.filter(
            unit_merge::Column::IntoUnitId
                .eq(id)
                .or(unit_merge::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(unit_merge_source::Column::MergeId)
                        .from(unit_merge_source::Entity)
                        .and_where(unit_merge_source::Column::FromUnitId.eq(id))
                        .to_owned(),
                )),
        );
    }
    query
        .page(db, page)
        .await?
        .try_map_all(async |merges| {
            let mut out = Vec::new();
            for m in merges {
                out.push(view_of(db, m).await?);
            }
            Ok(out)
        })
        .await
}

/// An old unit merged into `unit_id`, with its weight.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Source {
    pub from_unit_id: i64,
    pub weight_x100: Option<i64>,
    pub effective_on: NaiveDate,
}

impl Source {
    /// Its weight in a weighted comparison: 1 when none was given.
    pub fn weight(&self) -> Decimal {
        weight_of(self.weight_x100)
    }
}

/// A stored weight: 1.00 when none was given at the merge (not 1: a weight is sent as a
/// score, with two decimals, either way).
pub fn weight_of(weight_x100: Option<i64>) -> Decimal {
    from_hundredths(weight_x100.unwrap_or(100))
}

/// The units merged into `unit_id` by merges effective in `year` (its first year as the
/// merged unit), itself excluded when it was one of them.
pub async fn sources_in_year<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
    year: i32,
) -> ApiResult<Vec<Source>> {
    let all = Source::find_by_statement(sql(
        conn,
        "SELECT s.from_unit_id, s.weight_x100, m.effective_on FROM unit_merge_sources s \
         JOIN unit_merges m ON m.id = s.merge_id \
         WHERE m.into_unit_id = $1 AND s.from_unit_id <> $1 ORDER BY s.id",
        vec![unit_id.into()],
    ))
    .all(conn)
    .await?;
    use chrono::Datelike;
    Ok(all
        .into_iter()
        .filter(|s| s.effective_on.year() == year)
        .collect())
}
