//! Survey results (người dân hài lòng, SIPAS-style): the district or province receives one
//! table for its units and sets every listed unit's `survey`-scored criteria at once;
//! several survey groups (citizens, officials, leaders) are separate criteria.
//!
//! Each row names a unit by code and a criterion by code, with the survey's figure
//! (`value`) or, for a criterion scored by hand, its `score`. The figure becomes the
//! council's input of the criterion's method: a percentage (0–100) of a ratio, target
//! ratio or threshold criterion (numerator/100), the figure of a relative-to-best one, a
//! count, or 1/0 for yes/no. Results are kept per unit and year like every figure fed
//! from elsewhere (`indicators`, `lifecycle::feed`): whatever state a unit's file is in,
//! they wait for it and land when it reaches the council.

use super::frameworks::{self, LoadedFramework};
use super::indicators::{Feed, IndicatorRow};
use super::lifecycle::feed::{self, FeedReport};
use super::scope::{Reach, scoped};
use super::units::{find_unit, unit_ref};
use super::visibility::{self, Visible};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError, text};
use crate::scoring::{Inputs, Method, Scorer, from_hundredths};
use entity::{appraisal, assessment_entry, unit};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// The most rows one import may carry (a province's communes × a few survey criteria).
pub const MAX_ROWS: usize = 5_000;

/// One row of an import, and how to name it in errors (`results[3]`, `row 4`).
#[derive(Clone, Debug)]
pub struct SurveyRow {
    pub at: String,
    pub unit_code: String,
    pub criterion_code: String,
    pub value: Option<Decimal>,
    pub score: Option<Decimal>,
}

/// A survey criterion of a unit, as stored.
#[derive(Clone, Debug)]
pub struct SurveyResult {
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub appraisal_id: i64,
    pub criterion_code: String,
    pub inputs: Option<Inputs>,
    pub score: Option<Decimal>,
}

/// The council's inputs a survey figure stands for under `method`.
fn inputs_of(
    method: &Method,
    value: Option<Decimal>,
    score: Option<Decimal>,
) -> Result<Inputs, (&'static str, crate::error::Text)> {
    let needs_value = || {
        (
            "value",
            text!(
                "this criterion is scored from the survey's figure: send value",
                "tiêu chí này được tính từ số liệu điều tra: hãy gửi value (giá trị)"
            ),
        )
    };
    let mut inputs = Inputs::default();
    match (method, value, score) {
        (_, Some(_), Some(_)) => {
            return Err((
                "score",
                text!(
                    "send value or score, not both",
                    "chỉ gửi value hoặc score, không gửi cả hai"
                ),
            ));
        }
        (Method::Manual {}, None, Some(s)) => inputs.score = Some(s),
        (Method::Manual {}, _, None) => {
            return Err((
                "score",
                text!(
                    "this criterion is scored by hand: send score",
                    "tiêu chí này chấm trực tiếp: hãy gửi score (điểm)"
                ),
            ));
        }
        (_, None, _) => return Err(needs_value()),
        (
            Method::Ratio {} | Method::TargetRatio { .. } | Method::Threshold { .. },
            Some(v),
            None,
        ) => {
            if v > Decimal::ONE_HUNDRED {
                return Err((
                    "value",
                    text!("a percentage, 0 to 100", "là tỷ lệ phần trăm, từ 0 đến 100"),
                ));
            }
            inputs.numerator = Some(v);
            inputs.denominator = Some(Decimal::ONE_HUNDRED);
        }
        (Method::RelativeToBest {}, Some(v), None) => inputs.value = Some(v),
        (
            Method::PerItem { .. } | Method::PenaltyPerItem { .. } | Method::StepTable { .. },
            Some(v),
            None,
        ) => match (v.fract().is_zero(), v.to_u32()) {
            (true, Some(c)) => inputs.count = Some(c),
            _ => {
                return Err((
                    "value",
                    text!(
                        "a count: a whole number ≥ 0",
                        "là số lượng: số nguyên không âm"
                    ),
                ));
            }
        },
        (Method::Boolean {}, Some(v), None) => {
            if v == Decimal::ONE {
                inputs.done = Some(true);
            } else if v.is_zero() {
                inputs.done = Some(false);
            } else {
                return Err(("value", text!("1 (yes) or 0 (no)", "1 (có) hoặc 0 (không)")));
            }
        }
    }
    Ok(inputs)
}

/// Survey rows from a CSV or XLSX upload: a header row naming `unit_code`,
/// `criterion_code`, `value`, `score` (or Mã đơn vị, Mã tiêu chí, Giá trị, Điểm).
pub fn rows_of_sheet(rows: parindex_domain::spreadsheet::Rows) -> ApiResult<Vec<SurveyRow>> {
    let mut rows = rows.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(ApiError::validation(vec![FieldError::new(
            "file",
            "empty",
            text!("the file has no rows", "tệp không có dòng nào"),
        )]));
    };
    let column = |names: &[&str]| {
        header.iter().position(|h| {
            let h = crate::validation::fold_for_search(h.trim());
            names.iter().any(|n| h == *n)
        })
    };
    let unit = column(&["unit_code", "ma don vi"]);
    let criterion = column(&["criterion_code", "ma tieu chi"]);
    let value = column(&["value", "gia tri"]);
    let score = column(&["score", "diem"]);
    let (Some(unit), Some(criterion)) = (unit, criterion) else {
        return Err(ApiError::validation(vec![FieldError::new(
            "file",
            "missing_column",
            text!(
                "the header row must name unit_code and criterion_code (and value or score)",
                "dòng tiêu đề phải có cột Mã đơn vị và Mã tiêu chí (và Giá trị hoặc Điểm)"
            ),
        )]));
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (n, cells) in rows {
        let cell = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut number = |i: Option<usize>, field: &str| {
            cell(i).and_then(|t| match Decimal::from_str_exact(&t.replace(',', ".")) {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new(
                        format!("row {n}.{field}"),
                        "not_a_number",
                        text!("must be a number", "phải là số"),
                    ));
                    None
                }
            })
        };
        let row = SurveyRow {
            at: format!("row {n}"),
            unit_code: cell(Some(unit)).unwrap_or_default(),
            criterion_code: cell(Some(criterion)).unwrap_or_default(),
            value: number(value, "value"),
            score: number(score, "score"),
        };
        out.push(row);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Checks that `actor` may enter survey results of the framework's units (before an upload
/// is read at all), and loads the framework.
pub async fn may_import(
    db: &DatabaseConnection,
    actor: &Principal,
    framework_id: i64,
) -> ApiResult<LoadedFramework> {
    let framework = frameworks::load(db, framework_id).await?;
    let owner = find_unit(db, framework.model.owner_unit_id).await?;
    authorize(actor, Action::Consolidate, &unit_ref(&owner))?;
    Ok(framework)
}

/// Where a survey's results come from, as their provenance records it.
#[derive(Clone, Debug, Default)]
pub struct SurveySource {
    /// E.g. "Điều tra xã hội học năm 2023 (SIPAS)"; default "Kết quả điều tra xã hội học".
    pub name: Option<String>,
    pub document_ref: Option<String>,
}

/// What a survey import did, and the survey criteria as they now stand.
pub struct SurveyImport {
    pub report: FeedReport,
    pub results: Visible<Vec<SurveyResult>>,
}

/// Stores the survey results of the listed units per unit and year, whatever state each
/// unit's file is in: a file with the council takes them at once as the council's inputs,
/// the others when they are first submitted. Rows whose unit cannot take them (unknown,
/// not scored on this framework, finalized) are named in the report and left out; any
/// other problem refuses the whole request (all or nothing per request).
pub async fn import(
    db: &DatabaseConnection,
    actor: &Principal,
    framework_id: i64,
    rows: Vec<SurveyRow>,
    source: SurveySource,
    dry_run: bool,
) -> ApiResult<SurveyImport> {
    let framework = may_import(db, actor, framework_id).await?;
    if rows.is_empty() || rows.len() > MAX_ROWS {
        return Err(ApiError::validation(vec![FieldError::new(
            "results",
            "invalid_length",
            text!("between 1 and {MAX_ROWS} rows", "từ 1 đến {MAX_ROWS} dòng"),
        )]));
    }
    let mut errors = Vec::new();
    let mut values = Vec::with_capacity(rows.len());
    let retrieved_at = super::now();
    let source_system = source
        .name
        .clone()
        .unwrap_or_else(|| "Kết quả điều tra xã hội học".to_string());
    for row in rows {
        let err = |field: &str, code: &'static str, message| {
            FieldError::new(format!("{}.{field}", row.at), code, message)
        };
        let code = row.criterion_code.trim();
        let def = framework
            .tree
            .get(code)
            .filter(|_| framework.tree.is_leaf(code));
        let Some(def) = def.filter(|d| d.scorer == Scorer::Survey) else {
            errors.push(err(
                "criterion_code",
                "not_survey",
                text!(
                    "{code} is not a survey-scored criterion of this framework",
                    "{code} không phải tiêu chí chấm theo kết quả điều tra của bộ tiêu chí này"
                ),
            ));
            continue;
        };
        let method = def.method.clone().unwrap_or(Method::Manual {});
        let inputs = match inputs_of(&method, row.value, row.score) {
            Ok(i) => i,
            Err((field, message)) => {
                errors.push(err(field, "invalid", message));
                continue;
            }
        };
        if let Err(e) = crate::scoring::method::check_inputs(&method, def.max_score, &inputs) {
            let field = if e.field == "score" { "score" } else { "value" };
            errors.push(err(field, e.code, e.message));
            continue;
        }
        values.push(IndicatorRow {
            at: row.at.clone(),
            unit_code: row.unit_code.clone(),
            criterion_code: code.to_string(),
            inputs,
            source_system: source_system.clone(),
            period_from: None,
            period_to: None,
            retrieved_at,
            document_ref: source.document_ref.clone(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let report = feed::import(db, actor, framework_id, values, Feed::Survey, dry_run).await?;
    Ok(SurveyImport {
        report,
        results: results(db, actor, framework_id).await?,
    })
}

/// Each appraisal with its unit.
async fn with_units(
    db: &DatabaseConnection,
    found: Vec<appraisal::Model>,
) -> ApiResult<Vec<(appraisal::Model, unit::Model)>> {
    let ids: Vec<i64> = found.iter().map(|a| a.unit_id).collect();
    let units: HashMap<i64, unit::Model> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(found
        .into_iter()
        .filter_map(|a| units.get(&a.unit_id).cloned().map(|u| (a, u)))
        .collect())
}

/// What is stored for the survey criteria of the units whose results the caller may see.
pub async fn results(
    db: &DatabaseConnection,
    actor: &Principal,
    framework_id: i64,
) -> ApiResult<Visible<Vec<SurveyResult>>> {
    let framework = frameworks::load(db, framework_id).await?;
    let survey: Vec<String> = framework
        .tree
        .leaves()
        .filter(|c| c.scorer == Scorer::Survey)
        .map(|c| c.code.clone())
        .collect();
    let visible = scoped(
        appraisal::Entity::find()
            .filter(appraisal::Column::FrameworkId.eq(framework_id))
            .order_by_asc(appraisal::Column::Id),
        actor,
        appraisal::Column::UnitId,
        Reach::Records,
    )
    .all(db)
    .await?;
    let mut shown = Vec::new();
    for (a, u) in with_units(db, visible).await? {
        // The survey's scores are the council's figures: the one results policy decides
        // (units and viewers once the year is published or released to them).
        let Some(unit_results) = visibility::results_if_visible(db, actor, &u, a.year, ()).await?
        else {
            continue;
        };
        let mut out = Vec::new();
        let entries: HashMap<String, assessment_entry::Model> = assessment_entry::Entity::find()
            .filter(assessment_entry::Column::SelfAssessmentId.eq(a.self_assessment_id))
            .filter(assessment_entry::Column::CriterionCode.is_in(survey.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.criterion_code.clone(), e))
            .collect();
        for code in &survey {
            let e = entries.get(code);
            out.push(SurveyResult {
                unit_id: u.id,
                unit_code: u.code.clone(),
                unit_name: u.name.clone(),
                appraisal_id: a.id,
                criterion_code: code.clone(),
                inputs: e
                    .and_then(|e| e.appraised_inputs.as_deref())
                    .and_then(|t| serde_json::from_str(t).ok()),
                score: e.and_then(|e| e.appraised_score_x100).map(from_hundredths),
            });
        }
        shown.push(unit_results.map(|()| out));
    }
    Ok(Visible::all(shown).map(|units| {
        let mut out: Vec<SurveyResult> = units.into_iter().flatten().collect();
        out.sort_by(|a, b| {
            (&a.unit_code, &a.criterion_code).cmp(&(&b.unit_code, &b.criterion_code))
        });
        out
    }))
}
