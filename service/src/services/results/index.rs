//! A unit's index for a year: its totals, rank among its siblings and last year's, the
//! field subtotals and deductions (from `scoring::totals`, the one computation of them),
//! and comparisons across years.

use super::ResultsReader;
use super::current::index_rows;
use super::rows::rank_rows;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Text, text};
use crate::scoring::framework::compare_codes;
use crate::scoring::ranking::rank_change;
use crate::scoring::totals::Totals;
use crate::scoring::{LeafScore, from_hundredths, round2, totals};
use crate::services::frameworks::LoadedFramework;
use crate::services::units::unit_ref;
use crate::services::visibility::{self, Visible};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// A criterion's subtotal for a unit.
#[derive(Clone, Debug)]
pub struct FieldTotal {
    pub code: String,
    pub title: String,
    pub max: Decimal,
    pub self_score: Decimal,
    pub appraised: Decimal,
}

/// A criterion that lost points.
#[derive(Clone, Debug)]
pub struct Deduction {
    pub code: String,
    pub title: String,
    pub max: Decimal,
    pub self_score: Option<Decimal>,
    pub appraised: Decimal,
    pub deduction: Decimal,
    pub comment: Option<String>,
    /// It lost points the year before too (through the mapping between the two years'
    /// frameworks where one is recorded, else by code): a weakness that persists.
    pub repeat: bool,
}

/// A unit's index for a year, with its rank and last year's.
#[derive(Clone, Debug)]
pub struct UnitIndex {
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_path: String,
    /// Whether the year's results are published for the unit.
    pub published: bool,
    pub year: i32,
    pub appraisal_id: i64,
    pub framework: Arc<LoadedFramework>,
    pub self_total: Decimal,
    pub appraised_total: Decimal,
    pub bonus: Decimal,
    /// Penalty points (điểm trừ) subtracted after the bonus.
    pub penalty_total: Decimal,
    /// The index's components (a framework with components only).
    pub components: Vec<crate::scoring::composition::ComponentFigure>,
    pub index: Decimal,
    pub rating_band: Option<String>,
    pub deduction_total: Decimal,
    pub rank: u32,
    pub ranked_units: usize,
    pub previous: Option<(i32, Decimal, Option<u32>)>,
    pub fields: Vec<FieldTotal>,
    pub deductions: Vec<Deduction>,
    /// The old units merged into this one, on the index of the merge's year.
    pub predecessors: Vec<super::lineage::Predecessor>,
    /// The finalized scores summed up the tree (`scoring::totals`), every criterion's
    /// subtotal by code: for fields, exports and comparisons.
    pub totals: Totals,
}

impl UnitIndex {
    pub fn index_change(&self) -> Option<Decimal> {
        self.previous.as_ref().map(|(_, idx, _)| self.index - idx)
    }

    pub fn rank_change(&self) -> Option<i64> {
        self.previous
            .as_ref()
            .and_then(|(_, _, rank)| rank_change(*rank, Some(self.rank)))
    }
}

/// What a unit's index request finds, before access is checked (so it can be cached).
#[derive(Clone, Debug)]
pub enum IndexLookup {
    Found(Arc<UnitIndex>),
    /// The unit exists but has no rank for the year; `reason` says why.
    NotRanked {
        unit: crate::auth::UnitRef,
        published: bool,
        reason: Text,
    },
}

/// A unit's finalized results for a year (through the cache); 404 when there are none.
pub async fn unit_index(
    reader: &ResultsReader,
    actor: &Principal,
    unit_id: i64,
    year: i32,
) -> ApiResult<Visible<Arc<UnitIndex>>> {
    let lookup = reader
        .cache
        .indices
        .get_or_load((unit_id, year), lookup_index(reader, unit_id, year))
        .await?;
    match lookup.as_ref() {
        IndexLookup::Found(index) => {
            let unit = crate::auth::UnitRef {
                id: index.unit_id,
                path: index.unit_path.clone(),
            };
            visibility::published_results(actor, &unit, index.published, index.clone())
        }
        IndexLookup::NotRanked {
            unit,
            published,
            reason,
        } => {
            visibility::published_results(actor, unit, *published, ())?;
            Err(ApiError::not_found(reason.clone()))
        }
    }
}

/// The scores and the comment of a finalized entry: inputs, explanations and evidence are
/// the bulk of an entry and an index does not show them.
struct EntryScores {
    self_score_x100: Option<i64>,
    self_not_applicable: bool,
    final_score_x100: Option<i64>,
    deduction_x100: Option<i64>,
    comment: Option<String>,
}

/// The entries' scores as the index query reads them (`current::index_rows`): a JSON array
/// of `[code, self, not_applicable, final, deduction, comment]` (`not_applicable` is a
/// boolean on PostgreSQL, 0 or 1 on SQLite); no entries at all is `null` or `[]`.
fn entry_scores(json: Option<&str>) -> ApiResult<HashMap<String, EntryScores>> {
    let Some(json) = json else {
        return Ok(HashMap::new());
    };
    let rows: Vec<serde_json::Value> = serde_json::from_str(json).map_err(ApiError::internal)?;
    let int = |v: &serde_json::Value| v.as_i64();
    rows.iter()
        .map(|row| {
            let code = row[0].as_str().ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("an entry without a criterion code"))
            })?;
            Ok((
                code.to_string(),
                EntryScores {
                    self_score_x100: int(&row[1]),
                    self_not_applicable: row[2].as_bool().unwrap_or(row[2].as_i64() == Some(1)),
                    final_score_x100: int(&row[3]),
                    deduction_x100: int(&row[4]),
                    comment: row[5].as_str().map(str::to_string),
                },
            ))
        })
        .collect()
}

/// The unit's self scores and the finalized scores summed up the tree by the one totals
/// computation: a not-applicable leaf counts on both sides as the framework's policy says.
fn index_totals(
    framework: &LoadedFramework,
    entries: &HashMap<String, EntryScores>,
) -> ApiResult<(Totals, Totals)> {
    let mut self_leaves = HashMap::new();
    let mut final_leaves = HashMap::new();
    for leaf in framework.tree.leaves() {
        let Some(e) = entries.get(&leaf.code) else {
            continue;
        };
        if e.self_not_applicable {
            self_leaves.insert(leaf.code.clone(), LeafScore::NotApplicable);
        } else if let Some(s) = e.self_score_x100 {
            self_leaves.insert(leaf.code.clone(), LeafScore::Scored(from_hundredths(s)));
        }
        // The final score already counts a not-applicable leaf as the policy says.
        if let Some(s) = e.final_score_x100 {
            final_leaves.insert(leaf.code.clone(), LeafScore::Scored(from_hundredths(s)));
        }
    }
    let sum =
        |leaves| totals(&framework.tree, leaves, framework.policy).map_err(ApiError::internal);
    Ok((sum(&self_leaves)?, sum(&final_leaves)?))
}

/// The leaves that lost points, in code order.
fn deductions_of(
    framework: &LoadedFramework,
    entries: &HashMap<String, EntryScores>,
) -> Vec<Deduction> {
    let mut deductions: Vec<Deduction> = framework
        .tree
        .leaves()
        .filter_map(|leaf| {
            let e = entries.get(&leaf.code)?;
            let deduction = from_hundredths(e.deduction_x100?);
            (deduction > Decimal::ZERO).then(|| Deduction {
                code: leaf.code.clone(),
                title: leaf.title.clone(),
                max: leaf.max_score,
                self_score: e.self_score_x100.map(from_hundredths),
                appraised: e.final_score_x100.map(from_hundredths).unwrap_or_default(),
                deduction,
                comment: e.comment.clone(),
                repeat: false,
            })
        })
        .collect();
    deductions.sort_by(|a, b| compare_codes(&a.code, &b.code));
    deductions
}

/// Marks the deductions whose criterion lost points in the unit's finalized appraisal of
/// the year before too: through the mapping from that year's framework when one is
/// recorded (a criterion without a predecessor is never a repeat), else by code.
async fn mark_repeat_losses(
    db: &sea_orm::DatabaseConnection,
    framework: &LoadedFramework,
    unit_id: i64,
    year: i32,
    deductions: &mut [Deduction],
) -> ApiResult<()> {
    use entity::{appraisal, assessment_entry};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if deductions.is_empty() {
        return Ok(());
    }
    let Some(before) = appraisal::Entity::find()
        .filter(appraisal::Column::UnitId.eq(unit_id))
        .filter(appraisal::Column::Year.eq(year - 1))
        .filter(appraisal::Column::Status.eq(entity::status::AppraisalStatus::Finalized))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let lost: std::collections::HashSet<String> = assessment_entry::Entity::find()
        .filter(assessment_entry::Column::SelfAssessmentId.eq(before.self_assessment_id))
        .filter(assessment_entry::Column::DeductionX100.gt(0))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.criterion_code)
        .collect();
    let rows = if before.framework_id == framework.model.id {
        Vec::new()
    } else {
        crate::services::mapping_rows::rows_between(db, framework.model.id, before.framework_id)
            .await?
    };
    for d in deductions.iter_mut() {
        d.repeat = crate::scoring::mapping::earlier_codes(&rows, &d.code)
            .iter()
            .any(|code| lost.contains(code));
    }
    Ok(())
}

/// Reads a unit's results: its row and its siblings' in one query, then its entries.
// Long by nature: the index is assembled from its one query's parts, field by field.
pub(super) async fn lookup_index(
    reader: &ResultsReader,
    unit_id: i64,
    year: i32,
) -> ApiResult<IndexLookup> {
    let db = &reader.db;
    let rows = index_rows(db, unit_id, year).await?;
    let merged = rows.iter().any(|r| r.merged);
    let entries_json = rows
        .iter()
        .find(|r| r.row.unit_id == unit_id)
        .and_then(|r| r.entries.clone());
    let rows: Vec<_> = rows.into_iter().map(|r| r.row).collect();
    let Some(me) = rows.iter().find(|r| r.unit_id == unit_id).cloned() else {
        // Not among active units with a parent (404 when it does not exist at all).
        let (u, published) = visibility::unit_with_publication(db, unit_id, year).await?;
        return Ok(IndexLookup::NotRanked {
            published,
            reason: text!(
                "{} is not ranked among siblings (inactive, or no parent unit)",
                "{} không được xếp hạng cùng các đơn vị cùng cấp (ngừng hoạt động hoặc không có đơn vị cấp trên)",
                u.name
            ),
            unit: unit_ref(&u),
        });
    };
    // Results are published for the units under the unit a publication names.
    let published = me.scope_published.unwrap_or(false);
    let unit_path = me.unit_path.clone();
    let (ranked, _) = rank_rows(rows);
    let Some(me) = ranked.iter().find(|r| r.row.unit_id == unit_id).cloned() else {
        if me.unranked == Some(true) && me.index_x100.is_some() {
            let missing: Vec<String> = me
                .components()
                .into_iter()
                .filter(|c| !c.has_data)
                .map(|c| c.name)
                .collect();
            let missing = missing.join(", ");
            return Ok(IndexLookup::NotRanked {
                unit: crate::auth::UnitRef {
                    id: me.unit_id,
                    path: me.unit_path.clone(),
                },
                published,
                reason: text!(
                    "{} is not ranked for {year}: it has no data for {missing}, and the framework leaves such units unranked",
                    "{} không được xếp hạng năm {year}: chưa có số liệu {missing}, bộ tiêu chí quy định không xếp hạng trường hợp này",
                    me.unit_name
                ),
            });
        }
        return Ok(IndexLookup::NotRanked {
            unit: crate::auth::UnitRef {
                id: me.unit_id,
                path: me.unit_path.clone(),
            },
            published,
            reason: text!(
                "{} has no finalized appraisal for {year}",
                "{} chưa có kết quả thẩm định đã chốt năm {year}",
                me.unit_name
            ),
        });
    };
    // A framework with a finalized appraisal is in use, so immutable: built once.
    let framework = reader
        .frameworks
        .in_use(db, me.row.framework_id.unwrap_or_default())
        .await?;
    let entries = entry_scores(entries_json.as_deref())?;
    let (self_totals, totals) = index_totals(&framework, &entries)?;
    let fields = framework
        .tree
        .fields()
        .map(|f| FieldTotal {
            code: f.code.clone(),
            title: f.title.clone(),
            max: f.max_score,
            self_score: round2(
                self_totals
                    .by_code
                    .get(&f.code)
                    .map(|t| t.score)
                    .unwrap_or_default(),
            ),
            appraised: round2(
                totals
                    .by_code
                    .get(&f.code)
                    .map(|t| t.score)
                    .unwrap_or_default(),
            ),
        })
        .collect();
    let mut deductions = deductions_of(&framework, &entries);
    mark_repeat_losses(db, &framework, unit_id, year, &mut deductions).await?;
    let predecessors = if merged {
        super::lineage::predecessors(db, unit_id, year).await?
    } else {
        Vec::new()
    };
    let previous = me
        .previous_index()
        .map(|idx| (year - 1, idx, me.previous_rank));
    let row = &me.row;
    Ok(IndexLookup::Found(Arc::new(UnitIndex {
        year,
        appraisal_id: row.appraisal_id.unwrap_or_default(),
        self_total: from_hundredths(row.self_total_x100.unwrap_or_default()),
        appraised_total: from_hundredths(row.appraised_total_x100.unwrap_or_default()),
        bonus: from_hundredths(row.bonus_x100.unwrap_or_default()),
        penalty_total: me.penalty_total(),
        components: row.components(),
        index: me.index(),
        rating_band: row.rating_band.clone(),
        deduction_total: from_hundredths(row.deduction_total_x100.unwrap_or_default()),
        rank: me.rank,
        ranked_units: ranked.len(),
        previous,
        fields,
        deductions,
        predecessors,
        totals,
        framework,
        unit_id: row.unit_id,
        unit_name: row.unit_name.clone(),
        unit_path,
        published,
    })))
}

#[cfg(test)]
mod tests {
    use super::entry_scores;

    #[test]
    fn entry_scores_read_both_databases_json() {
        // PostgreSQL's json_agg: booleans; SQLite's json_group_array: 0 and 1.
        let pg = r#"[["1.1", 100, false, 75, 25, "thiếu"], ["1.2", null, true, 50, 0, null]]"#;
        let lite = r#"[["1.1",100,0,75,25,"thiếu"],["1.2",null,1,50,0,null]]"#;
        for json in [pg, lite] {
            let e = entry_scores(Some(json)).unwrap();
            assert_eq!(e.len(), 2);
            let a = &e["1.1"];
            assert_eq!(
                (a.self_score_x100, a.self_not_applicable, a.final_score_x100),
                (Some(100), false, Some(75))
            );
            assert_eq!(a.deduction_x100, Some(25));
            assert_eq!(a.comment.as_deref(), Some("thiếu"));
            let b = &e["1.2"];
            assert_eq!((b.self_score_x100, b.self_not_applicable), (None, true));
            assert_eq!(b.comment, None);
        }
        // No entries: PostgreSQL's NULL, SQLite's empty array.
        assert!(entry_scores(None).unwrap().is_empty());
        assert!(entry_scores(Some("[]")).unwrap().is_empty());
        // Not what the query writes: an error, never a panic.
        assert!(entry_scores(Some("[[1]]")).is_err());
        assert!(entry_scores(Some("{")).is_err());
    }
}
