//! `Json<T>`: the request-body extractor of every handler.
//!
//! Unlike `actix_web::web::Json` it reports *where* a body is wrong: a syntax error is a
//! 400 `malformed_json`; a well-formed document of the wrong shape (missing, unknown or
//! mistyped field, unknown enum value) is a 422 naming the field path, e.g.
//! `entries[2].count`. Wrong content types are 415 and bodies over the limit 413.

use crate::error::{ApiError, FieldError, HttpError, Text, text};
use actix_web::dev::Payload;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpMessage, HttpRequest, http::header};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use std::future::{Ready, ready};

/// The largest request body accepted, shared as app data (`PARINDEX_MAX_BODY_BYTES`).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// How long a body may take to arrive once reading starts (`PARINDEX_BODY_TIMEOUT_MS`),
/// shared as app data: a client trickling a body one byte a second is cut off.
#[derive(Clone, Copy, Debug)]
pub struct BodyTimeout(pub std::time::Duration);

impl BodyTimeout {
    fn of(req: &HttpRequest) -> std::time::Duration {
        req.app_data::<BodyTimeout>()
            .map(|t| t.0)
            .unwrap_or(std::time::Duration::from_secs(60))
    }
}

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// For PATCH bodies: distinguishes an absent field (`None`, via `#[serde(default)]`) from
/// an explicit `null` (`Some(None)`).
pub fn explicit_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(deserializer).map(Some)
}

/// True when the request says its body is JSON (`application/json` or `…+json`).
pub fn is_json_content_type(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().map(|s| s.as_str()) == Some("json"))
        }
        _ => false,
    }
}

/// Reads the whole body, refusing it as soon as it grows past the body limit or when it has
/// not all arrived within the body timeout (408).
pub async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<BytesMut, ApiError> {
    let limit = req
        .app_data::<BodyLimit>()
        .map(|l| l.0)
        .unwrap_or(crate::config::DEFAULT_MAX_BODY_BYTES);
    let timeout = BodyTimeout::of(req);
    match tokio::time::timeout(timeout, read_body_within(req, payload, limit)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::new(
            actix_web::http::StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            text!(
                "the request body did not arrive within {} s",
                "nội dung yêu cầu không đến kịp trong {} giây",
                timeout.as_secs_f64()
            ),
        )),
    }
}

async fn read_body_within(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(
                "unreadable_body",
                text!(
                    "the request body could not be read: {e}",
                    "không đọc được nội dung yêu cầu: {e}"
                ),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Deserialises a JSON document, mapping serde errors to problems with field paths.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "malformed_json",
            text!(
                "the request body is empty; a JSON document is expected",
                "nội dung yêu cầu trống; cần một tài liệu JSON"
            ),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

fn json_error(path: &str, err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Data => {
            // serde appends " at line X column Y": useful for syntax errors, noise here.
            let message = strip_position(&err.to_string());
            ApiError::validation(vec![field_error(path, &message, "body")])
        }
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            "malformed_json",
            text!(
                "the request body is not valid JSON: {err}",
                "nội dung yêu cầu không phải JSON hợp lệ: {err}"
            ),
        ),
    }
}

/// The field error of a document (a JSON body, a query string) that did not deserialize at
/// `path`, named and worded for people (`root` names the whole document).
pub fn field_error(path: &str, raw_message: &str, root: &str) -> FieldError {
    let at_root = path == "." || path.is_empty();
    // A missing field is reported at its parent: name the field itself.
    let missing = raw_message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (at_root, missing) {
        (true, Some(name)) => name.to_string(),
        (false, Some(name)) => format!("{path}.{name}"),
        (true, None) => root.to_string(),
        (false, None) => path.to_string(),
    };
    let code = if raw_message.starts_with("unknown field") {
        "unknown_field"
    } else if raw_message.starts_with("missing field") {
        "required"
    } else if raw_message.starts_with("unknown variant") {
        "unknown_value"
    } else {
        "invalid_type"
    };
    FieldError::new(field, code, plain_words(raw_message))
}

/// A deserializer's message in words for people, in English and Vietnamese: Rust's type
/// names (`u32`, `i64`, `struct SelfEntryRequest`…) become what they mean, and parsers'
/// terse messages say what was expected.
pub fn plain_words(raw: &str) -> Text {
    // serde_urlencoded and path segments: `can not parse "abc" to a i64`.
    if let Some(rest) = raw.strip_prefix("can not parse ")
        && let Some((value, ty)) = rest.rsplit_once(" to a ")
    {
        let (en, vi) = type_words(ty);
        return text!("{value} is not {en}", "{value} không phải là {vi}");
    }
    // chrono's date and time parsers.
    if matches!(
        raw,
        "input contains invalid characters"
            | "premature end of input"
            | "input is out of range"
            | "trailing input"
            | "input is not enough for unique date and time"
            | "input is not enough for a unique date and time"
            | "no possible date and time matching input"
            | "impossible"
            | "bad or unsupported format string"
    ) {
        return text!(
            "is not a valid date (2024-10-31) or time (2024-10-31T08:00:00Z)",
            "không phải ngày hợp lệ (2024-10-31) hoặc thời điểm hợp lệ (2024-10-31T08:00:00Z)"
        );
    }
    if raw == "invalid digit found in string" || raw == "cannot parse integer from empty string" {
        return text!("is not a whole number", "không phải là số nguyên");
    }
    if raw == "number too large to fit in target type"
        || raw == "number too small to fit in target type"
    {
        return text!("is out of range", "nằm ngoài phạm vi cho phép");
    }
    if let Some(name) = quoted_after(raw, "missing field `") {
        return text!("missing field `{name}`", "thiếu trường `{name}`");
    }
    if let Some(name) = quoted_after(raw, "unknown field `") {
        let allowed = raw.split_once(", expected ").map_or("", |(_, e)| e);
        let allowed_vi = allowed.replace("one of ", "").replace(" or ", " hoặc ");
        return text!(
            "unknown field `{name}`, expected {allowed}",
            "không có trường `{name}`; các trường hợp lệ: {allowed_vi}"
        );
    }
    if let Some(value) = quoted_after(raw, "unknown variant `") {
        let allowed = raw.split_once(", expected ").map_or("", |(_, e)| e);
        let allowed_vi = allowed.replace("one of ", "").replace(" or ", " hoặc ");
        return text!(
            "`{value}` is not an allowed value; expected {allowed}",
            "giá trị `{value}` không hợp lệ; các giá trị hợp lệ: {allowed_vi}"
        );
    }
    for (prefix, prefix_vi) in [
        ("invalid type: ", "sai kiểu dữ liệu: nhận"),
        ("invalid value: ", "giá trị không hợp lệ:"),
    ] {
        if let Some(rest) = raw.strip_prefix(prefix)
            && let Some((got, expected)) = rest.split_once(", expected ")
        {
            let (got_en, got_vi) = got_words(got);
            let expected = expected_words(expected);
            let (expected_en, expected_vi) = (expected.en, expected.vi);
            return text!(
                "{prefix}{got_en}, expected {expected_en}",
                "{prefix_vi} {got_vi}, cần {expected_vi}"
            );
        }
    }
    // Anything else (a type's own parser): English as it is, introduced in Vietnamese.
    let expected = match raw.find("expected ") {
        Some(i) => {
            let (head, expected) = raw.split_at(i + "expected ".len());
            format!("{head}{}", expected_words(expected).en)
        }
        None => raw.to_string(),
    };
    text!("{expected}", "giá trị không hợp lệ ({expected})")
}

/// The name inside the backquotes after `prefix`: "missing field `name`".
fn quoted_after<'a>(raw: &'a str, prefix: &str) -> Option<&'a str> {
    raw.strip_prefix(prefix)?.split('`').next()
}

/// What was received, in words: "map" is an object, "string \"x\"" a text.
fn got_words(got: &str) -> (String, String) {
    let replaced = [
        ("map", "an object", "một đối tượng"),
        ("sequence", "a list", "một danh sách"),
        ("unit value", "null", "null"),
        ("floating point", "the number", "số"),
        ("integer", "the number", "số"),
        ("string", "the text", "chuỗi"),
        ("boolean", "the boolean", "giá trị"),
    ]
    .iter()
    .find_map(|(from, en, vi)| {
        got.strip_prefix(from)
            .map(|rest| (format!("{en}{rest}"), format!("{vi}{rest}")))
    });
    replaced.unwrap_or_else(|| (got.to_string(), got.to_string()))
}

fn type_words(ty: &str) -> (&'static str, &'static str) {
    match ty {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            ("a whole number (0 or more)", "số nguyên không âm")
        }
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => ("a whole number", "số nguyên"),
        "f32" | "f64" => ("a number", "số"),
        "bool" => ("true or false", "true hoặc false"),
        "char" => ("a single character", "một ký tự"),
        _ => ("of the expected kind", "đúng kiểu cần có"),
    }
}

/// What follows "expected " in a serde message.
fn expected_words(expected: &str) -> Text {
    let ty = expected.trim();
    if let Some(words) = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char",
    ]
    .iter()
    .find(|t| **t == ty)
    {
        let (en, vi) = type_words(words);
        return Text::new(en, vi);
    }
    if ty.starts_with("struct ") || ty.starts_with("map") {
        return text!("an object", "một đối tượng");
    }
    if ty.starts_with("internally tagged enum") {
        return text!("an object with a `type`", "một đối tượng có `type`");
    }
    if ty.starts_with("a sequence") || ty.starts_with("tuple") {
        return text!("a list", "một danh sách");
    }
    if ty.starts_with("a Decimal") || ty.contains("fixed-point number") {
        return text!(
            "a decimal number, as a JSON number or a string",
            "một số thập phân, dạng số JSON hoặc chuỗi"
        );
    }
    if ty.starts_with("enum ") {
        return text!(
            "one of the documented values",
            "một trong các giá trị được mô tả"
        );
    }
    if ty.starts_with("a string") {
        return text!("a text", "một chuỗi");
    }
    Text::new(ty, ty)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = HttpError;
    type Future = LocalBoxFuture<'static, Result<Self, HttpError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json_content_type(&req) {
                return Err(ApiError::unsupported_media_type(text!(
                    "the request body must be sent with Content-Type: application/json",
                    "nội dung yêu cầu phải gửi với Content-Type: application/json"
                ))
                .into());
            }
            let body = read_body(&req, &mut payload).await?;
            Ok(parse_json(&body).map(Json)?)
        })
    }
}

/// A request body of any content type, for endpoints that accept JSON as well as CSV or
/// XLSX uploads. Not read until the handler asks (`bytes`), so that access is checked
/// before a byte of an upload is read or parsed.
pub struct RawBody {
    /// The media type, lower case, without parameters (e.g. `text/csv`).
    pub content_type: String,
    req: HttpRequest,
    payload: Payload,
}

impl RawBody {
    pub fn is_json(&self) -> bool {
        self.content_type == "application/json" || self.content_type.ends_with("+json")
    }

    /// The whole body, within the body limit and timeout.
    pub async fn bytes(mut self) -> Result<BytesMut, ApiError> {
        read_body(&self.req, &mut self.payload).await
    }

    /// The body as a JSON document.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        parse_json(&self.bytes().await?)
    }
}

impl FromRequest for RawBody {
    type Error = HttpError;
    type Future = Ready<Result<Self, HttpError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(match req.mime_type() {
            Ok(Some(mime)) => Ok(RawBody {
                content_type: mime.essence_str().to_lowercase(),
                req: req.clone(),
                payload: payload.take(),
            }),
            _ => Err(HttpError::from(ApiError::unsupported_media_type(text!(
                "the request body needs a Content-Type",
                "nội dung yêu cầu cần có Content-Type"
            )))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        count: u32,
    }

    #[test]
    fn syntax_errors_are_400() {
        let e = parse_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!(e.status().as_u16(), 400);
        assert_eq!(e.code(), "malformed_json");
    }

    #[test]
    fn shape_errors_are_422_with_the_field_path() {
        let e =
            parse_json::<Body>(br#"{"name":"a","items":[{"count":1},{"count":"x"}]}"#).unwrap_err();
        assert_eq!(e.status().as_u16(), 422);
        assert_eq!(e.field_errors()[0].field, "items[1].count");
        assert_eq!(e.field_errors()[0].code, "invalid_type");

        let e = parse_json::<Body>(br#"{"name":"a","items":[],"extra":1}"#).unwrap_err();
        assert_eq!(e.field_errors()[0].code, "unknown_field");

        let e = parse_json::<Body>(br#"{"items":[]}"#).unwrap_err();
        assert_eq!(e.field_errors()[0].code, "required");
        assert_eq!(e.field_errors()[0].field, "name");
        let e = parse_json::<Body>(br#"{"name":"a","items":[{}]}"#).unwrap_err();
        assert_eq!(e.field_errors()[0].field, "items[0].count");
    }

    #[test]
    fn trailing_garbage_and_empty_bodies_are_400() {
        assert_eq!(
            parse_json::<Body>(br#"{"name":"a","items":[]} x"#)
                .unwrap_err()
                .status()
                .as_u16(),
            400
        );
        assert_eq!(
            parse_json::<Body>(b"  ").unwrap_err().status().as_u16(),
            400
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        let e = parse_json::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(e.status().as_u16(), 400);
    }
}
