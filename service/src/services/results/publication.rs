//! Publishing a year's results of the units under a district or province, frozen.
//!
//! A publication is what was announced, under a decision: it stores every unit's row of
//! the scope's ranking at that moment (names, codes and figures as they were) in
//! `publication_results`. From then on the scope's ranking, its exports and chart, and
//! each listed unit's index for that year are read from those rows: renaming, moving,
//! merging or deactivating units changes none of them. Reopening an appraisal the
//! publication covers marks it; publishing the scope again then makes revision n + 1,
//! and revision n stays readable as it was.

use super::rows::{ResultRow, Scope, live_rows, rank_rows};
use crate::auth::policy::{Action, allows_published_ranking, authorize};
use crate::auth::{Principal, UnitRef};
use crate::error::{ApiError, ApiResult, Violations, text};
use crate::services::audit::{self, Change};
use crate::services::scope::{Page, PageRequest, Reach, scoped};
use crate::services::units::{find_unit, unit_ref};
use crate::services::{now, sql};
use chrono::NaiveDate;
use entity::{publication, publication_result, unit};
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use serde_json::json;

/// What the appraiser announces.
pub struct PublishRequest {
    pub parent_unit_id: i64,
    pub year: i32,
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
}

/// Publishes a year's results of the units under `parent_unit_id` and freezes them: their
/// officers and viewers may then read their indices and the ranking, as announced.
pub async fn publish(
    db: &DatabaseConnection,
    actor: &Principal,
    request: PublishRequest,
) -> ApiResult<publication::Model> {
    let mut v = Violations::new();
    let decision_number = crate::validation::optional_text(
        &mut v,
        "decision_number",
        request.decision_number.as_deref(),
        100,
    );
    v.into_result()?;
    let year = request.year;
    let txn = crate::db::begin_write(db).await?;
    let parent = find_unit(&txn, request.parent_unit_id).await?;
    authorize(actor, Action::Publish, &unit_ref(&parent))?;
    lock_scope(&txn, parent.id).await?;
    crate::services::appeals::refuse_while_open(&txn, None, Some((&parent, year))).await?;
    let current = current_of_scope(&txn, parent.id, year).await?;
    let rows = live_rows(&txn, Scope::Children(parent.id), year).await?;
    let (revision, reason) = match &current {
        None => (1, None),
        Some(c) if c.reopened_at.is_none() => {
            return Err(ApiError::conflict(
                "already_published",
                text!(
                    "the {year} results of {} are already published (revision {}); reopen an appraisal to publish a new revision",
                    "kết quả năm {year} của {} đã được công bố (lần {}); cần mở lại kết quả thẩm định để công bố lần mới",
                    parent.name,
                    c.revision
                ),
            ));
        }
        Some(c) => {
            refuse_while_reopened(&txn, c, &rows).await?;
            (c.revision + 1, c.reopen_reason.clone())
        }
    };
    if !rows.iter().any(ResultRow::is_ranked) {
        return Err(ApiError::conflict(
            "nothing_to_publish",
            text!(
                "no unit under {} has a finalized appraisal for {year}",
                "chưa đơn vị nào thuộc {} có kết quả thẩm định đã chốt năm {year}",
                parent.name
            ),
        ));
    }
    let created = publication::ActiveModel {
        parent_unit_id: Set(parent.id),
        year: Set(year),
        published_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        published_at: Set(now()),
        revision: Set(revision),
        decision_number: Set(decision_number.clone()),
        decided_on: Set(request.decided_on),
        scope_code: Set(Some(parent.code.clone())),
        scope_name: Set(Some(parent.name.clone())),
        scope_kind: Set(Some(parent.kind.clone())),
        scope_path: Set(Some(parent.path.clone())),
        reason: Set(reason.clone()),
        reopened_at: Set(None),
        reopen_reason: Set(None),
        superseded_by: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        // Another appraiser published the same revision first.
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "already_published",
            text!(
                "the {year} results of {} are already published",
                "kết quả năm {year} của {} đã được công bố",
                parent.name
            ),
        ),
        _ => e.into(),
    })?;
    freeze(&txn, created.id, &rows).await?;
    if let Some(c) = &current {
        let mut old: publication::ActiveModel = c.clone().into();
        old.superseded_by = Set(Some(created.id));
        old.update(&txn).await?;
    }
    audit::record(
        &txn,
        actor,
        Change {
            entity: "publication",
            entity_id: created.id,
            action: "publish",
            unit_id: Some(parent.id),
            results_year: None,
            old: current
                .as_ref()
                .map(|c| json!({"publication_id": c.id, "revision": c.revision})),
            new: Some(json!({
                "parent_unit_id": parent.id,
                "year": year,
                "revision": revision,
                "decision_number": decision_number,
                "decided_on": request.decided_on,
                "reason": reason,
                "units": rows.len(),
            })),
        },
    )
    .await?;
    crate::services::webhooks::emit(
        &txn,
        crate::services::webhooks::Event {
            kind: crate::services::webhooks::EventType::ResultsPublished,
            unit_id: parent.id,
            unit_path: parent.path.clone(),
            data: crate::services::webhooks::payloads::to_value(
                &crate::services::webhooks::payloads::PublicationEventData {
                    publication_id: created.id,
                    parent_unit_id: parent.id,
                    year,
                    revision,
                    decision_number: decision_number.clone(),
                    decided_on: request.decided_on,
                },
            ),
            dedup_key: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Takes the scope unit's row lock for a publication: a publication of `parent_id` and a
/// reopen of a unit it ranks (which shares the rows of the unit's ancestors:
/// `lock_scopes_of`) run one after the other on PostgreSQL, so that the publication
/// either ranks the unit as reopened or is marked reopened by it, as a serial order would
/// have it. (SQLite's write transaction holds the whole database already.)
async fn lock_scope<C: ConnectionTrait>(conn: &C, parent_id: i64) -> ApiResult<()> {
    unit::Entity::find_by_id(parent_id)
        .lock(LockType::Update)
        .one(conn)
        .await?;
    Ok(())
}

/// Shares the row locks of `unit`'s ancestors (and its own) for a reopen: no publication
/// of a scope above it runs meanwhile (`lock_scope`), while reopens of other units go on.
pub async fn lock_scopes_of<C: ConnectionTrait>(conn: &C, unit: &unit::Model) -> ApiResult<()> {
    unit::Entity::find()
        .filter(unit::Column::Id.is_in(crate::auth::lineage(&unit.path)))
        .lock(LockType::KeyShare)
        .all(conn)
        .await?;
    Ok(())
}

/// A new revision waits until every appraisal the current one ranked is finalized again.
async fn refuse_while_reopened<C: ConnectionTrait>(
    conn: &C,
    current: &publication::Model,
    live: &[ResultRow],
) -> ApiResult<()> {
    let announced = publication_result::Entity::find()
        .filter(publication_result::Column::PublicationId.eq(current.id))
        .filter(publication_result::Column::IndexX100.is_not_null())
        .all(conn)
        .await?;
    for a in announced {
        let finalized = live.iter().any(|r| r.unit_id == a.unit_id && r.is_ranked());
        if !finalized && live.iter().any(|r| r.unit_id == a.unit_id) {
            return Err(ApiError::conflict(
                "appraisal_reopened",
                text!(
                    "the appraisal of {} is reopened: finalize it before publishing a new revision",
                    "kết quả thẩm định của {} đang được mở lại: cần chốt lại trước khi công bố lần mới",
                    a.unit_name
                ),
            ));
        }
    }
    Ok(())
}

/// Stores the rows as they stand.
async fn freeze<C: ConnectionTrait>(
    conn: &C,
    publication_id: i64,
    rows: &[ResultRow],
) -> ApiResult<()> {
    // In statements of at most 12 KiB (`statement_batches`): a bigger one waits for a
    // delayed ACK.
    let batches = crate::services::statement_batches(rows.iter().collect(), |r: &&ResultRow| {
        160 + r.unit_code.len()
            + r.unit_name.len()
            + r.unit_kind.len()
            + r.unit_path.len()
            + r.rating_band.as_ref().map_or(0, String::len)
            + r.components.as_ref().map_or(0, String::len)
    });
    for chunk in batches {
        let models = chunk.into_iter().map(|r| publication_result::ActiveModel {
            publication_id: Set(publication_id),
            unit_id: Set(r.unit_id),
            unit_code: Set(r.unit_code.clone()),
            unit_name: Set(r.unit_name.clone()),
            unit_kind: Set(r.unit_kind.clone()),
            unit_path: Set(r.unit_path.clone()),
            parent_id: Set(r.parent_id),
            self_assessment_id: Set(r.self_assessment_id),
            appraisal_id: Set(r.appraisal_id),
            framework_id: Set(r.framework_id),
            appraisal_status: Set(r.appraisal_status.clone()),
            self_assessment_status: Set(r.self_assessment_status.clone()),
            index_x100: Set(r.index_x100),
            self_total_x100: Set(r.self_total_x100),
            appraised_total_x100: Set(r.appraised_total_x100),
            bonus_x100: Set(r.bonus_x100),
            deduction_total_x100: Set(r.deduction_total_x100),
            rating_band: Set(r.rating_band.clone()),
            previous_index_x100: Set(r.previous_index_x100),
            penalty_total_x100: Set(r.penalty_total_x100),
            components: Set(r.components.clone()),
            unranked: Set(r.unranked.unwrap_or(false)),
            ..Default::default()
        });
        publication_result::Entity::insert_many(models)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The latest revision published for the units under `parent_id` in `year`.
pub(super) async fn current_of_scope<C: ConnectionTrait>(
    conn: &C,
    parent_id: i64,
    year: i32,
) -> ApiResult<Option<publication::Model>> {
    Ok(publication::Entity::find()
        .filter(publication::Column::ParentUnitId.eq(parent_id))
        .filter(publication::Column::Year.eq(year))
        .order_by_desc(publication::Column::Revision)
        .one(conn)
        .await?)
}

/// The current publication that announced `unit_id`'s result for `year` (the first, if
/// the unit moved and was announced twice).
pub async fn current_of_unit<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
    year: i32,
) -> ApiResult<Option<publication::Model>> {
    Ok(publication::Model::find_by_statement(sql(
        conn,
        "SELECT p.* FROM publications p \
         WHERE p.year = $2 AND p.superseded_by IS NULL AND EXISTS \
           (SELECT 1 FROM publication_results pr WHERE pr.publication_id = p.id AND pr.unit_id = $1) \
         ORDER BY p.id LIMIT 1",
        vec![unit_id.into(), year.into()],
    ))
    .one(conn)
    .await?)
}

/// A publication's frozen rows, shaped as the live ones: names, codes and figures as
/// announced; `unit_path` is where the unit is now (access follows today's tree; the path
/// as announced stays in the table), and the scope is the publication's.
pub(super) async fn frozen_rows<C: ConnectionTrait>(
    conn: &C,
    p: &publication::Model,
) -> ApiResult<Vec<ResultRow>> {
    let scope_path = scope_ref(conn, p).await?.path;
    let text = format!(
        "SELECT {}, NULL AS scope_path, NULL AS scope_name, NULL AS scope_published \
         FROM publication_results pr LEFT JOIN units u ON u.id = pr.unit_id \
         WHERE pr.publication_id = $1 ORDER BY pr.unit_name, pr.unit_id",
        super::current::FROZEN_COLUMNS
    );
    let mut rows = ResultRow::find_by_statement(sql(conn, &text, vec![p.id.into()]))
        .all(conn)
        .await?;
    for r in &mut rows {
        r.scope_path = Some(scope_path.clone());
        r.scope_name = p.scope_name.clone();
        r.scope_published = Some(true);
    }
    Ok(rows)
}

/// The publication's scope unit for access: where it is now, or where it was when it no
/// longer exists.
async fn scope_ref<C: ConnectionTrait>(conn: &C, p: &publication::Model) -> ApiResult<UnitRef> {
    let path = match entity::unit::Entity::find_by_id(p.parent_unit_id)
        .one(conn)
        .await?
    {
        Some(u) => u.path,
        None => p.scope_path.clone().unwrap_or_default(),
    };
    Ok(UnitRef {
        id: p.parent_unit_id,
        path,
    })
}

/// A reopened appraisal marks the current publications that announced it: the announced
/// figures stay until the scope is published again, as a new revision, for this reason.
pub async fn note_reopen<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
    year: i32,
    unit_name: &str,
    reason: &str,
) -> ApiResult<()> {
    let marked = publication::Model::find_by_statement(sql(
        conn,
        "SELECT p.* FROM publications p \
         WHERE p.year = $2 AND p.superseded_by IS NULL AND EXISTS \
           (SELECT 1 FROM publication_results pr WHERE pr.publication_id = p.id AND pr.unit_id = $1)",
        vec![unit_id.into(), year.into()],
    ))
    .all(conn)
    .await?;
    for p in marked {
        let line = format!("{unit_name}: {reason}");
        let reasons = match &p.reopen_reason {
            Some(r) => format!("{r}\n{line}"),
            None => line,
        };
        let mut am: publication::ActiveModel = p.into();
        am.reopened_at = Set(Some(now()));
        am.reopen_reason = Set(Some(reasons));
        am.update(conn).await?;
    }
    Ok(())
}

/// A publication with its frozen ranking.
pub struct PublicationRecord {
    pub publication: publication::Model,
    pub ranked: Vec<super::Ranked>,
    pub unranked: Vec<ResultRow>,
}

/// May `actor` read this publication? Whoever may read the ranking of its scope, or the
/// published results of one unit it announced (after the map changed, a commune keeps
/// the ranking it was announced in).
fn may_read(actor: &Principal, scope: &UnitRef, rows: &[ResultRow]) -> bool {
    let members: Vec<UnitRef> = rows
        .iter()
        .map(|r| UnitRef {
            id: r.unit_id,
            path: r.unit_path.clone(),
        })
        .collect();
    allows_published_ranking(actor, scope, &members)
}

/// One publication, frozen as announced; 404 for those who may not read it.
pub async fn get_publication(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<PublicationRecord> {
    let not_found = || {
        ApiError::not_found(text!(
            "publication {id} does not exist",
            "không có lần công bố {id}"
        ))
    };
    let p = publication::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let rows = frozen_rows(db, &p).await?;
    let scope = scope_ref(db, &p).await?;
    if !may_read(actor, &scope, &rows) {
        return Err(not_found());
    }
    let (ranked, unranked) = rank_rows(rows);
    Ok(PublicationRecord {
        publication: p,
        ranked,
        unranked,
    })
}

pub async fn list_publications(
    db: &DatabaseConnection,
    actor: &Principal,
    parent_unit_id: Option<i64>,
    year: Option<i32>,
    page: PageRequest,
) -> ApiResult<Page<publication::Model>> {
    // Publications are public to anyone who may read the unit they concern, or one unit
    // they announced (`Reach::Announced`, the SQL form of `may_read`).
    let mut query = scoped(
        publication::Entity::find(),
        actor,
        publication::Column::ParentUnitId,
        Reach::Announced,
    )
    .order_by_asc(publication::Column::Year)
    .order_by_asc(publication::Column::ParentUnitId)
    .order_by_asc(publication::Column::Revision);
    if let Some(p) = parent_unit_id {
        query = query.filter(publication::Column::ParentUnitId.eq(p));
    }
    if let Some(y) = year {
        query = query.filter(publication::Column::Year.eq(y));
    }
    query.page(db, page).await
}

/// Freezes publications that carry no rows yet (written in bulk by the benchmark data
/// generator) from the data as it stands, as migration 9 did for those made before it.
pub async fn freeze_unfrozen<C: ConnectionTrait>(conn: &C) -> ApiResult<()> {
    conn.execute_unprepared(
        "UPDATE publications SET \
           scope_code = (SELECT code FROM units WHERE id = publications.parent_unit_id), \
           scope_name = (SELECT name FROM units WHERE id = publications.parent_unit_id), \
           scope_kind = (SELECT kind FROM units WHERE id = publications.parent_unit_id), \
           scope_path = (SELECT path FROM units WHERE id = publications.parent_unit_id) \
         WHERE scope_path IS NULL",
    )
    .await?;
    conn.execute_raw(sql(
        conn,
        "INSERT INTO publication_results (publication_id, unit_id, unit_code, unit_name, \
            unit_kind, unit_path, parent_id, self_assessment_id, appraisal_id, framework_id, \
            appraisal_status, self_assessment_status, index_x100, self_total_x100, \
            appraised_total_x100, bonus_x100, deduction_total_x100, rating_band, \
            previous_index_x100) \
         SELECT pub.id, u.id, u.code, u.name, u.kind, u.path, u.parent_id, s.id, a.id, \
            a.framework_id, a.status, s.status, a.index_x100, a.self_total_x100, \
            a.appraised_total_x100, a.bonus_x100, a.deduction_total_x100, a.rating_band, \
            prev.index_x100 \
         FROM publications pub \
         JOIN units u ON u.parent_id = pub.parent_unit_id AND u.active = TRUE \
         LEFT JOIN self_assessments s ON s.unit_id = u.id AND s.year = pub.year \
         LEFT JOIN appraisals a ON a.self_assessment_id = s.id \
         LEFT JOIN appraisals prev ON prev.unit_id = u.id AND prev.year = pub.year - 1 \
            AND prev.status = $1 \
         WHERE NOT EXISTS (SELECT 1 FROM publication_results x WHERE x.publication_id = pub.id)",
        vec![entity::status::AppraisalStatus::Finalized.into()],
    ))
    .await?;
    Ok(())
}
