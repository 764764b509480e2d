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
pub(crate) async fn announce<C: ConnectionTrait>(txn: &C) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        // The payload is a random hex name: nothing to quote.
        txn.execute_unprepared(&format!("NOTIFY {CHANNEL}, '{}'", replica()))
            .await?;
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
