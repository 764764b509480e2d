//! Any method, maximum and raw inputs (and a district best): scoring either refuses the
//! inputs or gives a score within 0..=max with at most 2 decimals, never panics; and any
//! leaf scores sum to totals within 0..=100 under both not-applicable policies.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use parindex_domain::scoring::framework::{CriteriaTree, CriterionDef, Scorer};
use parindex_domain::scoring::method::{LeafScore, Method, Step, score_leaf};
use parindex_domain::scoring::{Inputs, NotApplicablePolicy, totals};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// A decimal from any mantissa and a scale of 0 to 28.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Dec(i64, u8);

impl Dec {
    fn get(self) -> Decimal {
        Decimal::try_new(self.0, u32::from(self.1 % 29)).unwrap_or_default()
    }
}

#[derive(Arbitrary, Debug)]
enum FuzzMethod {
    Manual,
    Ratio,
    TargetRatio(Dec),
    Threshold(Dec),
    PerItem(Dec),
    PenaltyPerItem(Dec),
    Boolean,
    StepTable(Vec<(u32, Dec)>),
    RelativeToBest,
}

impl FuzzMethod {
    fn get(&self) -> Method {
        match self {
            FuzzMethod::Manual => Method::Manual {},
            FuzzMethod::Ratio => Method::Ratio {},
            FuzzMethod::TargetRatio(t) => Method::TargetRatio { target: t.get() },
            FuzzMethod::Threshold(t) => Method::Threshold { threshold: t.get() },
            FuzzMethod::PerItem(p) => Method::PerItem { points: p.get() },
            FuzzMethod::PenaltyPerItem(p) => Method::PenaltyPerItem { points: p.get() },
            FuzzMethod::Boolean => Method::Boolean {},
            FuzzMethod::StepTable(steps) => Method::StepTable {
                steps: steps
                    .iter()
                    .take(8)
                    .map(|(min_count, score)| Step {
                        min_count: *min_count,
                        score: score.get(),
                    })
                    .collect(),
            },
            FuzzMethod::RelativeToBest => Method::RelativeToBest {},
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Case {
    method: FuzzMethod,
    max: Dec,
    score: Option<Dec>,
    numerator: Option<Dec>,
    denominator: Option<Dec>,
    count: Option<u32>,
    done: Option<bool>,
    value: Option<Dec>,
    not_applicable: bool,
    best: Option<Dec>,
    /// Scores of the three leaves of a small tree, for totals (None: not applicable).
    leaves: [Option<Dec>; 3],
    rescale: bool,
}

fuzz_target!(|case: Case| {
    let method = case.method.get();
    let max = case.max.get();
    let inputs = Inputs {
        score: case.score.map(Dec::get),
        numerator: case.numerator.map(Dec::get),
        denominator: case.denominator.map(Dec::get),
        count: case.count,
        done: case.done,
        value: case.value.map(Dec::get),
        not_applicable: case.not_applicable,
    };
    // Frameworks are validated before anything is scored on them: fuzz what can exist.
    if max > Decimal::ZERO
        && max <= Decimal::ONE_HUNDRED
        && max.normalize().scale() <= 2
        && method.check(max).is_empty()
    {
        if let Ok(LeafScore::Scored(s)) = score_leaf(&method, max, &inputs, case.best.map(Dec::get))
        {
            assert!(s >= Decimal::ZERO && s <= max, "{s} outside 0..={max}");
            assert!(s.scale() <= 2);
        }
    }
    let leaf = |code: &str, max: i64| CriterionDef {
        code: code.into(),
        title: code.into(),
        max_score: Decimal::from(max),
        method: Some(Method::Manual {}),
        scorer: Scorer::SelfAssessed,
        appraised_by_unit_id: None,
        indicator_code: None,
        indicator_feeds_self: false,
    };
    let tree = CriteriaTree::build(vec![
        CriterionDef {
            method: None,
            ..leaf("1", 60)
        },
        leaf("1.1", 20),
        leaf("1.2", 40),
        leaf("2", 40),
    ])
    .expect("a valid tree");
    let scores: HashMap<String, LeafScore> = ["1.1", "1.2", "2"]
        .iter()
        .zip(case.leaves)
        .map(|(code, s)| {
            let score = s.map_or(LeafScore::NotApplicable, |d| LeafScore::Scored(d.get()));
            (code.to_string(), score)
        })
        .collect();
    let policy = if case.rescale {
        NotApplicablePolicy::Rescale
    } else {
        NotApplicablePolicy::FullScore
    };
    let t = totals(&tree, &scores, policy).expect("clamped leaves cannot overflow");
    assert!(
        t.total >= Decimal::ZERO && t.total <= Decimal::ONE_HUNDRED,
        "{}",
        t.total
    );
});
