//! A small in-process read cache, used where the same rows are read far more often than
//! they change (accounts behind every request, rankings, unit indices).
//!
//! Entries live at most `ttl`. Every write transaction committed by this process moves
//! the process's write generation on (`note_write`, called by `db::WriteTxn::commit`): an
//! entry read before that commit can no longer be served, even if its read finished after
//! it. Another replica's commits do the same when their notice arrives (`changes`,
//! PostgreSQL's LISTEN/NOTIFY); `ttl` bounds an entry's life when notices cannot be heard.
//! A `ttl` of zero turns the cache off.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this many entries: a crawl over every unit cannot grow the cache unbounded.
const MAX_ENTRIES: usize = 20_000;

/// The process's write generation: how many write transactions committed so far.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// A write committed: every cache entry read before it is stale.
pub fn note_write() {
    WRITES.fetch_add(1, Ordering::SeqCst);
}

fn writes() -> u64 {
    WRITES.load(Ordering::SeqCst)
}

pub struct ReadCache<K, V> {
    name: &'static str,
    ttl: Duration,
    entries: Mutex<HashMap<K, Entry<V>>>,
}

struct Entry<V> {
    stored: Instant,
    generation: u64,
    value: Arc<V>,
}

impl<K: Hash + Eq, V> ReadCache<K, V> {
    /// A cache named `name` in the metrics (`parindex_cache_reads_total{cache=…}`).
    pub fn new(name: &'static str, ttl: Duration) -> Self {
        ReadCache {
            name,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key`: from the cache when stored since the last write and within
    /// `ttl`, else from `load` (whose result is kept unless a write happened meanwhile).
    pub async fn get_or_load<E, F>(&self, key: K, load: F) -> Result<Arc<V>, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        if self.ttl.is_zero() {
            return load.await.map(Arc::new);
        }
        if let Some(value) = self.fresh(&key) {
            crate::metrics::cache_read(self.name, true);
            return Ok(value);
        }
        crate::metrics::cache_read(self.name, false);
        // Read the generation before loading: a write during the load makes it stale.
        let generation = writes();
        let value = Arc::new(load.await?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    stored: Instant::now(),
                    generation,
                    value: value.clone(),
                },
            );
        }
        Ok(value)
    }

    fn fresh(&self, key: &K) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == writes() && entry.stored.elapsed() < self.ttl)
            .then(|| entry.value.clone())
    }

    /// Forgets everything read so far (and, as any write does, makes every other cache's
    /// entries stale).
    pub fn invalidate(&self) {
        note_write();
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    }

    async fn load(cache: &ReadCache<u8, u32>, value: u32) -> u32 {
        *cache
            .get_or_load(1, async { Ok::<_, Infallible>(value) })
            .await
            .unwrap()
    }

    #[test]
    fn serves_the_stored_value_until_invalidated() {
        let cache = ReadCache::new("test", Duration::from_secs(60));
        block(async {
            assert_eq!(load(&cache, 1).await, 1);
            assert_eq!(load(&cache, 2).await, 1);
            cache.invalidate();
            assert_eq!(load(&cache, 3).await, 3);
        });
    }

    #[test]
    fn a_read_overlapping_a_write_is_not_kept() {
        let cache = ReadCache::new("test", Duration::from_secs(60));
        block(async {
            let stale = cache
                .get_or_load(1, async {
                    cache.invalidate(); // a write ends while this read is running
                    Ok::<_, Infallible>(1)
                })
                .await
                .unwrap();
            assert_eq!(*stale, 1);
            assert_eq!(load(&cache, 2).await, 2);
        });
    }

    #[test]
    fn entries_expire_and_zero_ttl_disables() {
        let short = ReadCache::new("test", Duration::from_millis(1));
        let off = ReadCache::new("test", Duration::ZERO);
        block(async {
            assert_eq!(load(&short, 1).await, 1);
            std::thread::sleep(Duration::from_millis(5));
            assert_eq!(load(&short, 2).await, 2);
            assert_eq!(load(&off, 1).await, 1);
            assert_eq!(load(&off, 2).await, 2);
        });
    }

    #[test]
    fn errors_are_not_cached() {
        let cache: ReadCache<u8, u32> = ReadCache::new("test", Duration::from_secs(60));
        block(async {
            assert!(cache.get_or_load(1, async { Err("down") }).await.is_err());
            assert_eq!(load(&cache, 7).await, 7);
        });
    }
}
