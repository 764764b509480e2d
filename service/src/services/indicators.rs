//! Figures from other systems (issue 34's first part): a leaf may be fed from a named
//! indicator of a source system (`indicator_code` on the criterion, e.g.
//! `qlvb.documents_signed_digitally`), and the values imported for it are kept per
//! framework, unit and criterion with their provenance: the system, the period, when they
//! were retrieved and the document behind them. A re-import replaces a value and the trail
//! keeps the previous one.
//!
//! This module checks and stores values and reads them back; making a value the council's
//! input of a file is `lifecycle::feed`'s (at import when the file is with the council, at
//! submission otherwise).

use super::audit::{self, Change};
use super::frameworks::LoadedFramework;
use super::now;
use super::scoresheet;
use super::units::kind_of;
use crate::auth::{Principal, unit_ref};
use crate::error::{ApiError, ApiResult, FieldError, Violations, text};
use crate::scoring::Inputs;
use chrono::{DateTime, NaiveDate, Utc};
use entity::status::AppraisalStatus;
use entity::{appraisal, indicator_value, self_assessment, unit};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// The most rows one import takes (a province's communes × its fed criteria fit).
pub const MAX_ROWS: usize = 20_000;

/// The indicator code a survey result is stored under (its criterion is `survey`-scored,
/// not fed from a named indicator).
pub const SURVEY_INDICATOR: &str = "survey";

/// What an import feeds: values of named indicators (all rows must be placed), or survey
/// results (a row whose unit cannot take it is named and left out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    Indicator,
    Survey,
}

/// One value as sent.
#[derive(Clone, Debug)]
pub struct IndicatorRow {
    /// How problems name the row: `rows[3]`, `results[3]`, `row 4`.
    pub at: String,
    pub unit_code: String,
    pub criterion_code: String,
    pub inputs: Inputs,
    pub source_system: String,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub retrieved_at: DateTime<Utc>,
    pub document_ref: Option<String>,
}

/// A row that passed every check, with the unit and the file it lands on.
#[derive(Clone, Debug)]
pub struct Checked {
    pub row: IndicatorRow,
    pub unit: unit::Model,
    pub indicator_code: String,
    /// The unit's file on the framework, and its appraisal once submitted.
    pub file: Option<self_assessment::Model>,
    pub appraisal: Option<appraisal::Model>,
}

/// The rows that passed every check, and (survey results only) the rows that could not be
/// placed: an unknown unit, one the framework does not score, a finalized file.
#[derive(Clone, Debug, Default)]
pub struct CheckedRows {
    pub rows: Vec<Checked>,
    pub unplaced: Vec<FieldError>,
}

/// Checks every row against the framework (all problems at once, by row): the unit by
/// its code, under the framework's owner and of a kind it scores; a leaf fed from an
/// indicator (a `survey` leaf for survey results); the method's inputs; the provenance;
/// one value per unit and criterion; no finalized file. A survey row whose unit cannot
/// take it is set aside in `unplaced` instead of failing the import.
// Long by nature: every check of a row in turn, each problem named.
pub async fn check<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    owner: &unit::Model,
    rows: Vec<IndicatorRow>,
    feed: Feed,
) -> ApiResult<CheckedRows> {
    if rows.len() > MAX_ROWS {
        return Err(ApiError::validation(vec![FieldError::new(
            "rows",
            "too_many",
            text!(
                "at most {MAX_ROWS} rows per import",
                "tối đa {MAX_ROWS} dòng mỗi lần nhập"
            ),
        )]));
    }
    let codes: Vec<String> = rows
        .iter()
        .map(|r| r.unit_code.trim().to_string())
        .collect();
    let units: HashMap<String, unit::Model> = unit::Entity::find()
        .filter(unit::Column::Code.is_in(codes))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    let ids: Vec<i64> = units.values().map(|u| u.id).collect();
    let files: HashMap<i64, self_assessment::Model> = self_assessment::Entity::find()
        .filter(self_assessment::Column::FrameworkId.eq(framework.model.id))
        .filter(self_assessment::Column::UnitId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| (f.unit_id, f))
        .collect();
    let appraisals: HashMap<i64, appraisal::Model> = appraisal::Entity::find()
        .filter(
            appraisal::Column::SelfAssessmentId
                .is_in(files.values().map(|f| f.id).collect::<Vec<_>>()),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.self_assessment_id, a))
        .collect();
    let mut errors = Vec::new();
    let mut unplaced = Vec::new();
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        let at = row.at.clone();
        let field = |name: &str| format!("{at}.{name}");
        let before = errors.len();
        let mut placed = true;
        let unit_code = row.unit_code.trim().to_string();
        let unit = match units.get(&unit_code) {
            Some(u)
                if unit_ref(u).is_within(&unit_ref(owner))
                    && u.id != owner.id
                    && framework.unit_kinds.contains(&kind_of(u)) =>
            {
                Some(u.clone())
            }
            // Another province's unit reads like one that does not exist.
            _ => {
                let problem = FieldError::new(
                    field("unit_code"),
                    "unknown_unit",
                    text!(
                        "no unit {unit_code:?} is scored on this framework",
                        "không có đơn vị {unit_code:?} được chấm theo bộ tiêu chí này"
                    ),
                );
                match feed {
                    Feed::Indicator => errors.push(problem),
                    Feed::Survey => {
                        unplaced.push(problem);
                        placed = false;
                    }
                }
                None
            }
        };
        let code = row.criterion_code.trim().to_string();
        let def = framework
            .tree
            .get(&code)
            .filter(|_| framework.tree.is_leaf(&code));
        let indicator = match (feed, def) {
            (Feed::Indicator, Some(d)) if d.indicator_code.is_some() => d.indicator_code.clone(),
            (Feed::Survey, Some(d)) if d.scorer == crate::scoring::Scorer::Survey => {
                Some(SURVEY_INDICATOR.to_string())
            }
            (Feed::Survey, _) => {
                errors.push(FieldError::new(
                    field("criterion_code"),
                    "not_survey",
                    text!(
                        "{code} is not a survey-scored criterion of this framework",
                        "{code} không phải tiêu chí chấm theo kết quả điều tra của bộ tiêu chí này"
                    ),
                ));
                None
            }
            (Feed::Indicator, _) => {
                errors.push(FieldError::new(
                    field("criterion_code"),
                    "not_fed",
                    text!(
                        "{code} is not a leaf fed from an indicator (indicator_code) in this framework",
                        "{code} không phải tiêu chí lá lấy số liệu từ chỉ tiêu (indicator_code) của bộ tiêu chí này"
                    ),
                ));
                None
            }
        };
        if let Some(def) = def
            && indicator.is_some()
        {
            if row.inputs.is_empty() {
                errors.push(FieldError::new(
                    field("inputs"),
                    "required",
                    text!(
                        "give the figures the criterion's method reads",
                        "cần nêu số liệu theo cách chấm của tiêu chí"
                    ),
                ));
            } else if let Err(e) = scoresheet::score_input(def, &row.inputs, None, &at) {
                errors.push(e);
            }
        }
        let mut v = Violations::new();
        let source = crate::validation::text(
            &mut v,
            &field("source_system"),
            &row.source_system,
            200,
            true,
        )
        .unwrap_or_default();
        let document_ref = crate::validation::optional_text(
            &mut v,
            &field("document_ref"),
            row.document_ref.as_deref(),
            500,
        );
        errors.extend(v.into_vec());
        if let (Some(from), Some(to)) = (row.period_from, row.period_to)
            && from > to
        {
            errors.push(FieldError::new(
                field("period_to"),
                "before_start",
                text!("ends before it starts", "kết thúc trước khi bắt đầu"),
            ));
        }
        if let Some(u) = &unit
            && !seen.insert((u.id, code.clone()))
        {
            errors.push(FieldError::new(
                field("criterion_code"),
                "duplicate",
                text!(
                    "{unit_code} has two values of {code} in this import",
                    "{unit_code} có hai giá trị của {code} trong lần nhập này"
                ),
            ));
        }
        let file = unit.as_ref().and_then(|u| files.get(&u.id)).cloned();
        let appraisal = file.as_ref().and_then(|f| appraisals.get(&f.id)).cloned();
        if let Some(a) = &appraisal
            && a.status == AppraisalStatus::Finalized
        {
            let problem = FieldError::new(
                field("unit_code"),
                "finalized",
                text!(
                    "{unit_code}'s appraisal is finalized: its figures no longer change",
                    "kết quả thẩm định của {unit_code} đã chốt: không thay đổi số liệu được nữa"
                ),
            );
            match feed {
                Feed::Indicator => errors.push(problem),
                Feed::Survey => {
                    unplaced.push(problem);
                    placed = false;
                }
            }
        }
        if errors.len() > before || !placed {
            continue;
        }
        if let (Some(unit), Some(indicator_code)) = (unit, indicator) {
            checked.push(Checked {
                row: IndicatorRow {
                    unit_code,
                    criterion_code: code,
                    source_system: source,
                    document_ref,
                    ..row
                },
                unit,
                indicator_code,
                file,
                appraisal,
            });
        }
    }
    if errors.is_empty() {
        Ok(CheckedRows {
            rows: checked,
            unplaced,
        })
    } else {
        Err(ApiError::validation(errors))
    }
}

/// What the trail keeps of a value.
fn value_json(m: &indicator_value::Model) -> serde_json::Value {
    json!({
        "criterion_code": m.criterion_code,
        "indicator_code": m.indicator_code,
        "inputs": serde_json::from_str::<serde_json::Value>(&m.inputs).unwrap_or_default(),
        "source_system": m.source_system,
        "period_from": m.period_from,
        "period_to": m.period_to,
        "retrieved_at": m.retrieved_at,
        "document_ref": m.document_ref,
    })
}

/// Stores checked values: a new one is inserted, an existing one replaced; each audited
/// with the value it replaced.
pub async fn store<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    framework: &LoadedFramework,
    checked: &[Checked],
) -> ApiResult<Vec<indicator_value::Model>> {
    let existing: HashMap<(i64, String), indicator_value::Model> = indicator_value::Entity::find()
        .filter(indicator_value::Column::FrameworkId.eq(framework.model.id))
        .filter(
            indicator_value::Column::UnitId
                .is_in(checked.iter().map(|c| c.unit.id).collect::<Vec<_>>()),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|m| ((m.unit_id, m.criterion_code.clone()), m))
        .collect();
    let mut stored = Vec::with_capacity(checked.len());
    let mut changes = Vec::with_capacity(checked.len());
    for c in checked {
        let inputs = serde_json::to_string(&c.row.inputs).map_err(ApiError::internal)?;
        let old = existing.get(&(c.unit.id, c.row.criterion_code.clone()));
        let mut am: indicator_value::ActiveModel = match old {
            Some(m) => m.clone().into(),
            None => indicator_value::ActiveModel {
                framework_id: Set(framework.model.id),
                unit_id: Set(c.unit.id),
                year: Set(framework.model.year),
                criterion_code: Set(c.row.criterion_code.clone()),
                ..Default::default()
            },
        };
        am.indicator_code = Set(c.indicator_code.clone());
        am.inputs = Set(inputs);
        am.source_system = Set(c.row.source_system.clone());
        am.period_from = Set(c.row.period_from);
        am.period_to = Set(c.row.period_to);
        am.retrieved_at = Set(c.row.retrieved_at);
        am.document_ref = Set(c.row.document_ref.clone());
        am.imported_by = Set(Some(actor.user_id).filter(|id| *id > 0));
        am.imported_at = Set(now());
        let model = match old {
            Some(_) => am.update(conn).await?,
            None => am.insert(conn).await?,
        };
        changes.push(Change {
            entity: "indicator_value",
            entity_id: model.id,
            action: if old.is_some() { "reimport" } else { "import" },
            unit_id: Some(model.unit_id),
            results_year: Some(model.year),
            old: old.map(value_json),
            new: Some(value_json(&model)),
        });
        stored.push(model);
    }
    audit::record_all(conn, actor, changes).await?;
    Ok(stored)
}

/// The council's comment of a fed leaf: where its figure came from, as the seed letter
/// writes it.
pub fn provenance_text(m: &indicator_value::Model) -> String {
    let period = match (m.period_from, m.period_to) {
        (Some(from), Some(to)) => format!(
            " từ {} đến {}",
            from.format("%d/%m/%Y"),
            to.format("%d/%m/%Y")
        ),
        (None, Some(to)) => format!(" đến {}", to.format("%d/%m/%Y")),
        (Some(from), None) => format!(" từ {}", from.format("%d/%m/%Y")),
        (None, None) => String::new(),
    };
    let document = m
        .document_ref
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    format!(
        "Theo số liệu trích từ {}{period}{document}",
        m.source_system
    )
}

/// The stored values of one unit on a framework (every unit's when `unit_id` is none),
/// in unit then criterion order.
pub async fn values<C: ConnectionTrait>(
    conn: &C,
    framework_id: i64,
    unit_id: Option<i64>,
) -> ApiResult<Vec<indicator_value::Model>> {
    let mut query = indicator_value::Entity::find()
        .filter(indicator_value::Column::FrameworkId.eq(framework_id))
        .order_by_asc(indicator_value::Column::UnitId)
        .order_by_asc(indicator_value::Column::CriterionCode);
    if let Some(id) = unit_id {
        query = query.filter(indicator_value::Column::UnitId.eq(id));
    }
    Ok(query.all(conn).await?)
}

/// A stored value's inputs.
pub fn inputs_of(m: &indicator_value::Model) -> ApiResult<Inputs> {
    serde_json::from_str(&m.inputs).map_err(ApiError::internal)
}

/// The columns an indicator sheet may carry, by their English and (folded) Vietnamese
/// names.
const SHEET_COLUMNS: [(&str, &[&str]); 13] = [
    ("unit_code", &["unit_code", "ma don vi"]),
    ("criterion_code", &["criterion_code", "ma tieu chi"]),
    ("score", &["score", "diem"]),
    ("numerator", &["numerator", "tu so"]),
    ("denominator", &["denominator", "mau so"]),
    ("count", &["count", "so luong"]),
    ("done", &["done", "dat"]),
    ("value", &["value", "gia tri"]),
    ("source_system", &["source_system", "he thong nguon"]),
    ("period_from", &["period_from", "tu ngay"]),
    ("period_to", &["period_to", "den ngay"]),
    ("retrieved_at", &["retrieved_at", "thoi diem lay so lieu"]),
    ("document_ref", &["document_ref", "van ban", "tai lieu"]),
];

/// A date as spreadsheets write it: `2023-11-30` or `30/11/2023`.
fn sheet_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

/// Indicator values from a CSV or XLSX upload: a header row naming the columns (in
/// English as in JSON, or in Vietnamese: Mã đơn vị, Mã tiêu chí, Điểm, Tử số, Mẫu số, Số
/// lượng, Đạt, Giá trị, Hệ thống nguồn, Từ ngày, Đến ngày, Thời điểm lấy số liệu, Văn
/// bản), one value per row. `retrieved_at` is an RFC 3339 time or a date (midnight in
/// Vietnam); dates are `YYYY-MM-DD` or `DD/MM/YYYY`; `done` is 1/0, true/false or có/không.
/// Every bad cell is named by its row.
pub fn rows_of_sheet(rows: parindex_domain::spreadsheet::Rows) -> ApiResult<Vec<IndicatorRow>> {
    let mut rows = rows.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(ApiError::validation(vec![FieldError::new(
            "file",
            "empty",
            text!("the file has no rows", "tệp không có dòng nào"),
        )]));
    };
    let folded: Vec<String> = header
        .iter()
        .map(|h| crate::validation::fold_for_search(h.trim()))
        .collect();
    let column: HashMap<&str, usize> = SHEET_COLUMNS
        .iter()
        .filter_map(|(name, aliases)| {
            folded
                .iter()
                .position(|h| aliases.contains(&h.as_str()))
                .map(|i| (*name, i))
        })
        .collect();
    let missing: Vec<&str> = [
        "unit_code",
        "criterion_code",
        "source_system",
        "retrieved_at",
    ]
    .into_iter()
    .filter(|c| !column.contains_key(c))
    .collect();
    if !missing.is_empty() {
        let missing = missing.join(", ");
        return Err(ApiError::validation(vec![FieldError::new(
            "file",
            "missing_column",
            text!(
                "the header row must name unit_code, criterion_code, source_system and retrieved_at; missing: {missing}",
                "dòng tiêu đề phải có các cột Mã đơn vị, Mã tiêu chí, Hệ thống nguồn và Thời điểm lấy số liệu; còn thiếu: {missing}"
            ),
        )]));
    }
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (n, cells) in rows {
        let at = format!("row {n}");
        let cell = |name: &str| {
            column
                .get(name)
                .and_then(|i| cells.get(*i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut bad = |name: &str, code: &'static str, message| {
            errors.push(FieldError::new(format!("{at}.{name}"), code, message));
        };
        let mut number = |name: &str| {
            cell(name).and_then(|t| {
                match rust_decimal::Decimal::from_str_exact(&t.replace(',', ".")) {
                    Ok(d) => Some(d),
                    Err(_) => {
                        bad(
                            name,
                            "not_a_number",
                            text!("must be a number", "phải là số"),
                        );
                        None
                    }
                }
            })
        };
        let score = number("score");
        let numerator = number("numerator");
        let denominator = number("denominator");
        let value = number("value");
        let count = cell("count").and_then(|t| match t.parse::<u32>() {
            Ok(c) => Some(c),
            Err(_) => {
                bad(
                    "count",
                    "not_a_count",
                    text!("a whole number ≥ 0", "số nguyên không âm"),
                );
                None
            }
        });
        let done =
            cell("done").and_then(|t| match crate::validation::fold_for_search(&t).as_str() {
                "1" | "true" | "co" | "x" => Some(true),
                "0" | "false" | "khong" => Some(false),
                _ => {
                    bad(
                        "done",
                        "not_a_flag",
                        text!("1 or 0 (có / không)", "1 hoặc 0 (có / không)"),
                    );
                    None
                }
            });
        let mut date = |name: &str| {
            cell(name).and_then(|t| {
                sheet_date(&t).or_else(|| {
                    bad(
                        name,
                        "not_a_date",
                        text!(
                            "a date: YYYY-MM-DD or DD/MM/YYYY",
                            "là ngày: YYYY-MM-DD hoặc DD/MM/YYYY"
                        ),
                    );
                    None
                })
            })
        };
        let period_from = date("period_from");
        let period_to = date("period_to");
        let retrieved_at = match cell("retrieved_at") {
            None => {
                bad(
                    "retrieved_at",
                    "required",
                    text!(
                        "when the figures were taken from the system",
                        "cần nêu thời điểm lấy số liệu từ hệ thống"
                    ),
                );
                None
            }
            Some(t) => DateTime::parse_from_rfc3339(&t)
                .map(|d| d.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    // A bare date: midnight in Vietnam (UTC+7).
                    sheet_date(&t)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|d| d.and_utc() - chrono::Duration::hours(7))
                })
                .or_else(|| {
                    bad(
                        "retrieved_at",
                        "not_a_time",
                        text!(
                            "an RFC 3339 time or a date",
                            "là thời điểm theo RFC 3339 hoặc một ngày"
                        ),
                    );
                    None
                }),
        };
        if let Some(retrieved_at) = retrieved_at {
            out.push(IndicatorRow {
                unit_code: cell("unit_code").unwrap_or_default(),
                criterion_code: cell("criterion_code").unwrap_or_default(),
                inputs: Inputs {
                    score,
                    numerator,
                    denominator,
                    count,
                    done,
                    value,
                    not_applicable: false,
                },
                source_system: cell("source_system").unwrap_or_default(),
                period_from,
                period_to,
                retrieved_at,
                document_ref: cell("document_ref"),
                at,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Where each fed leaf of `unit_id`'s file on `framework_id` came from ("Theo số liệu
/// trích từ …", `provenance_text`), by leaf; `self_side_of` keeps only the leaves fed on
/// the unit's side too (what the unit's own papers and workbook show as fed).
pub async fn sources_of<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    unit_id: i64,
    self_side_only: bool,
) -> ApiResult<HashMap<String, String>> {
    let fed = framework
        .tree
        .leaves()
        .any(|c| c.indicator_code.is_some() || c.scorer == crate::scoring::Scorer::Survey);
    if !fed {
        return Ok(HashMap::new());
    }
    Ok(values(conn, framework.model.id, Some(unit_id))
        .await?
        .into_iter()
        .filter(|m| {
            !self_side_only
                || framework
                    .tree
                    .get(&m.criterion_code)
                    .is_some_and(|c| c.indicator_feeds_self)
        })
        .map(|m| (m.criterion_code.clone(), provenance_text(&m)))
        .collect())
}

/// A comment or explanation with the figure's source added, unless it already says it.
pub fn with_source(text: Option<&str>, source: Option<&String>) -> String {
    match (text.map(str::trim).filter(|t| !t.is_empty()), source) {
        (Some(t), Some(s)) if !t.contains(s.as_str()) => format!("{s}. {t}"),
        (Some(t), _) => t.to_string(),
        (None, Some(s)) => s.clone(),
        (None, None) => String::new(),
    }
}

/// The values fed into `unit_id`'s file on `framework`, by leaf: the council's other
/// figures on them are corrections (`entries`: a reason is needed).
pub async fn fed_values<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    unit_id: i64,
) -> ApiResult<std::collections::HashMap<String, crate::scoring::Inputs>> {
    let fed = framework
        .tree
        .leaves()
        .any(|c| c.indicator_code.is_some() || c.scorer == crate::scoring::Scorer::Survey);
    if !fed {
        return Ok(std::collections::HashMap::new());
    }
    values(conn, framework.model.id, Some(unit_id))
        .await?
        .into_iter()
        .map(|m| Ok((m.criterion_code.clone(), inputs_of(&m)?)))
        .collect()
}
