//! The attacks of the security review, each as a class: hostile spreadsheets, one unit
//! moving another's score, unpublished results on any route, racing the login throttle,
//! formulas in CSV exports, errors that say too much; and the small ones (trickled bodies,
//! wildcards in searches, CSP, bidirectional overrides).

use crate::fixtures::{Persona, World, fixture_framework_json, seed_json, world};
use crate::helpers::{Resp, TestApp, backends, on_each_backend};
use reqwest::Method;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn upload(app: &TestApp, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Resp {
    Resp::read(
        app.request(Method::POST, path, Some(token))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await,
    )
    .await
}

/// A 7 KB workbook whose only cells are A1 and XFD1048576: a dense reader allocates 17
/// billion cells for it.
fn far_corner_xlsx() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "code").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

/// A zip whose one part is `inflated_mib` MiB of spaces, in about 1 KB per MiB: one
/// deflate block of 1 MiB, full-flushed so that it stands alone, repeated. The header
/// declares `declared` bytes (a lie, when it is small) and a wrong CRC: a reader that
/// trusts either, or inflates before counting, is caught.
fn zip_bomb(inflated_mib: usize, declared: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(64 * 1024);
    deflate
        .compress_vec(&vec![b' '; 1 << 20], &mut block, FlushCompress::Full)
        .unwrap();
    let mut data = Vec::with_capacity(block.len() * inflated_mib + 5);
    for _ in 0..inflated_mib {
        data.extend_from_slice(&block);
    }
    // A final, empty stored block.
    data.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    let name = b"xl/worksheets/sheet1.xml";
    let mut out = Vec::new();
    let le16 = |v: u16, out: &mut Vec<u8>| out.extend_from_slice(&v.to_le_bytes());
    let le32 = |v: u32, out: &mut Vec<u8>| out.extend_from_slice(&v.to_le_bytes());
    le32(0x0403_4b50, &mut out);
    for v in [20u16, 0, 8, 0, 0] {
        le16(v, &mut out);
    }
    le32(0xDEAD_BEEF, &mut out);
    le32(data.len() as u32, &mut out);
    le32(declared, &mut out);
    le16(name.len() as u16, &mut out);
    le16(0, &mut out);
    out.extend_from_slice(name);
    out.extend_from_slice(&data);
    let directory = out.len() as u32;
    le32(0x0201_4b50, &mut out);
    for v in [20u16, 20, 0, 8, 0, 0] {
        le16(v, &mut out);
    }
    le32(0xDEAD_BEEF, &mut out);
    le32(data.len() as u32, &mut out);
    le32(declared, &mut out);
    for v in [name.len() as u16, 0, 0, 0, 0] {
        le16(v, &mut out);
    }
    le32(0, &mut out);
    le32(0, &mut out);
    out.extend_from_slice(name);
    let directory_size = out.len() as u32 - directory;
    le32(0x0605_4b50, &mut out);
    for v in [0u16, 0, 1, 1] {
        le16(v, &mut out);
    }
    le32(directory_size, &mut out);
    le32(directory, &mut out);
    le16(0, &mut out);
    out
}

/// The resident memory of this process (the test server runs in it), in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

#[tokio::test]
async fn hostile_spreadsheets_are_refused_within_budget_and_the_server_keeps_answering() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let import = format!(
            "/api/v1/frameworks/import?year=2025&name=Bomb&owner_unit_id={}",
            w.id("district")
        );
        let far = far_corner_xlsx();
        assert!(far.len() < 10_000, "{} bytes", far.len());
        // The role first: a unit officer's file is never read.
        let started = Instant::now();
        upload(
            &w.app,
            &import,
            w.token(Persona::OfficerA),
            XLSX,
            far.clone(),
        )
        .await
        .assert_problem(403, Some("forbidden"));
        // The district's: refused by the row/column limit, at once.
        let resp = upload(
            &w.app,
            &import,
            w.token(Persona::Appraiser),
            XLSX,
            far.clone(),
        )
        .await;
        resp.assert_problem(422, Some("upload_over_budget"));
        assert!(
            resp.json["detail"].as_str().unwrap().contains("XFD1048576"),
            "{}",
            resp.text
        );
        assert!(matches!(
            resp.json["errors"][0]["code"].as_str(),
            Some("rows" | "columns")
        ));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // The same on the criteria of an existing framework.
        let framework = w.framework(w.id("district")).await;
        let criteria = format!("/api/v1/frameworks/{framework}/criteria");
        let resp = Resp::read(
            w.app
                .request(Method::PUT, &criteria, Some(w.token(Persona::Appraiser)))
                .header("content-type", XLSX)
                .body(far)
                .send()
                .await,
        )
        .await;
        resp.assert_problem(422, Some("upload_over_budget"));

        // Zip bombs of ~2 MB, inflating to 1.9 GiB: the honest one by its declared size, the
        // lying one by counting what it really inflates to.
        let honest = zip_bomb(1900, u32::MAX);
        let lying = zip_bomb(1900, 1000);
        assert!(honest.len() < 2 * 1024 * 1024, "{} bytes", honest.len());
        let before = rss_bytes();
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
        let sampling = {
            let peak = peak.clone();
            tokio::spawn(async move {
                loop {
                    peak.fetch_max(rss_bytes(), std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        let appraiser = w.token(Persona::Appraiser).to_string();
        let bombs = futures_util::future::join_all((0..4).map(|i| {
            let body = if i % 2 == 0 {
                honest.clone()
            } else {
                lying.clone()
            };
            upload(&w.app, &import, &appraiser, XLSX, body)
        }));
        // Health checks while the bombs are read: each answered within a second.
        let health = async {
            let mut slowest = Duration::ZERO;
            for _ in 0..10 {
                let started = Instant::now();
                let resp = tokio::time::timeout(
                    Duration::from_secs(1),
                    w.app.client.get(w.app.url("/health/ready")).send(),
                )
                .await
                .expect("/health/ready answered within 1 s")
                .expect("health request");
                assert_eq!(resp.status().as_u16(), 200);
                slowest = slowest.max(started.elapsed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            slowest
        };
        let (results, slowest) = tokio::join!(bombs, health);
        sampling.abort();
        for (i, resp) in results.iter().enumerate() {
            assert!(
                matches!(resp.status.as_u16(), 413 | 422),
                "bomb {i}: {} {}",
                resp.status,
                resp.text
            );
            resp.assert_problem(resp.status.as_u16(), None);
        }
        let honest_refusal = &results[0];
        assert_eq!(
            honest_refusal.status.as_u16(),
            413,
            "{}",
            honest_refusal.text
        );
        assert_eq!(
            honest_refusal.json["errors"][0]["code"],
            "decompressed_size"
        );
        // The lie is caught by the archive reader (it stops at the declared size and finds
        // the part damaged) or by counting: either way nothing is parsed.
        assert!(
            matches!(
                results[1].json["errors"][0]["code"].as_str(),
                Some("decompressed_size" | "unreadable")
            ),
            "{}",
            results[1].text
        );
        let grew = peak
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(before);
        eprintln!(
            "bombs: RSS grew {} MiB, slowest health check {slowest:?}",
            grew >> 20
        );
        assert!(grew < 100 << 20, "RSS grew by {} MiB", grew >> 20);

        // CSV: too wide, not UTF-8.
        let wide = format!("{}x\n", ",".repeat(200));
        let resp = upload(&w.app, &import, &appraiser, "text/csv", wide.into_bytes()).await;
        resp.assert_problem(422, Some("upload_over_budget"));
        assert_eq!(resp.json["errors"][0]["code"], "columns");
        let latin1 = b"code,title\n1,X\xe3 V\xecnh Long\n".to_vec();
        let resp = upload(&w.app, &import, &appraiser, "text/csv", latin1).await;
        resp.assert_problem(422, Some("validation_failed"));
        assert!(
            resp.json["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("UTF-8")
        );
        // Nothing was created by any of it.
        let list = w.app.get("/api/v1/frameworks?year=2025", w.admin()).await;
        assert_eq!(list.json["total"], 0);
    })
    .await;
}

/// The leaf scored relative to the best commune of the district (max 2).
const RELATIVE: &str = "7.1.3";

fn relative_entry(value: Value) -> Value {
    json!({"entries": [{"criterion_code": RELATIVE, "value": value}]})
}

fn entry_score(appraisal: &Value, code: &str) -> Value {
    appraisal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["criterion_code"] == code)
        .unwrap()["appraised_score"]
        .clone()
}

#[tokio::test]
async fn no_unit_input_moves_another_units_score_before_the_council_accepts_it() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        // Commune A's file is with the council: 7.1.3 at value 100, the best so far.
        let (sa_a, appraisal_a) = {
            let officer = w.token(Persona::OfficerA);
            let sa = w
                .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
                .await;
            w.app
                .put(
                    &format!("/api/v1/self-assessments/{sa}/entries"),
                    officer,
                    &json!({"entries": crate::fixtures::seed_self_entries()}),
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
            (sa, submitted.json["appraisal_id"].as_i64().unwrap())
        };
        let _ = sa_a;
        let appraiser = w.token(Persona::Appraiser);
        let path_a = format!("/api/v1/appraisals/{appraisal_a}");
        w.app
            .put(
                &format!("{path_a}/entries"),
                appraiser,
                &json!({"entries": crate::fixtures::seed_council_entries()}),
            )
            .await
            .assert_status(200);
        assert_eq!(
            entry_score(&w.app.get(&path_a, appraiser).await.json, RELATIVE),
            "2.00"
        );

        // Commune B's officer types absurd figures into its own draft.
        let officer_b = w.token(Persona::OfficerB);
        let sa_b = w
            .open_assessment(Persona::OfficerB, w.id("commune_b"), framework)
            .await;
        let entries_b = format!("/api/v1/self-assessments/{sa_b}/entries");
        for huge in [
            json!(1e24),
            json!("1000000000000000000000000"),
            json!("79000000000000000000000000000"),
            json!(7.9e28),
        ] {
            let resp = w
                .app
                .put(&entries_b, officer_b, &relative_entry(huge.clone()))
                .await;
            resp.assert_problem(422, Some("validation_failed"));
            assert_eq!(
                resp.json["errors"][0]["field"], "entries[0].value",
                "{huge}: {}",
                resp.text
            );
        }
        // The largest allowed figure, in B's draft, then submitted: A does not move.
        w.app
            .put(&entries_b, officer_b, &relative_entry(json!(1_000_000_000)))
            .await
            .assert_status(200);
        assert_eq!(
            entry_score(&w.app.get(&path_a, appraiser).await.json, RELATIVE),
            "2.00"
        );
        let mut all_b = crate::fixtures::seed_self_entries();
        for e in all_b.iter_mut().filter(|e| e["criterion_code"] == RELATIVE) {
            e["value"] = json!(1_000_000_000);
        }
        w.app
            .put(&entries_b, officer_b, &json!({"entries": all_b}))
            .await
            .assert_status(200);
        let submitted_b = w
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa_b}/submit"),
                officer_b,
                &json!({}),
            )
            .await;
        submitted_b.assert_status(200);
        assert_eq!(
            entry_score(&w.app.get(&path_a, appraiser).await.json, RELATIVE),
            "2.00"
        );
        // Once the council accepts a higher figure for B, it is the best.
        let appraisal_b = submitted_b.json["appraisal_id"].as_i64().unwrap();
        w.app
            .put(
                &format!("/api/v1/appraisals/{appraisal_b}/entries"),
                appraiser,
                &relative_entry(json!(200)),
            )
            .await
            .assert_status(200);
        assert_eq!(
            entry_score(&w.app.get(&path_a, appraiser).await.json, RELATIVE),
            "1.00"
        );
        let finalized = w
            .app
            .post(&format!("{path_a}/finalize"), appraiser, &json!({}))
            .await;
        finalized.assert_status(200);
        assert_eq!(entry_score(&finalized.json, RELATIVE), "1.00");
    })
    .await;
}

/// Texts and figures of commune A's 2023 appraisal that no officer or viewer may see
/// before publication: the council's comments, the appraised total, the index, the
/// deduction total.
fn unpublished_markers() -> Vec<String> {
    let seed = seed_json();
    let mut markers: Vec<String> = seed["appendix"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["comment"].as_str())
        .filter(|c| c.chars().count() > 40)
        .map(|c| c.chars().take(40).collect())
        .collect();
    markers.extend(["87.25", "88.25", "12.75"].map(String::from));
    markers
}

/// Whether `text` shows `marker`: a comment anywhere; a figure ("87.25") only standing
/// alone, not inside a longer number or a time of day ("03:12:12.751Z").
fn shows(text: &str, marker: &str) -> bool {
    if !marker.starts_with(|c: char| c.is_ascii_digit()) {
        return text.contains(marker);
    }
    text.match_indices(marker).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + marker.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == ':' || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// The text a response carries, XLSX parts included.
fn body_text(resp: &Resp) -> String {
    if resp.bytes.starts_with(b"PK") {
        let mut text = String::new();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(resp.bytes.clone())).unwrap();
        for i in 0..archive.len() {
            let mut part = archive.by_index(i).unwrap();
            let mut s = String::new();
            let _ = part.read_to_string(&mut s);
            text.push_str(&s);
        }
        text
    } else {
        resp.text.clone()
    }
}

/// The values of an enum parameter (a `$ref` to an enum schema, or inline).
fn enum_values(spec: &Value, schema: &Value) -> Vec<String> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    let inner = schema["oneOf"]
        .as_array()
        .and_then(|alts| alts.iter().find(|a| a["type"] != "null"))
        .unwrap_or(schema);
    let inner = match inner["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => inner,
    };
    inner["enum"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Every GET operation of the OpenAPI document, as concrete URLs over the world's ids.
fn every_get(w: &World) -> Vec<String> {
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut urls = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let mut base = path.clone();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for p in params.iter().filter(|p| p["in"] == "path") {
            let name = p["name"].as_str().unwrap();
            let fixture = match (name, path.split('/').nth(3).unwrap_or_default()) {
                ("staff_id", _) => "staff_a",
                ("id", "units") => "commune_a",
                ("id", "frameworks") => "framework",
                ("id", "self-assessments") => "sa_a",
                ("id", "appraisals") => "appraisal_a",
                ("id", "remediation-plans") => "plan",
                ("id", "remediation-items") => "item",
                ("id", "users") => "user_officer_a",
                ("id", "evidence-files") => "evidence_a",
                ("id", "publications") => "other_publication",
                ("id", "unit-merges") => "merge",
                ("id", "webhooks") => "webhook_a",
                ("id", "appeals") => "appeal_none",
                // A feed URL's token: no number is one (404); a calendar carries no score.
                ("token", "calendar") => "commune_a",
                // An unsubscribe token: no number is one (404).
                ("token", "unsubscribe") => "commune_a",
                other => panic!("the results walk does not know how to fill {other:?} of {path}"),
            };
            base = base.replace(&format!("{{{name}}}"), &w.id(fixture).to_string());
        }
        let mut query: Vec<(String, Vec<String>)> = Vec::new();
        for p in params.iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            let values = match name {
                "year" => vec!["2023".to_string()],
                "previous_year" => vec!["2023".to_string()],
                "parent_unit_id" => vec![w.id("district").to_string()],
                "unit_id" => vec![w.id("commune_a").to_string()],
                "framework_id" => vec![w.id("framework").to_string()],
                "format" => enum_values(&spec, &p["schema"]),
                // A criterion the fixture framework scores.
                "criterion" => vec!["1.1".to_string()],
                _ if p["required"] == true => {
                    panic!("the results walk cannot fill {name} of {path}")
                }
                _ => continue,
            };
            query.push((name.to_string(), values));
        }
        // One URL per value of a multi-valued parameter (formats).
        let mut variants = vec![base.clone() + "?"];
        for (name, values) in query {
            variants = variants
                .into_iter()
                .flat_map(|v| {
                    let name = name.clone();
                    values
                        .iter()
                        .map(move |value| format!("{v}{name}={value}&"))
                })
                .collect();
        }
        urls.extend(
            variants
                .into_iter()
                .map(|v| v.trim_end_matches(['?', '&']).to_string()),
        );
    }
    urls
}

#[tokio::test]
async fn unpublished_results_stay_hidden_on_every_get_route() {
    on_each_backend(|app| async move {
        let mut w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        w.ids.insert("framework".into(), framework);
        let (sa, appraisal) = w.seed_appraisal(framework).await;
        w.ids.insert("sa_a".into(), sa);
        w.ids.insert("appraisal_a".into(), appraisal);
        let appraiser = w.token(Persona::Appraiser).to_string();
        // The district may draft the plan before publication; the unit may not see it.
        let plan = w
            .app
            .post(
                "/api/v1/remediation-plans",
                &appraiser,
                &json!({"appraisal_id": appraisal}),
            )
            .await;
        plan.assert_status(201);
        w.ids
            .insert("plan".into(), plan.json["id"].as_i64().unwrap());
        w.ids
            .insert("item".into(), plan.json["items"][0]["id"].as_i64().unwrap());
        let staff = w
            .app
            .post(
                &format!("/api/v1/units/{}/staff", w.id("commune_a")),
                w.admin(),
                &json!({"full_name": "Nguyễn Thị Liên", "title": "Văn phòng - Thống kê"}),
            )
            .await;
        w.ids
            .insert("staff_a".into(), staff.json["id"].as_i64().unwrap());
        let evidence = crate::evidence::upload_as(
            &w,
            w.token(Persona::OfficerA),
            w.id("commune_a"),
            "Báo cáo.pdf",
            &crate::evidence::pdf(500),
        )
        .await;
        evidence.assert_status(201);
        w.ids
            .insert("evidence_a".into(), evidence.json["id"].as_i64().unwrap());
        // Another district's published results, and a merge of two communes.
        let other = w.published_framework(w.id("other_district")).await;
        w.quick_file(other, w.id("commune_c"), "90.00", "0").await;
        let published = w
            .app
            .post(
                "/api/v1/publications",
                w.admin(),
                &json!({"parent_unit_id": w.id("other_district"), "year": 2023}),
            )
            .await;
        published.assert_status(201);
        w.ids.insert(
            "other_publication".into(),
            published.json["id"].as_i64().unwrap(),
        );
        let x = w
            .unit("M-X", "Xã X", "commune", Some(w.id("district")))
            .await;
        let y = w
            .unit("M-Y", "Xã Y", "commune", Some(w.id("district")))
            .await;
        let merge = w
            .app
            .post(
                "/api/v1/unit-merges",
                w.admin(),
                &json!({"from_unit_ids": [x, y], "into_unit_id": x,
                        "effective_on": "2025-07-01", "decision": "1687/NQ-UBTVQH15"}),
            )
            .await;
        merge.assert_status(201);
        w.ids
            .insert("merge".into(), merge.json["id"].as_i64().unwrap());
        let hook = w
            .app
            .post(
                "/api/v1/webhooks",
                &appraiser,
                &json!({"url": "https://203.113.131.1/hook", "events": ["appraisal.finalized"],
                        "unit_id": w.id("commune_a")}),
            )
            .await;
        hook.assert_status(201);
        w.ids
            .insert("webhook_a".into(), hook.json["id"].as_i64().unwrap());
        // No appeal exists: the walk asks for one that does not.
        w.ids.insert("appeal_none".into(), 999_999);

        let markers = unpublished_markers();
        let urls = every_get(&w);
        assert!(urls.len() > 30, "{urls:?}");
        for persona in [Persona::OfficerA, Persona::Viewer] {
            for url in &urls {
                let resp = w.app.get(url, w.token(persona)).await;
                let text = body_text(&resp);
                for marker in &markers {
                    assert!(
                        !shows(&text, marker),
                        "{persona:?} GET {url} shows {marker:?}: {}",
                        resp.status
                    );
                }
                assert!(
                    resp.status.as_u16() < 500,
                    "{persona:?} GET {url}: {}",
                    resp.text
                );
            }
        }
        // The district sees them, and the unit does once they are published: the markers
        // are what those routes show.
        let index = format!("/api/v1/units/{}/index?year=2023", w.id("commune_a"));
        assert_eq!(w.app.get(&index, &appraiser).await.json["index"], "88.25");
        w.app
            .post(
                "/api/v1/publications",
                &appraiser,
                &json!({"parent_unit_id": w.id("district"), "year": 2023}),
            )
            .await
            .assert_status(201);
        let officer = w.token(Persona::OfficerA);
        assert_eq!(w.app.get(&index, officer).await.json["index"], "88.25");
        let seen = w
            .app
            .get(&format!("/api/v1/appraisals/{appraisal}"), officer)
            .await;
        assert!(markers.iter().any(|m| shows(&seen.text, m)));
        let trail = w
            .app
            .get(
                "/api/v1/audit-events?entity=appraisal&action=finalize",
                officer,
            )
            .await;
        assert_eq!(trail.json["total"], 1, "{}", trail.text);
    })
    .await;
}

#[tokio::test]
async fn the_login_throttle_holds_against_a_parallel_burst() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        // 59 wrong passwords and then the right one, all at once.
        let attempts = (0..60).map(|i| {
            let password = if i == 59 { crate::fixtures::PASSWORD } else { "wrong-password-123" };
            let request = w
                .app
                .client
                .post(w.app.url("/api/v1/auth/login"))
                .json(&json!({"username": "officer.a", "password": password}))
                .send();
            async move { Resp::read(request.await).await }
        });
        let results = futures_util::future::join_all(attempts).await;
        let checked = results.iter().filter(|r| r.status.as_u16() != 429).count();
        assert!(checked <= 5, "{checked} attempts reached the password check");
        assert!(results.iter().all(|r| matches!(r.status.as_u16(), 200 | 401 | 429)));
        // The password change is throttled the same way.
        let (_, token) = w.account("pw.guesser", "viewer", Some(w.id("district"))).await;
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let resp = w
                .app
                .post("/api/v1/auth/password", &token, &json!({"current_password": "guess-password-1", "new_password": "a-brand-new-password"}))
                .await;
            statuses.push(resp.status.as_u16());
        }
        assert_eq!(statuses, [422, 422, 422, 422, 422, 429, 429], "{statuses:?}");
    })
    .await;
}

#[tokio::test]
async fn csv_exports_neutralise_formulas_but_keep_negative_numbers() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let mut f = fixture_framework_json(&w.id("district").to_string());
        f["criteria"][0]["title"] = json!("=HYPERLINK(\"http://evil.example\",\"Bấm\")");
        let created = w.app.post("/api/v1/frameworks", w.admin(), &f).await;
        created.assert_status(201);
        let framework = created.json["id"].as_i64().unwrap();
        w.app.post(&format!("/api/v1/frameworks/{framework}/publish"), w.admin(), &json!({})).await.assert_status(200);
        let (_, appraisal) = w.seed_appraisal(framework).await;
        // A council comment and an officer name that would run as formulas.
        w.app.post(&format!("/api/v1/appraisals/{appraisal}/reopen"), w.admin(), &json!({"reason": "sửa ý kiến"})).await.assert_status(200);
        w.app
            .put(&format!("/api/v1/appraisals/{appraisal}/entries"), w.admin(), &json!({"entries": [{"criterion_code": "3.3", "comment": "@SUM(1+1)*cmd|' /C calc'!A0"}]}))
            .await
            .assert_status(200);
        w.app.post(&format!("/api/v1/appraisals/{appraisal}/finalize"), w.admin(), &json!({})).await.assert_status(200);
        w.app.post("/api/v1/publications", w.admin(), &json!({"parent_unit_id": w.id("district"), "year": 2023})).await.assert_status(201);
        let officer = w.token(Persona::OfficerA);
        let staff = w.app.post(&format!("/api/v1/units/{}/staff", w.id("commune_a")), officer, &json!({"full_name": "+Lê Văn Đệ", "title": "-Địa chính"})).await;
        staff.assert_status(201);
        let plan = w.app.post("/api/v1/remediation-plans", officer, &json!({"appraisal_id": appraisal})).await;
        plan.assert_status(201);
        let item = plan.json["items"][0]["id"].as_i64().unwrap();
        w.app
            .patch(&format!("/api/v1/remediation-items/{item}"), officer, &json!({"responsible_staff_id": staff.json["id"], "action": "\tTab =1+1"}))
            .await
            .assert_status(200);

        let csvs = [
            format!("/api/v1/units/{}/appendix?year=2023&format=csv", w.id("commune_a")),
            format!("/api/v1/rankings/export?parent_unit_id={}&year=2023&format=csv", w.id("district")),
            format!("/api/v1/remediation-plans/{}/report?format=csv", plan.json["id"]),
            format!("/api/v1/frameworks/{framework}/export?format=csv"),
        ];
        for url in &csvs {
            let resp = w.app.get(url, w.admin()).await;
            resp.assert_status(200);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&resp.bytes[3..]);
            let mut negative_numbers = 0;
            for record in reader.records() {
                for cell in record.unwrap().iter() {
                    let numeric = cell.parse::<rust_decimal::Decimal>().is_ok();
                    if numeric && cell.starts_with('-') {
                        negative_numbers += 1;
                        continue;
                    }
                    assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{url}: a formula cell {cell:?}");
                }
            }
            if url.contains("appendix") {
                assert!(negative_numbers > 0, "the appendix keeps its negative deductions");
                let text = String::from_utf8_lossy(&resp.bytes);
                assert!(text.contains("'@SUM(1+1)"), "{text}");
                assert!(text.contains("'+Lê Văn Đệ") || text.contains("+Lê Văn Đệ"), "{text}");
            }
        }
        // Our own CSV reads back as it was written.
        let exported = w.app.get(&format!("/api/v1/frameworks/{framework}/export?format=csv"), w.admin()).await;
        let imported = upload(
            &w.app,
            &format!("/api/v1/frameworks/import?year=2031&name=Again&owner_unit_id={}", w.id("district")),
            w.admin(),
            "text/csv",
            exported.bytes.clone(),
        )
        .await;
        imported.assert_status(201);
        assert_eq!(imported.json["criteria"][0]["title"], f["criteria"][0]["title"]);
    })
    .await;
}

#[tokio::test]
async fn errors_say_only_what_the_caller_may_see_in_plain_words() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let officer = w.token(Persona::OfficerA);
        // A type error in a query, a path, a body: no Rust type names.
        let cases = [
            w.app
                .get("/api/v1/self-assessments?unit_id=abc", officer)
                .await,
            w.app.get("/api/v1/units/abc", officer).await,
            w.app
                .get("/api/v1/rankings?year=x&parent_unit_id=1", officer)
                .await,
            w.app
                .put(
                    "/api/v1/self-assessments/1/entries",
                    officer,
                    &json!({"entries": [{"criterion_code": "1.1", "count": "x"}]}),
                )
                .await,
            w.app
                .put(
                    "/api/v1/self-assessments/1/entries",
                    officer,
                    &json!({"entries": [{"criterion_code": "1.1", "count": -1}]}),
                )
                .await,
            w.app
                .put(
                    "/api/v1/self-assessments/1/entries",
                    officer,
                    &json!({"entries": {}}),
                )
                .await,
        ];
        for resp in &cases {
            assert!(resp.status.is_client_error(), "{}", resp.text);
            for internal in [
                "i64",
                "u32",
                "u64",
                "i32",
                "struct ",
                "can not parse",
                "Action",
                "ReadResults",
            ] {
                assert!(
                    !resp.text.contains(internal),
                    "{internal:?} in {}",
                    resp.text
                );
            }
        }
        assert!(
            cases[0].json["detail"]
                .as_str()
                .unwrap()
                .contains("unit_id"),
            "{}",
            cases[0].text
        );
        // A refusal names the action in words, not the policy's internals.
        let refused = w
            .app
            .get(
                &format!("/api/v1/units/{}/index?year=2023", w.id("commune_b")),
                officer,
            )
            .await;
        refused.assert_problem(403, Some("forbidden"));
        assert!(!refused.text.contains("published:"), "{}", refused.text);
        // Another unit's account cannot be linked, and the error does not say whose it is.
        let linked = w
            .app
            .post(
                &format!("/api/v1/units/{}/staff", w.id("commune_a")),
                officer,
                &json!({"full_name": "X", "title": "Y", "user_id": w.id("user_officer_b")}),
            )
            .await;
        linked.assert_problem(422, None);
        assert!(!linked.text.contains("officer.b"), "{}", linked.text);
    })
    .await;
}

#[tokio::test]
async fn a_body_trickled_in_is_cut_off() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("PARINDEX_BODY_TIMEOUT_MS", "500")]).await;
        let token = app.admin_token().await;
        let bearer = token.clone();
        let addr = app.address.trim_start_matches("http://").to_string();
        let started = Instant::now();
        let reply = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let body = br#"{"code": "SLOW", "name": "Slow", "kind": "province"}"#;
            let head = format!(
                "POST /api/v1/units HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            // One byte every 100 ms: the whole body would take 5 s.
            for b in body.iter() {
                if stream.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
                if started.elapsed() > Duration::from_secs(3) {
                    break;
                }
            }
            let mut buf = Vec::new();
            let _ = stream.read_to_end(&mut buf);
            buf
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&reply);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("body_timeout"), "{text}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
        let units = app.get("/api/v1/units?q=slow", &token).await;
        assert_eq!(units.json["total"], 0, "nothing was stored");
    }
}

#[tokio::test]
async fn searches_take_wildcards_literally_and_names_refuse_bidi_overrides() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        for q in ["%", "_", "%25", "\\"] {
            let units = w.app.get(&format!("/api/v1/units?q={q}"), w.admin()).await;
            units.assert_status(200);
            assert_eq!(units.json["total"], 0, "q={q}: {}", units.text);
            let users = w.app.get(&format!("/api/v1/users?q={q}"), w.admin()).await;
            assert_eq!(users.json["total"], 0, "q={q}: {}", users.text);
        }
        let found = w.app.get("/api/v1/units?q=vinh", w.admin()).await;
        assert!(found.json["total"].as_i64().unwrap() > 0, "{}", found.text);
        let resp = w
            .app
            .post("/api/v1/units", w.admin(), &json!({"code": "BIDI", "name": "Xã \u{202E}gnoL hniV", "kind": "commune", "parent_id": w.id("district")}))
            .await;
        resp.assert_problem(422, Some("validation_failed"));
        assert_eq!(resp.json["errors"][0]["field"], "name");
        assert_eq!(resp.json["errors"][0]["code"], "invalid_characters");
    })
    .await;
}

#[tokio::test]
async fn swagger_ui_and_the_chart_carry_a_content_security_policy() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let ui = Resp::read(w.app.client.get(w.app.url("/swagger-ui/")).send().await).await;
        let csp = ui
            .header("content-security-policy")
            .unwrap_or_default()
            .to_string();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        let framework = w.published_framework(w.id("district")).await;
        w.quick_file(framework, w.id("commune_a"), "90.00", "0")
            .await;
        let chart = w
            .app
            .get(
                &format!(
                    "/api/v1/rankings/chart?parent_unit_id={}&year=2023",
                    w.id("district")
                ),
                w.admin(),
            )
            .await;
        chart.assert_status(200);
        let csp = chart.header("content-security-policy").unwrap_or_default();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
    })
    .await;
}

/// The year's workbooks and the survey import go through the same bounded reader: a
/// far-corner workbook and a zip bomb are refused with the limit they broke, before any
/// row is looked at, and nothing is stored.
#[tokio::test]
async fn hostile_workbooks_are_refused_on_entries_and_survey_imports() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        let officer = w.token(Persona::OfficerA);
        let before = w
            .app
            .get(&format!("/api/v1/self-assessments/{sa}"), officer)
            .await;
        let targets = [
            (
                Method::PUT,
                format!("/api/v1/self-assessments/{sa}/entries"),
                officer,
            ),
            (
                Method::POST,
                format!("/api/v1/frameworks/{framework}/survey-results"),
                w.token(Persona::Appraiser),
            ),
        ];
        for (method, path, token) in &targets {
            for (name, body) in [
                // Declaring its size honestly (huge), the bomb is refused by counting.
                ("far corner", far_corner_xlsx()),
                ("bomb", zip_bomb(64, u32::MAX)),
            ] {
                let r = Resp::read(
                    w.app
                        .request(method.clone(), path, Some(token))
                        .header("content-type", XLSX)
                        .body(body)
                        .send()
                        .await,
                )
                .await;
                assert!(
                    matches!(r.status.as_u16(), 413 | 422)
                        && r.json["code"] == "upload_over_budget",
                    "{name} on {path}: {} {}",
                    r.status,
                    r.text
                );
            }
        }
        let after = w
            .app
            .get(&format!("/api/v1/self-assessments/{sa}"), officer)
            .await;
        assert_eq!(
            after.header("etag"),
            before.header("etag"),
            "nothing stored"
        );
    })
    .await;
}
