//! When to try again: the one backoff of everything the service sends after commit
//! (webhook deliveries, e-mails), and how a failed attempt is recorded.

use std::time::Duration;

/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(10 * 3600);

/// The delay before retry number `attempts` (1 after the first failure): `base × 4^(n−1)`,
/// at most 10 hours, ±20 % jitter so that a receiver coming back is not hit all at once.
pub fn backoff(base: Duration, attempts: u32, jitter: f64) -> Duration {
    let factor = 4u64.saturating_pow(attempts.saturating_sub(1).min(20));
    let ms = (base.as_millis() as u64).saturating_mul(factor);
    let capped = Duration::from_millis(ms).min(MAX_DELAY);
    capped.mul_f64(1.0 + jitter.clamp(-0.2, 0.2))
}

/// An error in a line, with its causes (a transport error and the refusal under it).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_within_bounds() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(base, 2, 0.0), Duration::from_secs(20));
        assert_eq!(backoff(base, 3, 0.0), Duration::from_secs(80));
        assert_eq!(backoff(base, 30, 0.0), MAX_DELAY);
        assert_eq!(backoff(base, 1, 0.2), Duration::from_secs(6));
        assert_eq!(
            backoff(base, 1, 5.0),
            Duration::from_secs(6),
            "jitter is clamped"
        );
        assert!(backoff(base, 1, -0.2) >= Duration::from_secs(4));
    }
}
