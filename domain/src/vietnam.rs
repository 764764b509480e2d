//! Days and times in Vietnam (UTC+7, no daylight saving): deadlines, appeal windows,
//! milestones and the dates printed on papers are Vietnamese calendar days, whatever the
//! server's time zone.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

/// Vietnam's offset from UTC.
pub const OFFSET: Duration = Duration::hours(7);

/// The local date and time in Vietnam of an instant.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    (at + OFFSET).naive_utc()
}

/// The calendar day in Vietnam of an instant.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    local(at).date()
}

/// Today in Vietnam.
pub fn today() -> NaiveDate {
    day_of(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_day_turns_at_five_in_the_afternoon_utc() {
        let before = Utc.with_ymd_and_hms(2024, 10, 31, 16, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2024, 10, 31, 17, 0, 0).unwrap();
        assert_eq!(
            day_of(before),
            NaiveDate::from_ymd_opt(2024, 10, 31).unwrap()
        );
        assert_eq!(day_of(after), NaiveDate::from_ymd_opt(2024, 11, 1).unwrap());
        assert_eq!(local(after).format("%H:%M").to_string(), "00:00");
    }
}
