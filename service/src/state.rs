//! What every handler shares: the database pool, the configuration, token keys and the
//! password hasher. The read caches are not here: they are app data of their own
//! (`ResultsReader`, `AccountCache`), taken by the handlers and services that use them.

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
    /// Where evidence files' bytes are kept.
    pub blobs: crate::storage::BlobStore,
    /// The OpenID Connect provider whose tokens are accepted, if one is configured.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
}
