//! Evidence files: upload, byte-identical download, Range, scoping, limits, kinds decided
//! by content, immutability once submitted, the framework's evidence policy, the zip.
//! On both databases, and on the S3 store when CI runs the suite with
//! `TEST_EVIDENCE_STORE=s3`.

use crate::fixtures::{Persona::*, World, fixture_framework_json, seed_self_entries, world};
use crate::helpers::{Resp, on_each_backend};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Read;

/// A small but real PDF (text "Bao cao"), padded to `len` bytes with a comment.
pub fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    while b.len() < len {
        b.push(b'%');
    }
    b.truncate(len);
    b
}

/// A multipart body with the given parts in order: (name, filename, bytes).
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----parindex-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            // Raw UTF-8 in `filename`, as browsers and curl send it.
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload_as(w: &World, token: &str, unit: i64, filename: &str, bytes: &[u8]) -> Resp {
    let unit = unit.to_string();
    let (ct, body) = multipart(&[
        ("unit_id", None, unit.as_bytes()),
        ("year", None, b"2024"),
        ("file", Some(filename), bytes),
    ]);
    Resp::read(
        w.app
            .request(Method::POST, "/api/v1/evidence-files", Some(token))
            .header("content-type", ct)
            .body(body)
            .send()
            .await,
    )
    .await
}

async fn raw_post(w: &World, token: &str, content_type: &str, body: Vec<u8>) -> Resp {
    Resp::read(
        w.app
            .request(Method::POST, "/api/v1/evidence-files", Some(token))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await,
    )
    .await
}

async fn get_with(w: &World, token: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut r = w.app.request(Method::GET, path, Some(token));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    Resp::read(r.send().await).await
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn listed(w: &World, token: &str, query: &str) -> Vec<i64> {
    let r = w
        .app
        .get(&format!("/api/v1/evidence-files?{query}"), token)
        .await;
    r.assert_status(200);
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn files_upload_and_download_byte_identical_with_ranges() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let a = w.id("commune_a");
        let bytes = pdf(3000);
        let name = "Quyết định số 19 – Kế hoạch CCHC 2024.pdf";
        let up = upload_as(&w, w.token(OfficerA), a, name, &bytes).await;
        up.assert_status(201);
        let f = up.json.clone();
        let id = f["id"].as_i64().unwrap();
        assert_eq!(f["unit_id"], json!(a));
        assert_eq!(f["year"], json!(2024));
        assert_eq!(f["filename"], json!(name));
        assert_eq!(f["content_type"], json!("application/pdf"));
        assert_eq!(f["size"], json!(3000));
        assert_eq!(f["sha256"], json!(sha256(&bytes)));
        assert_eq!(f["created_by"], json!(w.id("user_officer_a")));
        assert!(f["created_at"].is_string());
        assert_eq!(
            up.header("location"),
            Some(format!("/api/v1/evidence-files/{id}").as_str())
        );

        let meta = w.app.get(&format!("/api/v1/evidence-files/{id}"), w.token(Viewer)).await;
        meta.assert_status(200);
        assert_eq!(meta.json, f);

        let path = format!("/api/v1/evidence-files/{id}/content");
        for who in [OfficerA, Appraiser, Viewer, Admin] {
            let got = get_with(&w, w.token(who), &path, &[]).await;
            got.assert_status(200);
            assert_eq!(got.bytes, bytes, "{who:?} reads the same bytes");
        }
        let got = get_with(&w, w.token(OfficerA), &path, &[]).await;
        let etag = format!("\"{}\"", sha256(&bytes));
        assert_eq!(got.header("content-type"), Some("application/pdf"));
        assert_eq!(got.header("etag"), Some(etag.as_str()));
        assert_eq!(got.header("accept-ranges"), Some("bytes"));
        assert_eq!(got.header("content-length"), Some("3000"));
        let cd = got.header("content-disposition").unwrap().to_string();
        assert!(cd.starts_with("attachment; filename=\""), "{cd}");
        assert!(
            cd.contains("filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20s%E1%BB%91%2019%20%E2%80%93%20K%E1%BA%BF%20ho%E1%BA%A1ch%20CCHC%202024.pdf"),
            "{cd}"
        );

        let part = get_with(&w, w.token(OfficerA), &path, &[("range", "bytes=100-199")]).await;
        part.assert_status(206);
        assert_eq!(part.bytes, bytes[100..200]);
        assert_eq!(part.header("content-range"), Some("bytes 100-199/3000"));
        let tail = get_with(&w, w.token(OfficerA), &path, &[("range", "bytes=-10")]).await;
        tail.assert_status(206);
        assert_eq!(tail.bytes, bytes[2990..]);
        let open = get_with(&w, w.token(OfficerA), &path, &[("range", "bytes=2995-")]).await;
        assert_eq!(open.bytes, bytes[2995..]);
        let past = get_with(&w, w.token(OfficerA), &path, &[("range", "bytes=3000-")]).await;
        past.assert_problem(416, Some("range_not_satisfiable"));
        assert_eq!(past.header("content-range"), Some("bytes */3000"));
        let stale = get_with(
            &w,
            w.token(OfficerA),
            &path,
            &[("range", "bytes=0-9"), ("if-range", "\"not-this-one\"")],
        )
        .await;
        stale.assert_status(200);
        assert_eq!(stale.bytes, bytes);
        let cached = get_with(&w, w.token(OfficerA), &path, &[("if-none-match", &etag)]).await;
        cached.assert_status(304);

        // The same content again: a file of its own, the same bytes.
        let again = upload_as(&w, w.token(OfficerA), a, "copy.pdf", &bytes).await;
        again.assert_status(201);
        assert_ne!(again.json["id"], f["id"]);
        assert_eq!(again.json["sha256"], f["sha256"]);
        let ids = listed(&w, w.token(OfficerA), &format!("unit_id={a}&year=2024")).await;
        assert_eq!(ids, vec![id, again.json["id"].as_i64().unwrap()]);
        assert!(listed(&w, w.token(OfficerA), "year=2023").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn another_units_file_does_not_exist_for_it() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let a = w.id("commune_a");
        let up = upload_as(&w, w.token(OfficerA), a, "a.pdf", &pdf(500)).await;
        up.assert_status(201);
        let id = up.json["id"].as_i64().unwrap();
        for who in [OfficerB, OtherAppraiser] {
            for suffix in ["", "/content"] {
                let path = |id: i64| format!("/api/v1/evidence-files/{id}{suffix}");
                let r = w.app.get(&path(id), w.token(who)).await;
                r.assert_problem(404, Some("not_found"));
                // Exactly like a file that does not exist.
                let none = w.app.get(&path(999_999), w.token(who)).await;
                assert_eq!(
                    r.json["detail"]
                        .as_str()
                        .map(|d| d.replace(&id.to_string(), "N")),
                    none.json["detail"]
                        .as_str()
                        .map(|d| d.replace("999999", "N"))
                );
            }
            w.app
                .delete(&format!("/api/v1/evidence-files/{id}"), w.token(who))
                .await
                .assert_problem(404, Some("not_found"));
            assert!(
                listed(&w, w.token(who), "").await.is_empty(),
                "{who:?} lists none"
            );
        }
        // Readers above it may not delete or upload.
        for who in [Appraiser, Viewer] {
            w.app
                .delete(&format!("/api/v1/evidence-files/{id}"), w.token(who))
                .await
                .assert_problem(403, Some("forbidden"));
        }
        // Uploading to another unit is refused before the file is read.
        for who in [OfficerB, Appraiser, Viewer] {
            upload_as(&w, w.token(who), a, "x.pdf", &pdf(500))
                .await
                .assert_problem(403, Some("forbidden"));
        }
        assert_eq!(listed(&w, w.admin(), "").await, vec![id]);

        // Swagger UI and generated clients send `file` before `unit_id` (alphabetical order):
        // accepted for the caller's own unit; a role that uploads nowhere is refused before
        // the file is read, another unit's officer once the id arrives, and nothing is kept.
        let file_first = |unit: i64| {
            let unit = unit.to_string();
            let (ct, body) = multipart(&[
                ("file", Some("Tệp trước.pdf"), &pdf(700)),
                ("unit_id", None, unit.as_bytes()),
            ]);
            (ct, body)
        };
        let (ct, body) = file_first(a);
        let first = raw_post(&w, w.token(OfficerA), &ct, body).await;
        first.assert_status(201);
        assert_eq!(first.json["filename"], "Tệp trước.pdf");
        for who in [OfficerB, Appraiser, Viewer] {
            let (ct, body) = file_first(a);
            raw_post(&w, w.token(who), &ct, body)
                .await
                .assert_problem(403, Some("forbidden"));
        }
        assert!(spool_is_empty(&w), "refused uploads leave no spooled bytes");
        assert_eq!(
            listed(&w, w.admin(), "").await.len(),
            2,
            "only the two accepted uploads"
        );
    })
    .await;
}

/// The spool directory holds nothing once a refused upload is answered.
fn spool_is_empty(w: &World) -> bool {
    std::fs::read_dir(w.app.evidence_dir.join("tmp"))
        .map(|d| d.count() == 0)
        .unwrap_or(true)
}

#[tokio::test]
async fn oversized_disguised_and_malformed_uploads_store_nothing() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let a = w.id("commune_a");
        let officer = w.token(OfficerA).to_string();
        let too_big = upload_as(&w, &officer, a, "big.pdf", &pdf(20 * 1024 * 1024 + 1)).await;
        too_big.assert_problem(413, Some("payload_too_large"));
        // An executable named .pdf, sent as application/pdf.
        let exe = [b"MZ\x90\x00\x03\x00\x00\x00".as_slice(), &[0u8; 600]].concat();
        upload_as(&w, &officer, a, "quyet-dinh.pdf", &exe)
            .await
            .assert_problem(415, Some("unsupported_media_type"));
        upload_as(
            &w,
            &officer,
            a,
            "page.pdf",
            b"<html><script>alert(1)</script></html>",
        )
        .await
        .assert_problem(415, Some("unsupported_media_type"));
        let unit = a.to_string();
        // A file with no unit: refused, its spooled bytes removed.
        let (ct, body) = multipart(&[("file", Some("a.pdf"), &pdf(100))]);
        let r = raw_post(&w, &officer, &ct, body).await;
        r.assert_problem(422, Some("validation_failed"));
        assert_eq!(r.json["errors"][0]["field"], json!("unit_id"));
        let (ct, body) = multipart(&[("unit_id", None, unit.as_bytes())]);
        let r = raw_post(&w, &officer, &ct, body).await;
        r.assert_problem(422, Some("validation_failed"));
        assert_eq!(r.json["errors"][0]["field"], json!("file"));
        let (ct, body) = multipart(&[
            ("unit_id", None, b"abc"),
            ("file", Some("a.pdf"), &pdf(100)),
        ]);
        raw_post(&w, &officer, &ct, body)
            .await
            .assert_problem(422, Some("validation_failed"));
        let (ct, body) = multipart(&[
            ("unit_id", None, unit.as_bytes()),
            ("year", None, b"1999"),
            ("file", Some("a.pdf"), &pdf(100)),
        ]);
        raw_post(&w, &officer, &ct, body)
            .await
            .assert_problem(422, Some("validation_failed"));
        let (ct, body) = multipart(&[
            ("unit_id", None, unit.as_bytes()),
            ("surprise", None, b"x"),
            ("file", Some("a.pdf"), &pdf(100)),
        ]);
        raw_post(&w, &officer, &ct, body)
            .await
            .assert_problem(422, Some("validation_failed"));
        let (ct, body) = multipart(&[
            ("unit_id", None, unit.as_bytes()),
            ("file", Some("a.pdf"), &pdf(100)),
            ("file", Some("b.pdf"), &pdf(100)),
        ]);
        raw_post(&w, &officer, &ct, body)
            .await
            .assert_problem(422, Some("validation_failed"));
        let (ct, body) = multipart(&[
            ("unit_id", None, unit.as_bytes()),
            ("file", Some(""), &pdf(100)),
        ]);
        raw_post(&w, &officer, &ct, body)
            .await
            .assert_problem(422, Some("validation_failed"));
        raw_post(&w, &officer, "application/json", b"{}".to_vec())
            .await
            .assert_problem(415, Some("unsupported_media_type"));
        assert!(listed(&w, w.admin(), "").await.is_empty(), "nothing stored");
        assert!(spool_is_empty(&w), "no spooled leftovers");
        // A path in the name keeps its last part; bidi overrides become `_`.
        let up = upload_as(
            &w,
            &officer,
            a,
            "tai-lieu/2024/Báo cáo\u{202E}fdp.exe",
            &pdf(100),
        )
        .await;
        up.assert_status(201);
        // The control character replaced, and the extension the content's (a PDF).
        assert_eq!(up.json["filename"], json!("Báo cáo_fdp.exe.pdf"));
    })
    .await;
}

#[tokio::test]
async fn a_smaller_configured_limit_is_a_413() {
    for backend in crate::helpers::backends() {
        let app = crate::helpers::TestApp::spawn_with(
            backend,
            &[
                ("PARINDEX_EVIDENCE_MAX_BYTES", "4096"),
                ("PARINDEX_BODY_TIMEOUT_MS", "2000"),
            ],
        )
        .await;
        let w = world(app).await;
        let a = w.id("commune_a");
        upload_as(&w, w.token(OfficerA), a, "ok.pdf", &pdf(4096))
            .await
            .assert_status(201);
        let r = upload_as(&w, w.token(OfficerA), a, "big.pdf", &pdf(4097)).await;
        r.assert_problem(413, Some("payload_too_large"));
        assert!(
            r.json["detail"].as_str().unwrap().contains("4096"),
            "{}",
            r.text
        );
        let officer = w.token(OfficerA).to_string();
        // A broken multipart body (no closing boundary, garbage).
        let r = raw_post(
            &w,
            &officer,
            "multipart/form-data; boundary=xyz",
            b"--xyz\r\nContent-Disposition: form-data; name=\"unit_id\"\r\n\r\n1\r\n--xy".to_vec(),
        )
        .await;
        assert!(r.status.is_client_error(), "{}", r.text);
        assert_eq!(listed(&w, w.admin(), "").await.len(), 1);
    }
}

/// The fixture framework with an evidence policy, published; returns its id.
async fn framework_with_policy(w: &World, policy: &str) -> i64 {
    let mut body = fixture_framework_json(&w.id("district").to_string());
    body["evidence_policy"] = json!(policy);
    let r = w.app.post("/api/v1/frameworks", w.admin(), &body).await;
    r.assert_status(201);
    assert_eq!(r.json["evidence_policy"], json!(policy));
    let id = r.json["id"].as_i64().unwrap();
    w.app
        .post(
            &format!("/api/v1/frameworks/{id}/publish"),
            w.admin(),
            &json!({}),
        )
        .await
        .assert_status(200);
    id
}

fn codes_in(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_evidence_policy_immutability_and_the_zip() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let a = w.id("commune_a");
        let officer = w.token(OfficerA).to_string();
        let fw = framework_with_policy(&w, "evidence").await;
        let sa = w.open_assessment(OfficerA, a, fw).await;
        let entries = seed_self_entries();
        let put = |body: Value| {
            let w = &w;
            let officer = officer.clone();
            async move {
                w.app
                    .put(&format!("/api/v1/self-assessments/{sa}/entries"), &officer, &body)
                    .await
            }
        };
        put(json!({"entries": entries})).await.assert_status(200);
        let submit = w
            .app
            .post(&format!("/api/v1/self-assessments/{sa}/submit"), &officer, &json!({}))
            .await;
        submit.assert_problem(422, Some("evidence_required"));
        let leaves: Vec<String> = entries
            .iter()
            .filter(|e| e.get("not_applicable").is_none())
            .map(|e| e["criterion_code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(codes_in(&submit.json).len(), leaves.len(), "{}", submit.text);
        assert!(codes_in(&submit.json).contains(&"entries[1.1].evidence".to_string()));

        // Another unit's file reads as no file at all.
        let theirs = upload_as(&w, w.token(OfficerB), w.id("commune_b"), "b.pdf", &pdf(300)).await;
        theirs.assert_status(201);
        let mut first = entries[0].clone();
        first["evidence"] = json!([{"title": "Kế hoạch", "file_id": theirs.json["id"]}]);
        let r = put(json!({"entries": [first]})).await;
        r.assert_problem(422, Some("validation_failed"));
        assert_eq!(r.json["errors"][0]["field"], json!("entries[0].evidence[0].file_id"));
        assert_eq!(r.json["errors"][0]["code"], json!("unknown_file"));

        // Two files of its own; every leaf names the first, 1.1 both.
        let plan = pdf(2000);
        let report = pdf(2500);
        let f1 = upload_as(&w, &officer, a, "Kế hoạch CCHC.pdf", &plan).await.json["id"].as_i64().unwrap();
        let f2 = upload_as(&w, &officer, a, "Báo cáo.pdf", &report).await.json["id"].as_i64().unwrap();
        let spare = upload_as(&w, &officer, a, "Nháp.pdf", &pdf(700)).await.json["id"].as_i64().unwrap();
        let with_files: Vec<Value> = entries
            .iter()
            .map(|e| {
                let mut e = e.clone();
                let code = e["criterion_code"].as_str().unwrap().to_string();
                e["evidence"] = if code == "1.1" {
                    json!([{"title": "Kế hoạch", "file_id": f1}, {"title": "Báo cáo", "number": "19/BC-UBND", "file_id": f2}])
                } else {
                    json!([{"title": "Kế hoạch", "file_id": f1}])
                };
                e
            })
            .collect();
        put(json!({"entries": with_files})).await.assert_status(200);
        // While a draft names it, it cannot be deleted either.
        let r = w.app.delete(&format!("/api/v1/evidence-files/{f2}"), &officer).await;
        r.assert_problem(409, Some("evidence_file_in_use"));
        assert!(r.json["detail"].as_str().unwrap().contains("1.1"), "{}", r.text);
        w.app
            .post(&format!("/api/v1/self-assessments/{sa}/submit"), &officer, &json!({}))
            .await
            .assert_status(200);
        let r = w.app.delete(&format!("/api/v1/evidence-files/{f2}"), &officer).await;
        r.assert_problem(409, Some("evidence_file_frozen"));
        // An unnamed one goes.
        w.app
            .delete(&format!("/api/v1/evidence-files/{spare}"), &officer)
            .await
            .assert_status(204);
        w.app
            .get(&format!("/api/v1/evidence-files/{spare}"), &officer)
            .await
            .assert_problem(404, Some("not_found"));

        // The zip: a folder per criterion, each file where it is named, byte-identical.
        let zip = w
            .app
            .get(&format!("/api/v1/self-assessments/{sa}/evidence.zip"), w.token(Appraiser))
            .await;
        zip.assert_status(200);
        assert_eq!(zip.header("content-type"), Some("application/zip"));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes.clone())).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.expect("entry name").to_string())
            .collect();
        assert_eq!(names.len(), leaves.len() + 1, "{names:?}");
        assert!(names.contains(&"1.1/Kế hoạch CCHC.pdf".to_string()), "{names:?}");
        assert!(names.contains(&"1.1/Báo cáo.pdf".to_string()), "{names:?}");
        for name in &names {
            let mut content = Vec::new();
            archive.by_name(name).unwrap().read_to_end(&mut content).unwrap();
            let want = if name.ends_with("Báo cáo.pdf") { &report } else { &plan };
            assert_eq!(&content, want, "{name}");
        }
        w.app
            .get(&format!("/api/v1/self-assessments/{sa}/evidence.zip"), w.token(OfficerB))
            .await
            .assert_problem(403, Some("forbidden"));
    })
    .await;
}

#[tokio::test]
async fn evidence_or_explanation_accepts_either() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let a = w.id("commune_a");
        let officer = w.token(OfficerA).to_string();
        let fw = framework_with_policy(&w, "evidence_or_explanation").await;
        let sa = w.open_assessment(OfficerA, a, fw).await;
        let f = upload_as(&w, &officer, a, "a.pdf", &pdf(400)).await.json["id"]
            .as_i64()
            .unwrap();
        let entries: Vec<Value> = seed_self_entries()
            .into_iter()
            .enumerate()
            .map(|(i, mut e)| {
                match i % 3 {
                    0 => e["evidence"] = json!([{"title": "Tệp", "file_id": f}]),
                    1 => e["explanation"] = json!("Không phát sinh văn bản trong năm"),
                    // A link alone is not a file.
                    _ => {
                        e["evidence"] =
                            json!([{"title": "Liên kết", "url": "https://example.vn/a"}])
                    }
                }
                e
            })
            .collect();
        w.app
            .put(
                &format!("/api/v1/self-assessments/{sa}/entries"),
                &officer,
                &json!({"entries": entries}),
            )
            .await
            .assert_status(200);
        let r = w
            .app
            .post(
                &format!("/api/v1/self-assessments/{sa}/submit"),
                &officer,
                &json!({}),
            )
            .await;
        r.assert_problem(422, Some("evidence_required"));
        let expected: Vec<String> = entries
            .iter()
            .enumerate()
            .filter(|(i, e)| i % 3 == 2 && e.get("not_applicable").is_none())
            .map(|(_, e)| {
                format!(
                    "entries[{}].evidence",
                    e["criterion_code"].as_str().unwrap()
                )
            })
            .collect();
        let mut got = codes_in(&r.json);
        got.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(got, expected);
    })
    .await;
}

#[tokio::test]
async fn the_collector_removes_only_blobs_no_file_names() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let a = w.id("commune_a");
        let officer = w.token(OfficerA).to_string();
        let shared = pdf(1200);
        let alone = pdf(1300);
        let s1 = upload_as(&w, &officer, a, "one.pdf", &shared).await.json["id"]
            .as_i64()
            .unwrap();
        let s2 = upload_as(&w, &officer, a, "two.pdf", &shared).await.json["id"]
            .as_i64()
            .unwrap();
        let gone = upload_as(&w, &officer, a, "alone.pdf", &alone).await.json["id"]
            .as_i64()
            .unwrap();
        for id in [s1, gone] {
            w.app
                .delete(&format!("/api/v1/evidence-files/{id}"), &officer)
                .await
                .assert_status(204);
        }
        let gc = |grace: u64, dry_run: bool| {
            parindex_api::services::evidence::collect_garbage(
                &w.app.state,
                std::time::Duration::from_secs(grace),
                dry_run,
            )
        };
        // Within the grace period nothing goes.
        let r = gc(3600, false).await.unwrap();
        assert!(r.removed.is_empty());
        assert_eq!((r.kept_named, r.kept_recent), (1, 1));
        let r = gc(0, true).await.unwrap();
        assert_eq!(r.removed.len(), 1, "a dry run reports");
        let r = gc(0, false).await.unwrap();
        assert_eq!(
            r.removed
                .iter()
                .map(|b| b.sha256.clone())
                .collect::<Vec<_>>(),
            vec![sha256(&alone)]
        );
        assert_eq!(r.kept_named, 1);
        // The file that shares its content with a deleted one still downloads.
        let got = w
            .app
            .get(&format!("/api/v1/evidence-files/{s2}/content"), &officer)
            .await;
        got.assert_status(200);
        assert_eq!(got.bytes, shared);
        assert!(gc(0, false).await.unwrap().removed.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_large_file_streams_both_ways() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let a = w.id("commune_a");
        // Larger than one S3 part: the S3 store sends it as a multipart upload.
        let mut bytes = pdf(9 * 1024 * 1024 + 17);
        for (i, b) in bytes.iter_mut().enumerate().skip(200) {
            *b = (i % 251) as u8;
        }
        let up = upload_as(
            &w,
            w.token(OfficerA),
            a,
            "Ảnh hiện trạng bộ phận một cửa.pdf",
            &bytes,
        )
        .await;
        up.assert_status(201);
        assert_eq!(up.json["sha256"], json!(sha256(&bytes)));
        let id = up.json["id"].as_i64().unwrap();
        let path = format!("/api/v1/evidence-files/{id}/content");
        let got = get_with(&w, w.token(Appraiser), &path, &[]).await;
        got.assert_status(200);
        assert!(got.bytes == bytes, "byte-identical");
        let end = bytes.len();
        let part = get_with(
            &w,
            w.token(Appraiser),
            &path,
            &[("range", &format!("bytes={}-", end - 1000))],
        )
        .await;
        part.assert_status(206);
        assert!(part.bytes == bytes[end - 1000..]);
    })
    .await;
}

/// The PDFs `scripts/signatures/make_fixtures.py` signed with pyHanko (committed with the
/// service's unit tests).
fn signed(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../domain/testdata/signatures")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn evidence_pdfs_show_their_signatures() {
    let anchors = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../domain/testdata/signatures/ca.pem")
        .display()
        .to_string();
    for backend in crate::helpers::backends() {
        let app = crate::helpers::TestApp::spawn_with(
            backend,
            &[("PARINDEX_TRUST_ANCHORS", anchors.as_str())],
        )
        .await;
        let w = world(app).await;
        let a = w.id("commune_a");
        let officer = w.token(OfficerA);
        let mut verdict_of = std::collections::HashMap::new();
        for name in [
            "signed-rsa.pdf",
            "signed-ec.pdf",
            "signed-then-modified.pdf",
            "signed-untrusted.pdf",
            "signed-expired.pdf",
            "signed-tampered.pdf",
            "signed-revoked.pdf",
            "base.pdf",
        ] {
            let up = upload_as(&w, officer, a, name, &signed(name)).await;
            up.assert_status(201);
            let id = up.json["id"].as_i64().unwrap();
            // As stored: the file's own view says the same as the upload's answer.
            let meta = w
                .app
                .get(&format!("/api/v1/evidence-files/{id}"), w.token(Viewer))
                .await;
            meta.assert_status(200);
            assert_eq!(meta.json["signatures"], up.json["signatures"], "{name}");
            assert!(meta.json["signatures_checked_at"].is_string(), "{name}");
            let verdicts: Vec<String> = meta.json["signatures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["verdict"].as_str().unwrap().to_string())
                .collect();
            verdict_of.insert(name, (verdicts, meta.json.clone()));
        }
        let verdict = |name: &str| verdict_of[name].0.join(",");
        assert_eq!(verdict("signed-rsa.pdf"), "valid");
        assert_eq!(verdict("signed-ec.pdf"), "valid");
        assert_eq!(
            verdict("signed-then-modified.pdf"),
            "modified_after_signing"
        );
        assert_eq!(verdict("signed-untrusted.pdf"), "not_trusted");
        assert_eq!(verdict("signed-expired.pdf"), "certificate_expired");
        assert_eq!(verdict("signed-tampered.pdf"), "invalid");
        assert_eq!(verdict("signed-revoked.pdf"), "revoked");
        assert_eq!(
            verdict_of["signed-revoked.pdf"].1["signatures"][0]["revocation"],
            "revoked"
        );
        assert_eq!(verdict("base.pdf"), "");
        let rsa = &verdict_of["signed-rsa.pdf"].1;
        assert_eq!(
            rsa["signed_by"],
            "signed by Nguyễn Văn A (UBND xã Vĩnh Long): valid"
        );
        let signer = &rsa["signatures"][0]["signer"];
        assert_eq!(signer["serial"], "1a2b3c4d5e6f0001");
        assert_eq!(rsa["signatures"][0]["trust"], "trusted");
        assert_eq!(rsa["signatures"][0]["revocation"], "not_checked");
        let tampered = &verdict_of["signed-tampered.pdf"].1["signatures"][0];
        assert_eq!(tampered["digest_ok"], false);
        assert!(
            tampered["reason"]
                .as_str()
                .unwrap()
                .contains("changed after it was signed")
        );
        assert!(verdict_of["base.pdf"].1["signed_by"].is_null());
        // Lists show the one line.
        let list = w
            .app
            .get(&format!("/api/v1/evidence-files?unit_id={a}"), officer)
            .await;
        list.assert_status(200);
        let lines: Vec<&str> = list.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["signed_by"].as_str())
            .collect();
        assert!(
            lines.contains(&"signed by Nguyễn Văn A (UBND xã Vĩnh Long): modified after signing"),
            "{lines:?}"
        );

        // A hostile PDF: a hundred signed ranges where one is due. Refused, nothing stored.
        let before = listed(&w, officer, &format!("unit_id={a}")).await.len();
        let mut hostile = pdf(100);
        for _ in 0..100 {
            hostile.extend_from_slice(b"<< /ByteRange [0 1 2 3] /Contents <30> >>\n");
        }
        let refused = upload_as(&w, officer, a, "hostile.pdf", &hostile).await;
        refused.assert_problem(422, Some("unreadable_signatures"));
        assert!(refused.text.contains("more than 64"), "{}", refused.text);
        assert_eq!(
            listed(&w, officer, &format!("unit_id={a}")).await.len(),
            before
        );
    }
}

#[tokio::test]
async fn new_trust_anchors_change_the_verdicts_of_stored_files() {
    on_each_backend(|app| async move {
        // No anchors at first: a leader's valid signature is "not trusted".
        let w = world(app).await;
        let a = w.id("commune_a");
        let officer = w.token(OfficerA);
        let up = upload_as(&w, officer, a, "signed-rsa.pdf", &signed("signed-rsa.pdf")).await;
        up.assert_status(201);
        let id = up.json["id"].as_i64().unwrap();
        assert_eq!(up.json["signatures"][0]["verdict"], "not_trusted");
        assert_eq!(up.json["signatures"][0]["trust"], "no_anchors");
        let untouched = upload_as(&w, officer, a, "base.pdf", &signed("base.pdf")).await;
        untouched.assert_status(201);

        // The deployment adds the CA and runs `parindex evidence verify-signatures`.
        let mut state = w.app.state.clone();
        let mut config = (*state.config).clone();
        config.trust_anchors =
            parindex_api::signatures::TrustAnchors::from_pem(&signed("ca.pem")).unwrap();
        state.config = std::sync::Arc::new(config);
        let report = parindex_api::services::evidence::reverify_signatures(&state)
            .await
            .unwrap();
        assert_eq!(report.changed, vec![id], "{report:?}");
        assert!(report.failed.is_empty(), "{report:?}");
        assert!(report.checked >= 2);
        let after = w
            .app
            .get(&format!("/api/v1/evidence-files/{id}"), officer)
            .await;
        assert_eq!(after.json["signatures"][0]["verdict"], "valid");
        assert_eq!(after.json["signatures"][0]["trust"], "trusted");
    })
    .await;
}
