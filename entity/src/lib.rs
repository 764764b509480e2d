//! sea-orm entities of parindex, one module per table.
//!
//! Scores are stored as integer hundredths (`*_x100` columns): SQL sums are then exact
//! on both databases (SQLite has no decimal type: its DECIMAL columns are binary floats).
//! The API converts them to and from `rust_decimal::Decimal` with two places.
//! JSON-shaped values (criterion methods, inputs, evidence) are stored as JSON text.

pub mod api_key;
pub mod appeal;
pub mod appraisal;
pub mod appraisal_round;
pub mod assessment_entry;
pub mod audit_event;
pub mod calendar_feed;
pub mod criterion;
pub mod criterion_mapping;
pub mod deadline_extension;
pub mod evidence_file;
pub mod framework;
pub mod indicator_value;
pub mod login_failure;
pub mod mail_message;
pub mod notification;
pub mod notification_preference;
pub mod preliminary_release;
pub mod publication;
pub mod publication_result;
pub mod remediation_item;
pub mod remediation_item_officer;
pub mod remediation_milestone;
pub mod remediation_plan;
pub mod remediation_progress;
pub mod self_assessment;
pub mod staff;
pub mod status;
pub mod unit;
pub mod unit_merge;
pub mod unit_merge_source;
pub mod user;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_event;
pub mod webhook_subscription;
