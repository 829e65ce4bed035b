//! Pure retry arithmetic: jittered exponential backoff and `Retry-After` parsing.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The delay before retry number `attempt` (0-based): "full jitter" over an exponentially
/// growing cap, `jitter` being a uniform draw in `[0, 1)`. Never less than half the cap, so a
/// retry never follows immediately.
pub fn backoff_delay(attempt: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let factor = 2u32.saturating_pow(attempt.min(20));
    let cap = base.saturating_mul(factor).min(max);
    let jitter = jitter.clamp(0.0, 1.0);
    cap.mul_f64(0.5 + 0.5 * jitter)
}

/// Parses a `Retry-After` value: delay seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to `now`. Dates in the past give zero.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        assert_eq!(backoff_delay(0, base, max, 1.0), Duration::from_millis(100));
        assert_eq!(backoff_delay(0, base, max, 0.0), Duration::from_millis(50));
        assert_eq!(backoff_delay(3, base, max, 1.0), Duration::from_millis(800));
        assert_eq!(backoff_delay(30, base, max, 1.0), max);
        for a in 0..10 {
            let d = backoff_delay(a, base, max, 0.37);
            assert!(d <= max && d >= Duration::from_millis(50));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
