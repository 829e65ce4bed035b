//! `process(now, batch)`: the core's one entry point.

use tcg_schemas::{
    AlertRule, FxRates, PriceKind, RawQuote, RuleChange, SeriesKey, Source, Tick, Timestamp,
};

use crate::{
    config::CoreConfig,
    normalize::{Normalized, normalize},
    output::{Output, Rejection, Stats},
    rules::{self, Context, RuleBook, RuleError},
    state::{ItemState, Memory, Snapshot, StreamKey},
};

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
        let mut out = Output {
            ticks: Vec::with_capacity(batch.len()),
            ..Output::default()
        };
        for (index, quote) in batch.iter().enumerate() {
            out.stats.quotes += 1;
            match normalize(quote, now, &self.config, &self.fx) {
                Ok(n) => self.accept(quote, n, &mut out),
                Err(invalid) => {
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
        out.stats.alerts = out.alerts.len() as u64;
        out
    }

    fn accept(&mut self, quote: &RawQuote, n: Normalized<'_>, out: &mut Output) {
        let stats: &mut Stats = &mut out.stats;
        let at = quote.observed_at;
        let cents = n.price_usd.minor;

        // Single items: dedup by item id.
        if let Some(item_id) = n.listing_id {
            match self.memory.items.get_mut(item_id) {
                Some(item) if at <= item.last_observed_at => {
                    stats.duplicates += 1;
                    return;
                }
                Some(item) if item.price == cents => {
                    item.last_observed_at = at;
                    stats.unchanged += 1;
                    return;
                }
                _ => {
                    stats.evicted += self.memory.put_item(
                        item_id,
                        ItemState {
                            last_observed_at: at,
                            price: cents,
                        },
                    );
                }
            }
        }

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

    /// The latest TCGplayer market price of `series` (for deal rules on single items).
    fn market_price(&self, series: &SeriesKey, kind: PriceKind) -> Option<i64> {
        if !matches!(kind, PriceKind::Listing | PriceKind::Sold)
            || self.rules.for_product(series.product_id()).is_empty()
        {
            return None;
        }
        [Source::Tcgplayer, Source::Tcgcsv]
            .into_iter()
            .filter_map(|source| {
                self.memory.streams.peek(&StreamKey {
                    series: series.clone(),
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
                .map(|(k, v)| (k.clone(), *v))
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
