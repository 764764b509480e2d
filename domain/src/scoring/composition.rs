//! The index's composition (issue 34): a framework may declare components, each summing
//! some of its top-level fields (e.g. `appraisal` = fields 1–7 worth 70 points, `survey` =
//! field 8 worth 30), and what happens when a unit has no data for one of them: none of
//! its leaves has a figure the council counts (no survey was held there).
//!
//! - `rescale`: the components with data are scaled up to the framework's total
//!   (60.25 of 70 → 60.25 × 100 / 70 = 86.07);
//! - `zero`: the missing component counts 0 (what a framework without components does);
//! - `unranked`: as `zero`, and the unit is left out of rankings.
//!
//! The leaves of a missing component need no score to finalize. Everything is exact
//! (`rust_decimal`), rounded once to 2 places like every total.

use super::decimal::{checked_sum, round2};
use super::framework::{CriteriaTree, DefinitionError, TOTAL_MAX};
use super::method::LeafScore;
use super::totals::{NotApplicablePolicy, ScoreOverflow, totals};
use crate::text;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// The most components a framework may declare.
pub const MAX_COMPONENTS: usize = 10;

/// What a unit's missing component does to its index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissingComponent {
    /// The components with data are scaled up to the framework's total.
    Rescale,
    /// The missing component counts 0.
    #[default]
    Zero,
    /// Counts 0 and the unit is not ranked.
    Unranked,
}

impl MissingComponent {
    pub fn as_str(self) -> &'static str {
        match self {
            MissingComponent::Rescale => "rescale",
            MissingComponent::Zero => "zero",
            MissingComponent::Unranked => "unranked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Rescale, Self::Zero, Self::Unranked]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// One component of the index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Short code, lower case letters, digits and `_` (e.g. `appraisal`, `survey`).
    #[schema(example = "survey")]
    pub code: String,
    /// Its Vietnamese name, as papers print it.
    #[schema(example = "Điều tra xã hội học")]
    pub name: String,
    /// The top-level fields it sums (e.g. `["8"]`).
    #[schema(example = json!(["8"]))]
    pub fields: Vec<String>,
}

/// A framework's composition: none (no components) keeps the index as the criteria's sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Composition {
    pub components: Vec<Component>,
    pub missing: MissingComponent,
}

/// One component of a unit's index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentFigure {
    pub code: String,
    pub name: String,
    /// The points its fields scored (0 when it has no data).
    pub points: Decimal,
    /// What its fields are worth.
    pub max: Decimal,
    /// Whether any of its leaves has a figure the council counts.
    pub has_data: bool,
    /// Scaled up because another component had no data (`rescale`).
    pub rescaled: bool,
    /// The points it counts for in the total: `points`, scaled when rescaled, 0 when
    /// missing.
    pub counted: Decimal,
}

/// A unit's composed total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub components: Vec<ComponentFigure>,
    /// What the index is built on (before bonus and penalties), to 2 places.
    pub total: Decimal,
    /// A component had no data and the framework leaves such units unranked.
    pub unranked: bool,
    /// The leaves of the components without data: they need no score.
    pub excused: HashSet<String>,
}

/// Whether leaf `code` lies under top-level field `field`.
fn under(code: &str, field: &str) -> bool {
    code == field
        || code
            .strip_prefix(field)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Checks a composition against its tree: codes unique and well formed, names given, and
/// the components' fields the tree's top-level fields, each in exactly one component.
pub fn check(tree: &CriteriaTree, composition: &Composition) -> Vec<DefinitionError> {
    let mut errors = Vec::new();
    if composition.components.is_empty() {
        return errors;
    }
    let error = |field: String, code: &'static str, message| DefinitionError {
        field,
        code,
        message,
        index: None,
    };
    if composition.components.len() > MAX_COMPONENTS {
        errors.push(error(
            "components".into(),
            "too_many",
            text!(
                "at most {MAX_COMPONENTS} components",
                "tối đa {MAX_COMPONENTS} thành phần"
            ),
        ));
        return errors;
    }
    let top: HashSet<&str> = tree.fields().map(|f| f.code.as_str()).collect();
    let mut codes = HashSet::new();
    let mut claimed: HashMap<&str, usize> = HashMap::new();
    for (i, c) in composition.components.iter().enumerate() {
        let at = |name: &str| format!("components[{i}].{name}");
        let well_formed = (1..=32).contains(&c.code.len())
            && c.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !well_formed {
            errors.push(error(
                at("code"),
                "invalid",
                text!(
                    "1 to 32 lower-case letters, digits or _",
                    "từ 1 đến 32 ký tự chữ thường, chữ số hoặc _"
                ),
            ));
        } else if !codes.insert(c.code.as_str()) {
            errors.push(error(
                at("code"),
                "duplicate",
                text!("{} is declared twice", "{} được khai báo hai lần", c.code),
            ));
        }
        if c.name.trim().is_empty() || c.name.chars().count() > 200 {
            errors.push(error(
                at("name"),
                "invalid",
                text!("1 to 200 characters", "từ 1 đến 200 ký tự"),
            ));
        }
        if c.fields.is_empty() {
            errors.push(error(
                at("fields"),
                "required",
                text!(
                    "name the top-level fields it sums",
                    "cần nêu các lĩnh vực (cấp 1) được cộng vào"
                ),
            ));
        }
        for f in &c.fields {
            if !top.contains(f.as_str()) {
                errors.push(error(
                    at("fields"),
                    "not_a_field",
                    text!(
                        "{f} is not a top-level field of this framework",
                        "{f} không phải lĩnh vực (cấp 1) của bộ tiêu chí này"
                    ),
                ));
            } else if let Some(other) = claimed.insert(f.as_str(), i) {
                errors.push(error(
                    at("fields"),
                    "duplicate",
                    text!(
                        "{f} is already in components[{other}]",
                        "{f} đã thuộc components[{other}]"
                    ),
                ));
            }
        }
    }
    let mut left: Vec<&str> = top
        .iter()
        .filter(|f| !claimed.contains_key(**f))
        .copied()
        .collect();
    left.sort_by(|a, b| super::framework::compare_codes(a, b));
    if !left.is_empty() && errors.is_empty() {
        let left = left.join(", ");
        errors.push(error(
            "components".into(),
            "incomplete",
            text!(
                "every top-level field belongs to a component; not yet: {left}",
                "mọi lĩnh vực (cấp 1) phải thuộc một thành phần; còn thiếu: {left}"
            ),
        ));
    }
    errors
}

/// A unit's composed total from its effective leaf scores; `has_figure` says which leaves
/// carry a figure the council counts (its own, or the unit's it let stand). `None` when the framework declares no components (the index is
/// then built on the criteria's total).
pub fn compose(
    tree: &CriteriaTree,
    policy: NotApplicablePolicy,
    scores: &HashMap<String, LeafScore>,
    has_figure: impl Fn(&str) -> bool,
    composition: &Composition,
) -> Result<Option<Composed>, ScoreOverflow> {
    if composition.components.is_empty() {
        return Ok(None);
    }
    let leaves_of = |c: &super::composition::Component| -> Vec<String> {
        tree.leaves()
            .filter(|l| c.fields.iter().any(|f| under(&l.code, f)))
            .map(|l| l.code.clone())
            .collect()
    };
    let mut excused = HashSet::new();
    let mut has_data = Vec::with_capacity(composition.components.len());
    for c in &composition.components {
        let leaves = leaves_of(c);
        let data = leaves.iter().any(|l| has_figure(l));
        if !data {
            excused.extend(leaves);
        }
        has_data.push(data);
    }
    // A missing component's leaves count for nothing, whatever the unit's side says.
    let counted: HashMap<String, LeafScore> = scores
        .iter()
        .filter(|(code, _)| !excused.contains(*code))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let t = totals(tree, &counted, policy)?;
    let field_sum = |c: &Component, of: fn(&super::totals::NodeTotal) -> Decimal| {
        checked_sum(c.fields.iter().filter_map(|f| t.by_code.get(f)).map(of)).ok_or(ScoreOverflow)
    };
    let rescale = composition.missing == MissingComponent::Rescale && !excused.is_empty();
    // Under `rescale`: what the components with data score and are worth (their
    // applicable part, as the not-applicable rescaling counts it).
    let (present_points, present_max) = {
        let mut points = Vec::new();
        let mut max = Vec::new();
        for (c, data) in composition.components.iter().zip(&has_data) {
            if *data {
                points.push(field_sum(c, |n| n.score)?);
                max.push(field_sum(c, |n| n.applicable_max)?);
            }
        }
        (
            checked_sum(points).ok_or(ScoreOverflow)?,
            checked_sum(max).ok_or(ScoreOverflow)?,
        )
    };
    let scale = |points: Decimal| -> Result<Decimal, ScoreOverflow> {
        if present_max.is_zero() {
            return Ok(Decimal::ZERO);
        }
        Ok(round2(
            points
                .checked_mul(TOTAL_MAX)
                .and_then(|x| x.checked_div(present_max))
                .ok_or(ScoreOverflow)?,
        ))
    };
    let mut figures = Vec::with_capacity(composition.components.len());
    for (c, data) in composition.components.iter().zip(&has_data) {
        let points = round2(field_sum(c, |n| n.score)?);
        let counted = match (*data, rescale) {
            (false, _) => round2(Decimal::ZERO),
            (true, true) => scale(points)?,
            (true, false) => points,
        };
        figures.push(ComponentFigure {
            code: c.code.clone(),
            name: c.name.clone(),
            points,
            max: round2(field_sum(c, |n| n.max)?),
            has_data: *data,
            rescaled: *data && rescale,
            counted,
        });
    }
    let total = if rescale {
        if present_max.is_zero() {
            round2(TOTAL_MAX)
        } else {
            scale(present_points)?
        }
    } else {
        t.total
    };
    Ok(Some(Composed {
        components: figures,
        total,
        unranked: composition.missing == MissingComponent::Unranked && !excused.is_empty(),
        excused,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::framework::{CriterionDef, Scorer};
    use crate::scoring::method::Method;
    use rust_decimal_macros::dec;

    fn leaf(code: &str, max: Decimal) -> CriterionDef {
        CriterionDef {
            code: code.into(),
            title: code.into(),
            max_score: max,
            method: Some(Method::Manual {}),
            scorer: Scorer::SelfAssessed,
            appraised_by_unit_id: None,
            indicator_code: None,
            indicator_feeds_self: false,
        }
    }

    /// Fields 1 (40) and 2 (30) are the appraisal, 3 (30) the survey.
    fn tree() -> CriteriaTree {
        CriteriaTree::build(vec![
            leaf("1", dec!(40)),
            leaf("2", dec!(30)),
            leaf("3", dec!(30)),
        ])
        .unwrap()
    }

    fn composition(missing: MissingComponent) -> Composition {
        let c = |code: &str, fields: &[&str]| Component {
            code: code.into(),
            name: code.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        };
        Composition {
            components: vec![c("appraisal", &["1", "2"]), c("survey", &["3"])],
            missing,
        }
    }

    fn scores(pairs: &[(&str, Decimal)]) -> HashMap<String, LeafScore> {
        pairs
            .iter()
            .map(|(c, s)| (c.to_string(), LeafScore::Scored(*s)))
            .collect()
    }

    #[test]
    fn a_unit_without_a_survey_is_rescaled_to_the_total() {
        // 35.5 + 24.75 = 60.25 of 70; × 100 / 70 = 86.0714… → 86.07.
        let s = scores(&[("1", dec!(35.5)), ("2", dec!(24.75))]);
        let c = compose(
            &tree(),
            NotApplicablePolicy::FullScore,
            &s,
            |code| code != "3",
            &composition(MissingComponent::Rescale),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.total.to_string(), "86.07");
        assert!(!c.unranked);
        assert_eq!(c.components[0].points.to_string(), "60.25");
        assert_eq!(c.components[0].max.to_string(), "70.00");
        assert_eq!(c.components[0].counted.to_string(), "86.07");
        assert!(c.components[0].rescaled);
        assert!(!c.components[1].has_data);
        assert_eq!(c.components[1].counted.to_string(), "0.00");
        assert!(c.excused.contains("3"));
    }

    #[test]
    fn zero_and_unranked_count_the_missing_component_as_nothing() {
        // The unit's own figure for the survey leaf does not count: no council figure.
        let s = scores(&[("1", dec!(35.5)), ("2", dec!(24.75)), ("3", dec!(30))]);
        for missing in [MissingComponent::Zero, MissingComponent::Unranked] {
            let c = compose(
                &tree(),
                NotApplicablePolicy::FullScore,
                &s,
                |code| code != "3",
                &composition(missing),
            )
            .unwrap()
            .unwrap();
            assert_eq!(c.total.to_string(), "60.25");
            assert_eq!(c.unranked, missing == MissingComponent::Unranked);
        }
    }

    #[test]
    fn with_every_component_present_the_total_is_the_criteria_sum() {
        let s = scores(&[("1", dec!(35.5)), ("2", dec!(24.75)), ("3", dec!(27.3))]);
        let c = compose(
            &tree(),
            NotApplicablePolicy::FullScore,
            &s,
            |_| true,
            &composition(MissingComponent::Rescale),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.total.to_string(), "87.55");
        assert!(c.components.iter().all(|f| !f.rescaled && f.has_data));
        assert_eq!(c.components[1].counted.to_string(), "27.30");
        // No components: nothing composed.
        assert!(
            compose(
                &tree(),
                NotApplicablePolicy::FullScore,
                &s,
                |_| true,
                &Composition::default()
            )
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn a_composition_must_cover_each_field_once() {
        assert!(check(&tree(), &composition(MissingComponent::Zero)).is_empty());
        let mut bad = composition(MissingComponent::Zero);
        bad.components[1].fields = vec!["2".into(), "9".into()];
        let codes: Vec<&str> = check(&tree(), &bad).iter().map(|e| e.code).collect();
        assert_eq!(codes, ["duplicate", "not_a_field"]);
        let mut short = composition(MissingComponent::Zero);
        short.components.pop();
        let errors = check(&tree(), &short);
        assert_eq!(errors[0].code, "incomplete");
        let mut named = composition(MissingComponent::Zero);
        named.components[1].code = "Survey!".into();
        named.components[0].name = " ".into();
        assert_eq!(check(&tree(), &named).len(), 2);
    }
}
