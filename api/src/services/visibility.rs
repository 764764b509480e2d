//! One decision, made here only: may this principal see the results of this unit for this
//! year? Results are every figure derived from an appraisal: the council's scores, inputs
//! and comments, deductions, totals, bonus, index, band and rank, and what a remediation
//! plan carries of them.
//!
//! The role rule itself is `policy::Action::ReadResults`: admins, and appraisers over their
//! subtree, always; unit officers (their own unit) and viewers (their subtree) once a
//! publication covers the unit and year. This module adds the one thing the policy cannot
//! know, whether a publication covers them, and gives every route the same three ways to
//! ask: for one unit, for many rows at once, and as a SQL condition.

use super::units::unit_ref;
use crate::auth::policy::{Action, allows};
use crate::auth::{Principal, UnitRef};
use crate::error::{ApiError, ApiResult, text};
use entity::{preliminary_release, publication, unit};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};
use std::collections::HashSet;

/// The ids of a unit and its ancestors, from its path (`/1/5/23/` → 1, 5, 23).
pub fn lineage(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

/// True when a publication for `year` covers `unit`: made for it or an ancestor, or one
/// that announced its result (it may have moved or merged since).
pub async fn is_published<C: ConnectionTrait>(
    conn: &C,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<bool> {
    if publication::Entity::find()
        .filter(publication::Column::Year.eq(year))
        .filter(publication::Column::ParentUnitId.is_in(lineage(&unit.path)))
        .one(conn)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    Ok(!announced(conn, [unit.id], [year]).await?.is_empty())
}

/// Which of `unit_ids` a publication of one of `years` announced, as (unit, year).
async fn announced<C: ConnectionTrait>(
    conn: &C,
    unit_ids: impl IntoIterator<Item = i64>,
    years: impl IntoIterator<Item = i32>,
) -> ApiResult<HashSet<(i64, i32)>> {
    #[derive(FromQueryResult)]
    struct Announced {
        unit_id: i64,
        year: i32,
    }
    let ids: Vec<i64> = unit_ids.into_iter().collect();
    let years: Vec<i32> = years.into_iter().collect();
    if ids.is_empty() || years.is_empty() {
        return Ok(HashSet::new());
    }
    // Integers only: listed inline.
    let list = |v: Vec<String>| v.join(", ");
    let text = format!(
        "SELECT pr.unit_id, p.year FROM publication_results pr \
         JOIN publications p ON p.id = pr.publication_id \
         WHERE pr.unit_id IN ({}) AND p.year IN ({})",
        list(ids.iter().map(i64::to_string).collect()),
        list(years.iter().map(i32::to_string).collect()),
    );
    Ok(
        Announced::find_by_statement(super::sql(conn, &text, Vec::new()))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.unit_id, a.year))
            .collect(),
    )
}

/// Whether the principal's role lets it see this unit's results at all, and whether that
/// depends on publication.
enum Need {
    Always,
    Never,
    Publication,
}

fn need(actor: &Principal, unit: &UnitRef) -> Need {
    if allows(actor, Action::ReadResults { published: false }, unit) {
        Need::Always
    } else if allows(actor, Action::ReadResults { published: true }, unit) {
        Need::Publication
    } else {
        Need::Never
    }
}

/// True when the council released its preliminary results of `year` to the units under
/// a unit on `unit`'s path: each may then see its own appraisal (not yet the ranking).
pub async fn is_released<C: ConnectionTrait>(
    conn: &C,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<bool> {
    Ok(preliminary_release::Entity::find()
        .filter(preliminary_release::Column::Year.eq(year))
        .filter(preliminary_release::Column::ParentUnitId.is_in(lineage(&unit.path)))
        .one(conn)
        .await?
        .is_some())
}

/// May `actor` see the results of `unit` for `year`: its appraisal's figures, its plan,
/// the trail of its council's scores? (Its rank waits for the publication: `ranking` and
/// `unit_index` ask `is_published`.)
pub async fn may_see_results<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<bool> {
    match need(actor, &unit_ref(unit)) {
        Need::Always => Ok(true),
        Need::Never => Ok(false),
        Need::Publication => {
            Ok(is_published(conn, unit, year).await? || is_released(conn, unit, year).await?)
        }
    }
}

/// `may_see_results`, as the 403 of a route that shows nothing but results.
pub async fn require_results<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<()> {
    if may_see_results(conn, actor, unit, year).await? {
        Ok(())
    } else {
        Err(not_visible())
    }
}

/// The refusal of results that are not (yet) the caller's to see.
pub fn not_visible() -> ApiError {
    ApiError::forbidden(text!(
        "these results are not published yet",
        "kết quả này chưa được công bố"
    ))
}

/// The publications (and preliminary releases) of some years, to decide many rows (a list
/// page) with three queries.
pub struct Publications {
    scopes: HashSet<(i64, i32)>,
    announced: HashSet<(i64, i32)>,
}

impl Publications {
    /// For rows of (unit id, year).
    pub async fn of<C: ConnectionTrait>(
        conn: &C,
        rows: impl IntoIterator<Item = (i64, i32)>,
    ) -> ApiResult<Publications> {
        let rows: Vec<(i64, i32)> = rows.into_iter().collect();
        let years: Vec<i32> = rows
            .iter()
            .map(|(_, y)| *y)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if years.is_empty() {
            return Ok(Publications {
                scopes: HashSet::new(),
                announced: HashSet::new(),
            });
        }
        let mut scopes: HashSet<(i64, i32)> = publication::Entity::find()
            .filter(publication::Column::Year.is_in(years.clone()))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| (p.parent_unit_id, p.year))
            .collect();
        // Preliminary results show a unit its own figures too.
        scopes.extend(
            preliminary_release::Entity::find()
                .filter(preliminary_release::Column::Year.is_in(years.clone()))
                .all(conn)
                .await?
                .into_iter()
                .map(|r| (r.parent_unit_id, r.year)),
        );
        let ids: HashSet<i64> = rows.iter().map(|(id, _)| *id).collect();
        Ok(Publications {
            scopes,
            announced: announced(conn, ids, years).await?,
        })
    }

    fn covers(&self, unit: &UnitRef, year: i32) -> bool {
        self.announced.contains(&(unit.id, year))
            || lineage(&unit.path)
                .into_iter()
                .any(|id| self.scopes.contains(&(id, year)))
    }

    /// `may_see_results` for one row of a list.
    pub fn may_see(&self, actor: &Principal, unit: &UnitRef, year: i32) -> bool {
        match need(actor, unit) {
            Need::Always => true,
            Need::Never => false,
            Need::Publication => self.covers(unit, year),
        }
    }
}

/// For queries over audit events: a SQL condition that keeps, for `actor`, only the events
/// whose results year (if they carry results) it may see. `None` when it may see them all.
/// The events are the table `audit_events`; their unit is `audit_events.unit_id`.
pub fn audit_condition(actor: &Principal) -> Option<String> {
    // The trail is read within the caller's own subtree (the read scope); whoever may see
    // unpublished results of its own unit sees them throughout it (admins, appraisers).
    let sees_unpublished = actor.is_admin()
        || actor
            .unit
            .as_ref()
            .is_some_and(|own| allows(actor, Action::ReadResults { published: false }, own));
    match sees_unpublished {
        true => None,
        false => Some(
            "(audit_events.results_year IS NULL OR EXISTS (SELECT 1 FROM publications p \
             JOIN units u ON u.id = audit_events.unit_id \
             WHERE p.year = audit_events.results_year \
             AND u.path LIKE '%/' || CAST(p.parent_unit_id AS TEXT) || '/%') \
             OR EXISTS (SELECT 1 FROM preliminary_releases rel \
             JOIN units ur ON ur.id = audit_events.unit_id \
             WHERE rel.year = audit_events.results_year \
             AND ur.path LIKE '%/' || CAST(rel.parent_unit_id AS TEXT) || '/%') \
             OR EXISTS (SELECT 1 FROM publication_results pr \
             JOIN publications pa ON pa.id = pr.publication_id \
             WHERE pr.unit_id = audit_events.unit_id AND pa.year = audit_events.results_year))"
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lineage_reads_the_path() {
        assert_eq!(lineage("/1/5/23/"), vec![1, 5, 23]);
        assert!(lineage("").is_empty());
    }
}
