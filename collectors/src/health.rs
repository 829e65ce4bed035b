//! What each source is doing, as the API and the start-up banner show it: a [`SourceHealth`]
//! per source in a shared [`SourceHealthRegistry`], updated after every pass, and the gauge
//! `tcg_source_up{source}`.
//!
//! A pass that failed, or that published nothing while something failed, leaves the source
//! **down**; a pass that did its work while an auxiliary lookup (printings, a group's products,
//! a price batch …) failed leaves it **degraded**, naming what failed and what that cost; a
//! source that has not finished a pass yet is **starting**.

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard},
};

use serde::{Deserialize, Serialize};
use tcg_schemas::Timestamp;
use tokio::sync::watch;

use crate::{CollectorError, PassReport, internal_events};

/// A source's state after its last pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// No pass has finished yet.
    Starting,
    /// The last pass did its work and nothing failed.
    Ok,
    /// The last pass did its work, but something it reads failed (see `degraded`).
    Degraded,
    /// The last pass failed, or published nothing while something failed.
    Down,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Ok => "ok",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Down => "down",
        }
    }

    /// Ok or degraded: the source delivers.
    pub fn is_up(self) -> bool {
        matches!(self, HealthStatus::Ok | HealthStatus::Degraded)
    }
}

/// An error as health shows it: when, which kind (`CollectorError::kind`), the message, and
/// what the source was doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthError {
    pub at: Timestamp,
    pub kind: String,
    pub message: String,
    /// `pass`, or the lookup that failed (`printings of category 3`, `products of group 604` …).
    pub during: String,
}

/// Something a pass could not read, and what the pass did without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Degradation {
    /// The lookup that failed: `printings of category 3`, `product prices of group 604 (250
    /// products)` …
    pub what: String,
    /// `CollectorError::kind` of the failure.
    pub kind: String,
    pub message: String,
    /// What was done without it: `SKU printings named from price rows`, `group skipped` …
    pub effect: String,
}

impl Degradation {
    pub fn new(what: impl Into<String>, effect: impl Into<String>, err: &CollectorError) -> Self {
        Degradation {
            what: what.into(),
            kind: err.kind().to_owned(),
            message: err.to_string(),
            effect: effect.into(),
        }
    }
}

/// One source's health (the `GET /v1/sources` item, `/readyz` detail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHealth {
    /// `tcgplayer`, `tcgcsv`, `ebay_browse`, `ebay_sold`, `ecb`.
    pub source: String,
    pub status: HealthStatus,
    /// `status` is ok or degraded.
    pub up: bool,
    pub passes: u64,
    pub failed_passes: u64,
    /// When the last pass ended.
    pub last_pass_at: Option<Timestamp>,
    /// When a pass last ended up (ok or degraded).
    pub last_success_at: Option<Timestamp>,
    /// The last error: of a failed pass, or the last lookup that failed.
    pub last_error: Option<HealthError>,
    /// Quotes the last pass published.
    pub quotes_last_pass: u64,
    /// Requests the last pass made.
    pub requests_last_pass: u64,
    /// Rows and requests that failed in the last pass without failing it.
    pub errors_last_pass: u64,
    /// Rows the last pass rejected (named in the rejection log).
    pub rejected_last_pass: u64,
    /// The last pass found nothing new upstream (TCGCSV's unchanged day, no tracked cards).
    pub skipped_last_pass: bool,
    /// What the last pass could not read (empty when nothing failed).
    pub degraded: Vec<Degradation>,
}

impl SourceHealth {
    fn starting(source: &str) -> Self {
        SourceHealth {
            source: source.to_owned(),
            status: HealthStatus::Starting,
            up: false,
            passes: 0,
            failed_passes: 0,
            last_pass_at: None,
            last_success_at: None,
            last_error: None,
            quotes_last_pass: 0,
            requests_last_pass: 0,
            errors_last_pass: 0,
            rejected_last_pass: 0,
            skipped_last_pass: false,
            degraded: Vec::new(),
        }
    }
}

/// The status a pass leaves: down when it failed or published nothing while something failed,
/// degraded when something failed, else ok.
pub fn status_of(report: &PassReport, result: Result<(), &CollectorError>) -> HealthStatus {
    let failed_something = report.errors > 0 || !report.degraded.is_empty();
    if result.is_err() || (failed_something && report.quotes == 0 && !report.skipped) {
        HealthStatus::Down
    } else if failed_something {
        HealthStatus::Degraded
    } else {
        HealthStatus::Ok
    }
}

/// Every source's health, shared between the collectors (which record their passes) and the
/// API and the banner (which read [`SourceHealthRegistry::snapshot`]).
#[derive(Debug)]
pub struct SourceHealthRegistry {
    sources: Mutex<BTreeMap<String, SourceHealth>>,
    /// Bumped at every change; [`SourceHealthRegistry::subscribe`] hands out receivers.
    changed: watch::Sender<u64>,
}

impl Default for SourceHealthRegistry {
    fn default() -> Self {
        SourceHealthRegistry {
            sources: Mutex::new(BTreeMap::new()),
            changed: watch::channel(0).0,
        }
    }
}

impl SourceHealthRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, SourceHealth>> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// Lists `source` as starting (no pass yet), unless it is listed already.
    pub fn register(&self, source: &str) {
        self.lock()
            .entry(source.to_owned())
            .or_insert_with(|| SourceHealth::starting(source));
        self.bump();
    }

    /// Every source's health, ordered by name.
    pub fn snapshot(&self) -> Vec<SourceHealth> {
        self.lock().values().cloned().collect()
    }

    pub fn get(&self, source: &str) -> Option<SourceHealth> {
        self.lock().get(source).cloned()
    }

    /// A receiver that sees a new value at every change (for a banner waiting on first passes).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// True when every registered source has finished a pass.
    pub fn settled(&self) -> bool {
        self.lock()
            .values()
            .all(|h| h.status != HealthStatus::Starting)
    }

    /// Waits until every registered source has finished a pass (or the registry is dropped).
    pub async fn wait_settled(&self) {
        let mut rx = self.subscribe();
        while !self.settled() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Records a finished pass of `source` at `at`.
    pub fn record_pass(
        &self,
        source: &str,
        report: &PassReport,
        result: Result<(), &CollectorError>,
        at: Timestamp,
    ) {
        let status = status_of(report, result);
        {
            let mut sources = self.lock();
            let h = sources
                .entry(source.to_owned())
                .or_insert_with(|| SourceHealth::starting(source));
            h.passes += 1;
            h.status = status;
            h.up = status.is_up();
            h.last_pass_at = Some(at);
            h.quotes_last_pass = report.quotes;
            h.requests_last_pass = report.requests;
            h.errors_last_pass = report.errors;
            h.rejected_last_pass = report.rejected;
            h.skipped_last_pass = report.skipped;
            h.degraded.clone_from(&report.degraded);
            if h.up {
                h.last_success_at = Some(at);
            }
            match result {
                Err(e) => {
                    h.failed_passes += 1;
                    h.last_error = Some(HealthError {
                        at,
                        kind: e.kind().to_owned(),
                        message: e.to_string(),
                        during: "pass".to_owned(),
                    });
                }
                Ok(()) => {
                    if let Some(d) = report.degraded.last() {
                        h.last_error = Some(HealthError {
                            at,
                            kind: d.kind.clone(),
                            message: d.message.clone(),
                            during: d.what.clone(),
                        });
                    }
                }
            }
        }
        set_up_gauge(source, status.is_up());
        self.bump();
    }
}

/// `tcg_source_up{source}`: 1 while the source delivers (ok or degraded), else 0.
fn set_up_gauge(source: &str, up: bool) {
    metrics::gauge!(internal_events::SOURCE_UP, "source" => source.to_owned()).set(if up {
        1.0
    } else {
        0.0
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn failed(what: &str) -> Degradation {
        let err = CollectorError::Status {
            source_name: "tcgplayer",
            status: 404,
            url: format!("http://x/{what}"),
        };
        Degradation::new(what, "named from price rows", &err)
    }

    #[test]
    fn a_pass_sets_status_counts_and_the_last_error() {
        let registry = SourceHealthRegistry::new();
        registry.register("tcgplayer");
        registry.register("tcgcsv");
        assert!(!registry.settled());
        assert_eq!(
            registry.get("tcgplayer").unwrap().status,
            HealthStatus::Starting
        );

        let mut degraded = PassReport {
            quotes: 10,
            requests: 4,
            errors: 1,
            ..PassReport::default()
        };
        degraded.degraded.push(failed("printings of category 3"));
        registry.record_pass("tcgplayer", &degraded, Ok(()), Timestamp::from_secs(100));
        let h = registry.get("tcgplayer").unwrap();
        assert_eq!(h.status, HealthStatus::Degraded);
        assert!(h.up);
        assert_eq!(h.quotes_last_pass, 10);
        assert_eq!(h.last_success_at, Some(Timestamp::from_secs(100)));
        let e = h.last_error.unwrap();
        assert_eq!(e.kind, "client_error");
        assert_eq!(e.during, "printings of category 3");

        let err = CollectorError::BreakerOpen {
            source_name: "tcgcsv",
        };
        registry.record_pass(
            "tcgcsv",
            &PassReport::default(),
            Err(&err),
            Timestamp::from_secs(101),
        );
        assert!(registry.settled());
        let h = registry.get("tcgcsv").unwrap();
        assert_eq!(h.status, HealthStatus::Down);
        assert_eq!(h.failed_passes, 1);
        assert_eq!(h.last_success_at, None);
        assert_eq!(h.last_error.unwrap().kind, "breaker_open");
        let names: Vec<String> = registry.snapshot().into_iter().map(|h| h.source).collect();
        assert_eq!(names, ["tcgcsv", "tcgplayer"]);
    }

    #[test]
    fn nothing_published_while_something_failed_is_down() {
        let report = PassReport {
            errors: 3,
            requests: 3,
            ..PassReport::default()
        };
        assert_eq!(status_of(&report, Ok(())), HealthStatus::Down);
        let skipped = PassReport {
            skipped: true,
            ..PassReport::default()
        };
        assert_eq!(status_of(&skipped, Ok(())), HealthStatus::Ok);
        assert_eq!(status_of(&PassReport::default(), Ok(())), HealthStatus::Ok);
    }

    #[test]
    fn serializes_for_the_api() {
        let registry = SourceHealthRegistry::new();
        registry.register("ecb");
        let json = serde_json::to_value(registry.snapshot()).unwrap();
        assert_eq!(json[0]["source"], "ecb");
        assert_eq!(json[0]["status"], "starting");
        assert_eq!(json[0]["up"], false);
        assert!(json[0]["last_error"].is_null());
    }

    #[tokio::test]
    async fn wait_settled_returns_after_every_first_pass() {
        let registry = std::sync::Arc::new(SourceHealthRegistry::new());
        registry.register("a");
        registry.register("b");
        let waiter = tokio::spawn({
            let registry = registry.clone();
            async move { registry.wait_settled().await }
        });
        let t = Timestamp::from_secs(1);
        registry.record_pass("a", &PassReport::default(), Ok(()), t);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        registry.record_pass("b", &PassReport::default(), Ok(()), t);
        waiter.await.unwrap();
    }
}
