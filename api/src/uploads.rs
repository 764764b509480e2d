//! Spreadsheet uploads, read off the HTTP workers within a fixed budget.
//!
//! The reading itself (`parindex_domain::spreadsheet`) never costs more than its budget in
//! memory or time; here it runs on a blocking thread, a few at a time, so that a burst of
//! hostile uploads neither starves the workers (health checks keep answering) nor adds up
//! in memory. A read that outlives its time budget is answered at once; its thread stops
//! at its own next clock check and keeps its slot until then.

use crate::error::{ApiError, ApiResult, FieldError, text};
use actix_web::http::StatusCode;
use parindex_domain::spreadsheet::{self, Budget, Rows, UploadError};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::Semaphore;

pub use parindex_domain::spreadsheet::Limit;

/// Reads that may run at once; each holds at most the decompressed budget (32 MiB).
const PARALLEL_READS: usize = 2;

static READ_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(PARALLEL_READS));

/// The first bytes of every XLSX file (a zip archive's local file header).
pub const ZIP_SIGNATURE: &[u8] = b"PK\x03\x04";

/// The spreadsheet formats an upload may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

impl SheetFormat {
    /// The format of a request's media type (lower case, without parameters).
    pub fn of(content_type: &str) -> Option<SheetFormat> {
        match content_type {
            "text/csv" => Some(SheetFormat::Csv),
            crate::sheets::XLSX_CONTENT_TYPE => Some(SheetFormat::Xlsx),
            _ => None,
        }
    }
}

/// The problem of an upload that broke its budget (413 for sizes, 422 for content) or
/// cannot be read (422); both name the file field and, for a budget, the limit.
pub fn upload_problem(e: UploadError) -> ApiError {
    match e {
        UploadError::OverBudget { limit, message } => {
            let status = if limit.is_size() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            ApiError::new(status, "upload_over_budget", message.clone())
                .with_errors(vec![FieldError::new("file", limit.name(), message)])
        }
        UploadError::Unreadable(message) => {
            ApiError::validation(vec![FieldError::new("file", "unreadable", message)])
        }
    }
}

/// Reads an uploaded CSV or XLSX (first sheet) into rows; `text_columns` are the XLSX
/// columns where a fractional number is an error (codes typed as numbers).
pub async fn read_rows(
    format: SheetFormat,
    bytes: Vec<u8>,
    text_columns: &'static [usize],
) -> ApiResult<Rows> {
    read_rows_within(format, bytes, text_columns, Budget::DEFAULT).await
}

pub async fn read_rows_within(
    format: SheetFormat,
    bytes: Vec<u8>,
    text_columns: &'static [usize],
    budget: Budget,
) -> ApiResult<Rows> {
    let patience = budget.max_time + Duration::from_secs(1);
    let busy = || {
        ApiError::service_unavailable(text!(
            "too many spreadsheets are being read at this moment; retry in a few seconds",
            "đang có quá nhiều bảng tính được đọc cùng lúc; hãy thử lại sau vài giây"
        ))
    };
    let permit = tokio::time::timeout(patience, READ_SLOTS.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    let time_limit = budget.max_time;
    let job = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        match format {
            SheetFormat::Csv => spreadsheet::read_csv(&bytes, &budget),
            SheetFormat::Xlsx => spreadsheet::read_xlsx(&bytes, &budget, text_columns),
        }
    });
    match tokio::time::timeout(patience, job).await {
        Ok(Ok(result)) => result.map_err(upload_problem),
        Ok(Err(join)) => Err(ApiError::internal(anyhow::anyhow!(
            "spreadsheet reader failed: {join}"
        ))),
        Err(_) => Err(upload_problem(UploadError::OverBudget {
            limit: Limit::Time,
            message: text!(
                "the file took longer than {} s to read",
                "đọc tệp mất quá {} giây",
                time_limit.as_secs_f64()
            ),
        })),
    }
}

/// An uploaded CSV or XLSX body, read within the upload budget (415 for other types). An
/// XLSX file is read as a workbook by its content whatever its label: some generated
/// clients send every file of a multi-type body as `text/csv`, and a zip signature cannot
/// begin a CSV of codes. `text_columns` as in `read_rows`.
pub async fn read_sheet(
    body: crate::http::json::RawBody,
    text_columns: &'static [usize],
) -> ApiResult<Rows> {
    let Some(format) = SheetFormat::of(&body.content_type) else {
        return Err(ApiError::unsupported_media_type(text!(
            "expected application/json, text/csv or {}",
            "cần application/json, text/csv hoặc {}",
            crate::sheets::XLSX_CONTENT_TYPE
        )));
    };
    let bytes = body.bytes().await?.to_vec();
    let format = if bytes.starts_with(ZIP_SIGNATURE) {
        SheetFormat::Xlsx
    } else {
        format
    };
    read_rows(format, bytes, text_columns).await
}

/// An uploaded workbook of a self-assessment or an appraisal (`identity`), read within the
/// upload budget: its leaves, or 422 naming each bad cell.
pub async fn read_workbook(
    body: crate::http::json::RawBody,
    identity: &crate::workbook::Identity,
    framework: &crate::services::frameworks::LoadedFramework,
) -> ApiResult<Vec<crate::workbook::ReadLeaf>> {
    if body.content_type != crate::sheets::XLSX_CONTENT_TYPE {
        return Err(ApiError::unsupported_media_type(text!(
            "expected application/json or {}",
            "cần application/json hoặc {}",
            crate::sheets::XLSX_CONTENT_TYPE
        )));
    }
    let bytes = body.bytes().await?.to_vec();
    // Column 0 holds codes: 1.10 typed as a number would read as 1.1.
    let rows = read_rows(SheetFormat::Xlsx, bytes, &[0]).await?;
    crate::workbook::read(&rows, identity, framework).map_err(ApiError::validation)
}
