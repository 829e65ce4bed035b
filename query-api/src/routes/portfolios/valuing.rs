//! A portfolio's value at some instants, in bounded steps.
//!
//! The arithmetic is the store's ([`tcg_store::valuation::value_at`], average cost), applied one
//! holding at a time with that holding's own events, so the work grows with holdings × instants
//! (plus events), never with holdings × events. Prices are read for at most [`SERIES_PER_READ`]
//! series per store read; the arithmetic runs on the blocking pool in steps of at most
//! [`CELLS_PER_STEP`] holding-instants. The request's future awaits each step, so when it is
//! dropped (its deadline passed, its client left) the work stops after the step in hand: no step
//! is started for a request nobody waits for.

use std::{collections::HashMap, sync::Arc};

use tcg_schemas::{Holding, HoldingId, Money, PortfolioEvent, PriceKind, Source, Timestamp};
use tcg_store::{
    HoldingValue, PriceFilter, ValuationPrice,
    valuation::{Contribution, PriceBook, Sweep, contribution, holding_value, last_at_or_before},
};

use crate::{
    error::{ApiError, ApiResult},
    limits,
    state::AppState,
};

/// Series whose prices one store read fetches.
pub const SERIES_PER_READ: usize = 200;
/// Holding-instants valued in one step on the blocking pool.
pub const CELLS_PER_STEP: usize = 20_000;

/// Which prices value the holdings: `prices`, or with `fair`, tcgtracker's fair value (kind
/// `fair`) and `prices` wherever a holding has no fair value yet.
#[derive(Debug, Clone)]
pub(crate) struct Valuing {
    pub prices: ValuationPrice,
    pub fair: bool,
}

/// The prices of `ids` for `instants` as `price` says.
async fn book(
    state: &AppState,
    ids: &[String],
    instants: &[Timestamp],
    price: &Valuing,
) -> ApiResult<PriceBook> {
    let prices = state.prices();
    let chosen = limits::read(state, prices.price_book(ids, instants, &price.prices)).await?;
    if !price.fair {
        return Ok(chosen);
    }
    let fair = ValuationPrice {
        prices: PriceFilter::only(Source::Tcgtracker, PriceKind::Fair),
    };
    let fair = limits::read(state, prices.price_book(ids, instants, &fair)).await?;
    Ok(fair.or_else(chosen))
}

/// USD totals at one instant, in cents.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Totals {
    pub market: i64,
    pub cost: i64,
    pub realized: i64,
    pub unrealized: i64,
}

impl Totals {
    fn add(&mut self, c: &Contribution) {
        self.market = self.market.saturating_add(c.market);
        self.cost = self.cost.saturating_add(c.cost);
        self.realized = self.realized.saturating_add(c.realized);
        self.unrealized = self.unrealized.saturating_add(c.unrealized);
    }

    fn merge(&mut self, o: &Totals) {
        self.market = self.market.saturating_add(o.market);
        self.cost = self.cost.saturating_add(o.cost);
        self.realized = self.realized.saturating_add(o.realized);
        self.unrealized = self.unrealized.saturating_add(o.unrealized);
    }

    pub fn usd(cents: i64) -> Money {
        Money::usd_cents(cents)
    }
}

/// What [`value`] found.
#[derive(Debug, Default)]
pub(crate) struct Valued {
    /// Totals per instant, in the order given.
    pub totals: Vec<Totals>,
    /// Each holding at the last instant, in the holdings' order (when asked for).
    pub holdings: Vec<HoldingValue>,
    /// Holdings with non-USD costs (left out of the totals), in the holdings' order.
    pub non_usd: Vec<HoldingId>,
    /// Holdings with copies held and no price at the last instant (left out of its totals).
    pub unpriced: Vec<HoldingId>,
}

/// A holding with its events and its place in the portfolio's order.
struct Position {
    index: usize,
    holding: Holding,
    events: Vec<PortfolioEvent>,
}

/// One step's share of the work, and what it found.
struct Step {
    positions: Arc<Vec<Position>>,
    range: std::ops::Range<usize>,
    book: Arc<PriceBook>,
    instants: Arc<Vec<Timestamp>>,
    keep_holdings: bool,
}

#[derive(Default)]
struct Found {
    totals: Vec<Totals>,
    holdings: Vec<(usize, HoldingValue)>,
    non_usd: Vec<(usize, HoldingId)>,
    unpriced: Vec<(usize, HoldingId)>,
}

impl Step {
    /// Each holding swept once over the instants (in increasing order): its events applied as
    /// their time comes, its price found in its own series' points.
    fn run(self) -> Found {
        let mut found = Found {
            totals: vec![Totals::default(); self.instants.len()],
            ..Found::default()
        };
        let last = self.instants.len().saturating_sub(1);
        for p in &self.positions[self.range.clone()] {
            let series_id = p.holding.series().id();
            let points = self.book.points(&series_id);
            let mut sweep = Sweep::new(&p.holding, &p.events);
            let mut held = None;
            for (k, at) in self.instants.iter().enumerate() {
                let t = at.as_micros();
                let position = sweep.at(t);
                let price = last_at_or_before(points, t);
                found.totals[k].add(&contribution(position, price));
                if k == last {
                    held = Some((position, price));
                }
            }
            let Some((position, price)) = held else {
                continue;
            };
            let (value, add) = holding_value(&p.holding, series_id, position, price);
            if add.non_usd {
                found.non_usd.push((p.index, p.holding.id));
            } else if add.unpriced {
                found.unpriced.push((p.index, p.holding.id));
            }
            if self.keep_holdings {
                found.holdings.push((p.index, value));
            }
        }
        found
    }
}

/// Groups events by holding and holdings by series, in reading order.
fn positions_by_series(
    holdings: Vec<Holding>,
    events: Vec<PortfolioEvent>,
) -> Vec<(String, Vec<Position>)> {
    let mut by_holding: HashMap<HoldingId, Vec<PortfolioEvent>> = HashMap::new();
    for e in events {
        by_holding.entry(e.holding_id).or_default().push(e);
    }
    let mut series: Vec<(String, Vec<Position>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (index, holding) in holdings.into_iter().enumerate() {
        let sid = holding.series().id();
        let slot = *at.entry(sid.clone()).or_insert_with(|| {
            series.push((sid, Vec::new()));
            series.len() - 1
        });
        series[slot].1.push(Position {
            index,
            events: by_holding.remove(&holding.id).unwrap_or_default(),
            holding,
        });
    }
    series
}

/// Values `holdings` (with their `events`) at each of `instants` with `price`; with
/// `keep_holdings`, each holding's figures at the last instant too.
pub(crate) async fn value(
    state: &AppState,
    holdings: Vec<Holding>,
    events: Vec<PortfolioEvent>,
    instants: Vec<Timestamp>,
    price: &Valuing,
    keep_holdings: bool,
) -> ApiResult<Valued> {
    let instants = Arc::new(instants);
    let mut all = Found {
        totals: vec![Totals::default(); instants.len()],
        ..Found::default()
    };
    let per_step = (CELLS_PER_STEP / instants.len().max(1)).max(1);
    let groups = positions_by_series(holdings, events);
    let mut groups = groups.into_iter().peekable();
    while groups.peek().is_some() {
        let chunk: Vec<(String, Vec<Position>)> = groups.by_ref().take(SERIES_PER_READ).collect();
        let ids: Vec<String> = chunk.iter().map(|(sid, _)| sid.clone()).collect();
        let book = Arc::new(book(state, &ids, &instants, price).await?);
        let positions: Arc<Vec<Position>> =
            Arc::new(chunk.into_iter().flat_map(|(_, p)| p).collect());
        let mut start = 0;
        while start < positions.len() {
            let end = (start + per_step).min(positions.len());
            let step = Step {
                positions: positions.clone(),
                range: start..end,
                book: book.clone(),
                instants: instants.clone(),
                keep_holdings,
            };
            let found = tokio::task::spawn_blocking(move || step.run())
                .await
                .map_err(|e| ApiError::Store(tcg_store::StoreError::Task(e)))?;
            for (t, f) in all.totals.iter_mut().zip(&found.totals) {
                t.merge(f);
            }
            all.holdings.extend(found.holdings);
            all.non_usd.extend(found.non_usd);
            all.unpriced.extend(found.unpriced);
            start = end;
        }
    }
    all.holdings.sort_by_key(|(i, _)| *i);
    all.non_usd.sort_by_key(|(i, _)| *i);
    all.unpriced.sort_by_key(|(i, _)| *i);
    Ok(Valued {
        totals: all.totals,
        holdings: all.holdings.into_iter().map(|(_, h)| h).collect(),
        non_usd: all.non_usd.into_iter().map(|(_, id)| id).collect(),
        unpriced: all.unpriced.into_iter().map(|(_, id)| id).collect(),
    })
}
