//! The entries of one self-assessment, parsed, and the scores derived from them: the
//! unit's self score per leaf, the council's effective score (its own inputs where it
//! entered any, else the unit's), totals, and relative-to-best bests. Shared by the
//! self-assessment and appraisal services.

use super::frameworks::LoadedFramework;
use super::sql;
use crate::error::{ApiError, ApiResult, FieldError, text};
use crate::scoring::method::{InputError, LeafScore};
use crate::scoring::totals::Totals;
use crate::scoring::{CriterionDef, Inputs, Method, Scorer, from_hundredths, score_leaf, totals};
use chrono::NaiveDate;
use entity::assessment_entry;
use entity::status::AppraisalStatus;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// A reference to a document proving a score (tài liệu kiểm chứng).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[schema(
        example = "Báo cáo kết quả khắc phục tồn tại, hạn chế năm 2022",
        min_length = 1,
        max_length = 500
    )]
    pub title: String,
    /// Document number, e.g. "19/BC-UBND".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "19/BC-UBND", max_length = 100)]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<NaiveDate>,
    /// Where the document can be read (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// An evidence file of the same unit (`POST /evidence-files`), instead of or besides
    /// `url`. A file named here cannot be deleted until no evidence names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub file_id: Option<i64>,
}

pub const MAX_EVIDENCE: usize = 50;

/// Checks and normalises evidence references, reporting under `field`.
pub fn check_evidence(
    field: &str,
    evidence: &[Evidence],
    errors: &mut Vec<FieldError>,
) -> Vec<Evidence> {
    if evidence.len() > MAX_EVIDENCE {
        errors.push(FieldError::new(
            field,
            "too_many",
            text!(
                "at most {MAX_EVIDENCE} evidence references",
                "tối đa {MAX_EVIDENCE} tài liệu kiểm chứng"
            ),
        ));
    }
    let mut v = crate::error::Violations::new();
    let out = evidence
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = |f: &str| format!("{field}[{i}].{f}");
            let title = crate::validation::text(&mut v, &at("title"), &e.title, 500, true)
                .unwrap_or_default();
            let number =
                crate::validation::optional_text(&mut v, &at("number"), e.number.as_deref(), 100);
            let url = crate::validation::optional_text(&mut v, &at("url"), e.url.as_deref(), 2000);
            if let Some(u) = &url
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                v.add(
                    at("url"),
                    "invalid_format",
                    text!(
                        "must be an http:// or https:// address",
                        "phải là địa chỉ http:// hoặc https://"
                    ),
                );
            }
            Evidence {
                title,
                number,
                issued_on: e.issued_on,
                url,
                file_id: e.file_id,
            }
        })
        .collect();
    errors.extend(v.into_vec());
    out
}

/// One parsed entry.
#[derive(Clone, Debug)]
pub struct Entry {
    pub model: assessment_entry::Model,
    pub self_inputs: Option<Inputs>,
    pub appraised_inputs: Option<Inputs>,
    pub evidence: Vec<Evidence>,
}

/// What a workbook shows of each leaf's entry.
pub fn workbook_leaves(entries: &HashMap<String, Entry>) -> HashMap<String, crate::workbook::Leaf> {
    entries
        .iter()
        .map(|(code, e)| {
            let leaf = crate::workbook::Leaf {
                self_inputs: e.self_inputs.clone(),
                appraised_inputs: e.appraised_inputs.clone(),
                explanation: e.model.explanation.clone(),
                comment: e.model.comment.clone(),
                evidence: e
                    .evidence
                    .iter()
                    .map(|ev| match &ev.number {
                        Some(n) => format!("{n}: {}", ev.title),
                        None => ev.title.clone(),
                    })
                    .collect(),
            };
            (code.clone(), leaf)
        })
        .collect()
}

impl Entry {
    /// The inputs the council scores with: its own, else the unit's.
    pub fn effective_inputs(&self) -> Option<&Inputs> {
        self.appraised_inputs.as_ref().or(self.self_inputs.as_ref())
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &Option<String>) -> ApiResult<Option<T>> {
    match text {
        None => Ok(None),
        Some(t) => serde_json::from_str(t)
            .map(Some)
            .map_err(ApiError::internal),
    }
}

/// All entries of a self-assessment, by criterion code.
pub async fn load_entries<C: ConnectionTrait>(
    conn: &C,
    self_assessment_id: i64,
) -> ApiResult<HashMap<String, Entry>> {
    let rows = assessment_entry::Entity::find()
        .filter(assessment_entry::Column::SelfAssessmentId.eq(self_assessment_id))
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|model| {
            let entry = Entry {
                self_inputs: parse(&model.self_inputs)?,
                appraised_inputs: parse(&model.appraised_inputs)?,
                evidence: parse(&Some(model.evidence.clone()))?.unwrap_or_default(),
                model,
            };
            Ok((entry.model.criterion_code.clone(), entry))
        })
        .collect()
}

/// Scores one leaf, as a field error under `field` when the inputs do not fit.
pub fn score_input(
    def: &CriterionDef,
    inputs: &Inputs,
    best: Option<Decimal>,
    field: &str,
) -> Result<LeafScore, FieldError> {
    let method = def.method.as_ref().unwrap_or(&Method::Manual {});
    score_leaf(method, def.max_score, inputs, best).map_err(
        |InputError {
             field: f,
             code,
             message,
         }| {
            FieldError::new(
                format!("{field}.{f}"),
                code,
                message.map(|m, _| format!("{}: {m}", def.code)),
            )
        },
    )
}

/// `Some(score)` in hundredths, or `None` for not applicable.
pub fn stored(score: LeafScore) -> Option<i64> {
    match score {
        LeafScore::Scored(s) => Some(crate::scoring::to_hundredths(s)),
        LeafScore::NotApplicable => None,
    }
}

#[derive(FromQueryResult)]
struct ValueRow {
    criterion_code: String,
    self_inputs: Option<String>,
    appraised_inputs: Option<String>,
    appraisal_status: String,
}

/// The best accepted `value` of each relative-to-best criterion among the *other* units
/// under the same parent assessed on the same framework (empty when the framework has no
/// such criterion). A unit's own value is compared with it by `score_leaf`.
///
/// Only values the council has accepted count: the council's own inputs where it entered
/// any, and the unit's inputs once its appraisal is finalized. A sibling's draft or
/// submitted self-assessment never does, so no unit's input can change another unit's
/// score before the council has accepted it (SECURITY.md, "the best value").
pub async fn bests<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    parent_id: Option<i64>,
    own_self_assessment_id: i64,
) -> ApiResult<HashMap<String, Decimal>> {
    let codes: Vec<String> = framework
        .tree
        .leaves()
        .filter(|c| matches!(c.method, Some(Method::RelativeToBest {})))
        .map(|c| c.code.clone())
        .collect();
    let mut best: HashMap<String, Decimal> = HashMap::new();
    if codes.is_empty() {
        return Ok(best);
    }
    let rows = ValueRow::find_by_statement(sql(
        conn,
        "SELECT e.criterion_code, e.self_inputs, e.appraised_inputs, a.status AS appraisal_status \
         FROM assessment_entries e \
         JOIN self_assessments s ON s.id = e.self_assessment_id \
         JOIN appraisals a ON a.self_assessment_id = s.id \
         JOIN units u ON u.id = s.unit_id \
         WHERE s.framework_id = $1 AND s.id <> $3 \
           AND (u.parent_id = $2 OR ($2 IS NULL AND u.parent_id IS NULL))",
        vec![
            framework.model.id.into(),
            parent_id.into(),
            own_self_assessment_id.into(),
        ],
    ))
    .all(conn)
    .await?;
    for row in rows
        .into_iter()
        .filter(|r| codes.contains(&r.criterion_code))
    {
        let appraised: Option<Inputs> = parse(&row.appraised_inputs)?;
        let accepted = match appraised {
            Some(council) => Some(council),
            None if row.appraisal_status == AppraisalStatus::Finalized.as_str() => {
                parse(&row.self_inputs)?
            }
            None => None,
        };
        if let Some(value) = accepted.and_then(|i| i.value) {
            let slot = best.entry(row.criterion_code).or_insert(value);
            if value > *slot {
                *slot = value;
            }
        }
    }
    Ok(best)
}

/// The unit's self scores of the self-scored leaves it entered.
pub fn self_scores(
    framework: &LoadedFramework,
    entries: &HashMap<String, Entry>,
    best: &HashMap<String, Decimal>,
) -> HashMap<String, LeafScore> {
    framework
        .tree
        .leaves()
        .filter(|c| c.scorer == Scorer::SelfAssessed)
        .filter_map(|c| {
            let inputs = entries.get(&c.code)?.self_inputs.as_ref()?;
            score_input(c, inputs, best.get(&c.code).copied(), "entries")
                .ok()
                .map(|s| (c.code.clone(), s))
        })
        .collect()
}

/// The council's effective scores; the leaves nobody scored are returned apart.
pub fn effective_scores(
    framework: &LoadedFramework,
    entries: &HashMap<String, Entry>,
    best: &HashMap<String, Decimal>,
) -> (HashMap<String, LeafScore>, Vec<String>) {
    let mut scores = HashMap::new();
    let mut unscored = Vec::new();
    for c in framework.tree.leaves() {
        let score = entries
            .get(&c.code)
            .and_then(Entry::effective_inputs)
            .and_then(|inputs| score_input(c, inputs, best.get(&c.code).copied(), "entries").ok());
        match score {
            Some(s) => {
                scores.insert(c.code.clone(), s);
            }
            None => unscored.push(c.code.clone()),
        }
    }
    (scores, unscored)
}

/// The index's composition of a file's effective scores (`None` without components): a
/// component has data when one of its leaves has a figure the council counts, its own or
/// the unit's it let stand (a survey's leaves have none until results arrive).
pub fn composed(
    framework: &LoadedFramework,
    scores: &HashMap<String, LeafScore>,
) -> ApiResult<Option<crate::scoring::composition::Composed>> {
    crate::scoring::composition::compose(
        &framework.tree,
        framework.policy,
        scores,
        |code| scores.contains_key(code),
        &framework.composition,
    )
    .map_err(ApiError::internal)
}

pub fn total_of(
    framework: &LoadedFramework,
    leaves: &HashMap<String, LeafScore>,
) -> ApiResult<Totals> {
    totals(&framework.tree, leaves, framework.policy).map_err(ApiError::internal)
}

/// A stored score in hundredths as a decimal.
pub fn score_of(hundredths: Option<i64>) -> Option<Decimal> {
    hundredths.map(from_hundredths)
}
