//! Uploaded spreadsheet bodies (CSV, XLSX, workbooks) handed to the budgeted reader of
//! `parindex_service::uploads`.

use crate::error::{ApiError, ApiResult, HttpError, text};
use parindex_domain::spreadsheet::Rows;
pub use parindex_service::uploads::*;

/// An uploaded CSV or XLSX body, read within the upload budget (415 for other types). An
/// XLSX file is read as a workbook by its content whatever its label: some generated
/// clients send every file of a multi-type body as `text/csv`, and a zip signature cannot
/// begin a CSV of codes. `text_columns` as in `read_rows`.
pub async fn read_sheet(
    body: crate::http::json::RawBody,
    text_columns: &'static [usize],
) -> ApiResult<Rows> {
    let Some(format) = SheetFormat::of(&body.content_type) else {
        return Err(HttpError::from(ApiError::unsupported_media_type(text!(
            "expected application/json, text/csv or {}",
            "cần application/json, text/csv hoặc {}",
            crate::sheets::XLSX_CONTENT_TYPE
        ))));
    };
    let bytes = body.bytes().await?.to_vec();
    let format = if bytes.starts_with(ZIP_SIGNATURE) {
        SheetFormat::Xlsx
    } else {
        format
    };
    Ok(read_rows(format, bytes, text_columns).await?)
}

/// An uploaded workbook of a self-assessment or an appraisal (`identity`), read within the
/// upload budget: its leaves, or 422 naming each bad cell.
pub async fn read_workbook(
    body: crate::http::json::RawBody,
    identity: &crate::workbook::Identity,
    framework: &crate::services::frameworks::LoadedFramework,
) -> ApiResult<Vec<crate::workbook::ReadLeaf>> {
    if body.content_type != crate::sheets::XLSX_CONTENT_TYPE {
        return Err(HttpError::from(ApiError::unsupported_media_type(text!(
            "expected application/json or {}",
            "cần application/json hoặc {}",
            crate::sheets::XLSX_CONTENT_TYPE
        ))));
    }
    let bytes = body.bytes().await?.to_vec();
    // Column 0 holds codes: 1.10 typed as a number would read as 1.1.
    let rows = read_rows(SheetFormat::Xlsx, bytes, &[0]).await?;
    crate::workbook::read(&rows, identity, &framework.tree)
        .map_err(|e| ApiError::validation(e).into())
}
