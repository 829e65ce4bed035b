//! The TCGCSV source (`Source::Tcgcsv`): the daily public mirror of TCGplayer's catalog and
//! prices, and the back-fill of history from its daily price archive.

pub mod archive;
pub mod backfill;
pub mod client;

use std::time::Duration;

use serde::Deserialize;
use tcg_schemas::{CategoryId, GroupId, Source as QuoteSource};

pub use client::TcgcsvClient;

use crate::{
    CollectorError, PassReport, Source,
    http::HttpConfig,
    internal_events,
    sink::{BoxFuture, QuoteSink},
    source::now,
    tcgplayer::{model::product_price_quotes, publish},
};

/// TCGCSV settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcgcsvConfig {
    pub base_url: String,
    /// Categories to collect; empty for every category TCGCSV lists.
    pub categories: Vec<u32>,
    /// Only these groups; empty for all groups of the categories.
    pub groups: Vec<u32>,
    /// Requests a day (TCGCSV asks for at most 10,000).
    pub daily_budget: u32,
    /// How often `last-updated.txt` is checked.
    pub poll_interval_secs: u64,
    /// First day the price archive exists (`YYYY-MM-DD`).
    pub archive_start: String,
    /// Spacing (`min_interval_ms`, default 100) and the custom User-Agent live here.
    pub http: HttpConfig,
}

impl Default for TcgcsvConfig {
    fn default() -> Self {
        TcgcsvConfig {
            base_url: "https://tcgcsv.com".into(),
            categories: vec![3],
            groups: Vec::new(),
            daily_budget: 10_000,
            poll_interval_secs: 1800,
            archive_start: "2024-02-08".into(),
            http: HttpConfig::default(),
        }
    }
}

/// Collects every group's prices once per TCGCSV update.
#[derive(Debug)]
pub struct TcgcsvSource {
    config: TcgcsvConfig,
    client: TcgcsvClient,
    last_seen: Option<String>,
}

impl TcgcsvSource {
    pub fn new(config: TcgcsvConfig) -> Result<Self, CollectorError> {
        let client = TcgcsvClient::new(&config)?;
        Ok(TcgcsvSource {
            config,
            client,
            last_seen: None,
        })
    }

    pub fn client(&self) -> &TcgcsvClient {
        &self.client
    }

    /// The `last-updated.txt` of the last complete pass.
    pub fn last_seen(&self) -> Option<&str> {
        self.last_seen.as_deref()
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        report.requests += 1;
        let updated = self.client.last_updated().await?;
        if self.last_seen.as_deref() == Some(updated.as_str()) {
            metrics::counter!(internal_events::PASSES_SKIPPED, "source" => client::SOURCE)
                .increment(1);
            tracing::debug!(source = client::SOURCE, %updated, "unchanged; skipping");
            report.skipped = true;
            return Ok(());
        }
        let categories = if self.config.categories.is_empty() {
            report.requests += 1;
            self.client
                .categories()
                .await?
                .into_iter()
                .map(|c| c.category_id)
                .collect()
        } else {
            self.config.categories.clone()
        };
        for category_id in categories {
            report.requests += 1;
            let groups = self.client.groups(category_id).await?;
            for group in groups {
                if !self.config.groups.is_empty() && !self.config.groups.contains(&group.group_id) {
                    continue;
                }
                report.requests += 1;
                let rows = match self.client.prices(category_id, group.group_id).await {
                    Ok(rows) => rows,
                    Err(
                        e @ (CollectorError::BreakerOpen { .. }
                        | CollectorError::BudgetExhausted { .. }),
                    ) => return Err(e),
                    Err(e) => {
                        report.errors += 1;
                        tracing::warn!(source = client::SOURCE, group = group.group_id, error = %e, "prices failed");
                        continue;
                    }
                };
                let converted = product_price_quotes(
                    QuoteSource::Tcgcsv,
                    CategoryId(category_id),
                    Some(GroupId(group.group_id)),
                    &rows,
                    now(),
                );
                publish(sink, converted, report).await?;
            }
        }
        // Only a pass without failed groups marks the day as seen, so failures are fetched again.
        if report.errors == 0 {
            self.last_seen = Some(updated);
        }
        Ok(())
    }
}

impl Source for TcgcsvSource {
    fn name(&self) -> &'static str {
        client::SOURCE
    }

    fn collect_into<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
        report: &'a mut PassReport,
    ) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(self.pass(sink, report))
    }

    fn next_delay(&self) -> Duration {
        Duration::from_secs(self.config.poll_interval_secs)
    }
}
