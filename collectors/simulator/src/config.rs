//! The simulator's settings and the faults it injects.

use serde::{Deserialize, Serialize};

/// Faults the simulator injects. Rates are probabilities per request (data endpoints, not
/// token endpoints); `first_*` make the first N data requests fail in a known way.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// 429 Too Many Requests with `Retry-After: retry_after_secs`.
    pub rate_429: f64,
    /// 500 Internal Server Error.
    pub rate_500: f64,
    /// Hang for `hang_ms` before answering (so clients time out).
    pub rate_hang: f64,
    /// Truncated JSON (or XML) with status 200.
    pub rate_malformed: f64,
    /// 401 as if the token had expired early.
    pub rate_expired_token: f64,
    pub retry_after_secs: u64,
    pub hang_ms: u64,
    /// The first N data requests answer 429 (with Retry-After).
    pub first_429: u64,
    /// The next N answer 503 (with Retry-After), then N more 500.
    pub first_503: u64,
    pub first_500: u64,
    /// The next N answer truncated JSON.
    pub first_malformed: u64,
}

impl FaultConfig {
    /// Every fault switched on at modest rates (the "chaos" preset).
    pub fn chaos() -> Self {
        FaultConfig {
            rate_429: 0.03,
            rate_500: 0.03,
            rate_hang: 0.01,
            rate_malformed: 0.02,
            rate_expired_token: 0.01,
            retry_after_secs: 1,
            hang_ms: 3_000,
            ..FaultConfig::default()
        }
    }
}

/// The simulator's settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    pub seed: u64,
    /// TCGplayer category ids to generate (known: 1, 2, 3, 68, 71).
    pub categories: Vec<u32>,
    pub sets_per_game: u32,
    pub cards_per_set: u32,
    pub sealed_per_set: u32,
    /// Prices move every `step_secs` seconds.
    pub step_secs: u64,
    /// Freeze the clock at this Unix time (deterministic tests); wall clock when absent.
    pub fixed_time: Option<i64>,
    /// TCGplayer token lifetime.
    pub tcgplayer_token_ttl_secs: u64,
    /// eBay token lifetime.
    pub ebay_token_ttl_secs: u64,
    /// TCGCSV updates every this many seconds, at 20:00 UTC for a day.
    pub tcgcsv_update_secs: i64,
    /// Most listings a search finds before filters.
    pub listings_per_query: u64,
    /// First day of the TCGCSV archive.
    pub archive_start: String,
    /// Days in `eurofxref-hist.xml`.
    pub fx_history_days: u32,
    pub faults: FaultConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            categories: vec![3, 1, 2, 68],
            sets_per_game: 3,
            cards_per_set: 40,
            sealed_per_set: 2,
            step_secs: 60,
            fixed_time: None,
            tcgplayer_token_ttl_secs: 1_209_599,
            ebay_token_ttl_secs: 7_200,
            tcgcsv_update_secs: 86_400,
            listings_per_query: 60,
            archive_start: "2024-02-08".into(),
            fx_history_days: 60,
            faults: FaultConfig::default(),
        }
    }
}
