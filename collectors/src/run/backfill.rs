//! `tcgtracker backfill`: price history from TCGCSV's daily archives, or from JustTCG product by
//! product, resumable.

use std::{path::PathBuf, sync::Arc};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::{
    CollectorError, QuoteSink,
    justtcg::{
        JusttcgClient, JusttcgConfig,
        backfill::{HistoryPlan, HistoryReport, Stopped, backfill_history, duration_for},
    },
    tcgcsv::{
        TcgcsvClient, TcgcsvConfig,
        backfill::{BackfillPlan, BackfillReport, backfill},
    },
};

/// One back-fill as plain data (the binary maps its flags onto it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackfillConfig {
    /// First day.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// TCGCSV base URL (or the simulator's).
    pub base_url: String,
    /// Only these category ids (all when empty).
    pub categories: Vec<u32>,
    /// Progress file: finished days are skipped when the back-fill is run again.
    pub state: PathBuf,
    /// No progress bar.
    pub quiet: bool,
}

/// Every category from TCGCSV itself; `from` and `to` are 1970-01-01, before any archive: set both.
impl Default for BackfillConfig {
    fn default() -> Self {
        BackfillConfig {
            from: NaiveDate::default(),
            to: NaiveDate::default(),
            base_url: TcgcsvConfig::default().base_url,
            categories: Vec::new(),
            state: PathBuf::from("tcgcsv-backfill.json"),
            quiet: false,
        }
    }
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs the back-fill into `sink`, with a progress bar on standard error; stops cleanly (and
/// resumably) on Ctrl-C.
pub async fn run_backfill(
    config: BackfillConfig,
    sink: Arc<dyn QuoteSink>,
) -> Result<BackfillReport, CollectorError> {
    let tcgcsv = TcgcsvConfig {
        base_url: config.base_url.clone(),
        ..TcgcsvConfig::default()
    };
    let client = TcgcsvClient::new(&tcgcsv)?;
    let plan = BackfillPlan {
        from: config.from,
        to: config.to,
        categories: config.categories.clone(),
        state_path: config.state.clone(),
        archive_start: NaiveDate::parse_from_str(&tcgcsv.archive_start, "%Y-%m-%d")
            .map_err(|e| CollectorError::Config(format!("archive_start: {e}")))?,
    };
    let progress = progress_bar(config.quiet, "days");
    let report = backfill(&client, &plan, sink.as_ref(), &progress, ctrl_c()).await?;
    eprintln!(
        "back-fill: {} days done, {} already done, {} without archive, {} quotes{}",
        report.days_done,
        report.days_already_done,
        report.days_missing,
        report.quotes,
        if report.interrupted {
            " (interrupted; run again to resume)"
        } else {
            ""
        }
    );
    Ok(report)
}

/// A progress bar on standard error counting `unit` (hidden when `quiet`).
fn progress_bar(quiet: bool, unit: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    let template =
        format!("{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {unit} {{msg}}");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// One JustTCG history back-fill as plain data (the binary maps its flags onto it and names the
/// products).
#[derive(Debug, Clone)]
pub struct JusttcgBackfillConfig {
    /// JustTCG's settings, with the API key.
    pub justtcg: JusttcgConfig,
    /// How many days back (the shortest history JustTCG offers that reaches them, a year at
    /// most).
    pub days: u32,
    /// The products, the most wanted first, with their categories.
    pub products: Vec<(tcg_schemas::ProductId, tcg_schemas::CategoryId)>,
    /// Progress file: products read are skipped when the back-fill is run again.
    pub state: PathBuf,
    /// No progress bar.
    pub quiet: bool,
}

/// Runs a JustTCG history back-fill into `sink`, with a progress bar on standard error; stops
/// cleanly (and resumably) on Ctrl-C, a spent plan allowance or a lasting rate limit, and says
/// which.
pub async fn run_justtcg_backfill(
    config: JusttcgBackfillConfig,
    sink: Arc<dyn QuoteSink>,
) -> Result<HistoryReport, CollectorError> {
    if config.justtcg.api_key.is_empty() {
        return Err(CollectorError::Config(
            "a JustTCG back-fill needs an API key: set JUSTTCG_API_KEY".into(),
        ));
    }
    let client = JusttcgClient::new(&config.justtcg)?;
    let plan = HistoryPlan {
        products: config.products,
        duration: duration_for(config.days),
        state_path: config.state,
    };
    let progress = progress_bar(config.quiet, "products");
    let report = backfill_history(&client, &plan, sink.as_ref(), &progress, ctrl_c()).await?;
    let why = match report.stopped {
        None => "",
        Some(Stopped::Interrupted) => " (interrupted; run again to resume)",
        Some(Stopped::AllowanceSpent) => {
            " (the JustTCG plan's allowance is spent; run again after 00:00 UTC to resume)"
        }
        Some(Stopped::RateLimited) => {
            " (JustTCG kept answering 429 Too Many Requests; run again later to resume)"
        }
    };
    eprintln!(
        "back-fill from JustTCG ({} of history): {} products done, {} already done, {} not on \
         JustTCG, {} quotes{why}",
        plan.duration,
        report.products_done,
        report.products_already_done,
        report.products_missing,
        report.quotes,
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backfill_config_reads_from_json() {
        let c: BackfillConfig =
            serde_json::from_str(r#"{"from":"2024-02-08","to":"2024-02-10","quiet":true}"#)
                .unwrap();
        assert_eq!(c.from.to_string(), "2024-02-08");
        assert_eq!(c.base_url, "https://tcgcsv.com");
        assert_eq!(c.state, PathBuf::from("tcgcsv-backfill.json"));
        assert!(serde_json::from_str::<BackfillConfig>(r#"{"from":"yesterday"}"#).is_err());
    }
}
