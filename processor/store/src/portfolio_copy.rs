//! Portfolios kept in the app store, with a copy for the dashboards: in the distributed mode the
//! portfolio dashboard joins holdings with ticks inside QuestDB, so every portfolio write goes to
//! the app store (the truth, and every read) and then to QuestDB.

use std::sync::Arc;

use async_trait::async_trait;
use tcg_schemas::{Holding, HoldingId, ImportId, Portfolio, PortfolioEvent, PortfolioId, UserId};

use crate::{PortfolioStore, Result, model::WriteReport};

/// Writes to `primary`, then to `copy`; reads from `primary` only. A write the copy refuses is
/// logged and does not fail the caller: the app store has it, and the dashboards catch up with
/// the holding's next write.
#[derive(Debug, Clone)]
pub struct PortfolioCopy {
    primary: Arc<dyn PortfolioStore>,
    copy: Arc<dyn PortfolioStore>,
}

impl PortfolioCopy {
    pub fn new(primary: Arc<dyn PortfolioStore>, copy: Arc<dyn PortfolioStore>) -> Self {
        Self { primary, copy }
    }

    fn copied<T>(what: &str, result: Result<T>) {
        if let Err(e) = result {
            tracing::warn!(error = %e, what, "the dashboards' copy of a portfolio write failed");
        }
    }
}

#[async_trait]
impl PortfolioStore for PortfolioCopy {
    async fn upsert_portfolio(&self, portfolio: &Portfolio) -> Result<()> {
        self.primary.upsert_portfolio(portfolio).await?;
        Self::copied("portfolio", self.copy.upsert_portfolio(portfolio).await);
        Ok(())
    }

    async fn delete_portfolio(&self, portfolio: &Portfolio) -> Result<()> {
        self.primary.delete_portfolio(portfolio).await?;
        Self::copied("portfolio", self.copy.delete_portfolio(portfolio).await);
        Ok(())
    }

    async fn upsert_holding(&self, holding: &Holding) -> Result<()> {
        self.primary.upsert_holding(holding).await?;
        Self::copied("holding", self.copy.upsert_holding(holding).await);
        Ok(())
    }

    async fn delete_holding(&self, portfolio_id: PortfolioId, holding_id: HoldingId) -> Result<()> {
        self.primary
            .delete_holding(portfolio_id, holding_id)
            .await?;
        Self::copied(
            "holding",
            self.copy.delete_holding(portfolio_id, holding_id).await,
        );
        Ok(())
    }

    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport> {
        let report = self.primary.append_portfolio_events(events).await?;
        Self::copied("events", self.copy.append_portfolio_events(events).await);
        Ok(report)
    }

    async fn record_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
        holdings: &[HoldingId],
    ) -> Result<()> {
        self.primary
            .record_import(portfolio_id, import_id, holdings)
            .await?;
        Self::copied(
            "import",
            self.copy
                .record_import(portfolio_id, import_id, holdings)
                .await,
        );
        Ok(())
    }

    /// Undone in the primary, which knows the import; the copy deletes the same holdings.
    async fn undo_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
    ) -> Result<Option<Vec<HoldingId>>> {
        let undone = self.primary.undo_import(portfolio_id, import_id).await?;
        for h in undone.iter().flatten() {
            Self::copied("holding", self.copy.delete_holding(portfolio_id, *h).await);
        }
        Ok(undone)
    }

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>> {
        self.primary.portfolios(owner).await
    }

    async fn all_portfolios(&self) -> Result<Vec<Portfolio>> {
        self.primary.all_portfolios().await
    }

    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>> {
        self.primary.holdings(portfolio_id).await
    }

    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
        self.primary.portfolio_events(portfolio_id).await
    }

    async fn portfolio_revision(&self, portfolio_id: PortfolioId) -> Result<Option<u64>> {
        self.primary.portfolio_revision(portfolio_id).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tcg_schemas::{PortfolioId, Timestamp};

    use super::*;
    use crate::SqliteStore;

    fn portfolio(owner: &str, name: &str) -> Portfolio {
        Portfolio {
            id: PortfolioId(uuid::Uuid::new_v4()),
            owner: UserId(owner.into()),
            name: name.into(),
            created_at: Timestamp::from_micros(1_700_000_000_000_000),
        }
    }

    #[tokio::test]
    async fn writes_reach_both_and_reads_come_from_the_primary() {
        let dir = tempfile::tempdir().unwrap();
        let primary = Arc::new(SqliteStore::open(dir.path().join("a.db")).unwrap());
        let copy = Arc::new(SqliteStore::open(dir.path().join("b.db")).unwrap());
        let both = PortfolioCopy::new(primary.clone(), copy.clone());
        let owner = UserId("ann".into());
        let p = portfolio("ann", "binder");
        both.upsert_portfolio(&p).await.unwrap();
        assert_eq!(primary.portfolios(&owner).await.unwrap(), vec![p.clone()]);
        assert_eq!(copy.portfolios(&owner).await.unwrap(), vec![p.clone()]);

        let only_primary = portfolio("ann", "deck");
        primary.upsert_portfolio(&only_primary).await.unwrap();
        assert_eq!(both.portfolios(&owner).await.unwrap().len(), 2);

        both.delete_portfolio(&p).await.unwrap();
        assert_eq!(copy.portfolios(&owner).await.unwrap(), vec![]);
        assert_eq!(both.portfolios(&owner).await.unwrap(), vec![only_primary]);
    }

    #[tokio::test]
    async fn an_undone_import_leaves_both() {
        let dir = tempfile::tempdir().unwrap();
        let primary = Arc::new(SqliteStore::open(dir.path().join("a.db")).unwrap());
        let copy = Arc::new(SqliteStore::open(dir.path().join("b.db")).unwrap());
        let both = PortfolioCopy::new(primary.clone(), copy.clone());
        let p = portfolio("ann", "binder");
        both.upsert_portfolio(&p).await.unwrap();
        let h = Holding {
            id: HoldingId(uuid::Uuid::new_v4()),
            portfolio_id: p.id,
            product_id: tcg_schemas::ProductId(1),
            printing: tcg_schemas::Printing::Foil,
            condition: tcg_schemas::Condition::NearMint,
            language: tcg_schemas::Language::English,
            grading: None,
            quantity: 1,
            cost_per_unit: tcg_schemas::Money::usd_cents(100),
            acquired_on: "2024-03-01".into(),
            note: None,
        };
        both.upsert_holding(&h).await.unwrap();
        let import = ImportId(uuid::Uuid::new_v4());
        both.record_import(p.id, import, &[h.id]).await.unwrap();
        assert_eq!(
            both.undo_import(p.id, import).await.unwrap(),
            Some(vec![h.id])
        );
        assert!(primary.holdings(p.id).await.unwrap().is_empty());
        assert!(copy.holdings(p.id).await.unwrap().is_empty());
    }
}
