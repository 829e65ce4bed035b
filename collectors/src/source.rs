//! The trait every source implements, and the loop that drives one.

use std::{future::Future, sync::Arc, time::Duration};

use tcg_schemas::Timestamp;

use crate::{
    CollectorError,
    health::{self, Degradation, SourceHealthRegistry},
    identity::UnmappedLog,
    internal_events,
    rejections::{self, CollectorRejection, RejectionLog},
    sink::{BoxFuture, QuoteSink},
    telemetry,
};

/// Rejections one pass keeps for the log (every one is counted).
pub const MAX_REJECTIONS_PER_PASS: usize = 1_000;

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
    /// Upstream rows rejected (all counted; the first [`MAX_REJECTIONS_PER_PASS`] are named in
    /// `rejections`).
    pub rejected: u64,
    pub rejections: Vec<CollectorRejection>,
    /// What the pass could not read and went on without.
    pub degraded: Vec<Degradation>,
}

impl PassReport {
    /// Adds the counts of `other` (not its lists).
    pub fn add(&mut self, other: &PassReport) {
        self.quotes += other.quotes;
        self.requests += other.requests;
        self.errors += other.errors;
        self.rejected += other.rejected;
    }

    /// Records a lookup the pass goes on without (`what` failed with `err`; `effect` says what
    /// the pass does instead): an error of the pass, a [`Degradation`], a warning, and
    /// `tcg_source_errors_total{source,kind}`.
    pub fn degrade(
        &mut self,
        source: &'static str,
        what: impl Into<String>,
        effect: &str,
        err: &CollectorError,
    ) {
        let what = what.into();
        tracing::warn!(source, what = %what, effect, error = %err, "degraded");
        source_error(source, err);
        self.errors += 1;
        self.degraded.push(health::degradation(what, effect, err));
    }

    /// Counts a rejected row in `tcg_quotes_rejected_total{source,reason}` and keeps it (the
    /// first [`MAX_REJECTIONS_PER_PASS`] of a pass).
    pub fn reject(&mut self, rejection: CollectorRejection) {
        rejections::count(&rejection.source, rejection.reason);
        self.rejected += 1;
        if self.rejections.len() < MAX_REJECTIONS_PER_PASS {
            self.rejections.push(rejection);
        }
    }
}

/// Counts a failure that cost `source` data in `tcg_source_errors_total{source,kind}`.
pub(crate) fn source_error(source: &'static str, err: &CollectorError) {
    metrics::counter!(internal_events::SOURCE_ERRORS, "source" => source, "kind" => err.kind())
        .increment(1);
}

/// Where the collectors report what they do: each source's health after every pass, and the
/// rows they rejected. Cheap to clone (shared handles); the API and the banner read the same
/// handles.
#[derive(Debug, Clone, Default)]
pub struct CollectorMonitor {
    pub health: Arc<SourceHealthRegistry>,
    pub rejections: Arc<RejectionLog>,
    /// Products of other markets the collectors could not map to ours.
    pub unmapped: Arc<UnmappedLog>,
}

impl CollectorMonitor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a finished pass: health, the source's error counter when it failed, and its
    /// rejections (moved into the log).
    pub fn record_pass(
        &self,
        source: &'static str,
        pass: &mut PassReport,
        result: Result<(), &CollectorError>,
    ) {
        if let Err(e) = result {
            source_error(source, e);
        }
        for r in pass.rejections.drain(..) {
            self.rejections.record(r.into());
        }
        self.health.record_pass(source, pass, result, now());
    }
}

impl tcg_ports::SourceReports for CollectorMonitor {
    fn sources(&self) -> Vec<tcg_schemas::SourceHealth> {
        let mut all = self.health.snapshot();
        for h in &mut all {
            h.unmapped_products = self.unmapped.count(&h.source) as u64;
        }
        all
    }

    fn rejections(
        &self,
        product: tcg_schemas::ProductId,
        limit: usize,
    ) -> Vec<tcg_schemas::CardRejection> {
        let mut found = self.rejections.for_product(product);
        found.truncate(limit);
        found
    }

    fn recent_rejections(&self, limit: usize) -> Vec<tcg_schemas::CardRejection> {
        self.rejections.recent(limit)
    }

    fn unmapped(&self, source: Option<&str>, limit: usize) -> Vec<tcg_schemas::UnmappedProduct> {
        self.unmapped.list(source, limit)
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
    run_source_monitored(
        source,
        sink,
        max_passes,
        shutdown,
        &CollectorMonitor::default(),
    )
    .await
}

/// [`run_source`], recording every pass in `monitor` (health, rejections).
pub async fn run_source_monitored(
    source: &mut dyn Source,
    sink: Arc<dyn QuoteSink>,
    max_passes: Option<u64>,
    shutdown: impl Future<Output = ()>,
    monitor: &CollectorMonitor,
) -> RunReport {
    let mut report = RunReport::default();
    monitor.health.register(source.name());
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
        if !result.as_ref().is_err_and(CollectorError::is_sink_closed) {
            monitor.record_pass(name, &mut pass, result.as_ref().map(|_| ()));
        }
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
