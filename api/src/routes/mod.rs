//! One module per resource: thin handlers and their request/response types.

pub mod health;

use utoipa_actix_web::{scope, service_config::ServiceConfig};

/// Registers every route. Only `.service(handler)` registrations reach the OpenAPI
/// document, so every handler must be an attribute-routed (`#[get]`, `#[post]`…) service.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::health_live)
        .service(health::health_ready)
        .service(scope::scope("/api/v1").configure(api_v1));
}

fn api_v1(_cfg: &mut ServiceConfig) {}
