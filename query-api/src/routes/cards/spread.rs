//! The spread of a buylist price: what a shop pays for a copy against the TCGplayer market price
//! of the same series, shown beside every buylist price the API serves.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tcg_schemas::{Money, PriceKind, Source};
use tcg_store::{PriceFilter, PriceStore};

use super::PriceView;
use crate::error::ApiResult;

/// A buylist price against the market price of its series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Spread {
    /// The TCGplayer market price of the same series (the newest of TCGplayer's API and TCGCSV).
    pub market_usd: Money,
    /// Market minus buylist: what selling to the shop costs against the market.
    pub spread_usd: Money,
    /// The buylist price as a percentage of the market price (two decimals, truncated).
    #[schemars(with = "String")]
    #[serde(with = "rust_decimal::serde::str")]
    pub share_percent: Decimal,
}

/// The market price a buylist is compared with, among one series' prices.
fn market_of(prices: &[PriceView]) -> Option<&PriceView> {
    prices
        .iter()
        .filter(|p| p.kind == PriceKind::Market && p.source.is_tcgplayer())
        .max_by_key(|p| p.observed_at)
}

/// The spread of `buylist` against `market` (both in USD cents); none for a market of 0.
pub fn spread(buylist: Money, market: Money) -> Option<Spread> {
    if market.minor <= 0 {
        return None;
    }
    let share = i128::from(buylist.minor) * 10_000 / i128::from(market.minor);
    Some(Spread {
        market_usd: market,
        spread_usd: Money::usd_cents(market.minor - buylist.minor),
        share_percent: Decimal::from_i128_with_scale(share, 2),
    })
}

/// Sets the spread of every buylist price of one series' `prices`, against the market among
/// them or `market` when given.
pub fn annotate(prices: &mut [PriceView], market: Option<Money>) {
    let Some(market) = market.or_else(|| market_of(prices).map(|p| p.price_usd)) else {
        return;
    };
    for p in prices.iter_mut().filter(|p| p.kind == PriceKind::Buylist) {
        p.spread = spread(p.price_usd, market);
    }
}

/// Sets the spread of every buylist price of `items` (series id, price), reading the market
/// prices the answer does not hold (a request for buylist prices alone) from `store`.
pub async fn annotate_all(
    store: &dyn PriceStore,
    items: &mut [(String, &mut PriceView)],
) -> ApiResult<()> {
    let mut markets: BTreeMap<String, Money> = BTreeMap::new();
    for (series, p) in items.iter() {
        if p.kind == PriceKind::Market && p.source.is_tcgplayer() {
            markets
                .entry(series.clone())
                .and_modify(|m| *m = p.price_usd)
                .or_insert(p.price_usd);
        }
    }
    let wanted: Vec<String> = items
        .iter()
        .filter(|(s, p)| p.kind == PriceKind::Buylist && !markets.contains_key(s))
        .map(|(s, _)| s.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !wanted.is_empty() {
        let filter = PriceFilter {
            sources: vec![Source::Tcgplayer, Source::Tcgcsv],
            kinds: vec![PriceKind::Market],
        };
        let mut newest: BTreeMap<String, (tcg_schemas::Timestamp, Money)> = BTreeMap::new();
        for l in store.latest_prices(&wanted, &filter).await? {
            let e = newest
                .entry(l.series_id)
                .or_insert((l.observed_at, l.price_usd));
            if l.observed_at > e.0 {
                *e = (l.observed_at, l.price_usd);
            }
        }
        markets.extend(newest.into_iter().map(|(s, (_, m))| (s, m)));
    }
    for (series, p) in items.iter_mut() {
        if p.kind == PriceKind::Buylist
            && let Some(m) = markets.get(series.as_str())
        {
            p.spread = spread(p.price_usd, *m);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_market_minus_buylist_and_its_share() {
        let s = spread(Money::usd_cents(7_000), Money::usd_cents(10_000)).unwrap();
        assert_eq!(s.spread_usd, Money::usd_cents(3_000));
        assert_eq!(s.share_percent.to_string(), "70.00");
        let s = spread(Money::usd_cents(1), Money::usd_cents(3)).unwrap();
        assert_eq!(s.share_percent.to_string(), "33.33");
        assert!(spread(Money::usd_cents(1), Money::usd_cents(0)).is_none());
    }
}
