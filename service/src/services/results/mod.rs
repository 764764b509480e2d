//! What the district exists to produce: each unit's index for a year with its rank among
//! its siblings and the change since last year, the ranking of a district (or of any
//! subtree), the criteria that lose most points, comparisons across years, and the
//! publication that makes results visible to the units.
//!
//! Everything is read from the totals stored at finalization, one aggregate query per
//! request: a district's ranking costs the same in a country of 10,000 communes.
//!
//! - `rows`: the one query of a scope's results, its cache, and ranking the rows;
//! - `ranking`: a district's (or subtree's) ranking and the criteria losing most points;
//! - `index`: a unit's index, its field subtotals and deductions, and year comparisons;
//! - `publication`: making a year's results visible to the units, frozen as announced;
//! - `lineage`: a merged unit's predecessors and the comparison with them.

mod compare;
mod current;
mod documents;
mod index;
mod lineage;
mod publication;
mod ranking;
mod rows;

pub use compare::{
    Basis, Comparison, History, HistoryPoint, NotComparable, PredecessorsCompared, YearsCompared,
    compare_with_predecessors, compare_years, criterion_history,
};
pub use documents::{
    Body, DocumentKey, DocumentKind, Documents, criteria_losses_body, ranking_body, unit_index_body,
};
pub use index::{Deduction, FieldTotal, IndexLookup, UnitIndex, unit_index};
pub use lineage::{LastPublished, Predecessor};
pub use publication::{
    PublicationRecord, PublishRequest, current_of_unit, freeze_unfrozen, get_publication,
    list_publications, lock_scopes_of, note_reopen, publish,
};
pub use ranking::{
    CriterionLoss, CriterionLossRow, Ranking, appraising_agencies_of, bands_of_year,
    criteria_losses, ranking,
};
pub use rows::{
    BASE_KINDS, Depth, ParentRef, Ranked, ResultRow, ResultsCache, Standing, rank_rows,
};

use super::frameworks::FrameworkCache;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// What the results services read through: the database, the cache of recent rankings and
/// indices, and the frameworks in use. One per server, shared by its workers.
#[derive(Clone)]
pub struct ResultsReader {
    pub db: DatabaseConnection,
    pub cache: Arc<ResultsCache>,
    pub frameworks: FrameworkCache,
    /// The stored results documents and the process's cache of them.
    pub documents: Arc<Documents>,
}
