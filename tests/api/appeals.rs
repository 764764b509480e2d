//! Preliminary results and appeals: released to the units (each sees its own appraisal),
//! appealed within the window, answered by the council; an accepted appeal changes the
//! council's entry, the index and the rank, audited; finalization and publication wait for
//! every answer.

use crate::fixtures::{
    Persona, fixture_framework_json, seed_council_entries, seed_self_entries, world,
};
use crate::helpers::on_each_backend;
use serde_json::json;

#[tokio::test]
async fn an_accepted_appeal_changes_the_entry_the_index_and_the_rank() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let appraiser = w.token(Persona::Appraiser).to_string();
        let officer = w.token(Persona::OfficerA).to_string();
        let mut spec = fixture_framework_json(&w.id("district").to_string());
        spec["appeal_days"] = json!(10);
        let framework = w.app.post("/api/v1/frameworks", w.admin(), &spec).await;
        framework.assert_status(201);
        assert_eq!(framework.json["appeal_days"], 10);
        let framework = framework.json["id"].as_i64().unwrap();
        w.app
            .post(
                &format!("/api/v1/frameworks/{framework}/publish"),
                w.admin(),
                &json!({}),
            )
            .await
            .assert_status(200);
        // Commune B is finalized at 87.50; commune A's council is still at work.
        w.quick_file(framework, w.id("commune_b"), "87.50", "0")
            .await;
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                &officer,
                &json!({"entries": seed_self_entries()}),
            )
            .await
            .assert_status(200);
        let appraisal = w
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                &officer,
                &json!({}),
            )
            .await
            .json["appraisal_id"]
            .as_i64()
            .unwrap();
        let preliminary = w
            .app
            .put(
                &format!("/api/v1/appraisals/{appraisal}/entries"),
                &appraiser,
                &json!({"entries": seed_council_entries()}),
            )
            .await;
        preliminary.assert_status(200);
        assert_eq!(
            preliminary.json["appraised_total"], "87.25",
            "the seed's figure"
        );

        let appeal = json!({"criterion_code": "1.5.3",
            "reason": "Đơn vị đã có Kế hoạch khắc phục số 19/KH-UBND ngày 09/3/2023",
            "evidence": [{"title": "Kế hoạch khắc phục", "number": "19/KH-UBND"}]});
        let appeals = format!("/api/v1/appraisals/{appraisal}/appeals");
        w.app
            .post(&appeals, &officer, &appeal)
            .await
            .assert_problem(409, Some("not_released"));
        let hidden = w
            .app
            .get(&format!("/api/v1/appraisals/{appraisal}"), &officer)
            .await;
        assert_eq!(hidden.json["results_visible"], false);

        // Released: the unit sees its own appraisal, not yet the ranking.
        let release = json!({"parent_unit_id": w.id("district"), "year": 2023});
        w.app
            .post("/api/v1/preliminary-results", &appraiser, &release)
            .await
            .assert_status(201);
        w.app
            .post("/api/v1/preliminary-results", &appraiser, &release)
            .await
            .assert_problem(409, Some("already_released"));
        let shown = w
            .app
            .get(&format!("/api/v1/appraisals/{appraisal}"), &officer)
            .await;
        assert_eq!(shown.json["results_visible"], true);
        assert_eq!(shown.json["appraised_total"], "87.25");
        w.app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                &officer,
            )
            .await
            .assert_problem(403, Some("forbidden"));

        // The unit appeals; wrong appeals are refused and store nothing.
        w.app
            .post(&appeals, w.token(Persona::OfficerB), &appeal)
            .await
            .assert_problem(403, Some("forbidden"));
        w.app
            .post(
                &appeals,
                &officer,
                &json!({"criterion_code": "9.9.9", "reason": "x"}),
            )
            .await
            .assert_problem(422, Some("validation_failed"));
        let filed = w.app.post(&appeals, &officer, &appeal).await;
        filed.assert_status(201);
        assert_eq!(filed.json["status"], "open");
        let id = filed.json["id"].as_i64().unwrap();
        w.app
            .post(&appeals, &officer, &appeal)
            .await
            .assert_problem(409, Some("appeal_open"));
        let listed = w
            .app
            .get(
                &format!(
                    "/api/v1/appeals?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                &appraiser,
            )
            .await;
        assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(listed.json["total"], 1);

        // Nothing is final while it waits.
        w.app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                &appraiser,
                &json!({}),
            )
            .await
            .assert_problem(409, Some("appeal_open"));
        w.app
            .post("/api/v1/publications", &appraiser, &release)
            .await
            .assert_problem(409, Some("appeal_open"));

        // The council's answer: accepted, with its new entry.
        let decision = format!("/api/v1/appeals/{id}/decision");
        w.app
            .post(
                &decision,
                &officer,
                &json!({"accepted": true, "response": "x"}),
            )
            .await
            .assert_problem(403, Some("forbidden"));
        w.app
            .post(
                &decision,
                &appraiser,
                &json!({"accepted": true, "response": "Chấp nhận"}),
            )
            .await
            .assert_problem(422, Some("validation_failed"));
        let answered = w
            .app
            .post(
                &decision,
                &appraiser,
                &json!({"accepted": true,
                        "response": "Hội đồng chấp nhận: đơn vị có kế hoạch khắc phục",
                        "entry": {"criterion_code": "1.5.3", "score": "1",
                                  "comment": "Chấp nhận kiến nghị"}}),
            )
            .await;
        answered.assert_status(200);
        assert_eq!(answered.json["status"], "accepted");
        w.app
            .post(
                &decision,
                &appraiser,
                &json!({"accepted": false, "response": "again"}),
            )
            .await
            .assert_problem(409, Some("appeal_decided"));
        let finalized = w
            .app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                &appraiser,
                &json!({}),
            )
            .await;
        finalized.assert_status(200);
        assert_eq!(
            finalized.json["appraised_total"], "87.75",
            "0.50 restored on 1.5.3"
        );
        w.app
            .post("/api/v1/publications", &appraiser, &release)
            .await
            .assert_status(201);
        let index = w
            .app
            .get(
                &format!("/api/v1/units/{}/index?year=2023", w.id("commune_a")),
                &officer,
            )
            .await;
        index.assert_status(200);
        assert_eq!(index.json["index"], "87.75");
        assert_eq!(
            index.json["rank"], 1,
            "above commune B's 87.50, below it before the appeal"
        );
        // The story is in the trail: the appeal, its answer, and the entry it changed.
        let trail = w
            .app
            .get(
                &format!("/api/v1/audit-events?entity=appeal&entity_id={id}"),
                w.admin(),
            )
            .await;
        let actions: Vec<&str> = trail.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"file") && actions.contains(&"decide"),
            "{actions:?}"
        );
        let entries = w
            .app
            .get("/api/v1/audit-events?entity=assessment_entry", w.admin())
            .await;
        assert!(
            entries.text.contains("Chấp nhận kiến nghị"),
            "the changed entry is audited"
        );
    })
    .await;
}
