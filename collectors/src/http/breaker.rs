//! A circuit breaker per source: opens after `failure_threshold` consecutive failures, lets one
//! probe through after `cool_down`, closes again when the probe succeeds.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

/// Breaker settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failed attempts (5xx, timeouts, transport errors) that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before letting one probe through.
    pub cool_down_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            cool_down_ms: 30_000,
        }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// The value of the `breaker_state` gauge: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::Open => 1.0,
            BreakerState::HalfOpen => 2.0,
        }
    }
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// The breaker itself (not synchronised: the HTTP client wraps it in a mutex).
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    inner: Inner,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            inner: Inner::Closed { failures: 0 },
        }
    }

    pub fn state(&self) -> BreakerState {
        match self.inner {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// May a request go out now? `Err(wait)` when the breaker is open (or a probe is out).
    pub fn allow(&mut self, now: Instant) -> Result<(), Duration> {
        match self.inner {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if now >= until => {
                self.inner = Inner::HalfOpen { probing: true };
                Ok(())
            }
            Inner::Open { until } => Err(until - now),
            Inner::HalfOpen { probing: false } => {
                self.inner = Inner::HalfOpen { probing: true };
                Ok(())
            }
            Inner::HalfOpen { probing: true } => {
                Err(Duration::from_millis(self.config.cool_down_ms))
            }
        }
    }

    pub fn on_success(&mut self) {
        self.inner = Inner::Closed { failures: 0 };
    }

    /// A neutral outcome (e.g. a 4xx): frees a half-open probe slot without judging the upstream.
    pub fn on_neutral(&mut self) {
        if let Inner::HalfOpen { .. } = self.inner {
            self.inner = Inner::HalfOpen { probing: false };
        }
    }

    pub fn on_failure(&mut self, now: Instant) {
        let open = Inner::Open {
            until: now + Duration::from_millis(self.config.cool_down_ms),
        };
        self.inner = match self.inner {
            Inner::Closed { failures } if failures + 1 >= self.config.failure_threshold.max(1) => {
                open
            }
            Inner::Closed { failures } => Inner::Closed {
                failures: failures + 1,
            },
            Inner::HalfOpen { .. } => open,
            Inner::Open { until } => Inner::Open { until },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_half_opens_and_closes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(BreakerConfig {
            failure_threshold: 3,
            cool_down_ms: 1000,
        });
        for _ in 0..2 {
            b.allow(t0).unwrap();
            b.on_failure(t0);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.on_failure(t0);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.allow(t0), Err(Duration::from_millis(1000)));
        let later = t0 + Duration::from_millis(1000);
        assert!(b.allow(later).is_ok());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.allow(later).is_err(), "only one probe at a time");
        b.on_failure(later);
        assert_eq!(b.state(), BreakerState::Open);
        let later = later + Duration::from_millis(1000);
        assert!(b.allow(later).is_ok());
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn success_resets_the_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new(BreakerConfig {
            failure_threshold: 2,
            cool_down_ms: 10,
        });
        b.on_failure(t0);
        b.on_success();
        b.on_failure(t0);
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
