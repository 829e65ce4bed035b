//! Every metric this crate records, named once (Vector's `internal_events` habit). The names are
//! part of the product: dashboards, alert rules and tests read them.

/// Quotes a processor handled (`tcg_processor_quotes_total`).
pub const PROCESSOR_QUOTES: &str = "tcg_processor_quotes_total";
/// Ticks a processor stored.
pub const PROCESSOR_TICKS: &str = "tcg_processor_ticks_total";
/// Alerts a processor fired.
pub const PROCESSOR_ALERTS: &str = "tcg_processor_alerts_total";
/// Quotes the core rejected, by `reason`.
pub const PROCESSOR_REJECTED: &str = "tcg_processor_rejected_total";
/// Quotes rejected, by `source` and `reason` (the collectors count theirs under the same name).
pub const QUOTES_REJECTED: &str = "tcg_quotes_rejected_total";
/// Messages sent to the dead-letter topic in a batch.
pub const PROCESSOR_DLQ: &str = "tcg_processor_dlq_total";
/// Dead letters, by `reason`.
pub const PROCESSOR_DEAD_LETTERS: &str = "tcg_processor_dead_letters_total";
/// Seconds per processed batch.
pub const PROCESSOR_BATCH_SECONDS: &str = "tcg_processor_batch_seconds";
/// Partition revocations the processor handled.
pub const PROCESSOR_REVOCATIONS: &str = "tcg_processor_revocations_total";
/// Consumer lag, by `topic` and `partition`.
pub const CONSUMER_LAG: &str = "tcg_consumer_lag";
/// Recoverable consumer errors, by `consumer`.
pub const CONSUMER_ERRORS: &str = "tcg_consumer_errors_total";
/// Messages the brokers acknowledged, by `topic`.
pub const KAFKA_PRODUCED: &str = "tcg_kafka_produced_total";
/// Deliveries that failed, by `topic` (pre-registered at 0 per topic).
pub const KAFKA_DELIVERY_FAILURES: &str = "tcg_kafka_delivery_failures_total";

/// Counts a quote of `source` the core rejected for `reason`: `tcg_processor_rejected_total`
/// by reason (the pipeline dashboard's) and `tcg_quotes_rejected_total` by source and reason.
pub fn count_rejection(source: &'static str, reason: tcg_schemas::RejectReason) {
    metrics::counter!(PROCESSOR_REJECTED, "reason" => reason.as_str()).increment(1);
    metrics::counter!(QUOTES_REJECTED, "source" => source, "reason" => reason.as_str())
        .increment(1);
}
