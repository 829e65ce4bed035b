//! The TCGplayer API source (`Source::Tcgplayer`).

pub mod client;
pub mod model;

use std::{collections::HashMap, time::Duration};

use serde::Deserialize;
use tcg_schemas::{CategoryId, GroupId, ProductId, Source as QuoteSource};
use tokio::time::Instant;

pub use client::TcgplayerClient;
use model::{SkuInfo, product_price_quotes, sku_price_quotes};

use crate::{
    CollectorError, PassReport, Source,
    http::HttpConfig,
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

#[derive(Debug, Clone)]
struct GroupCatalog {
    category_id: u32,
    group_id: u32,
    product_ids: Vec<u64>,
}

#[derive(Debug)]
struct Catalog {
    fetched_at: Instant,
    /// False when some group's products could not be fetched: reload on the next pass.
    complete: bool,
    groups: Vec<GroupCatalog>,
    skus: HashMap<u64, SkuInfo>,
}

/// Collects product prices (and SKU prices) of the configured categories.
#[derive(Debug)]
pub struct TcgplayerSource {
    config: TcgplayerConfig,
    client: TcgplayerClient,
    catalog: Option<Catalog>,
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

    async fn load_catalog(&self, report: &mut PassReport) -> Result<Catalog, CollectorError> {
        let mut groups = Vec::new();
        let mut skus = HashMap::new();
        let mut complete = true;
        for &category_id in &self.config.categories {
            let printings: HashMap<u32, String> = self
                .client
                .printings(category_id)
                .await?
                .into_iter()
                .map(|p| (p.printing_id, p.name))
                .collect();
            report.requests += 1;
            let group_rows = self.client.groups(category_id).await?;
            report.requests += 1;
            for g in group_rows {
                if !self.config.groups.is_empty() && !self.config.groups.contains(&g.group_id) {
                    continue;
                }
                report.requests += 1;
                let products = match self.client.products(category_id, g.group_id).await {
                    Ok(p) => p,
                    Err(e @ CollectorError::BreakerOpen { .. }) => return Err(e),
                    Err(e) => {
                        report.errors += 1;
                        complete = false;
                        tracing::warn!(source = client::SOURCE, group = g.group_id, error = %e, "products failed");
                        continue;
                    }
                };
                for p in &products {
                    for s in &p.skus {
                        let printing = printings
                            .get(&s.printing_id)
                            .cloned()
                            .unwrap_or_else(|| format!("printing {}", s.printing_id));
                        skus.insert(
                            s.sku_id,
                            SkuInfo {
                                category_id: CategoryId(category_id),
                                product_id: ProductId(s.product_id),
                                printing,
                                condition_id: s.condition_id,
                                language_id: s.language_id,
                            },
                        );
                    }
                }
                groups.push(GroupCatalog {
                    category_id,
                    group_id: g.group_id,
                    product_ids: products.iter().map(|p| p.product_id).collect(),
                });
            }
        }
        Ok(Catalog {
            fetched_at: Instant::now(),
            complete,
            groups,
            skus,
        })
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let ttl = Duration::from_secs(self.config.catalog_ttl_secs);
        if self
            .catalog
            .as_ref()
            .is_none_or(|c| !c.complete || c.fetched_at.elapsed() >= ttl)
        {
            self.catalog = Some(self.load_catalog(report).await?);
        }
        let Some(catalog) = self.catalog.as_ref() else {
            return Ok(());
        };
        let batch = self.config.pricing_batch.clamp(1, 250);
        for group in &catalog.groups {
            for ids in group.product_ids.chunks(batch) {
                report.requests += 1;
                let rows = match self.client.product_prices(ids).await {
                    Ok(rows) => rows,
                    Err(e @ (CollectorError::BreakerOpen { .. } | CollectorError::Auth { .. })) => {
                        return Err(e);
                    }
                    Err(e) => {
                        report.errors += 1;
                        tracing::warn!(source = client::SOURCE, group = group.group_id, error = %e, "product prices failed");
                        continue;
                    }
                };
                let converted = product_price_quotes(
                    QuoteSource::Tcgplayer,
                    CategoryId(group.category_id),
                    Some(GroupId(group.group_id)),
                    &rows,
                    now(),
                );
                publish(sink, converted, report).await?;
            }
        }
        if self.config.collect_skus && !catalog.skus.is_empty() {
            let mut sku_ids: Vec<u64> = catalog.skus.keys().copied().collect();
            sku_ids.sort_unstable();
            for ids in sku_ids.chunks(batch) {
                report.requests += 1;
                let rows = match self.client.sku_prices(ids).await {
                    Ok(rows) => rows,
                    Err(e @ (CollectorError::BreakerOpen { .. } | CollectorError::Auth { .. })) => {
                        return Err(e);
                    }
                    Err(e) => {
                        report.errors += 1;
                        tracing::warn!(source = client::SOURCE, error = %e, "sku prices failed");
                        continue;
                    }
                };
                let converted =
                    sku_price_quotes(QuoteSource::Tcgplayer, &rows, &catalog.skus, now());
                publish(sink, converted, report).await?;
            }
        }
        Ok(())
    }
}

pub(crate) async fn publish(
    sink: &dyn QuoteSink,
    converted: model::Converted,
    report: &mut PassReport,
) -> Result<(), CollectorError> {
    let source = converted
        .quotes
        .first()
        .map_or("unknown", |q| q.source.as_str());
    telemetry::dropped(source, converted.dropped);
    report.errors += converted.dropped as u64;
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
