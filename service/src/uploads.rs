//! Spreadsheet uploads, read off the HTTP workers within a fixed budget.
//!
//! The reading itself (`parindex_domain::spreadsheet`) never costs more than its budget in
//! memory or time; here it runs on a blocking thread, a few at a time, so that a burst of
//! hostile uploads neither starves the workers (health checks keep answering) nor adds up
//! in memory. A read that outlives its time budget is answered at once; its thread stops
//! at its own next clock check and keeps its slot until then.

use crate::error::{ApiError, ApiResult, FieldError, text};
use http::StatusCode;
use parindex_domain::spreadsheet::{self, Budget, Rows, UploadError};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::Semaphore;

pub use parindex_domain::spreadsheet::Limit;

/// Reads that may run at once; each holds at most the decompressed budget (32 MiB).
const PARALLEL_READS: usize = 2;

static READ_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(PARALLEL_READS));

pub use parindex_domain::file_kind::ZIP_SIGNATURE;

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
