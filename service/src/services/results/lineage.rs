//! A merged unit's lineage in its results: the old units it came from, with what was last
//! published of each, and its criteria compared with theirs.
//!
//! Predecessors are listed on the index of the year the merge took effect (the merged
//! unit's first year): each old unit's last published index before that year, its rank and
//! how many units were ranked with it, read from the frozen publication that announced it.
//! The comparison sets each criterion of that first year against the predecessors'
//! scores in their last published year: `weighted`, the mean weighted by the weights given
//! at the merge (e.g. population; equal when none were given), or `best`, the highest.

use super::ResultsReader;
use super::index::{Comparison, UnitIndex, unit_index};
use super::publication::frozen_rows;
use super::rows::rank_rows;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, text};
use crate::scoring::round2;
use crate::services::merges::sources_in_year;
use crate::services::sql;
use crate::services::visibility::Visible;
use entity::{publication, unit};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult};
use std::sync::Arc;

/// What was last published of an old unit.
#[derive(Clone, Debug)]
pub struct LastPublished {
    pub year: i32,
    pub publication_id: i64,
    pub index: Decimal,
    pub rating_band: Option<String>,
    pub rank: u32,
    pub ranked_units: usize,
}

/// An old unit merged into this one.
#[derive(Clone, Debug)]
pub struct Predecessor {
    pub unit_id: i64,
    /// As last announced (or as the unit is named now, if it never was).
    pub code: String,
    pub name: String,
    pub weight: Decimal,
    pub last_published: Option<LastPublished>,
}

#[derive(FromQueryResult)]
struct LastRow {
    publication_id: i64,
}

/// The predecessors of `unit_id` whose merge took effect in `year`.
pub(super) async fn predecessors<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
    year: i32,
) -> ApiResult<Vec<Predecessor>> {
    let mut out = Vec::new();
    for source in sources_in_year(conn, unit_id, year).await? {
        let last = LastRow::find_by_statement(sql(
            conn,
            "SELECT p.id AS publication_id FROM publication_results pr \
             JOIN publications p ON p.id = pr.publication_id \
             WHERE pr.unit_id = $1 AND p.year < $2 AND p.superseded_by IS NULL \
               AND pr.index_x100 IS NOT NULL AND pr.appraisal_status = 'finalized' \
             ORDER BY p.year DESC, p.id LIMIT 1",
            vec![source.from_unit_id.into(), year.into()],
        ))
        .one(conn)
        .await?;
        let published = match last {
            Some(l) => {
                publication::Entity::find_by_id(l.publication_id)
                    .one(conn)
                    .await?
            }
            None => None,
        };
        let mut found = None;
        if let Some(p) = published {
            let (ranked, _) = rank_rows(frozen_rows(conn, &p).await?);
            let count = ranked.len();
            found = ranked
                .into_iter()
                .find(|r| r.row.unit_id == source.from_unit_id)
                .map(|r| {
                    (
                        r.row.unit_code.clone(),
                        r.row.unit_name.clone(),
                        LastPublished {
                            year: p.year,
                            publication_id: p.id,
                            index: r.index(),
                            rating_band: r.row.rating_band.clone(),
                            rank: r.rank,
                            ranked_units: count,
                        },
                    )
                });
        }
        let (code, name, last_published) = match found {
            Some((code, name, last)) => (code, name, Some(last)),
            None => {
                let u = unit::Entity::find_by_id(source.from_unit_id)
                    .one(conn)
                    .await?;
                let (code, name) = u.map(|u| (u.code, u.name)).unwrap_or_default();
                (code, name, None)
            }
        };
        out.push(Predecessor {
            unit_id: source.from_unit_id,
            code,
            name,
            weight: source.weight(),
            last_published,
        });
    }
    Ok(out)
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
