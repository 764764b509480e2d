//! Penalty points (điểm trừ): subtracted after the bonus, capped by the framework,
//! audited, withheld from the unit until published, and carried into the unit's index and
//! the ranking.

use crate::fixtures::{Persona, fixture_framework_json, seed_council_entries, world};
use crate::helpers::on_each_backend;
use serde_json::json;

#[tokio::test]
async fn penalties_lower_the_index_and_are_capped() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let mut spec = fixture_framework_json(&w.id("district").to_string());
        spec["penalty_max"] = json!("2");
        let f = w.app.post("/api/v1/frameworks", admin, &spec).await;
        f.assert_status(201);
        assert_eq!(f.json["penalty_max"], "2.00");
        let f = f.json["id"].as_i64().unwrap();
        w.app
            .post(&format!("/api/v1/frameworks/{f}/publish"), admin, &json!({}))
            .await
            .assert_status(200);
        let officer = w.token(Persona::OfficerA);
        let (_, a) = w.submitted_seed_file(f).await;
        let appraiser = w.token(Persona::Appraiser);
        w.app
            .put(
                &format!("/api/v1/appraisals/{a}/entries"),
                appraiser,
                &json!({"entries": seed_council_entries()}),
            )
            .await
            .assert_status(200);
        w.app
            .put(
                &format!("/api/v1/appraisals/{a}/bonus"),
                appraiser,
                &json!({"points": 1, "reason": "Sáng kiến"}),
            )
            .await
            .assert_status(200);
        let path = format!("/api/v1/appraisals/{a}/penalties");
        let late = json!({"code": "VP-01", "points": "0.5", "reason": "Chậm gửi báo cáo CCHC quý III",
                          "document_ref": "Công văn 112/VP-UBND"});
        let wrong = json!({"code": "VP-02", "points": 0.75, "reason": "Số liệu báo cáo sai lệch"});

        // Over the cap, twice the same code, a zero: 422, nothing stored.
        let over = w
            .app
            .put(&path, appraiser, &json!({"items": [late, wrong, {"code": "VP-03", "points": "1.25", "reason": "x"}]}))
            .await;
        over.assert_problem(422, None);
        assert_eq!(over.json["errors"][0]["code"], "over_cap", "{}", over.text);
        w.app
            .put(&path, appraiser, &json!({"items": [late, late]}))
            .await
            .assert_problem(422, None);
        w.app
            .put(&path, appraiser, &json!({"items": [{"code": "VP-04", "points": 0, "reason": "x"}]}))
            .await
            .assert_problem(422, None);
        let current = w.app.get(&format!("/api/v1/appraisals/{a}"), appraiser).await;
        assert_eq!(current.json["index"], "88.25", "nothing stored");
        assert_eq!(current.json["penalty_total"], "0.00");
        // Only the consolidating appraisers set them.
        for persona in [Persona::OfficerA, Persona::OtherAppraiser, Persona::Viewer] {
            let r = w.app.put(&path, w.token(persona), &json!({"items": [late]})).await;
            assert_eq!(r.status.as_u16(), 403, "{persona:?}");
        }

        // 87.25 appraised + 1 bonus − (0.5 + 0.75) = 87.00, written by hand.
        let set = w.app.put(&path, appraiser, &json!({"items": [late, wrong]})).await;
        set.assert_status(200);
        assert_eq!(set.json["penalty_total"], "1.25");
        assert_eq!(set.json["index"], "87.00");
        assert_eq!(set.json["penalties"][0]["document_ref"], "Công văn 112/VP-UBND");
        assert_eq!(set.json["penalties"][1]["points"], "0.75");
        let trail = w
            .app
            .get("/api/v1/audit-events?entity=appraisal&action=penalties", admin)
            .await;
        assert_eq!(trail.json["total"], 1, "{}", trail.text);
        assert_eq!(trail.json["items"][0]["new_value"]["penalty_total"], "1.25");
        // The unit does not see them before publication.
        let seen = w.app.get(&format!("/api/v1/appraisals/{a}"), officer).await;
        assert!(seen.json["penalties"].is_null() && seen.json["penalty_total"].is_null());

        let done = w
            .app
            .post(&format!("/api/v1/appraisals/{a}/finalize"), appraiser, &json!({}))
            .await;
        done.assert_status(200);
        assert_eq!(done.json["index"], "87.00");
        let index = w
            .app
            .get(&format!("/api/v1/units/{}/index?year=2023", w.id("commune_a")), appraiser)
            .await;
        assert_eq!(
            (index.json["appraised_total"].as_str(), index.json["bonus"].as_str(),
             index.json["penalty_total"].as_str(), index.json["index"].as_str()),
            (Some("87.25"), Some("1.00"), Some("1.25"), Some("87.00"))
        );
        let ranking = w
            .app
            .get(&format!("/api/v1/rankings?parent_unit_id={}&year=2023", w.id("district")), appraiser)
            .await;
        assert_eq!(ranking.json["items"][0]["penalty_total"], "1.25");
        assert_eq!(ranking.json["items"][0]["index"], "87.00");
        // Finalized: no more changes.
        w.app
            .put(&path, appraiser, &json!({"items": []}))
            .await
            .assert_status(409);

    })
    .await;
}
