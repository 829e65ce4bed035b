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
        let v = self.points.get(series_id)?;
        let idx = v.partition_point(|p| p.0 <= t);
        idx.checked_sub(1).map(|i| v[i])
    }
}

/// Midnight UTC of a `YYYY-MM-DD` date (0 when unparseable).
fn date_micros(date: &str) -> i64 {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |dt| dt.and_utc().timestamp_micros())
}

/// The events of each holding in time order; a holding without events is taken as acquired on its
/// `acquired_on` date with its quantity and cost.
fn timelines(
    holdings: &[Holding],
    events: &[PortfolioEvent],
) -> Vec<(Holding, Vec<(i64, HoldingChange)>)> {
    holdings
        .iter()
        .map(|h| {
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
            (h.clone(), ev)
        })
        .collect()
}

#[derive(Debug, Default, Clone, Copy)]
struct Position {
    qty: i64,
    cost: i64,
    realized: i64,
    non_usd: bool,
}

fn cents(m: Money, non_usd: &mut bool) -> i64 {
    if m.currency != Currency::USD {
        *non_usd = true;
    }
    m.minor
}

/// Average-cost position after applying every event at or before `t`.
fn position(events: &[(i64, HoldingChange)], t: i64) -> Position {
    let mut p = Position::default();
    for (at, change) in events.iter().take_while(|e| e.0 <= t) {
        let _ = at;
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
                    continue;
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
                    continue;
                }
                p.cost -= share(p.cost, q, p.qty);
                p.qty -= q;
            }
        }
    }
    p
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
    for (h, ev) in timelines(holdings, events) {
        let p = position(&ev, t);
        let series_id = h.series().id();
        let price = book.at_or_before(&series_id, t);
        let market = price.map_or(0, |(_, c)| c.saturating_mul(p.qty));
        let unrealized = if price.is_some() { market - p.cost } else { 0 };
        if p.non_usd {
            out.non_usd_holdings.push(h.id);
        } else {
            // Copies with no price yet stay out of value and cost, so value − cost = unrealized;
            // what their sales realized is counted all the same.
            if price.is_some() {
                mv += market;
                cb += p.cost;
                ur += unrealized;
            } else if p.qty > 0 {
                out.unpriced_holdings.push(h.id);
            }
            rl += p.realized;
        }
        out.holdings.push(HoldingValue {
            holding_id: h.id,
            series_id,
            quantity: u32::try_from(p.qty.max(0)).unwrap_or(u32::MAX),
            unit_price_usd: price.map(|(_, c)| usd(c)),
            priced_at: price.map(|(ts, _)| Timestamp::from_micros(ts)),
            market_value_usd: usd(market),
            cost_basis_usd: usd(p.cost),
            realized_pnl_usd: usd(p.realized),
            unrealized_pnl_usd: usd(unrealized),
        });
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

    #[test]
    fn share_rounds() {
        assert_eq!(share(1000, 1, 3), 333);
        assert_eq!(share(1000, 2, 3), 667);
        assert_eq!(share(-1000, 2, 3), -667);
        assert_eq!(share(5, 1, 0), 0);
    }
}
