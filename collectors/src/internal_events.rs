//! Every metric this crate records, named once (Vector's `internal_events` habit). The names are
//! part of the product: the Grafana dashboards, the alert rules and the tests read them. Every
//! series carries a `source` label (`tcgplayer`, `tcgcsv`, `ebay_browse`, `ebay_sold`, `ecb`).
//! [`crate::telemetry`] re-exports them and holds the small helpers that record the common ones.

/// Counter: requests sent, by `source`, `op` and `status` (HTTP status, or `timeout`/`transport`).
pub const REQUESTS: &str = "tcg_collector_requests_total";
/// Counter: errors by `source` and `kind` (see `CollectorError::kind`).
pub const ERRORS: &str = "tcg_collector_errors_total";
/// Counter: retries by `source` and `reason` (the `kind` of the error retried).
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
/// Gauge: 1 while a source delivers (its last pass was ok or degraded), 0 when its last pass
/// failed or published nothing while something failed, by `source` (set after each pass; see
/// [`crate::health`]).
pub const SOURCE_UP: &str = "tcg_source_up";
/// Counter: failures that cost a source data, after retries, by `source` and `kind`: a failed
/// pass, or a lookup the pass went on without (printings, a category's groups, a group's
/// products, a price batch). `tcg_collector_errors_total` counts every failed attempt instead.
pub const SOURCE_ERRORS: &str = "tcg_source_errors_total";
/// Counter: upstream rows a collector rejected, by `source` and `reason` (`no_prices`,
/// `upstream_failure`); the recent ones are kept in [`crate::rejections::RejectionLog`].
pub const QUOTES_REJECTED: &str = "tcg_quotes_rejected_total";
/// Counter: products of another market a collector could not map to ours, by `source` and `why`
/// (`unmapped`, `ambiguous`), counted when first met; listed by `GET /v1/sources/unmapped`.
pub const PRODUCTS_UNMAPPED: &str = "tcg_products_unmapped_total";

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the dashboards (grafana/), the alert rules (deploy/) and tests/stack.rs read.
    #[test]
    fn names_are_stable() {
        assert_eq!(
            [
                REQUESTS,
                ERRORS,
                RETRIES,
                LATENCY,
                QUOTES,
                DROPPED,
                BREAKER,
                BUDGET_REMAINING,
                TOKEN_MINTS,
                PASSES_SKIPPED,
                SOURCE_UP,
                SOURCE_ERRORS,
                QUOTES_REJECTED,
            ],
            [
                "tcg_collector_requests_total",
                "tcg_collector_errors_total",
                "tcg_collector_retries_total",
                "tcg_collector_request_duration_seconds",
                "tcg_collector_quotes_total",
                "tcg_collector_rows_dropped_total",
                "tcg_collector_breaker_state",
                "tcg_collector_budget_remaining",
                "tcg_collector_token_mints_total",
                "tcg_collector_passes_skipped_total",
                "tcg_source_up",
                "tcg_source_errors_total",
                "tcg_quotes_rejected_total",
            ]
        );
    }
}
