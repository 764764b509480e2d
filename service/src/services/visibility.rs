//! One decision, made here only: may this principal see the results of this unit for this
//! year? Results are every figure derived from an appraisal: the council's scores, inputs
//! and comments, deductions, totals, bonus, index, band and rank, and what a remediation
//! plan carries of them.
//!
//! The role rule itself is `policy::Action::ReadResults`: admins, and appraisers over their
//! subtree, always; unit officers (their own unit) and viewers (their subtree) once the
//! unit's results of the year are published to them or released as preliminary. This
//! module adds what the policy cannot know, and says it once:
//!
//! - **published**: a publication of the year was made for the unit or an ancestor, or a
//!   publication of the year announced the unit's result (it may have moved or merged
//!   since);
//! - **released**: the council released its preliminary results of the year to a unit on
//!   the unit's path.
//!
//! Both are written once, in SQL (`published_sql`, `released_sql`); every question (one
//! unit, a page of rows, a list's filter) runs that SQL.
//!
//! Kept by type: the figures leave the services only as a `Visible<T>` or in a `Shown<T>`,
//! and only this module makes either. What a caller may not see is taken out of the value
//! itself (`Withhold`), so a route cannot show it by mistake.

use super::scope::path_through_sql;
use super::sql;
use crate::auth::policy::{Action, allows, authorize};
use crate::auth::{Principal, UnitRef, unit_ref};
use crate::error::{ApiError, ApiResult, text};
use entity::{preliminary_release, unit};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
};
use std::collections::{HashMap, HashSet};

pub use crate::auth::lineage;

/// Results the policy let the caller see. Only this module makes one.
#[derive(Clone, Debug)]
pub struct Visible<T>(T);

impl<T> Visible<T> {
    pub fn get(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }

    /// The same results, in another form (a view of them).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Visible<U> {
        Visible(f(self.0))
    }

    /// Two results the caller may see, together (a comparison of two years).
    pub fn and<U>(self, other: Visible<U>) -> Visible<(T, U)> {
        Visible((self.0, other.0))
    }

    /// Many results the caller may see, together.
    pub fn all(items: Vec<Visible<T>>) -> Visible<Vec<T>> {
        Visible(items.into_iter().map(|v| v.0).collect())
    }
}

/// Results whose computation may fail.
impl<T, E> Visible<Result<T, E>> {
    pub fn transpose(self) -> Result<Visible<T>, E> {
        self.0.map(Visible)
    }
}

/// A value that carries results beside what its reader may always see (a unit its own
/// self-assessment): `withhold` takes the results out.
pub trait Withhold {
    fn withhold(self) -> Self;
}

/// A value as its reader may see it: with its results, or with them taken out
/// (`Withhold`). Only this module makes one.
#[derive(Clone, Debug)]
pub struct Shown<T> {
    value: T,
    results: bool,
}

impl<T> Shown<T> {
    /// The value, and whether it carries its results.
    pub fn into_parts(self) -> (T, bool) {
        (self.value, self.results)
    }

    pub fn get(&self) -> &T {
        &self.value
    }

    pub fn has_results(&self) -> bool {
        self.results
    }

    /// The value with its results, if the reader may see them.
    pub fn results(self) -> Option<Visible<T>> {
        self.results.then_some(Visible(self.value))
    }
}

impl<T: Withhold> Shown<T> {
    fn decide(value: T, results: bool) -> Shown<T> {
        if results {
            Shown {
                value,
                results: true,
            }
        } else {
            Shown {
                value: value.withhold(),
                results: false,
            }
        }
    }

    /// `value` without its results (its unit could not be placed: nothing is shown of
    /// them).
    pub fn withheld(value: T) -> Shown<T> {
        Shown::decide(value, false)
    }
}

/// SQL: the results of `year` of the unit whose id is the expression `unit_id` are
/// published (see the module documentation).
pub fn published_sql(unit_id: &str, year: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM publications pub JOIN units pu ON pu.id = {unit_id} \
           WHERE pub.year = {year} AND {through}) \
         OR EXISTS (SELECT 1 FROM publication_results pr \
           JOIN publications pa ON pa.id = pr.publication_id \
           WHERE pr.unit_id = {unit_id} AND pa.year = {year}))",
        through = path_through_sql("pu.path", "pub.parent_unit_id"),
    )
}

/// SQL: the council released its preliminary results of `year` to the unit whose id is
/// the expression `unit_id` (for it or an ancestor).
pub fn released_sql(unit_id: &str, year: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM preliminary_releases rel JOIN units ru ON ru.id = {unit_id} \
           WHERE rel.year = {year} AND {through})",
        through = path_through_sql("ru.path", "rel.parent_unit_id"),
    )
}

/// Whether the principal's role lets it see this unit's results at all, and whether that
/// depends on publication.
#[derive(Clone, Copy, PartialEq, Eq)]
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

/// Where one unit's year stands: published, released.
#[derive(Clone, Copy, Debug, Default, FromQueryResult)]
struct Standing {
    published: bool,
    released: bool,
}

async fn standing<C: ConnectionTrait>(conn: &C, unit_id: i64, year: i32) -> ApiResult<Standing> {
    let text = format!(
        "SELECT {} AS published, {} AS released",
        published_sql("$1", "$2"),
        released_sql("$1", "$2")
    );
    Ok(
        Standing::find_by_statement(sql(conn, &text, vec![unit_id.into(), year.into()]))
            .one(conn)
            .await?
            .unwrap_or_default(),
    )
}

/// A unit and whether its results of `year` are published, in one statement; 404 when it
/// does not exist.
pub async fn unit_with_publication<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    year: i32,
) -> ApiResult<(unit::Model, bool)> {
    struct Row(unit::Model, bool);
    impl FromQueryResult for Row {
        fn from_query_result(
            res: &sea_orm::QueryResult,
            pre: &str,
        ) -> Result<Self, sea_orm::DbErr> {
            Ok(Row(
                unit::Model::from_query_result(res, pre)?,
                res.try_get(pre, "published")?,
            ))
        }
    }
    let text = format!(
        "SELECT units.*, {} AS published FROM units WHERE units.id = $1",
        published_sql("units.id", "$2")
    );
    let Row(unit, published) =
        Row::find_by_statement(sql(conn, &text, vec![id.into(), year.into()]))
            .one(conn)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(text!("unit {id} does not exist", "không có đơn vị {id}"))
            })?;
    Ok((unit, published))
}

/// True when the year's results of `unit` are published.
pub async fn is_published<C: ConnectionTrait>(
    conn: &C,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<bool> {
    Ok(standing(conn, unit.id, year).await?.published)
}

/// The release of the council's preliminary results of `year` that covers `unit` (the
/// first, if several), if any: it starts the appeal window.
pub async fn release_covering<C: ConnectionTrait>(
    conn: &C,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<Option<preliminary_release::Model>> {
    Ok(preliminary_release::Entity::find()
        .filter(preliminary_release::Column::Year.eq(year))
        .filter(preliminary_release::Column::ParentUnitId.is_in(lineage(&unit.path)))
        .order_by_asc(preliminary_release::Column::ReleasedAt)
        .one(conn)
        .await?)
}

/// May `actor` see the results of `unit` for `year`: its appraisal's figures, its plan,
/// the trail of its council's scores? (Its rank waits for the publication: rankings ask
/// `ranking_results`.)
pub async fn may_see_results<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<bool> {
    Ok(match need(actor, &unit_ref(unit)) {
        Need::Always => true,
        Need::Never => false,
        Need::Publication => {
            let s = standing(conn, unit.id, year).await?;
            s.published || s.released
        }
    })
}

/// `value` (a read of `unit`'s year) as `actor` may see it: with its results when
/// `may_see_results`, else withheld.
pub async fn disclose<C: ConnectionTrait, T: Withhold>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
    value: T,
) -> ApiResult<Shown<T>> {
    Ok(Shown::decide(
        value,
        may_see_results(conn, actor, unit, year).await?,
    ))
}

/// `value` (nothing but `unit`'s results of `year`) when the caller may see them.
pub async fn results_if_visible<C: ConnectionTrait, T>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
    value: T,
) -> ApiResult<Option<Visible<T>>> {
    Ok(may_see_results(conn, actor, unit, year)
        .await?
        .then_some(Visible(value)))
}

/// `value` (nothing but `unit`'s results of `year`), or the 403 of results that are not
/// the caller's to see yet.
pub async fn results_only<C: ConnectionTrait, T>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
    value: T,
) -> ApiResult<Visible<T>> {
    if may_see_results(conn, actor, unit, year).await? {
        Ok(Visible(value))
    } else {
        Err(not_visible())
    }
}

/// The 403 of a change or a read that shows nothing but `unit`'s results of `year` (a
/// remediation plan made from its deductions), unless the caller may see them.
pub async fn require_results<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    unit: &unit::Model,
    year: i32,
) -> ApiResult<()> {
    results_only(conn, actor, unit, year, ()).await.map(|_| ())
}

/// Figures of a published index or ranking (`published` as read with them): the policy's
/// `ReadResults`, as a 403 problem when refused.
pub fn published_results<T>(
    actor: &Principal,
    unit: &UnitRef,
    published: bool,
    value: T,
) -> ApiResult<Visible<T>> {
    authorize(actor, Action::ReadResults { published }, unit)?;
    Ok(Visible(value))
}

/// Figures of a ranking of the units under `parent` (`published` as read with them): the
/// policy's `ReadRanking`, or its published-ranking rule for units it announced.
pub fn ranking_results<T>(
    actor: &Principal,
    parent: &UnitRef,
    ranked: &[UnitRef],
    published: bool,
    value: T,
) -> ApiResult<Visible<T>> {
    let allowed = allows(actor, Action::ReadRanking { published }, parent)
        || (published && crate::auth::policy::allows_published_ranking(actor, parent, ranked));
    if allowed {
        Ok(Visible(value))
    } else {
        authorize(actor, Action::ReadRanking { published }, parent)?;
        Err(not_visible())
    }
}

/// What the access to a read of results depends on, as read with its figures: a stored
/// results document keeps it beside its body, so that every caller is checked by the same
/// rules as the live read (`check`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// The whole country: admins only.
    Country,
    /// A ranking (or criteria losses) of the units under `parent`; `members` are the
    /// units it ranks (a commune announced in it may read it after moving away).
    Ranking {
        parent: UnitRef,
        members: Vec<UnitRef>,
        published: bool,
    },
    /// One unit's results.
    Unit { unit: UnitRef, published: bool },
}

/// `value`, if `access` lets `actor` see it: the rules of `admin_only`, `ranking_results`
/// and `published_results`.
pub fn check<T>(actor: &Principal, access: &Access, value: T) -> ApiResult<Visible<T>> {
    match access {
        Access::Country => admin_only(actor, value),
        Access::Ranking {
            parent,
            members,
            published,
        } => ranking_results(actor, parent, members, *published, value),
        Access::Unit { unit, published } => published_results(actor, unit, *published, value),
    }
}

/// Results of the whole country (no parent unit): admins only.
pub fn admin_only<T>(actor: &Principal, value: T) -> ApiResult<Visible<T>> {
    crate::auth::policy::require_admin(actor)?;
    Ok(Visible(value))
}

/// The refusal of results that are not (yet) the caller's to see.
pub fn not_visible() -> ApiError {
    ApiError::forbidden(text!(
        "these results are not published yet",
        "kết quả này chưa được công bố"
    ))
}

/// Where the units of many rows stand (a list page), read in one query.
pub struct Publications {
    standings: HashMap<(i64, i32), Standing>,
}

impl Publications {
    /// For rows of (unit id, year).
    pub async fn of<C: ConnectionTrait>(
        conn: &C,
        rows: impl IntoIterator<Item = (i64, i32)>,
    ) -> ApiResult<Publications> {
        let rows: HashSet<(i64, i32)> = rows.into_iter().collect();
        if rows.is_empty() {
            return Ok(Publications {
                standings: HashMap::new(),
            });
        }
        #[derive(FromQueryResult)]
        struct Row {
            unit_id: i64,
            year: i32,
            published: bool,
            released: bool,
        }
        // Integers only: listed inline.
        let ids: HashSet<i64> = rows.iter().map(|(id, _)| *id).collect();
        let years: HashSet<i32> = rows.iter().map(|(_, y)| *y).collect();
        let ids = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let years = years
            .iter()
            .map(|y| format!("SELECT {y} AS year"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let text = format!(
            "SELECT u.id AS unit_id, y.year AS year, {} AS published, {} AS released \
             FROM units u CROSS JOIN ({years}) y WHERE u.id IN ({ids})",
            published_sql("u.id", "y.year"),
            released_sql("u.id", "y.year"),
        );
        let standings = Row::find_by_statement(sql(conn, &text, Vec::new()))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| {
                (
                    (r.unit_id, r.year),
                    Standing {
                        published: r.published,
                        released: r.released,
                    },
                )
            })
            .collect();
        Ok(Publications { standings })
    }

    /// `may_see_results` for one row of the page.
    pub fn may_see(&self, actor: &Principal, unit: &UnitRef, year: i32) -> bool {
        match need(actor, unit) {
            Need::Always => true,
            Need::Never => false,
            Need::Publication => self
                .standings
                .get(&(unit.id, year))
                .is_some_and(|s| s.published || s.released),
        }
    }

    /// `disclose` for one row of the page.
    pub fn disclose<T: Withhold>(
        &self,
        actor: &Principal,
        unit: &UnitRef,
        year: i32,
        value: T,
    ) -> Shown<T> {
        Shown::decide(value, self.may_see(actor, unit, year))
    }
}

/// For lists: a SQL condition that keeps, for `actor`, only the rows whose results (the
/// unit and year the expressions name) it may see, or that carry none (`year` is NULL).
/// `None` when it may see them all within its read scope (admins, appraisers).
pub fn results_condition(actor: &Principal, unit_id: &str, year: &str) -> Option<String> {
    // Lists are read within the caller's own scope (`scope::scoped`); whoever may see
    // unpublished results of its own unit sees them throughout it.
    let sees_unpublished = actor.is_admin()
        || actor
            .unit
            .as_ref()
            .is_some_and(|own| need(actor, own) == Need::Always);
    (!sees_unpublished).then(|| {
        format!(
            "({year} IS NULL OR {} OR {})",
            published_sql(unit_id, year),
            released_sql(unit_id, year)
        )
    })
}
