//! Criteria that carry across years (issue 35): each year's framework renumbers, splits and
//! merges criteria, so comparing two years by identical code compares unrelated criteria.
//! A mapping records, for a framework and the one it follows, each old criterion's
//! successor and the relation; comparisons follow it, and what it does not pair is not
//! comparable.

use super::framework::{CriteriaTree, DefinitionError};
use crate::text;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// How an old criterion became a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The same criterion under the same code.
    Same,
    /// The same criterion under another code (renumbered or retitled).
    Renamed,
    /// The old criterion became several new ones (one row per part).
    Split,
    /// Several old criteria became one new one (one row per old criterion).
    Merged,
    /// A new criterion with no predecessor (`from_code` null).
    New,
    /// An old criterion with no successor (`to_code` null).
    Removed,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Same => "same",
            Relation::Renamed => "renamed",
            Relation::Split => "split",
            Relation::Merged => "merged",
            Relation::New => "new",
            Relation::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Relation::Same,
            Relation::Renamed,
            Relation::Split,
            Relation::Merged,
            Relation::New,
            Relation::Removed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// One row of a mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionMapping {
    /// The old framework's criterion (null for `new`).
    #[schema(example = "3.12")]
    pub from_code: Option<String>,
    /// The new framework's criterion (null for `removed`).
    #[schema(example = "3.14")]
    pub to_code: Option<String>,
    pub relation: Relation,
}

/// The most rows one mapping may have.
pub const MAX_ROWS: usize = 4000;

/// `same` for every criterion the two trees share by code (what a copy records).
pub fn same_for_all(tree: &CriteriaTree) -> Vec<CriterionMapping> {
    tree.criteria()
        .iter()
        .map(|c| CriterionMapping {
            from_code: Some(c.code.clone()),
            to_code: Some(c.code.clone()),
            relation: Relation::Same,
        })
        .collect()
}

/// Checks a mapping from `from` to `to`: every code a criterion of its framework; the
/// codes each relation needs (and only those); `same` between equal codes; each old
/// criterion paired once as `same` or `renamed`, each new one likewise; a `split` old
/// criterion has at least two parts and a `merged` new one at least two sources.
pub fn check(
    from: &CriteriaTree,
    to: &CriteriaTree,
    rows: &[CriterionMapping],
) -> Vec<DefinitionError> {
    let mut errors = Vec::new();
    let error = |i: usize, field: &str, code: &'static str, message| DefinitionError {
        field: format!("mappings[{i}].{field}"),
        code,
        message,
        index: Some(i),
    };
    if rows.len() > MAX_ROWS {
        errors.push(DefinitionError {
            field: "mappings".into(),
            code: "too_many",
            message: text!("at most {MAX_ROWS} rows", "tối đa {MAX_ROWS} dòng"),
            index: None,
        });
        return errors;
    }
    let mut old_paired: HashMap<&str, usize> = HashMap::new();
    let mut new_paired: HashMap<&str, usize> = HashMap::new();
    let mut parts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, m) in rows.iter().enumerate() {
        let needs_from = m.relation != Relation::New;
        let needs_to = m.relation != Relation::Removed;
        match (&m.from_code, needs_from) {
            (None, true) => errors.push(error(
                i,
                "from_code",
                "required",
                text!("the old criterion's code", "cần mã tiêu chí năm trước"),
            )),
            (Some(_), false) => errors.push(error(
                i,
                "from_code",
                "not_allowed",
                text!(
                    "a new criterion has no predecessor",
                    "tiêu chí mới không có tiêu chí năm trước"
                ),
            )),
            (Some(code), true) if from.get(code).is_none() => errors.push(error(
                i,
                "from_code",
                "unknown_criterion",
                text!(
                    "{code} is not a criterion of the earlier framework",
                    "{code} không phải tiêu chí của bộ tiêu chí năm trước"
                ),
            )),
            _ => {}
        }
        match (&m.to_code, needs_to) {
            (None, true) => errors.push(error(
                i,
                "to_code",
                "required",
                text!("the new criterion's code", "cần mã tiêu chí năm nay"),
            )),
            (Some(_), false) => errors.push(error(
                i,
                "to_code",
                "not_allowed",
                text!(
                    "a removed criterion has no successor",
                    "tiêu chí bị bỏ không có tiêu chí kế tiếp"
                ),
            )),
            (Some(code), true) if to.get(code).is_none() => errors.push(error(
                i,
                "to_code",
                "unknown_criterion",
                text!(
                    "{code} is not a criterion of this framework",
                    "{code} không phải tiêu chí của bộ tiêu chí này"
                ),
            )),
            _ => {}
        }
        let (Some(old), Some(new)) = (m.from_code.as_deref(), m.to_code.as_deref()) else {
            continue;
        };
        match m.relation {
            Relation::Same if old != new => errors.push(error(
                i,
                "relation",
                "not_same",
                text!(
                    "{old} and {new} differ: the relation is renamed",
                    "{old} và {new} khác mã: quan hệ là renamed (đổi mã)"
                ),
            )),
            Relation::Same | Relation::Renamed => {
                for (paired, code, field) in [
                    (&mut old_paired, old, "from_code"),
                    (&mut new_paired, new, "to_code"),
                ] {
                    if let Some(first) = paired.insert(code, i) {
                        errors.push(error(
                            i,
                            field,
                            "duplicate",
                            text!(
                                "{code} is already paired in mappings[{first}]",
                                "{code} đã được ghép ở mappings[{first}]"
                            ),
                        ));
                    }
                }
            }
            Relation::Split => *parts.entry(old).or_default() += 1,
            Relation::Merged => *sources.entry(new).or_default() += 1,
            Relation::New | Relation::Removed => {}
        }
    }
    for (code, n) in parts.into_iter().filter(|(_, n)| *n < 2) {
        errors.push(DefinitionError {
            field: "mappings".into(),
            code: "split_of_one",
            message: text!(
                "{code} is split into {n} part: a split has at least two",
                "{code} được tách thành {n} phần: tách phải có ít nhất hai phần"
            ),
            index: None,
        });
    }
    for (code, n) in sources.into_iter().filter(|(_, n)| *n < 2) {
        errors.push(DefinitionError {
            field: "mappings".into(),
            code: "merge_of_one",
            message: text!(
                "{code} merges {n} criterion: a merge has at least two",
                "{code} gộp {n} tiêu chí: gộp phải có ít nhất hai tiêu chí"
            ),
            index: None,
        });
    }
    errors
}

/// What a new criterion is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predecessor {
    /// The old criteria whose scores (and maxima) sum to compare with it: one for `same`
    /// and `renamed`, several for `merged`.
    Criteria(Relation, Vec<String>),
    /// Nothing it can be compared with: `new`, a part of a `split`, or not in the mapping.
    NotComparable(Option<Relation>),
}

/// What new criterion `code` is compared with under `rows`.
pub fn predecessor(rows: &[CriterionMapping], code: &str) -> Predecessor {
    let mine: Vec<&CriterionMapping> = rows
        .iter()
        .filter(|m| m.to_code.as_deref() == Some(code))
        .collect();
    let Some(first) = mine.first() else {
        return Predecessor::NotComparable(None);
    };
    match first.relation {
        Relation::Same | Relation::Renamed | Relation::Merged => Predecessor::Criteria(
            first.relation,
            mine.iter().filter_map(|m| m.from_code.clone()).collect(),
        ),
        r => Predecessor::NotComparable(Some(r)),
    }
}

/// The earlier codes whose figures criterion `code` continues: through the mapping when
/// `rows` hold one (none when it is not comparable), else the same code (two years on one
/// framework, or no mapping recorded). The one rule of "the same criterion last year".
pub fn earlier_codes(rows: &[CriterionMapping], code: &str) -> Vec<String> {
    if rows.is_empty() {
        return vec![code.to_string()];
    }
    match predecessor(rows, code) {
        Predecessor::Criteria(_, codes) => codes,
        Predecessor::NotComparable(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::framework::{CriterionDef, Scorer};
    use crate::scoring::method::Method;
    use rust_decimal::Decimal;

    fn tree(codes: &[(&str, i64)]) -> CriteriaTree {
        CriteriaTree::build(
            codes
                .iter()
                .map(|(c, max)| CriterionDef {
                    code: c.to_string(),
                    title: c.to_string(),
                    max_score: Decimal::from(*max),
                    // A leaf: no other code lies under it.
                    method: codes
                        .iter()
                        .all(|(o, _)| !o.starts_with(&format!("{c}.")))
                        .then_some(Method::Manual {}),
                    scorer: Scorer::SelfAssessed,
                    appraised_by_unit_id: None,
                    indicator_code: None,
                    indicator_feeds_self: false,
                })
                .collect(),
        )
        .unwrap()
    }

    fn m(from: Option<&str>, to: Option<&str>, relation: Relation) -> CriterionMapping {
        CriterionMapping {
            from_code: from.map(str::to_string),
            to_code: to.map(str::to_string),
            relation,
        }
    }

    #[test]
    fn earlier_codes_follow_the_mapping_else_the_code() {
        let rows = vec![
            m(Some("2"), Some("3"), Relation::Renamed),
            m(Some("4.1"), Some("4"), Relation::Merged),
            m(Some("4.2"), Some("4"), Relation::Merged),
            m(Some("1.2"), Some("1.3"), Relation::Split),
            m(None, Some("5"), Relation::New),
        ];
        assert_eq!(earlier_codes(&rows, "3"), ["2"]);
        assert_eq!(earlier_codes(&rows, "4"), ["4.1", "4.2"]);
        assert!(earlier_codes(&rows, "1.3").is_empty());
        assert!(earlier_codes(&rows, "5").is_empty());
        assert!(
            earlier_codes(&rows, "9").is_empty(),
            "left out of the mapping"
        );
        assert_eq!(earlier_codes(&[], "9"), ["9"], "no mapping: the same code");
    }

    #[test]
    fn a_split_a_renumbering_and_a_new_criterion() {
        // 2024: 1 (1.1, 1.2), 2. 2025: 1 (1.1a as 1.1, 1.2 split into 1.2 and 1.3), 2 → 3,
        // 2 new.
        let old = tree(&[("1", 60), ("1.1", 30), ("1.2", 30), ("2", 40)]);
        let new = tree(&[
            ("1", 50),
            ("1.1", 30),
            ("1.2", 10),
            ("1.3", 10),
            ("2", 10),
            ("3", 40),
        ]);
        let rows = vec![
            m(Some("1"), Some("1"), Relation::Same),
            m(Some("1.1"), Some("1.1"), Relation::Same),
            m(Some("1.2"), Some("1.2"), Relation::Split),
            m(Some("1.2"), Some("1.3"), Relation::Split),
            m(Some("2"), Some("3"), Relation::Renamed),
            m(None, Some("2"), Relation::New),
        ];
        assert!(
            check(&old, &new, &rows).is_empty(),
            "{:?}",
            check(&old, &new, &rows)
        );
        assert_eq!(
            predecessor(&rows, "3"),
            Predecessor::Criteria(Relation::Renamed, vec!["2".into()])
        );
        assert_eq!(
            predecessor(&rows, "1.3"),
            Predecessor::NotComparable(Some(Relation::Split))
        );
        assert_eq!(
            predecessor(&rows, "2"),
            Predecessor::NotComparable(Some(Relation::New))
        );
        let mut bad = rows.clone();
        bad.push(m(Some("9"), Some("1.1"), Relation::Renamed));
        bad.push(m(Some("1"), Some("2"), Relation::Same));
        let codes: Vec<&str> = check(&old, &new, &bad).iter().map(|e| e.code).collect();
        assert_eq!(codes, ["unknown_criterion", "duplicate", "not_same"]);
    }
}
