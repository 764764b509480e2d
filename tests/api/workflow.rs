//! The yearly workflow: self-assessment, submission, appraisal with returns, bonus,
//! finalization, and the audit trail; replayed with the seed commune's real figures.

use crate::fixtures::{Persona, World, seed_council_entries, seed_json, seed_self_entries, world};
use crate::helpers::{Resp, on_each_backend};
use reqwest::Method;
use serde_json::{Value, json};

fn entry<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["criterion_code"] == code)
        .unwrap_or_else(|| panic!("no entry {code}"))
}

async fn published(w: &World) -> i64 {
    w.published_framework(w.id("district")).await
}

#[tokio::test]
async fn the_seed_commune_is_replayed_to_its_published_figures() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let seed = seed_json();
        let framework = published(&w).await;
        let officer = w.token(Persona::OfficerA);
        let appraiser = w.token(Persona::Appraiser);

        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        let filled = w
            .app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                officer,
                &json!({"entries": seed_self_entries()}),
            )
            .await;
        filled.assert_status(200);
        assert_eq!(filled.json["self_total"], "90.88", "the unit's self total");
        assert_eq!(filled.json["missing_codes"], json!([]));
        let appendix_self: rust_decimal::Decimal = seed["appendix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                entry(&filled.json, a["code"].as_str().unwrap())["self_score"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum();
        assert_eq!(
            appendix_self.to_string(),
            "17.38",
            "the appendix's self scores"
        );
        assert_eq!(entry(&filled.json, "3.12.1")["self_score"], "0.23");
        assert_eq!(entry(&filled.json, "3.13.1")["self_score"], "0.16");

        let submitted = w
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                officer,
                &json!({}),
            )
            .await;
        submitted.assert_status(200);
        assert_eq!(submitted.json["status"], "submitted");
        let appraisal = submitted.json["appraisal_id"].as_i64().unwrap();
        // Read-only to the unit after submission.
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                officer,
                &json!({"entries": [{"criterion_code": "1.7", "score": 1}]}),
            )
            .await
            .assert_problem(409, Some("not_editable"));

        let pending = w
            .app
            .get(&format!("/api/v1/appraisals/{appraisal}"), appraiser)
            .await;
        assert_eq!(pending.json["status"], "pending");
        assert_eq!(
            pending.json["appraised_total"], "90.88",
            "untouched criteria keep the self inputs"
        );

        let appraised = w
            .app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/entries"),
                appraiser,
                &json!({"entries": seed_council_entries()}),
            )
            .await;
        appraised.assert_status(200);
        assert_eq!(appraised.json["status"], "in_progress");
        assert_eq!(appraised.json["appraised_total"], "87.25");
        assert_eq!(entry(&appraised.json, "3.12.2")["appraised_score"], "0.32");
        assert_eq!(entry(&appraised.json, "3.11.1")["appraised_score"], "0.00");
        // A criterion the council left alone keeps the unit's inputs, visibly.
        let kept = entry(&appraised.json, "3.12.1");
        assert_eq!(kept["appraised_inputs"], Value::Null);
        assert_eq!(
            kept["self_inputs"],
            json!({"numerator": "7", "denominator": "30"})
        );
        assert_eq!(kept["appraised_score"], "0.23");
        // Both figures stay visible when the council changes one.
        let changed = entry(&appraised.json, "3.12.2");
        assert_eq!(changed["self_inputs"]["numerator"], "0");
        assert_eq!(changed["appraised_inputs"]["numerator"], "118");
        assert_eq!(changed["self_score"], "0.00");

        let bonus = w
            .app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/bonus"),
                appraiser,
                &json!({"points": 4, "reason": "x"}),
            )
            .await;
        bonus.assert_problem(422, None);
        assert_eq!(bonus.json["errors"][0]["field"], "points");
        w.app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/bonus"),
                appraiser,
                &json!({"points": "1", "reason": seed["bonus_reason"]}),
            )
            .await
            .assert_status(200);

        let finalized = w
            .app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                appraiser,
                &json!({}),
            )
            .await;
        finalized.assert_status(200);
        let f = &finalized.json;
        assert_eq!(f["status"], "finalized");
        assert_eq!(f["self_total"], "90.88");
        assert_eq!(f["appraised_total"], "87.25");
        assert_eq!(f["bonus"], "1.00");
        assert_eq!(f["index"], "88.25");
        assert_eq!(f["deduction_total"], "12.75");
        assert_eq!(f["rating_band"], "Khá");
        for a in seed["appendix"].as_array().unwrap() {
            let code = a["code"].as_str().unwrap();
            let e = entry(f, code);
            let expected: rust_decimal::Decimal = a["deduction"].as_str().unwrap().parse().unwrap();
            let got: rust_decimal::Decimal = e["deduction"].as_str().unwrap().parse().unwrap();
            assert_eq!(got, expected, "deduction of {code}");
            let appraised: rust_decimal::Decimal =
                a["appraised_score"].as_str().unwrap().parse().unwrap();
            let got: rust_decimal::Decimal =
                e["appraised_score"].as_str().unwrap().parse().unwrap();
            assert_eq!(got, appraised, "appraised score of {code}");
            assert_eq!(e["comment"], a["comment"], "comment of {code}");
        }
        let others_lost: Vec<&Value> = f["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["deduction"] != "0.00")
            .collect();
        assert_eq!(
            others_lost.len(),
            19,
            "only the appendix criteria lost points"
        );
        let sa_after = w
            .app
            .get(&format!("/api/v1/self-assessments/{sa}"), officer)
            .await;
        assert_eq!(sa_after.json["status"], "appraised");

        // Finalized: read-only, except an admin's audited reopen.
        w.app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/bonus"),
                appraiser,
                &json!({"points": 2, "reason": "x"}),
            )
            .await
            .assert_problem(409, Some("finalized"));
        w.app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/reopen"),
                appraiser,
                &json!({"reason": "x"}),
            )
            .await
            .assert_problem(403, None);

        // The trail: each council change with old and new values, and the status changes.
        let trail = w
            .app
            .get(
                &format!("/api/v1/audit-events?entity=appraisal&entity_id={appraisal}"),
                appraiser,
            )
            .await;
        let actions: Vec<&str> = trail.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["finalize", "bonus", "start", "create"],
            "the refused bonus left no trace"
        );
        let entries = w
            .app
            .get(
                "/api/v1/audit-events?entity=assessment_entry&action=appraise&per_page=200",
                appraiser,
            )
            .await;
        assert_eq!(entries.json["total"], 20, "19 appendix criteria and 5.2");
        let e = entries.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["new_value"]["criterion_code"] == "3.12.2")
            .unwrap();
        assert_eq!(e["actor_username"], "appraiser");
        assert_eq!(e["new_value"]["score"], "0.32");
        assert!(e["request_id"].is_string());
        // Another district's appraiser sees none of it.
        let other = w
            .app
            .get(
                &format!("/api/v1/audit-events?unit_id={}", w.id("commune_a")),
                w.token(Persona::OtherAppraiser),
            )
            .await;
        assert_eq!(other.json["total"], 0);
        let mine = w
            .app
            .get(
                &format!(
                    "/api/v1/audit-events?unit_id={}&per_page=1",
                    w.id("commune_a")
                ),
                w.token(Persona::OfficerA),
            )
            .await;
        assert!(
            mine.json["total"].as_u64().unwrap() > 20,
            "the unit reads its own trail"
        );
    })
    .await;
}

#[tokio::test]
async fn a_file_returned_for_supplementation_can_change_only_there() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = published(&w).await;
        let officer = w.token(Persona::OfficerA);
        let appraiser = w.token(Persona::Appraiser);
        let sa = w.open_assessment(Persona::OfficerA, w.id("commune_a"), framework).await;
        w.app.put(&format!("/api/v1/self-assessments/{sa}/entries"), officer, &json!({"entries": seed_self_entries()})).await.assert_status(200);
        let appraisal = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await.json["appraisal_id"].as_i64().unwrap();

        let returned = w
            .app
            .post(&format!("/api/v1/appraisals/{appraisal}/return"), appraiser,
                  &json!({"note": "Bổ sung Báo cáo kết quả khắc phục tồn tại, hạn chế năm 2022", "criteria": ["1.5.3"]}))
            .await;
        returned.assert_status(200);
        assert_eq!(returned.json["self_assessment_status"], "returned");
        assert_eq!(returned.json["rounds"][0]["criteria"], json!(["1.5.3"]));
        // The council cannot finalize a file that is with the unit.
        w.app.post(&format!("/api/v1/appraisals/{appraisal}/finalize"), appraiser, &json!({})).await.assert_problem(409, Some("not_finalizable"));

        let sheet = w.app.get(&format!("/api/v1/self-assessments/{sa}"), officer).await;
        assert_eq!(sheet.json["editable_codes"], json!(["1.5.3"]));
        // Outside the returned criteria: refused, nothing stored.
        let refused = w
            .app
            .put(&format!("/api/v1/self-assessments/{sa}/entries"), officer,
                 &json!({"entries": [{"criterion_code": "1.5.3", "score": "0.5"}, {"criterion_code": "1.4.1", "score": "0.9"}]}))
            .await;
        refused.assert_problem(409, Some("criteria_not_returned"));
        assert!(refused.json["detail"].as_str().unwrap().contains("1.4.1"));
        let unchanged = w.app.get(&format!("/api/v1/self-assessments/{sa}"), officer).await;
        assert_eq!(entry(&unchanged.json, "1.5.3")["self_score"], "0.43");

        let supplemented = w
            .app
            .put(&format!("/api/v1/self-assessments/{sa}/entries"), officer,
                 &json!({"entries": [{"criterion_code": "1.5.3", "score": "0.5", "explanation": "Đã bổ sung báo cáo",
                          "evidence": [{"title": "Báo cáo kết quả khắc phục", "number": "19/BC-UBND", "issued_on": "2023-03-09",
                                        "url": "https://vinhlong.example.vn/19-bc-ubnd.pdf"}]}]}))
            .await;
        supplemented.assert_status(200);
        assert_eq!(entry(&supplemented.json, "1.5.3")["evidence"][0]["number"], "19/BC-UBND");
        let resubmitted = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await;
        resubmitted.assert_status(200);
        assert_eq!(resubmitted.json["round"], 2);
        assert_eq!(resubmitted.json["appraisal_id"], appraisal);

        let a = w.app.get(&format!("/api/v1/appraisals/{appraisal}"), appraiser).await;
        assert_eq!(a.json["self_assessment_status"], "submitted");
        assert!(a.json["rounds"][0]["resubmitted_at"].is_string(), "the round is closed and kept");
        assert_eq!(entry(&a.json, "1.5.3")["self_score"], "0.50");
    })
    .await;
}

#[tokio::test]
async fn two_appraisers_never_overwrite_each_other_silently() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = published(&w).await;
        let (_, appraisal) = {
            let officer = w.token(Persona::OfficerA);
            let sa = w.open_assessment(Persona::OfficerA, w.id("commune_a"), framework).await;
            w.app.put(&format!("/api/v1/self-assessments/{sa}/entries"), officer, &json!({"entries": seed_self_entries()})).await.assert_status(200);
            let a = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await.json["appraisal_id"].as_i64().unwrap();
            (sa, a)
        };
        let appraiser = w.token(Persona::Appraiser);
        let admin = w.admin();
        let path = format!("/api/v1/appraisals/{appraisal}");
        // Both read the same version.
        let etag = w.app.get(&path, appraiser).await.header("etag").unwrap().to_string();
        let first = Resp::read(
            w.app.request(Method::PUT, &format!("{path}/entries"), Some(appraiser)).header("if-match", &etag)
                .json(&json!({"entries": [{"criterion_code": "1.4.1", "score": "0.8", "comment": "first"}]})).send().await,
        )
        .await;
        first.assert_status(200);
        assert_ne!(first.header("etag").unwrap(), etag);
        let second = Resp::read(
            w.app.request(Method::PUT, &format!("{path}/entries"), Some(admin)).header("if-match", &etag)
                .json(&json!({"entries": [{"criterion_code": "1.4.1", "score": "0.5", "comment": "second"}]})).send().await,
        )
        .await;
        second.assert_problem(412, Some("precondition_failed"));
        let now = w.app.get(&path, appraiser).await;
        assert_eq!(entry(&now.json, "1.4.1")["comment"], "first");
        assert_eq!(entry(&now.json, "1.4.1")["appraised_score"], "0.80");
    })
    .await;
}

#[tokio::test]
async fn a_batch_with_one_bad_entry_stores_nothing() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = published(&w).await;
        let officer = w.token(Persona::OfficerA);
        let sa = w.open_assessment(Persona::OfficerA, w.id("commune_a"), framework).await;
        let path = format!("/api/v1/self-assessments/{sa}/entries");
        let cases = [
            (json!({"criterion_code": "3.12.2", "numerator": 118, "denominator": 0}), "entries[1].denominator", "zero_denominator"),
            (json!({"criterion_code": "1.4.1", "score": "1.001"}), "entries[1].score", "too_many_decimals"),
            (json!({"criterion_code": "1.4.1", "score": "1.5"}), "entries[1].score", "out_of_range"),
            (json!({"criterion_code": "1.4.1", "score": -1}), "entries[1].score", "out_of_range"),
            (json!({"criterion_code": "1.4", "score": 1}), "entries[1].criterion_code", "unknown_criterion"),
            (json!({"criterion_code": "9.9", "score": 1}), "entries[1].criterion_code", "unknown_criterion"),
            (json!({"criterion_code": "1.6", "count": 3}), "entries[1].count", "unexpected_input"),
            (json!({"criterion_code": "1.6", "numerator": 10, "denominator": 9}), "entries[1].numerator", "out_of_range"),
            (json!({"criterion_code": "1.2"}), "entries[1].done", "required"),
            (json!({"criterion_code": "1.7", "score": 1, "evidence": [{"title": "", "url": "ftp://x"}]}), "entries[1].evidence[0].title", "required"),
            (json!({"criterion_code": "1.1", "score": 2}), "entries[1].criterion_code", "duplicate"),
        ];
        for (bad, field, code) in cases {
            let body = json!({"entries": [{"criterion_code": "1.1", "score": 2}, bad]});
            let resp = w.app.put(&path, officer, &body).await;
            resp.assert_problem(422, Some("validation_failed"));
            let errors = resp.json["errors"].as_array().unwrap();
            assert!(errors.iter().any(|e| e["field"] == field && e["code"] == code), "{field} {code} in {}", resp.text);
        }
        // Wrong types and unknown fields name their path too.
        let resp = w.app.put(&path, officer, &json!({"entries": [{"criterion_code": "1.5.4", "count": -2}]})).await;
        resp.assert_problem(422, None);
        assert_eq!(resp.json["errors"][0]["field"], "entries[0].count");
        let resp = w.app.put(&path, officer, &json!({"entries": [{"criterion_code": "1.1", "scor": 2}]})).await;
        assert_eq!(resp.json["errors"][0]["code"], "unknown_field");
        let resp = w.app.put(&path, officer, &json!({"entries": [{"criterion_code": "1.1", "score": "NaN"}]})).await;
        resp.assert_problem(422, None);

        let sheet = w.app.get(&format!("/api/v1/self-assessments/{sa}"), officer).await;
        assert_eq!(sheet.json["self_total"], "0.00");
        assert_eq!(entry(&sheet.json, "1.1")["inputs"], Value::Null, "nothing was stored");
        let trail = w.app.get("/api/v1/audit-events?entity=assessment_entry", w.admin()).await;
        assert_eq!(trail.json["total"], 0);
    })
    .await;
}

#[tokio::test]
async fn submission_needs_every_self_scored_leaf_and_respects_the_deadline() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let mut body = crate::fixtures::fixture_framework_json(&w.id("district").to_string());
        body["submission_deadline"] = json!("2024-01-15");
        let created = w.app.post("/api/v1/frameworks", w.admin(), &body).await;
        let framework = created.json["id"].as_i64().unwrap();
        w.app.post(&format!("/api/v1/frameworks/{framework}/publish"), w.admin(), &json!({})).await.assert_status(200);
        let officer = w.token(Persona::OfficerA);
        let sa = w.open_assessment(Persona::OfficerA, w.id("commune_a"), framework).await;
        // A second one for the same unit and framework is refused.
        w.app
            .post("/api/v1/self-assessments", officer, &json!({"unit_id": w.id("commune_a"), "framework_id": framework}))
            .await
            .assert_problem(409, Some("already_exists"));

        let mut entries = seed_self_entries();
        entries.retain(|e| e["criterion_code"] != "6.3" && e["criterion_code"] != "2.4.2");
        w.app.put(&format!("/api/v1/self-assessments/{sa}/entries"), officer, &json!({"entries": entries})).await.assert_status(200);
        let incomplete = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await;
        // The deadline (2024-01-15) has passed: that is said first.
        incomplete.assert_problem(409, Some("deadline_passed"));
        w.app
            .put(&format!("/api/v1/self-assessments/{sa}/deadline-extension"), w.token(Persona::Appraiser),
                 &json!({"until": "2099-12-31", "reason": "Cho phép nộp bổ sung"}))
            .await
            .assert_status(200);
        let incomplete = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await;
        incomplete.assert_problem(422, Some("incomplete"));
        assert!(incomplete.json["detail"].as_str().unwrap().contains("2.4.2, 6.3"), "{}", incomplete.text);
        assert_eq!(incomplete.json["errors"].as_array().unwrap().len(), 2);

        w.app
            .put(&format!("/api/v1/self-assessments/{sa}/entries"), officer,
                 &json!({"entries": [{"criterion_code": "2.4.2", "done": false}, {"criterion_code": "6.3", "not_applicable": true}]}))
            .await
            .assert_status(200);
        let submitted = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await;
        submitted.assert_status(200);
        // Not applicable scores its max under full_score: 90.88 + 1 (6.3).
        assert_eq!(submitted.json["self_total"], "91.88");

        // Withdrawn before the council starts; refused after.
        let withdrawn = w.app.post(&format!("/api/v1/self-assessments/{sa}/withdraw"), officer, &json!({})).await;
        withdrawn.assert_status(200);
        assert_eq!(withdrawn.json["status"], "draft");
        assert_eq!(withdrawn.json["appraisal_id"], Value::Null);
        let again = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await;
        let appraisal = again.json["appraisal_id"].as_i64().unwrap();
        w.app
            .put(&format!("/api/v1/appraisals/{appraisal}/entries"), w.token(Persona::Appraiser), &json!({"entries": [{"criterion_code": "1.7", "comment": "Đang thẩm định"}]}))
            .await
            .assert_status(200);
        w.app.post(&format!("/api/v1/self-assessments/{sa}/withdraw"), officer, &json!({})).await.assert_problem(409, Some("not_withdrawable"));

        // The framework is in use now: it cannot change.
        let f = w.app.get(&format!("/api/v1/frameworks/{framework}"), w.admin()).await;
        let _ = f;
        w.app
            .put(&format!("/api/v1/frameworks/{framework}/criteria"), w.admin(),
                 &json!({"criteria": crate::fixtures::fixture_framework_json("0")["criteria"]}))
            .await
            .assert_problem(409, Some("framework_in_use"));
    })
    .await;
}

#[tokio::test]
async fn units_see_their_own_files_only() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = published(&w).await;
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        let path = format!("/api/v1/self-assessments/{sa}");
        w.app
            .get(&path, w.token(Persona::OfficerB))
            .await
            .assert_problem(403, None);
        w.app
            .get(&path, w.token(Persona::Viewer))
            .await
            .assert_status(200);
        w.app
            .get(&path, w.token(Persona::OtherAppraiser))
            .await
            .assert_problem(403, None);
        // Officer B cannot open a file for commune A, nor A for a framework of another district.
        w.app
            .post(
                "/api/v1/self-assessments",
                w.token(Persona::OfficerB),
                &json!({"unit_id": w.id("commune_a"), "framework_id": framework}),
            )
            .await
            .assert_problem(403, None);
        let list = w
            .app
            .get("/api/v1/self-assessments", w.token(Persona::OfficerB))
            .await;
        assert_eq!(list.json["total"], 0);
        let list = w
            .app
            .get("/api/v1/self-assessments", w.token(Persona::OfficerA))
            .await;
        assert_eq!(list.json["total"], 1);
        // A draft framework cannot be assessed against.
        let draft = w.framework(w.id("other_district")).await;
        let officer_c = w
            .account("officer.c", "unit_officer", Some(w.id("commune_c")))
            .await
            .1;
        let r = w
            .app
            .post(
                "/api/v1/self-assessments",
                &officer_c,
                &json!({"unit_id": w.id("commune_c"), "framework_id": draft}),
            )
            .await;
        r.assert_problem(422, None);
        assert_eq!(r.json["errors"][0]["code"], "not_published");
        let r = w
            .app
            .post(
                "/api/v1/self-assessments",
                &officer_c,
                &json!({"unit_id": w.id("commune_c"), "framework_id": framework}),
            )
            .await;
        assert_eq!(r.json["errors"][0]["code"], "not_applicable");
    })
    .await;
}

#[tokio::test]
async fn council_only_and_survey_criteria_are_entered_at_appraisal() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let mut body = crate::fixtures::fixture_framework_json(&w.id("district").to_string());
        for c in body["criteria"].as_array_mut().unwrap() {
            if c["code"] == "3.7" {
                c["scorer"] = json!("survey");
            }
            if c["code"] == "4.1" {
                c["scorer"] = json!("appraiser");
            }
        }
        let framework = w.app.post("/api/v1/frameworks", w.admin(), &body).await.json["id"].as_i64().unwrap();
        w.app.post(&format!("/api/v1/frameworks/{framework}/publish"), w.admin(), &json!({})).await.assert_status(200);
        let officer = w.token(Persona::OfficerA);
        let sa = w.open_assessment(Persona::OfficerA, w.id("commune_a"), framework).await;
        let r = w
            .app
            .put(&format!("/api/v1/self-assessments/{sa}/entries"), officer, &json!({"entries": [{"criterion_code": "3.7", "score": 2}]}))
            .await;
        r.assert_problem(422, None);
        assert_eq!(r.json["errors"][0]["code"], "not_self_scored");
        let mut entries = seed_self_entries();
        entries.retain(|e| e["criterion_code"] != "3.7" && e["criterion_code"] != "4.1");
        let filled = w.app.put(&format!("/api/v1/self-assessments/{sa}/entries"), officer, &json!({"entries": entries})).await;
        filled.assert_status(200);
        assert_eq!(filled.json["missing_codes"], json!([]));
        let appraisal = w.app.post(&format!("/api/v1/self-assessments/{sa}/submit"), officer, &json!({})).await.json["appraisal_id"].as_i64().unwrap();
        let appraiser = w.token(Persona::Appraiser);
        let early = w.app.post(&format!("/api/v1/appraisals/{appraisal}/finalize"), appraiser, &json!({})).await;
        early.assert_problem(422, Some("unscored_criteria"));
        assert!(early.json["detail"].as_str().unwrap().contains("3.7, 4.1"));
        w.app
            .put(&format!("/api/v1/appraisals/{appraisal}/entries"), appraiser,
                 &json!({"entries": [{"criterion_code": "3.7", "score": "1.85", "comment": "Kết quả khảo sát SIPAS"},
                                      {"criterion_code": "4.1", "score": 3}]}))
            .await
            .assert_status(200);
        let done = w.app.post(&format!("/api/v1/appraisals/{appraisal}/finalize"), appraiser, &json!({})).await;
        done.assert_status(200);
        assert_eq!(entry(&done.json, "3.7")["appraised_score"], "1.85");
        assert_eq!(entry(&done.json, "3.7")["deduction"], "0.15");
    })
    .await;
}

#[tokio::test]
async fn an_admin_reopens_a_finalized_appraisal_with_a_reason() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = published(&w).await;
        let (_, appraisal) = w.seed_appraisal(framework).await;
        let admin = w.admin();
        let path = format!("/api/v1/appraisals/{appraisal}");
        w.app.post(&format!("{path}/reopen"), admin, &json!({"reason": " "})).await.assert_problem(422, None);
        let reopened = w.app.post(&format!("{path}/reopen"), admin, &json!({"reason": "Sai số liệu 3.12.2"})).await;
        reopened.assert_status(200);
        assert_eq!(reopened.json["status"], "in_progress");
        let appraiser = w.token(Persona::Appraiser);
        w.app
            .put(&format!("{path}/entries"), appraiser, &json!({"entries": [{"criterion_code": "3.12.2", "numerator": 374, "denominator": 1245}]}))
            .await
            .assert_status(200);
        let f = w.app.post(&format!("{path}/finalize"), appraiser, &json!({})).await;
        assert_eq!(f.json["appraised_total"], "87.93");
        assert_eq!(f.json["index"], "88.93");
        let trail = w.app.get(&format!("/api/v1/audit-events?entity=appraisal&entity_id={appraisal}&action=reopen"), admin).await;
        assert_eq!(trail.json["items"][0]["new_value"]["details"]["reason"], "Sai số liệu 3.12.2");
        assert_eq!(trail.json["items"][0]["old_value"]["status"], "finalized");
    })
    .await;
}

/// A framework that requires it: a leader of the commune signs off the file before it can
/// be submitted; the sign-off is recorded with the leader's name, audited, and withdrawn by
/// any later edit.
#[tokio::test]
async fn a_leader_signs_off_before_submission_and_an_edit_withdraws_it() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let mut spec = crate::fixtures::fixture_framework_json(&w.id("district").to_string());
        spec["requires_leader_approval"] = json!(true);
        let framework = w.app.post("/api/v1/frameworks", w.admin(), &spec).await;
        framework.assert_status(201);
        assert_eq!(framework.json["requires_leader_approval"], true);
        let framework = framework.json["id"].as_i64().unwrap();
        w.app
            .post(
                &format!("/api/v1/frameworks/{framework}/publish"),
                w.admin(),
                &json!({}),
            )
            .await
            .assert_status(200);
        w.app
            .post(
                "/api/v1/users",
                w.admin(),
                &json!({"username": "chutich.vinhlong", "password": "leader-password-123",
                        "full_name": "Lê Văn Thành", "role": "unit_leader",
                        "unit_id": w.id("commune_a")}),
            )
            .await
            .assert_status(201);
        let leader = w.app.login("chutich.vinhlong", "leader-password-123").await;
        let officer = w.token(Persona::OfficerA).to_string();
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        let path = format!("/api/v1/self-assessments/{sa}");
        w.app
            .put(
                &format!("{path}/entries"),
                &officer,
                &json!({"entries": seed_self_entries()}),
            )
            .await
            .assert_status(200);
        w.app
            .post(&format!("{path}/submit"), &officer, &json!({}))
            .await
            .assert_problem(422, Some("leader_approval_required"));
        // Only a leader of the unit signs; a leader does not fill the file in.
        w.app
            .post(&format!("{path}/approve"), &officer, &json!({}))
            .await
            .assert_problem(403, Some("forbidden"));
        w.app
            .put(
                &format!("{path}/entries"),
                &leader,
                &json!({"entries": seed_self_entries()}),
            )
            .await
            .assert_problem(403, Some("forbidden"));
        let approved = w
            .app
            .post(&format!("{path}/approve"), &leader, &json!({}))
            .await;
        approved.assert_status(200);
        assert_eq!(
            approved.json["approval"]["approved_by_name"],
            "Lê Văn Thành"
        );
        assert_eq!(approved.json["requires_leader_approval"], true);
        // An edit after the sign-off withdraws it.
        let edited = w
            .app
            .put(
                &format!("{path}/entries"),
                &officer,
                &json!({"entries": [seed_self_entries()[0].clone()]}),
            )
            .await;
        edited.assert_status(200);
        assert!(edited.json["approval"].is_null(), "{}", edited.text);
        w.app
            .post(&format!("{path}/submit"), &officer, &json!({}))
            .await
            .assert_problem(422, Some("leader_approval_required"));
        w.app
            .post(&format!("{path}/approve"), &leader, &json!({}))
            .await
            .assert_status(200);
        let submitted = w
            .app
            .post(&format!("{path}/submit"), &officer, &json!({}))
            .await;
        submitted.assert_status(200);
        assert_eq!(
            submitted.json["approval"]["approved_by_name"],
            "Lê Văn Thành"
        );
        // A submitted file is no longer signed off: it is the council's.
        w.app
            .post(&format!("{path}/approve"), &leader, &json!({}))
            .await
            .assert_problem(409, Some("not_approvable"));
        // The leader reads its unit's file, and the trail has the story.
        w.app.get(&path, &leader).await.assert_status(200);
        let trail = w
            .app
            .get(
                &format!("/api/v1/audit-events?entity=self_assessment&entity_id={sa}"),
                w.admin(),
            )
            .await;
        let actions: Vec<&str> = trail.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "approve").count(),
            2,
            "{actions:?}"
        );
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == "withdraw_approval")
                .count(),
            1,
            "{actions:?}"
        );
    })
    .await;
}
