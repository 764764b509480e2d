//! The sheets users print and file: a district's ranking, and a unit's appendix of lost
//! points (the seed letter's "Phụ lục"), with the letter's own Vietnamese column titles.

use super::remediation::{ItemStatus, PlanView};
use super::results::{Ranking, UnitIndex};
use crate::sheets::{Cell, Table};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;

pub const APPENDIX_HEADERS: [&str; 8] = [
    "TT",
    "LĨNH VỰC/TIÊU CHÍ/TIÊU CHÍ THÀNH PHẦN",
    "ĐIỂM CHUẨN",
    "ĐIỂM TỰ ĐÁNH GIÁ",
    "ĐIỂM THẨM ĐỊNH",
    "ĐIỂM BỊ TRỪ",
    "Ý KIẾN HỘI ĐỒNG THẨM ĐỊNH",
    "NGƯỜI CHỊU TRÁCH NHIỆM",
];

pub const RANKING_HEADERS: [&str; 10] = [
    "TT",
    "ĐƠN VỊ",
    "ĐIỂM TỰ ĐÁNH GIÁ",
    "ĐIỂM THẨM ĐỊNH",
    "ĐIỂM THƯỞNG",
    "CHỈ SỐ CCHC",
    "XẾP HẠNG",
    "XẾP LOẠI",
    "XẾP HẠNG NĂM TRƯỚC",
    "TĂNG (+)/GIẢM (−) BẬC",
];

/// Deductions are printed negative, as in the seed ("- 0.2").
fn lost(d: Decimal) -> Cell {
    Cell::Decimal(-d)
}

/// The column naming each criterion's appraising agency (since 2025), when the framework
/// assigns any.
pub const AGENCY_HEADER: &str = "CƠ QUAN THẨM ĐỊNH";

/// The column marking criteria that lost points the year before too.
pub const REPEAT_HEADER: &str = "BỊ TRỪ ĐIỂM CẢ NĂM TRƯỚC";

/// The appendix of a unit's lost points for a year. `responsible` gives, per criterion
/// code, the remediation text (officer, action, deadlines) when a plan exists; `agencies`
/// the name of the agency that appraised it, when the framework assigns criteria to
/// agencies (a column of its own then, before the responsible officer's).
pub fn appendix_table(
    index: &UnitIndex,
    responsible: &HashMap<String, String>,
    agencies: &HashMap<String, String>,
    sources: &HashMap<String, String>,
) -> Table {
    let mut table = lost_points_table(index, responsible, sources);
    // A weakness that persists says so where the council and the commune read it: a
    // column before the responsible officer's, when any criterion lost points both years.
    if index.deductions.iter().any(|d| d.repeat) {
        let at = table.headers.len() - 1;
        let cells = index
            .deductions
            .iter()
            .map(|d| Cell::Text(if d.repeat { "Có" } else { "" }.to_string()))
            .collect();
        // Wide enough that LibreOffice and Word break its header between words.
        insert_column(&mut table, at, REPEAT_HEADER.to_string(), 18.0, cells);
    }
    if agencies.is_empty() {
        return table;
    }
    let at = table.headers.len() - 1;
    table.headers.insert(at, AGENCY_HEADER.to_string());
    table.widths.insert(at, 24.0);
    for (row, d) in table.rows.iter_mut().zip(&index.deductions) {
        let name = agencies.get(&d.code).cloned().unwrap_or_default();
        row.insert(at, Cell::Text(name));
    }
    if let Some(total) = table.total.as_mut() {
        total.insert(at, Cell::Empty);
    }
    table
}

/// `sources`: where fed criteria's figures came from ("Theo số liệu trích từ …"), printed
/// with the council's comment.
fn lost_points_table(
    index: &UnitIndex,
    responsible: &HashMap<String, String>,
    sources: &HashMap<String, String>,
) -> Table {
    let upper = index.unit_name.to_uppercase();
    Table {
        sheet_name: format!("Phụ lục {}", index.year),
        title: vec![
            "PHỤ LỤC".to_string(),
            format!("KẾT QUẢ ĐÁNH GIÁ CCHC {upper} NĂM {}", index.year),
            format!(
                "VÀ BIỆN PHÁP KHẮC PHỤC, NÂNG CAO CHỈ SỐ CCHC NĂM {}",
                index.year + 1
            ),
        ],
        headers: APPENDIX_HEADERS.iter().map(|h| h.to_string()).collect(),
        // Wide enough for "1.4.1" and "-12,75" on a printed A4 page too.
        widths: vec![10.0, 40.0, 14.0, 14.0, 14.0, 14.0, 42.0, 46.0],
        rows: index
            .deductions
            .iter()
            .map(|d| {
                vec![
                    Cell::Text(d.code.clone()),
                    Cell::Text(d.title.clone()),
                    Cell::Decimal(d.max),
                    Cell::from(d.self_score),
                    Cell::Decimal(d.appraised),
                    lost(d.deduction),
                    Cell::Text(super::indicators::with_source(
                        d.comment.as_deref(),
                        sources.get(&d.code),
                    )),
                    Cell::Text(responsible.get(&d.code).cloned().unwrap_or_default()),
                ]
            })
            .collect(),
        total: Some(vec![
            Cell::Empty,
            Cell::Text("Tổng cộng".to_string()),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            lost(index.deduction_total),
            Cell::Empty,
            Cell::Empty,
        ]),
    }
}

/// A year's ranking: ranked units in order, then the unranked ones, then the means.
// Long by nature: the ranking sheet's columns, one after the other.
pub fn ranking_table(ranking: &Ranking) -> Table {
    let parent = ranking
        .parent
        .as_ref()
        .map_or("Toàn quốc".to_string(), |p| p.name.clone());
    let mut rows: Vec<Vec<Cell>> = ranking
        .ranked
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let change = r.rank_change().map_or(Cell::Empty, Cell::Change);
            vec![
                Cell::Int(i as i64 + 1),
                Cell::Text(r.row.unit_name.clone()),
                Cell::from(r.row.self_total_x100.map(crate::scoring::from_hundredths)),
                Cell::from(
                    r.row
                        .appraised_total_x100
                        .map(crate::scoring::from_hundredths),
                ),
                Cell::from(r.row.bonus_x100.map(crate::scoring::from_hundredths)),
                Cell::Decimal(r.index()),
                Cell::Text(format!("{}/{}", r.rank, ranking.ranked.len())),
                Cell::Text(r.row.rating_band.clone().unwrap_or_default()),
                r.previous_rank.map_or(Cell::Empty, |p| Cell::Int(p.into())),
                change,
            ]
        })
        .collect();
    let offset = rows.len();
    rows.extend(ranking.unranked.iter().enumerate().map(|(i, u)| {
        vec![
            Cell::Int((offset + i) as i64 + 1),
            Cell::Text(u.unit_name.clone()),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Text("Chưa xếp hạng".to_string()),
            Cell::Text(u.standing().words_vi().to_string()),
            Cell::Empty,
            Cell::Empty,
        ]
    }));
    let mean = |f: &dyn Fn(&super::results::Ranked) -> Option<i64>| -> Cell {
        let values: Vec<Decimal> = ranking
            .ranked
            .iter()
            .filter_map(|r| f(r).map(crate::scoring::from_hundredths))
            .collect();
        if values.is_empty() {
            Cell::Empty
        } else {
            Cell::Decimal(crate::scoring::round2(
                values.iter().sum::<Decimal>() / Decimal::from(values.len()),
            ))
        }
    };
    let table = Table {
        sheet_name: format!("Xếp hạng {}", ranking.year),
        title: vec![
            format!("KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {}", ranking.year),
            parent.to_uppercase(),
        ],
        headers: RANKING_HEADERS.iter().map(|h| h.to_string()).collect(),
        widths: vec![6.0, 32.0, 12.0, 12.0, 10.0, 12.0, 10.0, 12.0, 12.0, 12.0],
        rows,
        total: Some(vec![
            Cell::Empty,
            Cell::Text("Bình quân".to_string()),
            mean(&|r| r.row.self_total_x100),
            mean(&|r| r.row.appraised_total_x100),
            mean(&|r| r.row.bonus_x100),
            mean(&|r| r.row.index_x100),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]),
    };
    with_composition_columns(table, ranking)
}

/// Inserts a column at `at`: its header, width, a cell per row (rows past `cells` empty)
/// and an empty total.
fn insert_column(table: &mut Table, at: usize, header: String, width: f64, cells: Vec<Cell>) {
    table.headers.insert(at, header);
    table.widths.insert(at, width);
    let mut cells = cells.into_iter();
    for row in &mut table.rows {
        row.insert(at, cells.next().unwrap_or(Cell::Empty));
    }
    if let Some(total) = table.total.as_mut() {
        total.insert(at, Cell::Empty);
    }
}

/// Where a year's figures have them: the penalty points after the bonus, and each
/// component's counted points after the appraised total (a column only when some ranked
/// unit has them, so a ranking without them prints as it always did).
fn with_composition_columns(mut table: Table, ranking: &Ranking) -> Table {
    if ranking.ranked.iter().any(|r| !r.penalty_total().is_zero()) {
        let cells = ranking
            .ranked
            .iter()
            .map(|r| Cell::Decimal(-r.penalty_total()))
            .collect();
        // After ĐIỂM THƯỞNG.
        insert_column(&mut table, 5, "ĐIỂM TRỪ".to_string(), 10.0, cells);
    }
    let components = ranking
        .ranked
        .iter()
        .map(|r| r.row.components())
        .find(|c| !c.is_empty())
        .unwrap_or_default();
    // After ĐIỂM THẨM ĐỊNH, in the framework's order.
    for (k, component) in components.iter().enumerate() {
        let cells = ranking
            .ranked
            .iter()
            .map(|r| {
                let figures = r.row.components();
                match figures.iter().find(|f| f.code == component.code) {
                    Some(f) if f.has_data => Cell::Decimal(f.counted),
                    Some(_) => Cell::Text("Không có số liệu".to_string()),
                    None => Cell::Empty,
                }
            })
            .collect();
        let header = format!("THÀNH PHẦN: {}", component.name.to_uppercase());
        insert_column(&mut table, 4 + k, header, 14.0, cells);
    }
    table
}

/// The Vietnamese label of a remediation item's status.
fn status_label(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::NotStarted => "Chưa thực hiện",
        ItemStatus::InProgress => "Đang thực hiện",
        ItemStatus::Done => "Đã hoàn thành",
        ItemStatus::Cancelled => "Hủy",
    }
}

/// A remediation plan as the seed's appendix prints it, with each item's status (and
/// whether it is overdue on `as_of`).
pub fn remediation_table(v: &PlanView, as_of: NaiveDate) -> Table {
    let mut headers: Vec<String> = APPENDIX_HEADERS.iter().map(|h| h.to_string()).collect();
    headers.push("TRẠNG THÁI".to_string());
    headers.push("CHỈ TIÊU".to_string());
    headers.push("ĐẠT ĐƯỢC".to_string());
    let hundredths = |x: Option<i64>| x.map(crate::scoring::from_hundredths);
    let total_deduction: Decimal = v
        .items
        .iter()
        .filter_map(|i| hundredths(i.item.deduction_x100))
        .sum();
    Table {
        sheet_name: format!("Khắc phục {}", v.plan.year),
        title: vec![
            "PHỤ LỤC".to_string(),
            format!(
                "KẾT QUẢ ĐÁNH GIÁ CCHC {} NĂM {}",
                v.unit.name.to_uppercase(),
                v.plan.source_year
            ),
            format!(
                "VÀ BIỆN PHÁP KHẮC PHỤC, NÂNG CAO CHỈ SỐ CCHC NĂM {}",
                v.plan.year
            ),
        ],
        headers,
        widths: vec![
            8.0, 48.0, 10.0, 11.0, 11.0, 10.0, 44.0, 48.0, 16.0, 12.0, 12.0,
        ],
        rows: v
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                let mut status = status_label(i.item.status).to_string();
                if i.is_overdue(as_of) {
                    status.push_str(" (quá hạn)");
                }
                vec![
                    Cell::Text(
                        i.item
                            .criterion_code
                            .clone()
                            .unwrap_or_else(|| (n + 1).to_string()),
                    ),
                    Cell::Text(i.item.title.clone()),
                    Cell::from(hundredths(i.item.max_score_x100)),
                    Cell::from(hundredths(i.item.self_score_x100)),
                    Cell::from(hundredths(i.item.appraised_score_x100)),
                    hundredths(i.item.deduction_x100).map_or(Cell::Empty, lost),
                    Cell::Text(i.item.comment.clone().unwrap_or_default()),
                    Cell::Text(i.responsible_text()),
                    Cell::Text(status),
                    Cell::Text(i.target.as_ref().map(|t| t.words()).unwrap_or_default()),
                    Cell::from(i.achieved().map(|(a, _)| a)),
                ]
            })
            .collect(),
        total: Some(vec![
            Cell::Empty,
            Cell::Text("Tổng cộng".to_string()),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            lost(total_deduction),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]),
    }
}
