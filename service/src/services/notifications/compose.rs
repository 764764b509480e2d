//! What a notification says and how its e-mail reads: pure functions of an event's data
//! (the outbox's thin JSON) and, for e-mail, of the deployment's public URL. Vietnamese,
//! as the people who receive them read it.

use chrono::NaiveDate;
use entity::status::AppealStatus;
use serde_json::Value;

/// The kinds of notification: the outbox events that concern a person. Their names are
/// the events' (`self_assessment.returned`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A file returned for supplementation: to the unit's accounts.
    FileReturned,
    /// The submission deadline 7 days and 1 day ahead, for a file not yet submitted.
    DeadlineSoon,
    /// Results published for a district or province: to the accounts of the units in it.
    ResultsPublished,
    /// Preliminary results released: to the accounts of the units in the district or
    /// province.
    PreliminaryReleased,
    /// Criteria assigned to an agency to appraise: to the agency's accounts.
    CriteriaAssigned,
    /// An appeal answered: to the unit's accounts.
    AppealDecided,
    /// A remediation milestone due soon, or overdue: to the unit's accounts.
    MilestoneDueSoon,
    MilestoneOverdue,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::FileReturned,
        Kind::DeadlineSoon,
        Kind::ResultsPublished,
        Kind::PreliminaryReleased,
        Kind::CriteriaAssigned,
        Kind::AppealDecided,
        Kind::MilestoneDueSoon,
        Kind::MilestoneOverdue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::FileReturned => "self_assessment.returned",
            Kind::DeadlineSoon => "self_assessment.deadline_soon",
            Kind::ResultsPublished => "results.published",
            Kind::PreliminaryReleased => "results.preliminary_released",
            Kind::CriteriaAssigned => "appraisal.criteria_assigned",
            Kind::AppealDecided => "appeal.decided",
            Kind::MilestoneDueSoon => "remediation.milestone_due_soon",
            Kind::MilestoneOverdue => "remediation.milestone_overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind's name in a preferences screen.
    pub fn label_vi(self) -> &'static str {
        match self {
            Kind::FileReturned => "Hồ sơ tự đánh giá bị trả lại để bổ sung",
            Kind::DeadlineSoon => "Sắp đến hạn nộp hồ sơ tự đánh giá",
            Kind::ResultsPublished => "Công bố kết quả chỉ số CCHC",
            Kind::PreliminaryReleased => "Thông báo kết quả thẩm định sơ bộ",
            Kind::CriteriaAssigned => "Được giao thẩm định tiêu chí",
            Kind::AppealDecided => "Trả lời kiến nghị",
            Kind::MilestoneDueSoon => "Mốc khắc phục sắp đến hạn",
            Kind::MilestoneOverdue => "Mốc khắc phục quá hạn",
        }
    }

    /// Results concern every unit under the one they were released or published for; the
    /// rest one unit.
    pub fn reaches_below(self) -> bool {
        matches!(self, Kind::ResultsPublished | Kind::PreliminaryReleased)
    }
}

/// A notification's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The resource to open (an API path).
    pub link: String,
}

fn int(data: &Value, field: &str) -> i64 {
    data.get(field).and_then(Value::as_i64).unwrap_or_default()
}

fn text<'a>(data: &'a Value, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn date(data: &Value, field: &str) -> String {
    text(data, field)
        .parse::<NaiveDate>()
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// The notice an event of `kind` with `data` gives.
pub fn notice(kind: Kind, data: &Value) -> Notice {
    let year = int(data, "year");
    match kind {
        Kind::FileReturned => {
            let criteria: Vec<&str> = data
                .get("criteria")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let asked = if criteria.is_empty() {
                "Hội đồng thẩm định đề nghị bổ sung, hoàn thiện hồ sơ.".to_string()
            } else {
                format!(
                    "Hội đồng thẩm định đề nghị bổ sung các tiêu chí: {}.",
                    criteria.join(", ")
                )
            };
            Notice {
                title: format!("Hồ sơ tự đánh giá chỉ số CCHC năm {year} được trả lại để bổ sung"),
                body: format!(
                    "{asked} Sau khi bổ sung, đề nghị nộp lại hồ sơ (lần {}).",
                    int(data, "round") + 1
                ),
                link: format!(
                    "/api/v1/self-assessments/{}",
                    int(data, "self_assessment_id")
                ),
            }
        }
        Kind::DeadlineSoon => {
            let days = int(data, "days_left");
            Notice {
                title: format!(
                    "Còn {days} ngày đến hạn nộp hồ sơ tự đánh giá chỉ số CCHC năm {year}"
                ),
                body: format!(
                    "Hạn nộp hồ sơ tự đánh giá là ngày {} (đã tính gia hạn, nếu có). Hồ sơ của \
                     đơn vị chưa được nộp.",
                    date(data, "deadline")
                ),
                link: format!("/api/v1/frameworks/{}", int(data, "framework_id")),
            }
        }
        Kind::ResultsPublished => {
            let decision = match (text(data, "decision_number"), date(data, "decided_on")) {
                ("", _) => String::new(),
                (number, on) if on.is_empty() => format!(" theo Quyết định số {number}"),
                (number, on) => format!(" theo Quyết định số {number} ngày {on}"),
            };
            Notice {
                title: format!("Đã công bố kết quả chỉ số CCHC năm {year}"),
                body: format!(
                    "Kết quả xác định chỉ số cải cách hành chính năm {year} đã được công bố{decision}."
                ),
                link: format!("/api/v1/publications/{}", int(data, "publication_id")),
            }
        }
        Kind::PreliminaryReleased => Notice {
            title: format!("Đã thông báo kết quả thẩm định sơ bộ chỉ số CCHC năm {year}"),
            body: format!(
                "Hội đồng thẩm định đã thông báo kết quả thẩm định sơ bộ năm {year}: đơn vị xem                  kết quả của mình và có thể kiến nghị trong thời hạn quy định."
            ),
            link: format!("/api/v1/preliminary-results?year={year}"),
        },
        Kind::CriteriaAssigned => {
            let criteria: Vec<&str> = data
                .get("criteria")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Notice {
                title: format!(
                    "Được giao thẩm định {} tiêu chí chỉ số CCHC năm {year}",
                    criteria.len()
                ),
                body: format!(
                    "Bộ tiêu chí năm {year} giao cơ quan thẩm định các tiêu chí: {}.",
                    criteria.join(", ")
                ),
                link: format!("/api/v1/frameworks/{}", int(data, "framework_id")),
            }
        }
        Kind::AppealDecided => {
            let outcome = data
                .get("status")
                .and_then(|s| serde_json::from_value::<AppealStatus>(s.clone()).ok())
                .map_or("đã được trả lời", AppealStatus::words_vi);
            Notice {
                title: format!(
                    "Kiến nghị về tiêu chí {} đã được trả lời",
                    text(data, "criterion_code")
                ),
                body: format!(
                    "Kiến nghị về kết quả thẩm định tiêu chí {} (năm {year}) {outcome}.",
                    text(data, "criterion_code")
                ),
                link: format!("/api/v1/appeals/{}", int(data, "appeal_id")),
            }
        }
        Kind::MilestoneDueSoon | Kind::MilestoneOverdue => {
            let (title, state) = if kind == Kind::MilestoneDueSoon {
                ("Mốc khắc phục sắp đến hạn", "sắp đến hạn")
            } else {
                ("Mốc khắc phục đã quá hạn", "đã quá hạn")
            };
            // A plan repeats a milestone over its items: the criterion tells them apart.
            let of = match text(data, "criterion_code") {
                "" => String::new(),
                code => format!(" (tiêu chí {code})"),
            };
            Notice {
                title: format!("{title}: {}{of}", text(data, "label")),
                body: format!(
                    "Mốc \"{}\" của kế hoạch khắc phục hạn ngày {} {state}.",
                    text(data, "label"),
                    date(data, "due_on")
                ),
                link: format!("/api/v1/remediation-plans/{}", int(data, "plan_id")),
            }
        }
    }
}

/// One notice as an e-mail lists it.
pub struct Listed<'a> {
    pub notice: &'a Notice,
    /// When it happened, as people read it (`07/12/2026 09:30`).
    pub at: String,
}

/// An e-mail's subject and bodies.
#[derive(Debug, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The e-mail of one notice (`items` of one) or a daily digest (`digest_of` its date).
pub fn mail(
    full_name: &str,
    items: &[Listed<'_>],
    digest_of: Option<NaiveDate>,
    public_url: &str,
    unsubscribe_url: &str,
) -> Mail {
    let subject = match (digest_of, items) {
        (None, [one]) => one.notice.title.clone(),
        (Some(day), _) => format!(
            "Tổng hợp {} thông báo chỉ số CCHC ngày {}",
            items.len(),
            day.format("%d/%m/%Y")
        ),
        (None, _) => format!("{} thông báo chỉ số CCHC", items.len()),
    };
    let mut text = format!("Kính gửi {full_name},\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body>\n<p>Kính gửi {},</p>\n",
        escape(&subject),
        escape(full_name)
    );
    for item in items {
        let url = format!("{public_url}{}", item.notice.link);
        text.push_str(&format!(
            "{}\n{}\n{}\nXem: {url}\n\n",
            item.notice.title, item.at, item.notice.body
        ));
        html.push_str(&format!(
            "<h3>{}</h3>\n<p><small>{}</small></p>\n<p>{}</p>\n<p><a href=\"{}\">Xem chi tiết</a></p>\n",
            escape(&item.notice.title),
            escape(&item.at),
            escape(&item.notice.body),
            escape(&url)
        ));
    }
    let footer = "Thư này được gửi tự động từ hệ thống chấm điểm chỉ số cải cách hành chính; \
                  vui lòng không trả lời thư này.";
    text.push_str(&format!(
        "--\n{footer}\nThay đổi tuỳ chọn nhận thông báo: {public_url}/api/v1/notifications/preferences\n\
         Ngừng nhận thư: {unsubscribe_url}\n"
    ));
    html.push_str(&format!(
        "<hr>\n<p><small>{}<br><a href=\"{}\">Ngừng nhận thư thông báo</a></small></p>\n</body></html>\n",
        escape(footer),
        escape(unsubscribe_url)
    ));
    Mail {
        subject,
        text,
        html,
    }
}

/// Text in HTML: `&`, `<`, `>`, `"` and `'` escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_returned_file_names_the_criteria_asked_for() {
        let n = notice(
            Kind::FileReturned,
            &json!({"self_assessment_id": 7, "year": 2024, "round": 1, "criteria": ["1.1", "2.3"]}),
        );
        assert_eq!(
            n.title,
            "Hồ sơ tự đánh giá chỉ số CCHC năm 2024 được trả lại để bổ sung"
        );
        assert!(n.body.contains("các tiêu chí: 1.1, 2.3."), "{}", n.body);
        assert!(n.body.contains("(lần 2)"));
        assert_eq!(n.link, "/api/v1/self-assessments/7");
    }

    #[test]
    fn a_deadline_reads_in_vietnamese_dates() {
        let n = notice(
            Kind::DeadlineSoon,
            &json!({"framework_id": 3, "year": 2024, "deadline": "2024-12-15", "days_left": 7}),
        );
        assert_eq!(
            n.title,
            "Còn 7 ngày đến hạn nộp hồ sơ tự đánh giá chỉ số CCHC năm 2024"
        );
        assert!(n.body.contains("15/12/2024"));
    }

    #[test]
    fn kinds_have_one_name_each() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("appeal.filed"), None);
    }

    #[test]
    fn mail_escapes_what_people_typed_and_links_to_the_service() {
        let n = Notice {
            title: "Mốc khắc phục đã quá hạn: <b>Niêm yết</b> & \"công khai\"".into(),
            body: "x".into(),
            link: "/api/v1/remediation-plans/2".into(),
        };
        let m = mail(
            "Nguyễn Văn A",
            &[Listed {
                notice: &n,
                at: "07/12/2026 09:30".into(),
            }],
            None,
            "https://cchc.example.gov.vn",
            "https://cchc.example.gov.vn/api/v1/unsubscribe/t",
        );
        assert_eq!(m.subject, n.title);
        assert!(
            m.html
                .contains("&lt;b&gt;Niêm yết&lt;/b&gt; &amp; &quot;công khai&quot;")
        );
        assert!(!m.html.contains("<b>"));
        assert!(
            m.text
                .contains("Xem: https://cchc.example.gov.vn/api/v1/remediation-plans/2")
        );
        assert!(
            m.text
                .contains("Ngừng nhận thư: https://cchc.example.gov.vn/api/v1/unsubscribe/t")
        );
        let digest = mail(
            "A",
            &[
                Listed {
                    notice: &n,
                    at: String::new(),
                },
                Listed {
                    notice: &n,
                    at: String::new(),
                },
            ],
            NaiveDate::from_ymd_opt(2026, 12, 7),
            "https://x",
            "https://x/u",
        );
        assert_eq!(
            digest.subject,
            "Tổng hợp 2 thông báo chỉ số CCHC ngày 07/12/2026"
        );
    }
}
