//! What every handler shares: the database pool, the configuration, token keys and the
//! password hasher.

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::config::Config;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
    pub hasher: PasswordHasher,
    /// Accounts read by authentication, briefly (see `AccountCache`).
    pub accounts: Arc<crate::services::accounts::AccountCache>,
    /// Rankings and indices read recently (see `ResultsCache`).
    pub results: Arc<crate::services::results::ResultsCache>,
    /// Frameworks in use, built once (see `FrameworkCache`).
    pub frameworks: crate::services::frameworks::FrameworkCache,
}
