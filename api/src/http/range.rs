//! `Range` requests on downloads (RFC 9110 §14): one byte range, or the whole file.
//!
//! A syntactically invalid header, another unit than `bytes`, several ranges, or an
//! `If-Range` that does not match the current entity tag are ignored (the whole file is
//! sent with 200), as the RFC allows; a range starting at or past the end is a 416.

/// What to send for a `Range` header against a file of `size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200, all of it.
    Full,
    /// 206, bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416, with `Content-Range: bytes */size`.
    Unsatisfiable,
}

pub fn resolve(range: Option<&str>, if_range: Option<&str>, etag: &str, size: u64) -> RangeAnswer {
    let Some(range) = range else {
        return RangeAnswer::Full;
    };
    if let Some(validator) = if_range
        && validator.trim() != etag
    {
        return RangeAnswer::Full;
    }
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeAnswer::Unsatisfiable
            } else {
                RangeAnswer::Partial {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }
            }
        }
        (false, Some(start), last) if last.is_some() || last_is_empty(last, spec) => {
            if let Some(l) = last
                && l < start
            {
                return RangeAnswer::Full;
            }
            if start >= size {
                return RangeAnswer::Unsatisfiable;
            }
            let end = last.map_or(size - 1, |l| l.min(size - 1));
            RangeAnswer::Partial { start, end }
        }
        _ => RangeAnswer::Full,
    }
}

/// `bytes=N-` (open-ended) rather than a garbled last position.
fn last_is_empty(last: Option<u64>, spec: &str) -> bool {
    last.is_none() && spec.trim().ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeAnswer::*;

    const TAG: &str = "\"abc\"";

    fn r(h: &str, size: u64) -> RangeAnswer {
        resolve(Some(h), None, TAG, size)
    }

    #[test]
    fn single_ranges() {
        assert_eq!(r("bytes=0-99", 1000), Partial { start: 0, end: 99 });
        assert_eq!(
            r("bytes=900-", 1000),
            Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            r("bytes=-100", 1000),
            Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(r("bytes=-5000", 1000), Partial { start: 0, end: 999 });
        assert_eq!(
            r("bytes=990-5000", 1000),
            Partial {
                start: 990,
                end: 999
            }
        );
        assert_eq!(
            r("bytes=999-999", 1000),
            Partial {
                start: 999,
                end: 999
            }
        );
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(r("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(r("bytes=5000-6000", 1000), Unsatisfiable);
        assert_eq!(r("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(r("bytes=0-", 0), Unsatisfiable);
    }

    #[test]
    fn what_is_ignored_gets_the_whole_file() {
        assert_eq!(resolve(None, None, TAG, 10), Full);
        assert_eq!(r("bytes=5-1", 1000), Full);
        assert_eq!(r("bytes=0-1,5-9", 1000), Full);
        assert_eq!(r("items=0-1", 1000), Full);
        assert_eq!(r("bytes=a-b", 1000), Full);
        assert_eq!(r("bytes=+1-2", 1000), Full);
        assert_eq!(r("bytes=1-2x", 1000), Full);
        assert_eq!(r("bytes=99999999999999999999999-", 1000), Full);
        assert_eq!(r("bytes=", 1000), Full);
        assert_eq!(r("bytes=-", 1000), Full);
        // A stale If-Range: the client's copy is not this file.
        assert_eq!(resolve(Some("bytes=0-1"), Some("\"old\""), TAG, 1000), Full);
        assert_eq!(
            resolve(Some("bytes=0-1"), Some(TAG), TAG, 1000),
            Partial { start: 0, end: 1 }
        );
    }
}
