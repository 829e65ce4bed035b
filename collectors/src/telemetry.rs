//! Metric names and helpers. Every metric carries a `source` label (`tcgplayer`, `tcgcsv`,
//! `ebay_browse`, `ebay_sold`, `ecb`).

/// Counter: requests sent, by `source`, `op` and `status` (HTTP status, or `timeout`/`transport`).
pub const REQUESTS: &str = "tcg_collector_requests_total";
/// Counter: errors by `source` and `kind` (see `CollectorError::kind`).
pub const ERRORS: &str = "tcg_collector_errors_total";
/// Counter: retries by `source` and `reason`.
pub const RETRIES: &str = "tcg_collector_retries_total";
/// Histogram: request latency in seconds by `source` and `op`.
pub const LATENCY: &str = "tcg_collector_request_duration_seconds";
/// Counter: quotes published by `source`.
pub const QUOTES: &str = "tcg_collector_quotes_total";
/// Counter: upstream rows dropped because they could not be turned into a quote, by `source`.
pub const DROPPED: &str = "tcg_collector_rows_dropped_total";
/// Gauge: breaker state by `source`: 0 closed, 1 open, 2 half-open.
pub const BREAKER: &str = "tcg_collector_breaker_state";
/// Gauge: requests left in the daily budget by `source`.
pub const BUDGET_REMAINING: &str = "tcg_collector_budget_remaining";
/// Counter: access tokens minted by `source`.
pub const TOKEN_MINTS: &str = "tcg_collector_token_mints_total";
/// Counter: collection passes skipped because the upstream had not changed (TCGCSV).
pub const PASSES_SKIPPED: &str = "tcg_collector_passes_skipped_total";

pub(crate) fn error(source: &'static str, err: &crate::CollectorError) {
    metrics::counter!(ERRORS, "source" => source, "kind" => err.kind()).increment(1);
}

pub(crate) fn quotes(source: &'static str, n: usize) {
    metrics::counter!(QUOTES, "source" => source).increment(n as u64);
}

pub(crate) fn dropped(source: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!(DROPPED, "source" => source).increment(n as u64);
    }
}

pub(crate) fn budget_remaining(source: &'static str, remaining: u32) {
    metrics::gauge!(BUDGET_REMAINING, "source" => source).set(f64::from(remaining));
}
