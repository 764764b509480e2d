//! Uploaded spreadsheets (CSV, XLSX) read within a fixed budget, and the formula
//! neutralisation of the text cells of every CSV the service writes.
//!
//! An XLSX file is a zip of XML parts: a 7 KB file can declare a sheet of 17 billion cells
//! (`A1:XFD1048576`) and a 2 MB file can inflate to gigabytes. So before any part is
//! parsed, every entry of the archive is inflated into nothing, counting its real size (the
//! sizes a zip declares can lie); the worksheet is then read cell by cell, in stream
//! order, never as a dense rectangle; and every cell is checked against the row, column,
//! cell-count and cell-length limits and the clock. A file over any limit is refused with
//! the limit it broke; memory never exceeds the decompressed budget plus the cells kept.

use crate::text;
use crate::text::Text;
use calamine::{DataRef, Reader, Xlsx};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

/// A spreadsheet upload's non-empty rows as text cells, each with its 1-based row number.
pub type Rows = Vec<(usize, Vec<String>)>;

/// What reading one upload may cost at most.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// All entries of an XLSX archive together, inflated.
    pub max_decompressed_bytes: u64,
    /// Entries of an XLSX archive (a workbook has a dozen).
    pub max_zip_entries: usize,
    /// Rows, counting from the first (a cell below this row is refused).
    pub max_rows: u32,
    /// Columns, counting from A.
    pub max_columns: u32,
    /// Non-empty cells.
    pub max_cells: usize,
    /// Characters in one cell (Excel's own limit is 32,767).
    pub max_cell_chars: usize,
    /// Wall-clock time for the whole read.
    pub max_time: Duration,
}

impl Budget {
    /// Enough for any real framework or year's workbook by orders of magnitude (a
    /// 100-criterion framework is ~20 KB and 110 rows), small enough that a few reads at
    /// once stay far below the server's memory.
    pub const DEFAULT: Budget = Budget {
        max_decompressed_bytes: 32 * 1024 * 1024,
        max_zip_entries: 256,
        max_rows: 10_000,
        max_columns: 64,
        max_cells: 200_000,
        max_cell_chars: 32_767,
        max_time: Duration::from_secs(10),
    };
}

impl Default for Budget {
    fn default() -> Self {
        Budget::DEFAULT
    }
}

/// The limit an upload broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    DecompressedSize,
    ZipEntries,
    Rows,
    Columns,
    Cells,
    CellLength,
    Time,
}

impl Limit {
    /// A stable name clients can branch on.
    pub fn name(self) -> &'static str {
        match self {
            Limit::DecompressedSize => "decompressed_size",
            Limit::ZipEntries => "zip_entries",
            Limit::Rows => "rows",
            Limit::Columns => "columns",
            Limit::Cells => "cells",
            Limit::CellLength => "cell_length",
            Limit::Time => "time",
        }
    }

    /// True for limits on bytes (an HTTP 413), false for limits on the content (422).
    pub fn is_size(self) -> bool {
        matches!(self, Limit::DecompressedSize | Limit::ZipEntries)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadError {
    /// Over one of the budget's limits; `message` says which and what the limit is.
    OverBudget { limit: Limit, message: Text },
    /// Not a readable file of the expected kind.
    Unreadable(Text),
}

impl UploadError {
    pub fn message(&self) -> &Text {
        match self {
            UploadError::OverBudget { message, .. } | UploadError::Unreadable(message) => message,
        }
    }
}

fn over(limit: Limit, message: Text) -> UploadError {
    UploadError::OverBudget { limit, message }
}

/// The deadline of one read.
struct Clock {
    deadline: Instant,
    limit: Duration,
}

impl Clock {
    fn start(budget: &Budget) -> Clock {
        Clock {
            deadline: Instant::now() + budget.max_time,
            limit: budget.max_time,
        }
    }

    fn check(&self) -> Result<(), UploadError> {
        if Instant::now() > self.deadline {
            return Err(over(
                Limit::Time,
                text!(
                    "the file took longer than {} s to read",
                    "đọc tệp mất quá {} giây",
                    self.limit.as_secs_f64()
                ),
            ));
        }
        Ok(())
    }
}

/// `A1`-style name of a 0-based cell position, for messages.
pub fn cell_name(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = u64::from(col) + 1;
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push((b'A' + rem) as char);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!(
        "{}{}",
        letters.into_iter().collect::<String>(),
        u64::from(row) + 1
    )
}

/// Characters a spreadsheet program reads as the start of a formula (OWASP's list).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as it must be written to a CSV: one that a spreadsheet program would
/// evaluate as a formula gets a leading `'` (OWASP "CSV injection"). Numbers are never
/// text cells, so a negative score in a numeric column stays a number.
pub fn neutralize_formula(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The inverse of `neutralize_formula`, applied when our own CSV is read back, so that an
/// exported framework imports unchanged.
pub fn restore_neutralized(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) => rest,
        _ => text,
    }
}

fn check_cell(
    budget: &Budget,
    row: u32,
    col: u32,
    text: &str,
    cells: &mut usize,
) -> Result<(), UploadError> {
    if row >= budget.max_rows {
        return Err(over(
            Limit::Rows,
            text!(
                "cell {0} is beyond row {1}: at most {1} rows are read",
                "ô {0} nằm quá dòng {1}: chỉ đọc tối đa {1} dòng",
                cell_name(row, col),
                budget.max_rows
            ),
        ));
    }
    if col >= budget.max_columns {
        return Err(over(
            Limit::Columns,
            text!(
                "cell {} is beyond column {}: at most {} columns are read",
                "ô {} nằm quá cột {}: chỉ đọc tối đa {} cột",
                cell_name(row, col),
                cell_name(0, budget.max_columns - 1).trim_end_matches('1'),
                budget.max_columns
            ),
        ));
    }
    if text.is_empty() {
        return Ok(());
    }
    *cells += 1;
    if *cells > budget.max_cells {
        return Err(over(
            Limit::Cells,
            text!(
                "the file has more than {} non-empty cells",
                "tệp có hơn {} ô có dữ liệu",
                budget.max_cells
            ),
        ));
    }
    if text.chars().nth(budget.max_cell_chars).is_some() {
        return Err(over(
            Limit::CellLength,
            text!(
                "cell {} has more than {} characters",
                "ô {} có hơn {} ký tự",
                cell_name(row, col),
                budget.max_cell_chars
            ),
        ));
    }
    Ok(())
}

/// Reads CSV (UTF-8, BOM tolerated). Cells neutralised by `neutralize_formula` read back as
/// they were.
pub fn read_csv(bytes: &[u8], budget: &Budget) -> Result<Rows, UploadError> {
    let clock = Clock::start(budget);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let mut rows = Vec::new();
    let mut cells = 0usize;
    let mut row: u32 = 0;
    loop {
        clock.check()?;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(u64::from(row) + 1, |p| p.line());
                return Err(UploadError::Unreadable(match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => text!(
                        "line {line} is not UTF-8 text: save the file as \"CSV UTF-8\"",
                        "dòng {line} không phải văn bản UTF-8: hãy lưu tệp dạng \"CSV UTF-8\""
                    ),
                    _ => text!(
                        "line {line} cannot be read as CSV",
                        "không đọc được dòng {line} theo định dạng CSV"
                    ),
                }));
            }
        }
        let mut out = Vec::with_capacity(record.len().min(budget.max_columns as usize));
        for (col, field) in record.iter().enumerate() {
            let col = u32::try_from(col).unwrap_or(u32::MAX);
            let text = restore_neutralized(field);
            check_cell(budget, row, col, text, &mut cells)?;
            out.push(text.to_string());
        }
        if out.iter().any(|c| !c.trim().is_empty()) {
            rows.push((row as usize + 1, out));
        }
        row = row.saturating_add(1);
    }
    Ok(rows)
}

/// Inflates every entry of the archive into nothing, counting real sizes, so that no part
/// is parsed before the whole archive is known to fit the budget.
fn check_archive(bytes: &[u8], budget: &Budget, clock: &Clock) -> Result<(), UploadError> {
    let not_xlsx = || {
        UploadError::Unreadable(text!(
            "not an XLSX file (not a zip archive)",
            "không phải tệp XLSX (không phải tệp nén zip)"
        ))
    };
    let damaged = || {
        UploadError::Unreadable(text!(
            "a part of the XLSX archive is damaged",
            "một phần của tệp XLSX bị hỏng"
        ))
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    if archive.len() > budget.max_zip_entries {
        return Err(over(
            Limit::ZipEntries,
            text!(
                "the archive has {} parts; at most {} are read",
                "tệp nén có {} phần; chỉ đọc tối đa {}",
                archive.len(),
                budget.max_zip_entries
            ),
        ));
    }
    let too_big = || {
        over(
            Limit::DecompressedSize,
            text!(
                "the file inflates to more than {} bytes",
                "tệp giải nén ra hơn {} byte",
                budget.max_decompressed_bytes
            ),
        )
    };
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| damaged())?;
        let remaining = budget.max_decompressed_bytes.saturating_sub(total);
        if entry.size() > remaining {
            return Err(too_big());
        }
        loop {
            clock.check()?;
            let n = entry.read(&mut buf).map_err(|_| damaged())?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > budget.max_decompressed_bytes {
                return Err(too_big());
            }
        }
    }
    Ok(())
}

/// One cell as text. Numbers come back in their shortest decimal form (0.78, not
/// 0.78000000000000003); a number with a fraction in a column that `text_columns` names
/// (e.g. a criterion code typed as 1.10 and stored as 1.1) is an error.
fn cell_text(
    value: &DataRef<'_>,
    row: u32,
    col: u32,
    text_columns: &[usize],
) -> Result<String, UploadError> {
    Ok(match value {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if text_columns.contains(&(col as usize)) && f.fract() != 0.0 => {
            let cell = cell_name(row, col);
            return Err(UploadError::Unreadable(text!(
                "cell {cell}: {f} is stored as a number; format the column as text \
                 (a code like 1.10 would read as 1.1)",
                "ô {cell}: {f} được lưu dạng số; hãy định dạng cột là văn bản \
                 (mã như 1.10 sẽ bị đọc thành 1.1)"
            )));
        }
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::DateTime(d) => d.to_string(),
        DataRef::Error(e) => {
            let cell = cell_name(row, col);
            return Err(UploadError::Unreadable(text!(
                "cell {cell} holds an error ({e})",
                "ô {cell} chứa lỗi ({e})"
            )));
        }
    })
}

/// Reads the first sheet of an XLSX file within `budget`.
pub fn read_xlsx(
    bytes: &[u8],
    budget: &Budget,
    text_columns: &[usize],
) -> Result<Rows, UploadError> {
    let clock = Clock::start(budget);
    check_archive(bytes, budget, &clock)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| {
        UploadError::Unreadable(text!(
            "not a readable XLSX workbook",
            "không đọc được sổ tính XLSX"
        ))
    })?;
    let first = workbook.sheet_names().first().cloned().ok_or_else(|| {
        UploadError::Unreadable(text!(
            "the workbook has no sheet",
            "sổ tính không có trang nào"
        ))
    })?;
    let mut reader = workbook.worksheet_cells_reader(&first).map_err(|_| {
        UploadError::Unreadable(text!(
            "the first sheet cannot be read",
            "không đọc được trang tính đầu tiên"
        ))
    })?;
    let mut by_row: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let mut cells = 0usize;
    while let Some(cell) = reader.next_cell().map_err(|_| {
        UploadError::Unreadable(text!(
            "the first sheet is damaged",
            "trang tính đầu tiên bị hỏng"
        ))
    })? {
        clock.check()?;
        let (row, col) = cell.get_position();
        // Position first: a far-away empty cell is as much a sign of a hostile file.
        check_cell(budget, row, col, "", &mut cells)?;
        let text = cell_text(cell.get_value(), row, col, text_columns)?;
        check_cell(budget, row, col, &text, &mut cells)?;
        if !text.is_empty() {
            by_row.entry(row).or_default().push((col, text));
        }
    }
    Ok(by_row
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|(_, t)| !t.trim().is_empty()))
        .map(|(row, cells)| {
            let width = cells
                .iter()
                .map(|(c, _)| *c as usize + 1)
                .max()
                .unwrap_or(0);
            let mut out = vec![String::new(); width];
            for (col, text) in cells {
                out[col as usize] = text;
            }
            (row as usize + 1, out)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        for (r, c, text) in cells {
            sheet.write_string(*r, *c, *text).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn cell_names_are_excel_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(13, 5), "F14");
        assert_eq!(cell_name(0, 25), "Z1");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
    }

    #[test]
    fn csv_reads_rows_with_their_numbers_and_skips_blank_ones() {
        let rows = read_csv(b"\xEF\xBB\xBFa,b\n,\nc,d\n", &Budget::DEFAULT).unwrap();
        assert_eq!(
            rows,
            vec![
                (1, vec!["a".into(), "b".into()]),
                (3, vec!["c".into(), "d".into()])
            ]
        );
    }

    #[test]
    fn csv_over_the_column_limit_is_refused() {
        let line = ",".repeat(100) + "x\n";
        let e = read_csv(line.as_bytes(), &Budget::DEFAULT).unwrap_err();
        assert!(
            matches!(
                e,
                UploadError::OverBudget {
                    limit: Limit::Columns,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn csv_that_is_not_utf8_says_so() {
        let e = read_csv(b"a,\xff\xfe\n", &Budget::DEFAULT).unwrap_err();
        assert!(
            e.message().en.contains("UTF-8") && e.message().vi.contains("UTF-8"),
            "{e:?}"
        );
    }

    #[test]
    fn formulas_are_neutralised_and_read_back() {
        for text in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            let safe = neutralize_formula(text);
            assert!(safe.starts_with('\''), "{text:?}");
            assert_eq!(restore_neutralized(&safe), text);
        }
        assert_eq!(neutralize_formula("Xã Vĩnh Long"), "Xã Vĩnh Long");
        assert_eq!(restore_neutralized("'quoted"), "'quoted");
    }

    #[test]
    fn xlsx_reads_the_used_cells_only() {
        let bytes = xlsx(&[(0, 0, "code"), (0, 1, "title"), (2, 1, "x")]);
        let rows = read_xlsx(&bytes, &Budget::DEFAULT, &[]).unwrap();
        assert_eq!(
            rows,
            vec![
                (1, vec!["code".into(), "title".into()]),
                (3, vec![String::new(), "x".into()])
            ]
        );
    }

    #[test]
    fn a_cell_at_the_far_corner_is_refused_without_allocating_the_range() {
        let bytes = xlsx(&[(0, 0, "a"), (1_048_575, 16_383, "b")]);
        assert!(bytes.len() < 10_000);
        let e = read_xlsx(&bytes, &Budget::DEFAULT, &[]).unwrap_err();
        match e {
            UploadError::OverBudget { limit, message } => {
                assert!(matches!(limit, Limit::Rows | Limit::Columns));
                assert!(message.en.contains("XFD1048576"), "{message:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A zip whose one sheet inflates to `inflated` bytes of spaces.
    fn bomb(inflated: usize) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let chunk = vec![b' '; 1 << 20];
        let mut left = inflated;
        while left > 0 {
            let n = left.min(chunk.len());
            zip.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn an_archive_that_inflates_past_the_budget_is_refused() {
        let budget = Budget {
            max_decompressed_bytes: 4 << 20,
            ..Budget::DEFAULT
        };
        let bytes = bomb(16 << 20);
        assert!(bytes.len() < 100_000, "{}", bytes.len());
        let e = read_xlsx(&bytes, &budget, &[]).unwrap_err();
        assert!(
            matches!(
                e,
                UploadError::OverBudget {
                    limit: Limit::DecompressedSize,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn the_clock_stops_a_slow_read() {
        let budget = Budget {
            max_time: Duration::ZERO,
            ..Budget::DEFAULT
        };
        std::thread::sleep(Duration::from_millis(2));
        let e = read_csv(b"a\n", &budget).unwrap_err();
        assert!(
            matches!(
                e,
                UploadError::OverBudget {
                    limit: Limit::Time,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        for bytes in [&b""[..], b"PK\x03\x04", b"not a zip at all"] {
            assert!(matches!(
                read_xlsx(bytes, &Budget::DEFAULT, &[]),
                Err(UploadError::Unreadable(_))
            ));
        }
    }
}
