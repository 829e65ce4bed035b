//! A portfolio's value history as the response cache keys it: the request (defaults
//! resolved) and the portfolio's version, so that any change to the holdings (added, edited,
//! sold, deleted, imported, an import undone) makes a new key and the old answer is never served
//! again; a tick of a held series drops the answer (its cover). The version is the store's
//! revision of the holdings and events (one row read, so a kept answer is served without reading
//! the holdings), or, from a store that keeps none, a digest of the holdings and events.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    time::Duration,
};

use tcg_schemas::{Holding, Portfolio, PortfolioEvent, PriceKind, Source, Timestamp};
use tcg_store::PriceFilter;

use crate::{
    error::ApiResult,
    limits,
    response_cache::Cover,
    routes::{
        cards::cached::Keyed,
        params::Interval,
        portfolios::{holdings_and_events, valuing::Valuing},
    },
    state::AppState,
};

/// The route, as the cache's metrics name it.
const ROUTE: &str = "/v1/portfolios/{id}/history";

/// Holdings and events, read.
pub(crate) type Held = (Vec<Holding>, Vec<PortfolioEvent>);

/// The portfolio's version, and its holdings and events when they had to be read to know it.
/// The revision is read before the holdings (later, on a miss): an answer kept under a revision
/// is never older than it.
pub(crate) async fn version(
    state: &AppState,
    portfolio: &Portfolio,
) -> ApiResult<(String, Option<Held>)> {
    let store = state.portfolios();
    if let Some(revision) = limits::read(state, store.portfolio_revision(portfolio.id)).await? {
        return Ok((format!("r{revision}"), None));
    }
    let (holdings, events) = holdings_and_events(state, portfolio).await?;
    Ok((digest(&holdings, &events), Some((holdings, events))))
}

/// A digest of the holdings and events, every field of each (two 64-bit SipHashes with
/// different starts: a changed portfolio keeps its old key with odds of 2^-128). Within one
/// process only, which is all a key of the in-process cache needs.
fn digest(holdings: &[Holding], events: &[PortfolioEvent]) -> String {
    let sum = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        holdings.hash(&mut h);
        events.hash(&mut h);
        h.finish()
    };
    format!("d{:016x}{:016x}", sum(0), sum(1))
}

/// The prices whose ticks change the answer: the chosen ones, and the fair value when it
/// prices first.
fn prices(price: &Valuing) -> Vec<PriceFilter> {
    let mut out = vec![price.prices.prices.clone()];
    if price.fair {
        out.push(PriceFilter::only(Source::Tcgtracker, PriceKind::Fair));
    }
    out
}

/// The held series and the prices whose ticks change the answer.
pub(crate) fn cover(holdings: &[Holding], price: &Valuing) -> Cover {
    let mut series: Vec<_> = holdings
        .iter()
        .map(|h| (h.product_id, h.series().id()))
        .collect();
    series.sort_unstable();
    series.dedup();
    Cover::Holdings {
        series,
        prices: prices(price),
    }
}

/// The cacheable request. `to` is the one asked for (`None`: up to now, keyed by its bucket and
/// true until the next bucket starts); `range` the resolved one; `version` the portfolio's
/// ([`version`]).
pub(crate) fn keyed(
    state: &AppState,
    portfolio: &Portfolio,
    (interval, asked_to): (Interval, Option<Timestamp>),
    (from, to): (Timestamp, Timestamp),
    price: &Valuing,
    version: &str,
) -> Keyed {
    let buckets = interval.buckets();
    let (end, fresh_for) = match asked_to {
        Some(_) => (to.to_string(), state.config().cache_ttl),
        None => {
            let now = state.now();
            let next = buckets.next(buckets.floor(now));
            let left = next.as_micros().saturating_sub(now.as_micros()).max(0);
            (
                format!("now@{}", buckets.floor(now)),
                Duration::from_micros(left.unsigned_abs()),
            )
        }
    };
    Keyed {
        route: ROUTE,
        // The creation instant too: a portfolio deleted and made again under its id starts its
        // revisions again.
        key: format!(
            "portfolio-history|{}|{}|{version}|{}|{from}|{end}|{:?}|{}",
            portfolio.id.0,
            portfolio.created_at.as_micros(),
            interval.as_str(),
            price.prices.prices,
            price.fair
        ),
        fresh_for,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tcg_schemas::{
        Condition, Holding, HoldingChange, HoldingId, Language, Money, PortfolioEvent,
        PortfolioEventId, PortfolioId, Printing, ProductId, Timestamp,
    };

    use super::digest;

    fn holding(quantity: u32) -> Holding {
        Holding {
            id: HoldingId("00000000-0000-4000-8000-000000000001".parse().unwrap()),
            portfolio_id: PortfolioId("00000000-0000-4000-8000-000000000002".parse().unwrap()),
            product_id: ProductId(1001),
            printing: Printing::Holofoil,
            condition: Condition::NearMint,
            language: Language::English,
            grading: None,
            quantity,
            cost_per_unit: Money::usd_cents(1000),
            acquired_on: "2024-03-01".into(),
            note: None,
        }
    }

    fn sale(h: &Holding, quantity: u32) -> PortfolioEvent {
        PortfolioEvent {
            id: PortfolioEventId("00000000-0000-4000-8000-000000000003".parse().unwrap()),
            portfolio_id: h.portfolio_id,
            holding_id: h.id,
            at: Timestamp::from_secs(1_714_521_600),
            change: HoldingChange::Sold {
                quantity,
                price_per_unit: Money::usd_cents(1500),
                fees: None,
            },
        }
    }

    /// The key of a store that keeps no revision: the same holdings and events give the same
    /// digest, and any change to either (a field, an event added) another one.
    #[test]
    fn the_digest_follows_every_field_of_the_holdings_and_events() {
        let h = holding(3);
        let events = vec![sale(&h, 1)];
        let key = digest(std::slice::from_ref(&h), &events);
        assert_eq!(key, digest(&[holding(3)], &[sale(&h, 1)]));
        assert_ne!(key, digest(&[holding(4)], &events), "a quantity");
        assert_ne!(
            key,
            digest(std::slice::from_ref(&h), &[sale(&h, 2)]),
            "an event's field"
        );
        assert_ne!(key, digest(std::slice::from_ref(&h), &[]), "an event less");
        assert_ne!(key, digest(&[], &events), "a holding less");
    }
}
