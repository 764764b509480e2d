//! parindex's business rules, below HTTP: the access policy (`auth::policy`), the one
//! state machine (`workflow`), the services that read and write the database in
//! transactions (`services`), and what they print and store (papers, workbooks, evidence
//! blobs). Nothing here knows about routing: `parindex-api` turns requests into calls of
//! these services and their `ApiError`s into problem responses.

pub mod auth;
pub mod cache;
pub mod changes;
pub mod chart;
pub mod config;
pub mod db;
pub mod documents;
pub mod error;
pub mod metrics;
pub mod outage;
pub mod services;
pub mod sheets;
pub mod state;
pub mod storage;
pub mod uploads;
pub mod validation;
pub mod workbook;
pub mod workflow;

// The pure domain code lives in its own crate; these paths keep `crate::scoring::…` and
// `crate::schema::…` reading as before.
pub use parindex_domain::{schema, scoring};

/// The digital signatures of PDFs: pure, in the domain crate (fuzzed there).
pub use parindex_domain::signatures;
