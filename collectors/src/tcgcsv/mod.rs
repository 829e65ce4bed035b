//! The TCGCSV source (`Source::Tcgcsv`): the daily public mirror of TCGplayer's catalog and
//! prices, and the back-fill of history from its daily price archive.

pub mod archive;
pub mod backfill;
pub mod catalog;
pub mod client;

use std::time::Duration;

use serde::Deserialize;
use tcg_schemas::{CategoryId, GroupId, Source as QuoteSource};

pub use client::TcgcsvClient;

use crate::{
    CollectorError, PassReport, Source,
    http::HttpConfig,
    internal_events,
    rejections::{CollectorRejectReason, CollectorRejection},
    sink::{BoxFuture, QuoteSink},
    source::now,
    tcgplayer::{RowContext, batch_failed, model::product_price_quotes, publish},
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
            let groups = match self.client.groups(category_id).await {
                Ok(groups) => groups,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    report.degrade(
                        client::SOURCE,
                        format!("groups of category {category_id}"),
                        "category not priced; read again next pass",
                        &e,
                    );
                    continue;
                }
            };
            for group in groups {
                if !self.config.groups.is_empty() && !self.config.groups.contains(&group.group_id) {
                    continue;
                }
                self.price_group(category_id, group.group_id, sink, report)
                    .await?;
            }
        }
        // Only a pass without failures marks the day as seen, so failures are fetched again.
        if report.errors == 0 {
            self.last_seen = Some(updated);
        }
        Ok(())
    }

    /// One group's price file.
    async fn price_group(
        &self,
        category_id: u32,
        group_id: u32,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let ctx = RowContext {
            source: client::SOURCE,
            category_id,
            group_id: Some(group_id),
        };
        report.requests += 1;
        let rows = match self.client.prices(category_id, group_id).await {
            Ok(rows) => rows,
            Err(e) if is_fatal(&e) => return Err(e),
            Err(
                e @ (CollectorError::Upstream { .. } | CollectorError::Status { status: 404, .. }),
            ) => {
                // The products the refused file was about, to name them.
                report.requests += 1;
                let ids: Vec<u64> = match self.client.products(category_id, group_id).await {
                    Ok(products) => products.iter().map(|p| p.product_id).collect(),
                    Err(e) if is_fatal(&e) => return Err(e),
                    Err(_) => Vec::new(),
                };
                return group_refused(ctx, &ids, e, report);
            }
            Err(e) => {
                report.degrade(
                    client::SOURCE,
                    format!("prices of group {group_id}"),
                    "group not priced; read again next pass",
                    &e,
                );
                return Ok(());
            }
        };
        let converted = product_price_quotes(
            QuoteSource::Tcgcsv,
            CategoryId(category_id),
            Some(GroupId(group_id)),
            &rows,
            now(),
        );
        publish(sink, ctx, converted, report).await
    }
}

/// TCGCSV's errors that stop a pass: an open breaker, a spent budget, a failed sink.
fn is_fatal(e: &CollectorError) -> bool {
    matches!(
        e,
        CollectorError::BreakerOpen { .. }
            | CollectorError::BudgetExhausted { .. }
            | CollectorError::Sink(_)
    )
}

/// A group's price file refused (`success:false` or 404): each of its products (`ids`) is
/// rejected by name, or the group itself when its products could not be read either.
fn group_refused(
    ctx: RowContext,
    ids: &[u64],
    e: CollectorError,
    report: &mut PassReport,
) -> Result<(), CollectorError> {
    if !ids.is_empty() {
        return batch_failed(ctx, ids, e, report);
    }
    report.errors += 1;
    crate::source::source_error(ctx.source, &e);
    tracing::warn!(source = ctx.source, group = ?ctx.group_id, error = %e, "group prices refused");
    report.reject(CollectorRejection {
        source: ctx.source.to_owned(),
        at: now(),
        reason: CollectorRejectReason::UpstreamFailure,
        category_id: Some(ctx.category_id),
        group_id: ctx.group_id,
        product_id: None,
        sub_type_name: None,
        detail: format!("{e} (the group's products could not be listed)"),
    });
    Ok(())
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
