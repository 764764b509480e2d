//! The year's data as an Excel workbook that round-trips: the unit's self-assessment
//! (`Tự đánh giá`) and the council's appraisal (`Thẩm định`).
//!
//! One row per criterion in framework order: fields and groups bold with their maxima;
//! leaves with code, title, maximum, the scoring rule in Vietnamese, the input cells the
//! leaf's method reads (unlocked, validated: numbers ≥ 0, whole counts, Có/Không), the
//! explanation or comment, the evidence, and the score as a cell formula that gives the
//! service's number for every method (rounding included). Everything else is locked.
//!
//! A hidden row carries what the workbook belongs to (the file, the framework and its
//! version), so that an upload of another file's or an older framework's workbook is
//! refused. On upload only the input and text cells are read: a score cell's cached value
//! is never trusted, and the service scores the inputs itself.

use crate::error::{FieldError, text};
use crate::scoring::CriteriaTree;
use crate::scoring::method::check_inputs;
use crate::scoring::{CriterionDef, Inputs, Method, Scorer};
use parindex_domain::Side;
use parindex_domain::spreadsheet::{Rows, cell_name};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, DocProperties, ExcelDateTime, Format, FormatAlign,
    FormatBorder, Formula, ProtectionOptions, Workbook, Worksheet, XlsxError,
};
use std::collections::HashMap;
use std::str::FromStr;

/// Marks the hidden row of a parindex workbook (and its layout version).
const MARK: &str = "parindex-workbook-1";
/// Rows: 0–2 titles, 3 the hidden identity row, 4 headers, criteria from 5.
const IDENTITY_ROW: u32 = 3;
const HEADER_ROW: u32 = 4;
const FIRST_ROW: u32 = 5;

/// What a workbook belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub side: Side,
    /// The self-assessment (unit) or appraisal (council) id.
    pub file_id: i64,
    pub framework_id: i64,
    pub framework_version: i32,
}

impl Identity {
    /// The identity of `side`'s workbook of file `file_id`, made on version
    /// `framework_version` of framework `framework_id`.
    pub fn new(side: Side, file_id: i64, framework_id: i64, framework_version: i32) -> Identity {
        Identity {
            side,
            file_id,
            framework_id,
            framework_version,
        }
    }

    fn kind(&self) -> &'static str {
        match self.side {
            Side::Unit => "self_assessment",
            Side::Council => "appraisal",
        }
    }

    pub fn sheet_name(&self) -> &'static str {
        Identity::sheet_name_of(self.side)
    }

    fn sheet_name_of(side: Side) -> &'static str {
        match side {
            Side::Unit => "Tự đánh giá",
            Side::Council => "Thẩm định",
        }
    }
}

/// One raw input a method reads, and its column title.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    Numerator,
    Denominator,
    Count,
    Done,
    Value,
    Score,
    NotApplicable,
}

const INPUTS: [Input; 7] = [
    Input::Numerator,
    Input::Denominator,
    Input::Count,
    Input::Done,
    Input::Value,
    Input::Score,
    Input::NotApplicable,
];

impl Input {
    fn title(self) -> &'static str {
        match self {
            Input::Numerator => "Tử số",
            Input::Denominator => "Mẫu số",
            Input::Count => "Số lượng",
            Input::Done => "Có/Không",
            Input::Value => "Giá trị",
            Input::Score => "Điểm nhập trực tiếp",
            Input::NotApplicable => "Không phát sinh",
        }
    }

    /// The field of `Inputs` it fills (as the domain names it in errors).
    fn field(self) -> &'static str {
        match self {
            Input::Numerator => "numerator",
            Input::Denominator => "denominator",
            Input::Count => "count",
            Input::Done => "done",
            Input::Value => "value",
            Input::Score => "score",
            Input::NotApplicable => "not_applicable",
        }
    }

    fn of_field(field: &str) -> Option<Input> {
        INPUTS.into_iter().find(|i| i.field() == field)
    }

    /// Whether a leaf scored by `method` reads this input (not-applicable: every leaf).
    fn read_by(self, method: &Method) -> bool {
        self == Input::NotApplicable || method.inputs().contains(&self.field())
    }
}

/// The columns of a side's sheet.
struct Layout {
    side: Side,
}

const CODE: u16 = 0;
const TITLE: u16 = 1;
const MAX: u16 = 2;
const RULE: u16 = 3;
/// The unit's inputs start here on both sheets.
const UNIT_INPUTS: u16 = 4;

impl Layout {
    /// Where the inputs this side enters start.
    fn inputs(&self) -> u16 {
        match self.side {
            Side::Unit => UNIT_INPUTS,
            // The unit's inputs and its score, read-only, then the council's.
            Side::Council => UNIT_INPUTS + INPUTS.len() as u16 + 1,
        }
    }
    fn input(&self, i: usize) -> u16 {
        self.inputs() + i as u16
    }
    /// The unit's score (council sheet only).
    fn unit_score(&self) -> u16 {
        UNIT_INPUTS + INPUTS.len() as u16
    }
    /// Explanation (unit) or comment (council).
    fn text(&self) -> u16 {
        self.inputs() + INPUTS.len() as u16
    }
    fn evidence(&self) -> u16 {
        self.text() + 1
    }
    fn score(&self) -> u16 {
        self.evidence() + 1
    }
    fn text_title(&self) -> &'static str {
        match self.side {
            Side::Unit => "Giải trình",
            Side::Council => "Ý kiến hội đồng thẩm định",
        }
    }
    fn score_title(&self) -> &'static str {
        match self.side {
            Side::Unit => "Điểm tự đánh giá",
            Side::Council => "Điểm thẩm định",
        }
    }
}

/// Column letters of a column (A, B, … AA).
fn letters(col: u16) -> String {
    let name = cell_name(0, u32::from(col));
    name.trim_end_matches('1').to_string()
}

fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

/// The scoring rule in words.
pub fn rule_words(method: &Method, max: Decimal) -> String {
    let p = |d: Decimal| num(d).replace('.', ",");
    match method {
        Method::Manual {} => format!("Chấm trực tiếp, từ 0 đến {}", p(max)),
        Method::Ratio {} => format!("{} × tử số / mẫu số", p(max)),
        Method::TargetRatio { target } => format!(
            "{} × (tử số / mẫu số) / {} %, tối đa {}",
            p(max),
            p(*target * Decimal::ONE_HUNDRED),
            p(max)
        ),
        Method::Threshold { threshold } => format!(
            "Đạt {} điểm nếu tử số / mẫu số từ {} % trở lên, không đạt 0",
            p(max),
            p(*threshold * Decimal::ONE_HUNDRED)
        ),
        Method::PerItem { points } => format!("{} điểm mỗi kết quả, tối đa {}", p(*points), p(max)),
        Method::PenaltyPerItem { points } => {
            format!(
                "{} trừ {} điểm mỗi trường hợp, thấp nhất 0",
                p(max),
                p(*points)
            )
        }
        Method::Boolean {} => format!("Có: {} điểm; Không: 0", p(max)),
        Method::StepTable { steps } => {
            let s: Vec<String> = steps
                .iter()
                .map(|s| format!("từ {}: {}", s.min_count, p(s.score)))
                .collect();
            format!("Theo số lượng ({}); dưới mức thấp nhất: 0", s.join("; "))
        }
        Method::RelativeToBest {} => format!(
            "{} × giá trị / giá trị cao nhất được công nhận trong đơn vị cấp trên",
            p(max)
        ),
    }
}

/// The score formula of a leaf on `row`, reading the inputs at `first` (the seven input
/// columns in `INPUTS` order). Mirrors `scoring::method::score_leaf`: the same order of
/// operations, clamped to 0..max, rounded once to 2 places half away from zero (ROUND).
fn leaf_formula(
    method: &Method,
    max: Decimal,
    best: Option<Decimal>,
    first: u16,
    row: u32,
) -> String {
    let at = |i: Input| {
        let k = INPUTS.iter().position(|x| *x == i).unwrap_or_default();
        format!("{}{}", letters(first + k as u16), row + 1)
    };
    let (n, d, c, done, v, s) = (
        at(Input::Numerator),
        at(Input::Denominator),
        at(Input::Count),
        at(Input::Done),
        at(Input::Value),
        at(Input::Score),
    );
    let m = num(max);
    let clamp = |x: String| format!("ROUND(MAX(0,MIN({m},{x})),2)");
    match method {
        Method::Manual {} => clamp(s),
        Method::Ratio {} => format!("IF({d}>0,{},0)", clamp(format!("{m}*({n}/{d})"))),
        Method::TargetRatio { target } => format!(
            "IF({d}>0,{},0)",
            clamp(format!("{m}*MIN(1,({n}/{d})/{})", num(*target)))
        ),
        Method::Threshold { threshold } => {
            format!("IF(AND({d}>0,{n}/{d}>={}),{m},0)", num(*threshold))
        }
        Method::PerItem { points } => clamp(format!("{c}*{}", num(*points))),
        Method::PenaltyPerItem { points } => clamp(format!("{m}-{c}*{}", num(*points))),
        Method::Boolean {} => format!("IF({done}=\"Có\",{m},0)"),
        Method::StepTable { steps } => {
            let mut f = "0".to_string();
            for step in steps {
                f = format!("IF({c}>={},{},{f})", step.min_count, num(step.score));
            }
            f
        }
        Method::RelativeToBest {} => {
            // The best accepted figure when the workbook was made; the unit may lead.
            let b = best.map_or(v.clone(), |b| format!("MAX({v},{})", num(b)));
            format!("IF({b}>0,{},0)", clamp(format!("{m}*{v}/{b}")))
        }
    }
}

/// Blank until something is entered, "KPS" when not applicable, else the method's score.
fn guarded(formula: String, first: u16, row: u32) -> String {
    let range = format!(
        "{}{r}:{}{r}",
        letters(first),
        letters(first + INPUTS.len() as u16 - 1),
        r = row + 1
    );
    let na = format!("{}{}", letters(first + INPUTS.len() as u16 - 1), row + 1);
    format!("=IF(COUNTA({range})=0,\"\",IF({na}=\"Có\",\"KPS\",{formula}))")
}

/// What is stored of one leaf, as the workbook shows it.
#[derive(Clone, Debug, Default)]
pub struct Leaf {
    pub self_inputs: Option<Inputs>,
    pub appraised_inputs: Option<Inputs>,
    pub explanation: Option<String>,
    pub comment: Option<String>,
    /// The evidence, one line each ("number: title").
    pub evidence: Vec<String>,
}

/// What a workbook is made from: plain data, so that its layout is a pure function of it.
pub struct Source<'a> {
    pub identity: Identity,
    pub title: String,
    pub unit_name: &'a str,
    pub framework_name: &'a str,
    pub tree: &'a CriteriaTree,
    pub entries: &'a HashMap<String, Leaf>,
    pub best: &'a HashMap<String, Decimal>,
    /// Leaf scores as stored: the cached results of the score formulas.
    pub scores: HashMap<String, Option<Decimal>>,
    /// The unit's scores (council sheet).
    pub unit_scores: HashMap<String, Option<Decimal>>,
    /// The council sheet of one agency: only these leaves' council cells are open (the
    /// rest read-only). `None`: every leaf's.
    pub council_rows: Option<&'a std::collections::HashSet<String>>,
    /// Leaves fed from other systems (indicators, surveys) on this sheet's side, with where
    /// their figures came from: read-only here, the source in the comment column.
    pub sources: &'a HashMap<String, String>,
}

struct Formats {
    bold: Format,
    header: Format,
    text: Format,
    locked_number: Format,
    bold_number: Format,
    input: Format,
    input_text: Format,
    unused: Format,
    readonly: Format,
}

fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        bold: Format::new().set_bold(),
        header: border(
            Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(0xD9E1F2)),
        ),
        text: border(Format::new().set_text_wrap().set_align(FormatAlign::Top)),
        locked_number: border(
            Format::new()
                .set_num_format("0.00")
                .set_align(FormatAlign::Top),
        ),
        bold_number: border(Format::new().set_bold().set_num_format("0.00")),
        input: border(
            Format::new()
                .set_unlocked()
                .set_background_color(Color::RGB(0xFFF2CC))
                .set_align(FormatAlign::Top),
        ),
        input_text: border(
            Format::new()
                .set_unlocked()
                .set_text_wrap()
                .set_background_color(Color::RGB(0xFFF2CC))
                .set_align(FormatAlign::Top),
        ),
        unused: border(Format::new().set_background_color(Color::RGB(0xEDEDED))),
        readonly: border(
            Format::new()
                .set_background_color(Color::RGB(0xF2F2F2))
                .set_align(FormatAlign::Top),
        ),
    }
}

/// Writes one side's inputs of a leaf, from `inputs`, at `first`.
fn write_inputs(
    sheet: &mut Worksheet,
    row: u32,
    first: u16,
    method: &Method,
    inputs: Option<&Inputs>,
    editable: bool,
    f: &Formats,
) -> Result<(), XlsxError> {
    for (k, input) in INPUTS.iter().enumerate() {
        let col = first + k as u16;
        let format = match (input.read_by(method), editable) {
            (false, _) => &f.unused,
            (true, true) => &f.input,
            (true, false) => &f.readonly,
        };
        let value = inputs.and_then(|i| match input {
            Input::Numerator => i.numerator.map(Ok),
            Input::Denominator => i.denominator.map(Ok),
            Input::Count => i.count.map(|c| Ok(Decimal::from(c))),
            Input::Value => i.value.map(Ok),
            Input::Score => i.score.map(Ok),
            Input::Done => i.done.map(|d| Err(if d { "Có" } else { "Không" })),
            Input::NotApplicable => i.not_applicable.then_some(Err("Có")),
        });
        match value {
            Some(Ok(d)) => {
                sheet.write_number_with_format(row, col, d.to_f64().unwrap_or_default(), format)?;
            }
            Some(Err(t)) => {
                sheet.write_string_with_format(row, col, t, format)?;
            }
            None => {
                sheet.write_blank(row, col, format)?;
            }
        }
    }
    Ok(())
}

/// Validation of a side's input cells over the criteria rows.
fn validate_inputs(sheet: &mut Worksheet, first: u16, last_row: u32) -> Result<(), XlsxError> {
    let number = DataValidation::new()
        .allow_decimal_number(DataValidationRule::Between(0.0, 1_000_000_000.0))
        .set_error_title("Số liệu không hợp lệ")?
        .set_error_message("Nhập một số không âm.")?;
    let count = DataValidation::new()
        .allow_whole_number(DataValidationRule::Between(0, 1_000_000))
        .set_error_title("Số lượng không hợp lệ")?
        .set_error_message("Nhập một số nguyên không âm.")?;
    let yes_no = DataValidation::new().allow_list_strings(&["Có", "Không"])?;
    let yes = DataValidation::new().allow_list_strings(&["Có"])?;
    for (k, input) in INPUTS.iter().enumerate() {
        let col = first + k as u16;
        let v = match input {
            Input::Count => &count,
            Input::Done => &yes_no,
            Input::NotApplicable => &yes,
            _ => &number,
        };
        sheet.add_data_validation(FIRST_ROW, col, last_row, col, v)?;
    }
    Ok(())
}

/// The workbook of a self-assessment or an appraisal.
// Long by nature: the sheet, row by row and column by column.
pub fn build(src: &Source<'_>) -> Result<Vec<u8>, XlsxError> {
    let layout = Layout {
        side: src.identity.side,
    };
    let f = formats();
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(&src.title)
            .set_author("parindex")
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?),
    );
    let sheet = workbook.add_worksheet();
    sheet.set_name(src.identity.sheet_name())?;
    sheet.write_string_with_format(0, 0, &src.title, &f.bold)?;
    sheet.write_string(1, 0, format!("{} — {}", src.unit_name, src.framework_name))?;
    sheet.write_string(
        2,
        0,
        "Nhập số liệu vào các ô nền vàng; ô nền xám không dùng cho cách chấm của tiêu chí. \
         Cột điểm tự tính theo công thức; hệ thống tính lại điểm khi tải lên.",
    )?;
    // The identity row, hidden: what this workbook belongs to.
    let id = &src.identity;
    sheet.write_string(IDENTITY_ROW, 0, MARK)?;
    sheet.write_string(IDENTITY_ROW, 1, id.kind())?;
    sheet.write_number(IDENTITY_ROW, 2, id.file_id as f64)?;
    sheet.write_number(IDENTITY_ROW, 3, id.framework_id as f64)?;
    sheet.write_number(IDENTITY_ROW, 4, f64::from(id.framework_version))?;
    sheet.set_row_hidden(IDENTITY_ROW)?;

    let mut headers: Vec<(u16, String, f64)> = vec![
        (CODE, "Mã".into(), 8.0),
        (
            TITLE,
            "Lĩnh vực / tiêu chí / tiêu chí thành phần".into(),
            48.0,
        ),
        (MAX, "Điểm tối đa".into(), 9.0),
        (RULE, "Cách chấm".into(), 30.0),
    ];
    if layout.side == Side::Council {
        for (k, i) in INPUTS.iter().enumerate() {
            headers.push((
                UNIT_INPUTS + k as u16,
                format!("Đơn vị: {}", i.title()),
                10.0,
            ));
        }
        headers.push((layout.unit_score(), "Điểm tự đánh giá".into(), 10.0));
    }
    for (k, i) in INPUTS.iter().enumerate() {
        let title = match layout.side {
            Side::Unit => i.title().to_string(),
            Side::Council => format!("Hội đồng: {}", i.title()),
        };
        headers.push((layout.input(k), title, 10.0));
    }
    headers.push((layout.text(), layout.text_title().into(), 36.0));
    headers.push((layout.evidence(), "Tài liệu kiểm chứng".into(), 30.0));
    headers.push((layout.score(), layout.score_title().into(), 10.0));
    for (col, title, width) in &headers {
        sheet.write_string_with_format(HEADER_ROW, *col, title, &f.header)?;
        sheet.set_column_width(*col, *width)?;
    }
    sheet.set_row_height(HEADER_ROW, 45)?;
    sheet.set_freeze_panes(FIRST_ROW, 2)?;

    let tree = src.tree;
    let mut row = FIRST_ROW;
    for c in tree.criteria() {
        let leaf = tree.is_leaf(&c.code);
        let entry = src.entries.get(&c.code);
        if !leaf {
            sheet.write_string_with_format(row, CODE, &c.code, &f.bold)?;
            sheet.write_string_with_format(row, TITLE, &c.title, &f.bold)?;
            sheet.write_number_with_format(
                row,
                MAX,
                c.max_score.to_f64().unwrap_or_default(),
                &f.bold_number,
            )?;
            row += 1;
            continue;
        }
        let method = c.method.clone().unwrap_or(Method::Manual {});
        sheet.write_string_with_format(row, CODE, &c.code, &f.text)?;
        sheet.write_string_with_format(row, TITLE, &c.title, &f.text)?;
        sheet.write_number_with_format(
            row,
            MAX,
            c.max_score.to_f64().unwrap_or_default(),
            &f.locked_number,
        )?;
        let mut rule = rule_words(&method, c.max_score);
        if c.scorer != Scorer::SelfAssessed {
            rule.push_str(if c.scorer == Scorer::Survey {
                " (theo kết quả điều tra xã hội học)"
            } else {
                " (hội đồng chấm)"
            });
        }
        sheet.write_string_with_format(row, RULE, &rule, &f.text)?;
        let unit_inputs = entry.and_then(|e| e.self_inputs.as_ref());
        let self_scored = c.scorer == Scorer::SelfAssessed;
        match layout.side {
            Side::Unit => {
                write_inputs(
                    sheet,
                    row,
                    UNIT_INPUTS,
                    &method,
                    unit_inputs,
                    // A figure fed on the unit's side is not the unit's to change.
                    self_scored && !src.sources.contains_key(&c.code),
                    &f,
                )?;
                let source = src.sources.get(&c.code);
                let text = crate::services::indicators::with_source(
                    entry.and_then(|e| e.explanation.as_deref()),
                    source,
                );
                let fmt = if self_scored && source.is_none() {
                    &f.input_text
                } else {
                    &f.readonly
                };
                sheet.write_string_with_format(row, layout.text(), text, fmt)?;
            }
            Side::Council => {
                write_inputs(sheet, row, UNIT_INPUTS, &method, unit_inputs, false, &f)?;
                match src.unit_scores.get(&c.code).copied().flatten() {
                    Some(s) => sheet.write_number_with_format(
                        row,
                        layout.unit_score(),
                        s.to_f64().unwrap_or_default(),
                        &f.locked_number,
                    )?,
                    None => sheet.write_blank(row, layout.unit_score(), &f.readonly)?,
                };
                let council = entry.and_then(|e| e.appraised_inputs.as_ref());
                // A fed figure is corrected through the API, with a reason.
                let source = src.sources.get(&c.code);
                let open =
                    src.council_rows.is_none_or(|rows| rows.contains(&c.code)) && source.is_none();
                write_inputs(sheet, row, layout.inputs(), &method, council, open, &f)?;
                let text = crate::services::indicators::with_source(
                    entry.and_then(|e| e.comment.as_deref()),
                    source,
                );
                let fmt = if open { &f.input_text } else { &f.readonly };
                sheet.write_string_with_format(row, layout.text(), text, fmt)?;
            }
        }
        let evidence: Vec<String> = entry.map(|e| e.evidence.clone()).unwrap_or_default();
        sheet.write_string_with_format(row, layout.evidence(), evidence.join("\n"), &f.readonly)?;
        // Wrapped text gets the height it needs (spreadsheet programs do not all grow rows
        // on opening a file).
        let lines = |text: &str, width: f64| {
            (text.chars().count() as f64 / (width * 0.9))
                .ceil()
                .max(1.0)
        };
        let explanation = match layout.side {
            Side::Unit => entry.and_then(|e| e.explanation.clone()),
            Side::Council => entry.and_then(|e| e.comment.clone()),
        }
        .unwrap_or_default();
        let needed = [
            lines(&c.title, 48.0),
            lines(&rule, 30.0),
            lines(&explanation, 36.0),
            evidence.iter().map(|e| lines(e, 30.0)).sum::<f64>(),
        ]
        .into_iter()
        .fold(1.0, f64::max);
        if needed > 1.0 {
            sheet.set_row_height(row, 15.0 * needed)?;
        }
        let best = src.best.get(&c.code).copied();
        let formula = match layout.side {
            Side::Unit => guarded(
                leaf_formula(&method, c.max_score, best, UNIT_INPUTS, row),
                UNIT_INPUTS,
                row,
            ),
            // The council's inputs where it entered any, else the unit's.
            Side::Council => {
                let council = layout.inputs();
                let range = format!(
                    "{}{r}:{}{r}",
                    letters(council),
                    letters(council + INPUTS.len() as u16 - 1),
                    r = row + 1
                );
                let own = guarded(
                    leaf_formula(&method, c.max_score, best, council, row),
                    council,
                    row,
                );
                let unit = guarded(
                    leaf_formula(&method, c.max_score, best, UNIT_INPUTS, row),
                    UNIT_INPUTS,
                    row,
                );
                format!(
                    "=IF(COUNTA({range})>0,{},{})",
                    own.trim_start_matches('='),
                    unit.trim_start_matches('=')
                )
            }
        };
        let mut formula = Formula::new(formula);
        if let Some(Some(score)) = src.scores.get(&c.code) {
            formula = formula.set_result(num(*score));
        }
        sheet.write_formula_with_format(row, layout.score(), formula, &f.locked_number)?;
        row += 1;
    }
    let last_row = row.saturating_sub(1).max(FIRST_ROW);
    validate_inputs(sheet, layout.inputs(), last_row)?;
    sheet.protect_with_options(&ProtectionOptions {
        select_locked_cells: true,
        select_unlocked_cells: true,
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    });
    // Printed: A4 landscape, every column on the page's width, headers on each page.
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    workbook.save_to_buffer()
}

/// One leaf read back from an uploaded workbook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadLeaf {
    pub code: String,
    /// Its row (1-based), for errors found later.
    pub row: usize,
    /// `None`: nothing entered on this side.
    pub inputs: Option<Inputs>,
    /// The explanation (unit) or comment (council); `None` when blank.
    pub text: Option<String>,
    /// On the council's sheet: the unit's read-only input cells as found, to check that
    /// nobody typed over them.
    pub unit_cells: Vec<String>,
}

/// A problem with a cell: "Tự đánh giá!F14 (3.12.2, Mẫu số)" and what is wrong.
fn cell_error(
    sheet: &str,
    row: usize,
    col: u16,
    what: Option<(&str, &str)>,
    code: &'static str,
    message: crate::error::Text,
) -> FieldError {
    let cell = cell_name(row as u32 - 1, u32::from(col));
    let field = match what {
        Some((criterion, column)) => format!("{sheet}!{cell} ({criterion}, {column})"),
        None => format!("{sheet}!{cell}"),
    };
    FieldError::new(field, code, message)
}

fn whole_file(code: &'static str, message: crate::error::Text) -> Vec<FieldError> {
    vec![FieldError::new("file", code, message)]
}

/// Reads an uploaded workbook's rows (first sheet) for `expected`: the leaves of this side
/// with their inputs and text. Every problem names its cell; nothing is returned unless
/// the whole workbook reads.
// Long by nature: the identity, then each row's cells in turn.
pub fn read(
    rows: &Rows,
    expected: &Identity,
    tree: &CriteriaTree,
) -> Result<Vec<ReadLeaf>, Vec<FieldError>> {
    let layout = Layout {
        side: expected.side,
    };
    let sheet = expected.sheet_name();
    let by_row: HashMap<usize, &Vec<String>> = rows.iter().map(|(r, cells)| (*r, cells)).collect();
    let get = |row: usize, col: u16| -> &str {
        by_row
            .get(&row)
            .and_then(|cells| cells.get(col as usize))
            .map_or("", |s| s.trim())
    };
    // Which file and framework it was made for.
    let identity_row = IDENTITY_ROW as usize + 1;
    if get(identity_row, 0) != MARK {
        return Err(whole_file(
            "not_a_workbook",
            text!(
                "not a parindex workbook: download it with GET …/workbook and fill it in",
                "không phải sổ tính của hệ thống: hãy tải về bằng GET …/workbook rồi điền số liệu"
            ),
        ));
    }
    let number = |col: u16| get(identity_row, col).parse::<i64>().ok();
    if get(identity_row, 1) != expected.kind() {
        return Err(whole_file(
            "wrong_workbook",
            match expected.side {
                Side::Unit => text!(
                    "this is an appraisal workbook; upload it to PUT /appraisals/{{id}}/entries",
                    "đây là sổ tính thẩm định; hãy tải lên PUT /appraisals/{{id}}/entries"
                ),
                Side::Council => text!(
                    "this is a self-assessment workbook; upload it to PUT /self-assessments/{{id}}/entries",
                    "đây là sổ tính tự đánh giá; hãy tải lên PUT /self-assessments/{{id}}/entries"
                ),
            },
        ));
    }
    if number(2) != Some(expected.file_id) {
        return Err(whole_file(
            "wrong_workbook",
            text!(
                "this workbook belongs to file {}, not {}",
                "sổ tính này thuộc hồ sơ số {}, không phải hồ sơ số {}",
                number(2).map_or("?".to_string(), |n| n.to_string()),
                expected.file_id
            ),
        ));
    }
    if number(3) != Some(expected.framework_id) {
        return Err(whole_file(
            "wrong_framework",
            text!(
                "this workbook was made for another framework; download it again",
                "sổ tính này được lập theo bộ tiêu chí khác; hãy tải lại"
            ),
        ));
    }
    if number(4) != Some(i64::from(expected.framework_version)) {
        return Err(whole_file(
            "stale_framework",
            text!(
                "the framework changed since this workbook was downloaded (version {} now); download it again",
                "bộ tiêu chí đã thay đổi kể từ khi tải sổ tính này (nay là phiên bản {}); hãy tải lại",
                expected.framework_version
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut leaves = Vec::new();
    let criteria = tree.criteria();
    for (i, c) in criteria.iter().enumerate() {
        let row = FIRST_ROW as usize + 1 + i;
        let found = get(row, CODE);
        if found != c.code {
            errors.push(cell_error(
                sheet,
                row,
                CODE,
                None,
                "row_moved",
                text!(
                    "criterion {}'s row was deleted or moved (this cell holds \"{}\"); download the workbook again",
                    "hàng của tiêu chí {} đã bị xóa hoặc di chuyển (ô này ghi \"{}\"); hãy tải lại sổ tính",
                    c.code,
                    found
                ),
            ));
            return Err(errors);
        }
        if !tree.is_leaf(&c.code) {
            continue;
        }
        if let Some(leaf) = read_leaf(&get, sheet, row, c, &layout, &mut errors) {
            leaves.push(leaf);
        }
    }
    // Rows below the last criterion: a row added by hand is not silently ignored.
    let last = FIRST_ROW as usize + criteria.len();
    for (r, cells) in rows {
        if *r > last && cells.iter().any(|c| !c.trim().is_empty()) {
            errors.push(cell_error(
                sheet,
                *r,
                CODE,
                None,
                "unexpected_row",
                text!(
                    "a row below the last criterion; rows cannot be added",
                    "có hàng dưới tiêu chí cuối cùng; không được thêm hàng"
                ),
            ));
            break;
        }
    }
    if errors.is_empty() {
        Ok(leaves)
    } else {
        Err(errors)
    }
}

/// One leaf's cells on this side.
fn read_leaf<'r>(
    get: &dyn Fn(usize, u16) -> &'r str,
    sheet: &str,
    row: usize,
    c: &CriterionDef,
    layout: &Layout,
    errors: &mut Vec<FieldError>,
) -> Option<ReadLeaf> {
    let method = c.method.clone().unwrap_or(Method::Manual {});
    let editable = layout.side == Side::Council || c.scorer == Scorer::SelfAssessed;
    let text = get(row, layout.text());
    let text = (!text.is_empty()).then(|| text.to_string());
    let before = errors.len();
    let mut inputs = Inputs::default();
    let mut any = false;
    for (k, input) in INPUTS.iter().enumerate() {
        let col = layout.input(k);
        let raw = get(row, col);
        if raw.is_empty() {
            continue;
        }
        let err = |code, message| {
            cell_error(
                sheet,
                row,
                col,
                Some((&c.code, input.title())),
                code,
                message,
            )
        };
        if !editable || !input.read_by(&method) {
            errors.push(err(
                "unexpected_input",
                if editable {
                    text!(
                        "this criterion's method does not read this column; leave it empty",
                        "cách chấm của tiêu chí này không dùng cột này; hãy để trống"
                    )
                } else {
                    text!(
                        "the council scores this criterion; leave it empty",
                        "tiêu chí này do hội đồng chấm; hãy để trống"
                    )
                },
            ));
            continue;
        }
        any = true;
        match input {
            Input::Done | Input::NotApplicable => match yes_no(raw) {
                Some(b) if *input == Input::Done => inputs.done = Some(b),
                Some(b) => inputs.not_applicable = b,
                None => errors.push(err(
                    "invalid",
                    text!("must be Có or Không", "phải là Có hoặc Không"),
                )),
            },
            Input::Count => match Decimal::from_str(raw) {
                Ok(d) if d.is_sign_negative() && !d.is_zero() => errors.push(err(
                    "out_of_range",
                    text!("must not be negative", "không được âm"),
                )),
                Ok(d)
                    if d.fract().is_zero()
                        && d <= Decimal::from(crate::scoring::method::MAX_COUNT) =>
                {
                    inputs.count = d.to_u32();
                }
                Ok(d) if d.fract().is_zero() => errors.push(err(
                    "out_of_range",
                    text!("must be at most 1000000", "không được lớn hơn 1000000"),
                )),
                _ => errors.push(err(
                    "not_whole",
                    text!("must be a whole number", "phải là số nguyên"),
                )),
            },
            _ => match Decimal::from_str(raw).or_else(|_| Decimal::from_scientific(raw)) {
                Ok(d) if d.is_sign_negative() && !d.is_zero() => errors.push(err(
                    "out_of_range",
                    text!("must not be negative", "không được âm"),
                )),
                Ok(d) => {
                    let slot = match input {
                        Input::Numerator => &mut inputs.numerator,
                        Input::Denominator => &mut inputs.denominator,
                        Input::Value => &mut inputs.value,
                        _ => &mut inputs.score,
                    };
                    *slot = Some(d.normalize());
                }
                Err(_) => errors.push(err("not_a_number", text!("must be a number", "phải là số"))),
            },
        }
    }
    if !editable && text.is_some() && layout.side == Side::Unit {
        errors.push(cell_error(
            sheet,
            row,
            layout.text(),
            Some((&c.code, layout.text_title())),
            "unexpected_input",
            text!(
                "the council scores this criterion; leave it empty",
                "tiêu chí này do hội đồng chấm; hãy để trống"
            ),
        ));
    }
    if errors.len() > before {
        return None;
    }
    if any {
        // The method's own rules (numerator ≤ denominator, a manual score ≤ max…), named by
        // the cell they concern.
        if let Err(e) = check_inputs(&method, c.max_score, &inputs) {
            let input = Input::of_field(e.field).unwrap_or(Input::Score);
            let k = INPUTS.iter().position(|x| *x == input).unwrap_or_default();
            errors.push(cell_error(
                sheet,
                row,
                layout.input(k),
                Some((&c.code, input.title())),
                e.code,
                e.message,
            ));
            return None;
        }
    }
    if !editable {
        return None;
    }
    let unit_cells = match layout.side {
        Side::Unit => Vec::new(),
        Side::Council => (0..INPUTS.len())
            .map(|k| get(row, UNIT_INPUTS + k as u16).to_string())
            .collect(),
    };
    Some(ReadLeaf {
        code: c.code.clone(),
        row,
        inputs: any.then_some(inputs),
        text,
        unit_cells,
    })
}

/// The problem of a leaf whose inputs were emptied: a workbook cannot delete an entry.
pub fn cleared(side: Side, leaf: &ReadLeaf) -> FieldError {
    let layout = Layout { side };
    cell_error(
        Identity::sheet_name_of(side),
        leaf.row,
        layout.inputs(),
        Some((&leaf.code, "Số liệu")),
        "cleared",
        text!(
            "the inputs stored for this criterion were emptied; enter them again, or mark it Không phát sinh",
            "số liệu đã lưu của tiêu chí này bị xóa trống; hãy nhập lại, hoặc đánh dấu Không phát sinh"
        ),
    )
}

/// On the council's sheet, the first of the unit's read-only cells that no longer shows
/// the unit's stored inputs.
pub fn unit_cells_changed(leaf: &ReadLeaf, stored: Option<&Inputs>) -> Option<FieldError> {
    let shown = |input: Input| -> String {
        let Some(i) = stored else {
            return String::new();
        };
        let n = |d: Option<Decimal>| d.map(|d| d.normalize().to_string()).unwrap_or_default();
        match input {
            Input::Numerator => n(i.numerator),
            Input::Denominator => n(i.denominator),
            Input::Count => i.count.map(|c| c.to_string()).unwrap_or_default(),
            Input::Value => n(i.value),
            Input::Score => n(i.score),
            Input::Done => i
                .done
                .map(|d| if d { "Có" } else { "Không" })
                .unwrap_or_default()
                .to_string(),
            Input::NotApplicable => if i.not_applicable { "Có" } else { "" }.to_string(),
        }
    };
    let same = |found: &str, expected: &str| {
        found == expected
            || matches!(
                (Decimal::from_str(found), Decimal::from_str(expected)),
                (Ok(a), Ok(b)) if a == b
            )
    };
    INPUTS.iter().enumerate().find_map(|(k, input)| {
        let found = leaf.unit_cells.get(k).map_or("", String::as_str);
        (!same(found, &shown(*input))).then(|| {
            cell_error(
                Identity::sheet_name_of(Side::Council),
                leaf.row,
                UNIT_INPUTS + k as u16,
                Some((&leaf.code, input.title())),
                "read_only",
                text!(
                    "the unit's inputs are read-only; enter the council's in its own columns",
                    "số liệu của đơn vị chỉ để xem; hãy nhập số liệu của hội đồng vào các cột của hội đồng"
                ),
            )
        })
    })
}

/// The problem of an explanation sent without the inputs it explains.
pub fn text_without_inputs(side: Side, leaf: &ReadLeaf) -> FieldError {
    let layout = Layout { side };
    cell_error(
        Identity::sheet_name_of(side),
        leaf.row,
        layout.text(),
        Some((&leaf.code, layout.text_title())),
        "required",
        text!(
            "enter the criterion's inputs with its explanation",
            "hãy nhập số liệu của tiêu chí cùng với giải trình"
        ),
    )
}

/// "Có" / "Không" (any case, with or without accents), TRUE / FALSE, 1 / 0.
fn yes_no(raw: &str) -> Option<bool> {
    match crate::validation::fold_for_search(raw).trim() {
        "co" | "true" | "1" | "x" => Some(true),
        "khong" | "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::method::Step;
    use rust_decimal_macros::dec;

    #[test]
    fn formulas_read_the_right_cells() {
        assert_eq!(letters(0), "A");
        assert_eq!(letters(27), "AB");
        let f = leaf_formula(&Method::Ratio {}, dec!(2), None, 4, 13);
        assert_eq!(f, "IF(F14>0,ROUND(MAX(0,MIN(2,2*(E14/F14))),2),0)");
        let steps = Method::StepTable {
            steps: vec![
                Step {
                    min_count: 1,
                    score: dec!(0.5),
                },
                Step {
                    min_count: 4,
                    score: dec!(2),
                },
            ],
        };
        assert_eq!(
            leaf_formula(&steps, dec!(2), None, 4, 5),
            "IF(G6>=4,2,IF(G6>=1,0.5,0))"
        );
        assert_eq!(
            leaf_formula(&Method::RelativeToBest {}, dec!(3), Some(dec!(80)), 4, 5),
            "IF(MAX(I6,80)>0,ROUND(MAX(0,MIN(3,3*I6/MAX(I6,80))),2),0)"
        );
    }

    #[test]
    fn yes_and_no_in_any_spelling() {
        assert_eq!(yes_no("Có"), Some(true));
        assert_eq!(yes_no("co"), Some(true));
        assert_eq!(yes_no("KHÔNG"), Some(false));
        assert_eq!(yes_no("maybe"), None);
    }
}
