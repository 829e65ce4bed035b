//! Helpers that record the common metrics. The names live in [`crate::internal_events`]; they
//! are re-exported here, where they have always been public.

use crate::internal_events;
pub use crate::internal_events::{
    BREAKER, BUDGET_REMAINING, DROPPED, ERRORS, LATENCY, PASSES_SKIPPED, QUOTES, REQUESTS, RETRIES,
    TOKEN_MINTS,
};

pub(crate) fn error(source: &'static str, err: &crate::CollectorError) {
    metrics::counter!(internal_events::ERRORS, "source" => source, "kind" => err.kind())
        .increment(1);
}

pub(crate) fn quotes(source: &'static str, n: usize) {
    metrics::counter!(internal_events::QUOTES, "source" => source).increment(n as u64);
}

pub(crate) fn dropped(source: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!(internal_events::DROPPED, "source" => source).increment(n as u64);
    }
}

pub(crate) fn budget_remaining(source: &'static str, remaining: u32) {
    metrics::gauge!(internal_events::BUDGET_REMAINING, "source" => source)
        .set(f64::from(remaining));
}
