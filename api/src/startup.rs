//! Builds the HTTP server from a `Config`. `main` and the black-box tests build it the
//! same way; tests bind port 0 and read the port back.

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::config::Config;
use crate::http::routes_table::{RouteTable, fallback};
use crate::http::{BodyLimit, BodyTimeout, middleware::observe, path_config};
use crate::services::accounts::AccountCache;
use crate::services::results::{Documents, ResultsCache, ResultsReader};
use crate::state::AppState;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

pub struct Application {
    server: Server,
    port: u16,
    state: AppState,
}

impl Application {
    /// Connects to the database, applies pending migrations, prepares the first admin,
    /// and binds the listener. The server starts when `run` is awaited.
    pub async fn build(config: Config) -> Result<Application, anyhow::Error> {
        let listener = TcpListener::bind(config.addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
        let port = listener.local_addr()?.port();
        if config.jwt_secret.is_none() {
            tracing::warn!(
                "PARINDEX_JWT_SECRET is not set: using a random secret; tokens will not survive \
                 a restart and replicas cannot share them"
            );
        }
        let state = prepare(config).await?;
        // Webhooks: this replica's dispatcher, woken after each of its write requests.
        let wake = crate::services::webhooks::Wake::default();
        if state.config.webhooks.dispatcher {
            let dispatcher = Arc::new(crate::services::webhooks::Dispatcher::new(
                state.db.clone(),
                state.config.webhooks.clone(),
            )?);
            tokio::spawn(dispatcher.run(wake.clone()));
        }
        // E-mail of notifications, when SMTP is configured; and the submission deadlines'
        // reminders (notifications and webhooks) in every replica (each once: dedup keys).
        if let Some(mail) = state.config.mail.clone() {
            let mailer = Arc::new(crate::services::notifications::mailer::Mailer::new(
                state.db.clone(),
                mail,
            )?);
            tokio::spawn(mailer.run());
        }
        if state.config.webhooks.dispatcher {
            tokio::spawn(crate::services::reminders::run(state.db.clone()));
        }
        // PostgreSQL: the other replicas' commits make this one's caches stale and wake its
        // dispatcher as they happen (`changes`), instead of after a cache's time limit or a
        // poll.
        if !state.config.is_sqlite() {
            let wake = wake.clone();
            tokio::spawn(crate::changes::listen(
                state.config.database_url.clone(),
                move || wake.now(),
            ));
        }
        // Evidence: blobs no file names any more (deleted, or abandoned mid-upload) are
        // removed once an hour old, without anyone running `parindex evidence gc`.
        if let Some(every) = state.config.evidence.gc_every {
            tokio::spawn(collect_evidence_garbage(state.clone(), every));
        }
        // PostgreSQL: a server that is down is found once and answered 503 at once,
        // instead of every request waiting out the pool.
        if let Some(address) = crate::outage::Address::of(&state.config.database_url) {
            tokio::spawn(crate::outage::watch(address));
        }
        // Prometheus: a listener of its own, off the public API.
        crate::metrics::started();
        if let Some(addr) = state.config.metrics_addr {
            let metrics = TcpListener::bind(addr)
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (metrics): {e}"))?;
            let db = state.db.clone();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(db.clone()))
                    .route("/metrics", web::get().to(scrape))
            })
            .workers(1)
            .disable_signals()
            .listen(metrics)?
            .run();
            tokio::spawn(server);
        }
        let server = serve(listener, state.clone(), wake)?;
        Ok(Application {
            server,
            port,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting connections and lets in-flight
    /// requests finish (up to `PARINDEX_SHUTDOWN_TIMEOUT_SECONDS`).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

/// Connects to the database, applies pending migrations, creates the first admin on an
/// empty database, and builds the shared state: what the server and the CLI commands
/// that write data all start with.
pub async fn prepare(config: Config) -> Result<AppState, anyhow::Error> {
    crate::db::migrate(&config).await?;
    let db = crate::db::connect(&config).await?;
    // Stored results documents are stale after any write this process cannot vouch for:
    // another that died between a commit and its bump, or a change made outside the
    // service (`changes::bump_generation`).
    parindex_service::changes::bump_generation(&db).await?;
    let hasher = PasswordHasher::new(config.password_hashing)?;
    crate::services::accounts::ensure_first_admin(&db, &hasher, config.admin_password.as_ref())
        .await?;
    let jwt = JwtKeys::new(jwt_secret(&config).as_bytes(), config.jwt_ttl);
    let blobs = crate::storage::BlobStore::open(&config.evidence.storage)?;
    let oidc = match &config.oidc {
        Some(settings) => Some(Arc::new(parindex_service::auth::oidc::Oidc::new(
            settings.clone(),
        )?)),
        None => None,
    };
    Ok(AppState {
        oidc,
        db,
        config: Arc::new(config),
        jwt,
        hasher,
        blobs,
    })
}

/// The periodic evidence collection (`PARINDEX_EVIDENCE_GC_SECONDS`). Replicas may run it
/// at once: a blob two of them remove is gone either way.
async fn collect_evidence_garbage(state: AppState, every: std::time::Duration) {
    let grace = state.config.evidence.gc_grace;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        match crate::services::evidence::collect_garbage(&state, grace, false).await {
            Ok(report) if !report.removed.is_empty() => tracing::info!(
                removed = report.removed.len(),
                "evidence blobs no file names were removed"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "evidence collection failed; will retry"),
        }
    }
}

/// The configured secret, or a random one (tokens then die with the process and cannot be
/// shared by replicas: the server warns).
fn jwt_secret(config: &Config) -> String {
    match &config.jwt_secret {
        Some(secret) => secret.expose().to_string(),
        None => crate::auth::random_token(32),
    }
}

/// CORS for the configured origins (and the service's own, so that Swagger UI keeps
/// working). Without configured origins no CORS middleware runs at all: browsers then
/// refuse cross-origin reads themselves, and preflights get 405.
fn cors(origins: &[String]) -> Cors {
    let allowed: Vec<String> = origins.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let origin = origin.to_str().unwrap_or_default();
            let same_origin = head
                .headers()
                .get(actix_web::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|host| {
                    origin == format!("http://{host}") || origin == format!("https://{host}")
                });
            same_origin || allowed.iter().any(|a| a == origin)
        })
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
            actix_web::http::header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            actix_web::http::header::ETAG,
            actix_web::http::header::LOCATION,
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::CONTENT_DISPOSITION,
            actix_web::http::header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600)
}

/// `GET /metrics` of the metrics listener.
async fn scrape(db: web::Data<sea_orm::DatabaseConnection>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render(&db).await)
}

fn serve(
    listener: TcpListener,
    state: AppState,
    wake: crate::services::webhooks::Wake,
) -> Result<Server, anyhow::Error> {
    let config = state.config.clone();
    let spec = crate::openapi::served(config.oidc.as_ref())?;
    let routes = web::Data::new(RouteTable::from_openapi(&spec));
    // With an identity provider, Swagger UI offers its login: authorization code with
    // PKCE, as a public client (a browser keeps no secret).
    let swagger_oauth = config.oidc.as_ref().map(|oidc| {
        utoipa_swagger_ui::oauth::Config::new()
            .client_id(&oidc.swagger_client_id)
            .scopes(oidc.swagger_scopes.clone())
            .app_name("parindex")
            .use_pkce_with_authorization_code_grant(true)
    });
    // The read caches: one per server, shared by its workers.
    let accounts = web::Data::new(AccountCache::new("accounts", config.auth_cache_ttl));
    let results = web::Data::new(ResultsReader {
        db: state.db.clone(),
        cache: Arc::new(ResultsCache::new(config.results_cache_ttl)),
        frameworks: Default::default(),
        documents: Arc::new(Documents::new(
            config.result_documents,
            config.results_cache_ttl,
        )),
    });
    let state = web::Data::new(state);
    let wake = web::Data::new(wake);
    let body_limit = config.max_body_bytes;
    let body_timeout = config.body_timeout;
    let origins = config.cors_allowed_origins.clone();

    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .wrap(from_fn(crate::http::format_paths::rewrite))
            .wrap(from_fn(crate::auth::extractor::authenticate))
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(from_fn(observe))
            .app_data(state.clone())
            .app_data(accounts.clone())
            .app_data(results.clone())
            .app_data(wake.clone())
            .app_data(routes.clone())
            .app_data(BodyLimit(body_limit))
            .app_data(BodyTimeout(body_timeout))
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(path_config())
            .into_utoipa_app()
            .configure(crate::routes::configure)
            .split_for_parts();
        let mut swagger =
            SwaggerUi::new("/swagger-ui/{_:.*}").url("/api-docs/openapi.json", spec.clone());
        if let Some(oauth) = &swagger_oauth {
            swagger = swagger.oauth(oauth.clone());
        }
        app.service(swagger).default_service(web::to(fallback))
    })
    .listen(listener)?
    // Slow or stalled clients cannot hold a connection: the request head must arrive within
    // PARINDEX_CLIENT_REQUEST_TIMEOUT_MS (5 s), idle keep-alive ends after 30 s.
    .client_request_timeout(config.client_request_timeout)
    .client_disconnect_timeout(Duration::from_secs(2))
    .keep_alive(Duration::from_secs(30))
    .shutdown_timeout(config.shutdown_timeout.as_secs());
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
