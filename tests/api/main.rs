#![allow(clippy::unwrap_used)]
//! Black-box tests of parindex over HTTP, one module per resource, all in ONE test binary
//! (each extra binary is another slow link). See `helpers` for the harness.

// Not every helper is used by every stage of the suite.
#[allow(dead_code)]
mod helpers;

mod agencies;
mod api_keys;
mod appeals;
mod auth;
mod authz;
mod calendar;
mod composition;
mod contract;
mod demo;
mod docs;
mod documents;
mod evidence;
mod faults;
#[allow(dead_code)]
mod fixtures;
mod frameworks;
mod health;
mod hostile;
mod http_errors;
mod indicators;
mod mappings;
mod metrics;
mod notifications;
mod oidc;
mod penalties;
mod races;
mod remediation;
mod replicas;
mod result_documents;
mod results;
mod security;
mod since_2025;
mod smtp_sink;
mod two_tier;
mod units;
mod webhooks;
mod workbooks;
mod workflow;
