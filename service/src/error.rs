//! The one error type of the API: every failure becomes an RFC 9457 problem document
//! (`application/problem+json`) with a stable snake_case `code` clients can branch on.
//!
//! Database and internal errors are logged with their cause chain and hidden from clients.
//! Every message is written in English and Vietnamese where it is raised (`text!`); the
//! response speaks the language of the request's `Accept-Language` (`problem_in`, sent by
//! `parindex_api::error`).

use http::StatusCode;
use http::header;
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document as sent to clients.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:parindex:problem:validation_failed",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "1 field is invalid",
    "code": "validation_failed",
    "errors": [{"field": "max_score", "code": "too_many_decimals", "message": "at most 2 decimal places"}]
}))]
pub struct Problem {
    /// A URN naming the kind of problem: `urn:parindex:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem, in the language of `Content-Language`.
    pub title: String,
    pub status: u16,
    /// What went wrong, for a human.
    pub detail: String,
    /// Stable machine-readable code (snake_case).
    pub code: String,
    /// Per-field problems (validation errors only), the first 100 of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// How many field problems there are in all, when more than `errors` lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors_total: Option<u64>,
}

/// A problem lists at most this many field errors (a file of 75,000 bad rows must not
/// answer with 75,000 of them); `errors_total` says how many there were.
pub const MAX_LISTED_ERRORS: usize = 100;

pub use parindex_domain::{FieldError, Lang, Text, text};

pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    /// Boxed: errors travel in every `Result` of the service, and stay small that way.
    detail: Box<Text>,
    errors: Vec<FieldError>,
    /// A header the problem carries: `Allow` of a 405, `Content-Range` of a 416 (boxed:
    /// rare, and errors stay small).
    header: Option<Box<(header::HeaderName, String)>>,
    retry_after_secs: Option<u64>,
    source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: Text) -> Self {
        ApiError {
            status,
            code,
            detail: Box::new(detail),
            errors: Vec::new(),
            header: None,
            retry_after_secs: None,
            source: None,
        }
    }

    pub fn bad_request(code: &'static str, detail: Text) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 422 with the list of invalid fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => one
                .text()
                .map(|message, _| format!("{}: {message}", one.field)),
            many => text!(
                "{} fields are invalid",
                "{} trường không hợp lệ",
                many.len()
            ),
        };
        ApiError {
            errors,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                detail,
            )
        }
    }

    /// 422 for a request that is well-formed but breaks a business rule.
    pub fn unprocessable(code: &'static str, detail: Text) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn with_detail(mut self, detail: Text) -> Self {
        self.detail = Box::new(detail);
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn unauthorized(detail: Text) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: Text) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: Text) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn conflict(code: &'static str, detail: Text) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn precondition_failed(detail: Text) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            detail,
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            text!(
                "the request body is larger than the limit of {limit} bytes",
                "nội dung yêu cầu vượt giới hạn {limit} byte"
            ),
        )
    }

    pub fn unsupported_media_type(detail: Text) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            detail,
        )
    }

    pub fn method_not_allowed(method: &str, path: &str, allow: String) -> Self {
        ApiError {
            header: Some(Box::new((header::ALLOW, allow.clone()))),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                text!(
                    "{method} is not allowed on {path}; allowed: {allow}",
                    "không dùng được phương thức {method} với {path}; được phép: {allow}"
                ),
            )
        }
    }

    /// A 416's `Content-Range: bytes */<size>`.
    pub fn with_content_range(mut self, value: String) -> Self {
        self.header = Some(Box::new((header::CONTENT_RANGE, value)));
        self
    }

    pub fn too_many_requests(detail: Text, retry_after_secs: u64) -> Self {
        ApiError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", detail)
        }
    }

    pub fn service_unavailable(detail: Text) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            detail,
        )
    }

    /// 507: there is no room for what was sent (a full evidence store, a unit's quota).
    pub fn insufficient_storage(code: &'static str, detail: Text) -> Self {
        Self::new(StatusCode::INSUFFICIENT_STORAGE, code, detail)
    }

    /// The same problem, asking the client to retry after `secs`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    /// A failure that is our fault: logged with its cause chain, hidden from the client.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        ApiError {
            source: Some(source.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                text!(
                    "an internal error occurred; it has been logged",
                    "đã xảy ra lỗi nội bộ; lỗi đã được ghi nhận"
                ),
            )
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The English detail (logs, tests).
    pub fn detail(&self) -> &str {
        &self.detail.en
    }

    pub fn detail_text(&self) -> &Text {
        &self.detail
    }

    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn to_problem(&self) -> Problem {
        self.problem_in(Lang::En)
    }

    /// The problem document as a reader of `lang` gets it.
    pub fn problem_in(&self, lang: Lang) -> Problem {
        Problem {
            type_: format!("urn:parindex:problem:{}", self.code),
            title: title_of(self.status, lang),
            status: self.status.as_u16(),
            detail: self.detail.get(lang).to_string(),
            code: self.code.to_string(),
            errors: self
                .errors
                .iter()
                .take(MAX_LISTED_ERRORS)
                .map(|e| e.localized(lang))
                .collect(),
            errors_total: (self.errors.len() > MAX_LISTED_ERRORS)
                .then_some(self.errors.len() as u64),
        }
    }

    /// Logs the hidden cause of an internal error (once per response).
    pub fn log_cause(&self) {
        if let Some(source) = &self.source {
            tracing::error!(error = %format!("{source:#}"), "internal error");
        }
    }

    /// A header the problem carries (`Allow` of a 405, `Content-Range` of a 416).
    pub fn extra_header(&self) -> Option<(&header::HeaderName, &str)> {
        self.header.as_ref().map(|h| (&h.0, h.1.as_str()))
    }

    /// The seconds a 429 or 503 asks the client to wait.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }
}

/// The reason phrase of a status, in English (the HTTP one) or Vietnamese.
pub fn title_of(status: StatusCode, lang: Lang) -> String {
    let english = status.canonical_reason().unwrap_or("Error");
    if lang == Lang::En {
        return english.to_string();
    }
    match status.as_u16() {
        400 => "Yêu cầu không hợp lệ",
        401 => "Chưa xác thực",
        403 => "Không có quyền",
        404 => "Không tìm thấy",
        405 => "Phương thức không được phép",
        406 => "Không đáp ứng được định dạng yêu cầu",
        408 => "Hết thời gian chờ yêu cầu",
        409 => "Xung đột",
        412 => "Điều kiện tiên quyết không thỏa",
        413 => "Nội dung quá lớn",
        415 => "Kiểu nội dung không được hỗ trợ",
        422 => "Dữ liệu không hợp lệ",
        428 => "Cần điều kiện tiên quyết",
        429 => "Quá nhiều yêu cầu",
        500 => "Lỗi máy chủ",
        503 => "Dịch vụ tạm thời không sẵn sàng",
        507 => "Không đủ dung lượng lưu trữ",
        414 => "Địa chỉ yêu cầu quá dài",
        _ => english,
    }
    .to_string()
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.detail.en
        )?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail.en)
    }
}

impl std::error::Error for ApiError {}

/// Why the database cannot serve a request now, when that is the cause of an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// No connection within the pool's wait, or none can be opened: down, restarting,
    /// unreachable, out of connections.
    Unreachable,
    /// A lock or a statement took longer than its timeout (a stalled transaction holds
    /// what this request needs).
    Stalled,
    /// The database's disk is full.
    DiskFull,
}

impl Unavailable {
    /// How a client should hear it, and how soon to retry.
    fn problem(self) -> ApiError {
        let (detail, retry) = match self {
            Unavailable::Unreachable => (
                text!(
                    "the database cannot be reached right now; retry in a few seconds",
                    "hiện không kết nối được cơ sở dữ liệu; hãy thử lại sau vài giây"
                ),
                2,
            ),
            Unavailable::Stalled => (
                text!(
                    "the database is busy with another change of the same records; retry in a few seconds",
                    "cơ sở dữ liệu đang bận với một thay đổi khác trên cùng dữ liệu; hãy thử lại sau vài giây"
                ),
                2,
            ),
            Unavailable::DiskFull => (
                text!(
                    "the database's disk is full: nothing was saved; retry once space is freed",
                    "ổ đĩa của cơ sở dữ liệu đã đầy: chưa lưu được gì; hãy thử lại khi đã giải phóng dung lượng"
                ),
                30,
            ),
        };
        ApiError {
            retry_after_secs: Some(retry),
            ..ApiError::service_unavailable(detail)
        }
    }
}

/// Whether `err` says the database cannot serve now (rather than that the request is
/// wrong or the code is): connections, timeouts, a full disk, on SQLite and PostgreSQL.
pub fn unavailable(err: &DbErr) -> Option<Unavailable> {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return Some(Unavailable::Unreachable),
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e.as_ref(),
        DbErr::Conn(_) => return Some(Unavailable::Unreachable),
        _ => return None,
    };
    match sqlx {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_) => Some(Unavailable::Unreachable),
        Sqlx::Database(e) => {
            let code = e.code().map(|c| c.to_string()).unwrap_or_default();
            match code.as_str() {
                // PostgreSQL: statement_timeout, lock_timeout, deadlock.
                "57014" | "55P03" | "40P01" => Some(Unavailable::Stalled),
                // PostgreSQL: disk full; out of memory or connections; shutting down,
                // starting up; connection exceptions.
                "53100" => Some(Unavailable::DiskFull),
                c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
                    Some(Unavailable::Unreachable)
                }
                // SQLite's extended result codes: the primary code is the low byte.
                c => match c.parse::<i32>().map(|n| n & 0xff) {
                    // SQLITE_BUSY, SQLITE_LOCKED: busy_timeout ran out.
                    Ok(5) | Ok(6) => Some(Unavailable::Stalled),
                    // SQLITE_FULL.
                    Ok(13) => Some(Unavailable::DiskFull),
                    // SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY (a volume gone
                    // read-only), SQLITE_PROTOCOL.
                    Ok(10) | Ok(14) | Ok(8) | Ok(15) => Some(Unavailable::Unreachable),
                    _ => None,
                },
            }
        }
        _ => None,
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if let Some(why) = unavailable(&err) {
            tracing::warn!(error = %err, reason = ?why, "the database cannot serve this request");
            if why == Unavailable::Unreachable {
                crate::outage::suspect();
            }
            return why.problem();
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
                "conflict",
                text!(
                    "the request conflicts with an existing record",
                    "yêu cầu trùng với một bản ghi đã có"
                ),
            ),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::conflict(
                "conflict",
                text!(
                    "the request refers to a record that does not exist or is still referenced",
                    "yêu cầu tham chiếu một bản ghi không tồn tại hoặc vẫn đang được dùng"
                ),
            ),
            _ => ApiError::internal(err),
        }
    }
}

/// A transition the state machine refuses is a 409 with its own code.
impl From<crate::workflow::WorkflowError> for ApiError {
    fn from(err: crate::workflow::WorkflowError) -> Self {
        ApiError::conflict(err.code, err.message)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

/// Collects field errors while validating a request, then fails once with all of them.
#[derive(Default, Debug)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, code: impl Into<String>, message: Text) {
        self.0.push(FieldError::new(field, code, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn extend(&mut self, other: Violations) {
        self.0.extend(other.0);
    }

    pub fn into_result(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_type_title_status_code() {
        let e = ApiError::conflict(
            "duplicate_code",
            text!("unit code 19-123 exists", "mã đơn vị 19-123 đã có"),
        );
        let p = e.to_problem();
        assert_eq!(p.type_, "urn:parindex:problem:duplicate_code");
        assert_eq!(p.title, "Conflict");
        assert_eq!(p.status, 409);
        assert_eq!(p.code, "duplicate_code");
        let vi = e.problem_in(Lang::Vi);
        assert_eq!(
            (vi.title.as_str(), vi.detail.as_str()),
            ("Xung đột", "mã đơn vị 19-123 đã có")
        );
        assert_eq!(vi.code, "duplicate_code");
    }

    #[test]
    fn validation_summarises_one_or_many_fields() {
        let one = ApiError::validation(vec![FieldError::new(
            "year",
            "out_of_range",
            text!("too old", "quá cũ"),
        )]);
        assert_eq!(one.detail(), "year: too old");
        assert_eq!(one.problem_in(Lang::Vi).detail, "year: quá cũ");
        let two = ApiError::validation(vec![
            FieldError::new("a", "required", text!("missing", "thiếu")),
            FieldError::new("b", "required", text!("missing", "thiếu")),
        ]);
        assert_eq!(two.detail(), "2 fields are invalid");
        assert_eq!(two.problem_in(Lang::Vi).detail, "2 trường không hợp lệ");
    }
}
