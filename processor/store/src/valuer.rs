//! Portfolio valuation as one service over both stores: holdings and their events from the
//! [`PortfolioStore`], price points from the [`TickStore`], the arithmetic in [`valuation`].
//! Every backend pair values the same way; no backend copies the composition.

use std::collections::HashSet;

use tcg_schemas::{Holding, PortfolioId, Timestamp};

use crate::{
    Interval, PortfolioStore, Result, StoreError, TickStore,
    model::{PortfolioValuation, ValuationPoint, ValuationPrice},
    valuation,
};

/// Values portfolios; cheap to build per request.
#[derive(Clone, Copy)]
pub struct Valuer<'a> {
    ticks: &'a dyn TickStore,
    portfolios: &'a dyn PortfolioStore,
}

impl std::fmt::Debug for Valuer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Valuer")
            .field("ticks", &self.ticks.backend())
            .finish_non_exhaustive()
    }
}

impl<'a> Valuer<'a> {
    pub fn new(ticks: &'a dyn TickStore, portfolios: &'a dyn PortfolioStore) -> Self {
        Self { ticks, portfolios }
    }

    /// The portfolio's value at `at` (each holding at its last price at or before `at`).
    pub async fn value(
        &self,
        portfolio_id: PortfolioId,
        at: Timestamp,
        price: &ValuationPrice,
    ) -> Result<PortfolioValuation> {
        let holdings = self.portfolios.holdings(portfolio_id).await?;
        let events = self.portfolios.portfolio_events(portfolio_id).await?;
        let book = self
            .ticks
            .price_book(&series_of(&holdings), &[at], price)
            .await?;
        Ok(valuation::value_at(&holdings, &events, &book, at))
    }

    /// One point per bucket of `[interval.floor(from), to)`, each valued as of its bucket's end.
    pub async fn history(
        &self,
        portfolio_id: PortfolioId,
        from: Timestamp,
        to: Timestamp,
        interval: Interval,
        price: &ValuationPrice,
    ) -> Result<Vec<ValuationPoint>> {
        if to <= from {
            return Err(StoreError::InvalidQuery("history needs from < to".into()));
        }
        let holdings = self.portfolios.holdings(portfolio_id).await?;
        let events = self.portfolios.portfolio_events(portfolio_id).await?;
        let buckets: Vec<(Timestamp, Timestamp)> = interval
            .buckets(from, to)
            .into_iter()
            .map(|s| (s, interval.next(s)))
            .collect();
        let instants: Vec<Timestamp> = buckets
            .iter()
            .map(|b| Timestamp::from_micros(b.1.as_micros() - 1))
            .collect();
        let book = self
            .ticks
            .price_book(&series_of(&holdings), &instants, price)
            .await?;
        Ok(valuation::history(&holdings, &events, &book, &buckets))
    }
}

/// Each holding's raw series id, once, in the holdings' order.
fn series_of(holdings: &[Holding]) -> Vec<String> {
    let mut seen = HashSet::new();
    holdings
        .iter()
        .map(|h| h.series().id())
        .filter(|id| seen.insert(id.clone()))
        .collect()
}
