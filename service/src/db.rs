//! Database connection, migrations and write transactions, for SQLite and PostgreSQL alike.

use crate::config::Config;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use std::path::Path;
use std::time::Duration;

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the pool. For SQLite: creates the file's directory, turns on WAL (readers never
/// block the writer), foreign keys, and `synchronous=FULL` so that a commit that was
/// answered 2xx survives a power cut as well as a process crash.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, anyhow::Error> {
    let url = config.database_url.clone();
    if config.is_sqlite() {
        ensure_sqlite_directory(&url)?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .create_if_missing(true)
        });
    let db = Database::connect(options).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database {}: {e}",
            crate::config::redact_url(&config.database_url)
        )
    })?;
    Ok(db)
}

/// `sqlite://./data/parindex.db?mode=rwc` → creates `./data` if it is missing.
fn ensure_sqlite_directory(url: &str) -> Result<(), anyhow::Error> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = Path::new(path).parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the database directory {}: {e}",
                dir.display()
            )
        })?;
    }
    Ok(())
}

/// Applies every pending migration; safe to run on every start.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can fail with
/// SQLITE_BUSY when another writer committed in between, and busy_timeout cannot help.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let txn = match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?
        }
        _ => db.begin().await?,
    };
    Ok(WriteTxn { txn })
}

/// A write transaction. Its commit is where a change becomes true, so it is where the
/// process's read caches learn of it (`cache::note_write`): every writer, whether a
/// request, a command-line tool or the webhook dispatcher, invalidates by committing, and
/// nothing else does (a login's bookkeeping, written outside it, does not).
pub struct WriteTxn {
    txn: DatabaseTransaction,
}

impl WriteTxn {
    /// Commits, then tells the read caches.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        crate::cache::note_write();
        Ok(())
    }

    /// Rolls back (dropping the transaction does the same).
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// One trivial round trip, for `/health/ready`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_directory_is_derived_from_the_url() {
        let dir = std::env::temp_dir().join(format!("parindex-dir-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/x.db?mode=rwc", dir.display());
        ensure_sqlite_directory(&url).expect("directory created");
        assert!(dir.is_dir());
        std::fs::remove_dir_all(&dir).ok();
        ensure_sqlite_directory("sqlite::memory:").expect("memory needs no directory");
    }
}
