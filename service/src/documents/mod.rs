//! Official papers as DOCX, laid out as Nghị định 30/2020/NĐ-CP (Phụ lục I) prescribes for
//! administrative documents: A4, Times New Roman 13–14, margins 20–25 mm top and bottom,
//! 30–35 mm left, 15–20 mm right; the issuer and the national motto side by side at the
//! top, the number and symbol under the issuer, place and date under the motto; the kind
//! and summary of the document, "Kính gửi", the body, then "Nơi nhận" beside the signature
//! block. An annex (phụ lục) follows on its own page and says which document it belongs to.
//!
//! [`Paper`] is that frame, filled from stored data by `services::papers`; [`render`] writes it.
//! Tables are the same `sheets::Table`s the XLSX and CSV exports print, so every format
//! shows the same rows. [`pdf`] turns a DOCX into PDF with LibreOffice when configured.

pub mod pdf;

use crate::sheets::{Cell, Table};
use chrono::{Datelike, NaiveDate};
use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, PageOrientationType, PageSize, Paragraph, Run,
    RunFonts, SectionProperty, SpecialIndentType, TableCell, TableRow, WidthType,
};
use rust_decimal::Decimal;

pub const DOCX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const PDF_CONTENT_TYPE: &str = "application/pdf";

/// Font sizes in half-points: 14 pt titles, 13 pt body, 12 pt table text and the motto's
/// first line, 11 pt the "Nơi nhận" list (Phụ lục I's sizes).
const TITLE: usize = 28;
const BODY: usize = 26;
const SMALL: usize = 24;
const LIST: usize = 22;

/// Twentieths of a point per millimetre (Word's unit): 1 mm ≈ 56.7 twips.
fn mm(v: i32) -> i32 {
    v * 567 / 10
}

/// A4 with the decree's margins: top and bottom 20 mm, left 30 mm, right 15 mm.
const PAGE_SHORT_MM: i32 = 210;
const PAGE_LONG_MM: i32 = 297;
const LEFT_MM: i32 = 30;
const RIGHT_MM: i32 = 15;

fn margins() -> PageMargin {
    PageMargin::new()
        .top(mm(20))
        .bottom(mm(20))
        .left(mm(LEFT_MM))
        .right(mm(RIGHT_MM))
}

fn usable_width(landscape: bool) -> usize {
    let page = if landscape {
        PAGE_LONG_MM
    } else {
        PAGE_SHORT_MM
    };
    mm(page - LEFT_MM - RIGHT_MM) as usize
}

fn font() -> RunFonts {
    RunFonts::new()
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
        .cs("Times New Roman")
        .east_asia("Times New Roman")
}

/// Every text of a paper goes through here: a character XML 1.0 forbids (U+FFFE, U+FFFF,
/// control characters but tab and newline) would make the DOCX unreadable, so none is
/// written, whatever was stored before the validator refused them.
fn run(text: &str, size: usize) -> Run {
    let safe: String = text
        .chars()
        .filter(|c| crate::validation::is_xml_char(*c))
        .collect();
    Run::new().add_text(safe).size(size).fonts(font())
}

fn centered(r: Run) -> Paragraph {
    Paragraph::new().add_run(r).align(AlignmentType::Center)
}

/// A decimal as Vietnamese documents print it: a comma before the decimals (−12,75).
pub fn vi_decimal(d: Decimal) -> String {
    let mut d = crate::scoring::round2(d);
    // No "-0,00": a deduction of nothing is printed as nothing lost.
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d.to_string().replace('.', ",")
}

/// A date as the decree writes it: "ngày 05 tháng 02 năm 2024" (a zero before days under 10
/// and before months 1 and 2, so that nothing can be added in front of them by hand).
pub fn vi_date(d: NaiveDate) -> String {
    let month = if d.month() < 3 {
        format!("{:02}", d.month())
    } else {
        d.month().to_string()
    };
    format!("ngày {:02} tháng {month} năm {}", d.day(), d.year())
}

/// When a paper is dated: a day, or only its year with the day and month left blank for
/// the clerk who numbers and dates it on issue (as the seed letter is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaperDate {
    On(NaiveDate),
    InYear(i32),
}

impl PaperDate {
    fn words(self) -> String {
        match self {
            PaperDate::On(d) => vi_date(d),
            PaperDate::InYear(y) => format!("ngày      tháng      năm {y}"),
        }
    }
}

/// The issuing authority (ô số 1): its governing body when it has one, printed plain,
/// then its own name, bold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuer {
    pub superior: Option<String>,
    pub name: Vec<String>,
}

/// Who signs (ô số 7): the authority lines ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"), the name
/// when it is known, and a note printed under the lines (a recorded electronic approval).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub lines: Vec<String>,
    pub name: Option<String>,
    pub note: Option<String>,
}

/// A piece of the body.
#[derive(Clone, Debug)]
pub enum Block {
    /// A paragraph, justified, first line indented.
    Text(String),
    /// A numbered heading inside the body ("2.1. Công chức Văn phòng - Thống kê:"), bold.
    Heading(String),
    /// A dashed point ("- …").
    Point(String),
    /// A table in the body's width.
    Table(Table),
}

/// An annex on its own page, after the signature.
#[derive(Clone, Debug)]
pub struct Annex {
    pub title: Vec<String>,
    /// "Công văn số 45/UBND-CCHC ngày … của UBND xã …", printed "(Kèm theo …)".
    pub attached_to: Option<String>,
    pub table: Table,
    pub landscape: bool,
}

/// An administrative document in the decree's layout.
#[derive(Clone, Debug)]
pub struct Paper {
    pub issuer: Issuer,
    /// Ô số 3: the number and symbol as issued ("45/UBND-CCHC"); without it the number is
    /// left blank before `symbol` ("Số:      /UBND-CCHC").
    pub number: Option<String>,
    pub symbol: String,
    /// Ô số 5b: a letter's subject, under its number ("V/v …").
    pub subject: Option<String>,
    /// Ô số 4: place and date.
    pub place: String,
    pub date: PaperDate,
    /// Printed above the title when the paper is not final (e.g. not yet approved).
    pub draft: Option<String>,
    /// Ô số 5a: the kind ("THÔNG BÁO", "BÁO CÁO") and summary of a named document.
    pub title: Option<(String, String)>,
    /// Ô số 9a: "Kính gửi".
    pub addressees: Vec<String>,
    pub body: Vec<Block>,
    /// Ô số 9b: "Nơi nhận", ending with the archive ("Lưu: VT.").
    pub recipients: Vec<String>,
    pub signature: Signature,
    pub annex: Option<Annex>,
}

impl Paper {
    /// The number line: "Số: 45/UBND-CCHC", or "Số:      /UBND-CCHC" before issue.
    pub fn number_line(&self) -> String {
        match &self.number {
            Some(n) => format!("Số: {n}"),
            None => format!("Số:       /{}", self.symbol),
        }
    }

    /// How an annex names this paper: "Công văn số 45/UBND-CCHC ngày 15/01/2024".
    pub fn reference(&self, kind: &str) -> String {
        let number = match &self.number {
            Some(n) => n.clone(),
            None => format!("     /{}", self.symbol),
        };
        let date = match self.date {
            PaperDate::On(d) => d.format("%d/%m/%Y").to_string(),
            PaperDate::InYear(y) => format!("    /    /{y}"),
        };
        format!("{kind} số {number} ngày {date}")
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        Cell::Decimal(d) => vi_decimal(*d),
        Cell::Int(i) => i.to_string(),
        Cell::Change(i) if *i > 0 => format!("+{i}"),
        Cell::Change(i) => i.to_string(),
        Cell::Empty => String::new(),
    }
}

fn table_cell(text: &str, bold: bool, centre: bool, width: usize) -> TableCell {
    table_cell_sized(text, bold, centre, width, SMALL)
}

fn table_cell_sized(text: &str, bold: bool, centre: bool, width: usize, size: usize) -> TableCell {
    let mut r = run(text, size);
    if bold {
        r = r.bold();
    }
    let mut p = Paragraph::new().add_run(r);
    if centre {
        p = p.align(AlignmentType::Center);
    }
    TableCell::new()
        .add_paragraph(p)
        .width(width, WidthType::Dxa)
}

/// A bordered table: header row, rows, total row, columns in `table.widths`' proportions.
fn grid(table: &Table, usable: usize) -> docx_rs::Table {
    let total_width: f64 = table.widths.iter().sum::<f64>().max(1.0);
    let widths: Vec<usize> = table
        .widths
        .iter()
        .map(|w| ((w / total_width) * usable as f64) as usize)
        .collect();
    let width = |i: usize| widths.get(i).copied().unwrap_or(1000);
    // Headers and figures centred, text left.
    let row = |cells: &[Cell], bold: bool| {
        TableRow::new(
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let figure = matches!(c, Cell::Decimal(_) | Cell::Int(_));
                    table_cell(&cell_text(c), bold, figure, width(i))
                })
                .collect(),
        )
    };
    let headers: Vec<TableCell> = table
        .headers
        .iter()
        .enumerate()
        // Column titles a point smaller, so that "ĐIỂM THẨM ĐỊNH" fits a figure's column.
        .map(|(i, h)| table_cell_sized(h, true, true, width(i), LIST))
        .collect();
    let mut rows = vec![TableRow::new(headers)];
    for r in &table.rows {
        rows.push(row(r, false));
    }
    if let Some(total) = &table.total {
        rows.push(row(total, true));
    }
    docx_rs::Table::new(rows).set_grid(widths)
}

/// A borderless cell holding centred paragraphs (the header and signature blocks).
fn block_cell(paragraphs: Vec<Paragraph>, width: usize) -> TableCell {
    paragraphs
        .into_iter()
        .fold(TableCell::new(), TableCell::add_paragraph)
        .width(width, WidthType::Dxa)
}

/// A short rule under the issuer's name and the motto.
fn rule(chars: usize) -> Paragraph {
    centered(run(&"_".repeat(chars), SMALL).bold()).line_spacing(LineSpacing::new().after(120))
}

/// Ô số 1–4 and 5b: issuer and motto side by side, then number (and subject) beside place
/// and date.
fn header(paper: &Paper) -> docx_rs::Table {
    let usable = usable_width(false);
    let left = usable * 38 / 100;
    let right = usable - left;
    let mut issuer = Vec::new();
    if let Some(s) = &paper.issuer.superior {
        issuer.push(centered(run(&s.to_uppercase(), BODY)));
    }
    for line in &paper.issuer.name {
        issuer.push(centered(run(&line.to_uppercase(), BODY).bold()));
    }
    issuer.push(rule(8));
    let motto = vec![
        centered(run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", SMALL).bold()),
        centered(run("Độc lập - Tự do - Hạnh phúc", BODY).bold()),
        rule(18),
    ];
    let mut number = vec![centered(run(&paper.number_line(), BODY))];
    if let Some(subject) = &paper.subject {
        number.push(centered(run(subject, SMALL)));
    }
    let date = vec![centered(
        run(&format!("{}, {}", paper.place, paper.date.words()), BODY).italic(),
    )];
    docx_rs::Table::without_borders(vec![
        TableRow::new(vec![block_cell(issuer, left), block_cell(motto, right)]),
        TableRow::new(vec![block_cell(number, left), block_cell(date, right)]),
    ])
    .set_grid(vec![left, right])
}

/// Body text: justified, first line indented 1.27 cm, 6 pt after.
fn body_paragraph(r: Run) -> Paragraph {
    Paragraph::new()
        .add_run(r)
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(720)), None, None)
        .line_spacing(LineSpacing::new().after(120))
}

/// Ô số 9b and 7: "Nơi nhận" on the left, the signature block on the right.
fn footer(paper: &Paper) -> docx_rs::Table {
    let usable = usable_width(false);
    let left = usable / 2;
    let right = usable - left;
    let mut received = vec![Paragraph::new().add_run(run("Nơi nhận:", SMALL).bold().italic())];
    let last = paper.recipients.len().saturating_sub(1);
    for (i, r) in paper.recipients.iter().enumerate() {
        let end = if i == last { "." } else { ";" };
        received.push(Paragraph::new().add_run(run(
            &format!("- {}{end}", r.trim_end_matches(['.', ';'])),
            LIST,
        )));
    }
    let mut signed: Vec<Paragraph> = paper
        .signature
        .lines
        .iter()
        .map(|l| centered(run(l, BODY).bold()))
        .collect();
    if let Some(note) = &paper.signature.note {
        signed.push(centered(run(note, SMALL).italic()));
    }
    // Room for the hand signature and the seal.
    for _ in 0..4 {
        signed.push(Paragraph::new());
    }
    signed.push(centered(
        run(paper.signature.name.as_deref().unwrap_or(""), BODY).bold(),
    ));
    docx_rs::Table::without_borders(vec![TableRow::new(vec![
        block_cell(received, left),
        block_cell(signed, right),
    ])])
    .set_grid(vec![left, right])
}

fn section(landscape: bool) -> SectionProperty {
    let (w, h, orient) = if landscape {
        (PAGE_LONG_MM, PAGE_SHORT_MM, PageOrientationType::Landscape)
    } else {
        (PAGE_SHORT_MM, PAGE_LONG_MM, PageOrientationType::Portrait)
    };
    SectionProperty::new()
        .page_size(
            PageSize::new()
                .size(mm(w) as u32, mm(h) as u32)
                .orient(orient),
        )
        .page_margin(margins())
}

fn new_document(landscape: bool) -> Docx {
    let (w, h, orient) = if landscape {
        (PAGE_LONG_MM, PAGE_SHORT_MM, PageOrientationType::Landscape)
    } else {
        (PAGE_SHORT_MM, PAGE_LONG_MM, PageOrientationType::Portrait)
    };
    Docx::new()
        .page_size(mm(w) as u32, mm(h) as u32)
        .page_orient(orient)
        .page_margin(margins())
        .default_fonts(font())
        .default_size(BODY)
}

/// An annex's title, reference and table.
fn add_annex(mut doc: Docx, annex: &Annex, page_break: bool) -> Docx {
    for (i, line) in annex.title.iter().enumerate() {
        let size = if i == 0 { TITLE } else { BODY };
        doc = doc.add_paragraph(
            centered(run(line, size).bold()).page_break_before(page_break && i == 0),
        );
    }
    if let Some(attached) = &annex.attached_to {
        doc = doc.add_paragraph(centered(
            run(&format!("(Kèm theo {attached})"), BODY).italic(),
        ));
    }
    doc = doc.add_paragraph(Paragraph::new());
    doc.add_table(grid(&annex.table, usable_width(annex.landscape)))
}

/// Writes a paper as DOCX.
pub fn render(paper: &Paper) -> Result<Vec<u8>, anyhow::Error> {
    // The document's own section is its last; the letter before an annex in another
    // orientation ends its section with a paragraph carrying the letter's page set-up.
    let last_landscape = paper.annex.as_ref().is_some_and(|a| a.landscape);
    let mut doc = new_document(last_landscape).add_table(header(paper));
    doc = doc.add_paragraph(Paragraph::new());
    if let Some(draft) = &paper.draft {
        doc = doc.add_paragraph(centered(run(draft, BODY).bold()));
    }
    if let Some((kind, summary)) = &paper.title {
        doc = doc
            .add_paragraph(centered(run(kind, TITLE).bold()))
            .add_paragraph(centered(run(summary, TITLE).bold()));
    }
    match paper.addressees.as_slice() {
        [] => {}
        [one] => {
            doc = doc.add_paragraph(
                centered(run(
                    &format!("Kính gửi: {}.", one.trim_end_matches('.')),
                    TITLE,
                ))
                .line_spacing(LineSpacing::new().before(240).after(240)),
            );
        }
        many => {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .add_run(run("Kính gửi:", TITLE))
                    .indent(Some(mm(30)), None, None, None)
                    .line_spacing(LineSpacing::new().before(240)),
            );
            let last = many.len() - 1;
            for (i, a) in many.iter().enumerate() {
                let end = if i == last { "." } else { ";" };
                doc = doc.add_paragraph(
                    Paragraph::new()
                        .add_run(run(
                            &format!("- {}{end}", a.trim_end_matches(['.', ';'])),
                            TITLE,
                        ))
                        .indent(Some(mm(50)), None, None, None),
                );
            }
            doc = doc.add_paragraph(Paragraph::new());
        }
    }
    for block in &paper.body {
        doc = match block {
            Block::Text(t) => doc.add_paragraph(body_paragraph(run(t, BODY))),
            Block::Heading(t) => doc.add_paragraph(body_paragraph(run(t, BODY).bold())),
            Block::Point(t) => doc.add_paragraph(body_paragraph(run(&format!("- {t}"), BODY))),
            Block::Table(t) => doc
                .add_table(grid(t, usable_width(false)))
                .add_paragraph(Paragraph::new()),
        };
    }
    doc = doc.add_paragraph(Paragraph::new()).add_table(footer(paper));
    if let Some(annex) = &paper.annex {
        if annex.landscape {
            doc = doc.add_paragraph(Paragraph::new().section_property(section(false)));
        }
        // A new section starts on a new page by itself.
        doc = add_annex(doc, annex, !annex.landscape);
    }
    pack(doc)
}

/// An appendix on its own, landscape (the seed's appendix, sent with a letter).
pub fn appendix(table: &Table, attached_to: Option<&str>) -> Result<Vec<u8>, anyhow::Error> {
    let annex = Annex {
        title: table.title.clone(),
        attached_to: attached_to.map(str::to_string),
        table: table.clone(),
        landscape: true,
    };
    pack(add_annex(new_document(true), &annex, false))
}

fn pack(doc: Docx) -> Result<Vec<u8>, anyhow::Error> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut bytes)?;
    Ok(bytes.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_print_with_a_comma() {
        assert_eq!(vi_decimal(dec!(-12.75)), "-12,75");
        assert_eq!(vi_decimal(dec!(0.5)), "0,50");
        assert_eq!(vi_decimal(dec!(100)), "100,00");
        assert_eq!(vi_decimal(-dec!(0.00)), "0,00");
    }

    #[test]
    fn dates_print_as_the_decree_writes_them() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(vi_date(d(2023, 12, 29)), "ngày 29 tháng 12 năm 2023");
        assert_eq!(vi_date(d(2024, 2, 5)), "ngày 05 tháng 02 năm 2024");
        assert_eq!(vi_date(d(2024, 3, 5)), "ngày 05 tháng 3 năm 2024");
    }
}
