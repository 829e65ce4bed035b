//! The PriceCharting source (`Source::Pricecharting`): prices of trading cards from recent sales,
//! ungraded and per grade, in USD.
//!
//! A pass downloads the CSV price guide of each configured game (one request a category a day:
//! every product with its prices and, mostly, the TCGplayer id) and maps every single card to
//! ours ([`mapping`]). The JSON API (one product a call, one call a second) is the fallback: when
//! a guide cannot be downloaded (refused, cut, an HTML page, a server error), the products that
//! mapped in an earlier pass are read one by one (up to `api_fallback_per_pass`), and with none
//! known, one search says whether the token works. A token the API refuses fails the pass.
//!
//! Each mapped card gives kind `sales` quotes: the ungraded price (`loose-price`) in its printing
//! (condition left to the series' Near Mint, as PriceCharting does not split by condition), and,
//! for the card itself (not its reverse holo or other versions), the graded prices of the keys
//! that name a grader (PSA, BGS, BGS Black Label, CGC, CGC Pristine, SGC, TAG, ACE 10). Grades
//! 7–9.5 are pooled across graders by PriceCharting and not quoted.

pub mod client;
pub mod mapping;
pub mod model;

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde::Deserialize;
use tcg_schemas::{RawQuote, Source as QuoteSource};

pub use client::{PricechartingClient, check_status, is_not_found};
pub use mapping::{Card, Found, GAMES, Game};
pub use model::{Guide, GuideRow, PriceKey, Prices, parse_guide, parse_product_name};

use crate::{
    CollectorError, MarketContext, PassReport, Source,
    http::HttpConfig,
    identity::{ProductIndex, UnmappedReason},
    internal_events,
    rejections::{CollectorRejectReason, CollectorRejection},
    sink::{BoxFuture, QuoteSink},
    source::now,
    telemetry,
};

use client::SOURCE;

/// PriceCharting settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricechartingConfig {
    pub base_url: String,
    /// The 40-character API token of a PriceCharting subscription (`t=`); the binary fills it
    /// from `TCG_PRICECHARTING_TOKEN`.
    pub token: String,
    /// Our categories to price: 3 Pokémon, 85 Pokémon Japan, 1 Magic, 2 Yu-Gi-Oh!, 68 One Piece,
    /// 71 Lorcana.
    pub categories: Vec<u32>,
    /// Seconds between passes: PriceCharting recomputes its prices once a day.
    pub poll_interval_secs: u64,
    /// Seconds before the next pass after one that failed, degraded or found our catalog empty.
    pub retry_interval_secs: u64,
    /// Requests a day, guides and API calls together.
    pub daily_budget: u32,
    /// API calls a pass may make for a game whose guide could not be downloaded.
    pub api_fallback_per_pass: u32,
    /// Spacing (`min_interval_ms`, default 1,100: PriceCharting allows one call a second) and
    /// timeouts (a guide is tens of megabytes).
    pub http: HttpConfig,
}

impl Default for PricechartingConfig {
    fn default() -> Self {
        PricechartingConfig {
            base_url: "https://www.pricecharting.com".into(),
            token: String::new(),
            categories: vec![3],
            poll_interval_secs: 86_400,
            retry_interval_secs: 3_600,
            daily_budget: 1_000,
            api_fallback_per_pass: 200,
            http: HttpConfig {
                min_interval_ms: 1_100,
                request_timeout_ms: 180_000,
                ..HttpConfig::default()
            },
        }
    }
}

/// Quotes published per sink call.
const PUBLISH_BATCH: usize = 1_000;

/// A card of a pass that mapped, with its quotes.
struct MappedCard {
    external_id: String,
    product_id: tcg_schemas::ProductId,
    quotes: Vec<RawQuote>,
}

/// Collects PriceCharting's guides once a day.
#[derive(Debug)]
pub struct PricechartingSource {
    config: PricechartingConfig,
    games: Vec<Game>,
    client: PricechartingClient,
    market: MarketContext,
    /// PriceCharting ids that mapped in the last guide of each slug (the API fallback's list),
    /// and where the next fallback starts in it.
    known: HashMap<&'static str, (Vec<String>, usize)>,
    retry_soon: bool,
}

impl PricechartingSource {
    pub fn new(config: PricechartingConfig, market: MarketContext) -> Result<Self, CollectorError> {
        let mut games = Vec::new();
        for &c in &config.categories {
            let game = Game::of(c).ok_or_else(|| {
                CollectorError::Config(format!(
                    "PriceCharting has no card guide for category {c} (known: 1, 2, 3, 68, 71, 85)"
                ))
            })?;
            if !games.contains(&game) {
                games.push(game);
            }
        }
        Ok(PricechartingSource {
            client: PricechartingClient::new(&config)?,
            config,
            games,
            market,
            known: HashMap::new(),
            retry_soon: false,
        })
    }

    pub fn client(&self) -> &PricechartingClient {
        &self.client
    }

    /// PriceCharting categories to download, each once.
    fn slugs(&self) -> Vec<&'static str> {
        let mut slugs: Vec<&'static str> = Vec::new();
        for g in &self.games {
            if !slugs.contains(&g.slug) {
                slugs.push(g.slug);
            }
        }
        slugs
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let index: Arc<ProductIndex> = self.market.identity.catalog.borrow().clone();
        if index.is_empty() {
            tracing::info!(
                source = SOURCE,
                "our catalog is empty: nothing can be mapped; pass skipped"
            );
            metrics::counter!(internal_events::PASSES_SKIPPED, "source" => SOURCE).increment(1);
            report.skipped = true;
            return Ok(());
        }
        let mut cards = Vec::new();
        for slug in self.slugs() {
            let (rows, whole) = self.rows_of(slug, report).await?;
            let mapped = self.map_rows(&index, slug, &rows, report);
            if whole {
                self.remember(slug, &mapped);
            }
            cards.extend(mapped);
        }
        let quotes = self.without_conflicts(cards);
        for chunk in quotes.chunks(PUBLISH_BATCH) {
            sink.publish(chunk.to_vec()).await?;
            telemetry::quotes(SOURCE, chunk.len());
            report.quotes += chunk.len() as u64;
        }
        Ok(())
    }

    /// The rows of one PriceCharting category: its whole guide (`true`), else what the API
    /// fallback reads (`false`).
    async fn rows_of(
        &mut self,
        slug: &'static str,
        report: &mut PassReport,
    ) -> Result<(Vec<GuideRow>, bool), CollectorError> {
        report.requests += 1;
        match self.client.guide(slug).await {
            Ok(guide) => {
                telemetry::dropped(SOURCE, guide.bad_cells);
                report.errors += guide.bad_cells as u64;
                Ok((guide.rows, true))
            }
            Err(e) if is_fatal(&e) => Err(e),
            Err(e) => {
                report.degrade(
                    SOURCE,
                    format!("price guide {slug}"),
                    "its known products read from the API instead",
                    &e,
                );
                Ok((self.fallback(slug, report).await?, false))
            }
        }
    }

    /// The products of `slug` known from earlier guides, from the API (a rotating share of them
    /// each pass); with none known, one search checks the token.
    async fn fallback(
        &mut self,
        slug: &'static str,
        report: &mut PassReport,
    ) -> Result<Vec<GuideRow>, CollectorError> {
        let cap = self.config.api_fallback_per_pass as usize;
        let ids: Vec<String> = match self.known.get_mut(slug) {
            Some((ids, next)) if !ids.is_empty() && cap > 0 => {
                let start = *next % ids.len();
                let take: Vec<String> = ids
                    .iter()
                    .cycle()
                    .skip(start)
                    .take(cap.min(ids.len()))
                    .cloned()
                    .collect();
                *next = start + take.len();
                take
            }
            _ => Vec::new(),
        };
        if ids.is_empty() {
            report.requests += 1;
            return match self.client.search(slug.trim_end_matches("-cards")).await {
                Err(e) if is_fatal(&e) => Err(e),
                _ => Ok(Vec::new()),
            };
        }
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            report.requests += 1;
            match self.client.product(&id).await {
                Ok((row, bad)) => {
                    telemetry::dropped(SOURCE, bad);
                    report.errors += bad as u64;
                    rows.push(row);
                }
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) if is_not_found(&e) => {
                    tracing::info!(source = SOURCE, id, "product no longer on PriceCharting");
                    if let Some((known, _)) = self.known.get_mut(slug) {
                        known.retain(|k| *k != id);
                    }
                }
                Err(e) => {
                    report.degrade(
                        SOURCE,
                        format!("product {id} from the API"),
                        "the rest of the fallback waits for the next pass",
                        &e,
                    );
                    break;
                }
            }
        }
        Ok(rows)
    }

    /// Maps the rows of `slug`: each configured game's cards, listed when unmapped or ambiguous,
    /// rejected (`no_prices`) when they map but have no price.
    fn map_rows(
        &self,
        index: &ProductIndex,
        slug: &'static str,
        rows: &[GuideRow],
        report: &mut PassReport,
    ) -> Vec<MappedCard> {
        let at = now();
        let games: Vec<Game> = self
            .games
            .iter()
            .copied()
            .filter(|g| g.slug == slug)
            .collect();
        let mut mapped = Vec::new();
        let mut counts = [0u64; 3];
        for row in rows {
            let Some(card) = games.iter().find_map(|g| Card::read(*g, row)) else {
                continue;
            };
            let number = card.parsed.number.as_deref();
            let (why, candidates) = match card.find(index) {
                Found::Mapped {
                    product_id,
                    mapping,
                } => {
                    counts[0] += 1;
                    self.market.unmapped.mapped(SOURCE, &row.id);
                    let quotes = mapping::quotes(&card, product_id, &mapping, at);
                    if quotes.is_empty() {
                        report.reject(no_prices(&card, product_id, at));
                    }
                    mapped.push(MappedCard {
                        external_id: row.id.clone(),
                        product_id,
                        quotes,
                    });
                    continue;
                }
                Found::Ambiguous(ids) => (UnmappedReason::Ambiguous, ids),
                Found::Unmapped => (UnmappedReason::Unmapped, Vec::new()),
            };
            counts[if why == UnmappedReason::Ambiguous {
                1
            } else {
                2
            }] += 1;
            self.market.unmapped.met(
                SOURCE,
                &row.id,
                why,
                &row.product_name,
                number,
                Some(card.set),
                candidates,
                at,
            );
        }
        tracing::info!(
            source = SOURCE,
            slug,
            rows = rows.len(),
            mapped = counts[0],
            ambiguous = counts[1],
            unmapped = counts[2],
            "guide mapped"
        );
        mapped
    }

    /// Keeps the ids that mapped, for the API fallback.
    fn remember(&mut self, slug: &'static str, mapped: &[MappedCard]) {
        let ids = mapped.iter().map(|m| m.external_id.clone()).collect();
        self.known.insert(slug, (ids, 0));
    }

    /// The quotes of the pass, without the series two PriceCharting products price (both are
    /// listed as ambiguous: which one is ours cannot be told).
    fn without_conflicts(&self, cards: Vec<MappedCard>) -> Vec<RawQuote> {
        let mut owners: HashMap<String, &str> = HashMap::new();
        let mut conflicted: HashMap<String, tcg_schemas::ProductId> = HashMap::new();
        for card in &cards {
            for q in &card.quotes {
                let key = mapping::series_key(q);
                match owners.get(key.as_str()) {
                    Some(other) if *other != card.external_id => {
                        conflicted.insert((*other).to_owned(), card.product_id);
                        conflicted.insert(card.external_id.clone(), card.product_id);
                    }
                    _ => {
                        owners.insert(key, &card.external_id);
                    }
                }
            }
        }
        drop(owners);
        let at = now();
        for (id, product) in &conflicted {
            tracing::warn!(
                source = SOURCE,
                id,
                product = product.0,
                "two PriceCharting products price one series"
            );
            self.market.unmapped.met(
                SOURCE,
                id,
                UnmappedReason::Ambiguous,
                &format!("one of several PriceCharting products of our {}", product.0),
                None,
                None,
                vec![*product],
                at,
            );
        }
        cards
            .into_iter()
            .filter(|c| !conflicted.contains_key(c.external_id.as_str()))
            .flat_map(|c| c.quotes)
            .collect()
    }
}

/// A mapped card without any price.
fn no_prices(
    card: &Card<'_>,
    product_id: tcg_schemas::ProductId,
    at: tcg_schemas::Timestamp,
) -> CollectorRejection {
    CollectorRejection {
        source: SOURCE.to_owned(),
        at,
        reason: CollectorRejectReason::NoPrices,
        category_id: Some(card.game.category_id),
        group_id: None,
        product_id: Some(product_id.0),
        sub_type_name: Some(card.printing().to_owned()),
        detail: format!(
            "PriceCharting {} \"{}\" has no ungraded or graded price",
            card.row.id, card.row.product_name
        ),
    }
}

/// Errors that stop a pass: a refused token, an open breaker, a spent budget, a failed sink.
fn is_fatal(e: &CollectorError) -> bool {
    matches!(
        e,
        CollectorError::Auth { .. }
            | CollectorError::BreakerOpen { .. }
            | CollectorError::BudgetExhausted { .. }
            | CollectorError::Sink(_)
    )
}

impl Source for PricechartingSource {
    fn name(&self) -> &'static str {
        QuoteSource::Pricecharting.as_str()
    }

    fn collect_into<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
        report: &'a mut PassReport,
    ) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(async move {
            let result = self.pass(sink, report).await;
            // A failed, degraded or skipped pass is tried again soon; odd cells in a guide are
            // not worth another download.
            self.retry_soon = result.is_err() || report.skipped || !report.degraded.is_empty();
            result
        })
    }

    fn next_delay(&self) -> Duration {
        let secs = if self.retry_soon {
            self.config
                .retry_interval_secs
                .min(self.config.poll_interval_secs)
        } else {
            self.config.poll_interval_secs
        };
        Duration::from_secs(secs.max(1))
    }
}
