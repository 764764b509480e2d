//! Official papers as DOCX, laid out as Nghị định 30/2020/NĐ-CP prescribes for
//! administrative documents: A4, Times New Roman, margins 20–25 mm top and bottom, 30–35
//! mm left, 15–20 mm right; titles bold and centred; an appendix says which document it
//! is attached to ("Kèm theo Công văn số …"). The tables are the same `sheets::Table`s the
//! XLSX and CSV exports print, so every format shows the same rows.

use crate::sheets::{Cell, Table};
use docx_rs::{
    AlignmentType, Docx, PageMargin, PageOrientationType, Paragraph, Run, RunFonts, TableCell,
    TableRow, WidthType,
};
use rust_decimal::Decimal;

pub const DOCX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Font sizes in half-points: 13 pt body, 12 pt table text.
const BODY: usize = 26;
const TABLE: usize = 24;
/// Twentieths of a point per millimetre (Word's unit): 1 mm ≈ 56.7 twips.
fn mm(v: i32) -> i32 {
    v * 567 / 10
}

fn font() -> RunFonts {
    RunFonts::new()
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
        .cs("Times New Roman")
        .east_asia("Times New Roman")
}

fn run(text: &str, size: usize) -> Run {
    Run::new().add_text(text).size(size).fonts(font())
}

/// A decimal as Vietnamese documents print it: a comma before the decimals (−12,75).
pub fn vi_decimal(d: Decimal) -> String {
    crate::scoring::round2(d).to_string().replace('.', ",")
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        Cell::Decimal(d) => vi_decimal(*d),
        Cell::Int(i) => i.to_string(),
        Cell::Empty => String::new(),
    }
}

fn table_cell(text: &str, bold: bool, width: usize) -> TableCell {
    let mut r = run(text, TABLE);
    if bold {
        r = r.bold();
    }
    TableCell::new()
        .add_paragraph(Paragraph::new().add_run(r))
        .width(width, WidthType::Dxa)
}

/// An appendix: its title lines, what it is attached to, and the table with its total row,
/// on landscape A4 (the table is wide).
pub fn appendix(table: &Table, attached_to: Option<&str>) -> Result<Vec<u8>, anyhow::Error> {
    // Landscape A4: 297 × 210 mm; left 30 mm, right 15 mm.
    let usable = mm(297 - 30 - 15) as usize;
    let total_width: f64 = table.widths.iter().sum::<f64>().max(1.0);
    let widths: Vec<usize> = table
        .widths
        .iter()
        .map(|w| ((w / total_width) * usable as f64) as usize)
        .collect();
    let mut doc = Docx::new()
        .page_size(mm(297) as u32, mm(210) as u32)
        .page_orient(PageOrientationType::Landscape)
        .page_margin(
            PageMargin::new()
                .top(mm(20))
                .bottom(mm(20))
                .left(mm(30))
                .right(mm(15)),
        )
        .default_fonts(font())
        .default_size(BODY);
    for (i, line) in table.title.iter().enumerate() {
        let mut r = run(line, if i == 0 { BODY + 2 } else { BODY });
        r = r.bold();
        doc = doc.add_paragraph(Paragraph::new().add_run(r).align(AlignmentType::Center));
    }
    if let Some(attached) = attached_to {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run(&format!("(Kèm theo {attached})"), BODY).italic())
                .align(AlignmentType::Center),
        );
    }
    doc = doc.add_paragraph(Paragraph::new());
    let width = |i: usize| widths.get(i).copied().unwrap_or(1000);
    let mut rows = vec![TableRow::new(
        table
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| table_cell(h, true, width(i)))
            .collect(),
    )];
    for row in &table.rows {
        rows.push(TableRow::new(
            row.iter()
                .enumerate()
                .map(|(i, c)| table_cell(&cell_text(c), false, width(i)))
                .collect(),
        ));
    }
    if let Some(total) = &table.total {
        rows.push(TableRow::new(
            total
                .iter()
                .enumerate()
                .map(|(i, c)| table_cell(&cell_text(c), true, width(i)))
                .collect(),
        ));
    }
    doc = doc.add_table(docx_rs::Table::new(rows).set_grid(widths.clone()));
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
    }
}
