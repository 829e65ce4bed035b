//! The per-endpoint delivery cap: at most `per_minute` POSTs (first attempts and retries alike)
//! start towards one endpoint in any 60 s, on the dispatcher's clock (a sliding window of the
//! start instants). A delivery over the cap is not started and not recorded: it stays leased and
//! is due again when its lease ends (`claim_lease`), so it waits, and is never dropped.
//!
//! Memory: at most `per_minute` instants per endpoint that received a POST within the last
//! window; endpoints idle for a whole window are forgotten.

use std::collections::{HashMap, VecDeque};

use tcg_schemas::Timestamp;

/// The window the cap counts in.
pub(crate) const WINDOW_US: i64 = 60_000_000;

/// Start instants (µs) of recent POSTs, per endpoint.
#[derive(Debug)]
pub(crate) struct EndpointRate {
    per_window: usize,
    started: HashMap<String, VecDeque<i64>>,
    /// The number of endpoints after which the idle ones are forgotten next.
    prune_at: usize,
}

impl EndpointRate {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_window: usize::try_from(per_minute).unwrap_or(usize::MAX).max(1),
            started: HashMap::new(),
            prune_at: 64,
        }
    }

    /// Whether a POST to `endpoint` may start at `now`; if so, it is counted.
    pub(crate) fn try_start(&mut self, endpoint: &str, now: Timestamp) -> bool {
        let now = now.as_micros();
        let since = now.saturating_sub(WINDOW_US);
        if let Some(starts) = self.started.get_mut(endpoint) {
            while starts.front().is_some_and(|t| *t <= since) {
                starts.pop_front();
            }
            if starts.len() >= self.per_window {
                return false;
            }
            starts.push_back(now);
            return true;
        }
        if self.started.len() >= self.prune_at {
            self.started
                .retain(|_, s| s.back().is_some_and(|t| *t > since));
            self.prune_at = (self.started.len() * 2).max(64);
        }
        self.started
            .insert(endpoint.to_owned(), VecDeque::from([now]));
        true
    }

    /// Endpoints remembered (tests).
    #[cfg(test)]
    fn endpoints(&self) -> usize {
        self.started.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> Timestamp {
        #[allow(clippy::cast_possible_truncation)]
        Timestamp::from_micros((secs * 1e6) as i64)
    }

    #[test]
    fn at_most_n_per_endpoint_in_any_minute_and_endpoints_count_apart() {
        let mut rate = EndpointRate::new(3);
        let took: Vec<bool> = [0.0, 1.0, 2.0, 3.0, 59.9]
            .into_iter()
            .map(|t| rate.try_start("a", at(t)))
            .collect();
        assert_eq!(took, [true, true, true, false, false]);
        // Another endpoint has its own allowance.
        assert!(rate.try_start("b", at(3.0)));
        // The first start leaves the window exactly 60 s later; one more may start.
        assert!(rate.try_start("a", at(60.0)));
        assert!(!rate.try_start("a", at(60.5)));
        assert!(rate.try_start("a", at(61.0)));
        assert!(rate.try_start("a", at(62.0)));
        assert!(!rate.try_start("a", at(62.0)));
    }

    #[test]
    fn endpoints_idle_for_a_window_are_forgotten() {
        let mut rate = EndpointRate::new(30);
        for i in 0..64 {
            assert!(rate.try_start(&format!("old{i}"), at(0.0)));
        }
        assert_eq!(rate.endpoints(), 64);
        // A minute later the 64 idle endpoints go when a new one arrives.
        assert!(rate.try_start("new", at(60.0)));
        assert_eq!(rate.endpoints(), 1);
    }
}
