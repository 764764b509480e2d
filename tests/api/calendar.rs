//! The year as a campaign: each caller's calendar lists exactly the events that concern
//! it; an extension moves a unit's deadline in JSON and in the iCalendar feed (read back
//! with a real iCalendar parser); a feed URL reads the calendar and nothing else, and
//! answers 404 once revoked.

use crate::fixtures::{Persona, World, fixture_framework_json, world};
use crate::helpers::{Resp, on_each_backend};
use reqwest::Method;
use serde_json::{Value, json};

fn campaign() -> Value {
    json!({
        "opens_on": {"date": "2023-10-01"},
        "submission_note": "Theo Kế hoạch số 120/KH-UBND",
        "appraisal_due_on": {"date": "2023-12-15"},
        "council_meets_on": {"date": "2023-12-20", "note": "Phòng họp số 2"},
        "preliminary_release_on": {"date": "2024-01-05"},
        "announcement_on": {"date": "2024-01-25"},
    })
}

/// (kind, date) of a calendar's items.
fn kinds(r: &Resp) -> Vec<(String, String)> {
    r.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["date"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, d)| (k.to_string(), d.to_string()))
        .collect()
}

const RANGE: &str = "from=2023-09-01&to=2024-02-29";

async fn calendar_of(w: &World, token: &str) -> Resp {
    let r = w.app.get(&format!("/api/v1/calendar?{RANGE}"), token).await;
    r.assert_status(200);
    r
}

/// The events of an iCalendar text: (UID, DTSTART, SUMMARY), parsed by `icalendar`.
fn ics_events(text: &str) -> Vec<(String, String, String)> {
    let unfolded = icalendar::parser::unfold(text);
    let cal = icalendar::parser::read_calendar(&unfolded).expect("a valid iCalendar");
    cal.components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .map(|c| {
            let prop = |n: &str| {
                c.find_prop(n)
                    .map(|p| p.val.as_str().to_string())
                    .unwrap_or_default()
            };
            (prop("UID"), prop("DTSTART"), prop("SUMMARY"))
        })
        .collect()
}

#[tokio::test]
async fn each_caller_sees_its_own_events_and_a_feed_follows_an_extension() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let province = w.id("province");
        let agency = w
            .unit(
                "SNV45",
                "Sở Nội vụ tỉnh Quảng Trị",
                "agency",
                Some(province),
            )
            .await;
        let (_, agency_token) = w.account("snv.appraiser", "appraiser", Some(agency)).await;
        let (_, province_token) = w
            .account("tinh.appraiser", "appraiser", Some(province))
            .await;
        let mut spec = fixture_framework_json(&province.to_string());
        spec["submission_deadline"] = json!("2023-11-30");
        spec["appeal_days"] = json!(10);
        spec["campaign"] = campaign();
        for c in spec["criteria"].as_array_mut().unwrap() {
            if c["code"] == "1" {
                c["appraised_by_unit_id"] = json!(agency);
            }
        }
        // Dates out of order are named.
        let mut wrong = spec.clone();
        wrong["campaign"]["council_meets_on"] = json!({"date": "2023-12-01"});
        let r = w.app.post("/api/v1/frameworks", admin, &wrong).await;
        r.assert_problem(422, None);
        assert_eq!(
            r.json["errors"][0]["field"], "campaign.council_meets_on",
            "{}",
            r.text
        );
        let f = w.app.post("/api/v1/frameworks", admin, &spec).await;
        f.assert_status(201);
        assert_eq!(
            f.json["campaign"]["council_meets_on"]["note"],
            "Phòng họp số 2"
        );
        let f = f.json["id"].as_i64().unwrap();
        w.app
            .post(
                &format!("/api/v1/frameworks/{f}/publish"),
                admin,
                &json!({}),
            )
            .await
            .assert_status(200);

        // The officer: its unit's dates, not the council's.
        let officer = w.token(Persona::OfficerA);
        let mine = calendar_of(&w, officer).await;
        assert_eq!(
            kinds(&mine),
            pairs(&[
                ("campaign_opens", "2023-10-01"),
                ("submission_deadline", "2023-11-30"),
                ("preliminary_release", "2024-01-05"),
                ("appeal_window_closes", "2024-01-15"),
                ("announcement", "2024-01-25"),
            ])
        );
        assert!(
            mine.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["unit_id"] == w.id("commune_a"))
        );
        assert_eq!(
            mine.json["items"][1]["note"],
            "Theo Kế hoạch số 120/KH-UBND"
        );
        // The province's appraiser: the whole campaign.
        let council = calendar_of(&w, &province_token).await;
        assert_eq!(
            kinds(&council),
            pairs(&[
                ("campaign_opens", "2023-10-01"),
                ("submission_deadline", "2023-11-30"),
                ("appraisal_due", "2023-12-15"),
                ("council_meets", "2023-12-20"),
                ("preliminary_release", "2024-01-05"),
                ("appeal_window_closes", "2024-01-15"),
                ("announcement", "2024-01-25"),
            ])
        );
        // The agency: the campaign it appraises in, its own due date named so.
        let field = calendar_of(&w, &agency_token).await;
        assert_eq!(
            kinds(&field),
            pairs(&[
                ("campaign_opens", "2023-10-01"),
                ("submission_deadline", "2023-11-30"),
                ("appraisal_due", "2023-12-15"),
                ("council_meets", "2023-12-20"),
                ("preliminary_release", "2024-01-05"),
                ("announcement", "2024-01-25"),
            ])
        );
        assert!(
            field.json["items"][2]["title"]
                .as_str()
                .unwrap()
                .contains("tiêu chí được giao")
        );
        // A district that neither owns nor is scored by this framework: nothing.
        let district = calendar_of(&w, w.token(Persona::Appraiser)).await;
        assert_eq!(kinds(&district), vec![]);

        // An extension moves the officer's deadline, and only the officer's.
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), f)
            .await;
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/deadline-extension"),
                admin,
                &json!({"until": "2023-12-07", "reason": "Mưa lũ"}),
            )
            .await
            .assert_status(200);
        let moved = calendar_of(&w, officer).await;
        assert_eq!(moved.json["items"][1]["date"], "2023-12-07");
        assert!(
            moved.json["items"][1]["title"]
                .as_str()
                .unwrap()
                .ends_with("(đã gia hạn)")
        );
        let other = calendar_of(&w, w.token(Persona::OfficerB)).await;
        assert_eq!(other.json["items"][1]["date"], "2023-11-30");

        // The same in iCalendar, read back by a parser; the UID stays while the date moves.
        let ics = w
            .app
            .get(&format!("/api/v1/calendar.ics?{RANGE}"), officer)
            .await;
        ics.assert_status(200);
        assert!(
            ics.header("content-type")
                .unwrap()
                .starts_with("text/calendar")
        );
        let events = ics_events(&ics.text);
        assert_eq!(events.len(), 5, "{}", ics.text);
        let uid = format!(
            "submission_deadline-{f}-unit-{}@parindex",
            w.id("commune_a")
        );
        let deadline = events
            .iter()
            .find(|e| e.0 == uid)
            .unwrap_or_else(|| panic!("{events:?}"));
        assert_eq!(deadline.1, "20231207");
        assert!(deadline.2.contains("đã gia hạn"), "{deadline:?}");

        // A name longer than 200 characters is refused, and nothing is made.
        let long = w
            .app
            .post(
                "/api/v1/calendar/feeds",
                officer,
                &json!({"name": "x".repeat(201)}),
            )
            .await;
        long.assert_problem(422, None);
        assert!(long.text.contains("name"), "{}", long.text);
        let none = w.app.get("/api/v1/calendar/feeds", officer).await;
        assert_eq!(none.json["items"], json!([]));

        // A feed URL: the calendar without a bearer token, and nothing else.
        let made = w
            .app
            .post(
                "/api/v1/calendar/feeds",
                officer,
                &json!({"name": "Điện thoại"}),
            )
            .await;
        made.assert_status(201);
        let url = made.json["url"].as_str().unwrap().to_string();
        let path = url[url.find("/api/v1/").unwrap()..].to_string();
        let token = path.rsplit('/').next().unwrap().to_string();
        let read = |p: String| {
            let app = &w.app;
            async move { Resp::read(app.request(Method::GET, &p, None).send().await).await }
        };
        let feed = read(format!("{path}?{RANGE}")).await;
        feed.assert_status(200);
        assert_eq!(ics_events(&feed.text), events);
        let me = w.app.get("/api/v1/auth/me", &token).await;
        assert_eq!(me.status.as_u16(), 401, "a feed token is no bearer token");
        let listed = w.app.get("/api/v1/calendar/feeds", officer).await;
        assert_eq!(listed.json["items"][0]["name"], "Điện thoại");
        assert!(!listed.text.contains(&token));
        // Only its owner revokes it; then it answers 404.
        let id = made.json["id"].as_i64().unwrap();
        let theirs = w
            .app
            .request(
                Method::DELETE,
                &format!("/api/v1/calendar/feeds/{id}"),
                Some(w.token(Persona::OfficerB)),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(theirs.status().as_u16(), 404);
        let gone = w
            .app
            .request(
                Method::DELETE,
                &format!("/api/v1/calendar/feeds/{id}"),
                Some(officer),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status().as_u16(), 204);
        read(path.clone()).await.assert_problem(404, None);
        read("/api/v1/calendar/subscriptions/not-a-token".to_string())
            .await
            .assert_problem(404, None);

        // A range that ends before it starts, or is too wide: 422.
        w.app
            .get("/api/v1/calendar?from=2024-01-01&to=2023-01-01", officer)
            .await
            .assert_problem(422, None);
        w.app
            .get("/api/v1/calendar?from=2020-01-01&to=2024-01-01", officer)
            .await
            .assert_problem(422, None);
    })
    .await;
}
