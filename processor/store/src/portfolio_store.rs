//! Portfolios, their holdings and the holdings' events (the app's own data).

use async_trait::async_trait;
use tcg_schemas::{Holding, HoldingId, ImportId, Portfolio, PortfolioEvent, PortfolioId, UserId};

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
    /// Records that the CSV import `import_id` created `holdings` in `portfolio_id`, so that
    /// [`Self::undo_import`] can remove them together. Idempotent.
    async fn record_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
        holdings: &[HoldingId],
    ) -> Result<()>;
    /// Deletes every holding the import recorded, every event of those holdings (later changes
    /// and sales included) and the record, in one transaction. Returns the holdings deleted, or
    /// `None` when `portfolio_id` has no import `import_id` (never recorded, or already undone).
    async fn undo_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
    ) -> Result<Option<Vec<HoldingId>>>;

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>>;
    /// Every owner's portfolios, by id (for copying an installation).
    async fn all_portfolios(&self) -> Result<Vec<Portfolio>>;
    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>>;
    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>>;
    /// The portfolio's revision: a number the store raises with every write to its holdings
    /// and events (by any process), and keeps across writes of the portfolio itself, so that an
    /// unchanged revision means unchanged holdings and events. `None` when there is no such
    /// portfolio, or the store keeps no revision (then read the holdings to know).
    async fn portfolio_revision(&self, portfolio_id: PortfolioId) -> Result<Option<u64>>;
}
