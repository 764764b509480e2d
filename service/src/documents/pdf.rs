//! PDF from a DOCX, by LibreOffice headless (`PARINDEX_SOFFICE`, the path of `soffice`).
//!
//! LibreOffice is large and slow to start, so it is optional: without it the server
//! answers `format=pdf` with 406 naming the setting, and DOCX needs nothing. Conversions
//! run one at a time (each takes a CPU and ~200 MB), in a scratch directory of their own,
//! with a profile kept for the process's life, and are killed after a time budget.

use crate::error::{ApiError, ApiResult, text};
use http::StatusCode;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long one conversion may take before it is killed (LibreOffice's first start on a
/// cold disk takes a few seconds; a page of text well under one).
pub const CONVERSION_BUDGET: Duration = Duration::from_secs(60);

static ONE_AT_A_TIME: Semaphore = Semaphore::const_new(1);

/// The 406 a PDF request gets when no LibreOffice is configured.
pub fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::NOT_ACCEPTABLE,
        "pdf_unavailable",
        text!(
            "PDF needs LibreOffice, and this server is not configured with it: set PARINDEX_SOFFICE to the path of soffice, or ask for format=docx",
            "Xuất PDF cần LibreOffice nhưng máy chủ chưa được cấu hình: đặt PARINDEX_SOFFICE là đường dẫn tới soffice, hoặc dùng format=docx"
        ),
    )
}

/// Converts `docx` to PDF with the configured `soffice`, or 406 when there is none.
pub async fn convert(soffice: Option<&Path>, docx: Vec<u8>) -> ApiResult<Vec<u8>> {
    let soffice = soffice.ok_or_else(unavailable)?;
    let _slot = ONE_AT_A_TIME.acquire().await.map_err(ApiError::internal)?;
    let scratch = Scratch::new()?;
    let input = scratch.0.join("document.docx");
    tokio::fs::write(&input, &docx)
        .await
        .map_err(ApiError::internal)?;
    let profile = std::env::temp_dir().join(format!("parindex-soffice-{}", std::process::id()));
    let mut command = tokio::process::Command::new(soffice);
    command
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(&scratch.0)
        .arg(&input)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().map_err(|e| {
        ApiError::internal(anyhow::anyhow!(
            "could not start {} (PARINDEX_SOFFICE): {e}",
            soffice.display()
        ))
    })?;
    let output = tokio::time::timeout(CONVERSION_BUDGET, child.wait_with_output())
        .await
        .map_err(|_| {
            ApiError::internal(anyhow::anyhow!(
                "LibreOffice took longer than {} s to convert a document",
                CONVERSION_BUDGET.as_secs()
            ))
        })?
        .map_err(ApiError::internal)?;
    let pdf = tokio::fs::read(scratch.0.join("document.pdf")).await;
    match pdf {
        Ok(bytes) if output.status.success() && bytes.starts_with(b"%PDF-") => Ok(bytes),
        // soffice exits 0 and writes nothing when Writer, which opens a DOCX, is missing.
        Err(_) if output.status.success() => Err(ApiError::internal(anyhow::anyhow!(
            "LibreOffice ({}) exited 0 but wrote no PDF: is LibreOffice Writer installed \
             (Debian package libreoffice-writer-nogui)?",
            soffice.display()
        ))),
        _ => Err(ApiError::internal(anyhow::anyhow!(
            "LibreOffice did not convert the document ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
                .chars()
                .take(500)
                .collect::<String>()
        ))),
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> ApiResult<Scratch> {
        let dir = std::env::temp_dir().join(format!("parindex-pdf-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
