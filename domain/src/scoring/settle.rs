//! A finalized appraisal's figures, computed once from its leaf scores: the self and
//! appraised totals, each leaf's final score and deduction, the deduction total, the
//! index (appraised total + bonus) and its rating band. The appraisal service stores what
//! this returns at finalization; the data generator fills its tables with the same.

use super::composition::Composed;
use super::decimal::{checked_sum, round2};
use super::framework::CriteriaTree;
use super::method::LeafScore;
use super::totals::{NotApplicablePolicy, RatingBand, ScoreOverflow, Totals, band_for, totals};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// One leaf, settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettledLeaf {
    /// What the leaf counts for: its score, or for a not-applicable leaf its max
    /// (`full_score`) or nothing (`rescale`).
    pub final_score: Decimal,
    /// Points lost: max − final score over the applicable part.
    pub deduction: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub self_totals: Totals,
    pub totals: Totals,
    pub self_total: Decimal,
    pub appraised_total: Decimal,
    pub bonus: Decimal,
    /// Penalty points (điểm trừ), subtracted after the bonus.
    pub penalty: Decimal,
    /// Appraised total + bonus − penalty, to 2 places, never below zero.
    pub index: Decimal,
    pub band: Option<String>,
    pub deduction_total: Decimal,
    /// Every leaf of the framework, by code.
    pub leaves: BTreeMap<String, SettledLeaf>,
}

/// The index: the appraised total plus the bonus minus the penalty points, to 2 places;
/// penalties never take it below zero.
pub fn index_of(
    appraised_total: Decimal,
    bonus: Decimal,
    penalty: Decimal,
) -> Result<Decimal, ScoreOverflow> {
    let gross = appraised_total.checked_add(bonus).ok_or(ScoreOverflow)?;
    let net = gross.checked_sub(penalty).ok_or(ScoreOverflow)?;
    Ok(round2(net.max(Decimal::ZERO)))
}

/// Settles an appraisal from the unit's and the council's (effective) leaf scores.
// Every argument is one of the appraisal's figures, named at the one call site.
#[allow(clippy::too_many_arguments)]
pub fn settle(
    tree: &CriteriaTree,
    policy: NotApplicablePolicy,
    bands: &[RatingBand],
    self_scores: &HashMap<String, LeafScore>,
    council_scores: &HashMap<String, LeafScore>,
    bonus: Decimal,
    penalty: Decimal,
    composed: Option<&Composed>,
) -> Result<Settlement, ScoreOverflow> {
    let self_totals = totals(tree, self_scores, policy)?;
    let council = totals(tree, council_scores, policy)?;
    let leaves: BTreeMap<String, SettledLeaf> = tree
        .leaves()
        .filter_map(|c| {
            let node = council.by_code.get(&c.code)?;
            Some((
                c.code.clone(),
                SettledLeaf {
                    final_score: node.score,
                    deduction: node.deduction(),
                },
            ))
        })
        .collect();
    let deduction_total = checked_sum(leaves.values().map(|l| l.deduction)).ok_or(ScoreOverflow)?;
    // A framework with components builds the index on their composed total.
    let base = composed.map_or(council.total, |c| c.total);
    let index = index_of(base, bonus, penalty)?;
    Ok(Settlement {
        self_total: self_totals.total,
        appraised_total: council.total,
        bonus,
        penalty,
        index,
        band: band_for(bands, index).map(str::to_string),
        deduction_total,
        leaves,
        self_totals,
        totals: council,
    })
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

    #[test]
    fn the_seed_commune_settles_to_its_letter() {
        // 87.25 appraised of 100, bonus 1: index 88.25, 12.75 lost.
        let tree = CriteriaTree::build(vec![leaf("1", dec!(60)), leaf("2", dec!(40))]).unwrap();
        let scores = |a, b| -> HashMap<String, LeafScore> {
            [
                ("1".to_string(), LeafScore::Scored(a)),
                ("2".to_string(), LeafScore::Scored(b)),
            ]
            .into_iter()
            .collect()
        };
        let bands = vec![
            RatingBand {
                label: "A".into(),
                min_index: dec!(90),
            },
            RatingBand {
                label: "B".into(),
                min_index: dec!(80),
            },
        ];
        let s = settle(
            &tree,
            NotApplicablePolicy::FullScore,
            &bands,
            &scores(dec!(60), dec!(30.88)),
            &scores(dec!(50.25), dec!(37)),
            dec!(1),
            dec!(0),
            None,
        )
        .unwrap();
        assert_eq!(s.self_total.to_string(), "90.88");
        assert_eq!(s.appraised_total.to_string(), "87.25");
        assert_eq!(s.index.to_string(), "88.25");
        assert_eq!(s.deduction_total, dec!(12.75));
        assert_eq!(s.band.as_deref(), Some("B"));
        assert_eq!(s.leaves["1"].deduction, dec!(9.75));
        // Penalty points come off after the bonus, and can move the band.
        let penalised = settle(
            &tree,
            NotApplicablePolicy::FullScore,
            &bands,
            &scores(dec!(60), dec!(30.88)),
            &scores(dec!(50.25), dec!(37)),
            dec!(1),
            dec!(8.5),
            None,
        )
        .unwrap();
        assert_eq!(penalised.index.to_string(), "79.75");
        assert_eq!(penalised.appraised_total, s.appraised_total);
        assert_eq!(penalised.band, None);
    }

    #[test]
    fn penalties_never_take_the_index_below_zero() {
        assert_eq!(index_of(dec!(5), dec!(1), dec!(10)).unwrap(), dec!(0));
        assert_eq!(
            index_of(dec!(87.25), dec!(1), dec!(0.5))
                .unwrap()
                .to_string(),
            "87.75"
        );
        assert!(index_of(Decimal::MAX, dec!(1), dec!(0)).is_err());
    }

    #[test]
    fn a_not_applicable_leaf_counts_its_max_or_nothing() {
        let tree = CriteriaTree::build(vec![leaf("1", dec!(60)), leaf("2", dec!(40))]).unwrap();
        let scores: HashMap<String, LeafScore> = [
            ("1".to_string(), LeafScore::NotApplicable),
            ("2".to_string(), LeafScore::Scored(dec!(30))),
        ]
        .into_iter()
        .collect();
        let full = settle(
            &tree,
            NotApplicablePolicy::FullScore,
            &[],
            &scores,
            &scores,
            dec!(0),
            dec!(0),
            None,
        )
        .unwrap();
        assert_eq!(full.leaves["1"].final_score, dec!(60));
        assert_eq!(full.appraised_total.to_string(), "90.00");
        let rescaled = settle(
            &tree,
            NotApplicablePolicy::Rescale,
            &[],
            &scores,
            &scores,
            dec!(0),
            dec!(0),
            None,
        )
        .unwrap();
        assert_eq!(rescaled.leaves["1"].final_score, dec!(0));
        assert_eq!(rescaled.leaves["1"].deduction, dec!(0));
        assert_eq!(rescaled.appraised_total.to_string(), "75.00");
    }
}
