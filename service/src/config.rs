//! Environment → typed configuration.
//!
//! Every variable is parsed here, once, at start-up. A bad value stops the server with one
//! line naming the variable and the reason, instead of failing later in some handler.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The SQLite file used when `DATABASE_URL` is not set: zero set-up for a first run.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/parindex.db?mode=rwc";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Upper bound of any request body. A 60-criterion self-assessment with evidence is
/// ~50 KiB; a framework XLSX import a few hundred KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
pub const MIN_JWT_SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    /// `None`: a random secret is generated at start (tokens do not survive a restart).
    pub jwt_secret: Option<Secret>,
    pub jwt_ttl: Duration,
    /// How long authentication may reuse an account it read (0: never).
    pub auth_cache_ttl: Duration,
    /// How long rankings and indices may be reused (0: never).
    pub results_cache_ttl: Duration,
    /// Whether rankings, criteria losses and indices are stored as documents in the
    /// database for the next reader (`PARINDEX_RESULT_DOCUMENTS`, on).
    pub result_documents: bool,
    pub admin_password: Option<Secret>,
    pub max_body_bytes: usize,
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before answering 503
    /// (`PARINDEX_DB_ACQUIRE_TIMEOUT_MS`, 3 s).
    pub db_acquire_timeout: Duration,
    /// How long one statement may run (`PARINDEX_DB_STATEMENT_TIMEOUT_MS`, 30 s; 0: no
    /// limit). PostgreSQL only; SQLite statements are in-process.
    pub db_statement_timeout: Duration,
    /// How long a statement waits for a lock another transaction holds
    /// (`PARINDEX_DB_LOCK_TIMEOUT_MS`, 5 s): PostgreSQL's `lock_timeout`, SQLite's busy
    /// timeout. One stalled transaction then holds only the requests that need what it
    /// locked, and those answer 503 within this time.
    pub db_lock_timeout: Duration,
    pub workers: Option<usize>,
    pub shutdown_timeout: Duration,
    /// How long a client may take to send its request head before the connection is closed.
    pub client_request_timeout: Duration,
    /// How long a client may take to send a request body, from its first byte read.
    pub body_timeout: Duration,
    /// Origins allowed by CORS; empty means CORS is closed (no cross-origin browser access).
    pub cors_allowed_origins: Vec<String>,
    pub log_format: LogFormat,
    pub password_hashing: PasswordHashing,
    pub login_throttle: LoginThrottle,
    pub evidence: EvidenceSettings,
    pub webhooks: WebhookSettings,
    /// `PARINDEX_SOFFICE`: LibreOffice's `soffice`, to print documents as PDF (unset: PDF
    /// requests get 406, DOCX works without it).
    pub soffice: Option<std::path::PathBuf>,
    /// E-mail of notifications (`PARINDEX_SMTP_*`): none when `PARINDEX_SMTP_URL` is unset.
    pub mail: Option<MailSettings>,
    /// `PARINDEX_METRICS_ADDR`: where Prometheus scrapes `GET /metrics`, a listener of its
    /// own (off when unset; keep it on an internal network).
    pub metrics_addr: Option<SocketAddr>,
    /// Sign-in through an OpenID Connect provider (`PARINDEX_OIDC_*`): none when unset.
    pub oidc: Option<OidcSettings>,
    /// `PARINDEX_LOCAL_LOGIN` (true): `false` refuses passwords at `POST /auth/login` to
    /// every account but the break-glass admin (`PARINDEX_BREAK_GLASS_ADMIN`, `admin`).
    pub local_login: bool,
    pub break_glass_admin: String,
    /// Traces over OTLP/HTTP (the standard `OTEL_EXPORTER_OTLP_*` variables): none when no
    /// endpoint is set.
    pub traces: Option<TraceSettings>,
    /// `PARINDEX_TRUST_ANCHORS`: a PEM bundle of the certificates digital signatures must
    /// chain to (e.g. the government's root CA); none: signatures are verified, their
    /// signers "not trusted".
    pub trust_anchors: crate::signatures::TrustAnchors,
}

/// Where spans are exported, and under which service name.
#[derive(Clone, Debug)]
pub struct TraceSettings {
    /// The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` appended (the specification's rule).
    pub endpoint: String,
    /// `OTEL_SERVICE_NAME` (`parindex`).
    pub service_name: String,
}

/// The identity provider whose tokens are accepted.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// `PARINDEX_OIDC_ISSUER`: its issuer URL, as its tokens' `iss` and the base of its
    /// discovery document (`https://sso.quangtri.gov.vn/realms/cchc`).
    pub issuer: String,
    /// `PARINDEX_OIDC_AUDIENCE`: the `aud` its tokens must carry (the client id).
    pub audience: String,
    /// `PARINDEX_OIDC_USERNAME_CLAIM` (`preferred_username`): the claim naming the account.
    pub username_claim: String,
    /// `PARINDEX_OIDC_REFETCH_SECONDS` (60): an unknown key id fetches the provider's keys
    /// again at most this often.
    pub refetch: Duration,
    /// `PARINDEX_OIDC_SWAGGER_CLIENT_ID` (the audience): the public client Swagger UI signs
    /// in as (authorization code with PKCE; no secret in a browser).
    pub swagger_client_id: String,
    /// `PARINDEX_OIDC_SWAGGER_SCOPES` (`openid profile`): the scopes Swagger UI asks for.
    pub swagger_scopes: Vec<String>,
}

/// How notifications are e-mailed (`PARINDEX_SMTP_URL` set).
#[derive(Clone)]
pub struct MailSettings {
    /// `PARINDEX_SMTP_URL`: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (TLS from the start); `user:password@` before the host
    /// to log in. Certificates are checked against the system's roots.
    pub url: Secret,
    /// `PARINDEX_SMTP_FROM`: the sender, `Tên <address>` or an address (required).
    pub from: String,
    /// `PARINDEX_PUBLIC_URL`: where people reach the service (`https://cchc.example.gov.vn`),
    /// for the links of e-mails (required with SMTP).
    pub public_url: String,
    /// `PARINDEX_SMTP_TIMEOUT_MS` (10 s): one SMTP conversation.
    pub timeout: Duration,
    /// `PARINDEX_SMTP_POLL_MS` (1 s): how often the mailer looks for messages to send.
    pub poll: Duration,
    /// `PARINDEX_SMTP_MAX_ATTEMPTS` (12): attempts before a message is marked failed.
    pub max_attempts: u32,
    /// `PARINDEX_SMTP_RETRY_BASE_MS` (5 s): the first retry's delay, each next one 4 times
    /// longer (up to 10 hours), with jitter.
    pub retry_base: Duration,
    /// `PARINDEX_DIGEST_HOUR` (7): the hour (Vietnam time) from which the daily digests go.
    pub digest_hour: u32,
}

/// Webhook deliveries (`PARINDEX_WEBHOOK_*`).
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// `PARINDEX_WEBHOOK_ALLOW_PRIVATE=true` lets subscriptions use plain `http` and
    /// addresses on loopback, private, link-local or metadata networks (tests, closed
    /// government networks). Off by default.
    pub allow_private: bool,
    /// `PARINDEX_WEBHOOK_DISPATCHER=false` runs no dispatcher in this process (events are
    /// still recorded; another replica, or this one restarted, delivers them).
    pub dispatcher: bool,
    /// Attempts per delivery before it is marked failed (8).
    pub max_attempts: u32,
    /// The first retry's delay (5 s); each next one is 4 times longer, up to 10 hours,
    /// with ±20 % jitter.
    pub retry_base: Duration,
    /// How long a receiver may take to answer (10 s).
    pub timeout: Duration,
    /// How often the dispatcher looks for due deliveries while it cannot hear the other
    /// replicas' commits (250 ms); otherwise a commit wakes it (`changes`).
    pub poll: Duration,
    /// `remediation.milestone_due_soon` fires this many days before a milestone (7).
    pub due_soon_days: u32,
}

/// Evidence files: how large, which kinds, and where their bytes are kept.
#[derive(Clone, Debug)]
pub struct EvidenceSettings {
    /// `PARINDEX_EVIDENCE_MAX_BYTES` (20 MiB by default): a larger upload is a 413.
    pub max_bytes: u64,
    /// `PARINDEX_EVIDENCE_TYPES`: the kinds accepted, decided from the bytes.
    pub allowed: Vec<crate::storage::FileKind>,
    pub storage: EvidenceStorage,
    /// `PARINDEX_EVIDENCE_QUOTA_BYTES` (2 GiB by default): what one unit may store for one
    /// year; an upload past it is a 507 `quota_exceeded` naming the quota and the use.
    pub quota_bytes: u64,
    /// `PARINDEX_EVIDENCE_QUOTA_FILES` (2,000 by default): how many files one unit may
    /// store for one year.
    pub quota_files: u64,
    /// `PARINDEX_EVIDENCE_ZIP_MAX_BYTES` (2 GiB by default): a self-assessment's
    /// `evidence.zip` larger than this is refused (413); its files are downloaded one by
    /// one instead.
    pub zip_max_bytes: u64,
    /// `PARINDEX_EVIDENCE_GC_SECONDS` (3600 by default; 0: off): how often the server
    /// removes the blobs no file names any more (deleted files, abandoned uploads)...
    pub gc_every: Option<Duration>,
    /// ... once untouched for `PARINDEX_EVIDENCE_GC_GRACE_SECONDS` (3600 by default: an
    /// upload of the same content under way keeps its blob).
    pub gc_grace: Duration,
}

pub const DEFAULT_EVIDENCE_DIR: &str = "./data/evidence";
pub const DEFAULT_EVIDENCE_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// `PARINDEX_EVIDENCE_STORE`: `file` (default) or `s3`.
#[derive(Clone, Debug)]
pub enum EvidenceStorage {
    /// Content-addressed files under `PARINDEX_EVIDENCE_DIR` (`./data/evidence`).
    File {
        dir: std::path::PathBuf,
    },
    S3(S3Settings),
}

/// An S3-compatible bucket (`PARINDEX_S3_*`, credentials in the usual `AWS_*` variables).
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    /// Prepended to every key, e.g. `parindex/` (empty by default).
    pub prefix: String,
    pub region: String,
    /// For S3-compatible servers (MinIO, Ceph…): `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    /// Local directory uploads are spooled to before they are sent.
    pub spool_dir: std::path::PathBuf,
}

/// Argon2id cost parameters. Defaults are OWASP's recommendation (m = 19 MiB, t = 2, p = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordHashing {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashing threads: how many hashes run at once (each holds `memory_kib` of RAM).
    /// Hashing is CPU-bound: more threads than CPUs only costs memory.
    pub max_concurrent: usize,
}

impl Default for PasswordHashing {
    fn default() -> Self {
        PasswordHashing {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get().min(8)),
        }
    }
}

/// Failed-login throttling, counted in the database so that it holds across replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    pub window: Duration,
    pub max_failures_per_username: u32,
    pub max_failures_per_ip: u32,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            window: Duration::from_secs(15 * 60),
            max_failures_per_username: 5,
            max_failures_per_ip: 30,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A string that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database_url", &redact_url(&self.database_url))
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "***"))
            .field("jwt_ttl", &self.jwt_ttl)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("db_max_connections", &self.db_max_connections)
            .field("workers", &self.workers)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// `postgres://user:password@host/db` → `postgres://user:***@host/db`, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// One invalid variable: printed as the single line the server stops with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        reason: reason.into(),
    }
}

impl Config {
    /// Reads the process environment (after `.env`, which `main` loads).
    pub fn from_env() -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Config::from_map(&vars)
    }

    /// Parses configuration from a map of variables; empty values count as unset.
    // Long by nature: one variable after the other, each parsed and checked in place.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let addr = get("PARINDEX_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr: SocketAddr = addr.parse().map_err(|_| {
            invalid(
                "PARINDEX_ADDR",
                format!(
                    "{addr:?} is not a socket address (expected host:port, e.g. 127.0.0.1:8080)"
                ),
            )
        })?;

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "DATABASE_URL",
                format!(
                    "{:?} is neither a sqlite: nor a postgres:// URL",
                    redact_url(&database_url)
                ),
            ));
        }

        let jwt_secret = match get("PARINDEX_JWT_SECRET") {
            None => None,
            Some(s) if s.len() < MIN_JWT_SECRET_BYTES => {
                return Err(invalid(
                    "PARINDEX_JWT_SECRET",
                    format!(
                        "is {} bytes long; at least {MIN_JWT_SECRET_BYTES} are required (e.g. `openssl rand -hex 32`)",
                        s.len()
                    ),
                ));
            }
            Some(s) => Some(Secret::new(s)),
        };

        let jwt_ttl = Duration::from_secs(parse_num(
            &get,
            "PARINDEX_JWT_TTL_SECONDS",
            3600,
            60,
            7 * 24 * 3600,
        )?);
        let auth_cache_ttl =
            Duration::from_millis(parse_num(&get, "PARINDEX_AUTH_CACHE_MS", 1000, 0, 60_000)?);
        let results_cache_ttl = Duration::from_millis(parse_num(
            &get,
            "PARINDEX_RESULTS_CACHE_MS",
            1000,
            0,
            60_000,
        )?);
        let result_documents = parse_bool(&get, "PARINDEX_RESULT_DOCUMENTS", true)?;
        let admin_password = get("PARINDEX_ADMIN_PASSWORD").map(Secret::new);
        if let Some(p) = &admin_password
            && let Err(reason) = parindex_domain::password::check_policy(p.expose())
        {
            return Err(invalid("PARINDEX_ADMIN_PASSWORD", reason.en));
        }
        let max_body_bytes = parse_num(
            &get,
            "PARINDEX_MAX_BODY_BYTES",
            DEFAULT_MAX_BODY_BYTES as u64,
            1024,
            64 * 1024 * 1024,
        )? as usize;
        let db_max_connections =
            parse_num(&get, "PARINDEX_DB_MAX_CONNECTIONS", 10, 1, 1000)? as u32;
        let db_acquire_timeout = Duration::from_millis(parse_num(
            &get,
            "PARINDEX_DB_ACQUIRE_TIMEOUT_MS",
            3000,
            100,
            60_000,
        )?);
        let db_statement_timeout = Duration::from_millis(parse_num(
            &get,
            "PARINDEX_DB_STATEMENT_TIMEOUT_MS",
            30_000,
            0,
            3_600_000,
        )?);
        let db_lock_timeout = Duration::from_millis(parse_num(
            &get,
            "PARINDEX_DB_LOCK_TIMEOUT_MS",
            5000,
            100,
            600_000,
        )?);
        let workers = match get("PARINDEX_WORKERS") {
            None => None,
            Some(_) => Some(parse_num(&get, "PARINDEX_WORKERS", 1, 1, 256)? as usize),
        };
        let shutdown_timeout = Duration::from_secs(parse_num(
            &get,
            "PARINDEX_SHUTDOWN_TIMEOUT_SECONDS",
            30,
            0,
            3600,
        )?);
        let client_request_timeout = Duration::from_millis(parse_num(
            &get,
            "PARINDEX_CLIENT_REQUEST_TIMEOUT_MS",
            5000,
            100,
            600_000,
        )?);
        let body_timeout = Duration::from_millis(parse_num(
            &get,
            "PARINDEX_BODY_TIMEOUT_MS",
            60_000,
            100,
            3_600_000,
        )?);
        let cors_allowed_origins = match get("PARINDEX_CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => {
                let origins: Vec<String> = list
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect();
                for o in &origins {
                    if !(o.starts_with("http://") || o.starts_with("https://")) {
                        return Err(invalid(
                            "PARINDEX_CORS_ALLOWED_ORIGINS",
                            format!("{o:?} is not an origin like https://app.example.vn"),
                        ));
                    }
                }
                origins
            }
        };
        let log_format = match get("PARINDEX_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "PARINDEX_LOG_FORMAT",
                    format!("{other:?} is not one of: text, json"),
                ));
            }
        };
        let defaults = PasswordHashing::default();
        let password_hashing = PasswordHashing {
            memory_kib: parse_num(
                &get,
                "PARINDEX_ARGON2_MEMORY_KIB",
                defaults.memory_kib.into(),
                8,
                4 * 1024 * 1024,
            )? as u32,
            iterations: parse_num(
                &get,
                "PARINDEX_ARGON2_ITERATIONS",
                defaults.iterations.into(),
                1,
                100,
            )? as u32,
            parallelism: 1,
            max_concurrent: parse_num(
                &get,
                "PARINDEX_ARGON2_MAX_CONCURRENT",
                defaults.max_concurrent as u64,
                1,
                256,
            )? as usize,
        };
        let throttle_defaults = LoginThrottle::default();
        let login_throttle = LoginThrottle {
            window: Duration::from_secs(parse_num(
                &get,
                "PARINDEX_LOGIN_THROTTLE_WINDOW_SECONDS",
                throttle_defaults.window.as_secs(),
                1,
                24 * 3600,
            )?),
            max_failures_per_username: parse_num(
                &get,
                "PARINDEX_LOGIN_MAX_FAILURES_PER_USERNAME",
                throttle_defaults.max_failures_per_username.into(),
                1,
                10_000,
            )? as u32,
            max_failures_per_ip: parse_num(
                &get,
                "PARINDEX_LOGIN_MAX_FAILURES_PER_IP",
                throttle_defaults.max_failures_per_ip.into(),
                1,
                1_000_000,
            )? as u32,
        };

        let evidence = evidence_settings(&get)?;
        let webhooks = webhook_settings(&get)?;
        let mail = mail_settings(&get)?;
        let oidc = match (get("PARINDEX_OIDC_ISSUER"), get("PARINDEX_OIDC_AUDIENCE")) {
            (None, None) => None,
            (Some(issuer), Some(audience)) => {
                let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
                if !issuer.starts_with("https://") && !local.iter().any(|l| issuer.starts_with(l)) {
                    return Err(invalid(
                        "PARINDEX_OIDC_ISSUER",
                        "must be an https:// URL (http:// only on loopback)",
                    ));
                }
                Some(OidcSettings {
                    issuer: issuer.trim_end_matches('/').to_string(),
                    username_claim: get("PARINDEX_OIDC_USERNAME_CLAIM")
                        .unwrap_or_else(|| "preferred_username".to_string()),
                    refetch: Duration::from_secs(parse_num(
                        &get,
                        "PARINDEX_OIDC_REFETCH_SECONDS",
                        60,
                        1,
                        86_400,
                    )?),
                    swagger_client_id: get("PARINDEX_OIDC_SWAGGER_CLIENT_ID")
                        .unwrap_or_else(|| audience.clone()),
                    swagger_scopes: get("PARINDEX_OIDC_SWAGGER_SCOPES")
                        .unwrap_or_else(|| "openid profile".to_string())
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                    audience,
                })
            }
            (Some(_), None) => {
                return Err(invalid(
                    "PARINDEX_OIDC_AUDIENCE",
                    "required with PARINDEX_OIDC_ISSUER",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "PARINDEX_OIDC_ISSUER",
                    "required with PARINDEX_OIDC_AUDIENCE",
                ));
            }
        };
        let local_login = parse_bool(&get, "PARINDEX_LOCAL_LOGIN", true)?;
        let break_glass_admin =
            get("PARINDEX_BREAK_GLASS_ADMIN").unwrap_or_else(|| "admin".to_string());
        let traces = trace_settings(&get)?;
        let trust_anchors = match get("PARINDEX_TRUST_ANCHORS") {
            None => crate::signatures::TrustAnchors::default(),
            Some(path) => {
                let pem = std::fs::read(&path).map_err(|e| {
                    invalid("PARINDEX_TRUST_ANCHORS", format!("cannot read {path}: {e}"))
                })?;
                crate::signatures::TrustAnchors::from_pem(&pem).map_err(|e| {
                    invalid(
                        "PARINDEX_TRUST_ANCHORS",
                        format!("{path} is not a PEM bundle of certificates: {e}"),
                    )
                })?
            }
        };
        let metrics_addr = match get("PARINDEX_METRICS_ADDR") {
            None => None,
            Some(raw) => Some(raw.parse::<SocketAddr>().map_err(|_| {
                invalid(
                    "PARINDEX_METRICS_ADDR",
                    format!("{raw:?} is not an address and port (e.g. 0.0.0.0:9464)"),
                )
            })?),
        };
        let soffice = match get("PARINDEX_SOFFICE") {
            None => None,
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                // A bare name is looked up on PATH when it runs; a path must exist now.
                if path.components().count() > 1 && !path.is_file() {
                    return Err(invalid(
                        "PARINDEX_SOFFICE",
                        format!("{} is not a file", path.display()),
                    ));
                }
                Some(path)
            }
        };

        Ok(Config {
            addr,
            database_url,
            jwt_secret,
            jwt_ttl,
            auth_cache_ttl,
            results_cache_ttl,
            result_documents,
            admin_password,
            max_body_bytes,
            db_max_connections,
            db_acquire_timeout,
            db_statement_timeout,
            db_lock_timeout,
            workers,
            shutdown_timeout,
            client_request_timeout,
            body_timeout,
            cors_allowed_origins,
            log_format,
            password_hashing,
            login_throttle,
            evidence,
            webhooks,
            soffice,
            mail,
            metrics_addr,
            oidc,
            local_login,
            break_glass_admin,
            traces,
            trust_anchors,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn evidence_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<EvidenceSettings, ConfigError> {
    use crate::storage::FileKind;
    let max_bytes = parse_num(
        get,
        "PARINDEX_EVIDENCE_MAX_BYTES",
        DEFAULT_EVIDENCE_MAX_BYTES,
        1024,
        2 * 1024 * 1024 * 1024,
    )?;
    let allowed = match get("PARINDEX_EVIDENCE_TYPES") {
        None => FileKind::ALL.to_vec(),
        Some(list) => {
            let mut kinds = Vec::new();
            for name in list.split(',').filter(|n| !n.trim().is_empty()) {
                let Some(kind) = FileKind::parse(name) else {
                    let known: Vec<&str> = FileKind::ALL.iter().map(|k| k.name()).collect();
                    return Err(invalid(
                        "PARINDEX_EVIDENCE_TYPES",
                        format!("{name:?} is not one of: {}", known.join(", ")),
                    ));
                };
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            if kinds.is_empty() {
                return Err(invalid(
                    "PARINDEX_EVIDENCE_TYPES",
                    "names no kind of file".to_string(),
                ));
            }
            kinds
        }
    };
    let dir = std::path::PathBuf::from(
        get("PARINDEX_EVIDENCE_DIR").unwrap_or_else(|| DEFAULT_EVIDENCE_DIR.to_string()),
    );
    let storage = match get("PARINDEX_EVIDENCE_STORE").as_deref() {
        None | Some("file") => EvidenceStorage::File { dir },
        Some("s3") => {
            let bucket = get("PARINDEX_S3_BUCKET")
                .filter(|b| !b.is_empty())
                .ok_or_else(|| {
                    invalid(
                        "PARINDEX_S3_BUCKET",
                        "is required when PARINDEX_EVIDENCE_STORE=s3".to_string(),
                    )
                })?;
            let endpoint = get("PARINDEX_S3_ENDPOINT").filter(|e| !e.is_empty());
            if let Some(e) = &endpoint
                && !(e.starts_with("http://") || e.starts_with("https://"))
            {
                return Err(invalid(
                    "PARINDEX_S3_ENDPOINT",
                    format!("{e:?} is not an http:// or https:// address"),
                ));
            }
            EvidenceStorage::S3(S3Settings {
                bucket,
                prefix: get("PARINDEX_S3_PREFIX").unwrap_or_default(),
                region: get("AWS_REGION")
                    .or_else(|| get("AWS_DEFAULT_REGION"))
                    .unwrap_or_else(|| "us-east-1".to_string()),
                endpoint,
                access_key_id: get("AWS_ACCESS_KEY_ID"),
                secret_access_key: get("AWS_SECRET_ACCESS_KEY").map(Secret::new),
                session_token: get("AWS_SESSION_TOKEN").map(Secret::new),
                spool_dir: dir.join("tmp"),
            })
        }
        Some(other) => {
            return Err(invalid(
                "PARINDEX_EVIDENCE_STORE",
                format!("{other:?} is not one of: file, s3"),
            ));
        }
    };
    let quota_bytes = parse_num(
        get,
        "PARINDEX_EVIDENCE_QUOTA_BYTES",
        2 * 1024 * 1024 * 1024,
        1024,
        u64::MAX / 2,
    )?;
    let quota_files = parse_num(get, "PARINDEX_EVIDENCE_QUOTA_FILES", 2000, 1, 10_000_000)?;
    let zip_max_bytes = parse_num(
        get,
        "PARINDEX_EVIDENCE_ZIP_MAX_BYTES",
        2 * 1024 * 1024 * 1024,
        1024,
        u64::MAX / 2,
    )?;
    let gc_seconds = parse_num(get, "PARINDEX_EVIDENCE_GC_SECONDS", 3600, 0, 7 * 24 * 3600)?;
    let gc_grace = parse_num(
        get,
        "PARINDEX_EVIDENCE_GC_GRACE_SECONDS",
        3600,
        0,
        7 * 24 * 3600,
    )?;
    Ok(EvidenceSettings {
        max_bytes,
        allowed,
        storage,
        quota_bytes,
        quota_files,
        zip_max_bytes,
        gc_every: (gc_seconds > 0).then(|| Duration::from_secs(gc_seconds)),
        gc_grace: Duration::from_secs(gc_grace),
    })
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(other) => Err(invalid(var, format!("{other:?} is not true or false"))),
    }
}

/// The OpenTelemetry specification's variables for a traces exporter over OTLP/HTTP. Only
/// `http/protobuf` is spoken: a deployment asking for gRPC or JSON is told so at start
/// instead of exporting nothing.
fn trace_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<TraceSettings>, ConfigError> {
    if parse_bool(get, "OTEL_SDK_DISABLED", false)? {
        return Ok(None);
    }
    match get("OTEL_TRACES_EXPORTER").as_deref() {
        None | Some("otlp") => {}
        Some("none") => return Ok(None),
        Some(other) => {
            return Err(invalid(
                "OTEL_TRACES_EXPORTER",
                format!("{other:?}: only otlp (or none) is supported"),
            ));
        }
    }
    let endpoint = match (
        get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        get("OTEL_EXPORTER_OTLP_ENDPOINT"),
    ) {
        (Some(traces), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces),
        (None, Some(base)) => (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("{}/v1/traces", base.trim_end_matches('/')),
        ),
        (None, None) => return Ok(None),
    };
    let (var, endpoint) = endpoint;
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(invalid(
            var,
            format!("{endpoint:?} is not an http:// or https:// URL"),
        ));
    }
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        match get(var).as_deref() {
            None | Some("http/protobuf") => {}
            Some(other) => {
                return Err(invalid(
                    var,
                    format!("{other:?}: only http/protobuf is supported"),
                ));
            }
        }
    }
    Ok(Some(TraceSettings {
        endpoint,
        service_name: get("OTEL_SERVICE_NAME").unwrap_or_else(|| "parindex".to_string()),
    }))
}

fn mail_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<MailSettings>, ConfigError> {
    let Some(url) = get("PARINDEX_SMTP_URL") else {
        return Ok(None);
    };
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err(invalid(
            "PARINDEX_SMTP_URL",
            "must start with smtp:// or smtps://",
        ));
    }
    let from = get("PARINDEX_SMTP_FROM")
        .ok_or_else(|| invalid("PARINDEX_SMTP_FROM", "required with PARINDEX_SMTP_URL"))?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(invalid(
            "PARINDEX_SMTP_FROM",
            format!("{from:?} is not an e-mail address (Name <address> or address)"),
        ));
    }
    let public_url = get("PARINDEX_PUBLIC_URL")
        .ok_or_else(|| invalid("PARINDEX_PUBLIC_URL", "required with PARINDEX_SMTP_URL"))?;
    if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
        return Err(invalid(
            "PARINDEX_PUBLIC_URL",
            "must start with https:// or http://",
        ));
    }
    Ok(Some(MailSettings {
        url: Secret::new(url),
        from,
        public_url: public_url.trim_end_matches('/').to_string(),
        timeout: Duration::from_millis(parse_num(
            get,
            "PARINDEX_SMTP_TIMEOUT_MS",
            10_000,
            100,
            120_000,
        )?),
        poll: Duration::from_millis(parse_num(get, "PARINDEX_SMTP_POLL_MS", 1000, 10, 60_000)?),
        max_attempts: parse_num(get, "PARINDEX_SMTP_MAX_ATTEMPTS", 12, 1, 30)? as u32,
        retry_base: Duration::from_millis(parse_num(
            get,
            "PARINDEX_SMTP_RETRY_BASE_MS",
            5000,
            10,
            3_600_000,
        )?),
        digest_hour: parse_num(get, "PARINDEX_DIGEST_HOUR", 7, 0, 23)? as u32,
    }))
}

fn webhook_settings(get: &impl Fn(&str) -> Option<String>) -> Result<WebhookSettings, ConfigError> {
    Ok(WebhookSettings {
        allow_private: parse_bool(get, "PARINDEX_WEBHOOK_ALLOW_PRIVATE", false)?,
        dispatcher: parse_bool(get, "PARINDEX_WEBHOOK_DISPATCHER", true)?,
        max_attempts: parse_num(get, "PARINDEX_WEBHOOK_MAX_ATTEMPTS", 8, 1, 30)? as u32,
        retry_base: Duration::from_millis(parse_num(
            get,
            "PARINDEX_WEBHOOK_RETRY_BASE_MS",
            5000,
            10,
            3_600_000,
        )?),
        timeout: Duration::from_millis(parse_num(
            get,
            "PARINDEX_WEBHOOK_TIMEOUT_MS",
            10_000,
            100,
            120_000,
        )?),
        poll: Duration::from_millis(parse_num(get, "PARINDEX_WEBHOOK_POLL_MS", 250, 10, 60_000)?),
        due_soon_days: parse_num(get, "PARINDEX_WEBHOOK_DUE_SOON_DAYS", 7, 1, 365)? as u32,
    })
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(raw) => {
            let n: u64 = raw
                .parse()
                .map_err(|_| invalid(var, format!("{raw:?} is not a whole number")))?;
            if n < min || n > max {
                return Err(invalid(var, format!("{n} is out of range ({min}..={max})")));
            }
            Ok(n)
        }
    }
}

/// Where `parindex healthcheck` probes the server that `PARINDEX_ADDR` (or the default)
/// makes listen: an unspecified address (`0.0.0.0`, `[::]`) is probed on loopback.
pub fn readiness_url(addr: Option<&str>) -> String {
    let addr = addr.unwrap_or(DEFAULT_ADDR);
    let probed = match addr.parse::<std::net::SocketAddr>() {
        Ok(mut a) if a.ip().is_unspecified() => {
            a.set_ip(match a {
                std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
            a.to_string()
        }
        Ok(a) => a.to_string(),
        Err(_) => DEFAULT_ADDR.to_string(),
    };
    format!("http://{probed}/health/ready")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_map(&vars)
    }

    #[test]
    fn defaults_need_no_environment() {
        let c = parse(&[]).expect("defaults parse");
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.jwt_ttl, Duration::from_secs(3600));
        assert!(c.cors_allowed_origins.is_empty());
        assert_eq!(c.password_hashing, PasswordHashing::default());
    }

    #[test]
    fn traces_follow_the_opentelemetry_variables() {
        assert!(parse(&[]).unwrap().traces.is_none());
        let base = parse(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]).unwrap();
        let t = base.traces.expect("an endpoint turns traces on");
        assert_eq!(t.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(t.service_name, "parindex");
        // The signal's own variable is used as it is, and wins.
        let own = parse(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://tempo.tinh/otlp",
            ),
            ("OTEL_SERVICE_NAME", "parindex-qt"),
        ])
        .unwrap()
        .traces
        .unwrap();
        assert_eq!(
            (own.endpoint.as_str(), own.service_name.as_str()),
            ("https://tempo.tinh/otlp", "parindex-qt")
        );
        for off in [
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ] {
            let c = parse(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), off]).unwrap();
            assert!(c.traces.is_none(), "{off:?}");
        }
        let grpc = parse(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap_err();
        assert_eq!(grpc.var, "OTEL_EXPORTER_OTLP_PROTOCOL");
        let bad = parse(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")]).unwrap_err();
        assert_eq!(bad.var, "OTEL_EXPORTER_OTLP_ENDPOINT");
    }

    #[test]
    fn argon2_defaults_are_owasp_minimum() {
        let p = PasswordHashing::default();
        assert_eq!(
            (p.memory_kib, p.iterations, p.parallelism),
            (19 * 1024, 2, 1)
        );
    }

    #[test]
    fn a_bad_address_names_the_variable() {
        assert_eq!(
            readiness_url(Some("0.0.0.0:9090")),
            "http://127.0.0.1:9090/health/ready"
        );
        assert_eq!(
            readiness_url(Some("[::]:81")),
            "http://[::1]:81/health/ready"
        );
        assert_eq!(
            readiness_url(Some("10.0.0.5:8080")),
            "http://10.0.0.5:8080/health/ready"
        );
        assert_eq!(readiness_url(None), "http://127.0.0.1:8080/health/ready");
        let e = parse(&[("PARINDEX_ADDR", "localhost")]).unwrap_err();
        assert_eq!(e.var, "PARINDEX_ADDR");
        assert!(
            e.to_string()
                .starts_with("invalid configuration: PARINDEX_ADDR:")
        );
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let e = parse(&[("PARINDEX_JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(e.var, "PARINDEX_JWT_SECRET");
        assert!(e.reason.contains("at least 32"));
        let ok = parse(&[("PARINDEX_JWT_SECRET", &"x".repeat(32))]).expect("32 bytes is enough");
        assert!(ok.jwt_secret.is_some());
    }

    #[test]
    fn unknown_database_schemes_are_refused() {
        let e = parse(&[("DATABASE_URL", "mysql://root@localhost/x")]).unwrap_err();
        assert_eq!(e.var, "DATABASE_URL");
    }

    #[test]
    fn numbers_are_range_checked() {
        let e = parse(&[("PARINDEX_JWT_TTL_SECONDS", "5")]).unwrap_err();
        assert_eq!(e.var, "PARINDEX_JWT_TTL_SECONDS");
        let e = parse(&[("PARINDEX_MAX_BODY_BYTES", "lots")]).unwrap_err();
        assert!(e.reason.contains("not a whole number"));
    }

    #[test]
    fn cors_origins_are_parsed_and_checked() {
        let c = parse(&[(
            "PARINDEX_CORS_ALLOWED_ORIGINS",
            "https://a.example.vn/, http://localhost:5173",
        )])
        .expect("valid origins");
        assert_eq!(
            c.cors_allowed_origins,
            vec!["https://a.example.vn", "http://localhost:5173"]
        );
        assert!(parse(&[("PARINDEX_CORS_ALLOWED_ORIGINS", "*")]).is_err());
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/parindex"),
            "postgres://app:***@db:5432/parindex"
        );
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
