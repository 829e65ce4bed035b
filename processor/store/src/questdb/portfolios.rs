//! [`PortfolioStore`] on QuestDB: portfolios, holdings and events, visible to reads on return.

use async_trait::async_trait;
use tcg_schemas::{Holding, HoldingId, ImportId, Portfolio, PortfolioEvent, PortfolioId, UserId};

use super::{ilp::*, sql::*, store::*};
use crate::{PortfolioStore, Result, model::*};

fn portfolios_from(rows: &[tokio_postgres::Row]) -> Result<Vec<Portfolio>> {
    rows.iter()
        .map(|r| {
            Ok(Portfolio {
                id: r.try_get::<_, String>(0)?.parse().map_err(corrupt)?,
                owner: UserId(r.try_get(1)?),
                name: r.try_get(2)?,
                created_at: from_naive(r.try_get(3)?),
            })
        })
        .collect()
}

#[async_trait]
impl PortfolioStore for QuestDbStore {
    async fn upsert_portfolio(&self, p: &Portfolio) -> Result<()> {
        let (p, at) = (p.clone(), self.now());
        self.writer
            .append(1, true, move |buf| encode_portfolio(buf, &p, false, at))
            .await?;
        self.visible().await
    }

    async fn delete_portfolio(&self, p: &Portfolio) -> Result<()> {
        let (p, at) = (p.clone(), self.now());
        self.writer
            .append(1, true, move |buf| encode_portfolio(buf, &p, true, at))
            .await?;
        self.visible().await
    }

    async fn upsert_holding(&self, h: &Holding) -> Result<()> {
        let (h, at) = (h.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_holding(buf, h.portfolio_id, h.id, Some(&h), at)
            })
            .await?;
        self.visible().await
    }

    async fn delete_holding(&self, portfolio_id: PortfolioId, holding_id: HoldingId) -> Result<()> {
        let at = self.now();
        self.writer
            .append(1, true, move |buf| {
                encode_holding(buf, portfolio_id, holding_id, None, at)
            })
            .await?;
        self.visible().await
    }

    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport> {
        let events = events.to_vec();
        let n = events.len();
        self.writer
            .append(n, true, move |buf| {
                events.iter().try_for_each(|e| encode_event(buf, e))
            })
            .await?;
        self.visible().await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    /// QuestDB holds only the dashboards' copy of the portfolios ([`crate::PortfolioCopy`]); the
    /// app store keeps which holdings an import created, and the copy deletes them one by one.
    async fn record_import(
        &self,
        _portfolio_id: PortfolioId,
        _import_id: ImportId,
        _holdings: &[HoldingId],
    ) -> Result<()> {
        Ok(())
    }

    /// Knows no import (see [`Self::record_import`]).
    async fn undo_import(
        &self,
        _portfolio_id: PortfolioId,
        _import_id: ImportId,
    ) -> Result<Option<Vec<HoldingId>>> {
        Ok(None)
    }

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>> {
        let sql = sql_newest(
            "portfolios",
            "portfolio_id",
            "portfolio_id, owner, name, created_at",
            " AND owner = $1 ORDER BY created_at, portfolio_id",
        );
        portfolios_from(&self.query(&sql, &[Param::Text(owner.0.clone())]).await?)
    }

    async fn all_portfolios(&self) -> Result<Vec<Portfolio>> {
        let sql = sql_newest(
            "portfolios",
            "portfolio_id",
            "portfolio_id, owner, name, created_at",
            " ORDER BY portfolio_id",
        );
        portfolios_from(&self.query(&sql, &[]).await?)
    }

    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>> {
        self.newest_bodies(
            "holdings",
            "holding_id",
            " AND portfolio_id = $1 ORDER BY holding_id",
            &[Param::Text(portfolio_id.to_string())],
        )
        .await
    }

    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
        let rows = self
            .query(
                "SELECT body FROM portfolio_events WHERE portfolio_id = $1 ORDER BY at, event_id",
                &[Param::Text(portfolio_id.to_string())],
            )
            .await?;
        bodies(&rows)
    }

    /// None: QuestDB holds only the dashboards' copy of portfolios and keeps no revision.
    async fn portfolio_revision(&self, _portfolio_id: PortfolioId) -> Result<Option<u64>> {
        Ok(None)
    }
}
