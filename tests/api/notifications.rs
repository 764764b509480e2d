//! Notifications people receive: a returned file and a coming deadline each become one
//! notification for the unit's accounts and one e-mail received by a real SMTP server
//! (parsed back as MIME: Vietnamese subject, plain text and HTML, the unsubscribe link),
//! never twice (not after a restart either); e-mails wait for an SMTP server that is down
//! and arrive once it is back; preferences, the daily digest and the unsubscribe link
//! change what is sent; bad preferences are refused with nothing changed.

use crate::fixtures::{Persona, World, fixture_framework_json, seed_self_entries, world};
use crate::helpers::{Database, TestApp, backends};
use crate::smtp_sink::{Received, SmtpSink, free_port};
use chrono::{Datelike, Duration};
use serde_json::{Value, json};

fn mail_env(url: &str) -> Vec<(String, String)> {
    vec![
        ("PARINDEX_SMTP_URL".into(), url.into()),
        (
            "PARINDEX_SMTP_FROM".into(),
            "Hội đồng thẩm định CCHC <cchc@vinhlinh.gov.vn>".into(),
        ),
        (
            "PARINDEX_PUBLIC_URL".into(),
            "https://cchc.vinhlinh.gov.vn".into(),
        ),
        ("PARINDEX_SMTP_POLL_MS".into(), "50".into()),
        ("PARINDEX_SMTP_RETRY_BASE_MS".into(), "100".into()),
        ("PARINDEX_SMTP_TIMEOUT_MS".into(), "2000".into()),
        // The reminders' scan is driven by the test (its `today`), not the clock.
        ("PARINDEX_WEBHOOK_DISPATCHER".into(), "false".into()),
    ]
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A parsed e-mail: (to, subject, text, html, List-Unsubscribe).
struct Mail {
    to: String,
    subject: String,
    text: String,
    html: String,
    unsubscribe: String,
    message_id: String,
}

fn parse(r: &Received) -> Mail {
    let m = mail_parser::MessageParser::default()
        .parse(&r.raw)
        .expect("a MIME message");
    Mail {
        to: r.to.join(","),
        subject: m.subject().unwrap_or_default().to_string(),
        text: m.body_text(0).unwrap_or_default().to_string(),
        html: m.body_html(0).unwrap_or_default().to_string(),
        unsubscribe: m
            .header_raw("List-Unsubscribe")
            .unwrap_or_default()
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string(),
        message_id: m.message_id().unwrap_or_default().to_string(),
    }
}

/// Officer A's address, set through its own preferences.
async fn give_officer_a_an_address(w: &World) {
    let officer = w.token(Persona::OfficerA);
    let set = w
        .app
        .put(
            "/api/v1/notifications/preferences",
            officer,
            &json!({"email": "officer.a@vinhlong.gov.vn", "items": []}),
        )
        .await;
    set.assert_status(200);
    assert_eq!(set.json["email"], "officer.a@vinhlong.gov.vn");
}

/// Commune A's file on `framework`, submitted, then returned asking for 1.5.3.
async fn return_a_file(w: &World, framework: i64) -> i64 {
    let officer = w.token(Persona::OfficerA);
    let sa = w
        .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
        .await;
    w.app
        .put(
            &format!("/api/v1/self-assessments/{sa}/entries"),
            officer,
            &json!({"entries": seed_self_entries()}),
        )
        .await
        .assert_status(200);
    let submitted = w
        .app
        .post(
            &format!("/api/v1/self-assessments/{sa}/submit"),
            officer,
            &json!({}),
        )
        .await;
    submitted.assert_status(200);
    let appraisal = submitted.json["appraisal_id"].as_i64().unwrap();
    w.app
        .post(
            &format!("/api/v1/appraisals/{appraisal}/return"),
            w.token(Persona::Appraiser),
            &json!({"note": "Bổ sung báo cáo", "criteria": ["1.5.3"]}),
        )
        .await
        .assert_status(200);
    sa
}

fn kinds(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_returned_file_and_a_coming_deadline_each_reach_the_officer_once() {
    for backend in backends() {
        let sink = SmtpSink::start().await;
        let env = mail_env(&sink.url());
        let app = TestApp::spawn_with(backend.clone(), &pairs(&env)).await;
        let w = world(app).await;
        give_officer_a_an_address(&w).await;
        let officer = w.token(Persona::OfficerA).to_string();

        // A framework of this year whose deadline is 10 days away; the scan runs as it
        // would 7 days and 1 day before it (twice each: once per replica that looks).
        let deadline = parindex_api::services::notifications::compose::Kind::DeadlineSoon;
        assert_eq!(deadline.as_str(), "self_assessment.deadline_soon");
        let due = chrono::Utc::now().date_naive() + Duration::days(10);
        let mut spec = fixture_framework_json(&w.id("district").to_string());
        spec["year"] = json!(due.year());
        spec["submission_deadline"] = json!(due);
        let framework = w.published_spec(&spec).await;
        let db = &w.app.state.db;
        for days in [7, 7, 1, 1] {
            parindex_api::services::reminders::scan(db, due - Duration::days(days))
                .await
                .unwrap();
        }
        let mails = sink.wait_for("two reminders", |all| all.len() >= 2).await;
        let reminders: Vec<Mail> = mails.iter().map(parse).collect();
        let year = due.year();
        let on = due.format("%d/%m/%Y").to_string();
        assert!(
            mails
                .iter()
                .all(|r| r.from.contains("cchc@vinhlinh.gov.vn"))
        );
        for (m, days) in reminders.iter().zip([7, 1]) {
            assert!(m.to.contains("officer.a@vinhlong.gov.vn"), "{}", m.to);
            assert_eq!(
                m.subject,
                format!("Còn {days} ngày đến hạn nộp hồ sơ tự đánh giá chỉ số CCHC năm {year}")
            );
            assert!(m.text.contains(&on), "{}", m.text);
            assert!(m.text.contains(&format!(
                "https://cchc.vinhlinh.gov.vn/api/v1/frameworks/{framework}"
            )));
            assert!(m.html.contains("<html lang=\"vi\">") && m.html.contains(&on));
            assert!(
                m.unsubscribe
                    .starts_with("https://cchc.vinhlinh.gov.vn/api/v1/unsubscribe/"),
                "{}",
                m.unsubscribe
            );
        }
        // Officer B has no address: its reminders are in the app only.
        let b = w
            .app
            .get("/api/v1/notifications", w.token(Persona::OfficerB))
            .await;
        b.assert_status(200);
        assert_eq!(b.json["unread"], 2);
        // The appraiser's unit is the district: not concerned.
        let appraiser = w
            .app
            .get("/api/v1/notifications", w.token(Persona::Appraiser))
            .await;
        assert_eq!(appraiser.json["total"], 0);

        // A returned file: one notification, one e-mail naming the criterion.
        let sa = return_a_file(&w, framework).await;
        let mails = sink.wait_for("the return", |all| all.len() >= 3).await;
        let returned = parse(&mails[2]);
        assert_eq!(
            returned.subject,
            format!("Hồ sơ tự đánh giá chỉ số CCHC năm {year} được trả lại để bổ sung")
        );
        assert!(returned.text.contains("1.5.3"), "{}", returned.text);
        assert!(
            returned
                .text
                .contains(&format!("/api/v1/self-assessments/{sa}"))
        );
        let mine = w.app.get("/api/v1/notifications", &officer).await;
        mine.assert_status(200);
        assert_eq!(
            kinds(&mine.json),
            [
                "self_assessment.returned",
                "self_assessment.deadline_soon",
                "self_assessment.deadline_soon"
            ]
        );
        assert_eq!(mine.json["unread"], 3);

        // Read: once, by its owner only.
        let first = mine.json["items"][0]["id"].as_i64().unwrap();
        let read = w
            .app
            .post(
                &format!("/api/v1/notifications/{first}/read"),
                &officer,
                &json!({}),
            )
            .await;
        read.assert_status(200);
        assert!(read.json["read_at"].is_string());
        let again = w
            .app
            .post(
                &format!("/api/v1/notifications/{first}/read"),
                &officer,
                &json!({}),
            )
            .await;
        assert_eq!(again.json["read_at"], read.json["read_at"]);
        w.app
            .post(
                &format!("/api/v1/notifications/{first}/read"),
                w.token(Persona::OfficerB),
                &json!({}),
            )
            .await
            .assert_problem(404, None);
        let unread = w
            .app
            .get(
                "/api/v1/notifications?unread_only=true&per_page=1",
                &officer,
            )
            .await;
        assert_eq!(
            (
                unread.json["unread"].as_i64(),
                unread.json["total"].as_i64()
            ),
            (Some(2), Some(2))
        );
        assert_eq!(unread.json["items"].as_array().unwrap().len(), 1);

        // A restart (another process on the same database) sends nothing again.
        let restarted = TestApp::spawn_on(
            backend.clone(),
            w.app.database_url.clone(),
            Database::Shared,
            &pairs(&env),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let all = sink.all();
        assert_eq!(all.len(), 3, "nothing is sent twice");
        let ids: std::collections::HashSet<String> =
            all.iter().map(|r| parse(r).message_id).collect();
        assert_eq!(ids.len(), 3);

        // The unsubscribe link: a page to confirm, then one POST turns e-mail off.
        let link = returned
            .unsubscribe
            .replace("https://cchc.vinhlinh.gov.vn", "");
        let page = w.app.get(&link, "").await;
        page.assert_status(200);
        assert!(page.text.contains("<form method=\"post\">"));
        let done = w
            .app
            .request(reqwest::Method::POST, &link, None)
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        let prefs = w
            .app
            .get("/api/v1/notifications/preferences", &officer)
            .await;
        assert!(
            prefs.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["email"] == "off" && p["in_app"] == true),
            "{}",
            prefs.text
        );
        w.app
            .get("/api/v1/unsubscribe/0123", "")
            .await
            .assert_problem(404, None);
        drop(restarted);
    }
}

#[tokio::test]
async fn emails_wait_for_a_smtp_server_that_is_down_and_arrive_once_it_is_back() {
    for backend in backends() {
        let port = free_port();
        let env = mail_env(&format!("smtp://127.0.0.1:{port}"));
        let app = TestApp::spawn_with(backend.clone(), &pairs(&env)).await;
        let w = world(app).await;
        give_officer_a_an_address(&w).await;
        let framework = w.published_framework(w.id("district")).await;
        return_a_file(&w, framework).await;
        // The change is committed and answered; the e-mail waits in the outbox.
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        use sea_orm::{ConnectionTrait, Statement};
        let db = &w.app.state.db;
        let waiting = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT attempts, last_error FROM mail_messages WHERE sent_at IS NULL",
            ))
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1);
        let attempts: i32 = waiting[0].try_get("", "attempts").unwrap();
        let error: Option<String> = waiting[0].try_get("", "last_error").unwrap();
        assert!(attempts >= 1, "it was tried");
        assert!(error.is_some_and(|e| !e.is_empty()));
        // The server comes up on its port: the retry delivers it, once.
        let sink = SmtpSink::start_on(port).await;
        let got = sink
            .wait_for("the e-mail after the outage", |all| !all.is_empty())
            .await;
        assert!(parse(&got[0]).subject.contains("được trả lại để bổ sung"));
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert_eq!(sink.all().len(), 1);
    }
}

use parindex_api::services::notifications::mailer::make_digests;

#[tokio::test]
async fn a_daily_digest_gathers_the_day_and_bad_preferences_change_nothing() {
    for backend in backends() {
        let sink = SmtpSink::start().await;
        let mut env = mail_env(&sink.url());
        env.push(("PARINDEX_DIGEST_HOUR".into(), "0".into()));
        let app = TestApp::spawn_with(backend.clone(), &pairs(&env)).await;
        let w = world(app).await;
        let officer = w.token(Persona::OfficerA).to_string();
        give_officer_a_an_address(&w).await;
        // Wrong kinds, choices, a kind twice and a bad address: 422 naming each, and the
        // address and choices stay as they were.
        let bad = w
            .app
            .put(
                "/api/v1/notifications/preferences",
                &officer,
                &json!({"email": "not an address", "items": [
                    {"kind": "self_assessment.returned", "in_app": true, "email": "weekly"},
                    {"kind": "appeal.filed", "in_app": true, "email": "off"},
                    {"kind": "results.published", "in_app": true, "email": "off"},
                    {"kind": "results.published", "in_app": false, "email": "off"}
                ]}),
            )
            .await;
        bad.assert_problem(422, None);
        for field in ["email", "items[0].email", "items[1].kind", "items[3].kind"] {
            assert!(bad.text.contains(field), "{field}: {}", bad.text);
        }
        let prefs = w
            .app
            .get("/api/v1/notifications/preferences", &officer)
            .await;
        assert_eq!(prefs.json["email"], "officer.a@vinhlong.gov.vn");
        assert!(
            prefs.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["email"] == "immediate")
        );

        let set = w
            .app
            .put(
                "/api/v1/notifications/preferences",
                &officer,
                &json!({"email": "officer.a@vinhlong.gov.vn", "items": [
                    {"kind": "self_assessment.returned", "in_app": true, "email": "daily"}
                ]}),
            )
            .await;
        set.assert_status(200);
        let framework = w.published_framework(w.id("district")).await;
        return_a_file(&w, framework).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            sink.all().is_empty(),
            "a daily choice sends nothing at once"
        );
        // The digest: made once however often it is looked for, then sent.
        assert_eq!(make_digests(&w.app.state.db, 0).await.unwrap(), 1);
        assert_eq!(make_digests(&w.app.state.db, 0).await.unwrap(), 0);
        let got = sink.wait_for("the digest", |all| !all.is_empty()).await;
        let digest = parse(&got[0]);
        assert!(
            digest
                .subject
                .starts_with("Tổng hợp 1 thông báo chỉ số CCHC ngày"),
            "{}",
            digest.subject
        );
        assert!(digest.text.contains("được trả lại để bổ sung"));
        // In the app it is listed as usual.
        let mine = w.app.get("/api/v1/notifications", &officer).await;
        assert_eq!(kinds(&mine.json), ["self_assessment.returned"]);
    }
}

#[tokio::test]
async fn released_results_and_assigned_criteria_reach_whom_they_concern() {
    crate::helpers::on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let province = w.id("province");
        let agency = w
            .unit("000.00.09", "Sở Tư pháp", "agency", Some(province))
            .await;
        let (_, agency_token) = w.account("stp.appraiser", "appraiser", Some(agency)).await;
        let mut spec = fixture_framework_json(&province.to_string());
        for c in spec["criteria"].as_array_mut().unwrap() {
            if c["code"] == "1" {
                c["appraised_by_unit_id"] = json!(agency);
            }
        }
        let framework = w.published_spec(&spec).await;
        let assigned = w.app.get("/api/v1/notifications", &agency_token).await;
        assigned.assert_status(200);
        assert_eq!(kinds(&assigned.json), ["appraisal.criteria_assigned"]);
        let n = &assigned.json["items"][0];
        assert_eq!(
            n["title"],
            "Được giao thẩm định 1 tiêu chí chỉ số CCHC năm 2023"
        );
        assert_eq!(n["link"], format!("/api/v1/frameworks/{framework}"));
        // Nobody else was assigned anything.
        let officer = w
            .app
            .get("/api/v1/notifications", w.token(Persona::OfficerA))
            .await;
        assert_eq!(officer.json["total"], 0);

        w.app
            .post(
                "/api/v1/preliminary-results",
                admin,
                &json!({"parent_unit_id": province, "year": 2023}),
            )
            .await
            .assert_status(201);
        // Every account of a unit in the province hears it; the other province's nobody.
        for persona in [Persona::OfficerA, Persona::OfficerB, Persona::Appraiser] {
            let mine = w.app.get("/api/v1/notifications", w.token(persona)).await;
            assert_eq!(
                kinds(&mine.json),
                ["results.preliminary_released"],
                "{persona:?}"
            );
            assert_eq!(
                mine.json["items"][0]["title"],
                "Đã thông báo kết quả thẩm định sơ bộ chỉ số CCHC năm 2023"
            );
        }
        // An account that turned the kind off in the app does not see it listed.
        let viewer = w.token(Persona::Viewer);
        let off = w
            .app
            .put(
                "/api/v1/notifications/preferences",
                viewer,
                &json!({"email": null, "items": [
                    {"kind": "results.published", "in_app": false, "email": "off"}
                ]}),
            )
            .await;
        off.assert_status(200);
        let listed = w.app.get("/api/v1/notifications", viewer).await;
        assert_eq!(kinds(&listed.json), ["results.preliminary_released"]);
    })
    .await;
}

#[tokio::test]
async fn an_answered_appeal_and_an_overdue_milestone_notify_the_unit() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (w, _, appraisal) = crate::races::released_appraisal(app).await;
        let officer = w.token(Persona::OfficerA).to_string();
        let appraiser = w.token(Persona::Appraiser).to_string();
        let filed = w
            .app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/appeals"),
                &officer,
                &json!({"criterion_code": "1.5.3", "reason": "Đơn vị đã có tài liệu kiểm chứng"}),
            )
            .await;
        filed.assert_status(201);
        let id = filed.json["id"].as_i64().unwrap();
        w.app
            .post(
                &format!("/api/v1/appeals/{id}/decision"),
                &appraiser,
                &json!({"accepted": false, "response": "Giữ nguyên kết quả"}),
            )
            .await
            .assert_status(200);
        let mine = w.app.get("/api/v1/notifications", &officer).await;
        let answered = mine.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == "appeal.decided")
            .unwrap_or_else(|| panic!("{}", mine.text))
            .clone();
        assert_eq!(
            answered["title"],
            "Kiến nghị về tiêu chí 1.5.3 đã được trả lời"
        );
        assert!(
            answered["body"]
                .as_str()
                .unwrap()
                .contains("không được chấp nhận"),
            "{answered}"
        );
        assert_eq!(answered["link"], format!("/api/v1/appeals/{id}"));
        // Commune B's officer hears nothing of commune A's appeal.
        let theirs = w
            .app
            .get("/api/v1/notifications", w.token(Persona::OfficerB))
            .await;
        assert!(!theirs.text.contains("appeal.decided"), "{}", theirs.text);

        // Finalized, a remediation plan with a milestone past its date: overdue, once.
        w.app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                &appraiser,
                &json!({}),
            )
            .await
            .assert_status(200);
        let today = chrono::Utc::now().date_naive();
        w.app
            .post(
                "/api/v1/remediation-plans",
                w.admin(),
                &json!({"appraisal_id": appraisal, "milestones": [
                    {"label": "Niêm yết thủ tục hành chính", "due_on": today - Duration::days(2)}
                ]}),
            )
            .await
            .assert_status(201);
        for _ in 0..2 {
            parindex_api::services::webhooks::dispatcher::scan_deadlines(&w.app.state.db, 7)
                .await
                .unwrap();
        }
        let mine = w.app.get("/api/v1/notifications", &officer).await;
        let overdue: Vec<&Value> = mine.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "remediation.milestone_overdue")
            .collect();
        assert!(!overdue.is_empty(), "{}", mine.text);
        let titles: std::collections::HashSet<&str> = overdue
            .iter()
            .map(|n| n["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles.len(),
            overdue.len(),
            "each milestone once: {titles:?}"
        );
        assert!(
            titles
                .contains("Mốc khắc phục đã quá hạn: Niêm yết thủ tục hành chính (tiêu chí 1.5.3)"),
            "{titles:?}"
        );
    }
}
