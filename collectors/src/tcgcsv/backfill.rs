//! Back-fill of price history from TCGCSV's daily archives over a date range, resumable: a small
//! JSON state file records every finished day, written (atomically) after the day's quotes were
//! accepted by the sink.

use std::{
    collections::BTreeSet,
    future::Future,
    path::{Path, PathBuf},
};

use chrono::NaiveDate;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use tcg_schemas::{CategoryId, GroupId, Source as QuoteSource, Timestamp};

use super::{TcgcsvClient, archive::read_price_archive, client::SOURCE};
use crate::{
    CollectorError, QuoteSink,
    error::ArchiveError,
    tcgplayer::model::{Converted, product_price_quotes},
    telemetry,
};

/// Hour (UTC) that archived prices are stamped with: TCGCSV updates at about 20:00 UTC.
pub const ARCHIVE_HOUR_UTC: u32 = 20;

/// What a back-fill should do.
#[derive(Debug, Clone)]
pub struct BackfillPlan {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only these categories; empty for all.
    pub categories: Vec<u32>,
    /// Where progress is kept between runs.
    pub state_path: PathBuf,
    /// Days before this have no archive and are not requested.
    pub archive_start: NaiveDate,
}

/// The state file: finished days and days without an archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillState {
    #[serde(default)]
    pub done: BTreeSet<NaiveDate>,
    #[serde(default)]
    pub missing: BTreeSet<NaiveDate>,
}

impl BackfillState {
    /// Loads the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<Self, CollectorError> {
        crate::state_file::load(path)
    }

    /// Writes the state file through a temporary file and a rename.
    pub fn save(&self, path: &Path) -> Result<(), CollectorError> {
        crate::state_file::save(self, path)
    }

    fn is_settled(&self, day: NaiveDate) -> bool {
        self.done.contains(&day) || self.missing.contains(&day)
    }
}

/// What a back-fill run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackfillReport {
    /// Days fetched and published in this run.
    pub days_done: u32,
    /// Days a previous run had already settled.
    pub days_already_done: u32,
    /// Days without an archive (404, or before the archive starts).
    pub days_missing: u32,
    pub quotes: u64,
    /// Rows or files that could not be read.
    pub dropped: u64,
    /// True when the run stopped early (shutdown) before the range was finished.
    pub interrupted: bool,
}

/// The instant archived prices of `day` are stamped with.
pub fn archive_instant(day: NaiveDate) -> Timestamp {
    day.and_hms_opt(ARCHIVE_HOUR_UTC, 0, 0)
        .map(|t| Timestamp::from(t.and_utc()))
        .unwrap_or_default()
}

/// Converts one day's archive into quotes (pure; runs on a blocking thread).
pub fn archive_quotes(
    day: NaiveDate,
    bytes: &[u8],
    categories: &[u32],
) -> Result<Converted, CollectorError> {
    let name = format!("prices-{day}.ppmd.7z");
    let contents = read_price_archive(&name, bytes)?;
    let observed_at = archive_instant(day);
    let mut out = Converted {
        quotes: Vec::new(),
        dropped: contents.bad_files,
        ..Converted::default()
    };
    for g in contents.groups {
        if !categories.is_empty() && !categories.contains(&g.category_id) {
            continue;
        }
        let c = product_price_quotes(
            QuoteSource::Tcgcsv,
            CategoryId(g.category_id),
            Some(GroupId(g.group_id)),
            &g.rows,
            observed_at,
        );
        out.quotes.extend(c.quotes);
        out.dropped += c.dropped;
    }
    Ok(out)
}

/// Back-fills `plan.from..=plan.to`, skipping days the state file has settled. Stops cleanly
/// (state saved) when `shutdown` resolves; an error leaves the state at the last finished day.
pub async fn backfill(
    client: &TcgcsvClient,
    plan: &BackfillPlan,
    sink: &dyn QuoteSink,
    progress: &ProgressBar,
    shutdown: impl Future<Output = ()>,
) -> Result<BackfillReport, CollectorError> {
    if plan.to < plan.from {
        return Err(CollectorError::Config(format!(
            "back-fill range is empty: {} > {}",
            plan.from, plan.to
        )));
    }
    let mut state = BackfillState::load(&plan.state_path)?;
    let mut report = BackfillReport::default();
    let days: Vec<NaiveDate> = plan
        .from
        .iter_days()
        .take_while(|d| *d <= plan.to)
        .collect();
    progress.set_length(days.len() as u64);
    tokio::pin!(shutdown);
    for day in days {
        progress.set_message(day.to_string());
        if state.is_settled(day) {
            report.days_already_done += 1;
            progress.inc(1);
            continue;
        }
        if day < plan.archive_start {
            state.missing.insert(day);
            state.save(&plan.state_path)?;
            report.days_missing += 1;
            progress.inc(1);
            continue;
        }
        let date = day.to_string();
        let fetched = tokio::select! {
            r = client.archive(&date) => r?,
            () = &mut shutdown => {
                report.interrupted = true;
                break;
            }
        };
        let Some(bytes) = fetched else {
            tracing::info!(source = SOURCE, %day, "no archive");
            state.missing.insert(day);
            state.save(&plan.state_path)?;
            report.days_missing += 1;
            progress.inc(1);
            continue;
        };
        let categories = plan.categories.clone();
        let converted =
            tokio::task::spawn_blocking(move || archive_quotes(day, &bytes, &categories))
                .await
                .map_err(|e| CollectorError::Archive {
                    name: day.to_string(),
                    source: ArchiveError::Decoder(e),
                })??;
        telemetry::dropped(SOURCE, converted.dropped);
        report.dropped += converted.dropped as u64;
        let n = converted.quotes.len() as u64;
        tokio::select! {
            r = sink.publish(converted.quotes) => r?,
            () = &mut shutdown => {
                report.interrupted = true;
                break;
            }
        }
        telemetry::quotes(SOURCE, n as usize);
        report.quotes += n;
        report.days_done += 1;
        state.done.insert(day);
        state.save(&plan.state_path)?;
        progress.inc(1);
    }
    if !report.interrupted {
        progress.finish_with_message("done");
    }
    Ok(report)
}
