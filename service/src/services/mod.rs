//! Business rules and queries. Each function takes a connection or a transaction and the
//! caller's `Principal` where access or auditing matters; handlers stay thin.

pub mod accounts;
pub mod appeals;
pub mod appraisals;
pub mod assessments;
pub mod audit;
pub mod entries;
pub mod evidence;
pub mod framework_io;
pub mod frameworks;
#[cfg(test)]
mod layers;
pub mod lifecycle;
pub mod merges;
pub mod papers;
pub mod remediation;
pub mod reports;
pub mod results;
pub mod scope;
pub mod scoresheet;
pub mod survey;
pub mod units;
pub mod versioned;
pub mod visibility;
pub mod webhooks;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Now, to the microsecond: what PostgreSQL stores, so values read back compare equal on
/// both databases.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `column LIKE '%text%'` with `text` taken literally: `%` and `_` typed in a search box
/// match themselves, not "anything".
pub fn contains_literally<C: sea_orm::ColumnTrait>(
    column: C,
    text: &str,
) -> sea_orm::sea_query::Expr {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    column.like(sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// A raw SQL statement with `$1, $2…` placeholders, which both PostgreSQL and SQLite
/// (through sqlx) bind by number.
pub fn sql(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Statement {
    let backend: DbBackend = db.get_database_backend();
    Statement::from_sql_and_values(backend, text, values)
}
