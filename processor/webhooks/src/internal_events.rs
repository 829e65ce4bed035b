//! Every metric this crate records, named once (Vector's `internal_events` habit). The names are
//! part of the product: dashboards, alert rules and the README read them.

/// Counter, label `outcome` (delivered, http_error, gone, timeout, network, refused, invalid).
pub const DELIVERIES: &str = "tcg_webhook_deliveries_total";
/// Counter: deliveries not started because their endpoint had its cap of POSTs for the minute
/// (`per_endpoint_per_minute`); each is due again when its lease ends.
pub const DEFERRED: &str = "tcg_webhook_deliveries_deferred_total";
/// Histogram of attempt latency, seconds.
pub const LATENCY: &str = "tcg_webhook_attempt_duration_seconds";
/// Counter, label `reason` (gone, failing).
pub const DISABLED: &str = "tcg_webhook_endpoints_disabled_total";
/// Gauge: pending deliveries plus alerts not fanned out yet.
pub const BACKLOG: &str = "tcg_webhook_outbox_backlog";
/// Gauge: deliveries this dispatcher holds in memory, claimed and queued or being POSTed
/// (at most twice `concurrency`, whatever the backlog).
pub const CLAIMED: &str = "tcg_webhook_claimed";
/// Gauge: finished attempts handed to the recorder and not yet written (at most
/// `concurrency` + `record_batch` + the recorder channel, `max(concurrency, record_batch)`).
pub const UNRECORDED: &str = "tcg_webhook_unrecorded";
