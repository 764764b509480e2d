//! The scoring engine: pure functions, `rust_decimal` only, no I/O.
//!
//! - `method`: a leaf's method and raw inputs → its score (rounded once, half away from
//!   zero, clamped to 0..=max);
//! - `framework`: a framework's flat list of dotted codes → a validated tree;
//! - `totals`: leaf scores → subtotals and the total (not-applicable policy), rating bands;
//! - `composition`: the index's components and a missing one (rescale, zero, unranked);
//! - `mapping`: criteria carried across years (same, renamed, split, merged, new, removed);
//! - `settle`: a finalized appraisal's totals, deductions, index and band, computed once;
//! - `ranking`: competition ranks (1, 2, 2, 4) and summary statistics;
//! - `decimal`: rounding and the hundredths stored in the database.

pub mod composition;
pub mod decimal;
pub mod framework;
pub mod mapping;
pub mod method;
pub mod ranking;
pub mod settle;
pub mod totals;

pub use decimal::{from_hundredths, round2, to_hundredths};
pub use framework::{CriteriaTree, CriterionDef, Scorer};
pub use method::{Inputs, LeafScore, Method, score_leaf};
pub use totals::{NotApplicablePolicy, RatingBand, band_for, totals};
