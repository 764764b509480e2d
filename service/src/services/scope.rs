//! The read scope (`policy::read_scope`) applied to a query: every list narrows its rows
//! here, so that what a list shows and what a lookup allows are one rule.
//!
//! Kept by type: a list is a `Page`, and only a `Scoped` query makes one; only `scoped`
//! (this module) makes a `Scoped` query, from the caller's read scope. A list that skipped
//! the scope would have no way to build its result. The subtree of a unit in SQL
//! (`within`) is written here and nowhere else.

use crate::auth::policy::{ReadScope, read_scope};
use crate::auth::{Principal, UnitRef};
use crate::error::ApiResult;
pub use crate::validation::PageRequest;
use entity::unit;
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, sea_query::IntoCondition,
};

/// What a list's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Records of a unit (`column` holds its id): assessments, appraisals, plans, the
    /// trail. An officer reads its own unit's only.
    Records,
    /// Units themselves (`column` holds their id): the scope's subtree.
    Units,
    /// Records owned by a unit that may sit above the reader (frameworks, merges): the
    /// scope's subtree and the reader's ancestors.
    OwnedAbove,
    /// Publications (`column` holds the scope unit): those made for a unit in reach as
    /// for `OwnedAbove`, and those that announced a result of a unit in the reader's
    /// subtree (a commune that moved keeps the ranking it was announced in).
    Announced,
}

/// `column` (a unit id) names `unit` or a unit below it: the one SQL form of the subtree.
pub fn within<C: ColumnTrait>(column: C, unit: &UnitRef) -> SimpleExpr {
    column.in_subquery(
        Query::select()
            .column(unit::Column::Id)
            .from(unit::Entity)
            .and_where(unit::Column::Path.starts_with(&unit.path))
            .to_owned(),
    )
}

/// SQL: the unit whose path is the expression `path` lies within the unit whose path is
/// the expression `outer` (itself included): a prefix test. Paths hold only digits and
/// '/', so no LIKE wildcard can hide in them.
pub fn path_within_sql(path: &str, outer: &str) -> String {
    format!("{path} LIKE {outer} || '%'")
}

/// SQL: the unit whose id is the expression `ancestor` is on the path `path` (`path`'s
/// unit or one of its ancestors).
pub fn path_through_sql(path: &str, ancestor: &str) -> String {
    format!("{path} LIKE '%/' || CAST({ancestor} AS TEXT) || '/%'")
}

/// SQL: `path_within_sql` as a range, which an index on the column serves even when the
/// prefix is not a constant: every path under the prefix sorts before `prefix || '~'` in
/// byte order ("C" on PostgreSQL, SQLite's default; see migration 5).
pub fn path_under_sql(backend: sea_orm::DbBackend, column: &str, prefix: &str) -> String {
    let collate = if backend == sea_orm::DbBackend::Postgres {
        " COLLATE \"C\""
    } else {
        ""
    };
    format!("({column}{collate} >= {prefix} AND {column}{collate} < ({prefix} || '~'))")
}

/// A query of the rows a caller may read. Narrow it further, order it, then read one
/// page of it.
#[must_use]
pub struct Scoped<E: EntityTrait>(Select<E>);

/// `query` narrowed to the rows `actor` may read, `column` naming each row's unit.
pub fn scoped<E, C>(query: Select<E>, actor: &Principal, column: C, reach: Reach) -> Scoped<E>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let scope = read_scope(actor);
    let Some(own) = scope.unit().cloned() else {
        return Scoped(match scope {
            ReadScope::All => query,
            _ => query.filter(Expr::cust("1 = 0")),
        });
    };
    Scoped(match (reach, &scope) {
        (Reach::Records, ReadScope::Own(u)) => query.filter(column.eq(u.id)),
        (Reach::Records | Reach::Units, _) => query.filter(within(column, &own)),
        (Reach::OwnedAbove, _) => query.filter(
            sea_orm::Condition::any()
                .add(column.is_in(own.lineage()))
                .add(within(column, &own)),
        ),
        (Reach::Announced, _) => {
            use entity::{publication, publication_result};
            let announced = Query::select()
                .expr(Expr::val(1))
                .from(publication_result::Entity)
                .and_where(
                    Expr::col((
                        publication_result::Entity,
                        publication_result::Column::PublicationId,
                    ))
                    .equals((publication::Entity, publication::Column::Id)),
                )
                .and_where(within(publication_result::Column::UnitId, &own))
                .to_owned();
            query.filter(
                sea_orm::Condition::any()
                    .add(column.is_in(own.lineage()))
                    .add(within(column, &own))
                    .add(Expr::exists(announced)),
            )
        }
    })
}

/// `query` narrowed to the caller's own rows: those whose `column` names its account (its
/// notifications, its keys). No account (user id 0): nothing.
pub fn own_rows<E, C>(query: Select<E>, actor: &Principal, column: C) -> Scoped<E>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    if actor.user_id <= 0 {
        return Scoped(query.filter(Expr::cust("1 = 0")));
    }
    Scoped(query.filter(column.eq(actor.user_id)))
}

/// The caller's own rows (`own_rows`); an admin's: every account's (its keys, say, which an
/// admin sees and revokes).
pub fn account_rows<E, C>(query: Select<E>, actor: &Principal, column: C) -> Scoped<E>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    if actor.is_admin() {
        return Scoped(query);
    }
    own_rows(query, actor, column)
}

/// A record the policy let the caller reach (`found`): its own rows (a subscription's
/// deliveries) are listed through it (`rows_of`).
pub struct Found<M>(M);

impl<M> Found<M> {
    pub fn get(&self) -> &M {
        &self.0
    }

    pub fn into_inner(self) -> M {
        self.0
    }
}

/// `model`, when the policy lets `actor` do `action` on its unit (a record of no unit:
/// admins only); its 403 otherwise.
pub fn found<M>(
    actor: &Principal,
    action: crate::auth::policy::Action,
    unit: Option<&UnitRef>,
    model: M,
) -> ApiResult<Found<M>> {
    match unit {
        Some(u) => crate::auth::policy::authorize(actor, action, u)?,
        None => crate::auth::policy::require_admin(actor)?,
    }
    Ok(Found(model))
}

/// The rows of a record the caller reached (`found`): that check is their scope.
pub fn rows_of<E: EntityTrait, M>(query: Select<E>, _record: &Found<M>) -> Scoped<E> {
    Scoped(query)
}

impl<E: EntityTrait> Scoped<E> {
    /// Fewer rows: a filter of the list (it can only narrow the scope).
    pub fn filter(self, condition: impl IntoCondition) -> Self {
        Scoped(self.0.filter(condition))
    }

    /// Only the rows whose `column` (a unit id) lies in `unit`'s subtree.
    pub fn within<C: ColumnTrait>(self, column: C, unit: &UnitRef) -> Self {
        Scoped(self.0.filter(within(column, unit)))
    }

    pub fn order_by_asc<C: ColumnTrait>(self, column: C) -> Self {
        Scoped(self.0.order_by_asc(column))
    }

    pub fn order_by_desc<C: ColumnTrait>(self, column: C) -> Self {
        Scoped(self.0.order_by_desc(column))
    }

    /// The ids of the rows, as a subquery for another list's filter (`column` is the id).
    pub fn into_ids<C: ColumnTrait>(self, column: C) -> sea_orm::sea_query::SelectStatement {
        use sea_orm::QueryTrait;
        let mut select = self.0.select_only().column(column).into_query();
        select.clear_order_by();
        select
    }

    /// One page of the rows, with how many there are in all.
    pub async fn page<C: ConnectionTrait>(
        self,
        conn: &C,
        request: PageRequest,
    ) -> ApiResult<Page<E::Model>>
    where
        E::Model: Send + Sync,
    {
        let paginator = self.0.paginate(conn, request.per_page());
        let total = paginator.num_items().await?;
        let items = paginator.fetch_page(request.page() - 1).await?;
        Ok(Page {
            items,
            page: request.page(),
            per_page: request.per_page(),
            total,
        })
    }

    /// One page of the rows that also pass `keep`, a rule SQL cannot state (a schedule's
    /// dates): every row of the scope is read, then kept or not, then paged.
    pub async fn page_where<C: ConnectionTrait, T>(
        self,
        conn: &C,
        request: PageRequest,
        prepare: impl AsyncFnOnce(Vec<E::Model>) -> ApiResult<Vec<T>>,
        keep: impl Fn(&T) -> bool,
    ) -> ApiResult<Page<T>> {
        let rows = prepare(self.0.all(conn).await?).await?;
        let kept: Vec<T> = rows.into_iter().filter(|r| keep(r)).collect();
        let total = kept.len() as u64;
        let skip = ((request.page() - 1) * request.per_page()) as usize;
        Ok(Page {
            items: kept
                .into_iter()
                .skip(skip)
                .take(request.per_page() as usize)
                .collect(),
            page: request.page(),
            per_page: request.per_page(),
            total,
        })
    }

    /// How many rows there are.
    pub async fn count<C: ConnectionTrait>(self, conn: &C) -> ApiResult<u64>
    where
        E::Model: Send + Sync,
    {
        Ok(sea_orm::PaginatorTrait::count(self.0, conn).await?)
    }

    /// The first row, if any (a query narrowed to one record).
    pub async fn one<C: ConnectionTrait>(self, conn: &C) -> ApiResult<Option<E::Model>> {
        Ok(self.0.one(conn).await?)
    }

    /// Every row, for a computation over the whole scope (an export, a survey table)
    /// rather than a list shown page by page.
    pub async fn all<C: ConnectionTrait>(self, conn: &C) -> ApiResult<Vec<E::Model>> {
        Ok(self.0.all(conn).await?)
    }
}

/// One page of a list, made only by a `Scoped` query.
#[derive(Debug)]
pub struct Page<T> {
    items: Vec<T>,
    page: u64,
    per_page: u64,
    total: u64,
}

impl<T> Page<T> {
    pub fn items(&self) -> &[T] {
        &self.items
    }

    pub fn page(&self) -> u64 {
        self.page
    }

    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    /// How many rows all pages hold together.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// The same page with each row turned into something else (a view).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }

    /// `map`, with a computation over the whole page at once (one query for all rows).
    pub async fn try_map_all<U>(
        self,
        f: impl AsyncFnOnce(Vec<T>) -> ApiResult<Vec<U>>,
    ) -> ApiResult<Page<U>> {
        let (page, per_page, total) = (self.page, self.per_page, self.total);
        Ok(Page {
            items: f(self.items).await?,
            page,
            per_page,
            total,
        })
    }
}
