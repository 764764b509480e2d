//! One module per resource: thin handlers and their request/response types.

pub mod api_keys;
pub mod appeals;
pub mod appraisal_tasks;
pub mod appraisals;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod documents;
pub mod evidence;
pub mod frameworks;
pub mod health;
pub mod indicators;
pub mod mappings;
pub mod notifications;
pub mod publications;
pub mod remediation;
pub mod results;
pub mod self_assessments;
pub mod unit_merges;
pub mod units;
pub mod users;
pub mod webhooks;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::{scope, service_config::ServiceConfig};

/// Registers every route. Only `.service(handler)` registrations reach the OpenAPI
/// document, so every handler must be an attribute-routed (`#[get]`, `#[post]`…) service.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::health_live)
        .service(health::health_ready)
        .service(scope::scope("/api/v1").configure(api_v1));
}

fn api_v1(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    users::configure(cfg);
    api_keys::configure(cfg);
    units::configure(cfg);
    unit_merges::configure(cfg);
    frameworks::configure(cfg);
    indicators::configure(cfg);
    mappings::configure(cfg);
    self_assessments::configure(cfg);
    appraisals::configure(cfg);
    appraisal_tasks::configure(cfg);
    calendar::configure(cfg);
    notifications::configure(cfg);
    appeals::configure(cfg);
    results::configure(cfg);
    publications::configure(cfg);
    remediation::configure(cfg);
    evidence::configure(cfg);
    webhooks::configure(cfg);
    audit::configure(cfg);
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page number, from 1.
    pub page: u64,
    pub per_page: u64,
    /// How many items all pages hold together.
    pub total: u64,
}

impl<T> Page<T> {
    /// The response of a service's page, each row shown by `show`.
    pub fn of<R>(found: &crate::services::scope::Page<R>, show: impl FnMut(&R) -> T) -> Page<T> {
        Page {
            items: found.items().iter().map(show).collect(),
            page: found.page(),
            per_page: found.per_page(),
            total: found.total(),
        }
    }
}
