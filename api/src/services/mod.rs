//! Business rules and queries. Each function takes a connection or a transaction and the
//! caller's `Principal` where access or auditing matters; handlers stay thin.

pub mod accounts;
pub mod appraisals;
pub mod assessments;
pub mod audit;
pub mod framework_io;
pub mod frameworks;
pub mod remediation;
pub mod reports;
pub mod results;
pub mod scoresheet;
pub mod units;
pub mod visibility;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Now, to the microsecond: what PostgreSQL stores, so values read back compare equal on
/// both databases.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A raw SQL statement with `$1, $2…` placeholders, which both PostgreSQL and SQLite
/// (through sqlx) bind by number.
pub fn sql(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Statement {
    let backend: DbBackend = db.get_database_backend();
    Statement::from_sql_and_values(backend, text, values)
}
