//! The trait every source implements, and the loop that drives one.

use std::{future::Future, sync::Arc, time::Duration};

use tcg_schemas::Timestamp;

use crate::{
    CollectorError,
    sink::{BoxFuture, QuoteSink},
    telemetry,
};

/// What one collection pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Quotes published.
    pub quotes: u64,
    /// Requests the pass made (answered or not).
    pub requests: u64,
    /// Rows or requests that failed without failing the pass.
    pub errors: u64,
    /// True when the pass found nothing new upstream and did no work (TCGCSV unchanged day).
    pub skipped: bool,
}

impl PassReport {
    pub fn add(&mut self, other: &PassReport) {
        self.quotes += other.quotes;
        self.requests += other.requests;
        self.errors += other.errors;
    }
}

/// A price source: one pass fetches, turns rows into `RawQuote`s (observed_at = fetch time) and
/// publishes them to the sink.
pub trait Source: Send {
    /// The metrics/logging label (`tcgplayer`, `tcgcsv`, `ebay_browse`, `ebay_sold`).
    fn name(&self) -> &'static str;

    /// One collection pass, counting into `report` as it goes (so a pass that fails half-way
    /// still accounts for what it published).
    fn collect_into<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
        report: &'a mut PassReport,
    ) -> BoxFuture<'a, Result<(), CollectorError>>;

    /// One collection pass, returning its report.
    fn collect<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
    ) -> BoxFuture<'a, Result<PassReport, CollectorError>> {
        Box::pin(async move {
            let mut report = PassReport::default();
            self.collect_into(sink, &mut report).await.map(|()| report)
        })
    }

    /// How long to wait after a pass before the next one.
    fn next_delay(&self) -> Duration;
}

/// The current wall-clock instant, as collectors stamp `observed_at`.
pub fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

/// Totals of a source's run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub passes: u64,
    pub failed_passes: u64,
    pub totals: PassReport,
}

/// Runs `source` pass after pass until `shutdown` resolves or `max_passes` (if any) are done. A
/// failed pass is logged and counted; the loop goes on (waiting the source's delay, or the
/// refill time of a spent budget). Only a closed sink stops it early.
pub async fn run_source(
    source: &mut dyn Source,
    sink: Arc<dyn QuoteSink>,
    max_passes: Option<u64>,
    shutdown: impl Future<Output = ()>,
) -> RunReport {
    let mut report = RunReport::default();
    tokio::pin!(shutdown);
    loop {
        if max_passes.is_some_and(|m| report.passes >= m) {
            break;
        }
        let name = source.name();
        let mut pass = PassReport::default();
        let result = tokio::select! {
            r = source.collect_into(sink.as_ref(), &mut pass) => r,
            () = &mut shutdown => break,
        };
        report.passes += 1;
        report.totals.add(&pass);
        let mut delay = source.next_delay();
        match result {
            Ok(()) => {
                tracing::info!(
                    source = name,
                    quotes = pass.quotes,
                    requests = pass.requests,
                    errors = pass.errors,
                    skipped = pass.skipped,
                    "pass done"
                );
            }
            Err(e) if e.is_sink_closed() => {
                tracing::warn!(source = name, "sink closed; stopping");
                report.failed_passes += 1;
                break;
            }
            Err(e) => {
                report.failed_passes += 1;
                telemetry::error(name, &e);
                tracing::warn!(source = name, error = %e, "pass failed");
                if let CollectorError::BudgetExhausted { retry_in_secs, .. } = e {
                    delay = delay.max(Duration::from_secs(retry_in_secs));
                }
            }
        }
        if max_passes.is_some_and(|m| report.passes >= m) {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = &mut shutdown => break,
        }
    }
    report
}
