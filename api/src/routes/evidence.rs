//! Evidence files: upload (multipart), metadata, download with `Range`, list, delete, and a
//! self-assessment's files as one zip.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError, HttpError, text};
use crate::http::Query;
use crate::http::range::{RangeAnswer, resolve};
use crate::routes::Page;
use crate::services::evidence::{self, EvidenceFilter};
use crate::state::AppState;
use crate::storage::{SpoolError, Spooled, spool};
use crate::validation::{PageParams, Year};
use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Datelike, Utc};
use entity::evidence_file;
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload_evidence_file)
        .service(list_evidence_files)
        .service(get_evidence_file)
        .service(download_evidence_file)
        .service(delete_evidence_file)
        .service(self_assessment_evidence_zip);
}

/// How long an upload may take to arrive in all: a 20 MiB file over a slow provincial link
/// (each piece must also come within the body timeout).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Multipart overhead (boundaries, part headers, the small fields) on top of the file.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;
/// A text field (`unit_id`, `year`) is a number: a few bytes.
const MAX_TEXT_FIELD: usize = 32;
const MAX_PARTS: usize = 8;

/// An evidence file's metadata.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EvidenceFileResponse {
    pub id: i64,
    pub unit_id: i64,
    /// The assessment year it was uploaded for.
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    /// The original file name (NFC; a path sent by the client is cut to its last part),
    /// with an extension of the kind its content is: a PDF sent as `Báo cáo.bat` is
    /// `Báo cáo.bat.pdf`.
    #[schema(example = "Quyết định 19-QĐ-UBND kế hoạch CCHC 2024.pdf")]
    pub filename: String,
    /// Decided from the content, e.g. `application/pdf`.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Lower-case hex; also the download's `ETag` (quoted).
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    /// The uploading account (`null` once that account is gone, or for the demo data).
    pub created_by: Option<i64>,
    /// A PDF's digital signatures, each with its verdict (`valid`, `revoked`,
    /// `modified_after_signing`, `certificate_expired`, `not_trusted`, `invalid`), signer
    /// and reason; empty for an
    /// unsigned PDF or another kind of file.
    pub signatures: Vec<crate::signatures::SignatureCheck>,
    /// When they were verified (at upload, or again after the trust anchors changed);
    /// `null`: not checked (not a PDF, or uploaded before signatures were verified).
    pub signatures_checked_at: Option<DateTime<Utc>>,
    /// The signatures in one line, as lists show them: `signed by Nguyễn Văn A (UBND xã
    /// Vĩnh Long): valid`; `null` without signatures.
    #[schema(example = "signed by Nguyễn Văn A (UBND xã Vĩnh Long): valid")]
    pub signed_by: Option<String>,
}

impl From<&evidence_file::Model> for EvidenceFileResponse {
    fn from(f: &evidence_file::Model) -> Self {
        let signatures = evidence::signatures_of(f);
        EvidenceFileResponse {
            id: f.id,
            unit_id: f.unit_id,
            year: f.year,
            filename: evidence::served_name(f),
            content_type: f.content_type.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
            created_at: f.created_at,
            created_by: f.created_by,
            signed_by: crate::signatures::summary(&signatures),
            signatures,
            signatures_checked_at: f.signatures_checked_at,
        }
    }
}

/// The multipart body of an upload (`unit_id` before `file` lets the right to upload be
/// checked before the file is read; either order is accepted).
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the body for the OpenAPI document; read part by part.
pub struct EvidenceUpload {
    /// The unit the file belongs to.
    unit_id: i64,
    /// The assessment year it is for (default: the current year). A form field is sent
    /// or left out, never null.
    #[schema(value_type = crate::validation::Year, required = false)]
    year: Option<i32>,
    /// The document: PDF, DOCX, XLSX, DOC, XLS, ODT, ODS, JPEG or PNG.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

fn upload_problem(field: &str, code: &'static str, en: &str, vi: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(
        field,
        code,
        crate::error::Text {
            en: en.to_string(),
            vi: vi.to_string(),
        },
    )])
}

async fn small_field(
    field: &mut actix_multipart::Field,
    name: &str,
    idle: Duration,
) -> ApiResult<i64> {
    let mut bytes = Vec::new();
    while let Some(chunk) = tokio::time::timeout(idle, field.next())
        .await
        .map_err(|_| stalled(idle))?
    {
        let chunk = chunk.map_err(multipart_error)?;
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(upload_problem(
                name,
                "too_long",
                "must be a whole number",
                "phải là số nguyên",
            )
            .into());
        }
        bytes.extend_from_slice(&chunk);
    }
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            upload_problem(
                name,
                "invalid_number",
                "must be a whole number above 0",
                "phải là số nguyên lớn hơn 0",
            )
            .into()
        })
}

fn multipart_error(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::bad_request(
        "malformed_multipart",
        text!(
            "the multipart body could not be read: {e}",
            "không đọc được nội dung multipart: {e}"
        ),
    )
}

fn spool_error(e: SpoolError) -> ApiError {
    match e {
        SpoolError::TooLarge(limit) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            text!(
                "the file is larger than the limit of {limit} bytes",
                "tệp vượt giới hạn {limit} byte"
            ),
        )
        .with_errors(vec![FieldError::new(
            "file",
            "too_large",
            text!("at most {limit} bytes", "tối đa {limit} byte"),
        )]),
        SpoolError::Client(e) => ApiError::bad_request(
            "malformed_multipart",
            text!("the file could not be read: {e}", "không đọc được tệp: {e}"),
        ),
        SpoolError::Stalled(idle) => stalled(idle),
        SpoolError::Io(e) if crate::storage::is_storage_full(&e) => crate::storage::store_full(),
        SpoolError::Io(e) => ApiError::internal(e),
    }
}

fn stalled(idle: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "body_timeout",
        text!(
            "no part of the upload arrived for {} s",
            "không nhận được dữ liệu tải lên trong {} giây",
            idle.as_secs_f64()
        ),
    )
}

/// The name a part's `Content-Disposition` gives the file (`filename*` first).
fn part_filename(field: &actix_multipart::Field) -> Option<String> {
    let cd = field.content_disposition()?;
    if let Some(ext) = cd.get_filename_ext()
        && let Ok(name) = String::from_utf8(ext.value.clone())
    {
        return Some(name);
    }
    cd.get_filename().map(str::to_string)
}

struct Received {
    unit: entity::unit::Model,
    year: Option<i32>,
    filename: String,
    spooled: Spooled,
}

/// Reads the parts in order: `unit_id` (checked, with the caller's right to upload there,
/// before the file is read), optional `year`, then `file`, streamed to the spool.
async fn receive(
    state: &AppState,
    principal: &Principal,
    mut parts: Multipart,
) -> ApiResult<Received> {
    let mut unit: Option<entity::unit::Model> = None;
    let mut year: Option<i32> = None;
    let mut file: Option<(String, Spooled)> = None;
    let mut count = 0;
    // An upload may be slow, but not silent: each piece must come within the body timeout.
    let idle = state.config.body_timeout;
    while let Some(field) = tokio::time::timeout(idle, parts.next())
        .await
        .map_err(|_| stalled(idle))?
    {
        let mut field = field.map_err(multipart_error)?;
        count += 1;
        if count > MAX_PARTS {
            return Err(upload_problem(
                "body",
                "too_many_parts",
                "send only unit_id, year and file",
                "chỉ gửi unit_id, year và file",
            )
            .into());
        }
        match field.name().unwrap_or_default() {
            "unit_id" if unit.is_none() => {
                let id = small_field(&mut field, "unit_id", idle).await?;
                unit = Some(evidence::may_upload(&state.db, principal, id).await?);
            }
            "year" if year.is_none() => {
                let y = small_field(&mut field, "year", idle).await?;
                let y = i32::try_from(y)
                    .ok()
                    .filter(|y| (2000..=2100).contains(y))
                    .ok_or_else(|| {
                        upload_problem(
                            "year",
                            "out_of_range",
                            "must be between 2000 and 2100",
                            "phải từ 2000 đến 2100",
                        )
                    })?;
                year = Some(y);
            }
            "file" if file.is_none() => {
                if unit.is_none() {
                    evidence::may_upload_somewhere(principal)?;
                }
                let name = evidence::clean_filename(&part_filename(&field).unwrap_or_default());
                if name.is_empty() {
                    return Err(upload_problem(
                        "file",
                        "required",
                        "the file part needs a filename",
                        "phần file cần có tên tệp",
                    )
                    .into());
                }
                let spooled = spool(
                    state.blobs.spool_dir(),
                    &mut field,
                    state.config.evidence.max_bytes,
                    idle,
                )
                .await
                .map_err(spool_error)?;
                file = Some((name, spooled));
            }
            other => {
                return Err(upload_problem(
                    other,
                    "unexpected_part",
                    "not a part of this upload (unit_id, year, file), or sent twice",
                    "không thuộc nội dung tải lên (unit_id, year, file) hoặc bị gửi hai lần",
                )
                .into());
            }
        }
    }
    let Some(unit) = unit else {
        return Err(upload_problem("unit_id", "required", "required", "bắt buộc").into());
    };
    let Some((filename, spooled)) = file else {
        return Err(upload_problem("file", "required", "required", "bắt buộc").into());
    };
    Ok(Received {
        unit,
        year,
        filename,
        spooled,
    })
}

/// Upload an evidence file of a unit.
///
/// `multipart/form-data` with `unit_id`, optionally `year` (the assessment year, default
/// the current one), and `file`, preferably in that order: then the right to upload to the
/// unit is checked before the file is read (sent after the file, the unit is checked before
/// anything is stored). The unit's officers upload (and admins). The file streams to
/// storage and is hashed on the way; its kind is decided from its bytes (a renamed
/// executable is refused with 415 whatever its name or declared type), its size is limited
/// (413). A PDF's digital signatures are verified on the way (`signatures`: signer,
/// verdict, reason; against the deployment's trust anchors); a PDF whose signatures cannot
/// be read within the budget (e.g. more than 64 signed byte ranges) is a 422
/// `unreadable_signatures`. The original file name is kept, UTF-8 included. Name the returned `id` as
/// `file_id` in an evidence item of a self-assessment entry or a remediation report.
#[utoipa::path(
    tag = "evidence-files",
    security(("bearer_auth" = [])),
    request_body(content = EvidenceUpload, content_type = "multipart/form-data",
        description = "`unit_id`, optional `year`, and `file` (best in that order)"),
    responses(
        (status = 201, description = "Stored", body = EvidenceFileResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 404, response = crate::openapi::NotFound),
        (status = 413, response = crate::openapi::FileTooLarge),
        (status = 415, response = crate::openapi::UnsupportedFileType),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::ServiceUnavailable),
        (status = 507, response = crate::openapi::InsufficientStorage),
    )
)]
#[post("/evidence-files")]
pub async fn upload_evidence_file(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    if !req
        .content_type()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return Err(HttpError::from(ApiError::unsupported_media_type(text!(
            "send the file as multipart/form-data (fields unit_id and file)",
            "hãy gửi tệp dạng multipart/form-data (trường unit_id và file)"
        ))));
    }
    let limit = state.config.evidence.max_bytes;
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit + MULTIPART_OVERHEAD
    {
        return Err(spool_error(SpoolError::TooLarge(limit)).into());
    }
    let parts = Multipart::new(req.headers(), payload);
    let received = tokio::time::timeout(UPLOAD_TIMEOUT, receive(&state, &principal, parts))
        .await
        .map_err(|_| {
            HttpError::from(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                text!(
                    "the upload did not arrive within {} minutes",
                    "tệp tải lên không đến kịp trong {} phút",
                    UPLOAD_TIMEOUT.as_secs() / 60
                ),
            ))
        })??;
    let year = received
        .year
        .unwrap_or_else(|| parindex_domain::vietnam::today().year());
    let created = evidence::store(
        &state,
        &principal,
        &received.unit,
        year,
        &received.filename,
        received.spooled,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/evidence-files/{}", created.id),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", created.sha256)))
        .json(EvidenceFileResponse::from(&created)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceListQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub unit_id: Option<i64>,
    /// The assessment year the files were uploaded for.
    pub year: Option<Year>,
}

/// List the evidence files the caller may read.
///
/// A unit's officers see their unit's files; appraisers and viewers those of the units
/// under them; admins all. Filter by unit and year; oldest first.
#[utoipa::path(
    tag = "evidence-files",
    security(("bearer_auth" = [])),
    params(EvidenceListQuery),
    responses((status = 200, description = "One page", body = Page<EvidenceFileResponse>))
)]
#[get("/evidence-files")]
pub async fn list_evidence_files(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<EvidenceListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let found = evidence::list(
        &state.db,
        &principal,
        EvidenceFilter {
            unit_id: q.unit_id,
            year: q.year.map(Year::get),
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |r| EvidenceFileResponse::from(r))))
}

/// Read an evidence file's metadata.
///
/// Readable by the unit's officers and by appraisers, viewers and admins above it; to anyone
/// else the file does not exist (404), whether it does or not.
#[utoipa::path(
    tag = "evidence-files",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Evidence file id")),
    responses(
        (status = 200, description = "The metadata", body = EvidenceFileResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/evidence-files/{id}")]
pub async fn get_evidence_file(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let f = evidence::get(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", f.sha256)))
        .json(EvidenceFileResponse::from(&f)))
}

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Download an evidence file's bytes.
///
/// Byte-identical to what was uploaded, with its `Content-Type`, a `Content-Disposition`
/// carrying the original name (`filename*`, RFC 6266) and `ETag` = its sha256 (quoted).
/// `If-None-Match` with that tag answers 304. One byte range may be asked with `Range:
/// bytes=start-end` (206 with `Content-Range`; `If-Range` honoured); several ranges or an
/// invalid header get the whole file.
#[utoipa::path(
    tag = "evidence-files",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Evidence file id"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`"),
        ("If-Range" = Option<String>, Header, description = "Send the range only if the file still has this ETag"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of a copy the client holds"),
    ),
    responses(
        (status = 200, description = "The whole file, with its own Content-Type", content(
            (crate::schema::EvidenceBytes = "application/pdf"),
            (crate::schema::EvidenceBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (crate::schema::EvidenceBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::schema::EvidenceBytes = "application/msword"),
            (crate::schema::EvidenceBytes = "application/vnd.ms-excel"),
            (crate::schema::EvidenceBytes = "application/vnd.oasis.opendocument.text"),
            (crate::schema::EvidenceBytes = "application/vnd.oasis.opendocument.spreadsheet"),
            (crate::schema::EvidenceBytes = "image/jpeg"),
            (crate::schema::EvidenceBytes = "image/png"),
        ), headers(("ETag" = String), ("Content-Disposition" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The asked range", content(
            (crate::schema::EvidenceBytes = "application/pdf"),
            (crate::schema::EvidenceBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (crate::schema::EvidenceBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::schema::EvidenceBytes = "application/msword"),
            (crate::schema::EvidenceBytes = "application/vnd.ms-excel"),
            (crate::schema::EvidenceBytes = "application/vnd.oasis.opendocument.text"),
            (crate::schema::EvidenceBytes = "application/vnd.oasis.opendocument.spreadsheet"),
            (crate::schema::EvidenceBytes = "image/jpeg"),
            (crate::schema::EvidenceBytes = "image/png"),
        ), headers(("Content-Range" = String), ("ETag" = String))),
        (status = 304, description = "The client's copy (If-None-Match) is current"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 416, response = crate::openapi::RangeNotSatisfiable),
    )
)]
#[get("/evidence-files/{id}/content")]
pub async fn download_evidence_file(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let f = evidence::get(&state.db, &principal, id.into_inner()).await?;
    let etag = format!("\"{}\"", f.sha256);
    let size = u64::try_from(f.size).map_err(ApiError::internal)?;
    if let Some(tags) = header_str(&req, header::IF_NONE_MATCH)
        && tags.split(',').any(|t| t.trim() == etag || t.trim() == "*")
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let answer = resolve(
        header_str(&req, header::RANGE),
        header_str(&req, header::IF_RANGE),
        &etag,
        size,
    );
    let (mut response, range, length) = match answer {
        RangeAnswer::Unsatisfiable => {
            return Err(HttpError::from(
                ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    text!(
                        "the file has {size} bytes; the range asked starts past its end",
                        "tệp có {size} byte; khoảng yêu cầu bắt đầu sau cuối tệp"
                    ),
                )
                .with_content_range(format!("bytes */{size}")),
            ));
        }
        RangeAnswer::Full => (HttpResponse::Ok(), None, size),
        RangeAnswer::Partial { start, end } => {
            let mut r = HttpResponse::PartialContent();
            r.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
            (r, Some((start, end)), end - start + 1)
        }
    };
    let body = state.blobs.read(&f.sha256, range).await.map_err(|e| {
        tracing::error!(file = f.id, sha256 = %f.sha256, error = %e, "evidence bytes unreadable");
        ApiError::internal(e)
    })?;
    Ok(response
        .content_type(f.content_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::sheets::content_disposition(&evidence::served_name(&f)),
        ))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        // Opened in a browser tab, the file runs nothing.
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .no_chunking(length)
        .streaming(body))
}

/// Delete an evidence file that no evidence names.
///
/// The unit's officers (and admins) delete their unit's files. While any evidence item
/// names the file (a self-assessment entry, a remediation milestone or report) it is 409:
/// remove the reference first, which a submitted self-assessment or a finalized appraisal
/// never allows. The bytes are removed by `parindex evidence gc` once no file has them.
#[utoipa::path(
    tag = "evidence-files",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Evidence file id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[delete("/evidence-files/{id}")]
pub async fn delete_evidence_file(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    evidence::delete(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A `Write` into a buffer the zip task drains after each write.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn take(&self) -> Bytes {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Bytes::from(std::mem::take(&mut *b))
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Unique entry names within each criterion's folder: `a.pdf`, `a (2).pdf`…
fn entry_name(code: &str, filename: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let (stem, ext) = match filename.rfind('.') {
        Some(i) if i > 0 => (&filename[..i], &filename[i..]),
        _ => (filename, ""),
    };
    let mut name = format!("{code}/{filename}");
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{code}/{stem} ({n}){ext}");
        n += 1;
    }
    name
}

/// Download every file a self-assessment names, as one zip.
///
/// One folder per criterion code (`1.5.3/Báo cáo.pdf`), each file in every folder whose
/// criterion names it, stored uncompressed (documents are compressed already) and streamed
/// as it is read: what an appraiser downloads to read a commune's file. Readable by whoever
/// may read the unit's evidence.
#[utoipa::path(
    tag = "evidence-files",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Self-assessment id")),
    responses(
        (status = 200, description = "The zip", content_type = "application/zip",
            body = crate::schema::ZipFile, headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 413, description = "The files add up to more than one zip may hold (PARINDEX_EVIDENCE_ZIP_MAX_BYTES, 2 GiB by default; code `zip_too_large`): download them one by one",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/self-assessments/{id}/evidence.zip")]
pub async fn self_assessment_evidence_zip(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (sa, files) = evidence::files_of_assessment(
        &state.db,
        &principal,
        id.into_inner(),
        state.config.evidence.zip_max_bytes,
    )
    .await?;
    let unit = crate::services::units::find_unit(&state.db, sa.unit_id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let blobs = state.blobs.clone();
    actix_web::rt::spawn(async move {
        let buffer = SharedBuffer::default();
        let mut zip = zip::ZipWriter::new_stream(buffer.clone());
        let mut taken = std::collections::HashSet::new();
        let result: std::io::Result<()> = async {
            for (code, f) in &files {
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored)
                    .large_file(f.size >= u32::MAX as i64);
                zip.start_file(
                    entry_name(code, &evidence::served_name(f), &mut taken),
                    options,
                )
                .map_err(std::io::Error::other)?;
                let mut bytes = blobs.read(&f.sha256, None).await?;
                while let Some(chunk) = bytes.try_next().await? {
                    zip.write_all(&chunk)?;
                    let out = buffer.take();
                    if !out.is_empty() && tx.send(Ok(out)).await.is_err() {
                        // The client left: stop reading.
                        return Ok(());
                    }
                }
            }
            zip.finish().map_err(std::io::Error::other)?;
            Ok(())
        }
        .await;
        let rest = buffer.take();
        if let Err(e) = result {
            tracing::error!(error = %e, "evidence zip failed");
            let _ = tx.send(Err(e)).await;
        } else if !rest.is_empty() {
            let _ = tx.send(Ok(rest)).await;
        }
    });
    let stream = tokio_stream_from(rx);
    let name = format!("{} - {} - minh chung.zip", unit.code, sa.year);
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::sheets::content_disposition(&name),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .streaming(stream))
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
