//! `process(now, batch)`: the core's one entry point.

use std::{borrow::Cow, hash::BuildHasher};

use rustc_hash::FxBuildHasher;
use tcg_schemas::{
    AlertRule, Condition, EbayItem, FxRates, Money, PriceKind, RawQuote, RuleChange, SeriesKey,
    Source, Subject, Tick, Timestamp,
};

use crate::{
    config::CoreConfig,
    fair,
    normalize::{Normalized, normalize_with},
    output::{Output, Rejection, Stats},
    rules::{self, Context, RuleBook, RuleError},
    state::{ItemOutcome, ItemState, Memory, Snapshot, StreamState},
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
        self.memory.streams()
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
        // A quote makes at most a tick and a fair tick.
        let mut out = Output {
            ticks: Vec::with_capacity(batch.len() * 2),
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
        let at = quote.observed_at;
        let market = self.market_price(&n.series, quote.kind);
        let watched = !self.rules.for_product(n.series.product_id()).is_empty();
        let slot = self.memory.stream(&n.series, quote.source, quote.kind);
        let stream = slot.state;
        out.stats.evicted += slot.evicted;
        let aggregate = n.listing_id.is_none();
        let heartbeat_secs = self.config.heartbeat_secs;
        let Some(heartbeat) = admit(
            stream,
            slot.known && aggregate,
            at,
            n.price_usd.minor,
            heartbeat_secs,
            &mut out.stats,
        ) else {
            return;
        };
        let series_id = slot.series_id.to_owned();
        let fair_input =
            fair::input_bit(quote.source, quote.kind).map(|bit| (bit, n.series.clone()));
        let game = n.game;
        let tick = Tick {
            series_id,
            series: n.series,
            game,
            source: quote.source,
            kind: quote.kind,
            observed_at: at,
            price_usd: n.price_usd,
            original: quote.price,
            shipping: quote.shipping,
            listing_id: n.listing_id.map(str::to_owned),
            confidence: n.confidence,
            agreeing: Vec::new(),
            heartbeat,
        };
        if heartbeat {
            out.stats.heartbeats += 1;
        } else {
            out.stats.ticks += 1;
        }
        if watched && !heartbeat {
            let state = std::mem::take(stream);
            self.settle_watched(state, tick, market, out);
        } else {
            record(stream, &tick, &self.config);
            out.ticks.push(tick);
        }
        if let Some((bit, series)) = fair_input {
            self.update_fair(series, bit, game, at, out);
        }
    }

    /// Evaluates the product's rules on `tick` against its stream's `state` (taken out of memory,
    /// so that the rules may read the series' other streams), records the tick and puts `state`
    /// back.
    fn settle_watched(
        &mut self,
        mut state: StreamState,
        tick: Tick,
        market: Option<i64>,
        out: &mut Output,
    ) {
        let rules = self.rules.for_product(tick.series.product_id());
        let ctx = Context {
            market,
            streams: self.memory.peek(&tick.series),
        };
        rules::evaluate(rules, &tick, &mut state, ctx, &mut out.alerts);
        record(&mut state, &tick, &self.config);
        if let Some(slot) = self
            .memory
            .series
            .get_mut(&tick.series)
            .and_then(|s| s.get_mut(tick.source, tick.kind))
        {
            *slot = state;
        }
        out.ticks.push(tick);
    }

    /// Recomputes the fair value of `series` (its fair stream) after a tick of the input `bit`
    /// at `at`, and emits a `fair` tick when it or its agreeing sources changed (or a heartbeat
    /// when one is due). The tick is stamped `at`, or one microsecond after the series' previous
    /// fair tick when that is not earlier (fair ticks of a series never share an instant and
    /// never go back).
    fn update_fair(
        &mut self,
        series: SeriesKey,
        bit: u32,
        game: tcg_schemas::Game,
        at: Timestamp,
        out: &mut Output,
    ) {
        let Some(streams) = self.memory.series.get_mut(&series) else {
            return;
        };
        // The fair stream remembers which inputs priced the series (a full scan when it is new).
        let (prev, known) = match streams.get_mut(Source::Tcgtracker, PriceKind::Fair) {
            Some(s) => {
                let known = (s.inputs != 0).then(|| {
                    s.inputs |= bit;
                    s.inputs
                });
                (
                    Some((
                        s.last_price,
                        s.last_observed_at,
                        s.last_emitted_at,
                        s.agreeing,
                    )),
                    known,
                )
            }
            None => (None, None),
        };
        let mask = known.unwrap_or_else(|| fair::scan(streams));
        let reference = prev
            .filter(|p| at.as_secs() - p.2.as_secs() <= fair::REFERENCE_TTL_SECS)
            .map(|p| p.0);
        let mut candidates = fair::Candidates::default();
        fair::fill_candidates(streams, at, mask, &mut candidates);
        let Some(value) = fair::blend_masked(candidates.as_mut_slice(), reference, at) else {
            return;
        };
        let stamp = match prev {
            Some((_, last, _, _)) if at <= last => Timestamp::from_micros(last.as_micros() + 1),
            _ => at,
        };
        let agreeing = value.agreeing;
        let heartbeat = match prev {
            Some((cents, _, emitted, was)) if cents == value.cents && was == agreeing => {
                let due = self.config.heartbeat_secs.saturating_mul(1_000_000);
                if stamp.as_micros() - emitted.as_micros() < due {
                    return;
                }
                true
            }
            _ => false,
        };
        let price = Money::usd_cents(value.cents);
        let tick = Tick {
            series_id: streams.id().to_owned(),
            series,
            game,
            source: Source::Tcgtracker,
            kind: PriceKind::Fair,
            observed_at: stamp,
            price_usd: price,
            original: price,
            shipping: None,
            listing_id: None,
            confidence: Some(value.confidence),
            agreeing: value.agreeing_sources(),
            heartbeat,
        };
        out.stats.fair += 1;
        let watched = !heartbeat && !self.rules.for_product(tick.series.product_id()).is_empty();
        let slot = self
            .memory
            .stream(&tick.series, Source::Tcgtracker, PriceKind::Fair);
        let stream = slot.state;
        out.stats.evicted += slot.evicted;
        stream.inputs = mask;
        stream.agreeing = agreeing;
        if watched {
            let state = std::mem::take(stream);
            self.settle_watched(state, tick, None, out);
        } else {
            record(stream, &tick, &self.config);
            out.ticks.push(tick);
        }
    }

    /// The fair value of `series` as the core would compute it at `at`, with its confidence and
    /// the sources that agree (a `fair` tick carries the value, the confidence and the agreeing
    /// sources of the moment the value or those sources last changed).
    pub fn fair_value(&self, series: &SeriesKey, at: Timestamp) -> Option<fair::Fair> {
        let streams = self.memory.peek(series)?;
        let reference = streams
            .get(Source::Tcgtracker, PriceKind::Fair)
            .filter(|s| at.as_secs() - s.last_emitted_at.as_secs() <= fair::REFERENCE_TTL_SECS)
            .map(|s| s.last_price);
        let mask = fair::scan(streams);
        let mut candidates = fair::candidates(streams, at, mask);
        fair::blend_in_place(candidates.as_mut_slice(), reference, at)
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
        if !matches!(
            kind,
            PriceKind::Listing | PriceKind::Sold | PriceKind::Buylist
        ) || self.rules.for_product(series.product_id()).is_empty()
        {
            return None;
        }
        let reference = match series {
            SeriesKey::Sku {
                product_id,
                printing,
                condition,
                language,
            } if crate::title::is_unstated(condition) => Cow::Owned(SeriesKey::Sku {
                product_id: *product_id,
                printing: printing.clone(),
                condition: Condition::NearMint,
                language: language.clone(),
            }),
            _ => Cow::Borrowed(series),
        };
        let streams = self.memory.peek(&reference)?;
        [Source::Tcgplayer, Source::Tcgcsv]
            .into_iter()
            .filter_map(|source| streams.get(source, PriceKind::Market))
            .max_by_key(|s| s.last_observed_at)
            .map(|s| s.last_price)
    }

    /// A copy of the whole state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: Snapshot::VERSION,
            streams: self
                .memory
                .iter_streams()
                .map(|(k, v)| (k, v.clone()))
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
            *p.memory.stream(&k.series, k.source, k.kind).state = v;
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

/// Whether a normalized price makes a tick: `None` for a duplicate (an observation not newer than
/// the stream's last) or an unchanged price not due a heartbeat, else whether the tick is a
/// heartbeat. `dedup` is false for a new stream and for single items (every listing is news).
fn admit(
    stream: &mut StreamState,
    dedup: bool,
    at: Timestamp,
    cents: i64,
    heartbeat_secs: i64,
    stats: &mut Stats,
) -> Option<bool> {
    if !dedup {
        return Some(false);
    }
    if at <= stream.last_observed_at {
        stats.duplicates += 1;
        return None;
    }
    if cents != stream.last_price {
        return Some(false);
    }
    if at.as_micros() - stream.last_emitted_at.as_micros()
        >= heartbeat_secs.saturating_mul(1_000_000)
    {
        return Some(true);
    }
    stream.last_observed_at = at;
    stats.unchanged += 1;
    None
}

/// Records a tick's price in its stream (after the rules have looked at the state before it).
fn record(stream: &mut StreamState, tick: &Tick, config: &CoreConfig) {
    stream.record(
        tick.observed_at,
        tick.price_usd.minor,
        tick.heartbeat,
        config.max_window_secs,
        config.max_window_points,
        config.max_history_days,
    );
}
