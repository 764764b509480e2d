//! What the service counts for Prometheus (`PARINDEX_METRICS_ADDR`, `GET /metrics`, the
//! text format 0.0.4): request durations by route template, method and status, deliveries
//! of webhooks and e-mails by result, login refusals by reason, results cache hits and
//! misses, counted as they happen in this process; the database pool, the outbox backlogs
//! and the evidence stored, read at each scrape. Never a token, a name or a score.

use crate::services::sql;
use entity::status::DeliveryStatus;
use sea_orm::{DatabaseConnection, FromQueryResult};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

/// The request duration buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The process's counters (one per process: every replica is scraped on its own).
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    counters: Mutex<BTreeMap<(&'static str, &'static str, &'static str), u64>>,
    cache: Mutex<BTreeMap<(&'static str, bool), u64>>,
    begin_wait: Mutex<Histogram>,
    started: AtomicU64,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// One request served: its route template (`/api/v1/units/{id}`, or `unmatched`), method,
/// status and duration.
pub fn observe_request(route: &str, method: &str, status: u16, seconds: f64) {
    // Any other method is one series (`_OTHER`, as OpenTelemetry names it): a client
    // cannot make a series per made-up method.
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "_OTHER",
    };
    let Ok(mut requests) = METRICS.requests.lock() else {
        return;
    };
    requests
        .entry((route.to_string(), method.to_string(), status))
        .or_default()
        .observe(seconds);
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// Its series in the text format, `labels` inside the braces (may be empty).
    fn write(&self, out: &mut String, metric: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{metric}_bucket{{{labels}{sep}le=\"{bound}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{metric}_bucket{{{labels}{sep}le=\"+Inf\"}} {}\n\
             {metric}_sum{{{labels}}} {}\n{metric}_count{{{labels}}} {}",
            self.count, self.sum, self.count
        );
    }
}

/// How long a write transaction waited to start: for a pooled connection, and on SQLite
/// for the write lock too (`BEGIN IMMEDIATE`).
pub fn begin_waited(seconds: f64) {
    if let Ok(mut h) = METRICS.begin_wait.lock() {
        h.observe(seconds);
    }
}

fn count(metric: &'static str, label: &'static str, value: &'static str) {
    if let Ok(mut counters) = METRICS.counters.lock() {
        *counters.entry((metric, label, value)).or_default() += 1;
    }
}

/// One webhook delivery attempt: `delivered` or `failed`.
pub fn webhook_attempt(delivered: bool) {
    count(
        "parindex_webhook_deliveries_total",
        "result",
        if delivered { "delivered" } else { "failed" },
    );
}

/// One e-mail attempt: `sent` or `failed`.
pub fn mail_attempt(sent: bool) {
    count(
        "parindex_email_deliveries_total",
        "result",
        if sent { "sent" } else { "failed" },
    );
}

/// A login refused: `credentials` (wrong username or password, or an inactive account)
/// or `throttled` (too many failures).
pub fn login_refused(reason: &'static str) {
    count("parindex_login_refusals_total", "reason", reason);
}

/// A read of cache `name`: from the cache, or loaded.
pub fn cache_read(name: &'static str, hit: bool) {
    if let Ok(mut cache) = METRICS.cache.lock() {
        *cache.entry((name, hit)).or_default() += 1;
    }
}

/// Notes when the process started (once).
pub fn started() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let _ = METRICS
        .started
        .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
}

/// A label value in the text format: `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[derive(FromQueryResult)]
struct Backlog {
    pending: i64,
    oldest_seconds: Option<f64>,
}

#[derive(FromQueryResult)]
struct Stored {
    files: i64,
    bytes: Option<i64>,
}

async fn backlog(db: &DatabaseConnection, table: &str) -> Result<Backlog, sea_orm::DbErr> {
    let age = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "EXTRACT(EPOCH FROM (now() - MIN(created_at)))::float8"
    } else {
        "(julianday('now') - julianday(MIN(created_at))) * 86400.0"
    };
    let row = Backlog::find_by_statement(sql(
        db,
        &format!(
            "SELECT COUNT(*) AS pending, {age} AS oldest_seconds FROM {table} WHERE status = $1"
        ),
        vec![DeliveryStatus::Pending.into()],
    ))
    .one(db)
    .await?;
    Ok(row.unwrap_or(Backlog {
        pending: 0,
        oldest_seconds: None,
    }))
}

/// The exposition: the process's counters, then what is read from the database now (a
/// database that cannot be read leaves its lines out and says so in
/// `parindex_metrics_database_up`).
pub async fn render(db: &DatabaseConnection) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP parindex_build_info The running build.\n# TYPE parindex_build_info gauge\n\
         parindex_build_info{{version=\"{}\",commit=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        label(option_env!("PARINDEX_COMMIT").unwrap_or("unknown"))
    );
    let started = METRICS.started.load(Ordering::Relaxed);
    if started > 0 {
        let _ = writeln!(
            out,
            "# HELP process_start_time_seconds When the process started.\n\
             # TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {started}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n\
         # TYPE http_server_request_duration_seconds histogram"
    );
    if let Ok(requests) = METRICS.requests.lock() {
        for ((route, method, status), h) in requests.iter() {
            let labels = format!(
                "http_route=\"{}\",http_request_method=\"{}\",http_response_status_code=\"{status}\"",
                label(route),
                label(method)
            );
            h.write(&mut out, "http_server_request_duration_seconds", &labels);
        }
    }
    let helps = [
        (
            "parindex_webhook_deliveries_total",
            "Webhook delivery attempts by result.",
        ),
        (
            "parindex_email_deliveries_total",
            "E-mail delivery attempts by result.",
        ),
        ("parindex_login_refusals_total", "Logins refused by reason."),
    ];
    if let Ok(counters) = METRICS.counters.lock() {
        for (metric, help) in helps {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} counter");
            for ((m, name, value), n) in counters.iter() {
                if *m == metric {
                    let _ = writeln!(out, "{metric}{{{name}=\"{value}\"}} {n}");
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP parindex_cache_reads_total Reads of the results caches, by cache and outcome.\n\
         # TYPE parindex_cache_reads_total counter"
    );
    if let Ok(cache) = METRICS.cache.lock() {
        for ((name, hit), n) in cache.iter() {
            let outcome = if *hit { "hit" } else { "miss" };
            let _ = writeln!(
                out,
                "parindex_cache_reads_total{{cache=\"{name}\",outcome=\"{outcome}\"}} {n}"
            );
        }
    }
    let (size, idle) = pool(db);
    let _ = writeln!(
        out,
        "# HELP parindex_db_pool_connections Database connections of the pool, by state.\n\
         # TYPE parindex_db_pool_connections gauge\n\
         parindex_db_pool_connections{{state=\"in_use\"}} {}\n\
         parindex_db_pool_connections{{state=\"idle\"}} {idle}",
        size.saturating_sub(idle)
    );
    let _ = writeln!(
        out,
        "# HELP parindex_db_begin_wait_seconds How long write transactions waited to start: for a pooled connection (and SQLite's write lock).\n\
         # TYPE parindex_db_begin_wait_seconds histogram"
    );
    if let Ok(h) = METRICS.begin_wait.lock() {
        h.write(&mut out, "parindex_db_begin_wait_seconds", "");
    }
    let read = async {
        let webhooks = backlog(db, "webhook_deliveries").await?;
        let mail = backlog(db, "mail_messages").await?;
        let stored = Stored::find_by_statement(sql(
            db,
            "SELECT COUNT(*) AS files, CAST(SUM(size) AS BIGINT) AS bytes FROM evidence_files",
            vec![],
        ))
        .one(db)
        .await?;
        Ok::<_, sea_orm::DbErr>((webhooks, mail, stored))
    };
    match read.await {
        Ok((webhooks, mail, stored)) => {
            let _ = writeln!(
                out,
                "# HELP parindex_outbox_pending Deliveries waiting in the outbox, by channel.\n\
                 # TYPE parindex_outbox_pending gauge\n\
                 parindex_outbox_pending{{channel=\"webhook\"}} {}\n\
                 parindex_outbox_pending{{channel=\"email\"}} {}\n\
                 # HELP parindex_outbox_oldest_age_seconds Age of the oldest waiting delivery, by channel.\n\
                 # TYPE parindex_outbox_oldest_age_seconds gauge\n\
                 parindex_outbox_oldest_age_seconds{{channel=\"webhook\"}} {}\n\
                 parindex_outbox_oldest_age_seconds{{channel=\"email\"}} {}",
                webhooks.pending,
                mail.pending,
                webhooks.oldest_seconds.unwrap_or(0.0).max(0.0),
                mail.oldest_seconds.unwrap_or(0.0).max(0.0)
            );
            let (files, bytes) = stored.map_or((0, 0), |s| (s.files, s.bytes.unwrap_or(0)));
            let _ = writeln!(
                out,
                "# HELP parindex_evidence_files Evidence files stored.\n\
                 # TYPE parindex_evidence_files gauge\nparindex_evidence_files {files}\n\
                 # HELP parindex_evidence_bytes Bytes of evidence files stored.\n\
                 # TYPE parindex_evidence_bytes gauge\nparindex_evidence_bytes {bytes}\n\
                 # HELP parindex_metrics_database_up Whether this scrape could read the database.\n\
                 # TYPE parindex_metrics_database_up gauge\nparindex_metrics_database_up 1"
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database could not be read");
            let _ = writeln!(
                out,
                "# HELP parindex_metrics_database_up Whether this scrape could read the database.\n\
                 # TYPE parindex_metrics_database_up gauge\nparindex_metrics_database_up 0"
            );
        }
    }
    out
}

/// The pool's size and idle connections.
fn pool(db: &DatabaseConnection) -> (u32, u32) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle() as u32)
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle() as u32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_buckets_cumulative() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        observe_request("/test/{id}", "GET", 200, 0.03);
        let requests = METRICS.requests.lock().unwrap();
        let h = &requests[&("/test/{id}".to_string(), "GET".to_string(), 200)];
        assert_eq!(h.counts[..3], [0, 0, 0]);
        assert!(h.counts[3..].iter().all(|c| *c >= 1));
    }
}
