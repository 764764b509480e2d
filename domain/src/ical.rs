//! iCalendar (RFC 5545) feeds of all-day events, as calendar programs subscribe to them:
//! CRLF lines folded at 75 octets (never inside a UTF-8 character), text escaped, a stable
//! UID per event so that a re-read feed updates rather than duplicates, and dates without
//! time (all-day, so no time zone applies; the calendar names Asia/Ho_Chi_Minh).

use chrono::{DateTime, Days, NaiveDate, Utc};

/// One all-day event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllDayEvent {
    /// Stable across reads: the same event keeps its UID when its date moves.
    pub uid: String,
    pub date: NaiveDate,
    pub summary: String,
    pub description: Option<String>,
    pub url: Option<String>,
}

/// TEXT escaping (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded to at most 75 octets per physical line (3.1), each ending CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            // The leading space counts towards the continuation line.
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

fn date_value(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// A whole calendar named `name`, stamped `stamp`.
pub fn calendar(name: &str, stamp: DateTime<Utc>, events: &[AllDayEvent]) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//parindex//Lich CCHC//VI".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        format!("X-WR-CALNAME:{}", escape(name)),
        "X-WR-TIMEZONE:Asia/Ho_Chi_Minh".to_string(),
    ] {
        out.push_str(&fold(&line));
    }
    let stamp = stamp.format("%Y%m%dT%H%M%SZ").to_string();
    for e in events {
        let next = e.date.checked_add_days(Days::new(1)).unwrap_or(e.date);
        let mut lines = vec![
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}", escape(&e.uid)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{}", date_value(e.date)),
            format!("DTEND;VALUE=DATE:{}", date_value(next)),
            format!("SUMMARY;LANGUAGE=vi:{}", escape(&e.summary)),
            "TRANSP:TRANSPARENT".to_string(),
        ];
        if let Some(d) = &e.description {
            lines.push(format!("DESCRIPTION;LANGUAGE=vi:{}", escape(d)));
        }
        if let Some(u) = &e.url {
            // A URI value is not TEXT: it is not escaped, only kept on one logical line.
            lines.push(format!("URL:{}", u.replace(['\r', '\n'], "")));
        }
        lines.push("END:VEVENT".to_string());
        for line in lines {
            out.push_str(&fold(&line));
        }
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_vietnamese_lines_fold_between_characters() {
        let summary = "Hạn nộp hồ sơ tự đánh giá chỉ số cải cách hành chính năm 2024 của Ủy ban nhân dân xã Vĩnh Long";
        let folded = fold(&format!("SUMMARY:{}", escape(summary)));
        for line in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        // Unfolding gives the line back.
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{summary}\r\n"));
    }

    #[test]
    fn text_is_escaped_and_events_are_all_day() {
        assert_eq!(escape("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
        let stamp = DateTime::parse_from_rfc3339("2024-10-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = calendar(
            "Lịch CCHC",
            stamp,
            &[AllDayEvent {
                uid: "submission_deadline-1-2@parindex".into(),
                date: "2024-12-10".parse().unwrap(),
                summary: "Hạn nộp, gia hạn".into(),
                description: None,
                url: None,
            }],
        );
        assert!(text.contains("DTSTART;VALUE=DATE:20241210\r\nDTEND;VALUE=DATE:20241211\r\n"));
        assert!(text.contains("SUMMARY;LANGUAGE=vi:Hạn nộp\\, gia hạn\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
