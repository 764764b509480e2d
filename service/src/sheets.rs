//! Tables as spreadsheets: XLSX (rust_xlsxwriter; bold header, frozen header row, numbers
//! with 2 decimals, a total row) and CSV (UTF-8 with a BOM, so that Excel shows Vietnamese
//! text correctly, and text cells that would start a formula neutralised). Uploads are read
//! back by `parindex_domain::spreadsheet`, within its budget.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook};

pub use parindex_domain::file_kind::XLSX_CONTENT_TYPE;
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// A score or other decimal, shown with 2 decimals.
    Decimal(Decimal),
    Int(i64),
    /// A change (of rank): a number, shown with its sign in XLSX (`+1`, `-3`); in a CSV a
    /// plain number (`1`, `-3`), never a text the formula guard would quote.
    Change(i64),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Decimal> for Cell {
    fn from(d: Decimal) -> Self {
        Cell::Decimal(d)
    }
}

impl From<Option<Decimal>> for Cell {
    fn from(d: Option<Decimal>) -> Self {
        d.map_or(Cell::Empty, Cell::Decimal)
    }
}

impl Cell {
    /// The cell as CSV text: a text cell that a spreadsheet program would evaluate as a
    /// formula (`=`, `+`, `-`, `@`, tab, CR) is neutralised; numbers are written as numbers.
    fn as_csv_text(&self) -> String {
        match self {
            Cell::Text(s) => parindex_domain::spreadsheet::neutralize_formula(s).into_owned(),
            Cell::Decimal(d) => d.to_string(),
            Cell::Int(i) | Cell::Change(i) => i.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A sheet: title lines above, a header row, data rows, an optional total row.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub sheet_name: String,
    pub title: Vec<String>,
    pub headers: Vec<String>,
    /// Column widths in characters (defaults to 14).
    pub widths: Vec<f64>,
    pub rows: Vec<Vec<Cell>>,
    pub total: Option<Vec<Cell>>,
}

pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, anyhow::Error> {
    let mut workbook = Workbook::new();
    // The same rows make the same bytes: rust_xlsxwriter would stamp the download's time
    // into the document properties, so two downloads of one table would differ (and
    // clients that compare or cache files could not). The creation time is fixed instead.
    let title = table.title.first().unwrap_or(&table.sheet_name);
    workbook.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_author("parindex")
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?),
    );
    let sheet = workbook.add_worksheet();
    sheet.set_name(&table.sheet_name)?;
    let bold = Format::new().set_bold();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let number = Format::new().set_num_format("0.00");
    let bold_number = Format::new().set_bold().set_num_format("0.00");
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let signed = Format::new().set_num_format("+0;-0;0");

    let mut row: u32 = 0;
    for line in &table.title {
        sheet.write_string_with_format(row, 0, line, &bold)?;
        row += 1;
    }
    if !table.title.is_empty() {
        row += 1;
    }
    for (col, h) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(row, col as u16, h, &header)?;
        let width = table.widths.get(col).copied().unwrap_or(14.0);
        sheet.set_column_width(col as u16, width)?;
    }
    sheet.set_freeze_panes(row + 1, 0)?;
    row += 1;
    let write = |sheet: &mut rust_xlsxwriter::Worksheet,
                 row: u32,
                 cells: &[Cell],
                 total: bool|
     -> Result<(), anyhow::Error> {
        for (col, cell) in cells.iter().enumerate() {
            let col = col as u16;
            match cell {
                Cell::Text(s) if total => {
                    sheet.write_string_with_format(row, col, s, &bold)?;
                }
                Cell::Text(s) => {
                    sheet.write_string_with_format(row, col, s, &wrap)?;
                }
                // Excel stores numbers as doubles; the value shown keeps its 2 places.
                Cell::Decimal(d) => {
                    let f = d.to_f64().unwrap_or_default();
                    sheet.write_number_with_format(
                        row,
                        col,
                        f,
                        if total { &bold_number } else { &number },
                    )?;
                }
                Cell::Int(i) => {
                    sheet.write_number(row, col, *i as f64)?;
                }
                Cell::Change(i) => {
                    sheet.write_number_with_format(row, col, *i as f64, &signed)?;
                }
                Cell::Empty => {}
            }
        }
        Ok(())
    };
    for cells in &table.rows {
        write(sheet, row, cells, false)?;
        row += 1;
    }
    if let Some(total) = &table.total {
        write(sheet, row, total, true)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// CSV with a UTF-8 byte-order mark; the title lines are left out (one header row).
pub fn to_csv(table: &Table) -> Result<Vec<u8>, anyhow::Error> {
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(
            table
                .headers
                .iter()
                .map(|h| parindex_domain::spreadsheet::neutralize_formula(h).into_owned()),
        )?;
        for cells in table.rows.iter().chain(table.total.iter()) {
            writer.write_record(cells.iter().map(Cell::as_csv_text))?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// A `Content-Disposition` for a download: an ASCII fallback name and the UTF-8 name
/// (RFC 6266/5987), so that "Xếp hạng 2023.xlsx" keeps its accents where supported.
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = crate::validation::fold_for_search(file_name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use parindex_domain::spreadsheet::{
        Budget, read_csv as read_csv_budget, read_xlsx as read_xlsx_budget,
    };
    use rust_decimal_macros::dec;

    fn read_csv(bytes: &[u8]) -> Result<parindex_domain::spreadsheet::Rows, String> {
        read_csv_budget(bytes, &Budget::DEFAULT).map_err(|e| e.message().en.clone())
    }

    fn read_xlsx(
        bytes: &[u8],
        text: &[usize],
    ) -> Result<parindex_domain::spreadsheet::Rows, String> {
        read_xlsx_budget(bytes, &Budget::DEFAULT, text).map_err(|e| e.message().en.clone())
    }

    fn table() -> Table {
        Table {
            sheet_name: "Xếp hạng".into(),
            title: vec!["KẾT QUẢ".into()],
            headers: vec!["TT".into(), "Đơn vị".into(), "Điểm".into()],
            widths: vec![],
            rows: vec![
                vec![Cell::Int(1), "Xã Vĩnh Long".into(), dec!(88.25).into()],
                vec![Cell::Int(2), "Thị trấn Hồ Xá".into(), dec!(0.78).into()],
            ],
            total: Some(vec![Cell::Empty, "Tổng cộng".into(), dec!(89.03).into()]),
        }
    }

    /// Numbers stay numbers: only text cells get the formula guard's quote.
    #[test]
    fn a_negative_change_is_a_number_in_csv() {
        let mut t = table();
        t.headers.extend(["Thay đổi".into(), "Ghi chú".into()]);
        t.rows[0].extend([Cell::Change(-3), "".into()]);
        t.rows[1].extend([Cell::Change(1), "=HYPERLINK(1)".into()]);
        t.total = None;
        let csv = String::from_utf8(to_csv(&t).unwrap()).unwrap();
        assert!(csv.contains(",-3,"), "{csv}");
        assert!(csv.contains(",1,'=HYPERLINK(1)"), "{csv}");
        assert!(!csv.contains("'-3") && !csv.contains("'+1"), "{csv}");
    }

    #[test]
    fn csv_has_a_bom_and_reads_back() {
        let bytes = to_csv(&table()).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let rows = read_csv(&bytes).unwrap();
        assert_eq!(rows[0].1, ["TT", "Đơn vị", "Điểm"]);
        assert_eq!(rows[1].1, ["1", "Xã Vĩnh Long", "88.25"]);
        assert_eq!(rows[3].1[1], "Tổng cộng");
    }

    #[test]
    fn xlsx_reads_back_with_exact_decimals() {
        let bytes = to_xlsx(&table()).unwrap();
        let rows = read_xlsx(&bytes, &[]).unwrap();
        assert_eq!(rows[0].1[0], "KẾT QUẢ");
        let header = rows
            .iter()
            .find(|(_, r)| r.first().map(String::as_str) == Some("TT"))
            .unwrap();
        assert_eq!(header.1, ["TT", "Đơn vị", "Điểm"]);
        let data: Vec<&Vec<String>> = rows
            .iter()
            .map(|(_, r)| r)
            .skip_while(|r| r[0] != "TT")
            .skip(1)
            .collect();
        assert_eq!(
            data[0],
            &vec!["1".to_string(), "Xã Vĩnh Long".into(), "88.25".into()]
        );
        assert_eq!(data[1][2], "0.78");
        assert_eq!(data[2][2], "89.03");
    }

    #[test]
    fn fractional_numbers_in_text_columns_are_refused() {
        let t = Table {
            sheet_name: "s".into(),
            headers: vec!["code".into()],
            rows: vec![vec![Cell::Decimal(dec!(1.1))]],
            ..Default::default()
        };
        let bytes = to_xlsx(&t).unwrap();
        assert!(
            read_xlsx(&bytes, &[0])
                .unwrap_err()
                .contains("format the column as text")
        );
    }

    #[test]
    fn download_names_keep_accents_with_an_ascii_fallback() {
        let cd = content_disposition("Xếp hạng 2023.xlsx");
        assert!(
            cd.starts_with("attachment; filename=\"xep_hang_2023.xlsx\""),
            "{cd}"
        );
        assert!(
            cd.contains("filename*=UTF-8''X%E1%BA%BFp%20h%E1%BA%A1ng%202023.xlsx"),
            "{cd}"
        );
    }
}
