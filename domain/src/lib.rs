//! parindex's pure domain code, in a crate of its own so that nothing in it can reach a
//! database, a socket or an HTTP type, and so that the fuzz targets build it quickly.
//!
//! - `scoring`: methods, framework trees, totals, bands, ranking (`rust_decimal` only);
//! - `spreadsheet`: the bounded readers of uploaded CSV and XLSX files, and the
//!   formula neutralisation every CSV we write goes through;
//! - `framework_sheet`: a framework's criteria as spreadsheet rows, both ways;
//! - `schedule`: remediation deadlines (with status, recurring) and targets: what is
//!   overdue, due soon, met;
//! - `schema`: the OpenAPI schemas of the decimal wire formats.

pub mod framework_sheet;
pub mod schedule;
pub mod schema;
pub mod scoring;
pub mod spreadsheet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `entries[3].numerator` or `criteria[1.4.1].max_score`.
    pub field: String,
    /// Stable machine-readable code, e.g. `required`, `out_of_range`, `too_many_decimals`.
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}
