//! Indices and rankings: the seed's sentence ("xếp thứ 11/18 … năm 2022 … xếp thứ 8/18:
//! tụt 3 bậc") through the real API, publication, exports read back, ties, unranked units.

use crate::fixtures::{Persona, World, seed_json, world};
use crate::helpers::{Resp, on_each_backend};
use serde_json::{Value, json};
use std::collections::HashMap;

fn demo() -> Value {
    serde_json::from_str(include_str!("../../demo/fixtures/demo_vinh_linh.json")).unwrap()
}

/// The 18 communes and towns of the demo district with their 2022 and 2023 results;
/// Vĩnh Long's 2023 file is the seed's. Returns (unit ids by code, 2023 framework).
pub(crate) async fn vinh_linh(w: &World) -> (HashMap<String, i64>, i64) {
    let mut ids = HashMap::from([
        ("19744".to_string(), w.id("commune_a")),
        ("19745".to_string(), w.id("commune_b")),
    ]);
    let d = demo();
    for u in d["units"].as_array().unwrap() {
        let code = u["code"].as_str().unwrap();
        if !ids.contains_key(code) {
            let id = w
                .unit(
                    code,
                    u["name"].as_str().unwrap(),
                    u["kind"].as_str().unwrap(),
                    Some(w.id("district")),
                )
                .await;
            ids.insert(code.to_string(), id);
        }
    }
    let f2023 = w.published_framework(w.id("district")).await;
    let f2022 = w
        .app
        .post(
            &format!("/api/v1/frameworks/{f2023}/copy"),
            w.admin(),
            &json!({"year": 2022}),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    w.app
        .post(
            &format!("/api/v1/frameworks/{f2022}/publish"),
            w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
    for u in d["units"].as_array().unwrap() {
        let id = ids[u["code"].as_str().unwrap()];
        let y22 = &u["2022"];
        w.quick_file(
            f2022,
            id,
            y22["appraised"].as_str().unwrap(),
            y22["bonus"].as_str().unwrap(),
        )
        .await;
        match u["2023"].as_str() {
            Some("seed") => {
                w.seed_appraisal(f2023).await;
            }
            _ => {
                let y23 = &u["2023"];
                w.quick_file(
                    f2023,
                    id,
                    y23["appraised"].as_str().unwrap(),
                    y23["bonus"].as_str().unwrap(),
                )
                .await;
            }
        }
    }
    (ids, f2023)
}

#[tokio::test]
async fn the_seed_sentence_is_reproduced_by_the_api() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let (ids, _) = vinh_linh(&w).await;
        let seed = seed_json();
        let appraiser = w.token(Persona::Appraiser);
        let vinh_long = w.id("commune_a");

        let index = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/index?year=2023"),
                appraiser,
            )
            .await;
        index.assert_status(200);
        let x = &index.json;
        assert_eq!(x["self_total"], "90.88");
        assert_eq!(x["appraised_total"], "87.25");
        assert_eq!(x["bonus"], "1.00");
        assert_eq!(x["index"], "88.25");
        assert_eq!(x["deduction_total"], "12.75");
        assert_eq!(x["rank"], 11);
        assert_eq!(x["ranked_units"], 18);
        assert_eq!(
            x["previous"],
            json!({"year": 2022, "index": "86.39", "rank": 8})
        );
        assert_eq!(x["rank_change"], -3, "tụt 3 bậc");
        assert_eq!(x["index_change"], "1.86");
        assert_eq!(x["rating_band"], "Khá");
        let deductions = x["deductions"].as_array().unwrap();
        assert_eq!(deductions.len(), 19);
        let codes: Vec<&str> = deductions
            .iter()
            .map(|d| d["criterion_code"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = seed["appendix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, expected, "the appendix's criteria, in code order");
        let total: rust_decimal::Decimal = deductions
            .iter()
            .map(|d| {
                d["deduction"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum();
        assert_eq!(total.to_string(), "12.75");
        let fields = x["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 7);
        assert_eq!(fields[2]["code"], "3");
        assert_eq!(fields[2]["max_score"], "24.00");
        assert_eq!(
            fields[2]["appraised_score"], "18.96",
            "24 − 5.04 lost in field 3"
        );
        assert_eq!(fields[2]["self_score"], "19.95");

        let ranking = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                appraiser,
            )
            .await;
        ranking.assert_status(200);
        let r = &ranking.json;
        assert_eq!(r["ranked_units"], 18);
        assert_eq!(r["unranked"], json!([]));
        let items = r["items"].as_array().unwrap();
        assert_eq!(items[0]["unit_name"], "Thị trấn Hồ Xá");
        assert_eq!(items[0]["rank"], 1);
        let vl = items.iter().find(|i| i["unit_id"] == vinh_long).unwrap();
        assert_eq!(
            (
                vl["rank"].as_i64(),
                vl["previous_rank"].as_i64(),
                vl["rank_change"].as_i64()
            ),
            (Some(11), Some(8), Some(-3))
        );
        assert_eq!(vl["index"], "88.25");
        assert_eq!(vl["previous_index"], "86.39");
        assert_eq!(r["summary"]["count"], 18);
        assert_eq!(r["summary"]["max"], "95.10");
        assert_eq!(r["summary"]["min"], "81.05");
        assert_eq!(r["summary"]["median"], "89.10");
        assert_eq!(r["published"], false);
        let bands: HashMap<String, i64> = r["summary"]["bands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["label"].as_str().unwrap().to_string(),
                    b["count"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(bands["Tốt"], 7);
        assert_eq!(bands["Khá"], 11);

        // The criteria that lost most points across the district.
        let criteria = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings/criteria?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                appraiser,
            )
            .await;
        criteria.assert_status(200);
        let top = &criteria.json["items"][0];
        assert_eq!(
            top["criterion_code"], "7.2.1",
            "the quick files lose most on 7.2.1"
        );
        assert_eq!(top["units_appraised"], 18);
        let c33 = criteria.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["criterion_code"] == "3.3")
            .unwrap();
        assert_eq!(c33["units_losing"], 1);
        assert_eq!(c33["total_deduction"], "2.00");
        assert_eq!(c33["mean_deduction"], "0.11");

        // Year over year, per criterion.
        let cmp = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/comparison?year=2023"),
                appraiser,
            )
            .await;
        cmp.assert_status(200);
        assert_eq!(cmp.json["previous_year"], 2022);
        let c = cmp.json["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["criterion_code"] == "3.12.2")
            .unwrap();
        assert_eq!(
            (
                c["score_then"].as_str(),
                c["score_now"].as_str(),
                c["change"].as_str()
            ),
            (Some("1.00"), Some("0.32"), Some("-0.68"))
        );

        // Before publication the commune sees neither its index nor the ranking.
        let officer = w.token(Persona::OfficerA);
        let r = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/index?year=2023"),
                officer,
            )
            .await;
        r.assert_problem(403, Some("forbidden"));
        assert!(r.json["detail"].as_str().unwrap().contains("not published"));
        w.app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                officer,
            )
            .await
            .assert_problem(403, None);
        w.app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                w.token(Persona::Viewer),
            )
            .await
            .assert_problem(403, None);
        // Another district's appraiser never sees it; an officer cannot publish.
        w.app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                w.token(Persona::OtherAppraiser),
            )
            .await
            .assert_problem(403, None);
        w.app
            .post(
                "/api/v1/publications",
                officer,
                &json!({"parent_unit_id": w.id("district"), "year": 2023}),
            )
            .await
            .assert_problem(403, None);

        let published = w
            .app
            .post(
                "/api/v1/publications",
                appraiser,
                &json!({"parent_unit_id": w.id("district"), "year": 2023}),
            )
            .await;
        published.assert_status(201);
        w.app
            .post(
                "/api/v1/publications",
                appraiser,
                &json!({"parent_unit_id": w.id("district"), "year": 2023}),
            )
            .await
            .assert_problem(409, Some("already_published"));
        let mine = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/index?year=2023"),
                officer,
            )
            .await;
        mine.assert_status(200);
        assert_eq!(mine.json["rank"], 11);
        let seen = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                officer,
            )
            .await;
        seen.assert_status(200);
        assert_eq!(seen.json["published"], true);
        // …but still not a neighbour's details.
        w.app
            .get(
                &format!("/api/v1/units/{}/index?year=2023", w.id("commune_b")),
                officer,
            )
            .await
            .assert_problem(403, None);
        // The 2022 results were never published.
        w.app
            .get(
                &format!("/api/v1/units/{vinh_long}/index?year=2022"),
                officer,
            )
            .await
            .assert_problem(403, None);
        let _ = ids;
    })
    .await;
}

#[tokio::test]
async fn exports_read_back_cell_by_cell() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let (_, appraisal) = w.seed_appraisal(framework).await;
        let seed = seed_json();
        let appraiser = w.token(Persona::Appraiser);
        let vinh_long = w.id("commune_a");

        let xlsx = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/appendix?year=2023&format=xlsx"),
                appraiser,
            )
            .await;
        xlsx.assert_status(200);
        let cd = xlsx.header("content-disposition").unwrap();
        assert!(
            cd.starts_with("attachment; filename=\"phu_luc_xa_vinh_long_2023.xlsx\""),
            "{cd}"
        );
        assert!(
            cd.contains("filename*=UTF-8''Ph%E1%BB%A5%20l%E1%BB%A5c"),
            "{cd}"
        );
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        assert_eq!(rows[0][0], Data::String("PHỤ LỤC".into()));
        assert_eq!(
            rows[1][0],
            Data::String("KẾT QUẢ ĐÁNH GIÁ CCHC XÃ VĨNH LONG NĂM 2023".into())
        );
        let header = rows
            .iter()
            .position(|r| r[0] == Data::String("TT".into()))
            .unwrap();
        let headers: Vec<String> = rows[header].iter().map(|c| c.to_string()).collect();
        assert_eq!(
            headers,
            [
                "TT",
                "LĨNH VỰC/TIÊU CHÍ/TIÊU CHÍ THÀNH PHẦN",
                "ĐIỂM CHUẨN",
                "ĐIỂM TỰ ĐÁNH GIÁ",
                "ĐIỂM THẨM ĐỊNH",
                "ĐIỂM BỊ TRỪ",
                "Ý KIẾN HỘI ĐỒNG THẨM ĐỊNH",
                "NGƯỜI CHỊU TRÁCH NHIỆM"
            ]
        );
        let data = &rows[header + 1..];
        assert_eq!(data.len(), 20, "19 criteria and the total row");
        let first = &data[0];
        assert_eq!(first[0], Data::String("1.4.1".into()));
        assert_eq!(first[2], Data::Float(1.0));
        assert_eq!(first[4], Data::Float(0.8));
        assert_eq!(first[5], Data::Float(-0.2));
        assert_eq!(
            first[6].to_string(),
            seed["appendix"][0]["comment"].as_str().unwrap()
        );
        let total = &data[19];
        assert_eq!(total[1], Data::String("Tổng cộng".into()));
        assert_eq!(total[5], Data::Float(-12.75));

        let csv = w
            .app
            .get(
                &format!("/api/v1/units/{vinh_long}/appendix?year=2023&format=csv"),
                appraiser,
            )
            .await;
        assert!(
            csv.bytes.starts_with(b"\xEF\xBB\xBF"),
            "UTF-8 BOM for Excel"
        );
        let mut reader = csv::ReaderBuilder::new().from_reader(&csv.bytes[3..]);
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 20);
        assert_eq!(&records[12][0], "3.12.2");
        assert_eq!(&records[12][4], "0.32");
        assert_eq!(&records[12][5], "-0.68");
        assert_eq!(&records[19][5], "-12.75");

        let ranking = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings/export?parent_unit_id={}&year=2023&format=xlsx",
                    w.id("district")
                ),
                appraiser,
            )
            .await;
        ranking.assert_status(200);
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(ranking.bytes.clone())).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        let header = rows.iter().position(|r| r[0] == "TT").unwrap();
        assert_eq!(rows[header][5], "CHỈ SỐ CCHC");
        assert_eq!(rows[header + 1][1], "Xã Vĩnh Long");
        assert_eq!(rows[header + 1][5], "88.25");
        assert_eq!(rows[header + 2][1], "Xã Vĩnh Chấp");
        assert_eq!(
            rows[header + 2][6],
            "Chưa xếp hạng",
            "an unranked unit is listed, not dropped"
        );
        let csv = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings/export?parent_unit_id={}&year=2023&format=csv",
                    w.id("district")
                ),
                appraiser,
            )
            .await;
        let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
        assert!(text.starts_with("TT,ĐƠN VỊ,ĐIỂM TỰ ĐÁNH GIÁ"), "{text}");

        let chart = Resp::read(
            w.app
                .request(
                    reqwest::Method::GET,
                    &format!(
                        "/api/v1/rankings/chart?parent_unit_id={}&year=2023",
                        w.id("district")
                    ),
                    Some(appraiser),
                )
                .send()
                .await,
        )
        .await;
        chart.assert_status(200);
        assert_eq!(
            chart.header("content-type"),
            Some("image/svg+xml; charset=utf-8")
        );
        assert!(chart.text.contains("1. Xã Vĩnh Long"));
        assert!(chart.text.contains("Tốt ≥ 90"));
        // Saved as a file by Swagger UI, not shown as XML text.
        let disposition = chart.header("content-disposition").unwrap_or_default();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains(".svg"), "{disposition}");
        let _ = appraisal;
    })
    .await;
}

#[tokio::test]
async fn ties_share_a_rank_and_unfinished_units_are_listed_as_unranked() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let c3 = w
            .unit("T-3", "Xã Ba", "commune", Some(w.id("district")))
            .await;
        let c4 = w
            .unit("T-4", "Xã Bốn", "commune", Some(w.id("district")))
            .await;
        let c5 = w
            .unit("T-5", "Xã Năm", "commune", Some(w.id("district")))
            .await;
        w.quick_file(framework, w.id("commune_a"), "90.00", "0")
            .await;
        w.quick_file(framework, w.id("commune_b"), "85.50", "1")
            .await;
        w.quick_file(framework, c3, "86.50", "0").await;
        w.quick_file(framework, c4, "80.00", "0").await;
        // c5 submitted but not finalized.
        let sa = w
            .app
            .post(
                "/api/v1/self-assessments",
                w.admin(),
                &json!({"unit_id": c5, "framework_id": framework}),
            )
            .await;
        let sa = sa.json["id"].as_i64().unwrap();
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                w.admin(),
                &json!({"entries": crate::fixtures::seed_self_entries()}),
            )
            .await;
        w.app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                w.admin(),
                &json!({}),
            )
            .await
            .assert_status(200);
        let other = w
            .unit("T-6", "Xã Sáu", "commune", Some(w.id("district")))
            .await;

        let ranking = format!(
            "/api/v1/rankings?parent_unit_id={}&year=2023",
            w.id("district")
        );
        let r = w.app.get(&ranking, w.admin()).await;
        let ranks: Vec<(String, i64)> = r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["index"].as_str().unwrap().to_string(),
                    i["rank"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ranks,
            [
                ("90.00".to_string(), 1),
                ("86.50".into(), 2),
                ("86.50".into(), 2),
                ("80.00".into(), 4)
            ]
        );
        let unranked: HashMap<i64, String> = r.json["unranked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["unit_id"].as_i64().unwrap(),
                    u["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(unranked.len(), 2);
        assert_eq!(unranked[&c5], "pending");
        assert_eq!(unranked[&other], "not_started");
        assert_eq!(r.json["summary"]["mean"], "85.75");
        // Rankings are cached for a second, but a finalization shows at once.
        w.quick_file(framework, other, "95.00", "0").await;
        let again = w.app.get(&ranking, w.admin()).await;
        assert_eq!(again.json["ranked_units"], 5);
        assert_eq!(again.json["items"][0]["unit_id"], other);
        assert_eq!(again.json["unranked"].as_array().unwrap().len(), 1);
        // A province ranks its districts' communes with depth=all.
        let all = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=2023&depth=all",
                    w.id("province")
                ),
                w.admin(),
            )
            .await;
        assert_eq!(all.json["ranked_units"], 5);
        assert_eq!(
            all.json["unranked"].as_array().unwrap().len(),
            2,
            "Xã Gio Mỹ of the other district too"
        );
        // Subtrees are path ranges: a later province (path "/1x/" next to "/1/"-like
        // prefixes) never leaks into another's ranking or criteria losses.
        let mut province_ids = vec![w.id("province")];
        for n in 2..=12 {
            province_ids.push(
                w.unit(&format!("P-{n}"), &format!("Tỉnh {n}"), "province", None)
                    .await,
            );
        }
        let far = *province_ids.last().unwrap();
        let far_district = w.unit("P-12-D", "Huyện Xa", "district", Some(far)).await;
        let far_commune = w
            .unit("P-12-C", "Xã Xa", "commune", Some(far_district))
            .await;
        let far_framework = w.published_framework(far_district).await;
        w.quick_file(far_framework, far_commune, "80.00", "0").await;
        for (province, ranked) in [(w.id("province"), 5), (far, 1)] {
            let r = w
                .app
                .get(
                    &format!("/api/v1/rankings?parent_unit_id={province}&year=2023&depth=all"),
                    w.admin(),
                )
                .await;
            assert_eq!(r.json["ranked_units"], ranked, "province {province}");
            let losses = w
                .app
                .get(
                    &format!(
                        "/api/v1/rankings/criteria?parent_unit_id={province}&year=2023&depth=all"
                    ),
                    w.admin(),
                )
                .await;
            losses.assert_status(200);
            let appraised: Vec<i64> = losses.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["units_appraised"].as_i64().unwrap())
                .collect();
            assert!(!appraised.is_empty());
            assert!(appraised.iter().all(|n| *n == ranked), "{appraised:?}");
        }
        let country = w
            .app
            .get("/api/v1/rankings?year=2023&depth=all", w.admin())
            .await;
        assert_eq!(country.json["ranked_units"], 6);
        w.app
            .get("/api/v1/rankings?year=2023", w.token(Persona::Appraiser))
            .await
            .assert_problem(403, None);
        w.app
            .get(&format!("/api/v1/units/{c5}/index?year=2023"), w.admin())
            .await
            .assert_problem(404, None);
        w.app
            .get(
                &format!(
                    "/api/v1/rankings?parent_unit_id={}&year=abc",
                    w.id("district")
                ),
                w.admin(),
            )
            .await
            .assert_problem(400, None);
    })
    .await;
}

/// A criterion that did not arise ("không phát sinh") scores its max under the default
/// policy: in the unit index the fields' subtotals must include it, on the self side as on
/// the council's, and add up to the totals.
#[tokio::test]
async fn field_subtotals_add_up_to_the_totals_with_a_not_applicable_leaf() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let f = crate::fixtures::fixture_framework_json("0");
        let entries: Vec<Value> = f["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c.get("method").is_some())
            .map(|c| {
                let code = c["code"].as_str().unwrap();
                let mut e = if code == "1.4.1" {
                    json!({"not_applicable": true})
                } else {
                    crate::fixtures::inputs_for_max(c)
                };
                e["criterion_code"] = json!(code);
                e
            })
            .collect();
        let officer = w.token(Persona::OfficerA);
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                officer,
                &json!({"entries": entries}),
            )
            .await
            .assert_status(200);
        let appraisal = w
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                officer,
                &json!({}),
            )
            .await
            .json["appraisal_id"]
            .as_i64()
            .unwrap();
        let appraiser = w.token(Persona::Appraiser);
        w.app
            .post(
                &format!("/api/v1/appraisals/{appraisal}/finalize"),
                appraiser,
                &json!({}),
            )
            .await
            .assert_status(200);
        let index = w
            .app
            .get(
                &format!("/api/v1/units/{}/index?year=2023", w.id("commune_a")),
                appraiser,
            )
            .await;
        index.assert_status(200);
        let sum = |key: &str| -> rust_decimal::Decimal {
            index.json["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    f[key]
                        .as_str()
                        .unwrap()
                        .parse::<rust_decimal::Decimal>()
                        .unwrap()
                })
                .sum()
        };
        assert_eq!(index.json["self_total"], "100.00");
        assert_eq!(index.json["appraised_total"], "100.00");
        assert_eq!(sum("self_score").to_string(), "100.00", "{}", index.text);
        assert_eq!(
            sum("appraised_score").to_string(),
            "100.00",
            "{}",
            index.text
        );
        let field_1 = index.json["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "1")
            .unwrap();
        assert_eq!(field_1["self_score"], field_1["max_score"]);
    })
    .await;
}

/// The printed appendix: a DOCX whose table has the appendix's 19 rows and the total
/// −12,75, attached to the letter named, in Times New Roman on A4.
#[tokio::test]
async fn the_appendix_prints_as_docx() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        vinh_linh(&w).await;
        let docx = w
            .app
            .get(
                &format!(
                    "/api/v1/units/{}/appendix?year=2023&format=docx&letter_number=45/UBND&letter_date=2024-01-15",
                    w.id("commune_a")
                ),
                w.token(Persona::Appraiser),
            )
            .await;
        docx.assert_status(200);
        assert_eq!(
            docx.header("content-type"),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx.bytes.clone())).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert_eq!(xml.matches("</w:tr>").count(), 1 + 19 + 1, "header, 19 rows, total");
        for text in [
            "PHỤ LỤC",
            "Kèm theo Công văn số 45/UBND ngày 15/01/2024 của UBND xã Vĩnh Long",
            "Tổng cộng",
            "-12,75",
            "3.12.2",
            "Times New Roman",
            "landscape",
        ] {
            assert!(xml.contains(text), "{text} missing from the document");
        }
        // A letter number is plain text, bounded.
        w.app
            .get(
                &format!(
                    "/api/v1/units/{}/appendix?year=2023&format=docx&letter_number={}",
                    w.id("commune_a"),
                    "9".repeat(101)
                ),
                w.token(Persona::Appraiser),
            )
            .await
            .assert_problem(422, Some("validation_failed"));
    })
    .await;
}
