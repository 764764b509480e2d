//! parindex's pure domain code, in a crate of its own so that nothing in it can reach a
//! database, a socket or an HTTP type, and so that the fuzz targets build it quickly.
//!
//! - `scoring`: methods, framework trees, totals, bands, ranking (`rust_decimal` only);
//! - `spreadsheet`: the bounded readers of uploaded CSV and XLSX files, and the
//!   formula neutralisation every CSV we write goes through;
//! - `campaign`: a year's campaign dates in order, and the dated events they make;
//! - `ical`: iCalendar feeds of all-day events (folding, escaping, stable UIDs);
//! - `file_kind`: what a file is, from its bytes (evidence kinds, their media types);
//! - `framework_sheet`: a framework's criteria as spreadsheet rows, both ways;
//! - `password`: the password rules;
//! - `schedule`: remediation deadlines (with status, recurring) and targets: what is
//!   overdue, due soon, met;
//! - `schema`: the OpenAPI schemas of the decimal wire formats;
//! - `signatures`: a PDF's digital signatures, found by a bounded scan and verified (CMS,
//!   X.509 chains to the deployment's anchors);
//! - `text`: messages in English and Vietnamese (`text!`), and `Accept-Language`;
//! - `unit_ref`: a unit's id and path, and the prefix order of the unit tree;
//! - `vietnam`: days and times in Vietnam (UTC+7), which deadlines and papers use.

pub mod campaign;
pub mod file_kind;
pub mod framework_sheet;
pub mod ical;
pub mod password;
pub mod schedule;
pub mod schema;
pub mod scoring;
pub mod signatures;
pub mod spreadsheet;
pub mod text;
pub mod unit_ref;
pub mod vietnam;

pub use text::{Lang, Text};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whose figures: the unit's (its self-assessment) or the council's (its appraisal). A
/// batch of entries, a workbook and an export are one side's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The unit, on its self-assessment.
    Unit,
    /// The district council, on its appraisal.
    Council,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `entries[3].numerator` or `criteria[1.4.1].max_score`.
    pub field: String,
    /// Stable machine-readable code, e.g. `required`, `out_of_range`, `too_many_decimals`.
    pub code: String,
    /// What is wrong, for a person, in the language of the request's `Accept-Language`
    /// (Vietnamese or English).
    pub message: String,
    /// The message in Vietnamese, sent as `message` when the request prefers it.
    #[serde(skip)]
    pub message_vi: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: Text) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.en,
            message_vi: message.vi,
        }
    }

    pub fn text(&self) -> Text {
        Text::new(self.message.clone(), self.message_vi.clone())
    }

    /// The error as sent to a reader of `lang`.
    pub fn localized(&self, lang: Lang) -> FieldError {
        FieldError {
            message: self.text().get(lang).to_string(),
            ..self.clone()
        }
    }
}
