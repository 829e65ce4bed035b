//! Portfolio valuation from holdings, their events and prices: shared by both backends, which only
//! differ in how they fetch the prices.

use std::collections::HashMap;

use chrono::NaiveDate;
use tcg_schemas::{Currency, Holding, HoldingChange, Money, PortfolioEvent, Timestamp};

use crate::model::{HoldingValue, PortfolioValuation, ValuationPoint};

/// Price points per series id, each sorted by time: `(observed_at µs, USD cents)`.
#[derive(Debug, Default, Clone)]
pub struct PriceBook {
    points: HashMap<String, Vec<(i64, i64)>>,
}

impl PriceBook {
    pub fn insert(&mut self, series_id: &str, ts: i64, cents: i64) {
        self.points
            .entry(series_id.to_owned())
            .or_default()
            .push((ts, cents));
    }

    /// Sorts every series' points (call once after inserting).
    pub fn seal(&mut self) {
        for v in self.points.values_mut() {
            v.sort_unstable();
            v.dedup_by_key(|p| p.0);
        }
    }

    /// This book's prices, and `fallback`'s where this one has none yet: per series, the
    /// fallback's points before this book's first point of the series (all of them when it has
    /// none). Both books sealed; so is the result.
    pub fn or_else(mut self, fallback: PriceBook) -> PriceBook {
        for (series_id, points) in fallback.points {
            let first = self
                .points
                .get(&series_id)
                .and_then(|v| v.first())
                .map(|p| p.0);
            let earlier = points
                .into_iter()
                .take_while(|p| first.is_none_or(|f| p.0 < f));
            let mine = self.points.entry(series_id).or_default();
            let mut merged: Vec<(i64, i64)> = earlier.collect();
            merged.append(mine);
            *mine = merged;
        }
        self
    }

    /// The last price at or before `t`.
    pub fn at_or_before(&self, series_id: &str, t: i64) -> Option<(i64, i64)> {
        last_at_or_before(self.points(series_id), t)
    }

    /// A series' points in time order (none when the book has no price of it).
    pub fn points(&self, series_id: &str) -> &[(i64, i64)] {
        self.points.get(series_id).map_or(&[], Vec::as_slice)
    }
}

/// The last of `points` (in time order) at or before `t`.
pub fn last_at_or_before(points: &[(i64, i64)], t: i64) -> Option<(i64, i64)> {
    let idx = points.partition_point(|p| p.0 <= t);
    idx.checked_sub(1).map(|i| points[i])
}

/// Midnight UTC of a `YYYY-MM-DD` date (0 when unparseable).
fn date_micros(date: &str) -> i64 {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |dt| dt.and_utc().timestamp_micros())
}

/// A holding's events in time order; a holding without events is taken as acquired on its
/// `acquired_on` date with its quantity and cost. `events` may hold other holdings' events.
fn timeline(h: &Holding, events: &[PortfolioEvent]) -> Vec<(i64, HoldingChange)> {
    let mut ev: Vec<(i64, HoldingChange)> = events
        .iter()
        .filter(|e| e.holding_id == h.id)
        .map(|e| (e.at.as_micros(), e.change.clone()))
        .collect();
    ev.sort_by_key(|e| e.0);
    if ev.is_empty() {
        ev.push((
            date_micros(&h.acquired_on),
            HoldingChange::Acquired {
                quantity: h.quantity,
                cost_per_unit: h.cost_per_unit,
            },
        ));
    }
    ev
}

/// A holding's average-cost position, in USD cents.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub qty: i64,
    pub cost: i64,
    pub realized: i64,
    /// Some cost, sale or fee was not in USD: the holding is left out of USD totals.
    pub non_usd: bool,
}

fn cents(m: Money, non_usd: &mut bool) -> i64 {
    if m.currency != Currency::USD {
        *non_usd = true;
    }
    m.minor
}

impl Position {
    /// The position after `change`.
    fn apply(&mut self, change: &HoldingChange) {
        let p = self;
        match change {
            HoldingChange::Acquired {
                quantity,
                cost_per_unit,
            } => {
                let q = i64::from(*quantity);
                p.cost = p
                    .cost
                    .saturating_add(cents(*cost_per_unit, &mut p.non_usd).saturating_mul(q));
                p.qty += q;
            }
            HoldingChange::Sold {
                quantity,
                price_per_unit,
                fees,
            } => {
                let q = i64::from(*quantity).min(p.qty);
                if q == 0 {
                    return;
                }
                let cost_sold = share(p.cost, q, p.qty);
                let proceeds = cents(*price_per_unit, &mut p.non_usd).saturating_mul(q);
                let fee = fees.map_or(0, |f| cents(f, &mut p.non_usd));
                p.realized = p.realized.saturating_add(proceeds - fee - cost_sold);
                p.cost -= cost_sold;
                p.qty -= q;
            }
            HoldingChange::Removed { quantity } => {
                let q = i64::from(*quantity).min(p.qty);
                if q == 0 {
                    return;
                }
                p.cost -= share(p.cost, q, p.qty);
                p.qty -= q;
            }
        }
    }
}

/// One holding's position at instants taken in increasing order: each event is applied once,
/// so valuing a holding at n instants costs n + events steps, not n × events. An instant
/// earlier than the one before starts again from the first event.
#[derive(Debug, Clone)]
pub struct Sweep {
    events: Vec<(i64, HoldingChange)>,
    applied: usize,
    position: Position,
}

impl Sweep {
    /// The holding `h` with its events (other holdings' events in `events` are left out).
    pub fn new(h: &Holding, events: &[PortfolioEvent]) -> Self {
        Self {
            events: timeline(h, events),
            applied: 0,
            position: Position::default(),
        }
    }

    /// The position after every event at or before `t`.
    pub fn at(&mut self, t: i64) -> Position {
        if self.applied > 0 && self.events[self.applied - 1].0 > t {
            self.applied = 0;
            self.position = Position::default();
        }
        while let Some((at, change)) = self.events.get(self.applied) {
            if *at > t {
                break;
            }
            self.position.apply(change);
            self.applied += 1;
        }
        self.position
    }
}

/// `total × part / whole`, rounded half away from zero, in i128.
fn share(total: i64, part: i64, whole: i64) -> i64 {
    if whole == 0 {
        return 0;
    }
    let n = i128::from(total) * i128::from(part);
    let d = i128::from(whole);
    let q = (2 * n + d.signum() * n.signum() * d) / (2 * d);
    i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN })
}

/// What one holding adds to a valuation at an instant, in USD cents. A holding with non-USD
/// figures adds nothing; copies with no price yet add neither value nor cost (so value − cost
/// = unrealized), while what their sales realized is counted all the same.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Contribution {
    pub market: i64,
    pub cost: i64,
    pub realized: i64,
    pub unrealized: i64,
    /// Left out of the totals: its figures are not all USD.
    pub non_usd: bool,
    /// Copies held and no price yet.
    pub unpriced: bool,
}

/// The holding at position `p` priced at `price` (`(ts, cents)`, the last price at or before
/// the instant): its figures, and what it adds to the totals.
pub fn holding_value(
    h: &Holding,
    series_id: String,
    p: Position,
    price: Option<(i64, i64)>,
) -> (HoldingValue, Contribution) {
    let usd = Money::usd_cents;
    let market = price.map_or(0, |(_, c)| c.saturating_mul(p.qty));
    let unrealized = if price.is_some() { market - p.cost } else { 0 };
    let value = HoldingValue {
        holding_id: h.id,
        series_id,
        quantity: u32::try_from(p.qty.max(0)).unwrap_or(u32::MAX),
        unit_price_usd: price.map(|(_, c)| usd(c)),
        priced_at: price.map(|(ts, _)| Timestamp::from_micros(ts)),
        market_value_usd: usd(market),
        cost_basis_usd: usd(p.cost),
        realized_pnl_usd: usd(p.realized),
        unrealized_pnl_usd: usd(unrealized),
    };
    (value, contribution(p, price))
}

/// What a holding at position `p` priced at `price` adds to the totals, without its figures
/// (the same arithmetic as [`holding_value`], for the many instants of a history).
pub fn contribution(p: Position, price: Option<(i64, i64)>) -> Contribution {
    let mut add = Contribution {
        non_usd: p.non_usd,
        ..Contribution::default()
    };
    if !p.non_usd {
        match price {
            Some((_, c)) => {
                add.market = c.saturating_mul(p.qty);
                add.cost = p.cost;
                add.unrealized = add.market - p.cost;
            }
            None => add.unpriced = p.qty > 0,
        }
        add.realized = p.realized;
    }
    add
}

/// The valuation at `at` (prices at or before `at`).
pub fn value_at(
    holdings: &[Holding],
    events: &[PortfolioEvent],
    book: &PriceBook,
    at: Timestamp,
) -> PortfolioValuation {
    let t = at.as_micros();
    let usd = Money::usd_cents;
    let mut out = PortfolioValuation {
        at,
        market_value_usd: usd(0),
        cost_basis_usd: usd(0),
        realized_pnl_usd: usd(0),
        unrealized_pnl_usd: usd(0),
        holdings: Vec::new(),
        non_usd_holdings: Vec::new(),
        unpriced_holdings: Vec::new(),
    };
    let (mut mv, mut cb, mut rl, mut ur) = (0i64, 0i64, 0i64, 0i64);
    for h in holdings {
        let p = Sweep::new(h, events).at(t);
        let series_id = h.series().id();
        let price = book.at_or_before(&series_id, t);
        let (value, add) = holding_value(h, series_id, p, price);
        if add.non_usd {
            out.non_usd_holdings.push(h.id);
        } else if add.unpriced {
            out.unpriced_holdings.push(h.id);
        }
        mv += add.market;
        cb += add.cost;
        rl += add.realized;
        ur += add.unrealized;
        out.holdings.push(value);
    }
    out.market_value_usd = usd(mv);
    out.cost_basis_usd = usd(cb);
    out.realized_pnl_usd = usd(rl);
    out.unrealized_pnl_usd = usd(ur);
    out
}

/// One point per bucket start, valued as of the bucket's end (the last price before it).
pub fn history(
    holdings: &[Holding],
    events: &[PortfolioEvent],
    book: &PriceBook,
    bucket_ends: &[(Timestamp, Timestamp)],
) -> Vec<ValuationPoint> {
    bucket_ends
        .iter()
        .map(|(start, end)| {
            let v = value_at(
                holdings,
                events,
                book,
                Timestamp::from_micros(end.as_micros() - 1),
            );
            ValuationPoint {
                start: *start,
                market_value_usd: v.market_value_usd,
                cost_basis_usd: v.cost_basis_usd,
                realized_pnl_usd: v.realized_pnl_usd,
                unrealized_pnl_usd: v.unrealized_pnl_usd,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn holding(product: u64, quantity: u32, cost_cents: i64) -> Holding {
        Holding {
            id: tcg_schemas::HoldingId(uuid::Uuid::new_v4()),
            portfolio_id: tcg_schemas::PortfolioId(uuid::Uuid::nil()),
            product_id: tcg_schemas::ProductId(product),
            printing: tcg_schemas::Printing::Holofoil,
            condition: tcg_schemas::Condition::NearMint,
            language: tcg_schemas::Language::English,
            grading: None,
            quantity,
            cost_per_unit: Money::usd_cents(cost_cents),
            acquired_on: "2026-01-01".into(),
            note: None,
        }
    }

    #[test]
    fn a_fallback_book_prices_a_series_until_the_preferred_one_has_a_price() {
        let mut fair = PriceBook::default();
        fair.insert("1/holofoil/nm/en", 200, 1_100);
        fair.insert("1/holofoil/nm/en", 300, 1_200);
        fair.seal();
        let mut market = PriceBook::default();
        for (t, c) in [(100, 900), (250, 950), (400, 990)] {
            market.insert("1/holofoil/nm/en", t, c);
        }
        market.insert("2/holofoil/nm/en", 100, 500);
        market.seal();
        let book = fair.or_else(market);
        let s = "1/holofoil/nm/en";
        assert_eq!(book.at_or_before(s, 50), None);
        assert_eq!(book.at_or_before(s, 150), Some((100, 900)));
        assert_eq!(book.at_or_before(s, 250), Some((200, 1_100)));
        assert_eq!(book.at_or_before(s, 500), Some((300, 1_200)));
        assert_eq!(book.at_or_before("2/holofoil/nm/en", 500), Some((100, 500)));
    }

    #[test]
    fn unpriced_holdings_stay_out_of_value_cost_and_unrealized() {
        let priced = holding(1, 2, 1_000);
        let unpriced = holding(2, 3, 5_000);
        let mut book = PriceBook::default();
        book.insert(&priced.series().id(), 0, 1_500);
        book.seal();
        let at = Timestamp::from_micros(date_micros("2026-02-01"));
        let v = value_at(&[priced.clone(), unpriced.clone()], &[], &book, at);
        assert_eq!(v.market_value_usd, Money::usd_cents(3_000));
        assert_eq!(v.cost_basis_usd, Money::usd_cents(2_000));
        assert_eq!(v.unrealized_pnl_usd, Money::usd_cents(1_000));
        assert_eq!(
            v.market_value_usd.minor - v.cost_basis_usd.minor,
            v.unrealized_pnl_usd.minor,
            "value − cost = unrealized"
        );
        assert_eq!(v.unpriced_holdings, vec![unpriced.id]);
        assert_eq!(v.holdings[1].unit_price_usd, None);
    }

    /// The position from every event at or before `t`, folded from the first event each time.
    fn folded(h: &Holding, events: &[PortfolioEvent], t: i64) -> Position {
        let mut p = Position::default();
        for (_, change) in timeline(h, events).iter().take_while(|e| e.0 <= t) {
            p.apply(change);
        }
        p
    }

    fn change() -> impl Strategy<Value = HoldingChange> {
        let money = (0i64..100_000, prop::bool::weighted(0.1))
            .prop_map(|(c, eur)| Money::new(c, if eur { Currency::EUR } else { Currency::USD }));
        prop_oneof![
            (1u32..10, money.clone()).prop_map(|(quantity, cost_per_unit)| {
                HoldingChange::Acquired {
                    quantity,
                    cost_per_unit,
                }
            }),
            (1u32..10, money.clone(), prop::option::of(money)).prop_map(|(q, p, fees)| {
                HoldingChange::Sold {
                    quantity: q,
                    price_per_unit: p,
                    fees,
                }
            }),
            (1u32..10).prop_map(|quantity| HoldingChange::Removed { quantity }),
        ]
    }

    proptest! {
        /// A sweep over instants in any order gives at each one the position folded from the
        /// first event, and a history step's contributions add up to `value_at`'s totals.
        #[test]
        fn a_sweep_equals_the_fold_from_the_start(
            changes in prop::collection::vec((0i64..1_000, change()), 0..12),
            instants in prop::collection::vec(-10i64..1_100, 1..30),
            prices in prop::collection::vec((0i64..1_000, 1i64..5_000), 0..8),
        ) {
            let h = holding(1, 2, 1_000);
            let other = tcg_schemas::HoldingId(uuid::Uuid::new_v4());
            let events: Vec<PortfolioEvent> = changes
                .into_iter()
                .enumerate()
                .map(|(i, (at, change))| PortfolioEvent {
                    id: tcg_schemas::PortfolioEventId(uuid::Uuid::new_v4()),
                    portfolio_id: h.portfolio_id,
                    // every fifth event is another holding's: left out
                    holding_id: if i % 5 == 4 { other } else { h.id },
                    at: Timestamp::from_micros(at),
                    change,
                })
                .collect();
            let mut book = PriceBook::default();
            for (t, c) in &prices {
                book.insert(&h.series().id(), *t, *c);
            }
            book.seal();
            let mut sweep = Sweep::new(&h, &events);
            for t in instants {
                let p = sweep.at(t);
                prop_assert_eq!(p, folded(&h, &events, t));
                let price = last_at_or_before(book.points(&h.series().id()), t);
                let add = contribution(p, price);
                let v = value_at(std::slice::from_ref(&h), &events, &book, Timestamp::from_micros(t));
                prop_assert_eq!(add.market, v.market_value_usd.minor);
                prop_assert_eq!(add.cost, v.cost_basis_usd.minor);
                prop_assert_eq!(add.realized, v.realized_pnl_usd.minor);
                prop_assert_eq!(add.unrealized, v.unrealized_pnl_usd.minor);
                prop_assert_eq!(add.non_usd, !v.non_usd_holdings.is_empty());
                prop_assert_eq!(add.unpriced, !v.unpriced_holdings.is_empty());
            }
        }
    }

    #[test]
    fn share_rounds() {
        assert_eq!(share(1000, 1, 3), 333);
        assert_eq!(share(1000, 2, 3), 667);
        assert_eq!(share(-1000, 2, 3), -667);
        assert_eq!(share(5, 1, 0), 0);
    }
}
