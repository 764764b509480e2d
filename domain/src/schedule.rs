//! The deadlines and targets of remediation, as the seed letter writes them: dated
//! milestones with their own status, recurring duties ("ngày 25 hằng tháng") that yield
//! dated occurrences, and tasks with a numeric target ("≥ 50 %", "3 bài mỗi tháng").
//! Pure: what is overdue, what is due soon, whether a target is met.

use crate::text;
use crate::text::Text;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A duty that recurs: each rule yields one dated occurrence per period of a year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Recurrence {
    /// Every month on day `day` (the last day of shorter months): "ngày 25 hằng tháng".
    Monthly {
        #[schema(minimum = 1, maximum = 31, example = 25)]
        day: u32,
    },
    /// Every quarter, on day `day` of its `month`-th month (1 to 3): "trước ngày 20 tháng
    /// cuối mỗi quý" is `{month: 3, day: 20}`.
    Quarterly {
        #[schema(minimum = 1, maximum = 3)]
        month: u32,
        #[schema(minimum = 1, maximum = 31)]
        day: u32,
    },
    /// Every year on a date: "trước ngày 10/3".
    Yearly {
        #[schema(minimum = 1, maximum = 12)]
        month: u32,
        #[schema(minimum = 1, maximum = 31)]
        day: u32,
    },
}

/// `day` of a month, or its last day when the month is shorter.
fn day_of(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    (1..=day.min(31))
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(year, month, d))
}

impl Recurrence {
    /// Problems with the rule, as (field, message); empty when valid.
    pub fn check(&self) -> Vec<(&'static str, Text)> {
        let mut problems = Vec::new();
        let (month, day, months) = match *self {
            Recurrence::Monthly { day } => (1, day, 12),
            Recurrence::Quarterly { month, day } => (month, day, 3),
            Recurrence::Yearly { month, day } => (month, day, 12),
        };
        if !(1..=31).contains(&day) {
            problems.push(("day", text!("must be between 1 and 31", "phải từ 1 đến 31")));
        }
        if !(1..=months).contains(&month) {
            problems.push((
                "month",
                text!("must be between 1 and {months}", "phải từ 1 đến {months}"),
            ));
        }
        problems
    }

    /// The dated occurrences in `year`, each with its label ("tháng 2/2024", "quý 1/2024").
    pub fn occurrences(&self, year: i32) -> Vec<(String, NaiveDate)> {
        match *self {
            Recurrence::Monthly { day } => (1..=12)
                .filter_map(|m| Some((format!("tháng {m}/{year}"), day_of(year, m, day)?)))
                .collect(),
            Recurrence::Quarterly { month, day } => (0..4)
                .filter_map(|q| {
                    let date = day_of(year, q * 3 + month.clamp(1, 3), day)?;
                    Some((format!("quý {}/{year}", q + 1), date))
                })
                .collect(),
            Recurrence::Yearly { month, day } => day_of(year, month.clamp(1, 12), day)
                .map(|d| vec![(format!("năm {year}"), d)])
                .unwrap_or_default(),
        }
    }

    /// The rule in the letter's words: "ngày 25 hằng tháng".
    pub fn words(&self) -> String {
        match *self {
            Recurrence::Monthly { day } => format!("ngày {day} hằng tháng"),
            Recurrence::Quarterly { month, day } => {
                format!("ngày {day} tháng thứ {month} mỗi quý")
            }
            Recurrence::Yearly { month, day } => format!("ngày {day}/{month} hằng năm"),
        }
    }
}

/// A milestone as the schedule sees it: its date and whether it was met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub due_on: NaiveDate,
    pub met: bool,
}

/// Overdue: a milestone whose date has passed (before `as_of`) and that is not met. A met
/// milestone is never overdue, and a date passing is not enough by itself.
pub fn is_overdue(deadlines: &[Deadline], as_of: NaiveDate) -> bool {
    deadlines.iter().any(|d| d.due_on < as_of && !d.met)
}

/// Due soon: a milestone not met within `as_of ..= as_of + days`.
pub fn is_due_within(deadlines: &[Deadline], as_of: NaiveDate, days: u32) -> bool {
    let until = as_of + chrono::Duration::days(days.into());
    deadlines
        .iter()
        .any(|d| !d.met && d.due_on >= as_of && d.due_on <= until)
}

/// The next date the item must meet: its earliest milestone not yet met.
pub fn next_due(deadlines: &[Deadline]) -> Option<NaiveDate> {
    deadlines.iter().filter(|d| !d.met).map(|d| d.due_on).min()
}

/// How a measured value must compare with a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// ≥ target ("từ 50% trở lên", "ít nhất 02 hội nghị").
    AtLeast,
    /// > target ("trên 70%").
    MoreThan,
    /// ≤ target.
    AtMost,
    /// < target.
    LessThan,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::AtLeast => "at_least",
            Direction::MoreThan => "more_than",
            Direction::AtMost => "at_most",
            Direction::LessThan => "less_than",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        [
            Direction::AtLeast,
            Direction::MoreThan,
            Direction::AtMost,
            Direction::LessThan,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Direction::AtLeast => "≥",
            Direction::MoreThan => ">",
            Direction::AtMost => "≤",
            Direction::LessThan => "<",
        }
    }
}

/// A numeric target of a task: "≥ 50 %", "> 70 %", "≥ 2 cuộc", "≥ 3 bài/tháng".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[schema(value_type = crate::schema::DecimalInput, example = "50")]
    pub value: Decimal,
    /// What is counted: "%", "cuộc", "bài/tháng".
    #[schema(example = "%")]
    pub unit: String,
    pub direction: Direction,
}

impl Target {
    /// Whether `measured` reaches the target.
    pub fn is_met_by(&self, measured: Decimal) -> bool {
        match self.direction {
            Direction::AtLeast => measured >= self.value,
            Direction::MoreThan => measured > self.value,
            Direction::AtMost => measured <= self.value,
            Direction::LessThan => measured < self.value,
        }
    }

    /// "≥ 50 %".
    pub fn words(&self) -> String {
        format!(
            "{} {} {}",
            self.direction.symbol(),
            self.value.normalize(),
            self.unit
        )
    }
}

/// The latest measurement reported on or before `by` (the task's date; any date when
/// there is none), and whether it meets the target.
pub fn achieved(
    target: &Target,
    measurements: &[(NaiveDate, Decimal)],
    by: Option<NaiveDate>,
) -> Option<(Decimal, bool)> {
    measurements
        .iter()
        .filter(|(on, _)| by.is_none_or(|by| *on <= by))
        .max_by_key(|(on, _)| *on)
        .map(|(_, v)| (*v, target.is_met_by(*v)))
}

/// The year of a date, for recurrences.
pub fn year_of(date: NaiveDate) -> i32 {
    date.year()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_monthly_duty_yields_twelve_occurrences_clamped_to_month_ends() {
        let r = Recurrence::Monthly { day: 31 };
        let o = r.occurrences(2024);
        assert_eq!(o.len(), 12);
        assert_eq!(o[1], ("tháng 2/2024".to_string(), date(2024, 2, 29)));
        assert_eq!(
            Recurrence::Monthly { day: 25 }.occurrences(2024)[0].1,
            date(2024, 1, 25)
        );
        assert_eq!(
            Recurrence::Quarterly { month: 3, day: 20 }.occurrences(2024)[3].1,
            date(2024, 12, 20)
        );
        assert_eq!(
            Recurrence::Yearly { month: 3, day: 10 }.occurrences(2024),
            vec![("năm 2024".to_string(), date(2024, 3, 10))]
        );
        assert_eq!(
            Recurrence::Monthly { day: 25 }.words(),
            "ngày 25 hằng tháng"
        );
        assert!(!Recurrence::Monthly { day: 32 }.check().is_empty());
        assert!(
            !Recurrence::Quarterly { month: 4, day: 1 }
                .check()
                .is_empty()
        );
    }

    #[test]
    fn overdue_is_a_passed_date_not_met() {
        let jan = Deadline {
            due_on: date(2024, 1, 25),
            met: true,
        };
        let feb = Deadline {
            due_on: date(2024, 2, 25),
            met: false,
        };
        let both = [jan, feb];
        assert!(!is_overdue(&both, date(2024, 2, 24)));
        assert!(
            !is_overdue(&both, date(2024, 2, 25)),
            "due today is not overdue yet"
        );
        assert!(is_overdue(&both, date(2024, 2, 26)));
        assert!(is_due_within(&both, date(2024, 2, 20), 5));
        assert!(!is_due_within(&both, date(2024, 2, 19), 5));
        let met = [Deadline {
            due_on: date(2024, 1, 1),
            met: true,
        }];
        assert!(
            !is_overdue(&met, date(2030, 1, 1)),
            "a met milestone is never overdue"
        );
        let missed = [Deadline {
            due_on: date(2024, 1, 1),
            met: false,
        }];
        assert!(is_overdue(&missed, date(2024, 1, 2)));
        assert_eq!(next_due(&both), Some(date(2024, 2, 25)));
    }

    #[test]
    fn targets_compare_in_their_direction() {
        let half = Target {
            value: dec!(50),
            unit: "%".into(),
            direction: Direction::AtLeast,
        };
        assert!(half.is_met_by(dec!(50)) && !half.is_met_by(dec!(49.9)));
        let over = Target {
            value: dec!(70),
            unit: "%".into(),
            direction: Direction::MoreThan,
        };
        assert!(!over.is_met_by(dec!(70)) && over.is_met_by(dec!(70.1)));
        assert_eq!(over.words(), "> 70 %");
        let reports = [
            (date(2024, 6, 1), dec!(40)),
            (date(2024, 11, 1), dec!(55)),
            (date(2024, 12, 20), dec!(30)),
        ];
        assert_eq!(
            achieved(&half, &reports, Some(date(2024, 12, 15))),
            Some((dec!(55), true))
        );
        assert_eq!(achieved(&half, &reports, None), Some((dec!(30), false)));
        assert_eq!(achieved(&half, &[], None), None);
    }
}
