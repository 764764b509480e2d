//! Other replicas' commits, heard as they happen: PostgreSQL's `LISTEN/NOTIFY`.
//!
//! Every write transaction announces itself on one channel inside the transaction
//! (`announce`, called by `db::WriteTxn::commit`), so the notification is delivered when,
//! and only if, it commits. Each replica listens on its own connection (`listen`): a
//! notice from another replica makes every read cache of this process stale at once
//! (`cache::note_write`) and wakes the webhook dispatcher, so neither has to poll. While
//! the listening connection is lost, the caches fall back to their time limit and the
//! dispatcher to its poll (`listening` says which).

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The channel every replica of one database announces its commits on.
pub const CHANNEL: &str = "parindex_changes";

/// How long to wait before listening again after the connection was lost.
const RETRY_AFTER: Duration = Duration::from_secs(1);

static LISTENING: AtomicBool = AtomicBool::new(false);

/// Whether this process hears the other replicas' commits right now.
pub fn listening() -> bool {
    LISTENING.load(Ordering::SeqCst)
}

/// This process's name on the channel: its own notices need no action (its commits have
/// already invalidated its caches).
fn replica() -> &'static str {
    static REPLICA: OnceLock<String> = OnceLock::new();
    REPLICA.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Announces the transaction's commit to the other replicas (PostgreSQL; SQLite has one
/// process). Sent inside the transaction: delivered at its commit, never without it.
/// On SQLite it moves the results generation on inside the transaction (see
/// `bump_generation`).
pub(crate) async fn announce<C: ConnectionTrait>(txn: &C) -> Result<(), DbErr> {
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            // The payload is a random hex name: nothing to quote.
            txn.execute_unprepared(&format!("NOTIFY {CHANNEL}, '{}'", replica()))
                .await?;
        }
        _ => {
            txn.execute_unprepared(SQLITE_BUMP).await?;
        }
    }
    Ok(())
}

const SQLITE_BUMP: &str = "UPDATE results_generation SET value = value + 1 WHERE id = 1";

/// Moves the results generation on: every stored results document built before is stale
/// (`services::results::documents`).
///
/// On PostgreSQL it is called after every commit (`db::WriteTxn::commit`) and before the
/// write is acknowledged: a sequence, so writers never wait for each other. A document
/// is built after reading the generation, so a write committed after its data was read is
/// always followed by a bump past the generation it was stamped with. (A process that
/// dies between its commit and its bump leaves such a document valid until the next
/// write of any replica, or the next start of any, which bumps too.) On SQLite the bump is
/// part of the write transaction itself (`announce`); calling this outside one bumps too.
pub async fn bump_generation<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            conn.execute_unprepared("SELECT nextval('parindex_results_generation')")
                .await?;
        }
        _ => {
            conn.execute_unprepared(SQLITE_BUMP).await?;
        }
    }
    Ok(())
}

/// Listens for the other replicas' commits for the life of the process (PostgreSQL):
/// each makes the read caches stale and calls `on_change` (the dispatcher's wake). A lost
/// connection counts as a change (notices may have been missed) and is reopened.
pub async fn listen(database_url: String, on_change: impl Fn() + Send + 'static) {
    use sea_orm::sqlx::postgres::PgListener;
    let changed = || {
        crate::cache::note_write();
        on_change();
    };
    let mut reported = false;
    loop {
        let listener = async {
            let mut listener = PgListener::connect(&database_url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match listener.await {
            Ok(mut listener) => {
                LISTENING.store(true, Ordering::SeqCst);
                if reported {
                    tracing::info!("hearing the other replicas' changes again");
                    reported = false;
                }
                // Whatever happened while nobody listened.
                changed();
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notice)) if notice.payload() == replica() => {}
                        Ok(Some(_)) => changed(),
                        Ok(None) | Err(_) => break,
                    }
                }
                LISTENING.store(false, Ordering::SeqCst);
                changed();
            }
            Err(e) if !reported => {
                tracing::warn!(error = %e, "cannot listen for the other replicas' changes; caches expire and the dispatcher polls meanwhile");
                reported = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}
