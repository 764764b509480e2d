//! Messages people read, in the two languages of the service's users: commune staff read
//! Vietnamese, integrators often English. Every error message is written in both where it
//! is raised (`text!`), so none can be missing a translation; the HTTP layer picks one by
//! the request's `Accept-Language`.

/// The languages messages are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Vi,
}

impl Lang {
    /// The language tag sent in `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Vi => "vi",
        }
    }

    /// The language an `Accept-Language` header prefers among ours: the highest
    /// quality that names `vi` or `en` (or `*`, which means English), English when
    /// nothing matches. Malformed parts are ignored.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::En;
        };
        let mut best: Option<(u16, usize, Lang)> = None;
        for (position, part) in header.split(',').enumerate().take(32) {
            let mut pieces = part.split(';');
            let range = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), parse_quality);
            let Some(quality) = quality.filter(|q| *q > 0) else {
                continue;
            };
            let primary = range.split('-').next().unwrap_or_default();
            let lang = match primary {
                "vi" => Lang::Vi,
                "en" | "*" => Lang::En,
                _ => continue,
            };
            // Highest quality wins; among equals, the first listed.
            let better = match best {
                None => true,
                Some((q, p, _)) => quality > q || (quality == q && position < p),
            };
            if better {
                best = Some((quality, position, lang));
            }
        }
        best.map_or(Lang::En, |(_, _, lang)| lang)
    }
}

/// A quality value `0`, `0.5`, `1.000` in thousandths; `None` when malformed.
fn parse_quality(q: &str) -> Option<u16> {
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let fraction: u16 = format!("{fraction:0<3}").parse().ok()?;
    let value = whole + fraction;
    (value <= 1000).then_some(value)
}

/// A message in English and Vietnamese.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Text {
    pub en: String,
    pub vi: String,
}

impl Text {
    pub fn new(en: impl Into<String>, vi: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            vi: vi.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Vi => &self.vi,
        }
    }

    /// The parts joined by `separator` in each language.
    pub fn join(parts: impl IntoIterator<Item = Text>, separator: &str) -> Text {
        let (en, vi): (Vec<String>, Vec<String>) = parts.into_iter().map(|t| (t.en, t.vi)).unzip();
        Text {
            en: en.join(separator),
            vi: vi.join(separator),
        }
    }

    /// Both languages mapped alike: `"{field}: {message}"`.
    pub fn map(&self, f: impl Fn(&str, Lang) -> String) -> Text {
        Text {
            en: f(&self.en, Lang::En),
            vi: f(&self.vi, Lang::Vi),
        }
    }
}

/// `text!("english {x}", "tiếng Việt {x}")`, or with positional arguments shared by both
/// (`{0}`, `{1}` let the Vietnamese reorder them): `text!("{} of {}", "{1}: {0}", a, b)`.
#[macro_export]
macro_rules! text {
    ($en:literal, $vi:literal $(,)?) => {
        $crate::text::Text {
            en: format!($en),
            vi: format!($vi),
        }
    };
    ($en:literal, $vi:literal, $($arg:expr),+ $(,)?) => {
        $crate::text::Text {
            en: format!($en, $($arg),+),
            vi: format!($vi, $($arg),+),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_ours() {
        for (header, lang) in [
            (None, Lang::En),
            (Some(""), Lang::En),
            (Some("vi"), Lang::Vi),
            (Some("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7"), Lang::Vi),
            (Some("en-US,en;q=0.9,vi;q=0.8"), Lang::En),
            (Some("fr, vi;q=0.5"), Lang::Vi),
            (Some("fr"), Lang::En),
            (Some("en;q=0.4, vi;q=0.6"), Lang::Vi),
            (Some("vi;q=0"), Lang::En),
            (Some("vi;q=abc, en;q=0.1"), Lang::En),
            (Some("vi;q=1.5"), Lang::En),
            (Some("*;q=0.5, VI-vn;q=0.9"), Lang::Vi),
            (Some("en, vi"), Lang::En),
        ] {
            assert_eq!(Lang::negotiate(header), lang, "{header:?}");
        }
    }

    #[test]
    fn text_formats_both_languages_with_shared_arguments() {
        let code = "1.4.1";
        let t = text!("criterion {code} is missing", "thiếu tiêu chí {code}");
        assert_eq!(t.get(Lang::En), "criterion 1.4.1 is missing");
        assert_eq!(t.get(Lang::Vi), "thiếu tiêu chí 1.4.1");
        let t = text!("{} of {}", "{1}: {0}", 3, 10);
        assert_eq!((t.en.as_str(), t.vi.as_str()), ("3 of 10", "10: 3"));
    }
}
