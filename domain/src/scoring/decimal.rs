//! Exact two-place scores: rounding half away from zero, and the integer-hundredths form
//! scores take in the database.

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to 2 places, half away from zero (0.125 → 0.13, −0.125 → −0.13), always
/// returning scale 2 so that scores print as `1.00`, never `1`.
pub fn round2(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// `Decimal` with scale 2 from hundredths: 8725 → 87.25.
pub fn from_hundredths(hundredths: i64) -> Decimal {
    Decimal::new(hundredths, 2)
}

/// Hundredths of a value that has at most 2 decimal places: 87.25 → 8725. Values with
/// more places are rounded first (callers validate places before storing inputs).
pub fn to_hundredths(value: Decimal) -> i64 {
    let rounded = round2(value);
    // A 2-place decimal within ±92 233 720 368 547 758.07 fits an i64 of hundredths.
    i64::try_from(rounded.mantissa()).unwrap_or(if rounded.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The sum of `values`, or `None` if it overflows (a `Decimal` holds ±7.9 × 10^28): every
/// sum of scores goes through here, so no sum can panic.
pub fn checked_sum(values: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, v| acc.checked_add(v))
}

/// True when `value` needs more than `places` decimal places (trailing zeros ignored).
pub fn has_more_places_than(value: Decimal, places: u32) -> bool {
    value.normalize().scale() > places
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round2(dec!(0.125)).to_string(), "0.13");
        assert_eq!(round2(dec!(0.135)).to_string(), "0.14");
        assert_eq!(round2(dec!(-0.125)).to_string(), "-0.13");
        assert_eq!(round2(dec!(0.124999)).to_string(), "0.12");
        assert_eq!(round2(dec!(1)).to_string(), "1.00");
    }

    #[test]
    fn hundredths_round_trip() {
        assert_eq!(to_hundredths(dec!(87.25)), 8725);
        assert_eq!(from_hundredths(8725).to_string(), "87.25");
        assert_eq!(from_hundredths(100).to_string(), "1.00");
        assert_eq!(to_hundredths(dec!(-12.75)), -1275);
    }

    #[test]
    fn sums_that_overflow_are_none_not_a_panic() {
        assert_eq!(checked_sum([dec!(1.25), dec!(2)]), Some(dec!(3.25)));
        assert_eq!(checked_sum([Decimal::MAX, Decimal::ONE]), None);
        assert_eq!(checked_sum([]), Some(Decimal::ZERO));
    }

    #[test]
    fn counts_places_ignoring_trailing_zeros() {
        assert!(!has_more_places_than(dec!(0.50), 2));
        assert!(!has_more_places_than(dec!(0.500), 2));
        assert!(has_more_places_than(dec!(0.125), 2));
        assert!(!has_more_places_than(dec!(12), 0));
    }
}
