//! A daily request budget: `limit` units per rolling window (a day by default), measured on
//! tokio's clock so tests can run days in milliseconds with a paused clock.

use std::time::Duration;

use tokio::time::Instant;

/// Counts spent units inside the current window.
#[derive(Debug, Clone)]
pub struct DailyBudget {
    limit: u32,
    window: Duration,
    window_start: Instant,
    used: u32,
}

impl DailyBudget {
    pub fn new(limit: u32, window: Duration) -> Self {
        DailyBudget {
            limit,
            window,
            window_start: Instant::now(),
            used: 0,
        }
    }

    /// A budget of `limit` a day.
    pub fn per_day(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(86_400))
    }

    fn roll(&mut self, now: Instant) {
        if self.window.is_zero() {
            return;
        }
        while now.duration_since(self.window_start) >= self.window {
            self.window_start += self.window;
            self.used = 0;
        }
    }

    /// Spends one unit, or says how long until the window refills.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.roll(now);
        if self.used < self.limit {
            self.used += 1;
            Ok(())
        } else {
            Err(self.refill_in(now))
        }
    }

    /// Time left until the current window ends.
    pub fn refill_in(&self, now: Instant) -> Duration {
        (self.window_start + self.window).saturating_duration_since(now)
    }

    /// Units left in the current window.
    pub fn remaining(&mut self, now: Instant) -> u32 {
        self.roll(now);
        self.limit.saturating_sub(self.used)
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// The even spacing that spreads the budget over the window.
    pub fn pacing(&self) -> Duration {
        if self.limit == 0 {
            self.window
        } else {
            self.window / self.limit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn refills_each_window() {
        let mut b = DailyBudget::new(3, Duration::from_secs(100));
        let t = Instant::now();
        for _ in 0..3 {
            b.try_take(t).unwrap();
        }
        assert_eq!(b.try_take(t), Err(Duration::from_secs(100)));
        assert_eq!(b.remaining(t), 0);
        tokio::time::advance(Duration::from_secs(100)).await;
        assert_eq!(b.remaining(Instant::now()), 3);
        assert_eq!(
            b.pacing(),
            Duration::from_millis(33_333) + Duration::from_nanos(333_333)
        );
    }
}

/// A daily budget shared by a client's requests (behind a lock), counted in
/// `tcg_collector_budget_remaining{source}`.
#[derive(Debug)]
pub struct SharedBudget {
    source: &'static str,
    budget: std::sync::Mutex<DailyBudget>,
}

impl SharedBudget {
    /// `limit` requests a day for `source`.
    pub fn per_day(source: &'static str, limit: u32) -> Self {
        crate::telemetry::budget_remaining(source, limit);
        SharedBudget {
            source,
            budget: std::sync::Mutex::new(DailyBudget::per_day(limit)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DailyBudget> {
        // A panic while holding the lock leaves a budget that is still whole.
        self.budget
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Requests left today.
    pub fn remaining(&self) -> u32 {
        self.lock().remaining(Instant::now())
    }

    /// Takes one request, or says when the budget refills.
    pub fn spend(&self) -> Result<(), crate::CollectorError> {
        let mut budget = self.lock();
        let now = Instant::now();
        let taken = budget.try_take(now);
        crate::telemetry::budget_remaining(self.source, budget.remaining(now));
        taken.map_err(|wait| crate::CollectorError::BudgetExhausted {
            source_name: self.source,
            limit: budget.limit(),
            retry_in_secs: wait.as_secs().max(1),
        })
    }
}
