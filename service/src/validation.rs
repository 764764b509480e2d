//! Small validators shared by request types: text is NFC-normalised and trimmed (so a
//! Vietnamese name typed on two keyboards is stored once, the same way), control
//! characters are refused, and lengths are counted in characters.

use crate::error::{Text, Violations, text};
use unicode_normalization::UnicodeNormalization;

/// Normalises `value` to NFC and trims it; records a violation and returns `None` when it
/// is empty (if required), too long, or contains control characters.
/// An e-mail address as typed: trimmed (empty: none), at most 254 characters, one that
/// SMTP can take.
pub fn email(v: &mut Violations, field: &str, email: Option<&str>) -> Option<String> {
    let email = email.map(str::trim).filter(|e| !e.is_empty())?;
    if email.chars().count() > 254 || email.parse::<lettre::Address>().is_err() {
        v.add(
            field,
            "invalid",
            text!(
                "{email:?} is not an e-mail address",
                "{email:?} không phải là địa chỉ thư điện tử"
            ),
        );
        return None;
    }
    Some(email.to_string())
}

/// A phone number as typed: trimmed (empty: none), at most 30 characters of digits,
/// spaces and `+ - . ( )`, with 6 to 15 digits.
pub fn phone(v: &mut Violations, field: &str, phone: Option<&str>) -> Option<String> {
    let phone = phone.map(str::trim).filter(|p| !p.is_empty())?;
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if phone.chars().count() > 30 || !allowed || !(6..=15).contains(&digits) {
        v.add(
            field,
            "invalid",
            text!(
                "{phone:?} is not a phone number",
                "{phone:?} không phải là số điện thoại"
            ),
        );
        return None;
    }
    Some(phone.to_string())
}

pub fn text(
    v: &mut Violations,
    field: &str,
    value: &str,
    max_chars: usize,
    required: bool,
) -> Option<String> {
    let normalised: String = value.nfc().collect::<String>().trim().to_string();
    if normalised.is_empty() {
        if required {
            v.add(
                field,
                "required",
                text!("must not be empty", "không được để trống"),
            );
        }
        return if required { None } else { Some(normalised) };
    }
    let chars = normalised.chars().count();
    if chars > max_chars {
        v.add(
            field,
            "too_long",
            text!(
                "must be at most {max_chars} characters (got {chars})",
                "tối đa {max_chars} ký tự (nhận được {chars})"
            ),
        );
        return None;
    }
    if normalised.chars().any(is_refused_char) {
        v.add(
            field,
            "invalid_characters",
            text!(
                "must not contain control characters, non-characters (U+FFFE, U+FFFF) or bidirectional overrides",
                "không được chứa ký tự điều khiển, ký tự không hợp lệ (U+FFFE, U+FFFF) hoặc ký tự đảo chiều văn bản"
            ),
        );
        return None;
    }
    Some(normalised)
}

/// Control characters (but newline and tab), characters XML 1.0 forbids (U+FFFE and
/// U+FFFF: the papers are XML), and the bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069) that make a name display as something it is not
/// ("Trojan Source").
pub fn is_refused_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || !is_xml_char(c)
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// A character XML 1.0 allows (`Char`): tab, newline, carriage return, U+0020–U+D7FF,
/// U+E000–U+FFFD and the supplementary planes (Rust strings hold no surrogates).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Like `text` for optional fields: `None` stays `None`, blank becomes `None`.
pub fn optional_text(
    v: &mut Violations,
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Option<String> {
    value
        .and_then(|s| text(v, field, s, max_chars, false))
        .filter(|s| !s.is_empty())
}

/// Lower case without diacritics, for accent-insensitive search: "Vĩnh Long" → "vinh long".
pub fn fold_for_search(value: &str) -> String {
    value
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// A year of the PAR index, 2000 to 2100. Out-of-range years are refused where they are
/// parsed (400 in a query, 422 in a body), so no arithmetic on a year can overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Year(pub i32);

pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2100;

impl Year {
    pub fn get(self) -> i32 {
        self.0
    }
}

impl<'de> serde::Deserialize<'de> for Year {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let year = i64::deserialize(d)?;
        if (i64::from(MIN_YEAR)..=i64::from(MAX_YEAR)).contains(&year) {
            Ok(Year(year as i32))
        } else {
            Err(serde::de::Error::custom(format!(
                "year {year} is out of range ({MIN_YEAR}..={MAX_YEAR})"
            )))
        }
    }
}

impl utoipa::PartialSchema for Year {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(MIN_YEAR))
                .maximum(Some(MAX_YEAR))
                .examples([2023])
                .build(),
        ))
    }
}

impl utoipa::ToSchema for Year {}

/// Pagination of list endpoints: `page` from 1, `per_page` 1..=200 (default 50).
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<u64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<u64>,
}

pub const MAX_PER_PAGE: u64 = 200;
pub const MAX_PAGE: u64 = 1_000_000;

/// Which page of a list, validated (`validation::PageParams`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    per_page: u64,
}

impl PageRequest {
    /// Page `page` (from 1) of `per_page` rows; the caller checked both (≥ 1).
    pub fn new(page: u64, per_page: u64) -> PageRequest {
        PageRequest {
            page: page.max(1),
            per_page: per_page.max(1),
        }
    }

    pub fn page(&self) -> u64 {
        self.page
    }

    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    /// The first `per_page` rows.
    pub fn first(per_page: u64) -> PageRequest {
        PageRequest::new(1, per_page)
    }
}

impl PageParams {
    /// The page asked for, validated: a bad value is a 400 naming the parameter.
    pub fn resolve(&self) -> Result<PageRequest, crate::error::ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(50);
        let mut v = Violations::new();
        if !(1..=MAX_PAGE).contains(&page) {
            v.add(
                "page",
                "out_of_range",
                text!(
                    "must be between 1 and {MAX_PAGE}",
                    "phải từ 1 đến {MAX_PAGE}"
                ),
            );
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            v.add(
                "per_page",
                "out_of_range",
                text!(
                    "must be between 1 and {MAX_PER_PAGE}",
                    "phải từ 1 đến {MAX_PER_PAGE}"
                ),
            );
        }
        if v.is_empty() {
            return Ok(PageRequest::new(page, per_page));
        }
        let errors = v.into_vec();
        Err(crate::error::ApiError::bad_request(
            "invalid_query",
            Text::join(
                errors
                    .iter()
                    .map(|e| e.text().map(|m, _| format!("{}: {m}", e.field))),
                "; ",
            ),
        )
        .with_errors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_nfc_and_trimmed() {
        let mut v = Violations::new();
        // "Vĩnh" with a combining tilde (NFD) becomes the precomposed form.
        let decomposed = "  Vi\u{0303}nh Long ";
        let out = text(&mut v, "name", decomposed, 100, true).expect("valid");
        assert_eq!(out, "Vĩnh Long");
        assert_eq!(out.chars().count(), 9);
        assert!(v.is_empty());
    }

    #[test]
    fn text_reports_empty_long_and_control_characters() {
        let mut v = Violations::new();
        assert!(text(&mut v, "a", "   ", 10, true).is_none());
        assert!(text(&mut v, "b", &"x".repeat(11), 10, true).is_none());
        assert!(text(&mut v, "c", "bell\u{7}", 10, true).is_none());
        assert!(text(&mut v, "d", "Xã \u{202E}gnoL hniV", 20, true).is_none());
        assert!(text(&mut v, "e", "a\u{2066}b", 20, true).is_none());
        let codes: Vec<String> = v.into_vec().into_iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "required",
                "too_long",
                "invalid_characters",
                "invalid_characters",
                "invalid_characters"
            ]
        );
    }

    #[test]
    fn search_folding_drops_case_and_diacritics() {
        assert_eq!(fold_for_search("Vĩnh Long"), "vinh long");
        assert_eq!(fold_for_search("ĐÔNG HÀ"), "dong ha");
        assert_eq!(fold_for_search("Thị trấn Hồ Xá"), "thi tran ho xa");
    }

    #[test]
    fn pages_are_bounded() {
        assert!(
            PageParams {
                page: Some(0),
                per_page: None
            }
            .resolve()
            .is_err()
        );
        assert!(
            PageParams {
                page: None,
                per_page: Some(201)
            }
            .resolve()
            .is_err()
        );
        assert_eq!(
            PageParams {
                page: None,
                per_page: None
            }
            .resolve()
            .ok(),
            Some(PageRequest::new(1, 50))
        );
    }
}
