//! A PostgreSQL server that is down, known to the whole process as soon as one request
//! finds out.
//!
//! Without this, every request during an outage waits the pool's full acquire timeout
//! (sqlx retries a refused connection until then) before its 503, and the requests of
//! every client pile up meanwhile. With it, the first request that could not reach the
//! database wakes a watcher; the watcher checks, with a connection of its own, whether
//! the server accepts connections at all; if it does not, every request that needs the
//! database is answered 503 at once (`current`), until the watcher sees the server
//! accept connections again (every half second).
//!
//! The check is deliberately below the pool: a pool that is merely busy (every connection
//! in use for a while) times out the same way, and must not be taken for a server that is
//! down. SQLite has no server: it is never "down", and nothing here runs for it.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Whether the server was found down, since when, and why.
struct State {
    down: Mutex<Option<(Instant, String)>>,
    wake: Notify,
}

static OUTAGE: State = State {
    down: Mutex::new(None),
    wake: Notify::const_new(),
};

/// How long one reachability check may take.
const CHECK_WITHIN: Duration = Duration::from_secs(1);

/// How often the watcher looks again while the server is down.
const RECHECK_EVERY: Duration = Duration::from_millis(500);

/// The server is down: for how long so far, and why. `None` while it is up (or while no
/// watcher runs).
pub fn current() -> Option<(Duration, String)> {
    OUTAGE.down.lock().ok().and_then(|d| {
        d.as_ref()
            .map(|(since, why)| (since.elapsed(), why.clone()))
    })
}

/// A request could not reach the database: the watcher checks whether the server is down.
pub fn suspect() {
    OUTAGE.wake.notify_one();
}

fn set(down: Option<String>) {
    if let Ok(mut current) = OUTAGE.down.lock() {
        match (down, current.as_ref()) {
            (Some(why), None) => {
                tracing::error!(reason = %why, "the database server is down: requests are answered 503 until it is back");
                *current = Some((Instant::now(), why));
            }
            (Some(_), Some(_)) => {}
            (None, Some((since, _))) => {
                tracing::warn!(
                    down_for_ms = since.elapsed().as_millis() as u64,
                    "the database server accepts connections again"
                );
                *current = None;
            }
            (None, None) => {}
        }
    }
}

/// Where a PostgreSQL server listens, from its URL: a TCP address or a Unix socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Tcp(String, u16),
    Socket(std::path::PathBuf),
}

impl Address {
    /// `None` for SQLite, or a URL that does not parse (the pool has already refused it).
    pub fn of(database_url: &str) -> Option<Address> {
        use sea_orm::sqlx::postgres::PgConnectOptions;
        if !(database_url.starts_with("postgres:") || database_url.starts_with("postgresql:")) {
            return None;
        }
        let options: PgConnectOptions = database_url.parse().ok()?;
        Some(match options.get_socket() {
            Some(dir) => Address::Socket(dir.join(format!(".s.PGSQL.{}", options.get_port()))),
            None => Address::Tcp(options.get_host().to_string(), options.get_port()),
        })
    }

    /// Whether the server accepts a connection within a second; the reason when not.
    pub async fn accepts(&self) -> Result<(), String> {
        let attempt = async {
            match self {
                Address::Tcp(host, port) => tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map(drop),
                Address::Socket(path) => tokio::net::UnixStream::connect(path).await.map(drop),
            }
        };
        match tokio::time::timeout(CHECK_WITHIN, attempt).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("{}: {e}", self)),
            Err(_) => Err(format!(
                "{}: no answer within {} ms",
                self,
                CHECK_WITHIN.as_millis()
            )),
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp(host, port) => write!(f, "{host}:{port}"),
            Address::Socket(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Runs for the life of the process (spawned at start-up for PostgreSQL): checks the
/// server when a request suspects it, and every half second while it is down.
pub async fn watch(address: Address) {
    loop {
        let down = current().is_some();
        if down {
            tokio::time::sleep(RECHECK_EVERY).await;
        } else {
            OUTAGE.wake.notified().await;
        }
        set(address.accepts().await.err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_from_the_url() {
        assert_eq!(Address::of("sqlite://./data/x.db?mode=rwc"), None);
        assert_eq!(
            Address::of("postgres://u:p@db.example:6543/parindex"),
            Some(Address::Tcp("db.example".into(), 6543))
        );
        assert_eq!(
            Address::of("postgresql://postgres@127.0.0.1/test"),
            Some(Address::Tcp("127.0.0.1".into(), 5432))
        );
        assert_eq!(
            Address::of("postgres:///parindex?host=/run/postgresql"),
            Some(Address::Socket("/run/postgresql/.s.PGSQL.5432".into()))
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_down_and_a_listening_one_is_up() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Address::Tcp("127.0.0.1".into(), port);
        assert_eq!(up.accepts().await, Ok(()));
        drop(listener);
        let started = Instant::now();
        let why = up.accepts().await.expect_err("nothing listens any more");
        assert!(why.contains(&format!("127.0.0.1:{port}")), "{why}");
        assert!(started.elapsed() <= CHECK_WITHIN + Duration::from_millis(200));
    }

    #[tokio::test]
    async fn the_watcher_marks_the_outage_and_its_end() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let watcher = tokio::spawn(watch(Address::Tcp("127.0.0.1".into(), port)));
        assert!(current().is_none(), "up until someone suspects otherwise");
        suspect();
        let deadline = Instant::now() + Duration::from_secs(3);
        while current().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (_, why) = current().expect("the watcher found the port closed");
        assert!(why.contains(&port.to_string()), "{why}");
        // The server comes back on the same port.
        let _back = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(3);
        while current().is_some() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            current().is_none(),
            "the watcher saw the server accept again"
        );
        watcher.abort();
    }
}
