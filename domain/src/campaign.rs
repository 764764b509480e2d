//! A PAR year as a campaign with dates (issue 35): the framework opens, units submit by the
//! deadline, the council appraises and meets, preliminary results go out, appeals have a
//! window, results are announced. Pure: the dates are checked to follow each other, and
//! turned into dated events of a kind, with Vietnamese titles.

use crate::text;
use crate::text::Text;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest note a date may carry.
pub const NOTE_MAX: usize = 500;

/// A date of the campaign with an optional note (e.g. "dự kiến", a decision's number).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dated {
    pub date: NaiveDate,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// The campaign's dates beside the framework's own submission deadline and appeal window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Units may open their self-assessments.
    pub opens_on: Option<Dated>,
    /// A note on the submission deadline (`submission_deadline` of the framework).
    #[schema(max_length = 500)]
    pub submission_note: Option<String>,
    /// The council's (and its agencies') appraisal is due.
    pub appraisal_due_on: Option<Dated>,
    /// The appraisal council meets.
    pub council_meets_on: Option<Dated>,
    /// Preliminary results go out; the appeal window (`appeal_days`) opens.
    pub preliminary_release_on: Option<Dated>,
    /// A note on the end of the appeal window.
    #[schema(max_length = 500)]
    pub appeal_note: Option<String>,
    /// The results are announced.
    pub announcement_on: Option<Dated>,
}

/// What a dated event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    CampaignOpens,
    SubmissionDeadline,
    AppraisalDue,
    CouncilMeets,
    PreliminaryRelease,
    AppealWindowCloses,
    Announcement,
    RemediationMilestone,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CampaignOpens => "campaign_opens",
            EventKind::SubmissionDeadline => "submission_deadline",
            EventKind::AppraisalDue => "appraisal_due",
            EventKind::CouncilMeets => "council_meets",
            EventKind::PreliminaryRelease => "preliminary_release",
            EventKind::AppealWindowCloses => "appeal_window_closes",
            EventKind::Announcement => "announcement",
            EventKind::RemediationMilestone => "remediation_milestone",
        }
    }

    /// The event's Vietnamese title for a year's campaign.
    pub fn title_vi(self, year: i32) -> String {
        match self {
            EventKind::CampaignOpens => {
                format!("Bắt đầu tự đánh giá, chấm điểm chỉ số CCHC năm {year}")
            }
            EventKind::SubmissionDeadline => {
                format!("Hạn nộp hồ sơ tự đánh giá chỉ số CCHC năm {year}")
            }
            EventKind::AppraisalDue => format!("Hạn thẩm định chỉ số CCHC năm {year}"),
            EventKind::CouncilMeets => {
                format!("Họp Hội đồng thẩm định chỉ số CCHC năm {year}")
            }
            EventKind::PreliminaryRelease => {
                format!("Thông báo kết quả thẩm định sơ bộ chỉ số CCHC năm {year}")
            }
            EventKind::AppealWindowCloses => {
                format!("Hết hạn đề nghị phúc khảo kết quả chỉ số CCHC năm {year}")
            }
            EventKind::Announcement => format!("Công bố chỉ số CCHC năm {year}"),
            EventKind::RemediationMilestone => {
                format!("Hạn khắc phục tồn tại theo kết quả chỉ số CCHC năm {year}")
            }
        }
    }
}

/// One problem with a campaign: the field and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignError {
    pub field: String,
    pub code: &'static str,
    pub message: Text,
}

/// The campaign's dated events in order, with their notes; the appeal window closes
/// `appeal_days` after the preliminary release.
pub fn events(
    campaign: &Campaign,
    submission_deadline: Option<NaiveDate>,
    appeal_days: Option<i32>,
) -> Vec<(EventKind, NaiveDate, Option<String>)> {
    let dated = |kind, d: &Option<Dated>| d.as_ref().map(|d| (kind, d.date, d.note.clone()));
    let appeal_end = match (&campaign.preliminary_release_on, appeal_days) {
        (Some(r), Some(days)) if days > 0 => r
            .date
            .checked_add_days(Days::new(u64::from(days.unsigned_abs())))
            .map(|d| {
                (
                    EventKind::AppealWindowCloses,
                    d,
                    campaign.appeal_note.clone(),
                )
            }),
        _ => None,
    };
    [
        dated(EventKind::CampaignOpens, &campaign.opens_on),
        submission_deadline.map(|d| {
            (
                EventKind::SubmissionDeadline,
                d,
                campaign.submission_note.clone(),
            )
        }),
        dated(EventKind::AppraisalDue, &campaign.appraisal_due_on),
        dated(EventKind::CouncilMeets, &campaign.council_meets_on),
        dated(
            EventKind::PreliminaryRelease,
            &campaign.preliminary_release_on,
        ),
        appeal_end,
        dated(EventKind::Announcement, &campaign.announcement_on),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Checks a campaign: notes within their length, and the dates in the campaign's order
/// (each on or after the one before it; the announcement after the appeal window).
pub fn check(
    campaign: &Campaign,
    submission_deadline: Option<NaiveDate>,
    appeal_days: Option<i32>,
) -> Vec<CampaignError> {
    let mut errors = Vec::new();
    let notes = [
        (
            "opens_on.note",
            campaign.opens_on.as_ref().and_then(|d| d.note.as_ref()),
        ),
        ("submission_note", campaign.submission_note.as_ref()),
        (
            "appraisal_due_on.note",
            campaign
                .appraisal_due_on
                .as_ref()
                .and_then(|d| d.note.as_ref()),
        ),
        (
            "council_meets_on.note",
            campaign
                .council_meets_on
                .as_ref()
                .and_then(|d| d.note.as_ref()),
        ),
        (
            "preliminary_release_on.note",
            campaign
                .preliminary_release_on
                .as_ref()
                .and_then(|d| d.note.as_ref()),
        ),
        ("appeal_note", campaign.appeal_note.as_ref()),
        (
            "announcement_on.note",
            campaign
                .announcement_on
                .as_ref()
                .and_then(|d| d.note.as_ref()),
        ),
    ];
    for (field, note) in notes {
        if note.is_some_and(|n| n.chars().count() > NOTE_MAX || n.chars().any(char::is_control)) {
            errors.push(CampaignError {
                field: format!("campaign.{field}"),
                code: "invalid",
                message: text!(
                    "at most {NOTE_MAX} characters, no control characters",
                    "tối đa {NOTE_MAX} ký tự, không có ký tự điều khiển"
                ),
            });
        }
    }
    let field_of = |kind: EventKind| match kind {
        EventKind::CampaignOpens => "campaign.opens_on",
        EventKind::SubmissionDeadline => "submission_deadline",
        EventKind::AppraisalDue => "campaign.appraisal_due_on",
        EventKind::CouncilMeets => "campaign.council_meets_on",
        EventKind::PreliminaryRelease => "campaign.preliminary_release_on",
        EventKind::AppealWindowCloses => "appeal_days",
        EventKind::Announcement | EventKind::RemediationMilestone => "campaign.announcement_on",
    };
    let dated = events(campaign, submission_deadline, appeal_days);
    for pair in dated.windows(2) {
        let ((before, first, _), (kind, date, _)) = (&pair[0], &pair[1]);
        if date < first {
            let (before, after) = (before.as_str(), kind.as_str());
            errors.push(CampaignError {
                field: field_of(*kind).to_string(),
                code: "out_of_order",
                message: text!(
                    "{after} ({date}) comes before {before} ({first})",
                    "{after} ({date}) sớm hơn {before} ({first})"
                ),
            });
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn on(s: &str) -> Option<Dated> {
        Some(Dated {
            date: d(s),
            note: None,
        })
    }

    fn year_2024() -> Campaign {
        Campaign {
            opens_on: on("2024-10-01"),
            appraisal_due_on: on("2024-12-20"),
            council_meets_on: on("2024-12-26"),
            preliminary_release_on: on("2025-01-06"),
            announcement_on: on("2025-01-25"),
            ..Default::default()
        }
    }

    #[test]
    fn a_campaign_in_order_gives_its_events_with_the_appeal_window() {
        let c = year_2024();
        assert!(check(&c, Some(d("2024-12-10")), Some(10)).is_empty());
        let kinds: Vec<(EventKind, NaiveDate)> = events(&c, Some(d("2024-12-10")), Some(10))
            .into_iter()
            .map(|(k, date, _)| (k, date))
            .collect();
        assert_eq!(kinds[1], (EventKind::SubmissionDeadline, d("2024-12-10")));
        assert_eq!(kinds[5], (EventKind::AppealWindowCloses, d("2025-01-16")));
        assert_eq!(kinds.len(), 7);
    }

    #[test]
    fn dates_out_of_order_are_named() {
        let c = year_2024();
        let errors = check(&c, Some(d("2024-12-24")), Some(30));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        // The deadline after the appraisal is due; the appeal window past the announcement.
        assert_eq!(
            fields,
            ["campaign.appraisal_due_on", "campaign.announcement_on"]
        );
    }
}
