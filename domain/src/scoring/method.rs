//! Scoring methods of leaf criteria and the computation of a leaf's score from its raw
//! inputs. Every score is rounded once, here, at the leaf, and clamped to 0..=max.

use super::decimal::{has_more_places_than, round2};
use crate::text;
use crate::text::Text;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One step of a step table: a count of at least `min_count` earns `score`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[schema(example = 4)]
    pub min_count: u32,
    #[schema(value_type = crate::schema::DecimalInput)]
    pub score: Decimal,
}

/// How a leaf criterion turns its raw inputs into a score (see the scoring table).
///
/// Parameterless methods are empty struct variants (`Ratio {}`) so that unknown fields
/// are refused for them too (`{"type":"ratio","target":"0.3"}` is an error).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Method {
    /// Entered by hand, 0..max (input `score`).
    Manual {},
    /// max × n/d (inputs `numerator`, `denominator`).
    Ratio {},
    /// max × min(1, (n/d)/target) (inputs `numerator`, `denominator`).
    TargetRatio {
        /// In (0, 1], e.g. `"0.30"` for 30 %.
        #[schema(value_type = crate::schema::DecimalInput)]
        target: Decimal,
    },
    /// max if n/d ≥ threshold, else 0 (inputs `numerator`, `denominator`).
    Threshold {
        /// In (0, 1], e.g. `"0.70"`.
        #[schema(value_type = crate::schema::DecimalInput)]
        threshold: Decimal,
    },
    /// min(max, count × points) (input `count`).
    PerItem {
        #[schema(value_type = crate::schema::DecimalInput)]
        points: Decimal,
    },
    /// max(0, max − count × points) (input `count`).
    PenaltyPerItem {
        #[schema(value_type = crate::schema::DecimalInput)]
        points: Decimal,
    },
    /// max if done, else 0 (input `done`).
    Boolean {},
    /// The score of the highest step reached by `count` (input `count`); steps ordered
    /// by increasing `min_count`.
    StepTable { steps: Vec<Step> },
    /// max × own value / the best value of the same district and year (input `value`).
    RelativeToBest {},
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Manual {} => "manual",
            Method::Ratio {} => "ratio",
            Method::TargetRatio { .. } => "target_ratio",
            Method::Threshold { .. } => "threshold",
            Method::PerItem { .. } => "per_item",
            Method::PenaltyPerItem { .. } => "penalty_per_item",
            Method::Boolean {} => "boolean",
            Method::StepTable { .. } => "step_table",
            Method::RelativeToBest {} => "relative_to_best",
        }
    }

    /// The same method with every parameter written with 2 decimals (`0.3` → `0.30`), so
    /// that a framework reads the same however its numbers were typed. Parameters are
    /// validated to at most 2 places, so nothing is lost.
    pub fn normalised(&self) -> Method {
        use super::decimal::round2;
        match self {
            Method::TargetRatio { target } => Method::TargetRatio {
                target: round2(*target),
            },
            Method::Threshold { threshold } => Method::Threshold {
                threshold: round2(*threshold),
            },
            Method::PerItem { points } => Method::PerItem {
                points: round2(*points),
            },
            Method::PenaltyPerItem { points } => Method::PenaltyPerItem {
                points: round2(*points),
            },
            Method::StepTable { steps } => Method::StepTable {
                steps: steps
                    .iter()
                    .map(|s| Step {
                        min_count: s.min_count,
                        score: round2(s.score),
                    })
                    .collect(),
            },
            other => other.clone(),
        }
    }

    /// The input fields this method reads.
    pub fn inputs(&self) -> &'static [&'static str] {
        match self {
            Method::Manual {} => &["score"],
            Method::Ratio {} | Method::TargetRatio { .. } | Method::Threshold { .. } => {
                &["numerator", "denominator"]
            }
            Method::PerItem { .. } | Method::PenaltyPerItem { .. } | Method::StepTable { .. } => {
                &["count"]
            }
            Method::Boolean {} => &["done"],
            Method::RelativeToBest {} => &["value"],
        }
    }

    /// Problems with the method's parameters for a criterion worth `max`, as
    /// (field, code, message); empty when valid.
    pub fn check(&self, max: Decimal) -> Vec<(String, &'static str, Text)> {
        let mut problems = Vec::new();
        let mut fraction = |field: &str, v: Decimal| {
            if v <= Decimal::ZERO || v > Decimal::ONE {
                problems.push((
                    field.to_string(),
                    "out_of_range",
                    text!(
                        "must be greater than 0 and at most 1 (got {v})",
                        "phải lớn hơn 0 và không quá 1 (nhận được {v})"
                    ),
                ));
            } else if has_more_places_than(v, 2) {
                problems.push((
                    field.to_string(),
                    "too_many_decimals",
                    text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
                ));
            }
        };
        match self {
            Method::TargetRatio { target } => fraction("target", *target),
            Method::Threshold { threshold } => fraction("threshold", *threshold),
            Method::PerItem { points } | Method::PenaltyPerItem { points } => {
                if *points <= Decimal::ZERO || *points > max {
                    problems.push((
                        "points".into(),
                        "out_of_range",
                        text!(
                            "must be greater than 0 and at most the max score {max}",
                            "phải lớn hơn 0 và không quá điểm tối đa {max}"
                        ),
                    ));
                } else if has_more_places_than(*points, 2) {
                    problems.push((
                        "points".into(),
                        "too_many_decimals",
                        text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
                    ));
                }
            }
            Method::StepTable { steps } => {
                if steps.is_empty() {
                    problems.push((
                        "steps".into(),
                        "required",
                        text!("at least one step", "cần ít nhất một bậc"),
                    ));
                }
                for (i, step) in steps.iter().enumerate() {
                    let field = format!("steps[{i}]");
                    if step.score < Decimal::ZERO || step.score > max {
                        problems.push((
                            format!("{field}.score"),
                            "out_of_range",
                            text!(
                                "must be between 0 and the max score {max}",
                                "phải từ 0 đến điểm tối đa {max}"
                            ),
                        ));
                    } else if has_more_places_than(step.score, 2) {
                        problems.push((
                            format!("{field}.score"),
                            "too_many_decimals",
                            text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
                        ));
                    }
                    if i > 0 {
                        let prev = &steps[i - 1];
                        if step.min_count <= prev.min_count {
                            problems.push((
                                format!("{field}.min_count"),
                                "unordered",
                                text!(
                                    "steps must be ordered by strictly increasing min_count",
                                    "các bậc phải xếp theo min_count tăng dần, không trùng nhau"
                                ),
                            ));
                        }
                        if step.score < prev.score {
                            problems.push((
                                format!("{field}.score"),
                                "unordered",
                                text!(
                                    "a higher step cannot score less than a lower one",
                                    "bậc cao hơn không được có điểm thấp hơn bậc dưới"
                                ),
                            ));
                        }
                    }
                }
            }
            Method::Manual {}
            | Method::Ratio {}
            | Method::Boolean {}
            | Method::RelativeToBest {} => {}
        }
        problems
    }
}

/// The largest figure a numerator, denominator or value may be: far above any count of
/// dossiers or procedures of a commune, far below anything that could overflow.
pub const MAX_FIGURE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// The largest count of items (initiatives, late tasks, meetings).
pub const MAX_COUNT: u32 = 1_000_000;

/// The raw figures behind a leaf's score, as entered by the unit or the council.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Inputs {
    /// Manual score, 0..max, at most 2 decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub score: Option<Decimal>,
    /// E.g. 118 dossiers paid online… (0 to 1,000,000,000, at most 4 decimals)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub numerator: Option<Decimal>,
    /// …of 1245 dossiers (greater than 0, at most 1,000,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub denominator: Option<Decimal>,
    /// A number of items (initiatives, late tasks, meetings), 0 to 1,000,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<bool>,
    /// The unit's own figure, scored against the best accepted figure of its siblings
    /// (0 to 1,000,000,000, at most 4 decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub value: Option<Decimal>,
    /// The criterion did not arise for the unit this year ("không phát sinh").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_applicable: bool,
}

impl Inputs {
    fn present(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.score.is_some() {
            fields.push("score");
        }
        if self.numerator.is_some() {
            fields.push("numerator");
        }
        if self.denominator.is_some() {
            fields.push("denominator");
        }
        if self.count.is_some() {
            fields.push("count");
        }
        if self.done.is_some() {
            fields.push("done");
        }
        if self.value.is_some() {
            fields.push("value");
        }
        fields
    }

    /// True when nothing at all was entered.
    pub fn is_empty(&self) -> bool {
        !self.not_applicable && self.present().is_empty()
    }
}

/// A raw input that cannot be scored: the field and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: Text,
}

fn input_error(field: &'static str, code: &'static str, message: Text) -> InputError {
    InputError {
        field,
        code,
        message,
    }
}

/// A leaf's result: its score, or not applicable (scored by the framework's policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafScore {
    Scored(Decimal),
    NotApplicable,
}

/// Checks that `inputs` carry exactly what `method` reads, in range.
// Long by nature: each input field's own rule in turn.
pub fn check_inputs(method: &Method, max: Decimal, inputs: &Inputs) -> Result<(), InputError> {
    let present = inputs.present();
    if inputs.not_applicable {
        if let Some(field) = present.first() {
            return Err(input_error(
                field,
                "conflicting_input",
                text!(
                    "a criterion marked not_applicable takes no other input",
                    "tiêu chí đã đánh dấu không phát sinh (not_applicable) không nhận số liệu khác"
                ),
            ));
        }
        return Ok(());
    }
    let wanted = method.inputs();
    if let Some(extra) = present.iter().find(|f| !wanted.contains(f)) {
        return Err(input_error(extra, "unexpected_input", {
            let (name, reads) = (method.name(), wanted.join(" and "));
            let reads_vi = wanted.join(" và ");
            text!(
                "the {name} method does not use `{extra}`; it reads {reads}",
                "phương pháp {name} không dùng `{extra}`; phương pháp này đọc {reads_vi}"
            )
        }));
    }
    if let Some(missing) = wanted.iter().find(|f| !present.contains(f)) {
        return Err(input_error(
            missing,
            "required",
            text!(
                "the {} method needs `{missing}`",
                "phương pháp {} cần `{missing}`",
                method.name()
            ),
        ));
    }
    let non_negative = |field: &'static str, v: Decimal| {
        if v.is_sign_negative() && !v.is_zero() {
            Err(input_error(
                field,
                "out_of_range",
                text!("must not be negative", "không được âm"),
            ))
        } else if v > MAX_FIGURE {
            Err(input_error(
                field,
                "out_of_range",
                text!(
                    "must be at most {MAX_FIGURE}",
                    "không được lớn hơn {MAX_FIGURE}"
                ),
            ))
        } else if has_more_places_than(v, 4) {
            Err(input_error(
                field,
                "too_many_decimals",
                text!("at most 4 decimal places", "tối đa 4 chữ số thập phân"),
            ))
        } else {
            Ok(())
        }
    };
    if let Some(count) = inputs.count
        && count > MAX_COUNT
    {
        return Err(input_error(
            "count",
            "out_of_range",
            text!(
                "must be at most {MAX_COUNT}",
                "không được lớn hơn {MAX_COUNT}"
            ),
        ));
    }
    if let Some(score) = inputs.score {
        if has_more_places_than(score, 2) {
            return Err(input_error(
                "score",
                "too_many_decimals",
                text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
            ));
        }
        if score.is_sign_negative() && !score.is_zero() || score > max {
            return Err(input_error(
                "score",
                "out_of_range",
                text!(
                    "must be between 0 and the max score {max} (got {score})",
                    "phải từ 0 đến điểm tối đa {max} (nhận được {score})"
                ),
            ));
        }
    }
    if let (Some(n), Some(d)) = (inputs.numerator, inputs.denominator) {
        non_negative("numerator", n)?;
        non_negative("denominator", d)?;
        if d.is_zero() {
            return Err(input_error(
                "denominator",
                "zero_denominator",
                text!(
                    "must be greater than 0; if nothing arose this year, send not_applicable: true",
                    "phải lớn hơn 0; nếu trong năm không phát sinh, gửi not_applicable: true"
                ),
            ));
        }
        if n > d {
            return Err(input_error(
                "numerator",
                "out_of_range",
                text!(
                    "cannot exceed the denominator ({n} > {d})",
                    "không được lớn hơn mẫu số ({n} > {d})"
                ),
            ));
        }
    }
    if let Some(v) = inputs.value {
        non_negative("value", v)?;
    }
    Ok(())
}

/// The score of a leaf worth `max` from its inputs. `best` is the best `value` of the
/// district for `relative_to_best` (ignored by other methods).
pub fn score_leaf(
    method: &Method,
    max: Decimal,
    inputs: &Inputs,
    best: Option<Decimal>,
) -> Result<LeafScore, InputError> {
    check_inputs(method, max, inputs)?;
    if inputs.not_applicable {
        return Ok(LeafScore::NotApplicable);
    }
    let overflow = || {
        input_error(
            method.inputs()[0],
            "out_of_range",
            text!(
                "the figures are too large to compute a score from",
                "số liệu quá lớn để tính điểm"
            ),
        )
    };
    // Every operation is checked: inputs are bounded (`MAX_FIGURE`, `MAX_COUNT`), so none
    // can overflow, but a bound missed somewhere must be a 4xx, never a panic.
    let ratio = || -> Result<Decimal, InputError> {
        match (inputs.numerator, inputs.denominator) {
            (Some(n), Some(d)) if !d.is_zero() => n.checked_div(d).ok_or_else(overflow),
            _ => Ok(Decimal::ZERO),
        }
    };
    let count = Decimal::from(inputs.count.unwrap_or(0));
    let raw = match method {
        Method::Manual {} => inputs.score.unwrap_or_default(),
        Method::Ratio {} => max.checked_mul(ratio()?).ok_or_else(overflow)?,
        Method::TargetRatio { target } => {
            let reached = ratio()?.checked_div(*target).ok_or_else(overflow)?;
            max.checked_mul(reached.min(Decimal::ONE))
                .ok_or_else(overflow)?
        }
        Method::Threshold { threshold } => {
            if ratio()? >= *threshold {
                max
            } else {
                Decimal::ZERO
            }
        }
        Method::PerItem { points } => count.checked_mul(*points).ok_or_else(overflow)?.min(max),
        Method::PenaltyPerItem { points } => max
            .checked_sub(count.checked_mul(*points).ok_or_else(overflow)?)
            .ok_or_else(overflow)?,
        Method::Boolean {} => {
            if inputs.done == Some(true) {
                max
            } else {
                Decimal::ZERO
            }
        }
        Method::StepTable { steps } => steps
            .iter()
            .rev()
            .find(|s| inputs.count.unwrap_or(0) >= s.min_count)
            .map_or(Decimal::ZERO, |s| s.score),
        Method::RelativeToBest {} => {
            let own = inputs.value.unwrap_or_default();
            // The unit itself may lead (or be the only one with a figure so far).
            let best = best.unwrap_or(own).max(own);
            if best > Decimal::ZERO {
                max.checked_mul(own)
                    .and_then(|x| x.checked_div(best))
                    .ok_or_else(overflow)?
            } else {
                Decimal::ZERO
            }
        }
    };
    Ok(LeafScore::Scored(round2(raw.max(Decimal::ZERO).min(max))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn ratio(n: u32, d: u32) -> Inputs {
        Inputs {
            numerator: Some(n.into()),
            denominator: Some(d.into()),
            ..Default::default()
        }
    }

    fn count(c: u32) -> Inputs {
        Inputs {
            count: Some(c),
            ..Default::default()
        }
    }

    fn scored(method: &Method, max: Decimal, inputs: &Inputs) -> String {
        match score_leaf(method, max, inputs, None).expect("valid inputs") {
            LeafScore::Scored(s) => s.to_string(),
            LeafScore::NotApplicable => "n/a".into(),
        }
    }

    // The seed letter's own figures (Vĩnh Long, 2023).

    #[test]
    fn seed_3_12_2_target_ratio_118_of_1245_at_30_percent_is_0_32() {
        let m = Method::TargetRatio { target: dec!(0.30) };
        assert_eq!(scored(&m, dec!(1), &ratio(118, 1245)), "0.32");
    }

    #[test]
    fn seed_3_12_1_ratio_7_of_30_is_0_23() {
        assert_eq!(scored(&Method::Ratio {}, dec!(1), &ratio(7, 30)), "0.23");
    }

    #[test]
    fn seed_3_13_1_ratio_16_of_19_is_0_84() {
        assert_eq!(scored(&Method::Ratio {}, dec!(1), &ratio(16, 19)), "0.84");
    }

    #[test]
    fn seed_1_6_ratio_7_of_9_commitments_is_0_78() {
        assert_eq!(scored(&Method::Ratio {}, dec!(1), &ratio(7, 9)), "0.78");
    }

    #[test]
    fn seed_3_11_1_threshold_68_percent_below_70_is_0() {
        let m = Method::Threshold {
            threshold: dec!(0.70),
        };
        assert_eq!(scored(&m, dec!(1), &ratio(68, 100)), "0.00");
    }

    #[test]
    fn seed_1_5_4_per_item_two_initiatives_at_0_5_is_1() {
        let m = Method::PerItem { points: dec!(0.5) };
        assert_eq!(scored(&m, dec!(2), &count(2)), "1.00");
    }

    #[test]
    fn seed_1_5_1_penalty_one_late_task_is_1_of_2() {
        let m = Method::PenaltyPerItem { points: dec!(1) };
        assert_eq!(scored(&m, dec!(2), &count(1)), "1.00");
    }

    #[test]
    fn seed_2_4_2_boolean_not_done_is_0_of_1_5() {
        let inputs = Inputs {
            done: Some(false),
            ..Default::default()
        };
        assert_eq!(scored(&Method::Boolean {}, dec!(1.5), &inputs), "0.00");
        let done = Inputs {
            done: Some(true),
            ..Default::default()
        };
        assert_eq!(scored(&Method::Boolean {}, dec!(1.5), &done), "1.50");
    }

    #[test]
    fn seed_1_4_1_manual_0_8_of_1() {
        let inputs = Inputs {
            score: Some(dec!(0.8)),
            ..Default::default()
        };
        assert_eq!(scored(&Method::Manual {}, dec!(1), &inputs), "0.80");
    }

    #[test]
    fn step_table_meetings() {
        let m = Method::StepTable {
            steps: vec![
                Step {
                    min_count: 1,
                    score: dec!(0.5),
                },
                Step {
                    min_count: 2,
                    score: dec!(1),
                },
                Step {
                    min_count: 3,
                    score: dec!(1.5),
                },
                Step {
                    min_count: 4,
                    score: dec!(2),
                },
            ],
        };
        let expected = [
            (0, "0.00"),
            (1, "0.50"),
            (2, "1.00"),
            (3, "1.50"),
            (4, "2.00"),
            (9, "2.00"),
        ];
        for (c, score) in expected {
            assert_eq!(scored(&m, dec!(2), &count(c)), score, "{c} meetings");
        }
    }

    #[test]
    fn relative_to_best_scores_against_the_leader() {
        let own = |v: Decimal| Inputs {
            value: Some(v),
            ..Default::default()
        };
        let s = |v, best| score_leaf(&Method::RelativeToBest {}, dec!(2), &own(v), best).unwrap();
        assert_eq!(s(dec!(72), Some(dec!(90))), LeafScore::Scored(dec!(1.60)));
        assert_eq!(s(dec!(90), Some(dec!(90))), LeafScore::Scored(dec!(2.00)));
        // The unit itself leads when the best known is lower.
        assert_eq!(s(dec!(95), Some(dec!(90))), LeafScore::Scored(dec!(2.00)));
        assert_eq!(s(dec!(0), Some(dec!(0))), LeafScore::Scored(dec!(0.00)));
        // Alone so far: the unit is its own best.
        assert_eq!(s(dec!(40), None), LeafScore::Scored(dec!(2.00)));
    }

    #[test]
    fn boundaries() {
        // Exactly at the threshold scores.
        let m = Method::Threshold {
            threshold: dec!(0.70),
        };
        assert_eq!(scored(&m, dec!(1), &ratio(70, 100)), "1.00");
        // Past the target caps at max.
        let t = Method::TargetRatio { target: dec!(0.30) };
        assert_eq!(scored(&t, dec!(1), &ratio(60, 100)), "1.00");
        // Counts past the cap stay at max / at 0.
        assert_eq!(
            scored(&Method::PerItem { points: dec!(0.5) }, dec!(2), &count(10)),
            "2.00"
        );
        assert_eq!(
            scored(
                &Method::PenaltyPerItem { points: dec!(1) },
                dec!(2),
                &count(10)
            ),
            "0.00"
        );
        // Half a hundredth rounds away from zero: 1 × 1/8 = 0.125 → 0.13.
        assert_eq!(scored(&Method::Ratio {}, dec!(1), &ratio(1, 8)), "0.13");
    }

    #[test]
    fn zero_denominators_are_input_errors() {
        let e = score_leaf(&Method::Ratio {}, dec!(1), &ratio(0, 0), None).unwrap_err();
        assert_eq!((e.field, e.code), ("denominator", "zero_denominator"));
    }

    #[test]
    fn wrong_or_missing_inputs_are_named() {
        let e = score_leaf(&Method::Ratio {}, dec!(1), &count(3), None).unwrap_err();
        assert_eq!((e.field, e.code), ("count", "unexpected_input"));
        let e = score_leaf(&Method::Manual {}, dec!(1), &Inputs::default(), None).unwrap_err();
        assert_eq!((e.field, e.code), ("score", "required"));
        let too_high = Inputs {
            score: Some(dec!(1.01)),
            ..Default::default()
        };
        assert_eq!(
            score_leaf(&Method::Manual {}, dec!(1), &too_high, None)
                .unwrap_err()
                .code,
            "out_of_range"
        );
        let three = Inputs {
            score: Some(dec!(0.125)),
            ..Default::default()
        };
        assert_eq!(
            score_leaf(&Method::Manual {}, dec!(1), &three, None)
                .unwrap_err()
                .code,
            "too_many_decimals"
        );
        let negative = Inputs {
            score: Some(dec!(-0.5)),
            ..Default::default()
        };
        assert_eq!(
            score_leaf(&Method::Manual {}, dec!(1), &negative, None)
                .unwrap_err()
                .code,
            "out_of_range"
        );
        let over = ratio(5, 4);
        assert_eq!(
            score_leaf(&Method::Ratio {}, dec!(1), &over, None)
                .unwrap_err()
                .field,
            "numerator"
        );
        let na_and_score = Inputs {
            not_applicable: true,
            score: Some(dec!(1)),
            ..Default::default()
        };
        assert_eq!(
            score_leaf(&Method::Manual {}, dec!(1), &na_and_score, None)
                .unwrap_err()
                .code,
            "conflicting_input"
        );
    }

    #[test]
    fn not_applicable_is_reported_as_such() {
        let na = Inputs {
            not_applicable: true,
            ..Default::default()
        };
        assert_eq!(
            score_leaf(&Method::Ratio {}, dec!(1), &na, None),
            Ok(LeafScore::NotApplicable)
        );
    }

    #[test]
    fn method_parameters_are_checked() {
        assert!(Method::TargetRatio { target: dec!(0) }.check(dec!(1)).len() == 1);
        assert!(
            Method::Threshold {
                threshold: dec!(1.2)
            }
            .check(dec!(1))
            .len()
                == 1
        );
        assert!(
            Method::Threshold {
                threshold: dec!(0.705)
            }
            .check(dec!(1))[0]
                .1
                == "too_many_decimals"
        );
        assert!(Method::PerItem { points: dec!(0) }.check(dec!(1)).len() == 1);
        assert!(Method::StepTable { steps: vec![] }.check(dec!(1)).len() == 1);
        let unordered = Method::StepTable {
            steps: vec![
                Step {
                    min_count: 3,
                    score: dec!(1),
                },
                Step {
                    min_count: 1,
                    score: dec!(0.5),
                },
            ],
        };
        let problems = unordered.check(dec!(1));
        assert!(problems.iter().any(|p| p.1 == "unordered"), "{problems:?}");
        assert!(
            Method::TargetRatio { target: dec!(0.3) }
                .check(dec!(1))
                .is_empty()
        );
    }

    #[test]
    fn methods_use_the_documented_wire_format() {
        let m: Method = serde_json::from_str(r#"{"type":"target_ratio","target":"0.30"}"#).unwrap();
        assert_eq!(m, Method::TargetRatio { target: dec!(0.30) });
        let m: Method = serde_json::from_str(r#"{"type":"per_item","points":0.5}"#).unwrap();
        assert_eq!(m, Method::PerItem { points: dec!(0.5) });
        let m: Method =
            serde_json::from_str(r#"{"type":"step_table","steps":[{"min_count":4,"score":"2"}]}"#)
                .unwrap();
        assert!(matches!(m, Method::StepTable { .. }));
        assert!(serde_json::from_str::<Method>(r#"{"type":"magic"}"#).is_err());
        assert!(serde_json::from_str::<Method>(r#"{"type":"ratio","target":"0.3"}"#).is_err());
        assert_eq!(
            serde_json::to_string(&Method::Ratio {}).unwrap(),
            r#"{"type":"ratio"}"#
        );
    }

    fn any_method() -> impl Strategy<Value = Method> {
        let frac = (1u32..=100).prop_map(|p| Decimal::new(p.into(), 2));
        let points = (1u32..=500).prop_map(|p| Decimal::new(p.into(), 2));
        prop_oneof![
            Just(Method::Manual {}),
            Just(Method::Ratio {}),
            frac.clone()
                .prop_map(|target| Method::TargetRatio { target }),
            frac.prop_map(|threshold| Method::Threshold { threshold }),
            points.clone().prop_map(|points| Method::PerItem { points }),
            points.prop_map(|points| Method::PenaltyPerItem { points }),
            Just(Method::Boolean {}),
            Just(Method::RelativeToBest {}),
            proptest::collection::vec(0u32..=500, 1..5).prop_map(|scores| {
                let mut scores = scores;
                scores.sort();
                Method::StepTable {
                    steps: scores
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| Step {
                            min_count: i as u32 + 1,
                            score: Decimal::new(s.into(), 2),
                        })
                        .collect(),
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn no_input_scores_below_zero_or_above_max(
            method in any_method(),
            max_hundredths in 1i64..=1000,
            n in 0u32..=100_000,
            extra in 0u32..=100_000,
            c in 0u32..=1_000,
            done in any::<bool>(),
            manual in 0i64..=1000,
            value in 0u32..=100_000,
            best in proptest::option::of(0u32..=100_000),
        ) {
            let max = Decimal::new(max_hundredths, 2);
            let inputs = match &method {
                Method::Manual {} => Inputs { score: Some(Decimal::new(manual.min(max_hundredths), 2)), ..Default::default() },
                Method::Ratio {} | Method::TargetRatio { .. } | Method::Threshold { .. } =>
                    Inputs { numerator: Some(n.into()), denominator: Some((n + extra).max(1).into()), ..Default::default() },
                Method::Boolean {} => Inputs { done: Some(done), ..Default::default() },
                Method::RelativeToBest {} => Inputs { value: Some(value.into()), ..Default::default() },
                _ => Inputs { count: Some(c), ..Default::default() },
            };
            let method = match method {
                // Step scores above the criterion's max are refused by validation; clamp here.
                Method::StepTable { steps } => Method::StepTable {
                    steps: steps.into_iter().map(|s| Step { score: s.score.min(max), ..s }).collect(),
                },
                other => other,
            };
            match score_leaf(&method, max, &inputs, best.map(Decimal::from)) {
                Ok(LeafScore::Scored(s)) => {
                    prop_assert!(s >= Decimal::ZERO, "{s} < 0");
                    prop_assert!(s <= max, "{s} > {max}");
                    prop_assert_eq!(s.scale(), 2);
                }
                Ok(LeafScore::NotApplicable) => prop_assert!(false, "not applicable without asking"),
                Err(e) => prop_assert!(false, "valid inputs refused: {e:?}"),
            }
        }
    }
}
