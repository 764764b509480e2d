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

/// Where a later criterion's figures are in an earlier index.
enum Earlier {
    /// These criteria (all in the earlier framework), related so when a mapping says.
    Criteria(Option<Relation>, Vec<String>),
    /// The mapping says nothing earlier compares with it.
    NotComparable(Option<Relation>),
    /// No mapping, and no criterion of that code earlier.
    Absent,
}

/// `code` of the later framework in `then`: through the mapping rows between the two
/// frameworks when there are any, else under the same code.
fn earlier(rows: &[CriterionMapping], then: &UnitIndex, code: &str) -> Earlier {
    let (relation, codes) = if rows.is_empty() {
        (None, vec![code.to_string()])
    } else {
        match predecessor(rows, code) {
            Predecessor::Criteria(relation, codes) => (Some(relation), codes),
            Predecessor::NotComparable(relation) => return Earlier::NotComparable(relation),
        }
    };
    if codes.iter().all(|c| then.framework.tree.get(c).is_some()) {
        Earlier::Criteria(relation, codes)
    } else {
        Earlier::Absent
    }
}

/// `codes`' summed subtotal in `index`, and their summed maximum.
fn figures(index: &UnitIndex, codes: &[String]) -> (Decimal, Decimal) {
    let score = codes
        .iter()
        .map(|code| {
            index
                .totals
                .by_code
                .get(code)
                .map(|t| t.score)
                .unwrap_or_default()
        })
        .sum();
    let max = codes
        .iter()
        .filter_map(|code| index.framework.tree.get(code))
        .map(|c| c.max_score)
        .sum();
    (round2(score), max)
}

fn compare(
    (now, then): (Arc<UnitIndex>, Arc<UnitIndex>),
    rows: &[CriterionMapping],
) -> YearsCompared {
    let mut comparisons = Vec::new();
    let mut not_comparable = Vec::new();
    for c in now.framework.tree.criteria() {
        match earlier(rows, &then, &c.code) {
            Earlier::Criteria(relation, codes) => {
                let (then_score, max_then) = figures(&then, &codes);
                comparisons.push(Comparison {
                    code: c.code.clone(),
                    title: c.title.clone(),
                    max_then,
                    max_now: c.max_score,
                    then: then_score,
                    now: figures(&now, std::slice::from_ref(&c.code)).0,
                    previous_codes: codes,
                    relation,
                });
            }
            Earlier::NotComparable(relation) => not_comparable.push(NotComparable {
                code: c.code.clone(),
                title: c.title.clone(),
                relation,
            }),
            Earlier::Absent => {}
        }
    }
    (now, then, comparisons, not_comparable)
}

/// One year of a criterion's history.
#[derive(Clone, Debug)]
pub struct HistoryPoint {
    pub year: i32,
    /// The criteria of that year's framework it was then (its own code, or through the
    /// mappings between the years' frameworks).
    pub codes: Vec<String>,
    /// How that year's criteria became the next year's, when a mapping says.
    pub relation: Option<Relation>,
    pub max: Decimal,
    pub score: Decimal,
}

/// A criterion's title (in the latest year), its years from the latest back, and the
/// year before which it cannot be followed (nothing earlier compares with it), if any.
pub type History = (String, Vec<HistoryPoint>, Option<i32>);

/// A unit's scores of one criterion over the years, from `year` back over at most `years`
/// years: followed through the mapping between each two consecutive years' frameworks
/// where one is recorded (a renumbered criterion under its old code, a merged one with
/// its sources summed), else by code. It stops at the first year without a result the
/// caller may read, or where nothing compares with it.
pub async fn criterion_history(
    reader: &ResultsReader,
    actor: &Principal,
    unit_id: i64,
    year: i32,
    code: &str,
    years: i32,
) -> ApiResult<Visible<History>> {
    let latest = unit_index(reader, actor, unit_id, year).await?;
    let Some(title) = latest
        .get()
        .framework
        .tree
        .get(code)
        .map(|c| c.title.clone())
    else {
        return Err(ApiError::not_found(text!(
            "{code} is not a criterion of the {year} framework",
            "{code} không phải là tiêu chí của bộ tiêu chí năm {year}"
        )));
    };
    let mut framework = latest.get().framework.model.id;
    let mut indices = vec![latest];
    // The mapping rows from each year's framework to the year before's.
    let mut steps: Vec<Vec<CriterionMapping>> = Vec::new();
    for earlier_year in (year - years.max(1) + 1..year).rev() {
        let index = match unit_index(reader, actor, unit_id, earlier_year).await {
            Ok(index) => index,
            // No result that year (or none the caller may read): the history ends there.
            Err(e) if e.status().is_client_error() => break,
            Err(e) => return Err(e),
        };
        let theirs = index.get().framework.model.id;
        steps.push(if theirs == framework {
            Vec::new()
        } else {
            crate::services::mappings::rows_between(&reader.db, framework, theirs).await?
        });
        framework = theirs;
        indices.push(index);
    }
    let code = code.to_string();
    Ok(Visible::all(indices).map(|all| {
        let mut points = Vec::new();
        let mut codes = vec![code];
        let mut relation = None;
        let mut cut = None;
        for (i, index) in all.iter().enumerate() {
            let (score, max) = figures(index, &codes);
            points.push(HistoryPoint {
                year: index.year,
                codes: codes.clone(),
                relation,
                max,
                score,
            });
            let Some(rows) = steps.get(i) else { break };
            let Some(before) = all.get(i + 1) else { break };
            let mut earlier_codes = Vec::new();
            relation = None;
            for c in &codes {
                match earlier(rows, before, c) {
                    Earlier::Criteria(r, found) => {
                        relation = relation.or(r);
                        earlier_codes.extend(found);
                    }
                    Earlier::NotComparable(_) | Earlier::Absent => {
                        earlier_codes.clear();
                        break;
                    }
                }
            }
            if earlier_codes.is_empty() {
                cut = Some(index.year);
                break;
            }
            earlier_codes.dedup();
            codes = earlier_codes;
        }
        (title, points, cut)
    }))
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
    let now_framework = now.get().framework.model.id;
    let mut theirs = Vec::new();
    for p in &now.get().predecessors {
        if let Some(last) = &p.last_published {
            let index = unit_index(reader, actor, p.unit_id, last.year).await?;
            // A predecessor scored on another framework is matched through the mapping
            // between the two, when one is recorded.
            let their_framework = index.get().framework.model.id;
            let rows = if their_framework == now_framework {
                Vec::new()
            } else {
                crate::services::mappings::rows_between(&reader.db, now_framework, their_framework)
                    .await?
            };
            theirs.push(index.map(|i| (p.weight, i, rows)));
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

/// The merged unit's index, its predecessors' combined index and year, the comparison
/// criterion by criterion, and the criteria no predecessor's compares with.
pub type PredecessorsCompared = (
    Arc<UnitIndex>,
    Decimal,
    i32,
    Vec<Comparison>,
    Vec<NotComparable>,
);

fn compare_predecessors(
    now: Arc<UnitIndex>,
    theirs: Vec<(Decimal, Arc<UnitIndex>, Vec<CriterionMapping>)>,
    year: i32,
    basis: Basis,
) -> ApiResult<PredecessorsCompared> {
    let previous_year = theirs
        .iter()
        .map(|(_, i, _)| i.year)
        .max()
        .unwrap_or(year - 1);
    let index_values: Vec<(Decimal, Decimal)> =
        theirs.iter().map(|(w, i, _)| (*w, i.index)).collect();
    let previous_index = combine(basis, &index_values)?.unwrap_or_default();
    let mut comparisons = Vec::new();
    let mut not_comparable = Vec::new();
    for c in now.framework.tree.criteria() {
        let mut values = Vec::new();
        let mut max_then = Decimal::ZERO;
        let mut previous_codes: Vec<String> = Vec::new();
        let mut relation = None;
        let mut apart = None;
        for (w, i, rows) in &theirs {
            match earlier(rows, i, &c.code) {
                Earlier::Criteria(r, codes) => {
                    let (score, max) = figures(i, &codes);
                    values.push((*w, score));
                    max_then = max_then.max(max);
                    relation = relation.or(r);
                    for code in codes {
                        if !previous_codes.contains(&code) {
                            previous_codes.push(code);
                        }
                    }
                }
                Earlier::NotComparable(r) => apart = Some(r),
                Earlier::Absent => {}
            }
        }
        match (combine(basis, &values)?, apart) {
            (Some(then), _) => comparisons.push(Comparison {
                code: c.code.clone(),
                title: c.title.clone(),
                max_then,
                max_now: c.max_score,
                then,
                now: figures(&now, std::slice::from_ref(&c.code)).0,
                previous_codes,
                relation,
            }),
            (None, Some(relation)) => not_comparable.push(NotComparable {
                code: c.code.clone(),
                title: c.title.clone(),
                relation,
            }),
            (None, None) => {}
        }
    }
    Ok((
        now,
        previous_index,
        previous_year,
        comparisons,
        not_comparable,
    ))
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
