//! Portfolios, their holdings and the holdings' events (the app's own data).

use async_trait::async_trait;
use tcg_schemas::{Holding, HoldingId, Portfolio, PortfolioEvent, PortfolioId, UserId};

use crate::{Result, model::WriteReport};

/// Portfolios and holdings are upserts (last write wins); events are idempotent by id. A write
/// that returned `Ok` is visible to the next read. Object safe.
#[async_trait]
pub trait PortfolioStore: Send + Sync + std::fmt::Debug {
    async fn upsert_portfolio(&self, portfolio: &Portfolio) -> Result<()>;
    async fn delete_portfolio(&self, portfolio: &Portfolio) -> Result<()>;
    async fn upsert_holding(&self, holding: &Holding) -> Result<()>;
    async fn delete_holding(&self, portfolio_id: PortfolioId, holding_id: HoldingId) -> Result<()>;
    /// Appends portfolio events, idempotent by id.
    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport>;

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>>;
    /// Every owner's portfolios, by id (for copying an installation).
    async fn all_portfolios(&self) -> Result<Vec<Portfolio>>;
    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>>;
    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>>;
}
