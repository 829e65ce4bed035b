//! The TCGplayer API source (`Source::Tcgplayer`).

mod catalog;
pub mod client;
pub mod model;

use std::{
    collections::{BTreeSet, HashMap},
    time::Duration,
};

use serde::Deserialize;
use tcg_schemas::{CategoryId, GroupId, Source as QuoteSource};

use catalog::Catalog;
pub use catalog::learn_printings;
pub use client::TcgplayerClient;
use model::{product_price_quotes, sku_price_quotes};

use crate::{
    CollectorError, PassReport, Source,
    http::HttpConfig,
    rejections::{CollectorRejectReason, CollectorRejection},
    sink::{BoxFuture, QuoteSink},
    source::now,
    telemetry,
};

/// TCGplayer API settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcgplayerConfig {
    pub base_url: String,
    /// Path prefix such as `v1.39.0`; empty for the unversioned paths.
    pub api_version: String,
    pub client_id: String,
    pub client_secret: String,
    /// Categories (games) to collect.
    pub categories: Vec<u32>,
    /// Only these groups (sets); empty for every group of the categories.
    pub groups: Vec<u32>,
    /// Catalog page size (≤ 100).
    pub page_size: u32,
    /// Ids per pricing call (≤ 250).
    pub pricing_batch: usize,
    /// Also collect SKU prices (condition × language × printing).
    pub collect_skus: bool,
    pub poll_interval_secs: u64,
    /// How long the fetched catalog (groups, products, SKUs) is reused.
    pub catalog_ttl_secs: u64,
    pub http: HttpConfig,
}

impl Default for TcgplayerConfig {
    fn default() -> Self {
        TcgplayerConfig {
            base_url: "https://api.tcgplayer.com".into(),
            api_version: "v1.39.0".into(),
            client_id: String::new(),
            client_secret: String::new(),
            categories: vec![3],
            groups: Vec::new(),
            page_size: 100,
            pricing_batch: 250,
            collect_skus: true,
            poll_interval_secs: 900,
            catalog_ttl_secs: 86_400,
            http: HttpConfig {
                burst: 10,
                ..HttpConfig::default()
            },
        }
    }
}

/// Collects product prices (and SKU prices) of the configured categories.
#[derive(Debug)]
pub struct TcgplayerSource {
    config: TcgplayerConfig,
    client: TcgplayerClient,
    catalog: Option<Catalog>,
}

/// What a product price batch is about, for the rejections it names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowContext {
    pub source: &'static str,
    pub category_id: u32,
    pub group_id: Option<u32>,
}

impl TcgplayerSource {
    pub fn new(config: TcgplayerConfig) -> Result<Self, CollectorError> {
        let client = TcgplayerClient::new(&config)?;
        Ok(TcgplayerSource {
            config,
            client,
            catalog: None,
        })
    }

    pub fn client(&self) -> &TcgplayerClient {
        &self.client
    }

    /// The catalog to price: read again when stale, else what failed before tried again.
    async fn refresh_catalog(&mut self, report: &mut PassReport) -> Result<(), CollectorError> {
        let ttl = Duration::from_secs(self.config.catalog_ttl_secs);
        let (categories, groups) = (&self.config.categories, &self.config.groups);
        match self.catalog.as_mut() {
            Some(c) if c.fetched_at.elapsed() < ttl => {
                if c.needs_repair(categories) {
                    c.repair(&self.client, categories, groups, report).await?;
                }
            }
            _ => {
                self.catalog = Some(Catalog::load(&self.client, categories, groups, report).await?);
            }
        }
        Ok(())
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        self.refresh_catalog(report).await?;
        let batch = self.config.pricing_batch.clamp(1, 250);
        let Some(catalog) = self.catalog.as_mut() else {
            return Ok(());
        };
        // The printings the price rows name, of products whose SKU printings have no name yet.
        let unnamed = catalog.unnamed_products();
        let mut seen: HashMap<u64, BTreeSet<String>> = HashMap::new();
        for group in &catalog.groups {
            let ctx = RowContext {
                source: client::SOURCE,
                category_id: group.category_id,
                group_id: Some(group.group_id),
            };
            for ids in group.product_ids.chunks(batch) {
                report.requests += 1;
                let rows = match self.client.product_prices(ids).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        batch_failed(ctx, ids, e, report)?;
                        continue;
                    }
                };
                for row in rows.iter().filter(|r| unnamed.contains_key(&r.product_id)) {
                    seen.entry(row.product_id)
                        .or_default()
                        .insert(row.sub_type_name.clone());
                }
                let converted = product_price_quotes(
                    QuoteSource::Tcgplayer,
                    CategoryId(group.category_id),
                    Some(GroupId(group.group_id)),
                    &rows,
                    now(),
                );
                publish(sink, ctx, converted, report).await?;
            }
        }
        if !seen.is_empty() {
            let learned = catalog.learn(&seen);
            tracing::info!(
                source = client::SOURCE,
                learned,
                "printing names learned from price rows"
            );
        }
        if self.config.collect_skus && !catalog.skus.is_empty() {
            price_skus(&self.client, catalog, batch, sink, report).await?;
        }
        Ok(())
    }
}

/// SKU prices of the whole catalog, `batch` SKUs a call.
async fn price_skus(
    client: &TcgplayerClient,
    catalog: &Catalog,
    batch: usize,
    sink: &dyn QuoteSink,
    report: &mut PassReport,
) -> Result<(), CollectorError> {
    let mut sku_ids: Vec<u64> = catalog.skus.keys().copied().collect();
    sku_ids.sort_unstable();
    for ids in sku_ids.chunks(batch) {
        report.requests += 1;
        let rows = match client.sku_prices(ids).await {
            Ok(rows) => rows,
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                report.degrade(
                    client::SOURCE,
                    format!("SKU prices ({} SKUs from {})", ids.len(), ids[0]),
                    "those SKUs not priced this pass",
                    &e,
                );
                continue;
            }
        };
        let converted = sku_price_quotes(QuoteSource::Tcgplayer, &rows, &catalog.skus, now());
        let ctx = RowContext {
            source: client::SOURCE,
            category_id: 0,
            group_id: None,
        };
        publish(sink, ctx, converted, report).await?;
    }
    Ok(())
}

/// An error that stops the pass: the token was refused, the breaker is open, or the sink failed.
fn is_fatal(e: &CollectorError) -> bool {
    matches!(
        e,
        CollectorError::BreakerOpen { .. } | CollectorError::Auth { .. } | CollectorError::Sink(_)
    )
}

/// A product price request that failed: `success:false` or 404 names each product of the batch
/// as rejected (`upstream_failure`); other failures (timeouts, 5xx after retries) degrade the
/// pass; a fatal one is returned.
pub(crate) fn batch_failed(
    ctx: RowContext,
    ids: &[u64],
    e: CollectorError,
    report: &mut PassReport,
) -> Result<(), CollectorError> {
    if is_fatal(&e) {
        return Err(e);
    }
    let what = match ctx.group_id {
        Some(g) => format!("product prices of group {g} ({} products)", ids.len()),
        None => format!("product prices ({} products)", ids.len()),
    };
    if !matches!(
        e,
        CollectorError::Upstream { .. } | CollectorError::Status { status: 404, .. }
    ) {
        report.degrade(ctx.source, what, "those products not priced this pass", &e);
        return Ok(());
    }
    report.errors += 1;
    crate::source::source_error(ctx.source, &e);
    let at = now();
    for &id in ids {
        report.reject(CollectorRejection {
            source: ctx.source.to_owned(),
            at,
            reason: CollectorRejectReason::UpstreamFailure,
            category_id: Some(ctx.category_id),
            group_id: ctx.group_id,
            product_id: Some(id),
            sub_type_name: None,
            detail: e.to_string(),
        });
    }
    tracing::warn!(source = ctx.source, group = ?ctx.group_id, products = ?ids, error = %e, "product prices refused");
    Ok(())
}

/// Publishes converted rows: quotes to the sink, rows without any price as rejections
/// (`no_prices`) naming the product and printing, unconvertible values counted as dropped.
pub(crate) async fn publish(
    sink: &dyn QuoteSink,
    ctx: RowContext,
    converted: model::Converted,
    report: &mut PassReport,
) -> Result<(), CollectorError> {
    let source = ctx.source;
    telemetry::dropped(source, converted.dropped);
    report.errors += converted.dropped as u64;
    if !converted.no_prices.is_empty() {
        let at = now();
        for (product_id, sub_type_name) in converted.no_prices {
            report.reject(CollectorRejection {
                source: source.to_owned(),
                at,
                reason: CollectorRejectReason::NoPrices,
                category_id: Some(ctx.category_id),
                group_id: ctx.group_id,
                product_id: Some(product_id),
                detail: format!("every price of the {sub_type_name} row is null"),
                sub_type_name: Some(sub_type_name),
            });
        }
    }
    let n = converted.quotes.len();
    if n > 0 {
        sink.publish(converted.quotes).await?;
        telemetry::quotes(source, n);
        report.quotes += n as u64;
    }
    Ok(())
}

impl Source for TcgplayerSource {
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
