//! Database connection, migrations and write transactions, for SQLite and PostgreSQL alike.

use crate::config::Config;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use std::path::Path;
use std::time::Duration;

/// How long opening a new connection may take before the request that needed it gets a
/// 503: a database that is down answers fast, one that is unreachable does not.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A transaction left open (a client that vanished mid-way, a bug) is ended by
/// PostgreSQL after this long, releasing what it locked.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// A pooled connection idle at least this long is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);

/// Opens the pool for serving requests. For SQLite: creates the file's directory, turns
/// on WAL (readers never block the writer), foreign keys, and `synchronous=FULL` so that a
/// commit that was answered 2xx survives a power cut as well as a process crash.
///
/// Faults are bounded: a request waits at most `db_acquire_timeout` for a connection, a
/// lock at most `db_lock_timeout`, a PostgreSQL statement at most `db_statement_timeout`;
/// each then fails as a 503 (`error::unavailable`). And a connection is never reused while
/// it is still inside a transaction (a COMMIT that failed, on a full disk, can leave it so:
/// the next request would then "commit" into a savepoint of a transaction that never
/// ends): the pool closes it instead (`after_release`, `before_acquire`).
pub async fn connect(config: &Config) -> Result<DatabaseConnection, anyhow::Error> {
    open(config, true).await
}

async fn open(config: &Config, serving: bool) -> Result<DatabaseConnection, anyhow::Error> {
    let url = config.database_url.clone();
    if config.is_sqlite() {
        ensure_sqlite_directory(&url)?;
    }
    let lock_timeout = config.db_lock_timeout;
    let statement_timeout = config.db_statement_timeout;
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(if serving {
            config.db_max_connections
        } else {
            1
        })
        .min_connections(if serving { 1 } else { 0 })
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(config.db_acquire_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(lock_timeout)
                .create_if_missing(true)
        })
        // A connection is pinged before use only after it has been idle a while (when a
        // server, proxy or firewall may have dropped it): a ping on every acquire doubled
        // the round trips of every read.
        .test_before_acquire(false)
        .map_sqlx_sqlite_pool_opts(|o| {
            o.after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .before_acquire(usable)
        })
        .map_sqlx_postgres_pool_opts(|o| {
            o.after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .before_acquire(usable)
        });
    if serving {
        options.map_sqlx_postgres_opts(move |o| {
            o.options([
                ("lock_timeout", millis(lock_timeout)),
                ("statement_timeout", millis(statement_timeout)),
                (
                    "idle_in_transaction_session_timeout",
                    millis(IDLE_IN_TRANSACTION_TIMEOUT),
                ),
            ])
        });
    }
    let db = Database::connect(options).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database {}: {e}",
            crate::config::redact_url(&config.database_url)
        )
    })?;
    Ok(db)
}

/// Whether a pooled connection may be handed out: not left inside a transaction, and
/// answering a ping if it has been idle a while.
fn usable<C: sea_orm::sqlx::Connection>(
    conn: &mut C,
    meta: sea_orm::sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn Future<Output = Result<bool, sea_orm::sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        if meta.idle_for >= PING_WHEN_IDLE_FOR {
            conn.ping().await?;
        }
        Ok(!conn.is_in_transaction())
    })
}

/// A PostgreSQL setting in milliseconds (`0`: no limit).
fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
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

/// Applies every pending migration; safe to run on every start. Migrations run on a
/// connection of their own, without the serving pool's statement timeout: rewriting a big
/// table may take longer than any request should.
pub async fn migrate(config: &Config) -> Result<(), anyhow::Error> {
    let db = open(config, false).await?;
    let result = Migrator::up(&db, None).await;
    let _ = db.close().await;
    result.map_err(|e| anyhow::anyhow!("database migration failed: {e}"))
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can fail with
/// SQLITE_BUSY when another writer committed in between, and busy_timeout cannot help.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let started = std::time::Instant::now();
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
    crate::metrics::begin_waited(started.elapsed().as_secs_f64());
    Ok(WriteTxn {
        txn,
        db: db.clone(),
    })
}

/// A write transaction. Its commit is where a change becomes true, so it is where the
/// process's read caches learn of it (`cache::note_write`): every writer, whether a
/// request, a command-line tool or the webhook dispatcher, invalidates by committing, and
/// nothing else does (a login's bookkeeping, written outside it, does not).
pub struct WriteTxn {
    txn: DatabaseTransaction,
    /// For what follows the commit (PostgreSQL's results generation).
    db: DatabaseConnection,
}

impl WriteTxn {
    /// Commits, then tells the read caches. A commit that failed is remembered for the
    /// readiness check (`write_health`): whether a write can commit is what readiness
    /// means.
    pub async fn commit(self) -> Result<(), DbErr> {
        crate::changes::announce(&self.txn)
            .await
            .inspect_err(note_failed_write)?;
        match self.txn.commit().await {
            Ok(()) => {
                crate::cache::note_write();
                if self.db.get_database_backend() == DbBackend::Postgres {
                    after_commit(&self.db).await;
                }
                Ok(())
            }
            Err(e) => {
                note_failed_write(&e);
                Err(e)
            }
        }
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
        self.txn
            .execute_raw(stmt)
            .await
            .inspect_err(note_failed_write)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn
            .execute_unprepared(sql)
            .await
            .inspect_err(note_failed_write)
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

/// PostgreSQL: the results generation moves on after the commit, before the write is
/// acknowledged (`changes::bump_generation`). The commit stands whatever happens here;
/// while the bump fails it is retried, and documents are not read from this process
/// meanwhile (`generation_doubtful`).
async fn after_commit(db: &DatabaseConnection) {
    if crate::changes::bump_generation(db).await.is_ok() {
        return;
    }
    GENERATION_DOUBTFUL.store(true, std::sync::atomic::Ordering::SeqCst);
    let db = db.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            match crate::changes::bump_generation(&db).await {
                Ok(()) => {
                    GENERATION_DOUBTFUL.store(false, std::sync::atomic::Ordering::SeqCst);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "cannot move the results generation on yet"),
            }
        }
    });
}

static GENERATION_DOUBTFUL: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether a commit of this process has not yet moved the results generation on: stored
/// documents may be stale until it has.
pub fn generation_doubtful() -> bool {
    GENERATION_DOUBTFUL.load(std::sync::atomic::Ordering::SeqCst)
}

/// The last write that failed for want of the database (a full disk, an outage), and
/// why: readiness stays 503 until a write commits again.
static FAILED_WRITE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn note_failed_write(e: &DbErr) {
    if crate::error::unavailable(e).is_some()
        && let Ok(mut failed) = FAILED_WRITE.lock()
    {
        *failed = Some(e.to_string());
    }
}

/// One trivial round trip, for `/health/ready`; and, after a write failed for want of the
/// database, a write that must commit (`health_probe`), so that a full disk keeps the
/// replica out of rotation until writes work again.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())?;
    let failed = FAILED_WRITE.lock().map(|f| f.clone()).unwrap_or(None);
    if failed.is_some() {
        let txn = begin_write(db).await?;
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "UPDATE health_probe SET at = $1 WHERE id = 1",
            vec![chrono::Utc::now().into()],
        ))
        .await?;
        txn.txn.commit().await?;
        if let Ok(mut f) = FAILED_WRITE.lock() {
            *f = None;
        }
    }
    Ok(())
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
