//! The Cardmarket source (`Source::Cardmarket`): the European market's daily price guide (EUR),
//! read from the files Cardmarket publishes for download, mapped to our products (the Scryfall
//! id bridge for Magic; name, number and set otherwise: see [`mapping`]).
//!
//! Each game's guide is rebuilt once a day; a pass reads it, and when its `createdAt` is new (or
//! the catalog grew since), reads the game's two product lists, maps every priced product and
//! publishes its figures: kinds `trend`, `avg`, `avg1`, `avg7`, `avg30`, `low`, in EUR, Near
//! Mint and the game's default language (Cardmarket splits neither), the first printing
//! ([`Game::base_printing`]) and the second one (`-foil`, Pokémon's `-holo`) in TCGplayer's
//! words.

pub mod client;
pub mod mapping;
pub mod model;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::Duration,
};

use serde::Deserialize;
use tcg_schemas::{
    CategoryId, Mapping, MarketRow, ProductId, RawQuote, Source as QuoteSource, Subject, Timestamp,
};

pub use client::{CardmarketClient, ProductList};
pub use model::{GAMES, Game};

use crate::{
    CollectorError, MarketContext, PassReport, Source,
    http::HttpConfig,
    identity::ProductIndex,
    internal_events,
    rejections::{CollectorRejectReason, CollectorRejection},
    sink::{BoxFuture, QuoteSink},
    source::now,
    telemetry,
};
use client::SOURCE;
use mapping::{Known, Mapper, Outcome, demote_collisions};
use model::{PriceGuideFile, PriceGuideRow, Row};

/// Quotes sent to the sink at once (a game's guide prices tens of thousands of products).
const BATCH: usize = 5_000;

/// Cardmarket settings. The files are open: no credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CardmarketConfig {
    pub base_url: String,
    /// Cardmarket game ids (1 Magic, 3 Yu-Gi-Oh!, 6 Pokémon, 18 One Piece, 19 Lorcana).
    pub games: Vec<u32>,
    /// Pinned expansions: Cardmarket `idExpansion` → our set's name or code (Cardmarket names
    /// none of them; unpinned ones are named by their cards, see [`mapping`]).
    pub expansions: BTreeMap<u32, String>,
    /// How often a guide is looked at; an unchanged `createdAt` publishes nothing.
    pub poll_interval_secs: u64,
    /// The files run to tens of MB: the default request timeout is 5 minutes.
    pub http: HttpConfig,
}

impl Default for CardmarketConfig {
    fn default() -> Self {
        CardmarketConfig {
            base_url: "https://downloads.s3.cardmarket.com".into(),
            games: vec![6, 1, 3, 18],
            expansions: BTreeMap::new(),
            poll_interval_secs: 6 * 3600,
            http: HttpConfig {
                request_timeout_ms: 300_000,
                min_interval_ms: 1_000,
                ..HttpConfig::default()
            },
        }
    }
}

impl CardmarketConfig {
    /// The games of TCGplayer `categories` that Cardmarket has.
    pub fn games_for_categories(categories: &[u32]) -> Vec<u32> {
        categories
            .iter()
            .filter_map(|c| Game::by_category(*c).map(|g| g.id))
            .collect()
    }
}

/// What a game's last pass got to.
#[derive(Debug, Clone, Default)]
struct Seen {
    created_at: String,
    /// Every file read whole: an unchanged guide need not be read again.
    complete: bool,
    /// (catalog size, bridged ids) it was mapped with: a grown catalog maps again.
    catalog: (usize, usize),
    /// Products quoted from this edition (a catalog that grew quotes the others only).
    published: HashSet<u64>,
}

/// Collects Cardmarket's price guides.
pub struct CardmarketSource {
    config: CardmarketConfig,
    client: CardmarketClient,
    market: MarketContext,
    seen: HashMap<u32, Seen>,
}

impl std::fmt::Debug for CardmarketSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardmarketSource")
            .field("games", &self.config.games)
            .finish_non_exhaustive()
    }
}

/// Errors that end a pass: an open breaker, a failed sink.
fn is_fatal(e: &CollectorError) -> bool {
    matches!(
        e,
        CollectorError::BreakerOpen { .. } | CollectorError::Sink(_)
    )
}

/// The products of a game's lists, and whether both were read.
struct Lists {
    known: HashMap<u64, Known>,
    whole: bool,
}

impl CardmarketSource {
    pub fn new(config: CardmarketConfig, market: MarketContext) -> Result<Self, CollectorError> {
        if let Some(g) = config.games.iter().find(|g| Game::by_id(**g).is_none()) {
            return Err(CollectorError::Config(format!(
                "Cardmarket game {g} is not one of {:?}",
                GAMES.map(|g| g.id)
            )));
        }
        let client = CardmarketClient::new(&config)?;
        Ok(CardmarketSource {
            config,
            client,
            market,
            seen: HashMap::new(),
        })
    }

    pub fn client(&self) -> &CardmarketClient {
        &self.client
    }

    /// The `createdAt` of each game's last complete pass.
    pub fn last_seen(&self, game: u32) -> Option<&str> {
        self.seen
            .get(&game)
            .filter(|s| s.complete)
            .map(|s| s.created_at.as_str())
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let index = self.market.identity.index();
        let bridged = self.market.identity.bridge.len(QuoteSource::Cardmarket);
        if index.is_empty() && bridged == 0 {
            tracing::warn!(
                source = SOURCE,
                "our catalog is empty and no ids are bridged: nothing can be mapped; skipped"
            );
            report.skipped = true;
            return Ok(());
        }
        let (mut worked, mut unchanged, mut failed) = (0, 0, Vec::new());
        for id in self.config.games.clone() {
            let Some(game) = Game::by_id(id) else {
                continue;
            };
            match self.price_game(game, &index, sink, report).await {
                Ok(true) => worked += 1,
                Ok(false) => unchanged += 1,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => failed.push((game, e)),
            }
        }
        let mut failed = failed.into_iter();
        if worked + unchanged == 0
            && let Some((_, first)) = failed.next()
        {
            for (game, e) in failed {
                report.degrade(
                    SOURCE,
                    format!("{} price guide", game.name),
                    "game not priced",
                    &e,
                );
            }
            return Err(first);
        }
        for (game, e) in failed {
            report.degrade(
                SOURCE,
                format!("{} price guide", game.name),
                "game not priced; read again next pass",
                &e,
            );
        }
        if worked == 0 && report.errors == 0 {
            metrics::counter!(internal_events::PASSES_SKIPPED, "source" => SOURCE).increment(1);
            report.skipped = true;
        }
        Ok(())
    }

    /// One game: `false` when its guide is the edition already mapped with this catalog.
    async fn price_game(
        &mut self,
        game: &'static Game,
        index: &ProductIndex,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<bool, CollectorError> {
        report.requests += 1;
        let guide = self.client.price_guide(game.id).await?;
        let observed_at = now();
        let catalog = (
            index.len(),
            self.market.identity.bridge.len(QuoteSource::Cardmarket),
        );
        let mut seen = self.seen.remove(&game.id).unwrap_or_default();
        if seen.created_at != guide.created_at {
            seen = Seen {
                created_at: guide.created_at.clone(),
                ..Seen::default()
            };
        }
        if seen.complete && seen.catalog == catalog {
            tracing::debug!(source = SOURCE, game = game.name, created_at = %seen.created_at, "unchanged; skipping");
            self.seen.insert(game.id, seen);
            return Ok(false);
        }
        let lists = self.product_lists(game, report).await;
        let lists = match lists {
            Ok(l) => l,
            Err(e) => {
                self.seen.insert(game.id, seen);
                return Err(e);
            }
        };
        let priced = self
            .quote_guide(
                game,
                index,
                &guide,
                &lists,
                &mut seen,
                observed_at,
                sink,
                report,
            )
            .await;
        seen.complete = lists.whole && priced.is_ok();
        seen.catalog = catalog;
        self.seen.insert(game.id, seen);
        priced.map(|()| true)
    }

    /// Both product lists of `game`; a list that cannot be read degrades the pass (its products
    /// are then mapped by the bridge only, and not listed).
    async fn product_lists(
        &self,
        game: &Game,
        report: &mut PassReport,
    ) -> Result<Lists, CollectorError> {
        let mut lists = Lists {
            known: HashMap::new(),
            whole: true,
        };
        for list in [ProductList::Singles, ProductList::Nonsingles] {
            report.requests += 1;
            match self.client.products(game.id, list).await {
                Ok(file) => {
                    let sealed = list == ProductList::Nonsingles;
                    let mut bad = 0usize;
                    for row in file.products {
                        match row {
                            Row::Good(row) => {
                                lists.known.insert(row.id_product, Known { row, sealed });
                            }
                            Row::Bad(_) => bad += 1,
                        }
                    }
                    drop_rows(report, bad);
                }
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    lists.whole = false;
                    report.degrade(
                        SOURCE,
                        format!("{} {}", game.name, list.file()),
                        "its products are mapped by the id bridge only, and not listed",
                        &e,
                    );
                }
            }
        }
        Ok(lists)
    }

    /// Maps every product of the guide, lists the unmapped and ambiguous ones and publishes the
    /// figures of the mapped ones not yet published from this edition.
    #[allow(clippy::too_many_arguments)]
    async fn quote_guide(
        &self,
        game: &Game,
        index: &ProductIndex,
        guide: &PriceGuideFile,
        lists: &Lists,
        seen: &mut Seen,
        observed_at: Timestamp,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let mapper = Mapper {
            category: CategoryId(game.category),
            index,
            bridge: &self.market.identity.bridge,
        };
        let known: Vec<Known> = lists.known.values().cloned().collect();
        let expansions = mapper.expansions(&known, &self.config.expansions);
        let mut rows: Vec<&PriceGuideRow> = Vec::new();
        let mut bad = 0usize;
        for row in &guide.price_guides {
            match row {
                Row::Good(r) => rows.push(r),
                Row::Bad(_) => bad += 1,
            }
        }
        drop_rows(report, bad);
        let mut outcomes: Vec<(u64, Outcome)> = rows
            .iter()
            .map(|r| {
                let id = r.id_product;
                (id, mapper.map(id, lists.known.get(&id), &expansions))
            })
            .collect();
        demote_collisions(&mut outcomes);
        tracing::info!(
            source = SOURCE,
            game = game.name,
            created_at = %guide.created_at,
            rows = rows.len(),
            expansions = expansions.len(),
            "price guide mapped"
        );
        self.list(lists, &outcomes, observed_at);
        // Products count as published once the sink took their batch.
        let (mut batch, mut pending) = (Vec::new(), Vec::new());
        for (row, (_, outcome)) in rows.iter().zip(&outcomes) {
            let Outcome::Mapped {
                product_id,
                method,
                confidence,
            } = outcome
            else {
                continue;
            };
            if seen.published.contains(&row.id_product) {
                continue;
            }
            let mapping = Mapping {
                method: *method,
                confidence: *confidence,
            };
            let quotes = row_quotes(game, row, index, *product_id, mapping, observed_at, report);
            pending.push(row.id_product);
            batch.extend(quotes);
            if batch.len() >= BATCH {
                publish(sink, std::mem::take(&mut batch), report).await?;
                seen.published.extend(pending.drain(..));
            }
        }
        publish(sink, batch, report).await?;
        seen.published.extend(pending);
        Ok(())
    }

    /// Lists what did not map (only products the lists name, when they could be read), and
    /// forgets what maps again.
    fn list(&self, lists: &Lists, outcomes: &[(u64, Outcome)], at: Timestamp) {
        let log = &self.market.unmapped;
        for (id, outcome) in outcomes {
            let external = id.to_string();
            match outcome {
                Outcome::Mapped { .. } => log.mapped(SOURCE, &external),
                Outcome::Listed {
                    why,
                    candidates,
                    number,
                    set,
                } => {
                    let name = match lists.known.get(id) {
                        Some(k) => k.row.name.clone(),
                        None if lists.whole => format!("idProduct {id} (not in the product lists)"),
                        None => continue,
                    };
                    log.met(
                        SOURCE,
                        &external,
                        *why,
                        &name,
                        number.as_deref(),
                        set.as_deref(),
                        candidates.clone(),
                        at,
                    );
                }
            }
        }
    }
}

/// Rows of a file that fit no shape: counted as errors of the pass, never its end.
fn drop_rows(report: &mut PassReport, n: usize) {
    if n > 0 {
        telemetry::dropped(SOURCE, n);
        report.errors += n as u64;
    }
}

/// The quotes of one mapped row: every present figure of each printing. A row without any is
/// rejected (`no_prices`).
fn row_quotes(
    game: &Game,
    row: &PriceGuideRow,
    index: &ProductIndex,
    product_id: ProductId,
    mapping: Mapping,
    observed_at: Timestamp,
    report: &mut PassReport,
) -> Vec<RawQuote> {
    let entry = index.get(product_id);
    let category_id = entry.map_or(CategoryId(game.category), |e| e.category_id);
    let mut printings = vec![(row.base, game.base_printing(entry))];
    printings.extend(game.second_printing(row));
    let mut quotes = Vec::new();
    let mut dropped = 0;
    for (figures, printing) in printings {
        let priced = figures.priced();
        dropped += priced.dropped;
        for (kind, price) in priced.prices {
            quotes.push(RawQuote {
                source: QuoteSource::Cardmarket,
                observed_at,
                kind,
                price,
                shipping: None,
                subject: Subject::Market(Box::new(MarketRow {
                    category_id,
                    product_id,
                    external_id: row.id_product.to_string(),
                    mapping: mapping.clone(),
                    printing: printing.to_owned(),
                    condition: None,
                    language: None,
                    graded: None,
                    quantity: None,
                })),
            });
        }
    }
    drop_rows(report, dropped);
    if quotes.is_empty() {
        report.reject(CollectorRejection {
            source: SOURCE.to_owned(),
            at: observed_at,
            reason: CollectorRejectReason::NoPrices,
            category_id: Some(category_id.0),
            group_id: None,
            product_id: Some(product_id.0),
            sub_type_name: None,
            detail: format!(
                "Cardmarket product {}: every figure is null or 0",
                row.id_product
            ),
        });
    }
    quotes
}

async fn publish(
    sink: &dyn QuoteSink,
    quotes: Vec<RawQuote>,
    report: &mut PassReport,
) -> Result<(), CollectorError> {
    let n = quotes.len();
    if n > 0 {
        sink.publish(quotes).await?;
        telemetry::quotes(SOURCE, n);
        report.quotes += n as u64;
    }
    Ok(())
}

impl Source for CardmarketSource {
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
        Duration::from_secs(self.config.poll_interval_secs.max(1))
    }
}
