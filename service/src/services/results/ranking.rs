//! A district's (or any subtree's) ranking, and the criteria that lose most points.

use super::ResultsReader;
use super::current::{cached_rows, result_rows};
use super::rows::{Depth, ParentRef, Ranked, ResultRow, Scope, rank_rows, under_path};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, text};
use crate::scoring::framework::compare_codes;
use crate::scoring::ranking::{Summary, summarize};
use crate::scoring::{from_hundredths, round2};
use crate::services::frameworks;
use crate::services::sql;
use crate::services::units::unit_ref;
use crate::services::visibility::Access;
use crate::services::visibility::{self, Visible};
use entity::status::AppraisalStatus;
use entity::unit;
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, FromQueryResult, Value};
use std::collections::HashMap;

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

/// The ranking of the units under `parent` (all communes of the country when `None`:
/// admins only). One query in the usual case: the rows carry the parent's path, name and
/// publication.
pub async fn ranking(
    reader: &ResultsReader,
    actor: &Principal,
    parent_id: Option<i64>,
    year: i32,
    depth: Depth,
) -> ApiResult<Visible<Ranking>> {
    let scope = scope_of(actor, parent_id, depth)?;
    let rows = cached_rows(reader, scope, year).await?;
    let (access, ranking) =
        assemble(&reader.db, parent_id, year, depth, rows.as_ref().clone()).await?;
    visibility::check(actor, &access, ranking)
}

/// The ranking as the database holds it now (no cache), with what access to it depends
/// on, not yet checked: what a stored document is built from (`documents`).
pub(super) async fn ranking_unchecked(
    reader: &ResultsReader,
    actor: &Principal,
    parent_id: Option<i64>,
    year: i32,
    depth: Depth,
) -> ApiResult<(Access, Ranking)> {
    let scope = scope_of(actor, parent_id, depth)?;
    let rows = result_rows(&reader.db, scope, year).await?;
    assemble(&reader.db, parent_id, year, depth, rows).await
}

/// Which units a ranking reads; the whole country is refused before anything is read
/// unless the caller is an admin.
fn scope_of(actor: &Principal, parent_id: Option<i64>, depth: Depth) -> ApiResult<Scope> {
    Ok(match (parent_id, depth) {
        (Some(id), Depth::Children) => Scope::Children(id),
        (Some(id), Depth::All) => Scope::Subtree(id),
        (Some(id), Depth::Agencies) => Scope::Agencies(id),
        (None, Depth::Agencies) => {
            return Err(ApiError::validation(vec![crate::error::FieldError::new(
                "parent_unit_id",
                "required",
                text!(
                    "agencies are ranked within their province: name it",
                    "sở, ban, ngành được xếp hạng trong tỉnh: hãy nêu tỉnh"
                ),
            )]));
        }
        (None, _) => {
            crate::auth::policy::require_admin(actor).map_err(|_| {
                ApiError::forbidden(text!(
                    "only an admin may rank the whole country; name a parent_unit_id",
                    "chỉ quản trị viên được xếp hạng toàn quốc; hãy nêu parent_unit_id"
                ))
            })?;
            Scope::Country
        }
    })
}

/// A ranking from its scope's rows, and what access to it depends on.
async fn assemble(
    db: &DatabaseConnection,
    parent_id: Option<i64>,
    year: i32,
    depth: Depth,
    rows: Vec<ResultRow>,
) -> ApiResult<(Access, Ranking)> {
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
            let (u, published) = visibility::unit_with_publication(db, id, year).await?;
            Some(ParentRef {
                id,
                name: u.name,
                path: u.path,
                published,
            })
        }
    };
    let access = match &parent {
        Some(p) => Access::Ranking {
            parent: crate::auth::UnitRef {
                id: p.id,
                path: p.path.clone(),
            },
            members: rows
                .iter()
                .map(|r| crate::auth::UnitRef {
                    id: r.unit_id,
                    path: r.unit_path.clone(),
                })
                .collect(),
            published: p.published,
        },
        // The whole country: the admin check of `scope_of`.
        None => Access::Country,
    };
    let (ranked, unranked) = rank_rows(rows);
    Ok((access, Ranking::of(parent, year, depth, ranked, unranked)))
}

impl Ranking {
    /// A ranking from ranked rows: the published flag from the parent, the index summary
    /// and the count per band.
    pub fn of(
        parent: Option<ParentRef>,
        year: i32,
        depth: Depth,
        ranked: Vec<Ranked>,
        unranked: Vec<ResultRow>,
    ) -> Ranking {
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
        Ranking {
            published: parent.as_ref().is_some_and(|p| p.published),
            parent,
            year,
            depth,
            summary: summarize(&indices),
            ranked,
            unranked,
            bands,
        }
    }

    /// A publication's frozen ranking, as announced.
    pub fn of_publication(record: &super::PublicationRecord) -> Ranking {
        let p = &record.publication;
        let parent = ParentRef {
            id: p.parent_unit_id,
            name: p.scope_name.clone().unwrap_or_default(),
            path: p.scope_path.clone().unwrap_or_default(),
            published: true,
        };
        Ranking::of(
            Some(parent),
            p.year,
            Depth::Children,
            record.ranked.clone(),
            record.unranked.clone(),
        )
    }
}

/// A criterion across the units of a ranking scored on one framework.
#[derive(Clone, Debug, FromQueryResult)]
pub struct CriterionLossRow {
    pub framework_id: i64,
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
    /// Units that lost points on it the year before too (through the mapping between
    /// their two frameworks where one is recorded, else by code): weaknesses that persist.
    pub units_repeating: i64,
}

/// A unit's loss on a criterion this year, with the framework it lost it on and the one
/// of its finalized appraisal the year before.
#[derive(Clone, Debug, FromQueryResult)]
struct RepeatCandidate {
    unit_id: i64,
    framework_id: i64,
    criterion_code: String,
    previous_framework_id: i64,
}

/// A unit's loss on a criterion in a year.
#[derive(Clone, Debug, FromQueryResult)]
struct PastLoss {
    unit_id: i64,
    criterion_code: String,
}

/// Per criterion code, how many units under `scope` lost points on it in `year` and on
/// its predecessor (`mapping::predecessor`, else the same code) the year before. Two
/// statements and each framework pair's mapping once.
async fn units_repeating(
    db: &DatabaseConnection,
    scope: &str,
    value: Value,
    year: i32,
) -> ApiResult<HashMap<String, i64>> {
    let finalized: Value = AppraisalStatus::Finalized.into();
    let now = RepeatCandidate::find_by_statement(sql(
        db,
        &format!(
            "SELECT a.unit_id, a.framework_id, e.criterion_code, \
                    p.framework_id AS previous_framework_id \
             FROM appraisals a \
             JOIN units u ON u.id = a.unit_id \
             JOIN assessment_entries e ON e.self_assessment_id = a.self_assessment_id \
             JOIN appraisals p ON p.unit_id = a.unit_id AND p.year = $4 AND p.status = $3 \
             WHERE a.year = $1 AND a.status = $3 AND e.deduction_x100 > 0 AND {scope}"
        ),
        vec![
            year.into(),
            value.clone(),
            finalized.clone(),
            (year - 1).into(),
        ],
    ))
    .all(db)
    .await?;
    if now.is_empty() {
        return Ok(HashMap::new());
    }
    let before: std::collections::HashSet<(i64, String)> = PastLoss::find_by_statement(sql(
        db,
        &format!(
            "SELECT a.unit_id, e.criterion_code \
             FROM appraisals a \
             JOIN units u ON u.id = a.unit_id \
             JOIN assessment_entries e ON e.self_assessment_id = a.self_assessment_id \
             WHERE a.year = $1 AND a.status = $3 AND e.deduction_x100 > 0 AND {scope}"
        ),
        vec![(year - 1).into(), value, finalized],
    ))
    .all(db)
    .await?
    .into_iter()
    .map(|l| (l.unit_id, l.criterion_code))
    .collect();
    let mut mappings: HashMap<(i64, i64), Vec<crate::scoring::mapping::CriterionMapping>> =
        HashMap::new();
    let mut out: HashMap<String, i64> = HashMap::new();
    for c in now {
        let pair = (c.framework_id, c.previous_framework_id);
        let rows = match mappings.entry(pair) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                // The same framework both years: compared by code.
                let rows = if pair.0 == pair.1 {
                    Vec::new()
                } else {
                    crate::services::mapping_rows::rows_between(db, pair.0, pair.1).await?
                };
                slot.insert(rows)
            }
        };
        if crate::scoring::mapping::earlier_codes(rows, &c.criterion_code)
            .into_iter()
            .any(|code| before.contains(&(c.unit_id, code)))
        {
            *out.entry(c.criterion_code).or_default() += 1;
        }
    }
    Ok(out)
}

/// Per criterion, across the finalized units under `parent`: how many lost points, and
/// the total and mean deduction; most points lost first. Two statements: the parent with
/// its publication, then one aggregate over the deductions stored at finalization.
pub async fn criteria_losses(
    reader: &ResultsReader,
    actor: &Principal,
    parent_id: i64,
    year: i32,
    depth: Depth,
) -> ApiResult<Visible<(unit::Model, Vec<CriterionLoss>)>> {
    let (access, losses) = losses_unchecked(reader, actor, parent_id, year, depth).await?;
    visibility::check(actor, &access, losses)
}

/// `criteria_losses` with what access to them depends on, not yet checked (for a stored
/// document); a caller who may not read them is refused before the aggregate is read.
pub(super) async fn losses_unchecked(
    reader: &ResultsReader,
    actor: &Principal,
    parent_id: i64,
    year: i32,
    depth: Depth,
) -> ApiResult<(Access, (unit::Model, Vec<CriterionLoss>))> {
    let db = &reader.db;
    let (parent, published) = visibility::unit_with_publication(db, parent_id, year).await?;
    let access = Access::Ranking {
        parent: unit_ref(&parent),
        members: Vec::new(),
        published,
    };
    // Asked before the figures are read; they leave through the same rule.
    visibility::check(actor, &access, ())?;
    let (scope, value): (&str, Value) = match depth {
        Depth::Children => (
            &*format!("u.parent_id = $2 AND NOT {}", super::rows::AGENCY_SQL),
            parent.id.into(),
        ),
        Depth::Agencies => (
            &*format!("u.parent_id = $2 AND {}", super::rows::AGENCY_SQL),
            parent.id.into(),
        ),
        Depth::All => (
            &*format!(
                "{} AND {}",
                under_path(db.get_database_backend(), "u.path", "$2"),
                super::rows::BASE_KINDS_SQL
            ),
            parent.path.clone().into(),
        ),
    };
    // Per framework too: the titles and maxima are the framework's.
    let text = format!(
        "SELECT a.framework_id, e.criterion_code, COUNT(*) AS units_appraised, \
                CAST(SUM(CASE WHEN e.deduction_x100 > 0 THEN 1 ELSE 0 END) AS BIGINT) AS units_losing, \
                CAST(SUM(e.deduction_x100) AS BIGINT) AS total_deduction_x100 \
         FROM appraisals a \
         JOIN units u ON u.id = a.unit_id \
         JOIN assessment_entries e ON e.self_assessment_id = a.self_assessment_id \
         WHERE a.year = $1 AND a.status = $3 AND e.deduction_x100 IS NOT NULL AND {scope} \
         GROUP BY a.framework_id, e.criterion_code \
         ORDER BY a.framework_id"
    );
    let rows = CriterionLossRow::find_by_statement(sql(
        db,
        &text,
        vec![
            year.into(),
            value.clone(),
            AppraisalStatus::Finalized.into(),
        ],
    ))
    .all(db)
    .await?;
    let repeating = units_repeating(db, scope, value, year).await?;
    // Titles and maxima from the frameworks used that year under the parent (the first
    // that has the code), and the counts summed across them by code.
    let mut titles: HashMap<String, (String, Decimal)> = HashMap::new();
    let mut by_code: HashMap<String, (i64, i64, i64)> = HashMap::new();
    let mut loaded = None;
    for r in rows {
        if loaded != Some(r.framework_id) {
            // In use by finalized appraisals, so unchangeable: built once per process.
            let f = reader.frameworks.in_use(db, r.framework_id).await?;
            for c in f.tree.criteria() {
                titles
                    .entry(c.code.clone())
                    .or_insert_with(|| (c.title.clone(), c.max_score));
            }
            loaded = Some(r.framework_id);
        }
        let sums = by_code.entry(r.criterion_code).or_default();
        let overflow = || ApiError::internal(anyhow::anyhow!("criteria losses overflow"));
        sums.0 = sums.0.checked_add(r.units_appraised).ok_or_else(overflow)?;
        sums.1 = sums.1.checked_add(r.units_losing).ok_or_else(overflow)?;
        sums.2 = sums
            .2
            .checked_add(r.total_deduction_x100)
            .ok_or_else(overflow)?;
    }
    let mut losses: Vec<CriterionLoss> = by_code
        .into_iter()
        .map(|(code, (units_appraised, units_losing, total_x100))| {
            let total = from_hundredths(total_x100);
            let (title, max) = titles
                .get(&code)
                .map(|(t, m)| (t.clone(), Some(*m)))
                .unwrap_or_default();
            let units_repeating = repeating.get(&code).copied().unwrap_or_default();
            CriterionLoss {
                mean_deduction: if units_appraised > 0 {
                    round2(total / Decimal::from(units_appraised))
                } else {
                    Decimal::ZERO
                },
                code,
                title,
                max,
                units_appraised,
                units_losing,
                units_repeating,
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
    Ok((access, (parent, losses)))
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

/// The agencies that appraised criteria of the frameworks the ranked units were appraised
/// on, by name, in the order of their first criterion: a results notice names them.
pub async fn appraising_agencies_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    ranking: &Ranking,
) -> ApiResult<Vec<String>> {
    let mut framework_ids: Vec<i64> = ranking
        .ranked
        .iter()
        .filter_map(|r| r.row.framework_id)
        .collect();
    framework_ids.sort_unstable();
    framework_ids.dedup();
    let mut names: Vec<String> = Vec::new();
    for id in framework_ids {
        let framework = crate::services::frameworks::load(conn, id).await?;
        let mut agencies: Vec<i64> = Vec::new();
        for (_, agency) in framework.tree.assigned_leaves() {
            if !agencies.contains(&agency) {
                agencies.push(agency);
            }
        }
        let by_id = crate::services::units::names_of(conn, &agencies).await?;
        for agency in agencies {
            if let Some(name) = by_id.get(&agency)
                && !names.contains(name)
            {
                names.push(name.clone());
            }
        }
    }
    Ok(names)
}
