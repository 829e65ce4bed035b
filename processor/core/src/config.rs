//! Tunables of the core. Every field has a default that suits the embedded demo and production.

use serde::{Deserialize, Serialize};

/// Configuration of [`crate::Processor`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoreConfig {
    /// An unchanged price yields a heartbeat tick at most this often (seconds).
    pub heartbeat_secs: i64,
    /// Most price streams (series × source × kind) kept in memory; the least recently seen
    /// series go first, all their streams together.
    pub max_streams: usize,
    /// Most eBay items remembered for "seen again at the same price" dedup.
    pub max_listings: usize,
    /// eBay matches below this confidence (0–100) are rejected, never priced.
    pub min_confidence: u8,
    /// Observations later than `now` plus this many seconds are rejected.
    pub max_future_skew_secs: i64,
    /// Prices above this many US cents are rejected as implausible ($10M by default).
    pub max_price_usd_cents: i64,
    /// Longest percent-change window a rule may use, and how long price points are kept (s).
    pub max_window_secs: i64,
    /// Most price points kept per stream for percent-change windows.
    pub max_window_points: usize,
    /// Days of daily lows/highs kept per stream for new-low/new-high rules.
    pub max_history_days: u16,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            heartbeat_secs: 6 * 3600,
            max_streams: 1_000_000,
            max_listings: 1_000_000,
            min_confidence: 60,
            max_future_skew_secs: 300,
            max_price_usd_cents: 1_000_000_000,
            max_window_secs: 31 * 86_400,
            max_window_points: 256,
            max_history_days: 400,
        }
    }
}
