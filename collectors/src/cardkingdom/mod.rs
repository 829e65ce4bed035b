//! The Card Kingdom source (`Source::Cardkingdom`): Card Kingdom's public price list of Magic
//! singles (`GET /api/v2/pricelist`, no key), its retail price per grade and its buylist price,
//! in USD, mapped to our products (see [`map`]).
//!
//! A pass downloads the whole list (one request), reads it row by row on a blocking thread
//! ([`model::read_list`]), maps every row, lists the unmapped and ambiguous ones, rejects mapped
//! rows without a price (`no_prices`) and publishes the quotes in chunks. A list whose
//! `meta.created_at` is the one already published, with the same catalog, is skipped.

pub mod client;
pub mod map;
pub mod model;

use std::{
    collections::HashSet,
    sync::{Arc, Weak},
    time::Duration,
};

use serde::Deserialize;
use tcg_schemas::{Source as QuoteSource, Timestamp};

pub use client::{CardkingdomClient, PRICELIST_PATH, SOURCE};

use crate::{
    CollectorError, MarketContext, PassReport, Source,
    http::HttpConfig,
    identity::{IdBridge, ProductIndex, UnmappedReason},
    internal_events,
    rejections::{CollectorRejectReason, CollectorRejection},
    sink::{BoxFuture, QuoteSink},
    source::now,
    telemetry,
};
use map::{MapContext, Priced, RowOutcome, Unlisted};
use model::{ListError, Meta};

/// Card Kingdom settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CardkingdomConfig {
    /// `https://api.cardkingdom.com`; the list is at `api/v2/pricelist` under it.
    pub base_url: String,
    /// Seconds between passes. The list is regenerated a few times a day at most, and it is
    /// large: every 4 hours by default.
    pub poll_interval_secs: u64,
    /// Seconds to the next pass after a failed one, or while our catalog is still empty.
    pub retry_interval_secs: u64,
    /// Unmapped and ambiguous rows listed per pass (the rest are counted only).
    pub max_unmapped_per_pass: usize,
    /// The default allows 5 minutes for the whole download (tens of MB).
    pub http: HttpConfig,
}

impl Default for CardkingdomConfig {
    fn default() -> Self {
        CardkingdomConfig {
            base_url: "https://api.cardkingdom.com".into(),
            poll_interval_secs: 4 * 3600,
            retry_interval_secs: 900,
            // The unmapped log keeps 5,000 products per source.
            max_unmapped_per_pass: 5_000,
            http: HttpConfig {
                request_timeout_ms: 300_000,
                ..HttpConfig::default()
            },
        }
    }
}

/// Rows whose quotes go to the sink together.
const CHUNK_ROWS: usize = 2_000;

/// Publishes Card Kingdom's retail and buylist prices.
#[derive(Debug)]
pub struct CardkingdomSource {
    config: CardkingdomConfig,
    client: CardkingdomClient,
    market: MarketContext,
    /// The `created_at` of the last list published, and the catalog it was mapped with.
    last: Option<(String, Weak<ProductIndex>)>,
    /// The last pass failed or found no catalog: try again sooner.
    retry_soon: bool,
}

/// What reading and mapping one list gave.
#[derive(Debug, Default)]
struct Outcome {
    meta: Meta,
    rows: usize,
    priced: Vec<Priced>,
    /// Listed rows (at most `max_unmapped_per_pass`).
    unlisted: Vec<Unlisted>,
    unmapped: usize,
    ambiguous: usize,
    /// Mapped rows without any price: (product, Card Kingdom id, printing, why).
    no_prices: Vec<(u64, String, &'static str, String)>,
    dropped: usize,
    unreadable: usize,
}

enum Read {
    Unchanged(Meta),
    Mapped(Box<Outcome>),
}

impl CardkingdomSource {
    pub fn new(config: CardkingdomConfig, market: MarketContext) -> Result<Self, CollectorError> {
        let client = CardkingdomClient::new(&config)?;
        Ok(CardkingdomSource {
            config,
            client,
            market,
            last: None,
            retry_soon: false,
        })
    }

    pub fn client(&self) -> &CardkingdomClient {
        &self.client
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        self.retry_soon = true;
        let index = self.market.identity.index();
        if index.is_empty() {
            skipped(
                report,
                "our catalog is empty: nothing to map Card Kingdom's rows to",
            );
            return Ok(());
        }
        report.requests += 1;
        let body = self.client.price_list().await?;
        let observed_at = now();
        let bridge = self.market.identity.bridge.clone();
        let bridge = (bridge.len(QuoteSource::Scryfall) > 0).then_some(bridge);
        let seen = self.last.as_ref().and_then(|(created, catalog)| {
            let same = catalog.upgrade().is_some_and(|c| Arc::ptr_eq(&c, &index));
            same.then(|| created.clone())
        });
        let cap = self.config.max_unmapped_per_pass;
        let mapped_with = Arc::downgrade(&index);
        let read = tokio::task::spawn_blocking(move || {
            read_and_map(&body, &index, bridge.as_deref(), cap, seen.as_deref())
        })
        .await
        .map_err(|e| CollectorError::Io(std::io::Error::other(e)))?
        .map_err(|e| CollectorError::malformed(SOURCE, e))?;
        let outcome = match read {
            Read::Unchanged(meta) => {
                let why = format!("list of {} already published", created(&meta));
                skipped(report, &why);
                self.retry_soon = false;
                return Ok(());
            }
            Read::Mapped(outcome) => outcome,
        };
        self.record(&outcome, observed_at, report);
        self.publish(sink, &outcome.priced, observed_at, report)
            .await?;
        self.last = outcome.meta.created_at.clone().map(|c| (c, mapped_with));
        self.retry_soon = false;
        Ok(())
    }

    /// Lists the unmapped rows (forgetting listed ones that map now), rejects the priceless ones
    /// and counts what was dropped.
    fn record(&self, o: &Outcome, at: Timestamp, report: &mut PassReport) {
        let log = &self.market.unmapped;
        let listed: HashSet<String> = log
            .list(Some(SOURCE), usize::MAX)
            .into_iter()
            .map(|p| p.external_id)
            .collect();
        if !listed.is_empty() {
            let ids = o.priced.iter().map(|p| &p.external_id);
            for id in ids.chain(o.no_prices.iter().map(|n| &n.1)) {
                if listed.contains(id) {
                    log.mapped(SOURCE, id);
                }
            }
        }
        for u in &o.unlisted {
            log.met(
                SOURCE,
                &u.external_id,
                u.why,
                &u.name,
                u.number.as_deref(),
                u.set.as_deref(),
                u.candidates.clone(),
                at,
            );
        }
        for (product_id, _, printing, detail) in &o.no_prices {
            report.reject(CollectorRejection {
                source: SOURCE.to_owned(),
                at,
                reason: CollectorRejectReason::NoPrices,
                category_id: Some(map::MAGIC.0),
                group_id: None,
                product_id: Some(*product_id),
                sub_type_name: Some((*printing).to_owned()),
                detail: detail.clone(),
            });
        }
        let dropped = o.dropped + o.unreadable;
        telemetry::dropped(SOURCE, dropped);
        report.errors += dropped as u64;
        tracing::info!(
            source = SOURCE,
            created_at = %created(&o.meta),
            rows = o.rows,
            mapped = o.priced.len() + o.no_prices.len(),
            unmapped = o.unmapped,
            ambiguous = o.ambiguous,
            listed = o.unlisted.len(),
            no_prices = o.no_prices.len(),
            dropped = o.dropped,
            unreadable_figures = o.unreadable,
            "price list read"
        );
        if o.priced.is_empty() && o.no_prices.is_empty() && o.rows > 0 {
            tracing::warn!(
                source = SOURCE,
                "no row mapped: is Magic (category 1) in the catalog?"
            );
        }
    }

    async fn publish(
        &self,
        sink: &dyn QuoteSink,
        priced: &[Priced],
        at: Timestamp,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        for chunk in priced.chunks(CHUNK_ROWS) {
            let mut quotes = Vec::with_capacity(chunk.iter().map(Priced::quote_count).sum());
            for p in chunk {
                p.quotes(at, &mut quotes);
            }
            let n = quotes.len();
            if n > 0 {
                sink.publish(quotes).await?;
                telemetry::quotes(SOURCE, n);
                report.quotes += n as u64;
            }
        }
        Ok(())
    }
}

fn created(meta: &Meta) -> &str {
    meta.created_at.as_deref().unwrap_or("unknown time")
}

fn skipped(report: &mut PassReport, why: &str) {
    metrics::counter!(internal_events::PASSES_SKIPPED, "source" => SOURCE).increment(1);
    tracing::info!(source = SOURCE, why, "pass skipped");
    report.skipped = true;
}

/// Reads the list in `body` and maps its rows with `index` (and `bridge`), listing at most `cap`
/// unmapped rows. When its `created_at` is `seen`, only that is read.
fn read_and_map(
    body: &[u8],
    index: &ProductIndex,
    bridge: Option<&IdBridge>,
    cap: usize,
    seen: Option<&str>,
) -> Result<Read, ListError> {
    let json = model::unwrap_html(body)?;
    if let Some(seen) = seen {
        let meta = model::read_meta(json)?;
        if meta.created_at.as_deref() == Some(seen) {
            return Ok(Read::Unchanged(meta));
        }
    }
    let ctx = MapContext { index, bridge };
    let mut o = Outcome::default();
    let mut unreadable = 0;
    let head = model::read_list(json, |row| match map::convert(&row, ctx, &mut unreadable) {
        RowOutcome::Priced(p) => o.priced.push(p),
        RowOutcome::NoPrices {
            product_id,
            external_id,
            printing,
            detail,
        } => o
            .no_prices
            .push((product_id.0, external_id, printing, detail)),
        RowOutcome::Unlisted(u) => {
            match u.why {
                UnmappedReason::Ambiguous => o.ambiguous += 1,
                UnmappedReason::Unmapped => o.unmapped += 1,
            }
            if o.unlisted.len() < cap {
                o.unlisted.push(u);
            }
        }
        RowOutcome::Dropped(why) => {
            tracing::debug!(source = SOURCE, why, "row dropped");
            o.dropped += 1;
        }
    })?;
    o.meta = head.meta;
    o.rows = head.rows;
    o.unreadable = unreadable;
    Ok(Read::Mapped(Box::new(o)))
}

impl Source for CardkingdomSource {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn collect_into<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
        report: &'a mut PassReport,
    ) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(self.pass(sink, report))
    }

    fn next_delay(&self) -> Duration {
        let every = self.config.poll_interval_secs.max(1);
        Duration::from_secs(if self.retry_soon {
            self.config.retry_interval_secs.clamp(1, every)
        } else {
            every
        })
    }
}
