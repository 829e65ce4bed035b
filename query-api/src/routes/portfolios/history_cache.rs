//! A portfolio's value history as the response cache keys it: the request (defaults
//! resolved) and a digest of the holdings and events as they are now, so that any change to
//! the holdings (added, edited, sold, deleted, imported) makes a new key and the old answer is
//! never served again; a tick of a held series drops the answer (its cover).

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    time::Duration,
};

use tcg_schemas::{Holding, Portfolio, PortfolioEvent, PriceKind, Source, Timestamp};
use tcg_store::PriceFilter;

use crate::{
    response_cache::Cover,
    routes::{cards::cached::Cacheable, params::Interval, portfolios::valuing::Valuing},
    state::AppState,
};

/// The route, as the cache's metrics name it.
const ROUTE: &str = "/v1/portfolios/{id}/history";

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
    format!("{:016x}{:016x}", sum(0), sum(1))
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

/// The cacheable request. `to` is the one asked for (`None`: up to now, keyed by its bucket and
/// true until the next bucket starts); `range` the resolved one.
pub(crate) fn cacheable(
    state: &AppState,
    portfolio: &Portfolio,
    (interval, asked_to): (Interval, Option<Timestamp>),
    (from, to): (Timestamp, Timestamp),
    price: &Valuing,
    (holdings, events): (&[Holding], &[PortfolioEvent]),
) -> Cacheable {
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
    let mut series: Vec<_> = holdings
        .iter()
        .map(|h| (h.product_id, h.series().id()))
        .collect();
    series.sort_unstable();
    series.dedup();
    Cacheable {
        route: ROUTE,
        key: format!(
            "portfolio-history|{}|{}|{}|{from}|{end}|{:?}|{}",
            portfolio.id.0,
            digest(holdings, events),
            interval.as_str(),
            price.prices.prices,
            price.fair
        ),
        cover: Cover::Holdings {
            series,
            prices: prices(price),
        },
        fresh_for,
    }
}
