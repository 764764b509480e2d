//! Finding a PDF's signatures without interpreting the PDF: a signature dictionary names,
//! with `/ByteRange [a b c d]`, the bytes it signs, and the gap between them is exactly its
//! `/Contents <hex…>` (the CMS signature, zero-padded). Reading those two, and the few
//! entries around them (`/SubFilter`, `/M`), needs no object graph, so a hostile file's
//! object streams and nesting cost nothing: the scan is one linear pass, bounded by the
//! file's size and a count of candidates.

/// What a scan may read and find.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// The largest file scanned.
    pub max_file_bytes: usize,
    /// `/ByteRange` keys looked at (a real file has one per signature).
    pub max_candidates: usize,
    /// The largest signature (`/Contents`, decoded).
    pub max_signature_bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_file_bytes: 64 << 20,
            max_candidates: 64,
            max_signature_bytes: 512 << 10,
        }
    }
}

/// Why a file could not be scanned at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("the file is {0} bytes; at most {1} are read for signatures")]
    TooLarge(usize, usize),
    #[error("the file names more than {0} signed byte ranges; it is not read further")]
    TooManyCandidates(usize),
}

/// One signature dictionary, as far as the bytes tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `[a, b, c, d]`: bytes `a..a+b` and `c..c+d` are signed.
    pub byte_range: [usize; 4],
    /// The CMS signature, its padding removed (or the whole gap when it is not DER).
    pub contents: Vec<u8>,
    /// `/SubFilter`'s name (`adbe.pkcs7.detached`, `ETSI.CAdES.detached`, …).
    pub sub_filter: Option<String>,
    /// `/M`, the signing time the signer's software claims, as written (`D:2026…`).
    pub claimed_time: Option<String>,
    /// A signature whose byte range is malformed: why (it is reported, not verified).
    pub malformed: Option<String>,
}

impl Found {
    /// Whether the signed bytes reach the end of the file: nothing was appended since.
    pub fn covers_whole_file(&self, file_len: usize) -> bool {
        let [a, _, c, d] = self.byte_range;
        a == 0 && c.checked_add(d) == Some(file_len)
    }

    /// The signed bytes, in order.
    pub fn signed_parts<'a>(&self, file: &'a [u8]) -> [&'a [u8]; 2] {
        let [a, b, c, d] = self.byte_range;
        [&file[a..a + b], &file[c..c + d]]
    }
}

const KEY: &[u8] = b"/ByteRange";
/// How far around the byte range's key a dictionary's other entries are looked for.
const WINDOW: usize = 4096;

/// Every signature dictionary of `file`, in file order.
pub fn scan(file: &[u8], budget: &Budget) -> Result<Vec<Found>, ScanError> {
    if file.len() > budget.max_file_bytes {
        return Err(ScanError::TooLarge(file.len(), budget.max_file_bytes));
    }
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&file[from..], KEY).map(|i| i + from) {
        from = at + KEY.len();
        if found.len() == budget.max_candidates {
            return Err(ScanError::TooManyCandidates(budget.max_candidates));
        }
        let Some(range) = byte_range(&file[from..]) else {
            // `/ByteRange` in a stream's text or a name: not a signature dictionary.
            continue;
        };
        let around = &file[at.saturating_sub(WINDOW)..(at + WINDOW).min(file.len())];
        let sub_filter = name_after(around, b"/SubFilter");
        let claimed_time = string_after(around, b"/M");
        let mut one = Found {
            byte_range: range,
            contents: Vec::new(),
            sub_filter,
            claimed_time,
            malformed: None,
        };
        match gap(file, range, budget) {
            Ok(contents) => one.contents = contents,
            Err(why) => one.malformed = Some(why),
        }
        found.push(one);
    }
    Ok(found)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0')
}

/// `[a b c d]` right after the key (whitespace allowed), four non-negative integers.
fn byte_range(after: &[u8]) -> Option<[usize; 4]> {
    let mut i = after.iter().position(|b| !is_space(*b))?;
    if after[i] != b'[' {
        return None;
    }
    i += 1;
    let mut out = [0usize; 4];
    for slot in &mut out {
        while i < after.len() && is_space(after[i]) {
            i += 1;
        }
        let start = i;
        // At most 15 digits: no offset in a file this service reads needs more.
        while i < after.len() && after[i].is_ascii_digit() && i - start < 16 {
            i += 1;
        }
        if i == start || i - start > 15 {
            return None;
        }
        *slot = std::str::from_utf8(&after[start..i]).ok()?.parse().ok()?;
    }
    while i < after.len() && is_space(after[i]) {
        i += 1;
    }
    (after.get(i) == Some(&b']')).then_some(out)
}

/// The signature in the range's gap: `<hex>`, decoded, the padding cut off at the end of
/// its DER (a CMS signature is one SEQUENCE).
fn gap(file: &[u8], [a, b, c, d]: [usize; 4], budget: &Budget) -> Result<Vec<u8>, String> {
    let (Some(first_end), Some(second_end)) = (a.checked_add(b), c.checked_add(d)) else {
        return Err("the byte range overflows".into());
    };
    if a != 0 || first_end > c || second_end > file.len() {
        return Err(format!(
            "the byte range [{a} {b} {c} {d}] does not lie within the file of {} bytes",
            file.len()
        ));
    }
    let hole = &file[first_end..c];
    let hex = hole
        .strip_prefix(b"<")
        .and_then(|h| h.strip_suffix(b">"))
        .ok_or("the signed range's gap is not the signature's hex string")?;
    if hex.len() / 2 > budget.max_signature_bytes {
        return Err(format!(
            "the signature takes {} bytes; at most {} are read",
            hex.len() / 2,
            budget.max_signature_bytes
        ));
    }
    let digits: Vec<u8> = hex.iter().copied().filter(|b| !is_space(*b)).collect();
    if !digits.len().is_multiple_of(2) || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err("the signature's hex string is not hexadecimal".into());
    }
    let bytes: Vec<u8> = digits
        .chunks(2)
        .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1]))
        .collect();
    Ok(match der_length(&bytes) {
        Some(len) if len <= bytes.len() => bytes[..len].to_vec(),
        _ => bytes,
    })
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// The length of the DER element at the start of `bytes`, header included.
fn der_length(bytes: &[u8]) -> Option<usize> {
    let first = *bytes.get(1)?;
    if first < 0x80 {
        return Some(2 + first as usize);
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *bytes.get(2 + i)? as usize;
    }
    Some(2 + n + len)
}

/// `/Key /Name` nearest the key's first occurrence in `window`.
fn name_after(window: &[u8], key: &[u8]) -> Option<String> {
    let at = find_key(window, key)?;
    let rest = &window[at + key.len()..];
    let start = rest.iter().position(|b| !is_space(*b))?;
    if rest[start] != b'/' {
        return None;
    }
    let name: Vec<u8> = rest[start + 1..]
        .iter()
        .copied()
        .take_while(|b| b.is_ascii_graphic() && !b"/[]<>()".contains(b))
        .take(64)
        .collect();
    String::from_utf8(name).ok()
}

/// A key followed by a delimiter (so `/M` does not match `/MDP`).
fn find_key(window: &[u8], key: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find(&window[from..], key).map(|i| i + from) {
        let next = window.get(at + key.len()).copied();
        if next.is_none_or(|b| is_space(b) || b"/[<(".contains(&b)) {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// `/Key (literal string)`, its escapes resolved (PDF's `\ddd` octal, `\(`, `\\`, …).
fn string_after(window: &[u8], key: &[u8]) -> Option<String> {
    let at = find_key(window, key)?;
    let rest = &window[at + key.len()..];
    let start = rest.iter().position(|b| !is_space(*b))?;
    if rest[start] != b'(' {
        return None;
    }
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < rest.len() && out.len() < 128 {
        match rest[i] {
            b')' => return String::from_utf8(out).ok(),
            b'\\' => {
                let digits: Vec<u8> = rest[i + 1..]
                    .iter()
                    .copied()
                    .take(3)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .collect();
                if digits.is_empty() {
                    if let Some(&next) = rest.get(i + 1) {
                        out.push(match next {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            other => other,
                        });
                    }
                    i += 2;
                } else {
                    let value = digits
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    out.push((value & 0xff) as u8);
                    i += 1 + digits.len();
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    None
}

/// A PDF date (`D:20261207230714Z`, `D:20261207230714+07'00'`), as UTC.
pub fn parse_pdf_date(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDate, TimeZone};
    let s = raw.strip_prefix("D:").unwrap_or(raw);
    let digit = |from: usize, len: usize| -> Option<u32> { s.get(from..from + len)?.parse().ok() };
    let year = digit(0, 4)? as i32;
    let month = digit(4, 2).unwrap_or(1);
    let day = digit(6, 2).unwrap_or(1);
    let hour = digit(8, 2).unwrap_or(0);
    let minute = digit(10, 2).unwrap_or(0);
    let second = digit(12, 2).unwrap_or(0);
    let local = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)?;
    let zone = s.get(14..).unwrap_or("");
    let offset_seconds = match zone.as_bytes().first() {
        Some(sign @ (b'+' | b'-')) => {
            let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i32 = digits.get(0..2)?.parse().ok()?;
            let minutes: i32 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let total = hours * 3600 + minutes * 60;
            if *sign == b'-' { -total } else { total }
        }
        _ => 0,
    };
    let offset = chrono::FixedOffset::east_opt(offset_seconds)?;
    Some(offset.from_local_datetime(&local).single()?.to_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signature dictionary laid out as a signer writes it: the range's gap is exactly
    /// `<hex>` (fixed-width numbers, so filling them in moves nothing).
    fn file_with(dictionary: &str, hex: &str) -> Vec<u8> {
        let placeholder = "/ByteRange [0 0000000000 0000000000 0000000000]";
        let head =
            format!("%PDF-1.7\n1 0 obj\n<< /Type /Sig {dictionary} {placeholder} /Contents ");
        let body = "\n>>\nendobj\n%%EOF\n";
        let (a_len, tail_start) = (head.len(), head.len() + hex.len() + 2);
        let range = format!(
            "/ByteRange [0 {a_len:010} {tail_start:010} {:010}]",
            body.len()
        );
        let head = head.replace(placeholder, &range);
        format!("{head}<{hex}>{body}").into_bytes()
    }

    #[test]
    fn the_gap_is_the_signature_without_its_padding() {
        // A DER SEQUENCE of 3 bytes, then zero padding.
        let file = file_with(
            "/SubFilter /adbe.pkcs7.detached /M (D\\07220261207230714Z)",
            "3003020101000000",
        );
        let found = scan(&file, &Budget::default()).unwrap();
        assert_eq!(found.len(), 1);
        let one = &found[0];
        assert_eq!(one.malformed, None);
        assert_eq!(one.contents, vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        assert_eq!(one.sub_filter.as_deref(), Some("adbe.pkcs7.detached"));
        assert_eq!(one.claimed_time.as_deref(), Some("D:20261207230714Z"));
        assert!(one.covers_whole_file(file.len()));
        let mut appended = file.clone();
        appended.extend_from_slice(b"2 0 obj\n<< >>\nendobj\n%%EOF\n");
        assert!(!one.covers_whole_file(appended.len()));
    }

    #[test]
    fn hostile_ranges_are_reported_not_followed() {
        for range in [
            "[0 999999999 5 5]",
            "[7 1 2 3]",
            "[0 18446744073709551615 0 1]",
            "[0 10 5 5]",
        ] {
            let file = format!("%PDF-1.7\n<< /ByteRange {range} /Contents <3000> >>\n");
            let found = scan(file.as_bytes(), &Budget::default()).unwrap();
            assert!(
                found
                    .iter()
                    .all(|f| f.malformed.is_some() || f.contents.is_empty()),
                "{range}: {found:?}"
            );
        }
        let many = "/ByteRange [0 1 2 3]\n".repeat(100);
        assert_eq!(
            scan(many.as_bytes(), &Budget::default()),
            Err(ScanError::TooManyCandidates(64))
        );
        let budget = Budget {
            max_file_bytes: 10,
            ..Budget::default()
        };
        assert!(matches!(
            scan(&[0u8; 11], &budget),
            Err(ScanError::TooLarge(11, 10))
        ));
    }

    #[test]
    fn pdf_dates_are_read_with_their_offsets() {
        let t = parse_pdf_date("D:20261207230714+07'00'").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-07T16:07:14+00:00");
        let z = parse_pdf_date("D:20261207230714Z").unwrap();
        assert_eq!(z.to_rfc3339(), "2026-12-07T23:07:14+00:00");
        assert!(parse_pdf_date("D:2026139").is_none());
    }
}
