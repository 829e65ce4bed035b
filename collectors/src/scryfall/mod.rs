//! The Scryfall source (`Source::Scryfall`, Magic only): Scryfall's bulk data, rebuilt about
//! every 12 hours, whose card objects carry TCGplayer's market prices (`usd`, `usd_foil`,
//! `usd_etched`) and Cardmarket's (`eur`, `eur_foil`, `eur_etched`), with the TCGplayer and
//! Cardmarket product ids of each card.
//!
//! A pass lists the bulk files (`GET /bulk-data`), and when the chosen file (`default_cards`)
//! was rebuilt since the last full pass (or our catalog grew), downloads it and reads it card by
//! card on a blocking thread. Cards of the tracked languages are mapped by the TCGplayer ids
//! they state (`usd*` → `market` USD, `eur*` → `trend` EUR, printings `Normal` and `Foil`; an
//! etched price is the `Foil` of TCGplayer's "(Foil Etched)" product); cards that map to
//! nothing of ours are listed when our catalog covers their set; every `cardmarket_id` ↔
//! `tcgplayer_id` pair goes to the id bridge, for the Cardmarket collector.

pub mod bulk;
pub mod client;
pub mod mapping;
pub mod model;

use std::time::Duration;

use serde::Deserialize;
use tcg_schemas::Language;
use tokio::sync::mpsc;

pub use client::ScryfallClient;
pub use mapping::{Counts, PassMapper};

use crate::{
    CollectorError, MarketContext, PassReport, Source,
    http::{HttpConfig, RetryConfig},
    identity::ProductIndex,
    internal_events,
    sink::{BoxFuture, QuoteSink},
    source::now,
    telemetry,
};
use bulk::{Next, ReadStats, read_cards};
use model::Card;

pub(crate) const SOURCE: &str = "scryfall";

/// Quotes published at once.
const PUBLISH_BATCH: usize = 2_000;
/// Cards handed from the reading thread at once.
const READ_BATCH: usize = 512;

/// Scryfall settings. No credentials: the API is open, but wants an accurate User-Agent (the
/// HTTP settings' `user_agent`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScryfallConfig {
    /// The API (`https://api.scryfall.com`); bulk files are downloaded from where it says.
    pub base_url: String,
    /// The bulk file to read: `default_cards` (every card in English, or in its only printed
    /// language), or `all_cards` (every language; far larger).
    pub bulk_type: String,
    /// Scryfall language codes to collect (`en`, `ja`, `de`, `zhs` …).
    pub languages: Vec<String>,
    /// Seconds between passes: Scryfall rebuilds bulk files about every 12 hours.
    pub poll_interval_secs: u64,
    /// Seconds to the next pass after a failed one, or one skipped for an empty catalog.
    pub retry_secs: u64,
    /// Spacing 100 ms (Scryfall asks for 50–100 ms); a long request timeout for the file; slow
    /// retries, as a 429 locks a client out for 30 seconds.
    pub http: HttpConfig,
}

impl Default for ScryfallConfig {
    fn default() -> Self {
        ScryfallConfig {
            base_url: "https://api.scryfall.com".into(),
            bulk_type: "default_cards".into(),
            languages: vec!["en".into()],
            poll_interval_secs: 12 * 3600,
            retry_secs: 1800,
            http: HttpConfig {
                request_timeout_ms: 600_000,
                min_interval_ms: 100,
                retry: RetryConfig {
                    max_retries: 3,
                    base_delay_ms: 60_000,
                    max_delay_ms: 240_000,
                    ..RetryConfig::default()
                },
                ..HttpConfig::default()
            },
        }
    }
}

/// Reads Scryfall's bulk file once per build.
#[derive(Debug)]
pub struct ScryfallSource {
    config: ScryfallConfig,
    client: ScryfallClient,
    market: MarketContext,
    /// Scryfall codes of the tracked languages, with ours.
    languages: Vec<(String, Language)>,
    /// The file build (`updated_at`) and catalog size of the last full pass.
    last_done: Option<(String, usize)>,
    /// The next pass comes after `retry_secs` (the last failed, or found an empty catalog).
    retry_soon: bool,
    /// What the last full pass counted.
    last_counts: Counts,
}

impl ScryfallSource {
    pub fn new(config: ScryfallConfig, market: MarketContext) -> Result<Self, CollectorError> {
        if config.bulk_type == "rulings" {
            return Err(CollectorError::Config(
                "Scryfall's rulings file has no cards".into(),
            ));
        }
        let languages = config
            .languages
            .iter()
            .map(|code| {
                model::language(code)
                    .map(|l| (code.clone(), l))
                    .ok_or_else(|| {
                        CollectorError::Config(format!(
                            "Scryfall language {code:?} is not one we track"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ScryfallSource {
            client: ScryfallClient::new(&config)?,
            config,
            market,
            languages,
            last_done: None,
            retry_soon: false,
            last_counts: Counts::default(),
        })
    }

    pub fn client(&self) -> &ScryfallClient {
        &self.client
    }

    /// The `updated_at` of the file the last full pass read.
    pub fn last_seen(&self) -> Option<&str> {
        self.last_done.as_ref().map(|(u, _)| u.as_str())
    }

    /// What the last full pass counted.
    pub fn last_counts(&self) -> &Counts {
        &self.last_counts
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let index = self.market.identity.index();
        if index.is_empty() {
            tracing::info!(
                source = SOURCE,
                "our catalog is empty: nothing to map cards to; skipping"
            );
            self.skipped(report);
            self.retry_soon = true;
            return Ok(());
        }
        report.requests += 1;
        let item = self.client.bulk_item(&self.config.bulk_type).await?;
        let Some(uri) = item.file_uri().map(str::to_owned) else {
            return Err(CollectorError::malformed_because(
                SOURCE,
                format!("the {} item names no download URI", item.kind),
            ));
        };
        let build = (item.updated_at.clone(), index.len());
        if self.last_done.as_ref() == Some(&build) {
            tracing::debug!(source = SOURCE, updated_at = %item.updated_at, "unchanged; skipping");
            self.skipped(report);
            return Ok(());
        }
        report.requests += 1;
        let body = self.client.download(&uri).await?;
        let mut mapper = PassMapper::new(index.clone(), now());
        let stats = self.read_and_map(body, &mut mapper, sink, report).await?;
        mapper.finish(&self.market.identity.bridge, &self.market.unmapped);
        self.finish_pass(&item.updated_at, &stats, &mapper.counts, &index, report);
        if report.errors == 0 {
            self.last_done = Some(build);
        }
        self.last_counts = mapper.counts;
        Ok(())
    }

    fn skipped(&self, report: &mut PassReport) {
        metrics::counter!(internal_events::PASSES_SKIPPED, "source" => SOURCE).increment(1);
        report.skipped = true;
    }

    /// Reads `body` on a blocking thread, maps its cards here as they come and publishes.
    async fn read_and_map(
        &self,
        body: bytes::Bytes,
        mapper: &mut PassMapper,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<ReadStats, CollectorError> {
        let (tx, mut rx) = mpsc::channel::<Vec<(Card, Language)>>(4);
        let languages = self.languages.clone();
        let reader = tokio::task::spawn_blocking(move || read_tracked(&body, &languages, &tx));
        let mut published = Ok(());
        while let Some(batch) = rx.recv().await {
            for (card, language) in batch {
                mapper.card(card, language, &self.market.unmapped, report);
            }
            if mapper.pending.len() >= PUBLISH_BATCH {
                published = publish(sink, &mut mapper.pending, report).await;
                if published.is_err() {
                    // Dropping the receiver stops the reader.
                    break;
                }
            }
        }
        drop(rx);
        let read = reader.await.map_err(|e| {
            CollectorError::malformed_because(SOURCE, format!("bulk file reader failed: {e}"))
        });
        published?;
        publish(sink, &mut mapper.pending, report).await?;
        read?
    }

    /// Logs the pass and says what went wrong without failing it.
    fn finish_pass(
        &self,
        updated_at: &str,
        stats: &ReadStats,
        counts: &Counts,
        index: &ProductIndex,
        report: &mut PassReport,
    ) {
        if stats.bad_lines > 0 {
            let e = CollectorError::malformed_because(
                SOURCE,
                stats.first_bad.clone().unwrap_or_default(),
            );
            report.degrade(
                SOURCE,
                format!("{} lines of the bulk file", stats.bad_lines),
                "those cards not priced this pass",
                &e,
            );
        }
        if counts.cards > 0 && counts.mapped == 0 {
            let e = CollectorError::Config(format!(
                "none of {} cards is in our catalog of {} products (is Magic, category 1, collected?)",
                counts.cards,
                index.len()
            ));
            report.degrade(SOURCE, "mapping cards to our catalog", "nothing priced", &e);
        }
        tracing::info!(
            source = SOURCE,
            updated_at,
            read = stats.cards,
            cards = counts.cards,
            mapped = counts.mapped,
            listed_unmapped = counts.listed,
            bridged = counts.bridged,
            bridged_scryfall = counts.bridged_scryfall,
            bridge_conflicts = counts.bridge_conflicts,
            "bulk file read"
        );
    }
}

/// Reads the cards of `body` (of a tracked language, not digital-only) and sends them on in
/// batches; stops when the receiver is gone.
fn read_tracked(
    body: &[u8],
    languages: &[(String, Language)],
    tx: &mpsc::Sender<Vec<(Card, Language)>>,
) -> Result<ReadStats, CollectorError> {
    let mut batch = Vec::with_capacity(READ_BATCH);
    let mut gone = false;
    let read = read_cards(body, |card| {
        if card.digital {
            return Next::Continue;
        }
        let Some((_, language)) = languages.iter().find(|(code, _)| *code == card.lang) else {
            return Next::Continue;
        };
        batch.push((card, language.clone()));
        if batch.len() >= READ_BATCH {
            gone = tx.blocking_send(std::mem::take(&mut batch)).is_err();
        }
        if gone { Next::Stop } else { Next::Continue }
    });
    // The cards read before a failure are priced too.
    if !gone && !batch.is_empty() {
        let _ = tx.blocking_send(batch);
    }
    read
}

/// Publishes the pending quotes.
async fn publish(
    sink: &dyn QuoteSink,
    pending: &mut Vec<tcg_schemas::RawQuote>,
    report: &mut PassReport,
) -> Result<(), CollectorError> {
    if pending.is_empty() {
        return Ok(());
    }
    let quotes = std::mem::take(pending);
    let n = quotes.len();
    sink.publish(quotes).await?;
    telemetry::quotes(SOURCE, n);
    report.quotes += n as u64;
    Ok(())
}

impl Source for ScryfallSource {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn collect_into<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
        report: &'a mut PassReport,
    ) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(async move {
            self.retry_soon = false;
            let result = self.pass(sink, report).await;
            if result.is_err() {
                self.retry_soon = true;
            }
            result
        })
    }

    fn next_delay(&self) -> Duration {
        let secs = if self.retry_soon {
            self.config.retry_secs.min(self.config.poll_interval_secs)
        } else {
            self.config.poll_interval_secs
        };
        Duration::from_secs(secs.max(1))
    }
}
