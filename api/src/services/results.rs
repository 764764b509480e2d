//! What the district exists to produce: each unit's index for a year with its rank among
//! its siblings and the change since last year, the ranking of a district (or of any
//! subtree), the criteria that lose most points, comparisons across years, and the
//! publication that makes results visible to the units.
//!
//! Everything is read from the totals stored at finalization, one aggregate query per
//! request: a district's ranking costs the same in a country of 10,000 communes.

use super::audit::{self, Change};
use super::frameworks::{self, LoadedFramework};
use super::units::{find_unit, unit_ref};
use super::visibility::is_published;
use super::{now, sql};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::cache::ReadCache;
use crate::error::{ApiError, ApiResult};
use crate::scoring::framework::compare_codes;
use crate::scoring::ranking::{Summary, rank_by_index, rank_change, summarize};
use crate::scoring::{from_hundredths, round2};
use crate::state::AppState;
use entity::status::{AppraisalStatus, SelfAssessmentStatus};
use entity::{assessment_entry, publication, unit};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Set, SqlErr, Value,
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Which units a ranking covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Depth {
    /// The parent's direct children (a district's communes and towns).
    #[default]
    Children,
    /// Every commune, town and ward below the parent (a province, or the country).
    All,
}

/// Kinds that are assessed at the lowest level, ranked with `depth=all`.
pub const BASE_KINDS: [&str; 3] = ["commune", "town", "ward"];

/// One unit's row of a year's results, read in one query with the previous year's.
#[derive(Clone, Debug, FromQueryResult)]
pub struct ResultRow {
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_code: String,
    pub unit_kind: String,
    pub unit_path: String,
    pub parent_id: Option<i64>,
    pub self_assessment_id: Option<i64>,
    pub appraisal_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub appraisal_status: Option<String>,
    pub self_assessment_status: Option<String>,
    pub index_x100: Option<i64>,
    pub self_total_x100: Option<i64>,
    pub appraised_total_x100: Option<i64>,
    pub bonus_x100: Option<i64>,
    pub deduction_total_x100: Option<i64>,
    pub rating_band: Option<String>,
    pub previous_index_x100: Option<i64>,
    /// The scope unit (the ranking's parent), repeated on each row: its path, name, and
    /// whether the year's results are published for it.
    pub scope_path: Option<String>,
    pub scope_name: Option<String>,
    pub scope_published: Option<bool>,
}
impl ResultRow {
    pub fn is_ranked(&self) -> bool {
        self.appraisal_status.as_deref() == Some(AppraisalStatus::Finalized.as_str())
            && self.index_x100.is_some()
    }

    /// Where an unranked unit stands: `not_started`, a self-assessment status, or an
    /// appraisal status.
    pub fn progress(&self) -> String {
        match (&self.appraisal_status, &self.self_assessment_status) {
            (Some(a), Some(s)) if s == SelfAssessmentStatus::Returned.as_str() => {
                format!("{a} (returned)")
            }
            (Some(a), _) => a.clone(),
            (None, Some(s)) => s.clone(),
            (None, None) => "not_started".to_string(),
        }
    }
}

/// A ranked unit.
#[derive(Clone, Debug)]
pub struct Ranked {
    pub rank: u32,
    pub row: ResultRow,
    pub previous_rank: Option<u32>,
}

impl Ranked {
    pub fn index(&self) -> Decimal {
        from_hundredths(self.row.index_x100.unwrap_or_default())
    }

    pub fn previous_index(&self) -> Option<Decimal> {
        self.row.previous_index_x100.map(from_hundredths)
    }

    pub fn rank_change(&self) -> Option<i64> {
        rank_change(self.previous_rank, Some(self.rank))
    }

    pub fn index_change(&self) -> Option<Decimal> {
        self.previous_index().map(|p| self.index() - p)
    }
}

/// The unit a ranking is made under.
#[derive(Clone, Debug)]
pub struct ParentRef {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub published: bool,
}

#[derive(Clone, Debug)]
pub struct Ranking {
    pub parent: Option<ParentRef>,
    pub year: i32,
    pub depth: Depth,
    pub published: bool,
    pub ranked: Vec<Ranked>,
    pub unranked: Vec<ResultRow>,
    pub summary: Option<Summary>,
    /// (band, count) in the order the bands were met, highest index first.
    pub bands: Vec<(String, usize)>,
}

/// Which units a query of results covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Scope {
    /// The children of a unit (a district's communes).
    Children(i64),
    /// Every commune, town and ward below a unit.
    Subtree(i64),
    /// Every commune, town and ward of the country.
    Country,
    /// A unit and its siblings under the same parent.
    SiblingsOf(i64),
}

/// A publication covers the unit at `path` (and everything below it) when it was made for
/// a unit on that path (`/1/5/23/`).
const PUBLISHED: &str = "EXISTS (SELECT 1 FROM publications pub WHERE pub.year = $1 \
     AND {path} LIKE '%/' || pub.parent_unit_id || '/%')";

/// `column` lies under the unit whose path is the SQL expression `prefix` (the unit itself
/// included). A range rather than `LIKE prefix || '%'`, which no index serves when the
/// prefix is not a constant: paths hold only digits and '/', so every path under the prefix
/// sorts before `prefix || '~'`, in byte order ("C" on PostgreSQL, SQLite's default; see
/// migration 5).
fn under_path(backend: sea_orm::DbBackend, column: &str, prefix: &str) -> String {
    let collate = if backend == sea_orm::DbBackend::Postgres {
        " COLLATE \"C\""
    } else {
        ""
    };
    format!("({column}{collate} >= {prefix} AND {column}{collate} < ({prefix} || '~'))")
}

/// The year's results (and the previous year's index) of the units in `scope`, with the
/// scope unit's path, name and publication, in one query: the whole of a district's
/// ranking is one round trip.
async fn result_rows<C: ConnectionTrait>(
    conn: &C,
    scope: Scope,
    year: i32,
) -> ApiResult<Vec<ResultRow>> {
    let mut values: Vec<Value> = vec![year.into(), (year - 1).into()];
    let base = "u.kind IN ('commune', 'town', 'ward')";
    let filter = match scope {
        Scope::Children(id) => {
            values.push(id.into());
            "u.parent_id = $3".to_string()
        }
        Scope::Subtree(id) => {
            values.push(id.into());
            let under = under_path(
                conn.get_database_backend(),
                "u.path",
                "(SELECT path FROM units WHERE id = $3)",
            );
            format!("{under} AND u.id <> $3 AND {base}")
        }
        Scope::Country => base.to_string(),
        Scope::SiblingsOf(id) => {
            values.push(id.into());
            "u.parent_id = (SELECT parent_id FROM units WHERE id = $3)".to_string()
        }
    };
    // The scope unit: the ranking's parent, or the parent of the unit whose index it is.
    let scope_unit = match scope {
        Scope::Children(_) | Scope::Subtree(_) => Some("$3"),
        Scope::SiblingsOf(_) => Some("(SELECT parent_id FROM units WHERE id = $3)"),
        Scope::Country => None,
    };
    let scope_columns = match scope_unit {
        Some(id) => format!(
            "(SELECT path FROM units WHERE id = {id}) AS scope_path, \
             (SELECT name FROM units WHERE id = {id}) AS scope_name, \
             {} AS scope_published",
            PUBLISHED.replace(
                "{path}",
                &format!("(SELECT path FROM units WHERE id = {id})")
            )
        ),
        None => "NULL AS scope_path, NULL AS scope_name, NULL AS scope_published".to_string(),
    };
    let active = if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        "1"
    } else {
        "TRUE"
    };
    // A unit has at most one self-assessment (so one appraisal) per year.
    let text = format!(
        "SELECT u.id AS unit_id, u.name AS unit_name, u.code AS unit_code, u.kind AS unit_kind, \
                u.path AS unit_path, u.parent_id AS parent_id, \
                s.id AS self_assessment_id, a.id AS appraisal_id, a.framework_id AS framework_id, \
                a.status AS appraisal_status, s.status AS self_assessment_status, \
                a.index_x100, a.self_total_x100, a.appraised_total_x100, a.bonus_x100, \
                a.deduction_total_x100, a.rating_band, \
                p.index_x100 AS previous_index_x100, {scope_columns} \
         FROM units u \
         LEFT JOIN self_assessments s ON s.unit_id = u.id AND s.year = $1 \
         LEFT JOIN appraisals a ON a.self_assessment_id = s.id \
         LEFT JOIN appraisals p ON p.unit_id = u.id AND p.year = $2 AND p.status = 'finalized' \
         WHERE u.active = {active} AND {filter} \
         ORDER BY u.name, u.id"
    );
    Ok(ResultRow::find_by_statement(sql(conn, &text, values))
        .all(conn)
        .await?)
}

/// Rankings and unit indices read recently: they are read far more often than they
/// change. Every write request clears them when it ends; another replica's writes show
/// here within `PARINDEX_RESULTS_CACHE_MS` (1 s by default; 0 turns the cache off).
/// Access is checked on every request, after the lookup, never cached.
pub struct ResultsCache {
    rows: ReadCache<(Scope, i32), Vec<ResultRow>>,
    indices: ReadCache<(i64, i32), IndexLookup>,
}

impl ResultsCache {
    pub fn new(ttl: std::time::Duration) -> Self {
        ResultsCache {
            rows: ReadCache::new(ttl),
            indices: ReadCache::new(ttl),
        }
    }

    /// Forgets everything read so far (after every write request).
    pub fn invalidate(&self) {
        self.rows.invalidate();
        self.indices.invalidate();
    }
}

/// `result_rows`, through the cache.
async fn cached_rows(state: &AppState, scope: Scope, year: i32) -> ApiResult<Arc<Vec<ResultRow>>> {
    state
        .results
        .rows
        .get_or_load((scope, year), result_rows(&state.db, scope, year))
        .await
}

/// Ranks finalized units by index (ties share a rank: 1, 2, 2, 4) and gives each its
/// rank last year among the same units.
pub fn rank_rows(rows: Vec<ResultRow>) -> (Vec<Ranked>, Vec<ResultRow>) {
    let previous: HashMap<i64, u32> = rank_by_index(
        rows.iter()
            .filter(|r| r.previous_index_x100.is_some())
            .map(|r| (r.unit_id, r.previous_index_x100.unwrap_or_default()))
            .collect(),
        |(_, idx)| Decimal::from(*idx),
    )
    .into_iter()
    .map(|(rank, (id, _))| (id, rank))
    .collect();
    let (ranked, unranked): (Vec<ResultRow>, Vec<ResultRow>) =
        rows.into_iter().partition(ResultRow::is_ranked);
    let ranked = rank_by_index(ranked, |r| Decimal::from(r.index_x100.unwrap_or_default()))
        .into_iter()
        .map(|(rank, row)| Ranked {
            rank,
            previous_rank: previous.get(&row.unit_id).copied(),
            row,
        })
        .collect();
    (ranked, unranked)
}

/// The ranking of the units under `parent` (all communes of the country when `None`:
/// admins only). One query in the usual case: the rows carry the parent's path, name and
/// publication.
pub async fn ranking(
    state: &AppState,
    actor: &Principal,
    parent_id: Option<i64>,
    year: i32,
    depth: Depth,
) -> ApiResult<Ranking> {
    let db = &state.db;
    let scope = match (parent_id, depth) {
        (Some(id), Depth::Children) => Scope::Children(id),
        (Some(id), Depth::All) => Scope::Subtree(id),
        (None, _) => {
            crate::auth::policy::require_admin(actor).map_err(|_| {
                ApiError::forbidden(
                    "only an admin may rank the whole country; name a parent_unit_id",
                )
            })?;
            Scope::Country
        }
    };
    let rows = cached_rows(state, scope, year).await?;
    let parent = match (parent_id, rows.first()) {
        (None, _) => None,
        (Some(id), Some(row)) => Some(ParentRef {
            id,
            name: row.scope_name.clone().unwrap_or_default(),
            path: row.scope_path.clone().unwrap_or_default(),
            published: row.scope_published.unwrap_or(false),
        }),
        // No units under it: read the parent itself (404 when it does not exist).
        (Some(id), None) => {
            let u = find_unit(db, id).await?;
            let published = is_published(db, &u, year).await?;
            Some(ParentRef {
                id,
                name: u.name,
                path: u.path,
                published,
            })
        }
    };
    if let Some(p) = &parent {
        let unit = crate::auth::UnitRef {
            id: p.id,
            path: p.path.clone(),
        };
        authorize(
            actor,
            Action::ReadRanking {
                published: p.published,
            },
            &unit,
        )?;
    }
    let (ranked, unranked) = rank_rows(rows.as_ref().clone());
    let indices: Vec<Decimal> = ranked.iter().map(Ranked::index).collect();
    let mut bands: Vec<(String, usize)> = Vec::new();
    for r in &ranked {
        if let Some(b) = &r.row.rating_band {
            match bands.iter_mut().find(|(label, _)| label == b) {
                Some((_, n)) => *n += 1,
                None => bands.push((b.clone(), 1)),
            }
        }
    }
    Ok(Ranking {
        published: parent.as_ref().is_some_and(|p| p.published),
        parent,
        year,
        depth,
        summary: summarize(&indices),
        ranked,
        unranked,
        bands,
    })
}

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
    pub index: Decimal,
    pub rating_band: Option<String>,
    pub deduction_total: Decimal,
    pub rank: u32,
    pub ranked_units: usize,
    pub previous: Option<(i32, Decimal, Option<u32>)>,
    pub fields: Vec<FieldTotal>,
    pub deductions: Vec<Deduction>,
    /// Final and self scores by code, for exports and comparisons.
    pub scores: BTreeMap<String, (Option<Decimal>, Decimal)>,
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
        reason: String,
    },
}

/// A unit's finalized results for a year (through the cache); 404 when there are none.
pub async fn unit_index(
    state: &AppState,
    actor: &Principal,
    unit_id: i64,
    year: i32,
) -> ApiResult<Arc<UnitIndex>> {
    let lookup = state
        .results
        .indices
        .get_or_load((unit_id, year), lookup_index(state, unit_id, year))
        .await?;
    match lookup.as_ref() {
        IndexLookup::Found(index) => {
            let unit = crate::auth::UnitRef {
                id: index.unit_id,
                path: index.unit_path.clone(),
            };
            authorize(
                actor,
                Action::ReadResults {
                    published: index.published,
                },
                &unit,
            )?;
            Ok(index.clone())
        }
        IndexLookup::NotRanked {
            unit,
            published,
            reason,
        } => {
            authorize(
                actor,
                Action::ReadResults {
                    published: *published,
                },
                unit,
            )?;
            Err(ApiError::not_found(reason.clone()))
        }
    }
}

/// Reads a unit's results: its row and its siblings' in one query, then its entries.
async fn lookup_index(state: &AppState, unit_id: i64, year: i32) -> ApiResult<IndexLookup> {
    let db = &state.db;
    let rows = result_rows(db, Scope::SiblingsOf(unit_id), year).await?;
    let Some(me) = rows.iter().find(|r| r.unit_id == unit_id).cloned() else {
        // Not among active units with a parent (404 when it does not exist at all).
        let u = find_unit(db, unit_id).await?;
        return Ok(IndexLookup::NotRanked {
            published: is_published(db, &u, year).await?,
            reason: format!(
                "{} is not ranked among siblings (inactive, or no parent unit)",
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
        return Ok(IndexLookup::NotRanked {
            unit: crate::auth::UnitRef {
                id: me.unit_id,
                path: me.unit_path.clone(),
            },
            published,
            reason: format!("{} has no finalized appraisal for {year}", me.unit_name),
        });
    };
    let appraisal_id = me.row.appraisal_id.unwrap_or_default();
    let framework_id = me.row.framework_id.unwrap_or_default();
    let self_assessment_id = me.row.self_assessment_id.unwrap_or_default();
    // A framework with a finalized appraisal is in use, so immutable: built once.
    let framework = state.frameworks.in_use(db, framework_id).await?;
    // Only the scores and the comment: inputs, explanations and evidence are the bulk of an
    // entry and an index does not show them.
    #[derive(FromQueryResult)]
    struct EntryScores {
        criterion_code: String,
        self_score_x100: Option<i64>,
        final_score_x100: Option<i64>,
        deduction_x100: Option<i64>,
        comment: Option<String>,
    }
    use assessment_entry::Column as E;
    let entries = assessment_entry::Entity::find()
        .select_only()
        .columns([
            E::CriterionCode,
            E::SelfScoreX100,
            E::FinalScoreX100,
            E::DeductionX100,
            E::Comment,
        ])
        .filter(E::SelfAssessmentId.eq(self_assessment_id))
        .into_model::<EntryScores>()
        .all(db)
        .await?;
    let by_code: HashMap<&str, &EntryScores> = entries
        .iter()
        .map(|e| (e.criterion_code.as_str(), e))
        .collect();
    let mut scores = BTreeMap::new();
    for leaf in framework.tree.leaves() {
        let e = by_code.get(leaf.code.as_str());
        let final_score = e
            .and_then(|e| e.final_score_x100)
            .map(from_hundredths)
            .unwrap_or_default();
        let self_score = e.and_then(|e| e.self_score_x100).map(from_hundredths);
        scores.insert(leaf.code.clone(), (self_score, final_score));
    }
    let fields = framework
        .tree
        .fields()
        .map(|f| {
            let prefix = format!("{}.", f.code);
            let within = |code: &str| code == f.code || code.starts_with(&prefix);
            let (self_score, appraised) = scores.iter().filter(|(code, _)| within(code)).fold(
                (Decimal::ZERO, Decimal::ZERO),
                |(s, a), (_, (self_score, fin))| (s + self_score.unwrap_or_default(), a + fin),
            );
            FieldTotal {
                code: f.code.clone(),
                title: f.title.clone(),
                max: f.max_score,
                self_score: round2(self_score),
                appraised: round2(appraised),
            }
        })
        .collect();
    let mut deductions: Vec<Deduction> = framework
        .tree
        .leaves()
        .filter_map(|leaf| {
            let e = by_code.get(leaf.code.as_str())?;
            let deduction = from_hundredths(e.deduction_x100?);
            (deduction > Decimal::ZERO).then(|| Deduction {
                code: leaf.code.clone(),
                title: leaf.title.clone(),
                max: leaf.max_score,
                self_score: e.self_score_x100.map(from_hundredths),
                appraised: e.final_score_x100.map(from_hundredths).unwrap_or_default(),
                deduction,
                comment: e.comment.clone(),
            })
        })
        .collect();
    deductions.sort_by(|a, b| compare_codes(&a.code, &b.code));
    let previous = me
        .previous_index()
        .map(|idx| (year - 1, idx, me.previous_rank));
    Ok(IndexLookup::Found(Arc::new(UnitIndex {
        year,
        appraisal_id,
        self_total: from_hundredths(me.row.self_total_x100.unwrap_or_default()),
        appraised_total: from_hundredths(me.row.appraised_total_x100.unwrap_or_default()),
        bonus: from_hundredths(me.row.bonus_x100.unwrap_or_default()),
        index: me.index(),
        rating_band: me.row.rating_band.clone(),
        deduction_total: from_hundredths(me.row.deduction_total_x100.unwrap_or_default()),
        rank: me.rank,
        ranked_units: ranked.len(),
        previous,
        fields,
        deductions,
        scores,
        framework,
        unit_id: me.row.unit_id,
        unit_name: me.row.unit_name.clone(),
        unit_path,
        published,
    })))
}

/// A criterion across the units of a ranking.
#[derive(Clone, Debug, FromQueryResult)]
pub struct CriterionLossRow {
    pub criterion_code: String,
    pub units_appraised: i64,
    pub units_losing: i64,
    pub total_deduction_x100: i64,
}

#[derive(Clone, Debug)]
pub struct CriterionLoss {
    pub code: String,
    pub title: String,
    pub max: Option<Decimal>,
    pub units_appraised: i64,
    pub units_losing: i64,
    pub total_deduction: Decimal,
    pub mean_deduction: Decimal,
}

/// Per criterion, across the finalized units under `parent`: how many lost points, and
/// the total and mean deduction; most points lost first.
pub async fn criteria_losses(
    state: &AppState,
    actor: &Principal,
    parent_id: i64,
    year: i32,
    depth: Depth,
) -> ApiResult<(unit::Model, Vec<CriterionLoss>)> {
    let db = &state.db;
    let parent = find_unit(db, parent_id).await?;
    let published = is_published(db, &parent, year).await?;
    authorize(actor, Action::ReadRanking { published }, &unit_ref(&parent))?;
    let (scope, value): (&str, Value) = match depth {
        Depth::Children => ("u.parent_id = $2", parent.id.into()),
        Depth::All => (
            &*format!(
                "{} AND u.kind IN ('commune', 'town', 'ward')",
                under_path(db.get_database_backend(), "u.path", "$2")
            ),
            parent.path.clone().into(),
        ),
    };
    let text = format!(
        "SELECT e.criterion_code, COUNT(*) AS units_appraised, \
                CAST(SUM(CASE WHEN e.deduction_x100 > 0 THEN 1 ELSE 0 END) AS BIGINT) AS units_losing, \
                CAST(SUM(e.deduction_x100) AS BIGINT) AS total_deduction_x100 \
         FROM appraisals a \
         JOIN units u ON u.id = a.unit_id \
         JOIN assessment_entries e ON e.self_assessment_id = a.self_assessment_id \
         WHERE a.year = $1 AND a.status = 'finalized' AND e.deduction_x100 IS NOT NULL AND {scope} \
         GROUP BY e.criterion_code"
    );
    let rows = CriterionLossRow::find_by_statement(sql(db, &text, vec![year.into(), value]))
        .all(db)
        .await?;
    // Titles and maxima from the frameworks used that year under the parent.
    let framework_ids: Vec<i64> = {
        #[derive(FromQueryResult)]
        struct Id {
            framework_id: i64,
        }
        let text = format!(
            "SELECT DISTINCT a.framework_id FROM appraisals a JOIN units u ON u.id = a.unit_id \
             WHERE a.year = $1 AND a.status = 'finalized' AND {scope}"
        );
        Id::find_by_statement(sql(
            db,
            &text,
            vec![
                year.into(),
                match depth {
                    Depth::Children => parent.id.into(),
                    Depth::All => parent.path.clone().into(),
                },
            ],
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.framework_id)
        .collect()
    };
    let mut titles: HashMap<String, (String, Decimal)> = HashMap::new();
    for id in framework_ids {
        // In use by finalized appraisals, so unchangeable: built once per process.
        let f = state.frameworks.in_use(db, id).await?;
        for c in f.tree.criteria() {
            titles
                .entry(c.code.clone())
                .or_insert_with(|| (c.title.clone(), c.max_score));
        }
    }
    let mut losses: Vec<CriterionLoss> = rows
        .into_iter()
        .map(|r| {
            let total = from_hundredths(r.total_deduction_x100);
            let (title, max) = titles
                .get(&r.criterion_code)
                .map(|(t, m)| (t.clone(), Some(*m)))
                .unwrap_or_default();
            CriterionLoss {
                mean_deduction: if r.units_appraised > 0 {
                    round2(total / Decimal::from(r.units_appraised))
                } else {
                    Decimal::ZERO
                },
                code: r.criterion_code,
                title,
                max,
                units_appraised: r.units_appraised,
                units_losing: r.units_losing,
                total_deduction: total,
            }
        })
        .filter(|l| l.units_losing > 0)
        .collect();
    losses.sort_by(|a, b| {
        b.total_deduction
            .cmp(&a.total_deduction)
            .then_with(|| compare_codes(&a.code, &b.code))
    });
    Ok((parent, losses))
}

/// One criterion's score in two years.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub code: String,
    pub title: String,
    pub max_then: Decimal,
    pub max_now: Decimal,
    pub then: Decimal,
    pub now: Decimal,
}

/// The unit's scores per criterion in `year` against `previous_year`, for the criteria
/// whose codes exist in both frameworks (subtotals for parents).
pub async fn compare_years(
    state: &AppState,
    actor: &Principal,
    unit_id: i64,
    year: i32,
    previous_year: i32,
) -> ApiResult<(Arc<UnitIndex>, Arc<UnitIndex>, Vec<Comparison>)> {
    let now = unit_index(state, actor, unit_id, year).await?;
    let then = unit_index(state, actor, unit_id, previous_year).await?;
    let subtotal = |index: &UnitIndex, code: &str| -> Decimal {
        let prefix = format!("{code}.");
        index
            .scores
            .iter()
            .filter(|(c, _)| c.as_str() == code || c.starts_with(&prefix))
            .map(|(_, (_, fin))| *fin)
            .sum()
    };
    let comparisons = now
        .framework
        .tree
        .criteria()
        .iter()
        .filter_map(|c| {
            let old = then.framework.tree.get(&c.code)?;
            Some(Comparison {
                code: c.code.clone(),
                title: c.title.clone(),
                max_then: old.max_score,
                max_now: c.max_score,
                then: round2(subtotal(&then, &c.code)),
                now: round2(subtotal(&now, &c.code)),
            })
        })
        .collect();
    Ok((now, then, comparisons))
}

/// Publishes a year's results of the units under `parent_unit_id`: their officers and
/// viewers may then read their indices and the ranking.
pub async fn publish(
    db: &DatabaseConnection,
    actor: &Principal,
    parent_unit_id: i64,
    year: i32,
) -> ApiResult<publication::Model> {
    let txn = crate::db::begin_write(db).await?;
    let parent = find_unit(&txn, parent_unit_id).await?;
    authorize(actor, Action::Publish, &unit_ref(&parent))?;
    let rows = result_rows(&txn, Scope::Children(parent.id), year).await?;
    if !rows.iter().any(ResultRow::is_ranked) {
        return Err(ApiError::conflict(
            "nothing_to_publish",
            format!(
                "no unit under {} has a finalized appraisal for {year}",
                parent.name
            ),
        ));
    }
    let created = publication::ActiveModel {
        parent_unit_id: Set(parent.id),
        year: Set(year),
        published_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        published_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "already_published",
            format!(
                "the {year} results of {} are already published",
                parent.name
            ),
        ),
        _ => e.into(),
    })?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "publication",
            entity_id: created.id,
            action: "publish",
            unit_id: Some(parent.id),
            results_year: None,
            old: None,
            new: Some(json!({"parent_unit_id": parent.id, "year": year})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn list_publications(
    db: &DatabaseConnection,
    actor: &Principal,
    parent_unit_id: Option<i64>,
    year: Option<i32>,
) -> ApiResult<Vec<publication::Model>> {
    let mut query = publication::Entity::find();
    if let Some(p) = parent_unit_id {
        query = query.filter(publication::Column::ParentUnitId.eq(p));
    }
    if let Some(y) = year {
        query = query.filter(publication::Column::Year.eq(y));
    }
    let all = query.all(db).await?;
    // Publications are public to anyone who may read the unit they concern.
    let mut visible = Vec::new();
    for p in all {
        let u = find_unit(db, p.parent_unit_id).await?;
        if crate::auth::policy::allows(actor, Action::ReadUnit, &unit_ref(&u)) {
            visible.push(p);
        }
    }
    Ok(visible)
}

/// The rating bands and bonus maximum of the framework the ranked units were scored on.
pub async fn bands_of_year(
    db: &DatabaseConnection,
    ranking: &Ranking,
) -> ApiResult<(Vec<crate::scoring::RatingBand>, Decimal)> {
    match ranking.ranked.iter().find_map(|r| r.row.framework_id) {
        Some(id) => {
            let f = frameworks::load(db, id).await?;
            Ok((f.bands.clone(), f.bonus_max()))
        }
        None => Ok((Vec::new(), Decimal::ZERO)),
    }
}
