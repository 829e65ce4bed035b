//! A governor clock on tokio's time, so rate limits follow a paused test clock.

use std::ops::Add;

use governor::{
    clock::{Clock, Reference},
    nanos::Nanos,
};

/// An instant of tokio's clock, usable by governor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokioInstant(pub tokio::time::Instant);

impl Add<Nanos> for TokioInstant {
    type Output = TokioInstant;
    fn add(self, rhs: Nanos) -> TokioInstant {
        TokioInstant(self.0 + std::time::Duration::from(rhs))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        Nanos::from(self.0.saturating_duration_since(earlier.0))
    }

    fn saturating_sub(&self, duration: Nanos) -> Self {
        TokioInstant(
            self.0
                .checked_sub(std::time::Duration::from(duration))
                .unwrap_or(self.0),
        )
    }
}

/// governor's view of `tokio::time::Instant::now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = TokioInstant;
    fn now(&self) -> TokioInstant {
        TokioInstant(tokio::time::Instant::now())
    }
}
