//! The read scope (`policy::read_scope`) applied to a query: every list narrows its rows
//! here, so that what a list shows and what a lookup allows are one rule.

use crate::auth::Principal;
use crate::auth::policy::{ReadScope, read_scope};
use entity::unit;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

/// What a list's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Records of a unit (`column` holds its id): assessments, appraisals, plans, the
    /// trail. An officer reads its own unit's only.
    Records,
    /// Units themselves (`column` holds their id): the scope's subtree.
    Units,
    /// Records owned by a unit that may sit above the reader (frameworks): the scope's
    /// subtree and the reader's ancestors.
    OwnedAbove,
}

/// `query` narrowed to the rows `actor` may read, `column` naming each row's unit.
pub fn scoped<E, C>(query: Select<E>, actor: &Principal, column: C, reach: Reach) -> Select<E>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let scope = read_scope(actor);
    let Some(own) = scope.unit().cloned() else {
        return match scope {
            ReadScope::All => query,
            _ => query.filter(Expr::cust("1 = 0")),
        };
    };
    let subtree = || {
        column.in_subquery(
            Query::select()
                .column(unit::Column::Id)
                .from(unit::Entity)
                .and_where(unit::Column::Path.starts_with(&own.path))
                .to_owned(),
        )
    };
    match (reach, &scope) {
        (Reach::Records, ReadScope::Own(u)) => query.filter(column.eq(u.id)),
        (Reach::Records | Reach::Units, _) => query.filter(subtree()),
        (Reach::OwnedAbove, _) => {
            let ancestors = super::visibility::lineage(&own.path);
            query.filter(
                sea_orm::Condition::any()
                    .add(column.is_in(ancestors))
                    .add(subtree()),
            )
        }
    }
}
