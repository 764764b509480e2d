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
use entity::{publication, unit};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashSet;

/// The ids of a unit and its ancestors, from its path (`/1/5/23/` → 1, 5, 23).
pub fn lineage(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

/// True when a publication for `year` covers `unit` (made for it or an ancestor).
pub async fn is_published<C: ConnectionTrait>(
    conn: &C,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<bool> {
    is_published_at(conn, &unit.path, year).await
}

async fn is_published_at<C: ConnectionTrait>(conn: &C, path: &str, year: i32) -> ApiResult<bool> {
    Ok(publication::Entity::find()
        .filter(publication::Column::Year.eq(year))
        .filter(publication::Column::ParentUnitId.is_in(lineage(path)))
        .one(conn)
        .await?
        .is_some())
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

/// May `actor` see the results of `unit` for `year`?
pub async fn may_see_results<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<bool> {
    match need(actor, &unit_ref(unit)) {
        Need::Always => Ok(true),
        Need::Never => Ok(false),
        Need::Publication => is_published(conn, unit, year).await,
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

/// The publications of some years, to decide many rows (a list page) with one query.
pub struct Publications(HashSet<(i64, i32)>);

impl Publications {
    pub async fn of_years<C: ConnectionTrait>(
        conn: &C,
        years: impl IntoIterator<Item = i32>,
    ) -> ApiResult<Publications> {
        let years: Vec<i32> = years
            .into_iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if years.is_empty() {
            return Ok(Publications(HashSet::new()));
        }
        Ok(Publications(
            publication::Entity::find()
                .filter(publication::Column::Year.is_in(years))
                .all(conn)
                .await?
                .into_iter()
                .map(|p| (p.parent_unit_id, p.year))
                .collect(),
        ))
    }

    fn covers(&self, path: &str, year: i32) -> bool {
        lineage(path)
            .into_iter()
            .any(|id| self.0.contains(&(id, year)))
    }

    /// `may_see_results` for one row of a list.
    pub fn may_see(&self, actor: &Principal, unit: &UnitRef, year: i32) -> bool {
        match need(actor, unit) {
            Need::Always => true,
            Need::Never => false,
            Need::Publication => self.covers(&unit.path, year),
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
             AND u.path LIKE '%/' || CAST(p.parent_unit_id AS TEXT) || '/%'))"
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
