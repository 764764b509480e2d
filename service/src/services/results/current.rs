//! The rows a scope's results show now: as announced when a publication froze them (a
//! district's ranking, or the siblings a unit was announced with), otherwise as they
//! stand (`rows::live_rows`); and the same through the results cache.

use super::ResultsReader;
use super::publication;
use super::rows::{ResultRow, Scope, live_rows};
use crate::error::ApiResult;
use sea_orm::ConnectionTrait;
use std::sync::Arc;

/// The year's results of the units in `scope`: as announced when a publication froze
/// them (a district's ranking, or the siblings a unit was announced with), otherwise as
/// they stand.
pub(super) async fn result_rows<C: ConnectionTrait>(
    conn: &C,
    scope: Scope,
    year: i32,
) -> ApiResult<Vec<ResultRow>> {
    let frozen = match scope {
        Scope::Children(id) => publication::current_of_scope(conn, id, year).await?,
        Scope::SiblingsOf(id) => publication::current_of_unit(conn, id, year).await?,
        Scope::Subtree(_) | Scope::Country => None,
    };
    match frozen {
        Some(p) => publication::frozen_rows(conn, &p).await,
        None => live_rows(conn, scope, year).await,
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
