//! Ranking units by index: ties share a rank and the next rank skips (1, 2, 2, 4);
//! summary statistics of a set of indices. Pure: no I/O.

use super::decimal::round2;
use rust_decimal::Decimal;

/// Sorts `items` by index, highest first (stable: equal indices keep their given order),
/// and gives each its competition rank.
pub fn rank_by_index<T>(mut items: Vec<T>, index: impl Fn(&T) -> Decimal) -> Vec<(u32, T)> {
    items.sort_by_key(|item| std::cmp::Reverse(index(item)));
    let mut ranked = Vec::with_capacity(items.len());
    let mut previous: Option<(Decimal, u32)> = None;
    for (position, item) in items.into_iter().enumerate() {
        let value = index(&item);
        let rank = match previous {
            Some((prev_value, prev_rank)) if prev_value == value => prev_rank,
            _ => position as u32 + 1,
        };
        previous = Some((value, rank));
        ranked.push((rank, item));
    }
    ranked
}

/// Places gained since last year: previous rank − rank (8 → 11 is −3).
pub fn rank_change(previous: Option<u32>, current: Option<u32>) -> Option<i64> {
    Some(i64::from(previous?) - i64::from(current?))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub count: usize,
    pub mean: Decimal,
    pub median: Decimal,
    pub min: Decimal,
    pub max: Decimal,
}

/// Count, mean, median, min and max of `indices` (rounded to 2 places), or `None` if empty
/// (or, impossibly for indices of at most 100 + bonus, if their sum overflows).
pub fn summarize(indices: &[Decimal]) -> Option<Summary> {
    if indices.is_empty() {
        return None;
    }
    let mut sorted = indices.to_vec();
    sorted.sort();
    let n = sorted.len();
    let sum = super::decimal::checked_sum(sorted.iter().copied())?;
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        sorted[n / 2 - 1].checked_add(sorted[n / 2])? / Decimal::TWO
    };
    Some(Summary {
        count: n,
        mean: round2(sum / Decimal::from(n)),
        median: round2(median),
        min: round2(sorted[0]),
        max: round2(sorted[n - 1]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn ties_share_a_rank_and_the_next_skips() {
        let ranked = rank_by_index(
            vec![
                ("b", dec!(80)),
                ("a", dec!(90)),
                ("c", dec!(80)),
                ("d", dec!(70)),
            ],
            |x| x.1,
        );
        let view: Vec<(u32, &str)> = ranked.iter().map(|(r, x)| (*r, x.0)).collect();
        assert_eq!(view, [(1, "a"), (2, "b"), (2, "c"), (4, "d")]);
    }

    #[test]
    fn equal_values_with_different_scales_tie() {
        let ranked = rank_by_index(vec![dec!(88.25), dec!(88.250)], |x| *x);
        assert_eq!(ranked[1].0, 1);
    }

    #[test]
    fn seed_rank_change_8_to_11_is_minus_3() {
        assert_eq!(rank_change(Some(8), Some(11)), Some(-3));
        assert_eq!(rank_change(None, Some(11)), None);
    }

    #[test]
    fn summaries() {
        let s = summarize(&[dec!(88.25), dec!(90), dec!(70.5), dec!(81)]).unwrap();
        assert_eq!(s.count, 4);
        assert_eq!(s.mean.to_string(), "82.44");
        assert_eq!(s.median.to_string(), "84.63");
        assert_eq!(s.min.to_string(), "70.50");
        assert_eq!(s.max.to_string(), "90.00");
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[dec!(5)]).unwrap().median.to_string(), "5.00");
    }
}
