//! The rows a scope's results show now: as announced when a publication froze them (a
//! district's ranking, or the siblings a unit was announced with), otherwise as they
//! stand (`rows::live_rows`); and the same through the results cache.
//!
//! Either way it is one statement: the publication that applies (if any), its frozen rows,
//! and the live rows when there is none, are one `WITH … UNION ALL` query. A unit's index
//! reads its entries' scores and whether it was merged in the same statement
//! (`index_rows`), so an uncached index costs the account check and this one round trip.

use super::ResultsReader;
use super::rows::{LiveSelect, ResultRow, Scope, live_rows, live_select};
use crate::error::ApiResult;
use crate::services::sql;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, QueryResult};
use std::sync::Arc;

/// The year's results of the units in `scope`: as announced when a publication froze
/// them (a district's ranking, or the siblings a unit was announced with), otherwise as
/// they stand.
pub(super) async fn result_rows<C: ConnectionTrait>(
    conn: &C,
    scope: Scope,
    year: i32,
) -> ApiResult<Vec<ResultRow>> {
    let Some(current) = current_publication(scope) else {
        return live_rows(conn, scope, year).await;
    };
    let LiveSelect { text, values } = composed(
        conn.get_database_backend(),
        scope,
        current,
        year,
        Extra::None,
    );
    Ok(ResultRow::find_by_statement(sql(conn, &text, values))
        .all(conn)
        .await?)
}

/// A row of a unit's index query: the sibling's result row, and for the unit itself its
/// entries' scores (JSON) and whether units were ever merged into it.
pub(super) struct IndexRow {
    pub row: ResultRow,
    pub entries: Option<String>,
    pub merged: bool,
}

impl FromQueryResult for IndexRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(IndexRow {
            row: ResultRow::from_query_result(res, pre)?,
            entries: res.try_get(pre, "entries")?,
            merged: res.try_get(pre, "merged")?,
        })
    }
}

/// The rows `unit_id` is ranked among for `year` (as `result_rows` with its siblings),
/// with its own entries' scores and whether it was merged: one statement.
pub(super) async fn index_rows<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
    year: i32,
) -> ApiResult<Vec<IndexRow>> {
    let backend = conn.get_database_backend();
    let LiveSelect { text, values } = composed(
        backend,
        Scope::SiblingsOf(unit_id),
        ANNOUNCED_THE_UNIT,
        year,
        Extra::Index,
    );
    Ok(IndexRow::find_by_statement(sql(conn, &text, values))
        .all(conn)
        .await?)
}

/// Which extra columns the composed query reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    None,
    /// `entries` and `merged` (`IndexRow`).
    Index,
}

/// SQL: a district's latest publication of `$1` (the district is `$3`), with the path of
/// its scope unit now (or as published, when the unit no longer exists).
const LATEST_OF_DISTRICT: &str = "SELECT p.id, p.scope_name, \
       COALESCE((SELECT su.path FROM units su WHERE su.id = p.parent_unit_id), p.scope_path) AS scope_path \
     FROM publications p WHERE p.parent_unit_id = $3 AND p.year = $1 \
     ORDER BY p.revision DESC LIMIT 1";

/// SQL: the current publication of `$1` that announced the unit `$3` (the first, if the
/// unit moved and was announced twice), with its scope's path as above.
const ANNOUNCED_THE_UNIT: &str = "SELECT p.id, p.scope_name, \
       COALESCE((SELECT su.path FROM units su WHERE su.id = p.parent_unit_id), p.scope_path) AS scope_path \
     FROM publications p WHERE p.year = $1 AND p.superseded_by IS NULL AND EXISTS \
       (SELECT 1 FROM publication_results x WHERE x.publication_id = p.id AND x.unit_id = $3) \
     ORDER BY p.id LIMIT 1";

/// The publication that may have frozen a scope's rows; none for subtrees and the
/// country, which are always live.
fn current_publication(scope: Scope) -> Option<&'static str> {
    match scope {
        Scope::Children(_) => Some(LATEST_OF_DISTRICT),
        Scope::SiblingsOf(_) => Some(ANNOUNCED_THE_UNIT),
        // Agencies' rankings are not published (publications rank the communes).
        Scope::Agencies(_) | Scope::Subtree(_) | Scope::Country => None,
    }
}

/// The one statement of a scope that the publication `current` (SQL) may have frozen:
/// its frozen rows if there is one, else the live rows.
fn composed(
    backend: DbBackend,
    scope: Scope,
    current: &str,
    year: i32,
    extra: Extra,
) -> LiveSelect {
    let (frozen_extra, live_extra) = match extra {
        Extra::None => (String::new(), String::new()),
        Extra::Index => {
            let merged = "EXISTS (SELECT 1 FROM unit_merge_sources ms \
                 JOIN unit_merges mm ON mm.id = ms.merge_id \
                 WHERE mm.into_unit_id = $3 AND ms.from_unit_id <> $3)";
            (
                format!(
                    ", CASE WHEN pr.unit_id = $3 THEN {} END AS entries, {merged} AS merged",
                    entries_json(backend, "pr.self_assessment_id")
                ),
                format!(
                    ", CASE WHEN u.id = $3 THEN {} END AS entries, {merged} AS merged",
                    entries_json(backend, "s.id")
                ),
            )
        }
    };
    let LiveSelect { text: live, values } = live_select(backend, scope, year, &live_extra);
    // Frozen rows are shaped as the live ones: names, codes and figures as announced;
    // `unit_path` is where the unit is now (access follows today's tree), and the scope is
    // the publication's (where its unit is now, or was when it no longer exists).
    let text = format!(
        "WITH cur AS ({current}) \
         SELECT {FROZEN_COLUMNS}, \
                cur.scope_path AS scope_path, cur.scope_name AS scope_name, {yes} AS scope_published{frozen_extra} \
         FROM cur JOIN publication_results pr ON pr.publication_id = cur.id \
         LEFT JOIN units u ON u.id = pr.unit_id \
         UNION ALL \
         {live} AND NOT EXISTS (SELECT 1 FROM cur) \
         ORDER BY unit_name, unit_id",
        yes = if backend == DbBackend::Sqlite {
            "1"
        } else {
            "TRUE"
        },
    );
    LiveSelect { text, values }
}

/// SQL: a frozen row's columns of `ResultRow` but the scope's, from `publication_results pr`
/// left-joined to `units u`: names, codes and figures as announced, `unit_path` where the
/// unit is now (access follows today's tree).
pub(super) const FROZEN_COLUMNS: &str = "pr.unit_id, pr.unit_name, pr.unit_code, pr.unit_kind, \
     COALESCE(u.path, pr.unit_path) AS unit_path, pr.parent_id, \
     pr.self_assessment_id, pr.appraisal_id, pr.framework_id, pr.appraisal_status, \
     pr.self_assessment_status, pr.index_x100, pr.self_total_x100, \
     pr.appraised_total_x100, pr.bonus_x100, pr.deduction_total_x100, \
     pr.rating_band, pr.previous_index_x100, pr.penalty_total_x100, pr.components, \
     pr.unranked";

/// SQL: the scores and comment of every entry of the self-assessment `id`, as a JSON array
/// of `[code, self, not_applicable, final, deduction, comment]` (`index::EntryScores`).
fn entries_json(backend: DbBackend, id: &str) -> String {
    let columns = "e.criterion_code, e.self_score_x100, e.self_not_applicable, \
                   e.final_score_x100, e.deduction_x100, e.comment";
    match backend {
        DbBackend::Postgres => format!(
            "(SELECT CAST(json_agg(json_build_array({columns})) AS TEXT) \
             FROM assessment_entries e WHERE e.self_assessment_id = {id})"
        ),
        _ => format!(
            "(SELECT json_group_array(json_array({columns})) \
             FROM assessment_entries e WHERE e.self_assessment_id = {id})"
        ),
    }
}

/// `result_rows`, through the cache.
pub(super) async fn cached_rows(
    reader: &ResultsReader,
    scope: Scope,
    year: i32,
) -> ApiResult<Arc<Vec<ResultRow>>> {
    reader
        .cache
        .rows
        .get_or_load((scope, year), result_rows(&reader.db, scope, year))
        .await
}
