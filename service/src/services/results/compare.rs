//! Comparisons of a unit's results criterion by criterion: two of its years
//! (`compare_years`), or a merged unit's first year against its predecessors' last
//! published one (`compare_with_predecessors`). Each index is read with the caller's
//! rights (`index::unit_index`): the comparison is made of results the caller may see.

use super::ResultsReader;
use super::index::{UnitIndex, unit_index};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, text};
use crate::scoring::mapping::{CriterionMapping, Predecessor, Relation, predecessor};
use crate::scoring::round2;
use crate::services::visibility::Visible;
use rust_decimal::Decimal;
use std::sync::Arc;

/// One criterion's score in two years.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub code: String,
    pub title: String,
    pub max_then: Decimal,
    pub max_now: Decimal,
    pub then: Decimal,
    pub now: Decimal,
    /// The earlier criteria it is compared with (its own code, or through the mapping).
    pub previous_codes: Vec<String>,
    /// How they relate, when a mapping between the two frameworks says.
    pub relation: Option<Relation>,
}

/// A criterion of the later year that nothing in the earlier one compares with.
#[derive(Clone, Debug)]
pub struct NotComparable {
    pub code: String,
    pub title: String,
    /// `new`, a part of a `split`, or none (the mapping does not name it).
    pub relation: Option<Relation>,
}

/// The unit's scores per criterion in `year` against `previous_year`: through the mapping
/// between the two frameworks where one is recorded (a renamed criterion with its old
/// code, a merged one with its sources summed; new ones and the parts of a split are not
/// comparable, nor is what the mapping leaves out), else for the criteria whose codes exist
/// in both (subtotals for parents).
pub async fn compare_years(
    reader: &ResultsReader,
    actor: &Principal,
    unit_id: i64,
    year: i32,
    previous_year: i32,
) -> ApiResult<Visible<YearsCompared>> {
    // Both years as the caller may see each: the comparison is made of them.
    let both = unit_index(reader, actor, unit_id, year)
        .await?
        .and(unit_index(reader, actor, unit_id, previous_year).await?);
    let (now_id, then_id) = {
        let (now, then) = both.get();
        (now.framework.model.id, then.framework.model.id)
    };
    let rows = if now_id == then_id {
        Vec::new()
    } else {
        crate::services::mappings::rows_between(&reader.db, now_id, then_id).await?
    };
    Ok(both.map(|pair| compare(pair, &rows)))
}

/// Two years of a unit, their subtotals criterion by criterion, and the later year's
/// criteria that cannot be compared.
pub type YearsCompared = (
    Arc<UnitIndex>,
    Arc<UnitIndex>,
    Vec<Comparison>,
    Vec<NotComparable>,
);

fn compare(
    (now, then): (Arc<UnitIndex>, Arc<UnitIndex>),
    rows: &[CriterionMapping],
) -> YearsCompared {
    let subtotal = |index: &UnitIndex, code: &str| -> Decimal {
        index
            .totals
            .by_code
            .get(code)
            .map(|t| t.score)
            .unwrap_or_default()
    };
    let mut comparisons = Vec::new();
    let mut not_comparable = Vec::new();
    for c in now.framework.tree.criteria() {
        let (relation, codes) = if rows.is_empty() {
            // No mapping recorded: the same code is the same criterion.
            match then.framework.tree.get(&c.code) {
                Some(_) => (None, vec![c.code.clone()]),
                None => continue,
            }
        } else {
            match predecessor(rows, &c.code) {
                Predecessor::Criteria(relation, codes) => (Some(relation), codes),
                Predecessor::NotComparable(relation) => {
                    not_comparable.push(NotComparable {
                        code: c.code.clone(),
                        title: c.title.clone(),
                        relation,
                    });
                    continue;
                }
            }
        };
        let olds: Vec<_> = codes
            .iter()
            .filter_map(|code| then.framework.tree.get(code))
            .collect();
        if olds.len() != codes.len() {
            continue;
        }
        comparisons.push(Comparison {
            code: c.code.clone(),
            title: c.title.clone(),
            max_then: olds.iter().map(|o| o.max_score).sum(),
            max_now: c.max_score,
            then: round2(codes.iter().map(|code| subtotal(&then, code)).sum()),
            now: round2(subtotal(&now, &c.code)),
            previous_codes: codes,
            relation,
        });
    }
    (now, then, comparisons, not_comparable)
}

/// How the predecessors' scores are combined into one to compare with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Their mean, weighted by the weights given at the merge (equal when none were).
    Weighted,
    /// The highest of them.
    Best,
}

/// Combines (weight, value) pairs; `None` when there are none.
fn combine(basis: Basis, values: &[(Decimal, Decimal)]) -> ApiResult<Option<Decimal>> {
    if values.is_empty() {
        return Ok(None);
    }
    let overflow = || ApiError::internal(anyhow::anyhow!("weighted comparison overflowed"));
    match basis {
        Basis::Best => Ok(values.iter().map(|(_, v)| *v).max()),
        Basis::Weighted => {
            let mut sum = Decimal::ZERO;
            let mut weights = Decimal::ZERO;
            for (w, v) in values {
                sum = sum
                    .checked_add(w.checked_mul(*v).ok_or_else(overflow)?)
                    .ok_or_else(overflow)?;
                weights = weights.checked_add(*w).ok_or_else(overflow)?;
            }
            Ok(Some(round2(sum.checked_div(weights).ok_or_else(overflow)?)))
        }
    }
}

/// The merged unit's first year against its predecessors' last published year, per
/// criterion; the predecessors' index combined the same way. Each predecessor's results
/// are read with the caller's rights (403 as for its own index).
pub async fn compare_with_predecessors(
    reader: &ResultsReader,
    actor: &Principal,
    unit_id: i64,
    year: i32,
    basis: Basis,
) -> ApiResult<Visible<PredecessorsCompared>> {
    // Each index as the caller may see it: the comparison is made of them.
    let now = unit_index(reader, actor, unit_id, year).await?;
    let mut theirs = Vec::new();
    for p in &now.get().predecessors {
        if let Some(last) = &p.last_published {
            let index = unit_index(reader, actor, p.unit_id, last.year).await?;
            theirs.push(index.map(|i| (p.weight, i)));
        }
    }
    if theirs.is_empty() {
        let name = &now.get().unit_name;
        return Err(ApiError::not_found(text!(
            "{} has no predecessor with a published result before {year}",
            "{} không có đơn vị tiền thân nào có kết quả đã công bố trước năm {year}",
            name
        )));
    }
    now.and(Visible::all(theirs))
        .map(|(now, theirs)| compare_predecessors(now, theirs, year, basis))
        .transpose()
}

/// The merged unit's index, its predecessors' combined index and year, and the
/// comparison criterion by criterion.
pub type PredecessorsCompared = (Arc<UnitIndex>, Decimal, i32, Vec<Comparison>);

fn compare_predecessors(
    now: Arc<UnitIndex>,
    theirs: Vec<(Decimal, Arc<UnitIndex>)>,
    year: i32,
    basis: Basis,
) -> ApiResult<PredecessorsCompared> {
    let previous_year = theirs.iter().map(|(_, i)| i.year).max().unwrap_or(year - 1);
    let index_values: Vec<(Decimal, Decimal)> = theirs.iter().map(|(w, i)| (*w, i.index)).collect();
    let previous_index = combine(basis, &index_values)?.unwrap_or_default();
    let subtotal = |index: &UnitIndex, code: &str| -> Decimal {
        index
            .totals
            .by_code
            .get(code)
            .map(|t| t.score)
            .unwrap_or_default()
    };
    let mut comparisons = Vec::new();
    for c in now.framework.tree.criteria() {
        let mut values = Vec::new();
        let mut max_then = Decimal::ZERO;
        for (w, i) in &theirs {
            if let Some(old) = i.framework.tree.get(&c.code) {
                values.push((*w, round2(subtotal(i, &c.code))));
                max_then = max_then.max(old.max_score);
            }
        }
        if let Some(then) = combine(basis, &values)? {
            comparisons.push(Comparison {
                code: c.code.clone(),
                title: c.title.clone(),
                max_then,
                max_now: c.max_score,
                then,
                now: round2(subtotal(&now, &c.code)),
                previous_codes: vec![c.code.clone()],
                relation: None,
            });
        }
    }
    Ok((now, previous_index, previous_year, comparisons))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn weighted_and_best() {
        let values = [(dec!(1), dec!(80.00)), (dec!(3), dec!(90.00))];
        assert_eq!(
            combine(Basis::Weighted, &values).unwrap(),
            Some(dec!(87.50))
        );
        assert_eq!(combine(Basis::Best, &values).unwrap(), Some(dec!(90.00)));
        assert_eq!(combine(Basis::Weighted, &[]).unwrap(), None);
        // Equal weights: the plain mean, rounded half away from zero.
        let equal = [
            (dec!(1), dec!(1.00)),
            (dec!(1), dec!(2.00)),
            (dec!(1), dec!(2.00)),
        ];
        assert_eq!(combine(Basis::Weighted, &equal).unwrap(), Some(dec!(1.67)));
    }
}
