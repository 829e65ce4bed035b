//! A portfolio's value history as the response cache keys it: the request (defaults
//! resolved) and a digest of the holdings and events as they are now, so that any change to
//! the holdings (added, edited, sold, deleted, imported) makes a new key and the old answer is
//! never served again; a tick of a held series drops the answer (its cover).

use std::time::Duration;

use sha2::{Digest, Sha256};
use tcg_schemas::{Holding, Portfolio, PortfolioEvent, PriceKind, Source, Timestamp};
use tcg_store::PriceFilter;

use crate::{
    error::{ApiError, ApiResult},
    response_cache::Cover,
    routes::{cards::cached::Cacheable, params::Interval, portfolios::valuing::Valuing},
    state::AppState,
};

/// The route, as the cache's metrics name it.
const ROUTE: &str = "/v1/portfolios/{id}/history";

/// Hex of the first 16 bytes of the SHA-256 of the holdings and events (JSON).
fn digest(holdings: &[Holding], events: &[PortfolioEvent]) -> ApiResult<String> {
    let json = serde_json::to_vec(&(holdings, events))
        .map_err(|e| ApiError::Internal(format!("encoding the holdings: {e}")))?;
    let sum = Sha256::digest(&json);
    Ok(sum[..16].iter().map(|b| format!("{b:02x}")).collect())
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
) -> ApiResult<Cacheable> {
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
    Ok(Cacheable {
        route: ROUTE,
        key: format!(
            "portfolio-history|{}|{}|{}|{from}|{end}|{:?}|{}",
            portfolio.id.0,
            digest(holdings, events)?,
            interval.as_str(),
            price.prices.prices,
            price.fair
        ),
        cover: Cover::Holdings {
            series,
            prices: prices(price),
        },
        fresh_for,
    })
}
