//! parindex: the yearly administrative-reform (PAR) index of Vietnamese communes.
//!
//! `startup` builds the HTTP server from a `Config`; `routes` holds thin handlers,
//! `services` the business rules, `scoring` the pure scoring and ranking code.

pub mod auth;
pub mod cache;
pub mod chart;
pub mod config;
pub mod db;
pub mod demo;
pub mod documents;
pub mod error;
pub mod examples;
pub mod generate;
pub mod http;
pub mod openapi;
pub mod routes;
pub mod services;
pub mod sheets;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod uploads;
pub mod validation;
pub mod workbook;
pub mod workflow;

// The pure domain code lives in its own crate; these paths keep `crate::scoring::…` and
// `crate::schema::…` reading as before.
pub use parindex_domain::{schema, scoring};
