//! [`PortfolioStore`] on PostgreSQL: portfolios, holdings and their events.

use async_trait::async_trait;
use tcg_schemas::{
    Holding, HoldingId, ImportId, Portfolio, PortfolioEvent, PortfolioId, Timestamp, UserId,
};
use tokio_postgres::Row;

use super::{PostgresAppStore, bodies, to_usize};
use crate::{PortfolioStore, Result, StoreError, model::WriteReport};

const PORTFOLIO_COLS: &str = "portfolio_id, owner, name, created_at";

fn portfolio_from_row(r: &Row) -> Result<Portfolio> {
    Ok(Portfolio {
        id: r
            .try_get::<_, &str>(0)?
            .parse()
            .map_err(|e: uuid_error::Error| StoreError::CorruptValue(Box::new(e)))?,
        owner: UserId(r.try_get(1)?),
        name: r.try_get(2)?,
        created_at: Timestamp::from_micros(r.try_get(3)?),
    })
}

#[async_trait]
impl PortfolioStore for PostgresAppStore {
    async fn upsert_portfolio(&self, p: &Portfolio) -> Result<()> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "INSERT INTO portfolios (portfolio_id, owner, name, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (portfolio_id) DO UPDATE
                 SET owner = excluded.owner, name = excluded.name, created_at = excluded.created_at",
            )
            .await?;
        c.execute(
            &st,
            &[
                &p.id.to_string(),
                &p.owner.0,
                &p.name,
                &p.created_at.as_micros(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_portfolio(&self, p: &Portfolio) -> Result<()> {
        let id = p.id.to_string();
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        for table in [
            "portfolios",
            "holdings",
            "portfolio_events",
            "portfolio_imports",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE portfolio_id = $1"),
                &[&id],
            )
            .await?;
        }
        Ok(tx.commit().await?)
    }

    async fn upsert_holding(&self, h: &Holding) -> Result<()> {
        let body = serde_json::to_string(h)?;
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "INSERT INTO holdings (holding_id, portfolio_id, body) VALUES ($1, $2, $3)
                 ON CONFLICT (holding_id) DO UPDATE
                 SET portfolio_id = excluded.portfolio_id, body = excluded.body",
            )
            .await?;
        c.execute(
            &st,
            &[&h.id.to_string(), &h.portfolio_id.to_string(), &body],
        )
        .await?;
        Ok(())
    }

    async fn delete_holding(
        &self,
        _portfolio_id: PortfolioId,
        holding_id: HoldingId,
    ) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM holdings WHERE holding_id = $1",
            &[&holding_id.to_string()],
        )
        .await?;
        Ok(())
    }

    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport> {
        let rows = events
            .iter()
            .map(|e| Ok((e, serde_json::to_string(e)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx
            .prepare_cached(
                "INSERT INTO portfolio_events (event_id, portfolio_id, holding_id, at, body)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .await?;
        let mut n = 0;
        for (e, body) in &rows {
            n += tx
                .execute(
                    &st,
                    &[
                        &e.id.to_string(),
                        &e.portfolio_id.to_string(),
                        &e.holding_id.to_string(),
                        &e.at.as_micros(),
                        body,
                    ],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(WriteReport {
            rows: rows.len(),
            new_rows: Some(to_usize(n)),
        })
    }

    async fn record_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
        holdings: &[HoldingId],
    ) -> Result<()> {
        let (pid, iid) = (portfolio_id.to_string(), import_id.to_string());
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx
            .prepare_cached(
                "INSERT INTO portfolio_imports (import_id, portfolio_id, holding_id)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .await?;
        for h in holdings {
            tx.execute(&st, &[&iid, &pid, &h.to_string()]).await?;
        }
        Ok(tx.commit().await?)
    }

    async fn undo_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
    ) -> Result<Option<Vec<HoldingId>>> {
        let (pid, iid) = (portfolio_id.to_string(), import_id.to_string());
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let ids: Vec<String> = tx
            .query(
                "DELETE FROM portfolio_imports WHERE portfolio_id = $1 AND import_id = $2
                 RETURNING holding_id",
                &[&pid, &iid],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(None);
        }
        tx.execute(
            "DELETE FROM holdings WHERE portfolio_id = $1 AND holding_id = ANY($2)",
            &[&pid, &ids],
        )
        .await?;
        tx.execute(
            "DELETE FROM portfolio_events WHERE portfolio_id = $1 AND holding_id = ANY($2)",
            &[&pid, &ids],
        )
        .await?;
        tx.commit().await?;
        let mut held = ids
            .iter()
            .map(|id| {
                id.parse()
                    .map_err(|e: uuid_error::Error| StoreError::CorruptValue(Box::new(e)))
            })
            .collect::<Result<Vec<HoldingId>>>()?;
        held.sort_by_key(ToString::to_string);
        Ok(Some(held))
    }

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {PORTFOLIO_COLS} FROM portfolios WHERE owner = $1
                 ORDER BY created_at, portfolio_id"
            ))
            .await?;
        c.query(&st, &[&owner.0])
            .await?
            .iter()
            .map(portfolio_from_row)
            .collect()
    }

    async fn all_portfolios(&self) -> Result<Vec<Portfolio>> {
        let c = self.client().await?;
        c.query(
            &format!("SELECT {PORTFOLIO_COLS} FROM portfolios ORDER BY portfolio_id"),
            &[],
        )
        .await?
        .iter()
        .map(portfolio_from_row)
        .collect()
    }

    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT body FROM holdings WHERE portfolio_id = $1 ORDER BY holding_id")
            .await?;
        bodies(&c.query(&st, &[&portfolio_id.to_string()]).await?)
    }

    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT body FROM portfolio_events WHERE portfolio_id = $1 ORDER BY at, event_id",
            )
            .await?;
        bodies(&c.query(&st, &[&portfolio_id.to_string()]).await?)
    }

    async fn portfolio_revision(&self, portfolio_id: PortfolioId) -> Result<Option<u64>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT revision FROM portfolios WHERE portfolio_id = $1")
            .await?;
        let row = c.query_opt(&st, &[&portfolio_id.to_string()]).await?;
        Ok(row
            .map(|r| r.try_get::<_, i64>(0))
            .transpose()?
            .map(i64::unsigned_abs))
    }
}

mod uuid_error {
    pub type Error = <tcg_schemas::PortfolioId as std::str::FromStr>::Err;
}
