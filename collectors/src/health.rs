//! What each source is doing, as the API and the start-up banner show it: a
//! [`SourceHealth`] (the type is `tcg_schemas`', shared with the API) per source in a shared
//! [`SourceHealthRegistry`], updated after every pass, and the gauge `tcg_source_up{source}`.

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard},
};

use tcg_schemas::Timestamp;
use tokio::sync::watch;

use crate::{CollectorError, PassReport, internal_events};

pub use tcg_schemas::{Degradation, HealthError, HealthStatus, SourceHealth};

/// What a failed lookup cost a pass: `what` failed with `err`, and the pass did `effect`
/// without it.
pub fn degradation(
    what: impl Into<String>,
    effect: impl Into<String>,
    err: &CollectorError,
) -> Degradation {
    Degradation {
        what: what.into(),
        kind: err.kind().to_owned(),
        message: err.to_string(),
        effect: effect.into(),
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

    /// True when sources are registered and every one has finished a pass.
    pub fn settled(&self) -> bool {
        let sources = self.lock();
        !sources.is_empty() && sources.values().all(|h| h.status != HealthStatus::Starting)
    }

    /// Waits until sources are registered and every one has finished a pass (or the registry
    /// is dropped).
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
        degradation(what, "named from price rows", &err)
    }

    #[test]
    fn a_pass_sets_status_counts_and_the_last_error() {
        let registry = SourceHealthRegistry::new();
        assert!(!registry.settled(), "no source yet: not settled");
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
