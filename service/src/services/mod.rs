//! Business rules and queries. Each function takes a connection or a transaction and the
//! caller's `Principal` where access or auditing matters; handlers stay thin.

pub mod accounts;
pub mod api_keys;
pub mod appeals;
pub mod appraisal_tasks;
pub mod appraisals;
pub mod assessments;
pub mod audit;
pub mod calendar;
pub mod entries;
pub mod evidence;
pub mod framework_io;
pub mod frameworks;
pub mod indicators;
#[cfg(test)]
mod layers;
pub mod lifecycle;
pub mod mapping_rows;
pub mod mappings;
pub mod merges;
pub mod notifications;
pub mod papers;
pub mod remediation;
pub mod reminders;
pub mod reports;
pub mod results;
pub mod retry;
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

/// The most a batched write sends in one statement, roughly: 12 KiB, under one TLS record
/// (16 KiB). sqlx does not set `TCP_NODELAY`, so a statement written as two records waits
/// for the first one's acknowledgement, which the server delays: 40 ms lost per statement
/// (measured: a 54-entry upsert in two such statements took 53 ms instead of 13).
const STATEMENT_BYTES: usize = 12 * 1024;

/// At most this many rows a statement: SQLite binds at most 32,766 values.
const STATEMENT_ROWS: usize = 1_000;

/// Splits rows to write into statements of at most `STATEMENT_BYTES` (as `size` estimates
/// each row) and `STATEMENT_ROWS`; a row larger than the limit goes alone.
pub fn statement_batches<T>(rows: Vec<T>, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut batches: Vec<Vec<T>> = Vec::new();
    let mut bytes = 0;
    for row in rows {
        let n = size(&row);
        match batches.last_mut() {
            Some(last) if bytes + n <= STATEMENT_BYTES && last.len() < STATEMENT_ROWS => {
                bytes += n;
                last.push(row);
            }
            _ => {
                bytes = n;
                batches.push(vec![row]);
            }
        }
    }
    batches
}

/// A raw SQL statement with `$1, $2…` placeholders, which both PostgreSQL and SQLite
/// (through sqlx) bind by number.
pub fn sql(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Statement {
    let backend: DbBackend = db.get_database_backend();
    Statement::from_sql_and_values(backend, text, values)
}

#[cfg(test)]
mod tests {
    use super::statement_batches;

    #[test]
    fn batches_stay_under_the_byte_and_row_limits() {
        assert!(statement_batches(Vec::<usize>::new(), |n| *n).is_empty());
        let sizes: Vec<Vec<usize>> =
            statement_batches(vec![5_000, 5_000, 5_000, 20_000, 1], |n| *n);
        assert_eq!(
            sizes,
            vec![vec![5_000, 5_000], vec![5_000], vec![20_000], vec![1]]
        );
        let many = statement_batches(vec![1usize; 2_500], |n| *n);
        assert_eq!(
            many.iter().map(Vec::len).collect::<Vec<_>>(),
            [1_000, 1_000, 500]
        );
    }
}
