//! A merged unit's lineage in its results: the old units it came from, with what was last
//! published of each, and its criteria compared with theirs.
//!
//! Predecessors are listed on the index of the year the merge took effect (the merged
//! unit's first year): each old unit's last published index before that year, its rank and
//! how many units were ranked with it, read from the frozen publication that announced it.
//! The comparison sets each criterion of that first year against the predecessors'
//! scores in their last published year: `weighted`, the mean weighted by the weights given
//! at the merge (e.g. population; equal when none were given), or `best`, the highest.

use super::publication::frozen_rows;
use super::rows::rank_rows;
use crate::error::ApiResult;
use crate::services::merges::sources_in_year;
use crate::services::sql;
use entity::{publication, unit};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult};

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
               AND pr.index_x100 IS NOT NULL AND pr.appraisal_status = $3 \
             ORDER BY p.year DESC, p.id LIMIT 1",
            vec![
                source.from_unit_id.into(),
                year.into(),
                entity::status::AppraisalStatus::Finalized.into(),
            ],
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
