//! What an eBay search finds: the `filter` parameter, the listings of the catalog card a query
//! names (filtered as eBay would), money in the marketplace's currency.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::{
    listings::{Listing, listing},
    market::market_cents,
    rng,
    state::SimState,
};

#[derive(Debug, Default)]
pub(super) struct Filters {
    graded: Option<bool>,
    buying: Vec<String>,
    min_cents: Option<i64>,
    max_cents: Option<i64>,
}

fn cents_of(text: &str) -> Option<i64> {
    tcg_schemas::Money::parse_decimal(text, tcg_schemas::Currency::USD)
        .ok()
        .map(|m| m.minor)
}

pub(super) fn parse_filter(f: &str) -> Filters {
    let mut out = Filters::default();
    // Split on commas outside braces and brackets.
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in f.char_indices() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&f[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&f[start..]);
    for part in parts {
        let Some((key, value)) = part.split_once(':') else {
            continue;
        };
        let inner = value.trim_matches(|c| c == '{' || c == '}' || c == '[' || c == ']');
        match key.trim() {
            "conditionIds" => {
                let ids: Vec<&str> = inner.split('|').collect();
                out.graded = match (ids.contains(&"2750"), ids.contains(&"4000")) {
                    (true, false) => Some(true),
                    (false, true) => Some(false),
                    _ => None,
                };
            }
            "buyingOptions" => out.buying = inner.split('|').map(str::to_owned).collect(),
            "price" => {
                if let Some((lo, hi)) = inner.split_once("..") {
                    out.min_cents = cents_of(lo);
                    out.max_cents = cents_of(hi);
                }
            }
            _ => {}
        }
    }
    out
}

pub(super) fn money_json(cents: i64, currency: &str) -> serde_json::Value {
    let value = if currency == "JPY" {
        format!("{}", cents)
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
    };
    json!({"value": value, "currency": currency})
}

/// Marketplace → (currency, units per USD cent in that currency's minor unit).
pub(super) fn marketplace_currency(headers: &HeaderMap) -> (&'static str, f64) {
    match headers
        .get("X-EBAY-C-MARKETPLACE-ID")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("EBAY_US")
    {
        "EBAY_DE" | "EBAY_FR" | "EBAY_IT" | "EBAY_ES" => ("EUR", 0.92),
        "EBAY_GB" => ("GBP", 0.79),
        "EBAY_AU" => ("AUD", 1.52),
        "EBAY_CA" => ("CAD", 1.37),
        _ => ("USD", 1.0),
    }
}

fn game_word(category_id: u32) -> &'static str {
    match category_id {
        1 => "MTG",
        2 => "Yugioh",
        3 => "Pokemon",
        68 => "One Piece",
        71 => "Lorcana",
        _ => "TCG",
    }
}

/// Every listing for `q` (before pagination), filtered.
pub(super) fn search_listings(
    s: &SimState,
    q: &str,
    filters: &Filters,
    sold: bool,
) -> Vec<Listing> {
    let Some(p) = s.catalog.match_query(q) else {
        return Vec::new();
    };
    let now = s.now_secs();
    let day = now.div_euclid(86_400) as u64;
    let hour = now.div_euclid(3600) as u64;
    let slots = 5 + rng::hash(&[s.config.seed, p.product_id, day, u64::from(sold)])
        % s.config.listings_per_query.max(1);
    let market = market_cents(
        s.config.seed,
        p,
        p.printings.first().copied().unwrap_or(0),
        s.quote_at(now),
    );
    (0..slots)
        .map(|slot| {
            let generation = (hour + slot * 37) / 72 + if sold { 1 << 40 } else { 0 };
            listing(
                s.config.seed,
                p,
                market,
                slot,
                generation,
                game_word(p.category_id),
            )
        })
        .filter(|l| filters.graded.is_none_or(|g| g == l.graded()))
        .filter(|l| {
            filters.buying.is_empty()
                || (l.auction && filters.buying.iter().any(|b| b == "AUCTION"))
                || (!l.auction
                    && filters
                        .buying
                        .iter()
                        .any(|b| b == "FIXED_PRICE" || (b == "BEST_OFFER" && l.best_offer)))
        })
        .filter(|l| {
            filters.min_cents.is_none_or(|m| l.price_cents >= m)
                && filters.max_cents.is_none_or(|m| l.price_cents <= m)
        })
        .collect()
}

pub(super) fn iso(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub(super) fn condition(l: &Listing) -> (&'static str, &'static str) {
    if l.graded() {
        ("Graded", "2750")
    } else {
        ("Ungraded", "4000")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_filter(
            "buyingOptions:{FIXED_PRICE|AUCTION},conditionIds:{2750},price:[10..50.5],priceCurrency:USD",
        );
        assert_eq!(f.graded, Some(true));
        assert_eq!(f.buying, vec!["FIXED_PRICE", "AUCTION"]);
        assert_eq!((f.min_cents, f.max_cents), (Some(1000), Some(5050)));
        let f = parse_filter("price:[..20]");
        assert_eq!((f.min_cents, f.max_cents), (None, Some(2000)));
        assert_eq!(parse_filter("").graded, None);
    }
}
