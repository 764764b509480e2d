//! The official papers: the remediation letter, the results notice, the self-assessment
//! report and the appendix, read back from their DOCX (paragraph text and table cells)
//! and compared with the API's own figures; PDF through the configured converter.

use crate::fixtures::{Persona, world};
use crate::helpers::{TestApp, backends, on_each_backend};
use serde_json::Value;

/// A DOCX read back: every paragraph's text, and every table's rows of cell texts.
pub struct Docx {
    pub xml: String,
    pub paragraphs: Vec<String>,
    pub tables: Vec<Vec<Vec<String>>>,
}

impl Docx {
    pub fn parse(bytes: &[u8]) -> Docx {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
            .expect("a DOCX is a zip archive");
        let mut xml = String::new();
        std::io::Read::read_to_string(
            &mut archive
                .by_name("word/document.xml")
                .expect("word/document.xml"),
            &mut xml,
        )
        .unwrap();
        let paragraphs = xml.split("</w:p>").map(texts).collect();
        let tables = xml
            .split("<w:tbl>")
            .skip(1)
            .map(|t| {
                let t = t.split("</w:tbl>").next().unwrap_or_default();
                t.split("</w:tr>")
                    .filter(|r| r.contains("<w:tc>"))
                    .map(|r| {
                        r.split("</w:tc>")
                            .filter(|c| c.contains("<w:t"))
                            .map(texts)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Docx {
            xml,
            paragraphs,
            tables,
        }
    }

    /// All text, one paragraph a line.
    pub fn text(&self) -> String {
        self.paragraphs.join("\n")
    }

    pub fn assert_contains(&self, expected: &[&str]) {
        let text = self.text();
        for e in expected {
            assert!(text.contains(e), "{e:?} is not in the paper:\n{text}");
        }
    }

    /// The annex: the document's last table.
    pub fn annex(&self) -> &Vec<Vec<String>> {
        self.tables.last().expect("a table")
    }
}

/// The text of the `<w:t>` runs in a piece of document XML, unescaped.
fn texts(xml: &str) -> String {
    let mut out = String::new();
    for part in xml.split("<w:t").skip(1) {
        // `<w:t>` or `<w:t xml:space="preserve">`, not `<w:tbl>`, `<w:tc>`, `<w:tr>`…
        if !(part.starts_with('>') || part.starts_with(' ')) {
            continue;
        }
        let Some((_, rest)) = part.split_once('>') else {
            continue;
        };
        let text = rest.split("</w:t>").next().unwrap_or_default();
        out.push_str(
            &text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
    }
    out
}

fn vi(v: &Value) -> String {
    v.as_str().expect("a decimal string").replace('.', ",")
}

async fn demo_app_paper(app: &TestApp, path: &str, token: &str) -> Docx {
    let r = app.get(path, token).await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    );
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.contains(".docx")),
        "{:?}",
        r.header("content-disposition")
    );
    Docx::parse(&r.bytes)
}

const FRAME: [&str; 6] = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "ỦY BAN NHÂN DÂN",
    "Nơi nhận:",
    "TM. ỦY BAN NHÂN DÂN",
    "CHỦ TỊCH",
];

/// The demo district's papers, each against the API's figures: the seed's letter with its
/// 19-row appendix and −12,75; the results notice with the 18 units as published; the
/// report signed off by the chairman.
#[tokio::test]
async fn the_demo_papers_print_the_apis_figures() {
    on_each_backend(|app| async move {
        parindex_api::demo::load(&app.state).await.expect("demo loads");
        let password = parindex_api::demo::DEMO_PASSWORD;
        let officer = app.login("vinhlong.vanphong", password).await;
        let appraiser = app.login("vinhlinh.thamdinh", password).await;
        let unit = app.get("/api/v1/auth/me", &officer).await.json["unit_id"]
            .as_i64()
            .unwrap();
        let index = app
            .get(&format!("/api/v1/units/{unit}/index?year=2023"), &officer)
            .await
            .json;

        // 1. The remediation letter, with the seed's number left blank as the seed has it.
        let plan = app
            .get(&format!("/api/v1/remediation-plans?unit_id={unit}"), &officer)
            .await
            .json["items"][0]["id"]
            .as_i64()
            .unwrap();
        let letter = demo_app_paper(
            &app,
            &format!("/api/v1/remediation-plans/{plan}/letter?number=%2FUBND-CCHC"),
            &officer,
        )
        .await;
        letter.assert_contains(&FRAME);
        letter.assert_contains(&[
            "XÃ VĨNH LONG",
            "Số: /UBND-CCHC",
            "V/v khắc phục những tồn tại, hạn chế trong công tác CCHC năm 2023",
            "Vĩnh Long, ngày      tháng      năm 2024",
            "Kính gửi:",
            "Căn cứ văn bản số 4006/TB-HĐTĐ ngày 29/12/2023 của UBND huyện Vĩnh Linh",
            &format!(
                "xếp thứ {}/{}",
                index["rank"].as_i64().unwrap(),
                index["ranked_units"].as_i64().unwrap()
            ),
            &format!("điểm tự đánh giá: {}", vi(&index["self_total"])),
            &format!("điểm thẩm định: {}", vi(&index["appraised_total"])),
            &format!("tổng điểm đạt được: {}", vi(&index["index"])),
            "tụt 3 bậc (năm 2022 chỉ số đạt 86,39, xếp thứ 8)",
            "bị trừ là 12,75 điểm ở 19 tiêu chí thành phần",
            "Nguyễn Thị Liên",
            "- Như kính gửi;",
            "- UBND huyện Vĩnh Linh (b/c);",
            "- Lưu: VT.",
            "Trần Quốc Lương",
            "(Kèm theo Công văn số /UBND-CCHC ngày     /    /2024 của UBND xã Vĩnh Long)",
        ]);
        // A4 portrait in Times New Roman, the annex on a landscape page.
        assert!(letter.xml.contains("Times New Roman"));
        assert!(letter.xml.contains(r#"w:w="11907" w:h="16839""#), "A4 portrait");
        assert!(letter.xml.contains("landscape"));
        // Every item of the plan is in the letter, with its action.
        let items = app
            .get(&format!("/api/v1/remediation-plans/{plan}"), &officer)
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .clone();
        let text = letter.text();
        for item in &items {
            if let Some(code) = item["criterion_code"].as_str() {
                assert!(text.contains(&format!("Tiêu chí {code} (")), "{code}");
            }
            if let Some(action) = item["action"].as_str() {
                let start: String = action.chars().take(40).collect();
                assert!(text.contains(&start), "{start}");
            }
        }
        // Its annex is the appendix: a header, the 19 rows, the total.
        let appendix = letter.annex();
        assert_eq!(appendix.len(), 1 + 19 + 1);
        assert_eq!(appendix[0][0], "TT");
        let deductions = index["deductions"].as_array().unwrap();
        for (row, d) in appendix[1..20].iter().zip(deductions) {
            assert_eq!(row[0], d["criterion_code"].as_str().unwrap());
            assert_eq!(row[5], format!("-{}", vi(&d["deduction"])));
        }
        assert_eq!(appendix[20][1], "Tổng cộng");
        assert_eq!(appendix[20][5], "-12,75");
        // Issued: its number, date, own recipients and a vice-chairman signing.
        let issued = demo_app_paper(
            &app,
            &format!(
                "/api/v1/remediation-plans/{plan}/letter?number=45%2FUBND-CCHC&date=2024-01-15\
                 &recipients=C%C3%A1n%20b%E1%BB%99%2C%20c%C3%B4ng%20ch%E1%BB%A9c%20x%C3%A3%3B%20UBMT%20x%C3%A3\
                 &signer=L%C3%AA%20V%C4%83n%20Ph%C3%B3&signer_position=vice_chairman"
            ),
            &officer,
        )
        .await;
        issued.assert_contains(&[
            "Số: 45/UBND-CCHC",
            "Vĩnh Long, ngày 15 tháng 01 năm 2024",
            "- Cán bộ, công chức xã;",
            "- UBMT xã.",
            "KT. CHỦ TỊCH",
            "PHÓ CHỦ TỊCH",
            "Lê Văn Phó",
            "(Kèm theo Công văn số 45/UBND-CCHC ngày 15/01/2024 của UBND xã Vĩnh Long)",
        ]);

        // 2. The results notice: the annex is the publication, row by row.
        let publication = app.get("/api/v1/publications?year=2023", &appraiser).await.json["items"][0]["id"]
            .as_i64()
            .unwrap();
        let detail = app
            .get(&format!("/api/v1/publications/{publication}"), &appraiser)
            .await
            .json;
        let notice = demo_app_paper(
            &app,
            &format!("/api/v1/publications/{publication}/decision"),
            &appraiser,
        )
        .await;
        notice.assert_contains(&FRAME);
        notice.assert_contains(&[
            "HUYỆN VĨNH LINH",
            "Số: 4006/TB-HĐTĐ",
            "Vĩnh Linh, ngày 29 tháng 12 năm 2023",
            "THÔNG BÁO",
            "Có 18 đơn vị được xếp hạng",
            "KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2023",
            "(Kèm theo Thông báo số 4006/TB-HĐTĐ ngày 29/12/2023 của UBND huyện Vĩnh Linh)",
            // Addressed to the kinds it ranks: the district's communes and towns.
            "UBND các xã, thị trấn thuộc",
        ]);
        let ranking = notice.annex();
        let listed = detail["items"].as_array().unwrap();
        assert_eq!(ranking.len(), 1 + 18 + 1, "header, 18 units, means");
        for (row, u) in ranking[1..19].iter().zip(listed) {
            assert_eq!(row[1], u["unit_name"].as_str().unwrap());
            assert_eq!(row[5], vi(&u["index"]), "{}", row[1]);
            assert_eq!(
                row[6],
                format!("{}/18", u["rank"].as_i64().unwrap()),
                "{}",
                row[1]
            );
            assert_eq!(row[7], u["rating_band"].as_str().unwrap_or_default());
        }
        assert!(ranking.iter().any(|r| r[1] == "Xã Vĩnh Long" && r[5] == "88,25" && r[6] == "11/18"));
        assert_eq!(ranking[19][1], "Bình quân");

        // 3. The self-assessment report, signed off by the chairman.
        let sa = app
            .get(&format!("/api/v1/self-assessments?unit_id={unit}&year=2023"), &officer)
            .await
            .json["items"][0]["id"]
            .as_i64()
            .unwrap();
        let report = demo_app_paper(
            &app,
            &format!("/api/v1/self-assessments/{sa}/report"),
            &officer,
        )
        .await;
        report.assert_contains(&FRAME);
        report.assert_contains(&[
            "BÁO CÁO",
            "Số:       /BC-UBND",
            "Kính gửi: Hội đồng thẩm định chỉ số cải cách hành chính huyện Vĩnh Linh.",
            "1. Tổng điểm tự đánh giá: 90,88/100 điểm.",
            "Đã phê duyệt trên hệ thống lúc",
            "Trần Quốc Lương",
            "45/KH-UBND: ",
        ]);
        assert!(!report.text().contains("DỰ THẢO"));
        // The fields' table sums to the file's total; the annex lists every criterion.
        let fields = &report.tables[1];
        assert_eq!(fields.last().unwrap()[1], "Tổng cộng");
        assert_eq!(fields.last().unwrap()[3], "90,88");
        let criteria = app
            .get("/api/v1/frameworks", &officer)
            .await
            .json;
        let framework = criteria["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["year"] == 2023)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let tree = app
            .get(&format!("/api/v1/frameworks/{framework}/criteria"), &officer)
            .await
            .json;
        let count = tree["criteria"].as_array().map_or(0, Vec::len);
        assert!(count > 19, "{tree}");
        assert_eq!(report.annex().len(), 1 + count + 1);

        // 4. PDF needs LibreOffice, which this server was not given.
        app.get(
            &format!("/api/v1/publications/{publication}/decision?format=pdf"),
            &appraiser,
        )
        .await
        .assert_problem(406, Some("pdf_unavailable"));
        let r = app
            .get(&format!("/api/v1/units/{unit}/appendix?year=2023&format=pdf"), &officer)
            .await;
        r.assert_problem(406, Some("pdf_unavailable"));
        assert!(r.text.contains("PARINDEX_SOFFICE"), "{}", r.text);
    })
    .await;
}

/// A file not yet signed off prints as a draft; bad issue parameters are 422 and
/// another unit's paper is refused as its file is (403).
#[tokio::test]
async fn a_draft_says_so_and_bad_parameters_are_refused() {
    on_each_backend(|app| async move {
        let w = world(app).await;
        let framework = w.published_framework(w.id("district")).await;
        let sa = w
            .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
            .await;
        let officer = w.token(Persona::OfficerA);
        let draft = demo_app_paper(
            &w.app,
            &format!("/api/v1/self-assessments/{sa}/report"),
            officer,
        )
        .await;
        draft.assert_contains(&["DỰ THẢO (chưa được lãnh đạo phê duyệt)", "BÁO CÁO"]);
        let path = format!("/api/v1/self-assessments/{sa}/report");
        for bad in [
            format!("{path}?number={}", "9".repeat(101)),
            format!("{path}?signer={}", "a".repeat(101)),
            format!("{path}?recipients={}", vec!["x"; 21].join("%3B")),
            format!("{path}?recipients={}", "y".repeat(301)),
        ] {
            w.app
                .get(&bad, officer)
                .await
                .assert_problem(422, Some("validation_failed"));
        }
        w.app
            .get(&format!("{path}?format=doc"), officer)
            .await
            .assert_problem(400, None);
        w.app
            .get(&path, w.token(Persona::OfficerB))
            .await
            .assert_problem(403, Some("forbidden"));
    })
    .await;
}

/// PDF goes through the configured converter: its output is served as application/pdf;
/// a converter that fails is a 500 problem, never a broken file.
#[tokio::test]
async fn pdf_is_printed_by_the_configured_converter() {
    let dir = std::env::temp_dir().join(format!("parindex-fake-soffice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("soffice");
    let bad = dir.join("soffice-broken");
    // The real soffice's arguments: … --convert-to pdf --outdir DIR FILE.docx
    std::fs::write(
        &good,
        "#!/bin/sh\nfor a; do last=$a; done\nwhile [ \"$1\" != --outdir ]; do shift; done\n\
         out=$2\nbase=$(basename \"$last\" .docx)\n\
         printf '%%PDF-1.4\\n%% printed from %s (%s bytes)\\n' \"$base\" $(wc -c < \"$last\") > \"$out/$base.pdf\"\n",
    )
    .unwrap();
    std::fs::write(&bad, "#!/bin/sh\necho 'no display' >&2\nexit 1\n").unwrap();
    for f in [&good, &bad] {
        let mut p = std::fs::metadata(f).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o755);
        std::fs::set_permissions(f, p).unwrap();
    }
    for backend in backends() {
        for (converter, works) in [(&good, true), (&bad, false)] {
            let app = TestApp::spawn_with(
                backend.clone(),
                &[("PARINDEX_SOFFICE", converter.to_str().unwrap())],
            )
            .await;
            let w = world(app).await;
            let framework = w.published_framework(w.id("district")).await;
            let sa = w
                .open_assessment(Persona::OfficerA, w.id("commune_a"), framework)
                .await;
            let r = w
                .app
                .get(
                    &format!("/api/v1/self-assessments/{sa}/report?format=pdf"),
                    w.token(Persona::OfficerA),
                )
                .await;
            if works {
                r.assert_status(200);
                assert_eq!(r.header("content-type"), Some("application/pdf"));
                assert!(r.bytes.starts_with(b"%PDF-1.4\n% printed from document ("));
                assert!(r.header("content-disposition").unwrap().contains(".pdf"));
            } else {
                r.assert_problem(500, None);
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
