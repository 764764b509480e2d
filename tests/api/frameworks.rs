//! Frameworks: validation naming the criterion, publication, copies, import and export.

use crate::fixtures::{Persona, fixture_framework_csv, fixture_framework_json, world};
use crate::helpers::{Resp, on_each_backend};
use reqwest::Method;
use serde_json::{Value, json};

fn error_fields(resp: &Resp) -> Vec<(String, String)> {
    resp.json["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_string(),
                        e["code"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A change to the fixture body that must be refused.
type Change = Box<dyn Fn(&mut Value)>;

fn criterion_mut<'a>(f: &'a mut Value, code: &str) -> &'a mut Value {
    f["criteria"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["code"] == code)
        .unwrap()
}

#[tokio::test]
async fn the_fixture_framework_is_created_with_its_tree() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let body = fixture_framework_json(&w.id("district").to_string());
        let resp = w
            .app
            .post("/api/v1/frameworks", w.token(Persona::Appraiser), &body)
            .await;
        resp.assert_status(201);
        let f = &resp.json;
        assert_eq!(f["status"], "draft");
        assert_eq!(f["leaf_count"], 54);
        assert_eq!(f["bonus_max"], "3.00");
        assert_eq!(f["tree"].as_array().unwrap().len(), 7);
        let field3 = &f["tree"][2];
        assert_eq!(field3["code"], "3");
        assert_eq!(field3["max_score"], "24.00");
        let codes: Vec<&str> = field3["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            &codes[8..],
            ["3.9", "3.10", "3.11", "3.12", "3.13"],
            "numeric order"
        );
        let c = f["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "3.12.2")
            .unwrap();
        assert_eq!(c["max_score"], "1.00");
        assert_eq!(c["parent_code"], "3.12");
        assert_eq!(
            c["method"],
            json!({"type": "target_ratio", "target": "0.30"})
        );
        assert_eq!(c["scorer"], "self");
        let title = f["criteria"][0]["title"].as_str().unwrap();
        assert_eq!(title, "Công tác chỉ đạo, điều hành cải cách hành chính");

        let id = f["id"].as_i64().unwrap();
        let read = w
            .app
            .get(
                &format!("/api/v1/frameworks/{id}"),
                w.token(Persona::OfficerA),
            )
            .await;
        read.assert_status(200);
        assert_eq!(read.json["criteria"], f["criteria"]);
        let list = w
            .app
            .get("/api/v1/frameworks?year=2023", w.token(Persona::OfficerB))
            .await;
        assert_eq!(list.json["total"], 1);
        let none = w
            .app
            .get("/api/v1/frameworks", w.token(Persona::OtherAppraiser))
            .await;
        assert_eq!(none.json["total"], 0);
    })
    .await;
}

#[tokio::test]
async fn every_definition_error_is_a_422_naming_the_criterion_and_stores_nothing() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let base = fixture_framework_json(&w.id("district").to_string());
        let cases: Vec<(Change, (&str, &str))> = vec![
            (
                Box::new(|f| {
                    criterion_mut(f, "1.4.1")["code"] = json!("1.9.1");
                }),
                ("criteria[1.9.1].code", "missing_parent"),
            ),
            (
                Box::new(|f| {
                    let dup = criterion_mut(f, "1.7").clone();
                    f["criteria"].as_array_mut().unwrap().push(dup);
                }),
                ("criteria[70].code", "duplicate_code"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "1.4.1")["max_score"] = json!("1.5");
                }),
                ("criteria[1.4].max_score", "sum_mismatch"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "7")["max_score"] = json!("24");
                    criterion_mut(f, "7.3")["max_score"] = json!("4");
                    criterion_mut(f, "7.3.2")["max_score"] = json!("3");
                }),
                ("criteria", "total_not_100"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "1.6")
                        .as_object_mut()
                        .unwrap()
                        .remove("method");
                }),
                ("criteria[1.6].method", "required"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "1.4")["method"] = json!({"type": "manual"});
                }),
                ("criteria[1.4].method", "not_allowed"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "3.12.2")["method"] =
                        json!({"type": "target_ratio", "target": "1.5"});
                }),
                ("criteria[3.12.2].method.target", "out_of_range"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "1.5.4")["method"] =
                        json!({"type": "per_item", "points": "0"});
                }),
                ("criteria[1.5.4].method.points", "out_of_range"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "7.2.2")["method"]["steps"] =
                        json!([{"min_count": 3, "score": "3"}, {"min_count": 1, "score": "1"}]);
                }),
                ("criteria[7.2.2].method.steps[1].min_count", "unordered"),
            ),
            (
                Box::new(|f| {
                    criterion_mut(f, "1.4.1")["max_score"] = json!("0.999");
                }),
                ("criteria[1.4.1].max_score", "too_many_decimals"),
            ),
            (
                Box::new(|f| {
                    f["bonus_max"] = json!("25");
                }),
                ("bonus_max", "out_of_range"),
            ),
            (
                Box::new(|f| {
                    f["rating_bands"] =
                        json!([{"label": "A", "min_index": 90}, {"label": "A", "min_index": 80}]);
                }),
                ("rating_bands[1].label", "duplicate"),
            ),
            (
                Box::new(|f| {
                    f["unit_kinds"] = json!(["district"]);
                }),
                ("unit_kinds", "invalid_hierarchy"),
            ),
        ];
        for (change, expected) in cases {
            let mut body = base.clone();
            change(&mut body);
            let resp = w.app.post("/api/v1/frameworks", admin, &body).await;
            resp.assert_problem(422, Some("validation_failed"));
            let fields = error_fields(&resp);
            assert!(
                fields
                    .iter()
                    .any(|(f, c)| f == expected.0 && c == expected.1),
                "expected {expected:?} in {fields:?}"
            );
        }
        // Shape errors name the field path too.
        let mut body = base.clone();
        criterion_mut(&mut body, "1.1")["method"] = json!({"type": "magic"});
        let resp = w.app.post("/api/v1/frameworks", admin, &body).await;
        resp.assert_problem(422, None);
        assert_eq!(resp.json["errors"][0]["field"], "criteria[1].method.type");
        let mut body = base.clone();
        body["submission_deadline"] = json!("2024-02-30");
        let resp = w.app.post("/api/v1/frameworks", admin, &body).await;
        resp.assert_problem(422, None);
        assert_eq!(resp.json["errors"][0]["field"], "submission_deadline");

        let list = w.app.get("/api/v1/frameworks", admin).await;
        assert_eq!(list.json["total"], 0, "nothing was stored");
    })
    .await;
}

#[tokio::test]
async fn publication_copy_and_the_lifecycle() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let appraiser = w.token(Persona::Appraiser);
        let id = w.framework(w.id("district")).await;
        let path = format!("/api/v1/frameworks/{id}");
        let read = w.app.get(&path, appraiser).await;
        let etag = read.header("etag").unwrap().to_string();

        // A stale ETag cannot publish.
        let renamed = Resp::read(
            w.app
                .request(Method::PUT, &path, Some(appraiser))
                .header("if-match", &etag)
                .json(&json!({"name": "Bộ chỉ số 2023 (sửa)"}).clone_from_fixture(&w))
                .send()
                .await,
        )
        .await;
        renamed.assert_status(200);
        assert_eq!(renamed.json["name"], "Bộ chỉ số 2023 (sửa)");
        let stale = Resp::read(
            w.app
                .request(Method::POST, &format!("{path}/publish"), Some(appraiser))
                .header("if-match", &etag)
                .send()
                .await,
        )
        .await;
        stale.assert_problem(412, Some("precondition_failed"));

        let published = w
            .app
            .post(&format!("{path}/publish"), appraiser, &json!({}))
            .await;
        published.assert_status(200);
        assert_eq!(published.json["status"], "published");
        assert!(published.json["published_at"].is_string());
        w.app
            .post(&format!("{path}/publish"), appraiser, &json!({}))
            .await
            .assert_problem(409, Some("already_published"));

        // A second published framework for the same kinds, owner and year is refused.
        let other = w.framework(w.id("district")).await;
        w.app
            .post(
                &format!("/api/v1/frameworks/{other}/publish"),
                appraiser,
                &json!({}),
            )
            .await
            .assert_problem(409, Some("overlapping_framework"));

        // Copy into 2024: a draft with the same criteria.
        let copy = w
            .app
            .post(&format!("{path}/copy"), appraiser, &json!({"year": 2024}))
            .await;
        copy.assert_status(201);
        assert_eq!(copy.json["year"], 2024);
        assert_eq!(copy.json["status"], "draft");
        assert_eq!(copy.json["criteria"], published.json["criteria"]);

        // A draft nobody uses can be deleted.
        w.app
            .delete(&format!("/api/v1/frameworks/{other}"), appraiser)
            .await
            .assert_status(204);
        w.app
            .get(&format!("/api/v1/frameworks/{other}"), appraiser)
            .await
            .assert_problem(404, None);

        // Officers read but cannot change frameworks.
        w.app
            .post(
                &format!("{path}/copy"),
                w.token(Persona::OfficerA),
                &json!({"year": 2025}),
            )
            .await
            .assert_problem(403, None);

        // The audit trail has each change with old and new values.
        let _ = w;
    })
    .await;
}

trait FromFixture {
    fn clone_from_fixture(&self, w: &crate::fixtures::World) -> Value;
}

impl FromFixture for Value {
    /// The fixture framework of the world's district with these fields replaced.
    fn clone_from_fixture(&self, w: &crate::fixtures::World) -> Value {
        let mut f = fixture_framework_json(&w.id("district").to_string());
        for (k, v) in self.as_object().unwrap() {
            f[k] = v.clone();
        }
        f
    }
}

#[tokio::test]
async fn frameworks_round_trip_through_json_csv_and_xlsx() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let id = w.framework(w.id("district")).await;
        let original = w.app.get(&format!("/api/v1/frameworks/{id}"), admin).await.json;

        // JSON: the export is the create body.
        let exported = w.app.get(&format!("/api/v1/frameworks/{id}/export"), admin).await;
        exported.assert_status(200);
        assert!(exported.header("content-disposition").unwrap().contains(".json"));
        let again = w.app.post("/api/v1/frameworks", admin, &exported.json).await;
        again.assert_status(201);
        assert_eq!(again.json["criteria"], original["criteria"]);

        // CSV: UTF-8 with BOM, imported into a new framework.
        let csv = w.app.get(&format!("/api/v1/frameworks/{id}/export?format=csv"), admin).await;
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"));
        let imported = Resp::read(
            w.app
                .request(Method::POST, &format!("/api/v1/frameworks/import?year=2024&name=T%E1%BB%AB%20CSV&owner_unit_id={}", w.id("district")), Some(admin))
                .header("content-type", "text/csv")
                .body(csv.bytes.clone())
                .send()
                .await,
        )
        .await;
        imported.assert_status(201);
        assert_eq!(imported.json["name"], "Từ CSV");
        assert_eq!(imported.json["criteria"], original["criteria"]);

        // XLSX: read back with calamine, then replace a framework's criteria with it.
        let xlsx = w.app.get(&format!("/api/v1/frameworks/{id}/export?format=xlsx"), admin).await;
        assert_eq!(
            xlsx.header("content-type"),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        {
            use calamine::{Reader, Xlsx};
            let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
            let range = book.worksheet_range_at(0).unwrap().unwrap();
            let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
            assert_eq!(
                rows[0],
                [
                    "code",
                    "title",
                    "max_score",
                    "method",
                    "parameters",
                    "scorer",
                    "appraised_by_unit_id",
                    "indicator_code",
                    "indicator_feeds_self"
                ]
            );
            assert_eq!(rows.len(), 71);
            let r = rows.iter().find(|r| r[0] == "3.12.2").unwrap();
            assert_eq!((r[2].as_str(), r[3].as_str(), r[4].as_str()), ("1", "target_ratio", "target=0.3"));
        }
        let target = w.framework(w.id("district")).await;
        let replaced = Resp::read(
            w.app
                .request(Method::PUT, &format!("/api/v1/frameworks/{target}/criteria"), Some(admin))
                .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .body(xlsx.bytes.clone())
                .send()
                .await,
        )
        .await;
        replaced.assert_status(200);
        assert_eq!(replaced.json["criteria"], original["criteria"]);

        // The same framework makes the same bytes, whenever it is downloaded.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let later = w.app.get(&format!("/api/v1/frameworks/{id}/export?format=xlsx"), admin).await;
        assert!(later.bytes == xlsx.bytes, "two downloads of one workbook differ");

        // A workbook labelled text/csv (as some generated clients send every file) is read
        // as the workbook it is.
        let mislabelled = Resp::read(
            w.app
                .request(Method::POST, &format!("/api/v1/frameworks/import?year=2025&name=XLSX&owner_unit_id={}", w.id("district")), Some(admin))
                .header("content-type", "text/csv")
                .body(xlsx.bytes.clone())
                .send()
                .await,
        )
        .await;
        mislabelled.assert_status(201);
        assert_eq!(mislabelled.json["criteria"], original["criteria"]);
    })
    .await;
}

#[tokio::test]
async fn bad_spreadsheet_rows_are_reported_by_row_and_nothing_is_imported() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let admin = w.admin();
        let mut csv = fixture_framework_csv();
        // Row 3 (1.1) gets a bad number; row 10 (1.5.1) an unknown method.
        csv = csv.replacen(
            "1.1,\"Kế hoạch cải cách hành chính năm\",2,",
            "1.1,\"Kế hoạch cải cách hành chính năm\",hai,",
            1,
        );
        csv = csv.replacen(",penalty_per_item,points=1,", ",penalty,points=1,", 1);
        let url = format!(
            "/api/v1/frameworks/import?year=2024&name=X&owner_unit_id={}",
            w.id("district")
        );
        let resp = Resp::read(
            w.app
                .request(Method::POST, &url, Some(admin))
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await,
        )
        .await;
        resp.assert_problem(422, Some("validation_failed"));
        let fields = error_fields(&resp);
        assert_eq!(
            fields,
            [
                (
                    "rows[3].max_score".to_string(),
                    "invalid_number".to_string()
                ),
                ("rows[10].method".to_string(), "invalid_method".to_string())
            ]
        );
        // A rule across rows is reported at the row of the criterion.
        let csv = fixture_framework_csv().replacen(
            "1.4.1,\"Mức độ thực hiện kế hoạch tuyên truyền CCHC đã ban hành\",1,",
            "1.4.1,\"Mức độ thực hiện kế hoạch tuyên truyền CCHC đã ban hành\",1.5,",
            1,
        );
        let resp = Resp::read(
            w.app
                .request(Method::POST, &url, Some(admin))
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await,
        )
        .await;
        resp.assert_problem(422, None);
        assert!(
            error_fields(&resp)
                .contains(&("rows[6].max_score".to_string(), "sum_mismatch".to_string())),
            "{}",
            resp.text
        );
        // Garbage and unknown types.
        let resp = Resp::read(
            w.app
                .request(Method::POST, &url, Some(admin))
                .header(
                    "content-type",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
                .body("not a zip")
                .send()
                .await,
        )
        .await;
        resp.assert_problem(422, None);
        assert_eq!(resp.json["errors"][0]["field"], "file");
        let resp = Resp::read(
            w.app
                .request(Method::POST, &url, Some(admin))
                .header("content-type", "application/pdf")
                .body("x")
                .send()
                .await,
        )
        .await;
        resp.assert_problem(415, None);
        assert_eq!(
            w.app.get("/api/v1/frameworks", admin).await.json["total"],
            0
        );
    })
    .await;
}
