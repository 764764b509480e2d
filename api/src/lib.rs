//! parindex: the yearly administrative-reform (PAR) index of Vietnamese communes, as a
//! REST/JSON API.
//!
//! This crate is the HTTP side: `startup` builds the server from a `Config`, `routes` holds
//! thin handlers, `http` the extractors and middleware, `openapi` the document. The rules
//! live below it, in `parindex-service` (policy, workflow, services) and `parindex-domain`
//! (pure scoring); the demo district and the data generator in `parindex-demo`. Their
//! modules are re-exported here, so `crate::services::…` reads the same in every handler.

pub mod auth;
pub mod error;
pub mod examples;
pub mod http;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod uploads;

pub use parindex_demo::generate;
pub use parindex_service::{
    cache, changes, chart, config, db, documents, metrics, outage, schema, scoring, services,
    sheets, signatures, state, storage, validation, workbook, workflow,
};

/// The demo district (`parindex demo-data`).
pub mod demo {
    pub use parindex_demo::*;
}
