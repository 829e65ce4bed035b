//! The retry schedule: the delay before each attempt, counted from the previous failure.

use std::time::Duration;

/// Delays before attempts 1, 2, 3, …; after the last one fails, the delivery is given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts over about 27.6 h).
    fn default() -> Self {
        let m = 60;
        let h = 3600;
        Self::new(
            [0, 5, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 10 * h]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// Attempts in all.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX)
    }

    /// After attempt `made` (1-based) failed: the delay before the next, or `None` to give up.
    pub fn next_delay(&self, made: u32) -> Option<Duration> {
        self.delays
            .get(usize::try_from(made).unwrap_or(usize::MAX))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_has_eight_attempts() {
        let s = RetrySchedule::default();
        assert_eq!(s.max_attempts(), 8);
        assert_eq!(s.next_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(s.next_delay(2), Some(Duration::from_secs(300)));
        assert_eq!(s.next_delay(7), Some(Duration::from_secs(36_000)));
        assert_eq!(s.next_delay(8), None);
        let total: Duration = s.delays().iter().sum();
        assert_eq!(total.as_secs(), 5 + 300 + 1800 + 7200 + 18_000 + 72_000);
    }
}
