//! Back-fill of price history from JustTCG, product by product, resumable: a small JSON state
//! file records every product read (or found not to be on JustTCG), written (atomically) after
//! its quotes were accepted by the sink. One request a product; a spent plan allowance or a
//! rate limit that outlasts the retries stops the run cleanly, to be resumed later.

use std::{
    collections::BTreeSet,
    future::Future,
    path::{Path, PathBuf},
};

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use tcg_schemas::{CategoryId, ProductId};

use super::{HistoryDuration, JusttcgClient, client::SOURCE};
use crate::{CollectorError, QuoteSink, telemetry};

/// What a JustTCG back-fill should do.
#[derive(Debug, Clone)]
pub struct HistoryPlan {
    /// The products to read, in order (the most wanted first), with their categories.
    pub products: Vec<(ProductId, CategoryId)>,
    /// How far back each history reaches.
    pub duration: HistoryDuration,
    /// Where progress is kept between runs.
    pub state_path: PathBuf,
}

/// The state file: the products read and those JustTCG does not have (or has twice), for one
/// duration (a longer one reads every product again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryState {
    #[serde(default)]
    pub duration: Option<String>,
    #[serde(default)]
    pub done: BTreeSet<u64>,
    #[serde(default)]
    pub missing: BTreeSet<u64>,
}

impl HistoryState {
    /// Loads the state file (a missing file is an empty state); a state of another duration
    /// starts over.
    pub fn load(path: &Path, duration: HistoryDuration) -> Result<Self, CollectorError> {
        let state: HistoryState = crate::state_file::load(path)?;
        Ok(if state.duration.as_deref() == Some(duration.as_str()) {
            state
        } else {
            HistoryState {
                duration: Some(duration.as_str().to_owned()),
                ..HistoryState::default()
            }
        })
    }

    /// Writes the state file through a temporary file and a rename.
    pub fn save(&self, path: &Path) -> Result<(), CollectorError> {
        crate::state_file::save(self, path)
    }

    fn is_settled(&self, product: ProductId) -> bool {
        self.done.contains(&product.0) || self.missing.contains(&product.0)
    }
}

/// Why a run stopped before its last product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// Shut down (Ctrl-C, SIGTERM).
    Interrupted,
    /// The plan's allowance (daily or monthly) is spent: resume after 00:00 UTC.
    AllowanceSpent,
    /// JustTCG kept answering 429 beyond the retries: resume later.
    RateLimited,
}

/// What a JustTCG back-fill run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HistoryReport {
    /// Products read and published in this run.
    pub products_done: u32,
    /// Products a previous run had already settled.
    pub products_already_done: u32,
    /// Products JustTCG does not have (or has as several cards: never guessed).
    pub products_missing: u32,
    pub quotes: u64,
    /// History points without a usable price.
    pub dropped: u64,
    /// Why the run stopped early, if it did.
    pub stopped: Option<Stopped>,
}

/// Reads the history of every product of `plan` the state file has not settled. Stops cleanly
/// (state saved) when `shutdown` resolves, when the plan's allowance is spent or when JustTCG
/// keeps rate-limiting; a refused key and other failures end the run with their error, the state
/// at the last finished product.
pub async fn backfill_history(
    client: &JusttcgClient,
    plan: &HistoryPlan,
    sink: &dyn QuoteSink,
    progress: &ProgressBar,
    shutdown: impl Future<Output = ()>,
) -> Result<HistoryReport, CollectorError> {
    let mut state = HistoryState::load(&plan.state_path, plan.duration)?;
    let mut report = HistoryReport::default();
    progress.set_length(plan.products.len() as u64);
    tokio::pin!(shutdown);
    for &(product, category) in &plan.products {
        progress.set_message(format!("product {}", product.0));
        if state.is_settled(product) {
            report.products_already_done += 1;
            progress.inc(1);
            continue;
        }
        let read = tokio::select! {
            r = client.history(product, category, plan.duration) => r,
            () = &mut shutdown => {
                report.stopped = Some(Stopped::Interrupted);
                break;
            }
        };
        let read = match read {
            Ok(read) => read,
            Err(CollectorError::Status { status: 429, .. }) => {
                report.stopped = Some(Stopped::RateLimited);
                break;
            }
            Err(e) => return Err(e),
        };
        if read.not_found || read.ambiguous {
            state.missing.insert(product.0);
            report.products_missing += 1;
        } else {
            telemetry::dropped(SOURCE, read.dropped);
            report.dropped += read.dropped as u64;
            let n = read.quotes.len() as u64;
            tokio::select! {
                r = sink.publish(read.quotes) => r?,
                () = &mut shutdown => {
                    report.stopped = Some(Stopped::Interrupted);
                    break;
                }
            }
            telemetry::quotes(SOURCE, n as usize);
            report.quotes += n;
            report.products_done += 1;
            state.done.insert(product.0);
        }
        state.save(&plan.state_path)?;
        progress.inc(1);
        if client.usage().is_some_and(|u| u.spent()) {
            report.stopped = Some(Stopped::AllowanceSpent);
            break;
        }
    }
    if report.stopped.is_none() {
        progress.finish_with_message("done");
    }
    Ok(report)
}

/// The shortest history that reaches back `days` days (a year at most).
pub fn duration_for(days: u32) -> HistoryDuration {
    HistoryDuration::ALL
        .into_iter()
        .find(|d| d.days() >= days)
        .unwrap_or(HistoryDuration::Year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_duration_that_reaches_back_is_taken() {
        assert_eq!(duration_for(1), HistoryDuration::Week);
        assert_eq!(duration_for(30), HistoryDuration::Month);
        assert_eq!(duration_for(31), HistoryDuration::Quarter);
        assert_eq!(duration_for(400), HistoryDuration::Year);
    }

    #[test]
    fn a_state_of_another_duration_starts_over() {
        let dir = std::env::temp_dir().join(format!("tcg-jt-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let mut s = HistoryState::load(&path, HistoryDuration::Month).unwrap();
        s.done.insert(7);
        s.save(&path).unwrap();
        assert!(
            HistoryState::load(&path, HistoryDuration::Month)
                .unwrap()
                .is_settled(ProductId(7))
        );
        assert!(
            !HistoryState::load(&path, HistoryDuration::Year)
                .unwrap()
                .is_settled(ProductId(7))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
