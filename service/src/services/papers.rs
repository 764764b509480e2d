//! The year's papers, filled from stored data: the commune's remediation letter (the
//! seed), the district's results notice with its ranking annex, and the commune's
//! self-assessment report with its leader's approval. Pure functions: the handlers load the
//! data (through the services, so through the one visibility policy) and render the result.

use crate::documents::{Annex, Block, Issuer, Paper, PaperDate, Signature, vi_decimal};
use crate::scoring::Scorer;
use crate::scoring::totals::Totals;
use crate::services::assessments::AssessmentView;
use crate::services::remediation::{OfficerRole, PlanView};
use crate::services::reports;
use crate::services::results::{Ranking, UnitIndex};
use crate::sheets::{Cell, Table};
use chrono::NaiveDate;
use entity::publication;
use std::collections::HashMap;

/// What the caller decides when a paper is issued: its number and date (both assigned by
/// the clerk on issue, so both may be left blank), whom it addresses, and who signs.
#[derive(Clone, Debug, Default)]
pub struct Issue {
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    pub recipients: Option<Vec<String>>,
    pub signer: Option<String>,
    /// Signed by a vice-chairman on the chairman's behalf ("KT. CHỦ TỊCH").
    pub deputy: bool,
}

impl Issue {
    fn date_or_year(&self, year: i32) -> PaperDate {
        self.date.map_or(PaperDate::InYear(year), PaperDate::On)
    }
}

/// Unit names carry their kind ("Xã Vĩnh Long", "Thị trấn Cửa Tùng"); longest first.
const KIND_WORDS: [&str; 9] = [
    "Thành phố",
    "Thị trấn",
    "Thị xã",
    "Đặc khu",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Xã",
];

fn split_kind(name: &str) -> (Option<&'static str>, &str) {
    for k in KIND_WORDS {
        if let Some(rest) = name.strip_prefix(k).and_then(|r| r.strip_prefix(' ')) {
            return (Some(k), rest);
        }
    }
    (None, name)
}

/// The place a paper is dated at: the unit's name without its kind ("Vĩnh Long").
pub fn place_of(unit_name: &str) -> String {
    split_kind(unit_name).1.to_string()
}

/// The kind in running text ("xã", "thị trấn"), or "đơn vị".
fn kind_word(unit_name: &str) -> String {
    split_kind(unit_name)
        .0
        .map_or("đơn vị".to_string(), str::to_lowercase)
}

/// The people's committee of a unit in running text: "UBND xã Vĩnh Long".
pub fn committee_of(unit_name: &str) -> String {
    format!("UBND {}", lower_first(unit_name))
}

/// Ô số 1 of a people's committee: "ỦY BAN NHÂN DÂN" over "XÃ VĨNH LONG".
fn committee_issuer(unit_name: &str) -> Issuer {
    Issuer {
        superior: None,
        name: vec!["ỦY BAN NHÂN DÂN".to_string(), unit_name.to_uppercase()],
    }
}

/// "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH", or "… / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH".
fn committee_signature(issue: &Issue, name: Option<String>, note: Option<String>) -> Signature {
    let mut lines = vec!["TM. ỦY BAN NHÂN DÂN".to_string()];
    if issue.deputy {
        lines.push("KT. CHỦ TỊCH".to_string());
        lines.push("PHÓ CHỦ TỊCH".to_string());
    } else {
        lines.push("CHỦ TỊCH".to_string());
    }
    Signature {
        lines,
        name: issue.signer.clone().or(name),
        note,
    }
}

/// How a results notice is cited: "văn bản số 4006/TB-HĐTĐ ngày 29/12/2023 của UBND huyện
/// Vĩnh Linh".
fn notice_reference(p: &publication::Model) -> String {
    let scope = committee_of(p.scope_name.as_deref().unwrap_or_default());
    let date = p
        .decided_on
        .unwrap_or_else(|| parindex_domain::vietnam::day_of(p.published_at))
        .format("%d/%m/%Y");
    match &p.decision_number {
        Some(n) => format!("văn bản số {n} ngày {date} của {scope}"),
        None => format!("kết quả công bố ngày {date} của {scope}"),
    }
}

/// The commune's letter to its officers, bodies and organisations after the results are
/// announced, as the seed writes it: the result, rank and change, the points lost, then
/// each officer's tasks with deadlines; the appendix of lost points is its annex.
pub fn remediation_letter(
    plan: &PlanView,
    index: &UnitIndex,
    notice: Option<&publication::Model>,
    appendix: Table,
    leader: Option<String>,
    issue: &Issue,
) -> Paper {
    let unit = &plan.unit.name;
    let committee = committee_of(unit);
    let kind = kind_word(unit);
    let (source, year) = (plan.plan.source_year, plan.plan.year);
    let mut body = Vec::new();
    let cited = notice.map_or_else(
        || format!("Căn cứ kết quả công bố chỉ số cải cách hành chính năm {source}."),
        |p| {
            format!(
                "Căn cứ {} về phê duyệt và công bố chỉ số cải cách hành chính năm {source}.",
                notice_reference(p)
            )
        },
    );
    let mut result = format!(
        "{cited} Chỉ số CCHC của {committee} xếp thứ {}/{} (trong đó điểm tự đánh giá: {}; \
         điểm thẩm định: {}; điểm thưởng: {}; tổng điểm đạt được: {}).",
        index.rank,
        index.ranked_units,
        vi_decimal(index.self_total),
        vi_decimal(index.appraised_total),
        vi_decimal(index.bonus),
        vi_decimal(index.index),
    );
    if let Some((prev_year, prev_index, prev_rank)) = index.previous {
        let change = match index.rank_change() {
            Some(c) if c < 0 => format!("tụt {} bậc", -c),
            Some(c) if c > 0 => format!("tăng {c} bậc"),
            Some(_) => "giữ nguyên thứ hạng".to_string(),
            None => "chưa so sánh được thứ hạng".to_string(),
        };
        let prev_rank = prev_rank.map_or(String::new(), |r| format!(", xếp thứ {r}"));
        result.push_str(&format!(
            " Như vậy so với năm {prev_year}, năm {source} chỉ số cải cách hành chính {kind} \
             {change} (năm {prev_year} chỉ số đạt {}{prev_rank}).",
            vi_decimal(prev_index)
        ));
    }
    result.push_str(&format!(
        " Sau khi rà soát, tổng số điểm năm {source} bị trừ là {} điểm ở {} tiêu chí thành phần.",
        vi_decimal(index.deduction_total),
        index.deductions.len()
    ));
    let repeated: Vec<&str> = index
        .deductions
        .iter()
        .filter(|d| d.repeat)
        .map(|d| d.code.as_str())
        .collect();
    if !repeated.is_empty() {
        // Through the mapping between the two years' frameworks where one is recorded: a
        // renumbered criterion is still the same weakness.
        result.push_str(&format!(
            " Trong đó, {} tiêu chí đã bị trừ điểm cả năm trước, là những tồn tại kéo dài cần              tập trung khắc phục: {}.",
            repeated.len(),
            repeated.join(", ")
        ));
    }
    body.push(Block::Text(result));
    body.push(Block::Text(format!(
        "Để khắc phục những tồn tại, hạn chế năm {source}, cải thiện chỉ số cải cách hành \
         chính của {kind} trong năm {year}, {committee} yêu cầu các cơ quan, cán bộ, công chức \
         có liên quan thực hiện các nội dung sau:"
    )));
    // Tasks by who leads them, in the order the plan first names each.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for item in plan.items.iter().filter(|i| {
        !matches!(
            i.item.status,
            crate::services::remediation::ItemStatus::Cancelled
        )
    }) {
        let who = match item.lead() {
            Some(o) => format!("{} ({})", o.title, o.full_name),
            None if !item.bodies.is_empty() => item.bodies.join(", "),
            None => format!("Toàn thể cán bộ, công chức {kind}"),
        };
        let mut point = match &item.item.criterion_code {
            Some(code) if repeated.contains(&code.as_str()) => format!(
                "Tiêu chí {code} ({}, bị trừ điểm cả năm trước)",
                item.item.title
            ),
            Some(code) => format!("Tiêu chí {code} ({})", item.item.title),
            None => item.item.title.clone(),
        };
        if let Some(action) = &item.item.action {
            point.push_str(&format!(": {}", action.trim_end_matches('.')));
        }
        let support: Vec<String> = item
            .officers
            .iter()
            .filter(|(role, _)| *role == OfficerRole::Support)
            .map(|(_, s)| s.full_name.clone())
            // Without a lead the bodies are the group's heading already.
            .chain(if item.lead().is_some() {
                item.bodies.clone()
            } else {
                Vec::new()
            })
            .collect();
        if !support.is_empty() {
            point.push_str(&format!(". Phối hợp: {}", support.join(", ")));
        }
        if let Some(target) = &item.target {
            point.push_str(&format!(". Chỉ tiêu: {}", target.words()));
        }
        if let Some(due) = item.deadlines_text() {
            point.push_str(&format!(". {due}"));
        }
        point.push('.');
        match groups.iter_mut().find(|(w, _)| *w == who) {
            Some((_, points)) => points.push(point),
            None => groups.push((who, vec![point])),
        }
    }
    for (n, (who, points)) in groups.into_iter().enumerate() {
        body.push(Block::Heading(format!("{}. {who}:", n + 1)));
        body.extend(points.into_iter().map(Block::Point));
    }
    body.push(Block::Text(format!(
        "{committee} đã thống kê các nhiệm vụ chưa hoàn thành hoặc hoàn thành ở mức độ thấp \
         bị trừ điểm (có Phụ lục kèm theo) để các đơn vị, cán bộ, công chức có liên quan theo \
         dõi, khắc phục."
    )));
    body.push(Block::Text(format!(
        "Trên đây là yêu cầu nhiệm vụ về công tác CCHC nhằm khắc phục những tồn tại, hạn chế \
         năm {source} và những nhiệm vụ cần thực hiện trong năm {year}. Đề nghị các cơ quan, \
         cán bộ, công chức có liên quan quan tâm thực hiện./."
    )));
    // Whom it addresses by default: those the seed letter addresses.
    let addressees = vec![
        format!("Ủy ban MTTQ Việt Nam và các tổ chức chính trị - xã hội {kind}"),
        format!("Cán bộ, công chức {kind}"),
        format!("Bộ phận Tiếp nhận và Trả kết quả {kind}"),
    ];
    let mut recipients = vec!["Như kính gửi".to_string()];
    if let Some(p) = notice {
        recipients.push(format!(
            "{} (b/c)",
            committee_of(p.scope_name.as_deref().unwrap_or_default())
        ));
    }
    recipients.push("Lưu: VT".to_string());
    let mut paper = Paper {
        issuer: committee_issuer(unit),
        number: issue.number.clone(),
        symbol: "UBND-CCHC".to_string(),
        subject: Some(format!(
            "V/v khắc phục những tồn tại, hạn chế trong công tác CCHC năm {source}, nâng cao \
             các chỉ số CCHC trong năm {year}"
        )),
        place: place_of(unit),
        date: issue.date_or_year(year),
        draft: None,
        title: None,
        addressees: issue.recipients.clone().unwrap_or(addressees),
        body,
        recipients,
        signature: committee_signature(issue, leader, None),
        annex: None,
    };
    paper.annex = Some(Annex {
        title: appendix.title.clone(),
        attached_to: Some(format!("{} của {committee}", paper.reference("Công văn"))),
        table: appendix,
        landscape: true,
    });
    paper
}

/// The kinds of the units a ranking lists, as a notice addresses them ("xã, phường, đặc
/// khu" since 2025, "xã, thị trấn" before): communes, wards, towns, special zones, in that
/// order, each once; "đơn vị" when it lists none.
fn ranked_kinds_vi(ranking: &Ranking) -> String {
    use crate::services::units::UnitKind;
    let listed: Vec<&str> = ranking
        .ranked
        .iter()
        .map(|r| r.row.unit_kind.as_str())
        .chain(ranking.unranked.iter().map(|r| r.unit_kind.as_str()))
        .collect();
    let order = [
        UnitKind::Commune,
        UnitKind::Ward,
        UnitKind::Town,
        UnitKind::SpecialZone,
        UnitKind::District,
        UnitKind::Agency,
    ];
    let words: Vec<&str> = order
        .into_iter()
        .filter(|k| listed.contains(&k.as_str()))
        .map(UnitKind::words_vi)
        .collect();
    if words.is_empty() {
        "đơn vị".to_string()
    } else {
        words.join(", ")
    }
}

/// The results notice of a scope with its ranking annex (rank, unit, self, appraised,
/// bonus, index, band), from the publication as frozen.
pub fn results_notice(
    ranking: &Ranking,
    p: &publication::Model,
    leader: Option<String>,
    issue: &Issue,
    agencies: &[String],
) -> Paper {
    let scope = p.scope_name.clone().unwrap_or_default();
    let committee = committee_of(&scope);
    let year = p.year;
    let units = ranking.ranked.len() + ranking.unranked.len();
    let mut summary = format!(
        "Kết quả thẩm định, công bố chỉ số cải cách hành chính năm {year} của các đơn vị \
         thuộc {}",
        lower_first(&scope)
    );
    let mut body = Vec::new();
    if p.revision > 1 {
        summary.push_str(&format!(" (điều chỉnh lần {})", p.revision - 1));
        body.push(Block::Text(format!(
            "Thông báo này điều chỉnh kết quả đã công bố trước đó{}.",
            p.reason
                .as_deref()
                .map(|r| format!(", với lý do: {r}"))
                .unwrap_or_default()
        )));
    }
    // Since 2025 the agencies appraise the criteria of their fields: the notice names them.
    let by_agencies = if agencies.is_empty() {
        String::new()
    } else {
        format!(
            " (các tiêu chí theo lĩnh vực do {} thẩm định)",
            agencies.join(", ")
        )
    };
    body.push(Block::Text(format!(
        "Căn cứ kết quả tự đánh giá, chấm điểm của các đơn vị và kết quả thẩm định của Hội \
         đồng thẩm định{by_agencies}, {committee} thông báo kết quả chỉ số cải cách hành chính \
         năm {year} của {units} đơn vị như sau:"
    )));
    if let (Some(s), Some(first), Some(last)) = (
        &ranking.summary,
        ranking.ranked.first(),
        ranking.ranked.last(),
    ) {
        body.push(Block::Text(format!(
            "1. Có {} đơn vị được xếp hạng; chỉ số bình quân đạt {}; cao nhất là {} ({}), thấp \
             nhất là {} ({}).",
            ranking.ranked.len(),
            vi_decimal(s.mean),
            first.row.unit_name,
            vi_decimal(first.index()),
            last.row.unit_name,
            vi_decimal(last.index()),
        )));
    }
    if !ranking.bands.is_empty() {
        let bands: Vec<String> = ranking
            .bands
            .iter()
            .map(|(band, n)| format!("{band}: {n} đơn vị"))
            .collect();
        body.push(Block::Text(format!("2. Xếp loại: {}.", bands.join("; "))));
    }
    if !ranking.unranked.is_empty() {
        body.push(Block::Text(format!(
            "{} đơn vị chưa được xếp hạng do chưa hoàn thành thẩm định.",
            ranking.unranked.len()
        )));
    }
    body.push(Block::Text(
        "Kết quả chi tiết và xếp hạng của từng đơn vị tại Phụ lục kèm theo.".to_string(),
    ));
    body.push(Block::Text(format!(
        "Các đơn vị căn cứ kết quả được công bố, xây dựng kế hoạch khắc phục những tồn tại, \
         hạn chế, nâng cao chỉ số cải cách hành chính năm {}./.",
        year + 1
    )));
    let mut recipients = issue.recipients.clone().unwrap_or_else(|| {
        vec![
            format!(
                "UBND các {} thuộc {}",
                ranked_kinds_vi(ranking),
                place_of(&scope)
            ),
            "Thành viên Hội đồng thẩm định".to_string(),
        ]
        .into_iter()
        .chain(agencies.iter().cloned())
        .collect()
    });
    recipients.push("Lưu: VT".to_string());
    let mut paper = Paper {
        issuer: committee_issuer(&scope),
        number: issue.number.clone().or_else(|| p.decision_number.clone()),
        symbol: "TB-UBND".to_string(),
        subject: None,
        place: place_of(&scope),
        date: issue
            .date
            .or(p.decided_on)
            .map_or(PaperDate::InYear(year + 1), PaperDate::On),
        draft: None,
        title: Some(("THÔNG BÁO".to_string(), summary)),
        addressees: Vec::new(),
        body,
        recipients,
        signature: committee_signature(issue, leader, None),
        annex: None,
    };
    let table = reports::ranking_table(ranking);
    paper.annex = Some(Annex {
        title: {
            let mut t = vec!["PHỤ LỤC".to_string()];
            t.extend(table.title.iter().cloned());
            t
        },
        attached_to: Some(format!("{} của {committee}", paper.reference("Thông báo"))),
        table,
        landscape: true,
    });
    paper
}

/// The unit's self-assessment report to the council: the total, each field's score, and
/// the full table of criteria with explanations and evidence as its annex. Signed with the
/// leader's recorded approval; a draft until there is one.
/// `sources` says where fed criteria's figures come from ("Theo số liệu trích từ …").
pub fn self_assessment_report(
    v: &AssessmentView,
    unit_name: &str,
    parent_name: Option<&str>,
    totals: &Totals,
    sources: &HashMap<String, String>,
    issue: &Issue,
) -> Paper {
    let committee = committee_of(unit_name);
    let year = v.model.year;
    let score_of = |code: &str| totals.by_code.get(code).map(|t| t.score);
    let fields: Vec<Vec<Cell>> = v
        .framework
        .tree
        .fields()
        .enumerate()
        .map(|(i, c)| {
            let score = score_of(&c.code);
            vec![
                Cell::Int(i as i64 + 1),
                Cell::Text(c.title.clone()),
                Cell::Decimal(c.max_score),
                Cell::from(score),
                Cell::from(score.map(|s| -(c.max_score - s))),
            ]
        })
        .collect();
    let field_table = Table {
        sheet_name: "Lĩnh vực".to_string(),
        title: Vec::new(),
        headers: [
            "TT",
            "LĨNH VỰC",
            "ĐIỂM TỐI ĐA",
            "ĐIỂM TỰ ĐÁNH GIÁ",
            "ĐIỂM BỊ TRỪ",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        widths: vec![6.0, 50.0, 12.0, 14.0, 12.0],
        rows: fields,
        total: Some(vec![
            Cell::Empty,
            Cell::Text("Tổng cộng".to_string()),
            Cell::Decimal(crate::scoring::from_hundredths(10_000)),
            Cell::Decimal(totals.total),
            Cell::Decimal(-(crate::scoring::from_hundredths(10_000) - totals.total)),
        ]),
    };
    let council = parent_name.map_or(
        "Hội đồng thẩm định chỉ số cải cách hành chính".to_string(),
        |p| {
            format!(
                "Hội đồng thẩm định chỉ số cải cách hành chính {}",
                lower_first(p)
            )
        },
    );
    let body = vec![
        Block::Text(format!(
            "Thực hiện {}, {committee} báo cáo kết quả tự đánh giá, chấm điểm chỉ số cải cách \
             hành chính năm {year} như sau:",
            v.framework.model.name
        )),
        Block::Text(format!(
            "1. Tổng điểm tự đánh giá: {}/100 điểm.",
            vi_decimal(totals.total)
        )),
        Block::Text("2. Điểm tự đánh giá theo từng lĩnh vực:".to_string()),
        Block::Table(field_table),
        Block::Text(
            "3. Điểm tự đánh giá, giải trình và tài liệu kiểm chứng của từng tiêu chí tại Phụ \
             lục kèm theo."
                .to_string(),
        ),
        Block::Text(format!("{committee} kính báo cáo {council}./.")),
    ];
    let (draft, name, note) = match (v.model.approved_at, &v.model.approved_by_name) {
        (Some(at), name) => {
            let local = parindex_domain::vietnam::local(at);
            (
                None,
                name.clone(),
                Some(format!(
                    "(Đã phê duyệt trên hệ thống lúc {} ngày {})",
                    local.format("%H:%M"),
                    local.format("%d/%m/%Y")
                )),
            )
        }
        (None, _) => (
            Some("DỰ THẢO (chưa được lãnh đạo phê duyệt)".to_string()),
            None,
            None,
        ),
    };
    let mut paper = Paper {
        issuer: committee_issuer(unit_name),
        number: issue.number.clone(),
        symbol: "BC-UBND".to_string(),
        subject: None,
        place: place_of(unit_name),
        // Dated the day the leader approved it, unless the caller dates it.
        date: match (issue.date, v.model.approved_at) {
            (Some(d), _) => PaperDate::On(d),
            (None, Some(at)) => PaperDate::On(parindex_domain::vietnam::day_of(at)),
            (None, None) => PaperDate::InYear(year),
        },
        draft,
        title: Some((
            "BÁO CÁO".to_string(),
            format!(
                "Kết quả tự đánh giá, chấm điểm xác định chỉ số cải cách hành chính năm {year}"
            ),
        )),
        addressees: issue
            .recipients
            .clone()
            .unwrap_or_else(|| vec![council.clone()]),
        body,
        recipients: vec!["Như trên".to_string(), "Lưu: VT".to_string()],
        signature: committee_signature(issue, name, note),
        annex: None,
    };
    paper.annex = Some(Annex {
        title: vec![
            "PHỤ LỤC".to_string(),
            format!("BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CCHC NĂM {year}"),
            unit_name.to_uppercase(),
        ],
        attached_to: Some(format!("{} của {committee}", paper.reference("Báo cáo"))),
        table: criteria_table(v, totals, sources),
        landscape: true,
    });
    paper
}

/// Every criterion in framework order with its self score, explanation and evidence.
fn criteria_table(v: &AssessmentView, totals: &Totals, sources: &HashMap<String, String>) -> Table {
    let tree = &v.framework.tree;
    let rows =
        tree.criteria()
            .iter()
            .map(|c| {
                let entry = v.entries.get(&c.code);
                let score = if tree.is_leaf(&c.code) {
                    if c.scorer == Scorer::SelfAssessed {
                        Cell::from(entry.and_then(|e| {
                            e.model.self_score_x100.map(crate::scoring::from_hundredths)
                        }))
                    } else {
                        Cell::Text("Hội đồng chấm".to_string())
                    }
                } else {
                    Cell::from(totals.by_code.get(&c.code).map(|t| t.score))
                };
                let evidence: Vec<String> = entry
                    .map(|e| {
                        e.evidence
                            .iter()
                            .map(|ev| match &ev.number {
                                Some(n) => format!("{n}: {}", ev.title),
                                None => ev.title.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                vec![
                    Cell::Text(c.code.clone()),
                    Cell::Text(c.title.clone()),
                    Cell::Decimal(c.max_score),
                    score,
                    Cell::Text(super::indicators::with_source(
                        entry.and_then(|e| e.model.explanation.as_deref()),
                        sources.get(&c.code),
                    )),
                    Cell::Text(evidence.join("; ")),
                ]
            })
            .collect();
    Table {
        sheet_name: format!("Tự đánh giá {}", v.model.year),
        title: Vec::new(),
        headers: [
            "TT",
            "LĨNH VỰC/TIÊU CHÍ/TIÊU CHÍ THÀNH PHẦN",
            "ĐIỂM TỐI ĐA",
            "ĐIỂM TỰ ĐÁNH GIÁ",
            "GIẢI TRÌNH",
            "TÀI LIỆU KIỂM CHỨNG",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        widths: vec![8.0, 60.0, 10.0, 12.0, 40.0, 40.0],
        rows,
        total: Some(vec![
            Cell::Empty,
            Cell::Text("Tổng cộng".to_string()),
            Cell::Decimal(crate::scoring::from_hundredths(10_000)),
            Cell::Decimal(totals.total),
            Cell::Empty,
            Cell::Empty,
        ]),
    }
}

/// "Huyện Vĩnh Linh" → "huyện Vĩnh Linh" (a unit's name in running text).
fn lower_first(name: &str) -> String {
    match split_kind(name) {
        (Some(k), rest) => format!("{} {rest}", k.to_lowercase()),
        (None, name) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, kind: &str, index_x100: Option<i64>) -> crate::services::results::ResultRow {
        crate::services::results::ResultRow {
            unit_id: id,
            unit_name: format!("Đơn vị {id}"),
            unit_code: id.to_string(),
            unit_kind: kind.to_string(),
            unit_path: format!("/1/{id}/"),
            parent_id: Some(1),
            self_assessment_id: None,
            appraisal_id: None,
            framework_id: None,
            appraisal_status: index_x100.map(|_| "finalized".to_string()),
            self_assessment_status: None,
            index_x100,
            self_total_x100: None,
            appraised_total_x100: None,
            bonus_x100: None,
            deduction_total_x100: None,
            rating_band: None,
            previous_index_x100: None,
            penalty_total_x100: None,
            components: None,
            unranked: None,
            scope_path: None,
            scope_name: None,
            scope_published: None,
        }
    }

    fn ranking_of(rows: Vec<crate::services::results::ResultRow>) -> Ranking {
        let (ranked, unranked) = crate::services::results::rank_rows(rows);
        Ranking::of(
            None,
            2025,
            crate::services::results::Depth::Children,
            ranked,
            unranked,
        )
    }

    #[test]
    fn a_notice_addresses_the_kinds_it_ranks() {
        // Since 2025: communes, wards and special zones; an unranked unit counts too.
        let now = ranking_of(vec![
            row(2, "special_zone", Some(8000)),
            row(3, "ward", Some(9000)),
            row(4, "commune", None),
            row(5, "ward", Some(8500)),
        ]);
        assert_eq!(ranked_kinds_vi(&now), "xã, phường, đặc khu");
        // Before: a district's communes and towns, as the seed's notice says.
        let before = ranking_of(vec![
            row(2, "town", Some(8000)),
            row(3, "commune", Some(9000)),
        ]);
        assert_eq!(ranked_kinds_vi(&before), "xã, thị trấn");
        assert_eq!(ranked_kinds_vi(&ranking_of(Vec::new())), "đơn vị");
    }

    #[test]
    fn unit_names_read_as_running_text() {
        assert_eq!(place_of("Xã Vĩnh Long"), "Vĩnh Long");
        assert_eq!(place_of("Thị trấn Cửa Tùng"), "Cửa Tùng");
        assert_eq!(place_of("Đồng Hới"), "Đồng Hới");
        assert_eq!(committee_of("Huyện Vĩnh Linh"), "UBND huyện Vĩnh Linh");
        assert_eq!(committee_of("Thị trấn Hồ Xá"), "UBND thị trấn Hồ Xá");
        assert_eq!(kind_word("Xã Vĩnh Long"), "xã");
        assert_eq!(kind_word("Khu A"), "đơn vị");
    }
}
