//! One query for a scope's results (every unit's row of a year, with last year's index and
//! the scope's publication), its cache, and the ranking of the rows.

use crate::cache::ReadCache;
use crate::error::ApiResult;
use crate::scoring::from_hundredths;
use crate::scoring::ranking::{rank_by_index, rank_change};
use crate::services::sql;
use entity::status::{AppraisalStatus, SelfAssessmentStatus};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};
use std::collections::HashMap;

/// Which units a ranking covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Depth {
    /// The parent's direct children (a district's communes and towns).
    #[default]
    Children,
    /// Every commune, town and ward below the parent (a province, or the country).
    All,
    /// The parent's agencies (sở, ban, ngành): ranked apart from its communes, wards and
    /// special zones, which `Children` lists together.
    Agencies,
}

/// Kinds that are assessed at the lowest level, ranked with `depth=all`.
pub const BASE_KINDS: [&str; 4] = ["commune", "town", "ward", "special_zone"];

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
    /// The penalty points stored with the appraisal (null in publications made before
    /// they were frozen: then derived, `penalty_of`).
    pub penalty_total_x100: Option<i64>,
    /// The components' figures (JSON, `ComponentFigure`s) of a framework with components.
    pub components: Option<String>,
    /// A component had no data and the framework leaves such units unranked.
    pub unranked: Option<bool>,
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
            && self.unranked != Some(true)
    }

    /// The components' figures (empty without components).
    pub fn components(&self) -> Vec<crate::scoring::composition::ComponentFigure> {
        self.components
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default()
    }

    /// Where an unranked unit stands in the year's workflow.
    pub fn standing(&self) -> Standing {
        let file = self.self_assessment_status.as_deref();
        let appraisal = self.appraisal_status.as_deref();
        if file == Some(SelfAssessmentStatus::Returned.as_str()) {
            return Standing::Returned;
        }
        match (appraisal, file) {
            (Some(a), _)
                if a == AppraisalStatus::Finalized.as_str() && self.unranked == Some(true) =>
            {
                Standing::MissingComponent
            }
            (Some(a), _) if a == AppraisalStatus::Pending.as_str() => Standing::Pending,
            (Some(_), _) => Standing::InProgress,
            (None, Some(f)) if f == SelfAssessmentStatus::Draft.as_str() => Standing::Draft,
            (None, Some(_)) => Standing::Submitted,
            (None, None) => Standing::NotStarted,
        }
    }
}

/// Where a unit without a finalized appraisal stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// No self-assessment opened.
    NotStarted,
    /// The unit is filling in its self-assessment.
    Draft,
    /// Submitted; no appraisal yet.
    Submitted,
    /// Returned to the unit for supplementation.
    Returned,
    /// Submitted; the council has not started.
    Pending,
    /// The council is appraising.
    InProgress,
    /// Finalized, but a component of the index has no data and the framework leaves such
    /// units unranked.
    MissingComponent,
}

impl Standing {
    /// The words the Vietnamese sheets print.
    pub fn words_vi(self) -> &'static str {
        match self {
            Standing::NotStarted => "chưa tự đánh giá",
            Standing::Draft => "đang tự đánh giá",
            Standing::Submitted => "đã nộp",
            Standing::Returned => "bị trả lại để bổ sung",
            Standing::Pending => "chờ thẩm định",
            Standing::InProgress => "đang thẩm định",
            Standing::MissingComponent => "thiếu số liệu thành phần, không xếp hạng",
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

/// Appraised total + bonus − index, in points (0 when a figure is missing).
pub fn penalty_of(
    appraised_x100: Option<i64>,
    bonus_x100: Option<i64>,
    index_x100: Option<i64>,
) -> Decimal {
    match (appraised_x100, bonus_x100, index_x100) {
        (Some(a), Some(b), Some(i)) => {
            from_hundredths(a.saturating_add(b).saturating_sub(i).max(0))
        }
        _ => Decimal::ZERO,
    }
}

impl Ranked {
    pub fn index(&self) -> Decimal {
        from_hundredths(self.row.index_x100.unwrap_or_default())
    }

    /// The penalty points the index lost: appraised total + bonus − index (exact: all
    /// three are stored to the hundredth, also in a publication's frozen rows).
    pub fn penalty_total(&self) -> Decimal {
        match self.row.penalty_total_x100 {
            Some(p) => from_hundredths(p),
            None => penalty_of(
                self.row.appraised_total_x100,
                self.row.bonus_x100,
                self.row.index_x100,
            ),
        }
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

/// Which units a query of results covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Scope {
    /// The children of a unit (a district's communes), agencies apart.
    Children(i64),
    /// The agencies directly under a unit (a province's sở, ban, ngành).
    Agencies(i64),
    /// Every commune, town and ward below a unit.
    Subtree(i64),
    /// Every commune, town and ward of the country.
    Country,
    /// A unit and its siblings under the same parent.
    SiblingsOf(i64),
}

pub(super) use crate::services::scope::path_under_sql as under_path;

/// SQL of the kinds assessed at the lowest level.
pub(super) const BASE_KINDS_SQL: &str = "u.kind IN ('commune', 'town', 'ward', 'special_zone')";

/// SQL: `u` is an agency. Agencies are ranked apart from every other kind.
pub(super) const AGENCY_SQL: &str = "u.kind = 'agency'";

/// The year's results (and the previous year's index) of the units in `scope` as they
/// stand, with the scope unit's path, name and publication, in one query: the whole of a
/// district's ranking is one round trip.
pub(super) async fn live_rows<C: ConnectionTrait>(
    conn: &C,
    scope: Scope,
    year: i32,
) -> ApiResult<Vec<ResultRow>> {
    let LiveSelect { text, values } = live_select(conn.get_database_backend(), scope, year, "");
    let text = format!("{text} ORDER BY u.name, u.id");
    Ok(ResultRow::find_by_statement(sql(conn, &text, values))
        .all(conn)
        .await?)
}

/// The SELECT of `live_rows` without its order, for composing (`current::result_rows`):
/// `$1` is the year, `$2` the year before, `$3` the scope's unit (but for the country);
/// `extra` adds columns (starting with a comma).
pub(super) struct LiveSelect {
    pub text: String,
    pub values: Vec<Value>,
}

pub(super) fn live_select(backend: DbBackend, scope: Scope, year: i32, extra: &str) -> LiveSelect {
    let mut values: Vec<Value> = vec![year.into(), (year - 1).into()];
    let base = BASE_KINDS_SQL;
    let filter = match scope {
        Scope::Children(id) => {
            values.push(id.into());
            format!("u.parent_id = $3 AND NOT {AGENCY_SQL}")
        }
        Scope::Agencies(id) => {
            values.push(id.into());
            format!("u.parent_id = $3 AND {AGENCY_SQL}")
        }
        Scope::Subtree(id) => {
            values.push(id.into());
            let under = under_path(backend, "u.path", "(SELECT path FROM units WHERE id = $3)");
            format!("{under} AND u.id <> $3 AND {base}")
        }
        Scope::Country => base.to_string(),
        // Of the unit's own group: an agency among agencies, a commune among the rest.
        Scope::SiblingsOf(id) => {
            values.push(id.into());
            format!(
                "u.parent_id = (SELECT parent_id FROM units WHERE id = $3) \
                 AND ({AGENCY_SQL}) = ((SELECT kind FROM units WHERE id = $3) = 'agency')"
            )
        }
    };
    // The scope unit: the ranking's parent, or the parent of the unit whose index it is.
    let scope_unit = match scope {
        Scope::Children(_) | Scope::Agencies(_) | Scope::Subtree(_) => Some("$3"),
        Scope::SiblingsOf(_) => Some("(SELECT parent_id FROM units WHERE id = $3)"),
        Scope::Country => None,
    };
    let scope_columns = match scope_unit {
        Some(id) => format!(
            "(SELECT path FROM units WHERE id = {id}) AS scope_path, \
             (SELECT name FROM units WHERE id = {id}) AS scope_name, \
             {} AS scope_published",
            crate::services::visibility::published_sql(id, "$1")
        ),
        None => "NULL AS scope_path, NULL AS scope_name, NULL AS scope_published".to_string(),
    };
    let active = if backend == DbBackend::Sqlite {
        "1"
    } else {
        "TRUE"
    };
    values.push(AppraisalStatus::Finalized.into());
    let finalized = format!("${}", values.len());
    // A unit has at most one self-assessment (so one appraisal) per year.
    let text = format!(
        "SELECT u.id AS unit_id, u.name AS unit_name, u.code AS unit_code, u.kind AS unit_kind, \
                u.path AS unit_path, u.parent_id AS parent_id, \
                s.id AS self_assessment_id, a.id AS appraisal_id, a.framework_id AS framework_id, \
                a.status AS appraisal_status, s.status AS self_assessment_status, \
                a.index_x100, a.self_total_x100, a.appraised_total_x100, a.bonus_x100, \
                a.deduction_total_x100, a.rating_band, \
                p.index_x100 AS previous_index_x100, a.penalty_total_x100, a.components, \
                a.unranked, {scope_columns}{extra} \
         FROM units u \
         LEFT JOIN self_assessments s ON s.unit_id = u.id AND s.year = $1 \
         LEFT JOIN appraisals a ON a.self_assessment_id = s.id \
         LEFT JOIN appraisals p ON p.unit_id = u.id AND p.year = $2 AND p.status = {finalized} \
         WHERE u.active = {active} AND {filter}"
    );
    LiveSelect { text, values }
}

/// Rankings and unit indices read recently: they are read far more often than they
/// change. Every committed write makes them stale, another replica's as soon as its notice
/// arrives (`changes`); `PARINDEX_RESULTS_CACHE_MS` bounds an entry's life when notices
/// cannot be heard (1 s by default; 0 turns the cache off).
/// Access is checked on every request, after the lookup, never cached.
pub struct ResultsCache {
    pub(super) rows: ReadCache<(Scope, i32), Vec<ResultRow>>,
    pub(super) indices: ReadCache<(i64, i32), super::IndexLookup>,
}

impl ResultsCache {
    pub fn new(ttl: std::time::Duration) -> Self {
        ResultsCache {
            rows: ReadCache::new("ranking_rows", ttl),
            indices: ReadCache::new("unit_indices", ttl),
        }
    }

    /// Forgets everything read so far (after every write request).
    pub fn invalidate(&self) {
        self.rows.invalidate();
        self.indices.invalidate();
    }
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
