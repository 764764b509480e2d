//! A framework's criteria, given as a flat list of dotted codes (`1`, `1.4`, `1.4.1`):
//! validation and the derived tree. Pure: no I/O.

use super::decimal::{checked_sum, has_more_places_than};
use super::method::Method;
use crate::text;
use crate::text::Text;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use utoipa::ToSchema;

/// Who enters a criterion's score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scorer {
    /// The unit self-assesses; the council appraises.
    #[default]
    #[serde(rename = "self")]
    SelfAssessed,
    /// The council alone (the unit enters nothing).
    Appraiser,
    /// An imported social-survey result, entered at appraisal.
    Survey,
}

impl Scorer {
    pub fn as_str(self) -> &'static str {
        match self {
            Scorer::SelfAssessed => "self",
            Scorer::Appraiser => "appraiser",
            Scorer::Survey => "survey",
        }
    }

    pub fn parse(s: &str) -> Option<Scorer> {
        [Scorer::SelfAssessed, Scorer::Appraiser, Scorer::Survey]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// One criterion as defined in a framework.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionDef {
    /// Dotted code; the parent of `3.12.2` is `3.12`.
    #[schema(example = "3.12.2")]
    pub code: String,
    #[schema(example = "Tỷ lệ hồ sơ thanh toán trực tuyến")]
    pub title: String,
    /// Most points the criterion gives (at most 2 decimals). A parent's is the sum of its
    /// children's; the top-level fields sum to 100.
    #[schema(value_type = crate::schema::DecimalInput)]
    pub max_score: Decimal,
    /// Required on leaves, forbidden on parents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Who scores a leaf (default `self`).
    #[serde(default)]
    pub scorer: Scorer,
    /// The agency (a unit of kind `agency` directly under the framework's owner) whose
    /// appraisers appraise this criterion; set on a field or group, it passes to every
    /// leaf below that does not name its own. Null: the consolidating appraisers do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 7)]
    pub appraised_by_unit_id: Option<i64>,
    /// The indicator of another system whose values feed this leaf's council figure
    /// (`POST /frameworks/{id}/indicator-values`), e.g. `qlvb.documents_signed_digitally`:
    /// lower-case words joined by dots, naming the system first. Leaves only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "qlvb.documents_signed_digitally", max_length = 64)]
    pub indicator_code: Option<String>,
    /// The indicator feeds the unit's side too (a self-scored leaf): once a value is
    /// imported, it is the unit's input and the unit cannot change it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub indicator_feeds_self: bool,
}

/// A problem with one criterion: `field` names it, e.g. `criteria[3.12.2].max_score`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionError {
    pub field: String,
    pub code: &'static str,
    pub message: Text,
    /// Position of the criterion in the input list, when the error is about one.
    pub index: Option<usize>,
}

pub const TOTAL_MAX: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

/// The most criteria a framework may have (real ones have about a hundred).
pub const MAX_CRITERIA: usize = 2000;

/// Parses a dotted code into its numeric segments (`3.12.2` → [3, 12, 2]).
pub fn code_segments(code: &str) -> Option<Vec<u32>> {
    if code.is_empty() || code.len() > 32 {
        return None;
    }
    code.split('.')
        .map(|s| {
            if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                s.parse::<u32>().ok()
            }
        })
        .collect()
}

/// Orders codes as people read them: 1.9 before 1.10.
pub fn compare_codes(a: &str, b: &str) -> Ordering {
    match (code_segments(a), code_segments(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// The parent code of `code`, or `None` for a top-level field.
pub fn parent_code(code: &str) -> Option<&str> {
    code.rfind('.').map(|i| &code[..i])
}

/// The validated criteria, with the derived tree.
#[derive(Clone, Debug)]
pub struct CriteriaTree {
    /// In code order.
    criteria: Vec<CriterionDef>,
    index: HashMap<String, usize>,
    children: HashMap<String, Vec<String>>,
}

impl CriteriaTree {
    /// Validates `criteria`; on failure returns every problem found, naming criteria.
    // Long by nature: every rule of a framework checked in turn, every problem kept.
    pub fn build(criteria: Vec<CriterionDef>) -> Result<CriteriaTree, Vec<DefinitionError>> {
        let mut errors = Vec::new();
        let mut err = |index: Option<usize>, field: String, code: &'static str, message: Text| {
            errors.push(DefinitionError {
                field,
                code,
                message,
                index,
            })
        };
        if criteria.is_empty() {
            err(
                None,
                "criteria".into(),
                "required",
                text!("a framework needs criteria", "bộ tiêu chí cần có tiêu chí"),
            );
        }
        if criteria.len() > MAX_CRITERIA {
            err(
                None,
                "criteria".into(),
                "too_many",
                text!(
                    "a framework has at most {MAX_CRITERIA} criteria",
                    "bộ tiêu chí có tối đa {MAX_CRITERIA} tiêu chí"
                ),
            );
            return Err(errors);
        }
        let mut seen = HashSet::new();
        for (i, c) in criteria.iter().enumerate() {
            if code_segments(&c.code).is_none() {
                err(
                    Some(i),
                    format!("criteria[{i}].code"),
                    "invalid_format",
                    text!(
                        "{:?} is not a dotted code like 3.12.2",
                        "{:?} không phải là mã có dấu chấm như 3.12.2",
                        c.code
                    ),
                );
            } else if !seen.insert(c.code.clone()) {
                err(
                    Some(i),
                    format!("criteria[{i}].code"),
                    "duplicate_code",
                    text!(
                        "the code {} appears more than once",
                        "mã {} xuất hiện nhiều lần",
                        c.code
                    ),
                );
            }
        }
        let codes: HashSet<&str> = criteria.iter().map(|c| c.code.as_str()).collect();
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for c in &criteria {
            if let Some(parent) = parent_code(&c.code) {
                children
                    .entry(parent.to_string())
                    .or_default()
                    .push(c.code.clone());
            }
        }
        let by_code: HashMap<&str, &CriterionDef> =
            criteria.iter().map(|c| (c.code.as_str(), c)).collect();
        for (i, c) in criteria.iter().enumerate() {
            let at = |f: &str| format!("criteria[{}].{f}", c.code);
            let mut err = |field: String, code: &'static str, message: Text| {
                err(Some(i), field, code, message)
            };
            if code_segments(&c.code).is_none() {
                continue;
            }
            if let Some(parent) = parent_code(&c.code)
                && !codes.contains(parent)
            {
                err(
                    at("code"),
                    "missing_parent",
                    text!(
                        "{} has no parent criterion {parent}",
                        "{} không có tiêu chí cha {parent}",
                        c.code
                    ),
                );
            }
            let title = c.title.trim();
            if title.is_empty() || title.chars().count() > 1000 {
                err(
                    at("title"),
                    "invalid_length",
                    text!(
                        "must have 1 to 1000 characters",
                        "phải có từ 1 đến 1000 ký tự"
                    ),
                );
            }
            if c.max_score <= Decimal::ZERO || c.max_score > TOTAL_MAX {
                err(
                    at("max_score"),
                    "out_of_range",
                    text!(
                        "must be greater than 0 and at most 100 (got {})",
                        "phải lớn hơn 0 và không quá 100 (nhận được {})",
                        c.max_score
                    ),
                );
            } else if has_more_places_than(c.max_score, 2) {
                err(
                    at("max_score"),
                    "too_many_decimals",
                    text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
                );
            }
            let is_leaf = !children.contains_key(&c.code);
            match (&c.method, is_leaf) {
                (None, true) => err(
                    at("method"),
                    "required",
                    text!(
                        "{} is a leaf: it needs a scoring method",
                        "{} là tiêu chí lá: cần có phương pháp chấm điểm",
                        c.code
                    ),
                ),
                (Some(_), false) => err(
                    at("method"),
                    "not_allowed",
                    text!(
                        "{} has sub-criteria: its score is their sum, it takes no method",
                        "{} có tiêu chí con: điểm là tổng điểm các tiêu chí con, không có phương pháp chấm",
                        c.code
                    ),
                ),
                (Some(method), true) => {
                    for (field, code, message) in method.check(c.max_score) {
                        err(at(&format!("method.{field}")), code, message);
                    }
                }
                (None, false) => {}
            }
            if !is_leaf && c.scorer != Scorer::SelfAssessed {
                err(
                    at("scorer"),
                    "not_allowed",
                    text!(
                        "only leaves have a scorer",
                        "chỉ tiêu chí lá mới có người chấm"
                    ),
                );
            }
            if let Some(kids) = children.get(&c.code) {
                let sum = checked_sum(
                    kids.iter()
                        .filter_map(|k| by_code.get(k.as_str()))
                        .map(|k| k.max_score),
                );
                if sum != Some(c.max_score) {
                    let (code, max) = (&c.code, c.max_score);
                    err(
                        at("max_score"),
                        "sum_mismatch",
                        match sum {
                            Some(sum) => text!(
                                "{code} is worth {max} but its sub-criteria sum to {sum}",
                                "{code} có điểm tối đa {max} nhưng tổng các tiêu chí con là {sum}"
                            ),
                            None => text!(
                                "{code} is worth {max} but its sub-criteria sum to more than can be counted",
                                "{code} có điểm tối đa {max} nhưng tổng các tiêu chí con vượt quá mức tính được"
                            ),
                        },
                    );
                }
            }
        }
        let top = checked_sum(
            criteria
                .iter()
                .filter(|c| code_segments(&c.code).is_some() && parent_code(&c.code).is_none())
                .map(|c| c.max_score),
        );
        if !criteria.is_empty() && top != Some(TOTAL_MAX) {
            let top = top.map_or_else(|| "∞".into(), |s| s.to_string());
            err(
                None,
                "criteria".into(),
                "total_not_100",
                text!(
                    "the top-level fields (and so the leaves) must sum to 100, not {top}",
                    "tổng điểm các lĩnh vực (và các tiêu chí lá) phải là 100, không phải {top}"
                ),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut criteria = criteria;
        criteria.sort_by(|a, b| compare_codes(&a.code, &b.code));
        for list in children.values_mut() {
            list.sort_by(|a, b| compare_codes(a, b));
        }
        let index = criteria
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        Ok(CriteriaTree {
            criteria,
            index,
            children,
        })
    }

    /// Every criterion, in code order.
    pub fn criteria(&self) -> &[CriterionDef] {
        &self.criteria
    }

    pub fn get(&self, code: &str) -> Option<&CriterionDef> {
        self.index.get(code).map(|&i| &self.criteria[i])
    }

    pub fn is_leaf(&self, code: &str) -> bool {
        self.index.contains_key(code) && !self.children.contains_key(code)
    }

    pub fn children(&self, code: &str) -> &[String] {
        self.children.get(code).map_or(&[], |v| v.as_slice())
    }

    /// The leaves, in code order.
    pub fn leaves(&self) -> impl Iterator<Item = &CriterionDef> {
        self.criteria.iter().filter(|c| self.is_leaf(&c.code))
    }

    /// The top-level fields, in code order.
    pub fn fields(&self) -> impl Iterator<Item = &CriterionDef> {
        self.criteria
            .iter()
            .filter(|c| parent_code(&c.code).is_none())
    }

    /// The nested form, for clients that draw the tree.
    pub fn nested(&self) -> Vec<CriterionNode> {
        fn node(tree: &CriteriaTree, c: &CriterionDef) -> CriterionNode {
            CriterionNode {
                code: c.code.clone(),
                title: c.title.clone(),
                max_score: c.max_score,
                method: c.method.clone(),
                scorer: tree.is_leaf(&c.code).then_some(c.scorer),
                appraised_by_unit_id: tree.appraiser_of(&c.code),
                children: tree
                    .children(&c.code)
                    .iter()
                    .filter_map(|k| tree.get(k))
                    .map(|k| node(tree, k))
                    .collect(),
            }
        }
        self.fields().map(|f| node(self, f)).collect()
    }

    /// The agency that appraises `code`: its own, else the nearest ancestor's.
    pub fn appraiser_of(&self, code: &str) -> Option<i64> {
        let mut at = Some(code);
        while let Some(c) = at {
            if let Some(agency) = self.get(c).and_then(|d| d.appraised_by_unit_id) {
                return Some(agency);
            }
            at = parent_code(c);
        }
        None
    }

    /// Every leaf with the agency that appraises it (leaves of no agency are left out).
    pub fn assigned_leaves(&self) -> impl Iterator<Item = (&CriterionDef, i64)> {
        self.leaves()
            .filter_map(|c| self.appraiser_of(&c.code).map(|agency| (c, agency)))
    }

    /// Max score per code (for subtotals), in code order.
    pub fn max_by_code(&self) -> BTreeMap<String, Decimal> {
        self.criteria
            .iter()
            .map(|c| (c.code.clone(), c.max_score))
            .collect()
    }
}

/// A criterion in the nested tree.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CriterionNode {
    pub code: String,
    pub title: String,
    #[schema(value_type = crate::schema::DecimalString)]
    pub max_score: Decimal,
    /// Leaves only (null on fields and groups).
    pub method: Option<Method>,
    /// Leaves only (null on fields and groups).
    pub scorer: Option<Scorer>,
    /// The agency that appraises the criterion (its own or inherited from a group above);
    /// null: the consolidating appraisers.
    pub appraised_by_unit_id: Option<i64>,
    #[schema(no_recursion)]
    pub children: Vec<CriterionNode>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn leaf(code: &str, max: Decimal) -> CriterionDef {
        CriterionDef {
            code: code.into(),
            title: format!("criterion {code}"),
            max_score: max,
            method: Some(Method::Manual {}),
            scorer: Scorer::SelfAssessed,
            appraised_by_unit_id: None,
            indicator_code: None,
            indicator_feeds_self: false,
        }
    }

    fn parent(code: &str, max: Decimal) -> CriterionDef {
        CriterionDef {
            method: None,
            ..leaf(code, max)
        }
    }

    fn valid() -> Vec<CriterionDef> {
        vec![
            parent("1", dec!(40)),
            leaf("1.1", dec!(15)),
            parent("1.2", dec!(25)),
            leaf("1.2.1", dec!(12.5)),
            leaf("1.2.2", dec!(12.5)),
            leaf("2", dec!(60)),
        ]
    }

    fn codes(errors: &[DefinitionError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn a_valid_framework_builds_its_tree() {
        let tree = CriteriaTree::build(valid()).expect("valid");
        assert_eq!(tree.leaves().count(), 4);
        let nested = tree.nested();
        assert_eq!(nested.len(), 2);
        assert_eq!(nested[0].children[1].children.len(), 2);
        assert!(nested[0].method.is_none());
        assert_eq!(nested[1].scorer, Some(Scorer::SelfAssessed));
    }

    #[test]
    fn codes_sort_numerically() {
        let mut codes = vec!["1.10", "1.9", "2", "1.2.1", "1"];
        codes.sort_by(|a, b| compare_codes(a, b));
        assert_eq!(codes, ["1", "1.2.1", "1.9", "1.10", "2"]);
    }

    #[test]
    fn every_definition_error_names_the_criterion() {
        let mut bad = valid();
        bad.push(leaf("1.3.1", dec!(1))); // missing parent 1.3
        bad.push(leaf("2", dec!(60))); // duplicate
        let errors = CriteriaTree::build(bad).unwrap_err();
        let found = codes(&errors);
        assert!(
            found.contains(&("criteria[1.3.1].code", "missing_parent")),
            "{found:?}"
        );
        assert!(
            found.contains(&("criteria[7].code", "duplicate_code")),
            "{found:?}"
        );

        let mut bad = valid();
        bad[1].max_score = dec!(14); // parent 1 = 40 ≠ 14 + 25
        let found = CriteriaTree::build(bad).unwrap_err();
        assert_eq!(codes(&found), [("criteria[1].max_score", "sum_mismatch")]);

        let mut bad = valid();
        bad[5].max_score = dec!(59); // leaves sum to 99
        let found = CriteriaTree::build(bad).unwrap_err();
        assert_eq!(codes(&found), [("criteria", "total_not_100")]);

        let mut bad = valid();
        bad[1].method = None; // leaf without method
        bad[0].method = Some(Method::Ratio {}); // parent with one
        bad[5].max_score = dec!(59.999);
        let found = CriteriaTree::build(bad).unwrap_err();
        let found = codes(&found);
        assert!(found.contains(&("criteria[1.1].method", "required")));
        assert!(found.contains(&("criteria[1].method", "not_allowed")));
        assert!(found.contains(&("criteria[2].max_score", "too_many_decimals")));

        let mut bad = valid();
        bad[5].method = Some(Method::TargetRatio { target: dec!(1.5) });
        let found = CriteriaTree::build(bad).unwrap_err();
        assert_eq!(
            codes(&found),
            [("criteria[2].method.target", "out_of_range")]
        );

        let mut bad = valid();
        bad[0].code = "1.a".into();
        assert!(
            codes(&CriteriaTree::build(bad).unwrap_err())
                .contains(&("criteria[0].code", "invalid_format"))
        );
    }

    #[test]
    fn scorers_use_their_wire_names() {
        assert_eq!(
            serde_json::to_string(&Scorer::SelfAssessed).unwrap(),
            "\"self\""
        );
        let c: CriterionDef = serde_json::from_str(
            r#"{"code":"1","title":"t","max_score":"100","method":{"type":"manual"},"scorer":"survey"}"#,
        )
        .unwrap();
        assert_eq!(c.scorer, Scorer::Survey);
        assert_eq!(Scorer::parse("appraiser"), Some(Scorer::Appraiser));
    }
}
