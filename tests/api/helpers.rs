//! The test harness: every test gets the real HTTP server on a random port and a fresh,
//! migrated database of its own.
//!
//! Each test runs on SQLite (a temporary file) and, when `TEST_DATABASE_URL` names a
//! PostgreSQL database, again on PostgreSQL in a database created for that test and
//! dropped afterwards (`WITH (FORCE)`: a server still running in the test's runtime cannot
//! hold the drop up). A set but unreachable `TEST_DATABASE_URL` fails the test: nothing
//! skips.
//!
//! The migrations run once per test process, into a template (a SQLite file; a
//! PostgreSQL database), which each test's database copies (`migrated_database`); tests of
//! the migrations themselves start from an empty database (`fresh_database`).

use parindex_api::config::Config;
use parindex_api::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;

/// The JWT secret of every test server, so that tests can forge hostile tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
/// The first admin's password on every test server.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set. `TEST_BACKENDS`
/// (`sqlite`, `postgres` or both, comma-separated) narrows the list, e.g. for CI's
/// PostgreSQL pass; asking for `postgres` without `TEST_DATABASE_URL` is an error.
pub fn backends() -> Vec<Backend> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let wanted = std::env::var("TEST_BACKENDS").unwrap_or_default();
    let wanted: Vec<&str> = wanted
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut list = Vec::new();
    if wanted.is_empty() || wanted.contains(&"sqlite") {
        list.push(Backend::Sqlite);
    }
    if wanted.contains(&"postgres") || (wanted.is_empty() && url.is_some()) {
        let url = url.unwrap_or_else(|| {
            panic!("TEST_BACKENDS asks for postgres but TEST_DATABASE_URL is not set")
        });
        list.push(Backend::Postgres(url));
    }
    assert!(
        !list.is_empty(),
        "TEST_BACKENDS={wanted:?} selects no backend"
    );
    list
}

/// Runs `test` once per backend, each time against a freshly spawned app.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        let app = TestApp::spawn(backend.clone()).await;
        eprintln!("-- running on {}", backend.name());
        test(app).await;
    }
}

/// A fresh database, removed when dropped.
pub enum Database {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another app on the same database removes it (a second replica).
    Shared,
}

impl Drop for Database {
    fn drop(&mut self) {
        match self {
            Database::Shared => {}
            Database::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Database::Postgres { admin_url, name } => {
                let admin_url = admin_url.clone();
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                // Drop may run inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async move {
                        if let Ok(db) = sea_orm::Database::connect(admin_url).await {
                            use sea_orm::ConnectionTrait;
                            let _ = db.execute_unprepared(&sql).await;
                            let _ = db.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// An empty database (for tests of the migrations themselves).
pub async fn fresh_database(backend: &Backend) -> (String, Database) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let path = sqlite_dir().join(format!("{id}.db"));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            (url, Database::Sqlite(path))
        }
        Backend::Postgres(admin_url) => create_pg_database(admin_url, &id[..16], None).await,
    }
}

/// A database with every migration applied: a copy of the test process's template.
pub async fn migrated_database(backend: &Backend) -> (String, Database) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let template = SQLITE_TEMPLATE
                .get_or_init(|| async {
                    drop_stale_sqlite_templates();
                    let path =
                        sqlite_dir().join(format!("template-{}-{id}.db", std::process::id()));
                    migrate(&format!("sqlite://{}?mode=rwc", path.display())).await;
                    path
                })
                .await;
            let path = sqlite_dir().join(format!("{id}.db"));
            std::fs::copy(template, &path).expect("copy the template database");
            let url = format!("sqlite://{}?mode=rwc", path.display());
            (url, Database::Sqlite(path))
        }
        Backend::Postgres(admin_url) => {
            let template = PG_TEMPLATE
                .get_or_init(|| async {
                    let name = format!("{}_tpl{}", database_name(admin_url), std::process::id());
                    let admin = connect(admin_url).await;
                    drop_stale_templates(&admin, &database_name(admin_url)).await;
                    use sea_orm::ConnectionTrait;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await
                        .expect("drop an old template");
                    admin
                        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                        .await
                        .expect("create the template database");
                    let _ = admin.close().await;
                    // Migrated, then closed: a template must have no connection when it
                    // is copied.
                    migrate(&with_database(admin_url, &name)).await;
                    name
                })
                .await;
            create_pg_database(admin_url, &id[..16], Some(template)).await
        }
    }
}

/// Templates left by test processes that ended (`<base>_tpl<pid>` of a pid that is gone).
async fn drop_stale_templates(admin: &sea_orm::DatabaseConnection, base: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = admin
        .query_all_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            vec![format!("{base}_tpl").into()],
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let pid = name.trim_start_matches(&format!("{base}_tpl"));
        if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

static SQLITE_TEMPLATE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
static PG_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Template files left by test processes that ended (`template-<pid>-…` of a pid gone).
fn drop_stale_sqlite_templates() {
    let Ok(entries) = std::fs::read_dir(sqlite_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix("template-")
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn sqlite_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("parindex-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

async fn connect(url: &str) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is not reachable: {e}"))
}

async fn migrate(url: &str) {
    use sea_orm_migration::MigratorTrait;
    let db = sea_orm::Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot open the template database {url}: {e}"));
    migration::Migrator::up(&db, None)
        .await
        .expect("migrate the template database");
    db.close().await.expect("close the template database");
}

/// The name of the database a PostgreSQL URL names (`postgres://h/name?…` → `name`).
fn database_name(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or("parindex").to_string()
}

/// `url` naming database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let base = path.rsplit_once('/').map_or(path, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A database for one test, named after the test database (`<it>_t<id>`), empty or a copy
/// of `template`.
async fn create_pg_database(
    admin_url: &str,
    id: &str,
    template: Option<&String>,
) -> (String, Database) {
    use sea_orm::ConnectionTrait;
    let name = format!("{}_t{id}", database_name(admin_url));
    let admin = connect(admin_url).await;
    let sql = match template {
        Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
        None => format!("CREATE DATABASE \"{name}\""),
    };
    admin
        .execute_unprepared(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = admin.close().await;
    (
        with_database(admin_url, &name),
        Database::Postgres {
            admin_url: admin_url.to_string(),
            name,
        },
    )
}

/// The environment every test server starts with; `extra` overrides or adds variables.
pub fn test_env(database_url: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("PARINDEX_ADDR", "127.0.0.1:0"),
        ("DATABASE_URL", database_url),
        ("PARINDEX_JWT_SECRET", TEST_JWT_SECRET),
        ("PARINDEX_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("PARINDEX_WORKERS", "1"),
        ("PARINDEX_DB_MAX_CONNECTIONS", "5"),
        ("PARINDEX_SHUTDOWN_TIMEOUT_SECONDS", "1"),
        // Cheap hashing keeps the suite fast; production defaults are unit-tested.
        ("PARINDEX_ARGON2_MEMORY_KIB", "64"),
        ("PARINDEX_ARGON2_ITERATIONS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // Every server its own evidence store: a directory (removed with the app), or a
    // prefix of the test bucket when `TEST_EVIDENCE_STORE=s3` (CI's S3 pass).
    let id = uuid::Uuid::new_v4().simple().to_string();
    vars.insert(
        "PARINDEX_EVIDENCE_DIR".into(),
        evidence_root().join(&id).display().to_string(),
    );
    if evidence_store() == "s3" {
        vars.insert("PARINDEX_EVIDENCE_STORE".into(), "s3".into());
        vars.insert("PARINDEX_S3_PREFIX".into(), format!("t-{id}/"));
        for (var, from) in [
            ("PARINDEX_S3_BUCKET", "TEST_S3_BUCKET"),
            ("PARINDEX_S3_ENDPOINT", "TEST_S3_ENDPOINT"),
            ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
            ("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
            ("AWS_REGION", "AWS_REGION"),
        ] {
            let value = std::env::var(from)
                .unwrap_or_else(|_| panic!("TEST_EVIDENCE_STORE=s3 needs {from}"));
            vars.insert(var.into(), value);
        }
    }
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    vars
}

/// `file` (default) or `s3`: which evidence store the test servers use.
pub fn evidence_store() -> String {
    std::env::var("TEST_EVIDENCE_STORE").unwrap_or_else(|_| "file".into())
}

fn evidence_root() -> PathBuf {
    std::env::temp_dir().join("parindex-tests").join("evidence")
}

/// Removes a test server's evidence directory.
pub struct EvidenceDir(pub PathBuf);

impl Drop for EvidenceDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    pub address: String,
    /// The server's state, for tests that drive a CLI command's code on the same database.
    pub state: parindex_api::state::AppState,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub database_url: String,
    /// The server's evidence directory (its spool only, on S3).
    pub evidence_dir: PathBuf,
    _evidence: EvidenceDir,
    _database: Database,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[]).await
    }

    /// Spawns with extra environment variables (e.g. a short token lifetime).
    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
        let (database_url, database) = migrated_database(&backend).await;
        Self::spawn_on(backend, database_url, database, extra).await
    }

    /// Spawns on a database prepared by the test (e.g. at an older migration).
    pub async fn spawn_on(
        backend: Backend,
        database_url: String,
        database: Database,
        extra: &[(&str, &str)],
    ) -> TestApp {
        if std::env::var("TEST_LOG").is_ok() {
            let _ = parindex_api::telemetry::init_logs(parindex_api::config::LogFormat::Text);
        }
        let vars = test_env(&database_url, extra);
        let evidence_dir = PathBuf::from(&vars["PARINDEX_EVIDENCE_DIR"]);
        let config = Config::from_map(&vars).expect("test config");
        let app = Application::build(config)
            .await
            .unwrap_or_else(|e| panic!("app failed to start on {}: {e:#}", backend.name()));
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            address,
            state,
            client,
            backend,
            database_url,
            _evidence: EvidenceDir(evidence_dir.clone()),
            evidence_dir,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request builder with the bearer token set when given.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(token) = token {
            rb = rb.bearer_auth(token);
        }
        rb
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        Resp::read(self.request(Method::GET, path, Some(token)).send().await).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        Resp::read(self.request(Method::DELETE, path, Some(token)).send().await).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        Resp::read(
            self.request(Method::POST, path, Some(token))
                .json(body)
                .send()
                .await,
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Resp {
        Resp::read(
            self.request(Method::PUT, path, Some(token))
                .json(body)
                .send()
                .await,
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Resp {
        Resp::read(
            self.request(Method::PATCH, path, Some(token))
                .json(body)
                .send()
                .await,
        )
        .await
    }

    /// Logs in and returns the access token; panics unless the login succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let resp = Resp::read(
            self.client
                .post(self.url("/api/v1/auth/login"))
                .json(&json!({"username": username, "password": password}))
                .send()
                .await,
        )
        .await;
        assert_eq!(
            resp.status,
            StatusCode::OK,
            "login of {username}: {}",
            resp.text
        );
        resp.json["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }
}

/// A response read whole: status, headers, body text and (when JSON) the parsed body.
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub async fn read(result: Result<reqwest::Response, reqwest::Error>) -> Resp {
        let response = result.expect("request failed");
        let status = response.status();
        let headers = response.headers().clone();
        let url = response.url().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if let Err(drift) = crate::contract::check(&url, status.as_u16(), content_type, &bytes) {
            panic!("{drift}");
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
            bytes,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem document with this status (and code, when given).
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: Option<&str>) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not a problem document: {}",
            self.text
        );
        assert_eq!(self.json["status"], status, "{}", self.text);
        assert!(self.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
        if let Some(code) = code {
            assert_eq!(self.json["code"], code, "{}", self.text);
        }
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status: {}",
            self.text
        );
    }
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.text)
    }
}
