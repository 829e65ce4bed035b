//! `process(now, batch)`: the core's one entry point.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;
use tcg_schemas::{
    AlertRule, Condition, EbayItem, FxRates, PriceKind, RawQuote, RuleChange, SeriesKey, Source,
    Subject, Tick, Timestamp,
};

use crate::{
    config::CoreConfig,
    normalize::{Normalized, normalize_with},
    output::{Output, Rejection, Stats},
    rules::{self, Context, RuleBook, RuleError},
    state::{ItemOutcome, ItemState, Memory, Snapshot, StreamKey},
    title::{TitleMatch, TitleReject},
};

/// What the item memory knows of an eBay quote.
enum Seen {
    New,
    Duplicate,
    Unchanged,
    Known(Result<TitleMatch, TitleReject>),
}

/// The processor core: configuration, rules, exchange rates and bounded memory.
///
/// `process` is deterministic: the same state, `now` and batch give the same output and the same
/// next state. It reads no clock and does no I/O.
#[derive(Debug)]
pub struct Processor {
    config: CoreConfig,
    rules: RuleBook,
    fx: FxRates,
    memory: Memory,
}

impl Processor {
    pub fn new(config: CoreConfig) -> Self {
        let memory = Memory::new(config.max_streams, config.max_listings);
        Processor {
            config,
            rules: RuleBook::default(),
            fx: FxRates::default(),
            memory,
        }
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// Replaces the exchange rates used from the next quote on.
    pub fn set_fx_rates(&mut self, fx: FxRates) {
        self.fx = fx;
    }

    pub fn fx_rates(&self) -> &FxRates {
        &self.fx
    }

    /// Adds or replaces a rule after validating it.
    pub fn upsert_rule(&mut self, rule: AlertRule) -> Result<(), RuleError> {
        rules::validate(&rule, &self.config)?;
        self.rules.upsert(rule);
        Ok(())
    }

    /// Applies a change from the rules topic (invalid upserts are refused).
    pub fn apply_rule_change(&mut self, change: RuleChange) -> Result<(), RuleError> {
        if let RuleChange::Upsert { rule } = &change {
            rules::validate(rule, &self.config)?;
        }
        self.rules.apply(change);
        Ok(())
    }

    pub fn rules(&self) -> &RuleBook {
        &self.rules
    }

    /// Number of streams in memory.
    pub fn streams_in_memory(&self) -> usize {
        self.memory.streams.len()
    }

    /// Number of eBay items in memory.
    pub fn items_in_memory(&self) -> usize {
        self.memory.items.len()
    }

    /// Processes a batch: ticks, alerts and rejections, in quote order.
    pub fn process(&mut self, now: Timestamp, batch: &[RawQuote]) -> Output {
        self.process_at(batch, |_| now)
    }

    /// Like [`Self::process`], with a `now` per quote (e.g. the time its message was produced,
    /// which makes a replay of a log give exactly the same output whatever the batch bounds).
    pub fn process_at(&mut self, batch: &[RawQuote], now: impl Fn(usize) -> Timestamp) -> Output {
        let mut out = Output {
            ticks: Vec::with_capacity(batch.len()),
            ..Output::default()
        };
        self.process_into(batch, now, &mut out);
        out
    }

    /// Like [`Self::process_at`], appending to `out` (whose buffers a long-running caller keeps
    /// from batch to batch) and adding to its counters. The `index` of a rejection added by this
    /// call is the quote's position in `batch`.
    pub fn process_into(
        &mut self,
        batch: &[RawQuote],
        now: impl Fn(usize) -> Timestamp,
        out: &mut Output,
    ) {
        let alerts_before = out.alerts.len();
        for (index, quote) in batch.iter().enumerate() {
            out.stats.quotes += 1;
            let item = match &quote.subject {
                Subject::EbayItem(item) => Some(item),
                _ => None,
            };
            let mut cached = None;
            let mut title_hash = 0;
            if let Some(item) = item {
                title_hash = FxBuildHasher.hash_one(item.title.as_str());
                match self.seen_item(quote, item.item_id.as_str(), title_hash) {
                    Seen::Duplicate => {
                        out.stats.duplicates += 1;
                        continue;
                    }
                    Seen::Unchanged => {
                        out.stats.unchanged += 1;
                        continue;
                    }
                    Seen::Known(outcome) => cached = Some(outcome),
                    Seen::New => {}
                }
            }
            match normalize_with(quote, now(index), &self.config, &self.fx, cached) {
                Ok(n) => {
                    if let (Some(item), Some(confidence)) = (item, n.confidence) {
                        let outcome = ItemOutcome::Priced {
                            series: n.series.clone(),
                            confidence,
                        };
                        out.stats.evicted += self.remember_item(quote, item, title_hash, outcome);
                    }
                    self.accept(quote, n, out);
                }
                Err(invalid) => {
                    if let Some(item) = item.filter(|_| !invalid.reason.is_invalid_input()) {
                        let outcome = ItemOutcome::Rejected {
                            reason: invalid.reason,
                        };
                        out.stats.evicted += self.remember_item(quote, item, title_hash, outcome);
                    }
                    out.stats.rejected += 1;
                    out.rejected.push(Rejection {
                        index,
                        reason: invalid.reason,
                        detail: invalid.detail,
                        confidence: invalid.confidence,
                        quote: quote.clone(),
                    });
                }
            }
        }
        out.stats.alerts += (out.alerts.len() - alerts_before) as u64;
    }

    fn accept(&mut self, quote: &RawQuote, n: Normalized<'_>, out: &mut Output) {
        let stats: &mut Stats = &mut out.stats;
        let at = quote.observed_at;
        let cents = n.price_usd.minor;

        let market = self.market_price(&n.series, quote.kind);
        let key = StreamKey {
            series: n.series.clone(),
            source: quote.source,
            kind: quote.kind,
        };
        let config = &self.config;
        let (stream, known, evicted) = self.memory.stream(key);
        stats.evicted += evicted;

        let mut heartbeat = false;
        if known && n.listing_id.is_none() {
            if at <= stream.last_observed_at {
                stats.duplicates += 1;
                return;
            }
            if cents == stream.last_price {
                if at.as_micros() - stream.last_emitted_at.as_micros()
                    >= config.heartbeat_secs.saturating_mul(1_000_000)
                {
                    heartbeat = true;
                } else {
                    stream.last_observed_at = at;
                    stats.unchanged += 1;
                    return;
                }
            }
        }

        let tick = Tick {
            series_id: n.series.id(),
            series: n.series,
            game: n.game,
            source: quote.source,
            kind: quote.kind,
            observed_at: at,
            price_usd: n.price_usd,
            original: quote.price,
            shipping: quote.shipping,
            listing_id: n.listing_id.map(str::to_owned),
            confidence: n.confidence,
            heartbeat,
        };
        if heartbeat {
            stats.heartbeats += 1;
        } else {
            stats.ticks += 1;
            let rules = self.rules.for_product(tick.series.product_id());
            if !rules.is_empty() {
                rules::evaluate(rules, &tick, stream, Context { market }, &mut out.alerts);
            }
        }
        stream.record(
            at,
            cents,
            heartbeat,
            config.max_window_secs,
            config.max_window_points,
            config.max_history_days,
        );
        out.ticks.push(tick);
    }

    /// What the item memory says about an eBay quote before it is classified.
    fn seen_item(&mut self, quote: &RawQuote, item_id: &str, title_hash: u64) -> Seen {
        let Some(state) = self.memory.items.get_mut(item_id) else {
            return Seen::New;
        };
        if quote.observed_at <= state.last_observed_at {
            return Seen::Duplicate;
        }
        if state.title_hash != title_hash {
            return Seen::New;
        }
        let same_price = state.price == quote.price && state.shipping == quote.shipping;
        match &state.outcome {
            // A rejected title stays rejected whatever its price: not reported again.
            ItemOutcome::Rejected { .. } => {
                state.last_observed_at = quote.observed_at;
                state.price = quote.price;
                state.shipping = quote.shipping;
                Seen::Unchanged
            }
            ItemOutcome::Priced { .. } if same_price => {
                state.last_observed_at = quote.observed_at;
                Seen::Unchanged
            }
            ItemOutcome::Priced { series, confidence } => Seen::Known(Ok(TitleMatch {
                series: series.clone(),
                confidence: *confidence,
            })),
        }
    }

    fn remember_item(
        &mut self,
        quote: &RawQuote,
        item: &EbayItem,
        title_hash: u64,
        outcome: ItemOutcome,
    ) -> u64 {
        self.memory.put_item(
            &item.item_id,
            ItemState {
                last_observed_at: quote.observed_at,
                price: quote.price,
                shipping: quote.shipping,
                title_hash,
                outcome,
            },
        )
    }

    /// The latest TCGplayer market price of `series` (for deal rules on single items). A raw
    /// listing that states no condition is compared with the Near Mint market of the same
    /// product, printing and language (TCGplayer's product-level market is Near Mint's).
    fn market_price(&self, series: &SeriesKey, kind: PriceKind) -> Option<i64> {
        if !matches!(kind, PriceKind::Listing | PriceKind::Sold)
            || self.rules.for_product(series.product_id()).is_empty()
        {
            return None;
        }
        let reference = match series {
            SeriesKey::Sku {
                product_id,
                printing,
                condition,
                language,
            } if crate::title::is_unstated(condition) => SeriesKey::Sku {
                product_id: *product_id,
                printing: printing.clone(),
                condition: Condition::NearMint,
                language: language.clone(),
            },
            _ => series.clone(),
        };
        [Source::Tcgplayer, Source::Tcgcsv]
            .into_iter()
            .filter_map(|source| {
                self.memory.streams.peek(&StreamKey {
                    series: reference.clone(),
                    source,
                    kind: PriceKind::Market,
                })
            })
            .max_by_key(|s| s.last_observed_at)
            .map(|s| s.last_price)
    }

    /// A copy of the whole state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: Snapshot::VERSION,
            streams: self
                .memory
                .streams
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            items: self
                .memory
                .items
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            rules: self.rules.all(),
            fx: self.fx.clone(),
        }
    }

    /// A processor continuing from a snapshot (the caps of `config` apply).
    pub fn restore(config: CoreConfig, snapshot: Snapshot) -> Result<Self, RuleError> {
        let mut p = Processor::new(config);
        for (k, v) in snapshot.streams {
            *p.memory.stream(k).0 = v;
        }
        for (k, v) in snapshot.items {
            p.memory.put_item(&k, v);
        }
        for rule in snapshot.rules {
            p.upsert_rule(rule)?;
        }
        p.fx = snapshot.fx;
        Ok(p)
    }
}
