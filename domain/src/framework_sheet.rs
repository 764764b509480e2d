//! A framework's criteria as spreadsheet rows, one row per criterion:
//! `code, title, max_score, method, parameters, scorer`. Parameters are written the way a
//! person would type them: `target=0.30`, `threshold=0.70`, `points=0.5`,
//! `steps=1:0.5;2:1;3:1.5;4:2` (min_count:score).
//!
//! Parsing reports every bad row by its row number (`rows[N].<column>`) and yields nothing
//! when any is bad.

use crate::scoring::framework::{CriteriaTree, CriterionDef, Scorer};
use crate::scoring::method::{Method, Step};
use crate::spreadsheet::Rows;
use crate::text::Text;
use crate::{FieldError, text};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

pub const COLUMNS: [&str; 9] = [
    "code",
    "title",
    "max_score",
    "method",
    "parameters",
    "scorer",
    "appraised_by_unit_id",
    "indicator_code",
    "indicator_feeds_self",
];

/// Columns a sheet may leave out (their cells are then empty).
const OPTIONAL_COLUMNS: [&str; 5] = [
    "scorer",
    "parameters",
    "appraised_by_unit_id",
    "indicator_code",
    "indicator_feeds_self",
];

fn decimal_text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// `(method name, parameters)` cells of a method.
pub fn method_cells(method: &Method) -> (String, String) {
    let params = match method {
        Method::TargetRatio { target } => format!("target={}", decimal_text(*target)),
        Method::Threshold { threshold } => format!("threshold={}", decimal_text(*threshold)),
        Method::PerItem { points } | Method::PenaltyPerItem { points } => {
            format!("points={}", decimal_text(*points))
        }
        Method::StepTable { steps } => format!(
            "steps={}",
            steps
                .iter()
                .map(|s| format!("{}:{}", s.min_count, decimal_text(s.score)))
                .collect::<Vec<_>>()
                .join(";")
        ),
        Method::Manual {} | Method::Ratio {} | Method::Boolean {} | Method::RelativeToBest {} => {
            String::new()
        }
    };
    (method.name().to_string(), params)
}

fn parse_decimal(cell: &str) -> Result<Decimal, Text> {
    Decimal::from_str(cell.trim())
        .map_err(|_| text!("{cell:?} is not a number", "{cell:?} không phải là số"))
}

/// A method from its two cells.
pub fn parse_method(name: &str, params: &str) -> Result<Method, Text> {
    let mut values: HashMap<String, String> = HashMap::new();
    for part in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| {
            text!(
                "parameter {part:?} is not key=value",
                "tham số {part:?} không có dạng khóa=giá trị"
            )
        })?;
        values.insert(k.trim().to_lowercase(), v.trim().to_string());
    }
    let mut take = |key: &str| {
        values.remove(key).ok_or_else(|| {
            text!(
                "the {name} method needs {key}=…",
                "phương pháp {name} cần tham số {key}=…"
            )
        })
    };
    let method = match name.trim().to_lowercase().as_str() {
        "manual" => Method::Manual {},
        "ratio" => Method::Ratio {},
        "boolean" => Method::Boolean {},
        "relative_to_best" => Method::RelativeToBest {},
        "target_ratio" => Method::TargetRatio {
            target: parse_decimal(&take("target")?)?,
        },
        "threshold" => Method::Threshold {
            threshold: parse_decimal(&take("threshold")?)?,
        },
        "per_item" => Method::PerItem {
            points: parse_decimal(&take("points")?)?,
        },
        "penalty_per_item" => Method::PenaltyPerItem {
            points: parse_decimal(&take("points")?)?,
        },
        "step_table" => Method::StepTable {
            steps: take("steps")?
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let (count, score) = s.split_once(':').ok_or_else(|| {
                        text!(
                            "step {s:?} is not min_count:score",
                            "bậc {s:?} không có dạng số_lượng_tối_thiểu:điểm"
                        )
                    })?;
                    Ok(Step {
                        min_count: count.trim().parse().map_err(|_| {
                            text!(
                                "step count {count:?} is not a whole number",
                                "số lượng của bậc {count:?} không phải là số nguyên"
                            )
                        })?,
                        score: parse_decimal(score)?,
                    })
                })
                .collect::<Result<Vec<_>, Text>>()?,
        },
        other => {
            return Err(text!(
                "unknown method {other:?}",
                "không có phương pháp chấm điểm {other:?}"
            ));
        }
    };
    if let Some(extra) = values.keys().next() {
        return Err(text!(
            "the {name} method takes no parameter {extra:?}",
            "phương pháp {name} không có tham số {extra:?}"
        ));
    }
    Ok(method)
}

/// Parses uploaded rows (header first) into criteria; every bad row is reported as
/// `rows[N].<column>` with its 1-based row number.
// Long by nature: each column of a row read and checked in turn, every problem kept.
pub fn parse_rows(rows: Rows) -> Result<(Vec<CriterionDef>, Vec<usize>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut iter = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, header)) = iter.next() else {
        return Err(vec![FieldError::new(
            "rows",
            "required",
            text!(
                "the file is empty: expected a header row and one row per criterion",
                "tệp trống: cần một dòng tiêu đề và mỗi tiêu chí một dòng"
            ),
        )]);
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let position = |name: &str| header.iter().position(|h| h == name);
    let mut columns = HashMap::new();
    for name in COLUMNS {
        match position(name) {
            Some(i) => {
                columns.insert(name, i);
            }
            None if OPTIONAL_COLUMNS.contains(&name) => {}
            None => errors.push(FieldError::new(
                format!("rows[{header_row}]"),
                "missing_column",
                {
                    let expected = COLUMNS.join(", ");
                    text!(
                        "the header row has no {name:?} column (expected: {expected})",
                        "dòng tiêu đề thiếu cột {name:?} (cần có: {expected})"
                    )
                },
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut criteria = Vec::new();
    let mut row_numbers = Vec::new();
    for (number, cells) in iter {
        let cell = |name: &str| {
            columns
                .get(name)
                .and_then(|&i| cells.get(i))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let field = |name: &str| format!("rows[{number}].{name}");
        let code = cell("code");
        let max_score = match parse_decimal(&cell("max_score")) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(FieldError::new(field("max_score"), "invalid_number", e));
                None
            }
        };
        let method_name = cell("method");
        let method = if method_name.is_empty() {
            None
        } else {
            match parse_method(&method_name, &cell("parameters")) {
                Ok(m) => Some(m),
                Err(e) => {
                    errors.push(FieldError::new(field("method"), "invalid_method", e));
                    None
                }
            }
        };
        let scorer_text = cell("scorer");
        let scorer = if scorer_text.is_empty() {
            Scorer::SelfAssessed
        } else {
            match Scorer::parse(&scorer_text.to_lowercase()) {
                Some(s) => s,
                None => {
                    errors.push(FieldError::new(
                        field("scorer"),
                        "unknown_value",
                        text!(
                            "{scorer_text:?} is not one of self, appraiser, survey",
                            "{scorer_text:?} không thuộc self, appraiser, survey"
                        ),
                    ));
                    Scorer::SelfAssessed
                }
            }
        };
        let agency_text = cell("appraised_by_unit_id");
        let appraised_by_unit_id = if agency_text.is_empty() {
            None
        } else {
            match agency_text.parse::<i64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errors.push(FieldError::new(
                        field("appraised_by_unit_id"),
                        "invalid_number",
                        text!(
                            "{agency_text:?} is not a unit id (a whole number)",
                            "{agency_text:?} không phải mã số đơn vị (số nguyên)"
                        ),
                    ));
                    None
                }
            }
        };
        let feeds_text = cell("indicator_feeds_self").to_lowercase();
        let indicator_feeds_self = match feeds_text.as_str() {
            "" | "false" | "0" | "không" => false,
            "true" | "1" | "có" => true,
            _ => {
                errors.push(FieldError::new(
                    field("indicator_feeds_self"),
                    "invalid",
                    text!(
                        "{feeds_text:?} is not true or false (Có or Không)",
                        "{feeds_text:?} không phải true hoặc false (Có hoặc Không)"
                    ),
                ));
                false
            }
        };
        let title = cell("title");
        if title.is_empty() {
            errors.push(FieldError::new(
                field("title"),
                "required",
                text!("must not be empty", "không được để trống"),
            ));
        }
        if let Some(max_score) = max_score {
            row_numbers.push(number);
            criteria.push(CriterionDef {
                code,
                title,
                max_score,
                method,
                scorer,
                appraised_by_unit_id,
                indicator_code: Some(cell("indicator_code")).filter(|c| !c.is_empty()),
                indicator_feeds_self,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Rules across rows (parents, sums, methods), reported by row too.
    if let Err(errors) = CriteriaTree::build(criteria.clone()) {
        return Err(errors
            .into_iter()
            .map(|e| {
                let field = match e.index.and_then(|i| row_numbers.get(i)) {
                    Some(row) => {
                        let tail = e.field.split_once(']').map_or("", |(_, t)| t);
                        format!("rows[{row}]{tail}")
                    }
                    None => e.field,
                };
                FieldError::new(field, e.code, e.message)
            })
            .collect());
    }
    Ok((criteria, row_numbers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn methods_round_trip_through_cells() {
        let methods = [
            Method::Manual {},
            Method::Ratio {},
            Method::TargetRatio { target: dec!(0.30) },
            Method::Threshold {
                threshold: dec!(0.7),
            },
            Method::PerItem { points: dec!(0.5) },
            Method::PenaltyPerItem { points: dec!(1) },
            Method::Boolean {},
            Method::StepTable {
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
            },
            Method::RelativeToBest {},
        ];
        for m in methods {
            let (name, params) = method_cells(&m);
            assert_eq!(parse_method(&name, &params).unwrap(), m, "{name} {params}");
        }
        assert_eq!(
            method_cells(&Method::TargetRatio { target: dec!(0.30) }).1,
            "target=0.3"
        );
    }

    #[test]
    fn bad_cells_are_explained() {
        assert!(
            parse_method("target_ratio", "")
                .unwrap_err()
                .en
                .contains("target=")
        );
        assert!(
            parse_method("magic", "")
                .unwrap_err()
                .en
                .contains("unknown method")
        );
        assert!(
            parse_method("ratio", "target=1")
                .unwrap_err()
                .en
                .contains("takes no parameter")
        );
        assert!(
            parse_method("step_table", "steps=a:1")
                .unwrap_err()
                .en
                .contains("whole number")
        );
    }

    #[test]
    fn rules_across_rows_are_reported_by_row_too() {
        let header: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        let row = |c: &str, max: &str, m: &str| {
            vec![
                c.to_string(),
                format!("title {c}"),
                max.to_string(),
                m.to_string(),
                String::new(),
                String::new(),
            ]
        };
        let rows: Rows = vec![
            (1, header),
            (2, row("1", "100", "")),
            (3, row("1.1", "60", "manual")),
            (4, row("1.2", "30", "ratio")),
        ];
        let e = parse_rows(rows).unwrap_err();
        let fields: Vec<(&str, &str)> = e
            .iter()
            .map(|f| (f.field.as_str(), f.code.as_str()))
            .collect();
        assert_eq!(fields, [("rows[2].max_score", "sum_mismatch")]);
    }

    #[test]
    fn rows_are_reported_by_number() {
        let rows: Rows = vec![
            (1, COLUMNS.iter().map(|s| s.to_string()).collect()),
            (
                2,
                vec![
                    "1".into(),
                    "Field".into(),
                    "abc".into(),
                    "".into(),
                    "".into(),
                    "".into(),
                ],
            ),
            (
                3,
                vec![
                    "1.1".into(),
                    "Leaf".into(),
                    "100".into(),
                    "ratios".into(),
                    "".into(),
                    "".into(),
                ],
            ),
        ];
        let e = parse_rows(rows).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["rows[2].max_score", "rows[3].method"]);
    }
}
