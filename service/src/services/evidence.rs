//! Evidence files (tài liệu kiểm chứng): the documents behind a score, held by the service.
//!
//! A file belongs to a unit. Access follows the unit (`Action::ReadEvidence`,
//! `Action::ManageEvidence`); a caller who may not read a file is told it does not exist.
//! Evidence items name a file by `file_id`, only a file of their own unit; a file named by
//! any evidence cannot be deleted (a submitted file or a finalized appraisal can no longer
//! drop the reference, so what the council scored stays readable for good).

use super::scope::{Page, PageRequest, Reach, scoped};
use super::scoresheet::Evidence;
use super::units::{find_unit, unit_ref};
use super::{audit, now};
use crate::auth::Principal;
use crate::auth::policy::{Action, allows, authorize};
use crate::error::{ApiError, ApiResult, FieldError, text};
use crate::state::AppState;
use crate::storage::{Spooled, kind_of};
use entity::status::SelfAssessmentStatus;
use entity::{evidence_file, unit};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Set, Statement,
};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use unicode_normalization::UnicodeNormalization;

/// Longest file name kept (characters); longer names keep their end (the extension).
const MAX_FILENAME_CHARS: usize = 200;

/// The unit an upload goes to, once the caller may upload there: checked before a byte of
/// the file is read.
pub async fn may_upload(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: i64,
) -> ApiResult<unit::Model> {
    let u = find_unit(db, unit_id).await?;
    authorize(actor, Action::ManageEvidence, &unit_ref(&u))?;
    Ok(u)
}

/// Whether the caller may upload at all, asked when the file part comes before `unit_id`
/// (Swagger UI and generated clients send form fields in the schema's alphabetical order):
/// a role that can upload nowhere is refused before a byte is read; the unit itself is
/// checked by [`may_upload`] once its id arrives, before anything is stored.
pub fn may_upload_somewhere(actor: &Principal) -> ApiResult<()> {
    match &actor.unit {
        Some(own) => authorize(actor, Action::ManageEvidence, own),
        None if actor.role == crate::auth::Role::Admin => Ok(()),
        None => Err(ApiError::forbidden(Action::ManageEvidence.describe())),
    }
}

/// A name safe to show, to send in a header and to use as a zip entry: the last path
/// segment (browsers on Windows send whole paths), NFC, no control or bidi characters, no
/// name made only of dots, at most 200 characters.
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .nfc()
        .map(|c| {
            if c.is_control() || crate::validation::is_refused_char(c) {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string();
    let cleaned = if !cleaned.is_empty() && cleaned.chars().all(|c| c == '.') {
        "file".to_string()
    } else {
        cleaned
    };
    let n = cleaned.chars().count();
    if n > MAX_FILENAME_CHARS {
        cleaned.chars().skip(n - MAX_FILENAME_CHARS).collect()
    } else {
        cleaned
    }
}

/// Keeps a spooled upload: its kind from its bytes (415 unless allowed), its bytes in the
/// store, then its metadata and audit event.
pub async fn store(
    state: &AppState,
    actor: &Principal,
    u: &unit::Model,
    year: i32,
    filename: &str,
    spooled: Spooled,
) -> ApiResult<evidence_file::Model> {
    let allowed = &state.config.evidence.allowed;
    let kind = kind_of(&spooled)
        .await
        .map_err(ApiError::internal)?
        .filter(|k| allowed.contains(k))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|k| k.name()).collect();
            ApiError::unsupported_media_type(text!(
                "the file's content is none of the accepted kinds ({}); its name and declared type do not count",
                "nội dung tệp không thuộc loại được nhận ({}); tên tệp và kiểu khai báo không được tính",
                names.join(", ")
            ))
            .with_errors(vec![FieldError::new(
                "file",
                "unsupported_file_type",
                text!(
                    "accepted kinds: {}",
                    "các loại được nhận: {}",
                    names.join(", ")
                ),
            )])
        })?;
    // A PDF's digital signatures, verified before anything is kept (a hostile file is
    // refused here, within the scan's budget).
    let signatures = if kind == crate::storage::FileKind::Pdf {
        let bytes = tokio::fs::read(spooled.path())
            .await
            .map_err(ApiError::internal)?;
        Some(verify_signatures(&state.config.trust_anchors, bytes).await?)
    } else {
        None
    };
    // The unit's quota, before a byte is kept (and again under the unit's lock below).
    check_quota(&state.db, &state.config.evidence, u, year, spooled.size).await?;
    state.blobs.commit(&spooled).await.map_err(|e| {
        tracing::error!(error = %e, "evidence store refused a blob");
        if crate::storage::is_storage_full(&e) {
            return crate::storage::store_full();
        }
        ApiError::service_unavailable(text!(
            "the evidence store is not available; retry later",
            "kho lưu tài liệu đang không sẵn sàng; hãy thử lại sau"
        ))
        .with_retry_after(10)
    })?;
    let size = i64::try_from(spooled.size).map_err(ApiError::internal)?;
    let txn = crate::db::begin_write(&state.db).await?;
    // Two uploads of one unit at once count each other: its row is locked while the
    // second counts (SQLite: the write transaction is the lock).
    unit::Entity::find_by_id(u.id)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .one(&txn)
        .await?;
    check_quota(&txn, &state.config.evidence, u, year, spooled.size).await?;
    let created = evidence_file::ActiveModel {
        unit_id: Set(u.id),
        year: Set(year),
        // The name's extension follows the content (a PDF named `….bat` is `….bat.pdf`).
        filename: Set(kind.file_name(filename)),
        content_type: Set(kind.media_type().to_string()),
        size: Set(size),
        sha256: Set(spooled.sha256.clone()),
        created_at: Set(now()),
        created_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        signatures_checked_at: Set(signatures.is_some().then(now)),
        signatures: Set(signatures),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        audit::Change {
            entity: "evidence_file",
            entity_id: created.id,
            action: "upload",
            unit_id: Some(u.id),
            results_year: None,
            old: None,
            new: Some(describe(&created)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// How long verifying one PDF's signatures may take (a linear scan and a few signature
/// checks take milliseconds; this bounds a pathological file).
const SIGNATURE_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// A PDF's signatures, verified off the async workers within the budgets, as stored (JSON).
/// A file the scan refuses (too many signed ranges) is a 422 naming why.
pub async fn verify_signatures(
    anchors: &crate::signatures::TrustAnchors,
    bytes: Vec<u8>,
) -> ApiResult<String> {
    let anchors = anchors.clone();
    let work = tokio::task::spawn_blocking(move || {
        crate::signatures::verify_pdf(&bytes, &anchors, &crate::signatures::Budget::default())
    });
    let verified = match tokio::time::timeout(SIGNATURE_TIME_BUDGET, work).await {
        Ok(joined) => joined.map_err(ApiError::internal)?,
        Err(_) => {
            return Err(signature_problem(format!(
                "verifying its signatures took longer than {} s",
                SIGNATURE_TIME_BUDGET.as_secs()
            )));
        }
    };
    let checks = verified.map_err(|e| signature_problem(e.to_string()))?;
    serde_json::to_string(&checks).map_err(ApiError::internal)
}

fn signature_problem(why: String) -> ApiError {
    ApiError::unprocessable(
        "unreadable_signatures",
        text!(
            "the PDF's signatures cannot be read: {why}",
            "không đọc được chữ ký số của tệp PDF: {why}"
        ),
    )
}

/// What `reverify_signatures` did.
#[derive(Debug, Default)]
pub struct ReverifyReport {
    pub checked: usize,
    /// Files whose verdicts changed (e.g. `not_trusted` → `valid` with a new anchor).
    pub changed: Vec<i64>,
    /// Files that could not be read or verified, with why (their verdicts are kept).
    pub failed: Vec<(i64, String)>,
}

/// Verifies every PDF's signatures again with the configured trust anchors (after they
/// change, or for files uploaded before signatures were verified), file by file, each
/// update its own statement: a long run holds no lock.
pub async fn reverify_signatures(state: &AppState) -> anyhow::Result<ReverifyReport> {
    use futures_util::TryStreamExt;
    let pdfs = evidence_file::Entity::find()
        .filter(evidence_file::Column::ContentType.eq("application/pdf"))
        .all(&state.db)
        .await?;
    let mut report = ReverifyReport::default();
    for f in pdfs {
        let bytes: Result<Vec<u8>, std::io::Error> = async {
            let stream = state.blobs.read(&f.sha256, None).await?;
            stream
                .try_fold(Vec::new(), |mut all, chunk| async move {
                    all.extend_from_slice(&chunk);
                    Ok(all)
                })
                .await
        }
        .await;
        let verified = match bytes {
            Ok(bytes) => verify_signatures(&state.config.trust_anchors, bytes)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match verified {
            Ok(json) => {
                report.checked += 1;
                if f.signatures.as_deref() != Some(json.as_str()) {
                    report.changed.push(f.id);
                }
                evidence_file::ActiveModel {
                    id: Set(f.id),
                    signatures: Set(Some(json)),
                    signatures_checked_at: Set(Some(now())),
                    ..Default::default()
                }
                .update(&state.db)
                .await?;
            }
            Err(why) => report.failed.push((f.id, why)),
        }
    }
    Ok(report)
}

/// The stored verdicts of a file's signatures (none: not a PDF, or not checked).
pub fn signatures_of(f: &evidence_file::Model) -> Vec<crate::signatures::SignatureCheck> {
    f.signatures
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// What a unit stores for a year, against its quota: a 507 `quota_exceeded` naming both
/// when `adding` bytes (one more file) would pass it.
async fn check_quota<C: ConnectionTrait>(
    conn: &C,
    settings: &crate::config::EvidenceSettings,
    u: &unit::Model,
    year: i32,
    adding: u64,
) -> ApiResult<()> {
    #[derive(FromQueryResult)]
    struct Use {
        files: i64,
        bytes: i64,
    }
    let used = Use::find_by_statement(crate::services::sql(
        conn,
        "SELECT COUNT(*) AS files, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes \
         FROM evidence_files WHERE unit_id = $1 AND year = $2",
        vec![u.id.into(), year.into()],
    ))
    .one(conn)
    .await?
    .unwrap_or(Use { files: 0, bytes: 0 });
    let (files, bytes) = (used.files.max(0) as u64, used.bytes.max(0) as u64);
    let (max_files, max_bytes) = (settings.quota_files, settings.quota_bytes);
    if files.saturating_add(1) > max_files || bytes.saturating_add(adding) > max_bytes {
        let name = &u.name;
        return Err(ApiError::insufficient_storage(
            "quota_exceeded",
            text!(
                "{name} has stored {files} files, {bytes} bytes for {year}; its quota is {max_files} files, {max_bytes} bytes, and this file ({adding} bytes) would pass it",
                "{name} đã lưu {files} tệp, {bytes} byte cho năm {year}; hạn mức là {max_files} tệp, {max_bytes} byte, và tệp này ({adding} byte) sẽ vượt hạn mức"
            ),
        )
        .with_errors(vec![FieldError::new(
            "file",
            "quota_exceeded",
            text!(
                "at most {max_files} files and {max_bytes} bytes per unit and year",
                "tối đa {max_files} tệp và {max_bytes} byte cho mỗi đơn vị mỗi năm"
            ),
        )]));
    }
    Ok(())
}

fn describe(f: &evidence_file::Model) -> serde_json::Value {
    json!({
        "filename": f.filename, "content_type": f.content_type, "size": f.size,
        "sha256": f.sha256, "year": f.year,
    })
}

/// The file, if the caller may read it; otherwise "not found", whether it exists or not.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
) -> ApiResult<evidence_file::Model> {
    let missing = || {
        ApiError::not_found(text!(
            "evidence file {id} does not exist",
            "không có tài liệu kiểm chứng {id}"
        ))
    };
    let f = evidence_file::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    let u = find_unit(conn, f.unit_id).await?;
    if !allows(actor, Action::ReadEvidence, &unit_ref(&u)) {
        return Err(missing());
    }
    Ok(f)
}

pub struct EvidenceFilter {
    pub unit_id: Option<i64>,
    pub year: Option<i32>,
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: EvidenceFilter,
    page: PageRequest,
) -> ApiResult<Page<evidence_file::Model>> {
    let mut query = scoped(
        evidence_file::Entity::find(),
        actor,
        evidence_file::Column::UnitId,
        Reach::Records,
    )
    .order_by_asc(evidence_file::Column::Id);
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(evidence_file::Column::UnitId.eq(unit_id));
    }
    if let Some(year) = filter.year {
        query = query.filter(evidence_file::Column::Year.eq(year));
    }
    query.page(db, page).await
}

/// Deletes a file's metadata (its bytes go with the next `parindex evidence gc` when no
/// other file has the same content). Refused (409) while any evidence names it.
pub async fn delete(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let f = get(&txn, actor, id).await?;
    let u = find_unit(&txn, f.unit_id).await?;
    authorize(actor, Action::ManageEvidence, &unit_ref(&u))?;
    let places = references(&txn, f.unit_id)
        .await?
        .remove(&f.id)
        .unwrap_or_default();
    if let Some(first) = places.first() {
        let (en, vi) = (
            places
                .iter()
                .map(|p| p.en.clone())
                .collect::<Vec<_>>()
                .join("; "),
            places
                .iter()
                .map(|p| p.vi.clone())
                .collect::<Vec<_>>()
                .join("; "),
        );
        let code = if first.frozen {
            "evidence_file_frozen"
        } else {
            "evidence_file_in_use"
        };
        return Err(ApiError::conflict(
            code,
            text!(
                "the file is evidence of: {en}; it cannot be deleted while evidence names it",
                "tệp đang là tài liệu kiểm chứng của: {vi}; không thể xóa khi còn được dẫn chiếu"
            ),
        ));
    }
    evidence_file::Entity::delete_by_id(f.id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        audit::Change {
            entity: "evidence_file",
            entity_id: f.id,
            action: "delete",
            unit_id: Some(f.unit_id),
            results_year: None,
            old: Some(describe(&f)),
            new: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Where a file is named, in words.
#[derive(Clone, Debug)]
pub struct Place {
    pub en: String,
    pub vi: String,
    /// Named by a submitted self-assessment or a finalized appraisal: for good.
    pub frozen: bool,
}

#[derive(FromQueryResult)]
struct EvidenceRow {
    year: i32,
    label: String,
    status: String,
    evidence: String,
    source: String,
}

fn file_ids(evidence_json: &str) -> Vec<i64> {
    serde_json::from_str::<Vec<Evidence>>(evidence_json)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.file_id)
        .collect()
}

/// Every place that names each of a unit's files: the entries of its self-assessments, the
/// milestones and progress reports of its remediation plans.
pub async fn references<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
) -> ApiResult<BTreeMap<i64, Vec<Place>>> {
    let backend = conn.get_database_backend();
    let sql = "SELECT s.year AS year, e.criterion_code AS label, s.status AS status, \
                      e.evidence AS evidence, 'self' AS source \
               FROM assessment_entries e JOIN self_assessments s ON s.id = e.self_assessment_id \
               WHERE s.unit_id = $1 AND e.evidence <> '[]' \
               UNION ALL \
               SELECT p.year, COALESCE(i.criterion_code, i.title), i.status, m.evidence, 'milestone' \
               FROM remediation_milestones m JOIN remediation_items i ON i.id = m.item_id \
               JOIN remediation_plans p ON p.id = i.plan_id \
               WHERE i.unit_id = $1 AND m.evidence <> '[]' \
               UNION ALL \
               SELECT p.year, COALESCE(i.criterion_code, i.title), i.status, r.evidence, 'progress' \
               FROM remediation_progress r JOIN remediation_items i ON i.id = r.item_id \
               JOIN remediation_plans p ON p.id = i.plan_id \
               WHERE i.unit_id = $1 AND r.evidence <> '[]'";
    let sql = if backend == sea_orm::DatabaseBackend::Sqlite {
        sql.replace("$1", "?")
    } else {
        sql.to_string()
    };
    let values: Vec<sea_orm::Value> = vec![unit_id.into(), unit_id.into(), unit_id.into()];
    let rows = EvidenceRow::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .all(conn)
        .await?;
    let mut out: BTreeMap<i64, Vec<Place>> = BTreeMap::new();
    for row in rows {
        let (en, vi, frozen) = match row.source.as_str() {
            "self" => {
                let frozen = row.status != SelfAssessmentStatus::Draft.to_value()
                    && row.status != SelfAssessmentStatus::Returned.to_value();
                (
                    format!(
                        "criterion {} of the {} self-assessment ({})",
                        row.label, row.year, row.status
                    ),
                    format!(
                        "tiêu chí {} của hồ sơ tự đánh giá năm {} ({})",
                        row.label,
                        row.year,
                        SelfAssessmentStatus::ALL
                            .iter()
                            .find(|s| s.as_str() == row.status)
                            .map_or(row.status.as_str(), |s| s.words_vi())
                    ),
                    frozen,
                )
            }
            _ => (
                format!("remediation item {} of the {} plan", row.label, row.year),
                format!(
                    "nhiệm vụ khắc phục {} của kế hoạch năm {}",
                    row.label, row.year
                ),
                false,
            ),
        };
        for id in file_ids(&row.evidence) {
            let places = out.entry(id).or_default();
            if !places.iter().any(|p| p.en == en) {
                places.push(Place {
                    en: en.clone(),
                    vi: vi.clone(),
                    frozen,
                });
            }
        }
    }
    for places in out.values_mut() {
        // The frozen reasons first: they are the ones that last.
        places.sort_by_key(|p| !p.frozen);
    }
    Ok(out)
}

/// Checks that every `file_id` named (with the field that names it) is a file of `unit_id`;
/// a file of another unit reads exactly like one that does not exist.
pub async fn check_file_ids<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
    named: &[(String, i64)],
) -> ApiResult<()> {
    if named.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<i64> = named.iter().map(|(_, id)| *id).collect();
    let found: HashSet<i64> = evidence_file::Entity::find()
        .filter(evidence_file::Column::UnitId.eq(unit_id))
        .filter(evidence_file::Column::Id.is_in(wanted.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    let errors: Vec<FieldError> = named
        .iter()
        .filter(|(_, id)| !found.contains(id))
        .map(|(field, id)| {
            FieldError::new(
                field.clone(),
                "unknown_file",
                text!(
                    "this unit has no evidence file {id}",
                    "đơn vị không có tài liệu kiểm chứng {id}"
                ),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The `file_id`s of a list of evidence, with the field that names each.
pub fn named_files(field: &str, evidence: &[Evidence]) -> Vec<(String, i64)> {
    evidence
        .iter()
        .enumerate()
        .filter_map(|(j, e)| e.file_id.map(|id| (format!("{field}[{j}].file_id"), id)))
        .collect()
}

/// The files of a self-assessment for its zip: (criterion code, file) in code order, each
/// file once per criterion that names it.
/// The name a file is served under: the stored name, with an extension of the kind its
/// content is (files stored before the name followed the content get it here).
pub fn served_name(f: &evidence_file::Model) -> String {
    match crate::storage::FileKind::of_media_type(&f.content_type) {
        Some(kind) => kind.file_name(&f.filename),
        None => f.filename.clone(),
    }
}

/// The files a self-assessment names, by criterion, for its `evidence.zip`: 413 when they
/// add up to more than `max_bytes` (each file can still be downloaded on its own).
pub async fn files_of_assessment(
    db: &DatabaseConnection,
    actor: &Principal,
    self_assessment_id: i64,
    max_bytes: u64,
) -> ApiResult<(
    entity::self_assessment::Model,
    Vec<(String, evidence_file::Model)>,
)> {
    let sa = super::assessments::find(db, self_assessment_id).await?;
    let u = find_unit(db, sa.unit_id).await?;
    authorize(actor, Action::ReadEvidence, &unit_ref(&u))?;
    let entries = super::scoresheet::load_entries(db, sa.id).await?;
    let mut named: Vec<(String, i64)> = Vec::new();
    for (code, e) in &entries {
        for id in e.evidence.iter().filter_map(|ev| ev.file_id) {
            if !named.contains(&(code.clone(), id)) {
                named.push((code.clone(), id));
            }
        }
    }
    let ids: HashSet<i64> = named.iter().map(|(_, id)| *id).collect();
    let files: std::collections::HashMap<i64, evidence_file::Model> = evidence_file::Entity::find()
        .filter(evidence_file::Column::UnitId.eq(sa.unit_id))
        .filter(evidence_file::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let mut out: Vec<(String, evidence_file::Model)> = named
        .into_iter()
        .filter_map(|(code, id)| files.get(&id).map(|f| (code, f.clone())))
        .collect();
    out.sort_by(|a, b| {
        crate::scoring::framework::compare_codes(&a.0, &b.0).then(a.1.id.cmp(&b.1.id))
    });
    let total: u64 = out.iter().map(|(_, f)| f.size.max(0) as u64).sum();
    if total > max_bytes {
        return Err(ApiError::new(
            http::StatusCode::PAYLOAD_TOO_LARGE,
            "zip_too_large",
            text!(
                "the files of this self-assessment add up to {total} bytes, more than one zip may hold ({max_bytes}); download them one by one",
                "các tệp của hồ sơ này tổng cộng {total} byte, vượt giới hạn một tệp nén ({max_bytes}); hãy tải từng tệp"
            ),
        ));
    }
    Ok((sa, out))
}

/// What `parindex evidence gc` did.
pub struct GcReport {
    pub removed: Vec<crate::storage::BlobInfo>,
    pub kept_named: usize,
    pub kept_recent: usize,
    pub spool_files: Vec<std::path::PathBuf>,
}

/// Removes blobs that no evidence file names and nobody touched within `grace` (a commit of
/// the same content touches its blob, so an upload racing the collector keeps its bytes),
/// and spool files as old. Blobs are listed before the names are read: a blob committed in
/// between is recent, and kept.
pub async fn collect_garbage(
    state: &AppState,
    grace: std::time::Duration,
    dry_run: bool,
) -> anyhow::Result<GcReport> {
    let blobs = state.blobs.list().await?;
    let named: HashSet<String> = evidence_file::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|f| f.sha256)
        .collect();
    let mut report = GcReport {
        removed: Vec::new(),
        kept_named: 0,
        kept_recent: 0,
        spool_files: Vec::new(),
    };
    for blob in blobs {
        if named.contains(&blob.sha256) {
            report.kept_named += 1;
        } else if blob.modified.elapsed().unwrap_or_default() < grace {
            report.kept_recent += 1;
        } else {
            if !dry_run {
                state.blobs.delete(&blob.sha256).await?;
            }
            report.removed.push(blob);
        }
    }
    report.spool_files = if dry_run {
        Vec::new()
    } else {
        state.blobs.clean_spool(grace).await?
    };
    Ok(report)
}
