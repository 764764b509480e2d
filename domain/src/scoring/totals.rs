//! From leaf scores to subtotals and the total, with the framework's not-applicable policy;
//! and rating bands. Pure: no I/O.

use super::decimal::{checked_sum, has_more_places_than, round2};
use super::framework::{CriteriaTree, DefinitionError, TOTAL_MAX};
use super::method::LeafScore;
use crate::text;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// What a criterion marked not applicable ("không phát sinh") scores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotApplicablePolicy {
    /// It scores its max (the usual rule).
    #[default]
    FullScore,
    /// It is left out, and the total is rescaled to 100 over the applicable criteria.
    Rescale,
}

impl NotApplicablePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            NotApplicablePolicy::FullScore => "full_score",
            NotApplicablePolicy::Rescale => "rescale",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full_score" => Some(NotApplicablePolicy::FullScore),
            "rescale" => Some(NotApplicablePolicy::Rescale),
            _ => None,
        }
    }
}

/// A criterion's subtotal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeTotal {
    pub max: Decimal,
    pub score: Decimal,
    /// The max of its applicable leaves (equal to `max` unless leaves were left out).
    pub applicable_max: Decimal,
}

impl NodeTotal {
    /// Points lost: max − score over the applicable part.
    pub fn deduction(&self) -> Decimal {
        self.applicable_max - self.score
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub by_code: HashMap<String, NodeTotal>,
    /// The sum of the top-level fields' scores (and so of the leaves'), before rescaling.
    pub raw: Decimal,
    /// Out of 100, exact to 2 places (rescaled, and then rounded, only under `Rescale`).
    pub total: Decimal,
}

/// A sum of scores that does not fit a `Decimal`: impossible for a validated framework
/// (leaf scores are clamped to their maxima, which sum to 100), reported rather than
/// panicking if it ever happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScoreOverflow;

impl std::fmt::Display for ScoreOverflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sum of scores overflowed")
    }
}

impl std::error::Error for ScoreOverflow {}

/// Sums leaf scores up the tree. A leaf missing from `leaves` scores 0; a leaf's score is
/// taken within 0..=its max, whatever the caller passes.
pub fn totals(
    tree: &CriteriaTree,
    leaves: &HashMap<String, LeafScore>,
    policy: NotApplicablePolicy,
) -> Result<Totals, ScoreOverflow> {
    let mut by_code: HashMap<String, NodeTotal> = HashMap::new();
    // Children come after their parents in code order: walk backwards.
    for c in tree.criteria().iter().rev() {
        let node = if tree.is_leaf(&c.code) {
            let (score, applicable_max) = match (leaves.get(&c.code), policy) {
                (Some(LeafScore::Scored(s)), _) => {
                    ((*s).clamp(Decimal::ZERO, c.max_score), c.max_score)
                }
                (Some(LeafScore::NotApplicable), NotApplicablePolicy::FullScore) => {
                    (c.max_score, c.max_score)
                }
                (Some(LeafScore::NotApplicable), NotApplicablePolicy::Rescale) => {
                    (Decimal::ZERO, Decimal::ZERO)
                }
                (None, _) => (Decimal::ZERO, c.max_score),
            };
            NodeTotal {
                max: c.max_score,
                score,
                applicable_max,
            }
        } else {
            let kids: Vec<&NodeTotal> = tree
                .children(&c.code)
                .iter()
                .filter_map(|child| by_code.get(child))
                .collect();
            NodeTotal {
                max: c.max_score,
                score: checked_sum(kids.iter().map(|t| t.score)).ok_or(ScoreOverflow)?,
                applicable_max: checked_sum(kids.iter().map(|t| t.applicable_max))
                    .ok_or(ScoreOverflow)?,
            }
        };
        by_code.insert(c.code.clone(), node);
    }
    let fields: Vec<&NodeTotal> = tree.fields().filter_map(|f| by_code.get(&f.code)).collect();
    let raw = checked_sum(fields.iter().map(|t| t.score)).ok_or(ScoreOverflow)?;
    let applicable = checked_sum(fields.iter().map(|t| t.applicable_max)).ok_or(ScoreOverflow)?;
    let total = if applicable == TOTAL_MAX {
        round2(raw)
    } else if applicable.is_zero() {
        // Nothing applied: nothing was lost.
        round2(TOTAL_MAX)
    } else {
        round2(
            raw.checked_mul(TOTAL_MAX)
                .and_then(|x| x.checked_div(applicable))
                .ok_or(ScoreOverflow)?,
        )
    };
    Ok(Totals {
        by_code,
        raw,
        total,
    })
}

/// A rating band: an index of at least `min_index` earns `label`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBand {
    #[schema(example = "A")]
    pub label: String,
    #[schema(value_type = crate::schema::DecimalInput, example = "90")]
    pub min_index: Decimal,
}

/// Bands must have distinct non-empty labels and distinct thresholds in 0..=100+bonus.
pub fn check_bands(bands: &[RatingBand], bonus_max: Decimal) -> Vec<DefinitionError> {
    let mut errors = Vec::new();
    let mut labels = std::collections::HashSet::new();
    let mut mins = std::collections::HashSet::new();
    for (i, b) in bands.iter().enumerate() {
        let field = |f: &str| format!("rating_bands[{i}].{f}");
        let label = b.label.trim();
        if label.is_empty() || label.chars().count() > 50 {
            errors.push(DefinitionError {
                field: field("label"),
                code: "invalid_length",
                message: text!("must have 1 to 50 characters", "phải có từ 1 đến 50 ký tự"),
                index: Some(i),
            });
        } else if !labels.insert(label.to_string()) {
            errors.push(DefinitionError {
                field: field("label"),
                code: "duplicate",
                message: text!(
                    "the label {label:?} is used twice",
                    "nhãn {label:?} bị dùng hai lần"
                ),
                index: Some(i),
            });
        }
        if b.min_index < Decimal::ZERO || b.min_index > TOTAL_MAX + bonus_max {
            errors.push(DefinitionError {
                field: field("min_index"),
                code: "out_of_range",
                message: text!(
                    "must be between 0 and {}",
                    "phải từ 0 đến {}",
                    TOTAL_MAX + bonus_max
                ),
                index: Some(i),
            });
        } else if has_more_places_than(b.min_index, 2) {
            errors.push(DefinitionError {
                field: field("min_index"),
                code: "too_many_decimals",
                message: text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
                index: Some(i),
            });
        } else if !mins.insert(b.min_index.normalize()) {
            errors.push(DefinitionError {
                field: field("min_index"),
                code: "duplicate",
                message: text!(
                    "two bands start at the same index",
                    "hai mức xếp loại bắt đầu cùng một chỉ số"
                ),
                index: Some(i),
            });
        }
    }
    errors
}

/// The label of the highest band `index` reaches, if any.
pub fn band_for(bands: &[RatingBand], index: Decimal) -> Option<&str> {
    bands
        .iter()
        .filter(|b| index >= b.min_index)
        .max_by(|a, b| a.min_index.cmp(&b.min_index))
        .map(|b| b.label.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::framework::{CriterionDef, Scorer};
    use crate::scoring::method::Method;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn def(code: &str, max: Decimal, leaf: bool) -> CriterionDef {
        CriterionDef {
            code: code.into(),
            title: code.into(),
            max_score: max,
            method: leaf.then_some(Method::Manual {}),
            scorer: Scorer::SelfAssessed,
            appraised_by_unit_id: None,
            indicator_code: None,
            indicator_feeds_self: false,
        }
    }

    fn tree() -> CriteriaTree {
        CriteriaTree::build(vec![
            def("1", dec!(40), false),
            def("1.1", dec!(15), true),
            def("1.2", dec!(25), false),
            def("1.2.1", dec!(12.5), true),
            def("1.2.2", dec!(12.5), true),
            def("2", dec!(60), true),
        ])
        .expect("valid tree")
    }

    fn scores(pairs: &[(&str, LeafScore)]) -> HashMap<String, LeafScore> {
        pairs.iter().map(|(c, s)| (c.to_string(), *s)).collect()
    }

    #[test]
    fn subtotals_add_up_the_tree() {
        let t = totals(
            &tree(),
            &scores(&[
                ("1.1", LeafScore::Scored(dec!(14.25))),
                ("1.2.1", LeafScore::Scored(dec!(10))),
                ("1.2.2", LeafScore::Scored(dec!(12.5))),
                ("2", LeafScore::Scored(dec!(50.5))),
            ]),
            NotApplicablePolicy::FullScore,
        )
        .unwrap();
        assert_eq!(t.by_code["1.2"].score, dec!(22.5));
        assert_eq!(t.by_code["1"].score, dec!(36.75));
        assert_eq!(t.by_code["1"].deduction(), dec!(3.25));
        assert_eq!(t.total.to_string(), "87.25");
    }

    #[test]
    fn missing_leaves_score_zero() {
        let t = totals(&tree(), &HashMap::new(), NotApplicablePolicy::FullScore).unwrap();
        assert_eq!(t.total.to_string(), "0.00");
        assert_eq!(t.by_code["2"].deduction(), dec!(60));
    }

    #[test]
    fn not_applicable_scores_max_or_is_rescaled() {
        let leaves = scores(&[
            ("1.1", LeafScore::Scored(dec!(15))),
            ("1.2.1", LeafScore::NotApplicable),
            ("1.2.2", LeafScore::Scored(dec!(12.5))),
            ("2", LeafScore::Scored(dec!(30))),
        ]);
        let full = totals(&tree(), &leaves, NotApplicablePolicy::FullScore).unwrap();
        assert_eq!(full.total.to_string(), "70.00");
        assert_eq!(full.by_code["1.2.1"].deduction(), dec!(0));
        // Rescaled: 57.5 of the 87.5 applicable points → 65.71 of 100.
        let rescaled = totals(&tree(), &leaves, NotApplicablePolicy::Rescale).unwrap();
        assert_eq!(rescaled.total.to_string(), "65.71");
        assert_eq!(rescaled.by_code["1.2.1"].deduction(), dec!(0));
        assert_eq!(rescaled.by_code["1"].applicable_max, dec!(27.5));
    }

    #[test]
    fn bands_pick_the_highest_reached() {
        let bands = vec![
            RatingBand {
                label: "D".into(),
                min_index: dec!(0),
            },
            RatingBand {
                label: "A".into(),
                min_index: dec!(90),
            },
            RatingBand {
                label: "B".into(),
                min_index: dec!(80),
            },
            RatingBand {
                label: "C".into(),
                min_index: dec!(70),
            },
        ];
        assert!(check_bands(&bands, dec!(5)).is_empty());
        assert_eq!(band_for(&bands, dec!(88.25)), Some("B"));
        assert_eq!(band_for(&bands, dec!(90)), Some("A"));
        assert_eq!(band_for(&bands, dec!(12)), Some("D"));
        assert_eq!(band_for(&bands[1..], dec!(12)), None);
        let dup = vec![
            RatingBand {
                label: "A".into(),
                min_index: dec!(90),
            },
            RatingBand {
                label: "A".into(),
                min_index: dec!(90.00),
            },
        ];
        assert_eq!(check_bands(&dup, dec!(0)).len(), 2);
    }

    proptest! {
        #[test]
        fn subtotals_always_add_up(
            a in 0i64..=1500, b in 0i64..=1250, c in 0i64..=1250, d in 0i64..=6000,
            na in proptest::collection::vec(any::<bool>(), 4),
            rescale in any::<bool>(),
        ) {
            let leaf = |code: &str, h: i64, na: bool| {
                (code.to_string(), if na { LeafScore::NotApplicable } else { LeafScore::Scored(Decimal::new(h, 2)) })
            };
            let leaves: HashMap<String, LeafScore> = [
                leaf("1.1", a, na[0]), leaf("1.2.1", b, na[1]), leaf("1.2.2", c, na[2]), leaf("2", d, na[3]),
            ].into_iter().collect();
            let policy = if rescale { NotApplicablePolicy::Rescale } else { NotApplicablePolicy::FullScore };
            let tree = tree();
            let t = totals(&tree, &leaves, policy).unwrap();
            for cdef in tree.criteria() {
                let node = t.by_code[&cdef.code];
                prop_assert!(node.score >= Decimal::ZERO && node.score <= node.applicable_max);
                prop_assert!(node.applicable_max <= node.max);
                let kids = tree.children(&cdef.code);
                if !kids.is_empty() {
                    let sum: Decimal = kids.iter().map(|k| t.by_code[k].score).sum();
                    prop_assert_eq!(sum, node.score);
                }
            }
            prop_assert!(t.total >= Decimal::ZERO && t.total <= TOTAL_MAX);
            if !rescale {
                prop_assert_eq!(t.total, t.by_code["1"].score + t.by_code["2"].score);
            }
        }
    }

    /// A random framework: 1 to 5 fields, each a leaf or a parent of up to 3 leaves or
    /// sub-parents of up to 3 leaves; the maxima (whole hundredths) sum to 100.
    fn random_tree(shape: &[Vec<u8>], weights: &[u32]) -> CriteriaTree {
        let mut leaves: Vec<String> = Vec::new();
        let mut parents: Vec<String> = Vec::new();
        for (f, children) in shape.iter().enumerate() {
            let field = format!("{}", f + 1);
            if children.is_empty() {
                leaves.push(field);
                continue;
            }
            parents.push(field.clone());
            for (c, grandchildren) in children.iter().enumerate() {
                let child = format!("{field}.{}", c + 1);
                if *grandchildren == 0 {
                    leaves.push(child);
                } else {
                    parents.push(child.clone());
                    for g in 0..*grandchildren {
                        leaves.push(format!("{child}.{}", g + 1));
                    }
                }
            }
        }
        // Split 10,000 hundredths over the leaves by weight, the rest to the first.
        let total_weight: u64 = leaves
            .iter()
            .enumerate()
            .map(|(i, _)| u64::from(weights[i % weights.len()]) + 1)
            .sum();
        let mut maxima: Vec<i64> = leaves
            .iter()
            .enumerate()
            .map(|(i, _)| {
                (10_000 * (u64::from(weights[i % weights.len()]) + 1) / total_weight) as i64
            })
            .collect();
        let given: i64 = maxima.iter().sum();
        maxima[0] += 10_000 - given;
        let mut defs: Vec<CriterionDef> = Vec::new();
        let max_of = |code: &str, maxima: &[i64]| -> Decimal {
            let prefix = format!("{code}.");
            Decimal::new(
                leaves
                    .iter()
                    .zip(maxima)
                    .filter(|(l, _)| *l == code || l.starts_with(&prefix))
                    .map(|(_, m)| *m)
                    .sum(),
                2,
            )
        };
        for p in &parents {
            defs.push(CriterionDef {
                method: None,
                ..def(p, max_of(p, &maxima), false)
            });
        }
        for l in &leaves {
            defs.push(def(l, max_of(l, &maxima), true));
        }
        CriteriaTree::build(defs).expect("a valid random tree")
    }

    proptest! {
        #[test]
        fn fields_sum_to_the_totals_and_totals_to_the_leaves(
            shape in proptest::collection::vec(proptest::collection::vec(0u8..=3, 0..=3), 1..=5),
            weights in proptest::collection::vec(0u32..=9, 1..=8),
            picks in proptest::collection::vec((0u8..=4, 0u32..=100), 1..=40),
            rescale in any::<bool>(),
        ) {
            let tree = random_tree(&shape, &weights);
            prop_assume!(tree.leaves().all(|l| l.max_score > Decimal::ZERO));
            let policy = if rescale { NotApplicablePolicy::Rescale } else { NotApplicablePolicy::FullScore };
            // Each leaf: missing, not applicable, or a share of its max.
            let mut leaves = HashMap::new();
            let mut expected_raw = Decimal::ZERO;
            for (i, leaf) in tree.leaves().enumerate() {
                let (kind, share) = picks[i % picks.len()];
                match kind {
                    0 => {}
                    1 => {
                        leaves.insert(leaf.code.clone(), LeafScore::NotApplicable);
                        if !rescale {
                            expected_raw += leaf.max_score;
                        }
                    }
                    _ => {
                        let score = round2(leaf.max_score * Decimal::from(share) / Decimal::ONE_HUNDRED);
                        leaves.insert(leaf.code.clone(), LeafScore::Scored(score));
                        expected_raw += score;
                    }
                }
            }
            let t = totals(&tree, &leaves, policy).unwrap();
            let fields: Decimal = tree.fields().map(|f| t.by_code[&f.code].score).sum();
            prop_assert_eq!(fields, t.raw);
            prop_assert_eq!(t.raw, expected_raw);
            if !rescale {
                prop_assert_eq!(t.total, round2(t.raw));
            }
            for c in tree.criteria() {
                let node = t.by_code[&c.code];
                prop_assert!(node.score >= Decimal::ZERO && node.score <= node.applicable_max);
                let kids = tree.children(&c.code);
                if !kids.is_empty() {
                    let sum: Decimal = kids.iter().map(|k| t.by_code[k].score).sum();
                    prop_assert_eq!(sum, node.score);
                }
            }
            prop_assert!(t.total >= Decimal::ZERO && t.total <= TOTAL_MAX);
        }
    }
}
