//! Portfolios, holdings and their events.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use tcg_schemas::{
    Holding, HoldingId, ImportId, Portfolio, PortfolioEvent, PortfolioId, Timestamp, UserId,
};

use super::SqliteStore;
use crate::{PortfolioStore, Result, StoreError, model::WriteReport};

fn holdings_blocking(conn: &Connection, id: PortfolioId) -> Result<Vec<Holding>> {
    let bodies = conn
        .prepare_cached("SELECT body FROM holdings WHERE portfolio_id = ?1 ORDER BY holding_id")?
        .query_map([id.to_string()], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies
        .iter()
        .map(|b| Ok(serde_json::from_str(b)?))
        .collect()
}

fn events_blocking(conn: &Connection, id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
    let bodies = conn
        .prepare_cached(
            "SELECT body FROM portfolio_events WHERE portfolio_id = ?1 ORDER BY at, event_id",
        )?
        .query_map([id.to_string()], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies
        .iter()
        .map(|b| Ok(serde_json::from_str(b)?))
        .collect()
}

fn portfolios_blocking(conn: &Connection, sql: &str, args: &[Value]) -> Result<Vec<Portfolio>> {
    let rows = conn
        .prepare_cached(sql)?
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, o, name, at)| {
            Ok(Portfolio {
                id: id
                    .parse()
                    .map_err(|e: uuid_error::Error| StoreError::CorruptValue(Box::new(e)))?,
                owner: UserId(o),
                name,
                created_at: Timestamp::from_micros(at),
            })
        })
        .collect()
}

/// Deletes what the import created (see [`PortfolioStore::undo_import`]) in one transaction.
fn undo_import_blocking(
    conn: &Connection,
    portfolio: &str,
    import: &str,
) -> Result<Option<Vec<HoldingId>>> {
    let tx = conn.unchecked_transaction()?;
    let ids = tx
        .prepare_cached(
            "SELECT holding_id FROM portfolio_imports
             WHERE portfolio_id = ?1 AND import_id = ?2 ORDER BY holding_id",
        )?
        .query_map([portfolio, import], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if ids.is_empty() {
        return Ok(None);
    }
    for id in &ids {
        tx.execute(
            "DELETE FROM holdings WHERE holding_id = ?1 AND portfolio_id = ?2",
            [id.as_str(), portfolio],
        )?;
        tx.execute(
            "DELETE FROM portfolio_events WHERE portfolio_id = ?2 AND holding_id = ?1",
            [id.as_str(), portfolio],
        )?;
    }
    tx.execute(
        "DELETE FROM portfolio_imports WHERE portfolio_id = ?1 AND import_id = ?2",
        [portfolio, import],
    )?;
    tx.commit()?;
    ids.iter()
        .map(|id| {
            id.parse()
                .map_err(|e: uuid_error::Error| StoreError::CorruptValue(Box::new(e)))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

#[async_trait]
impl PortfolioStore for SqliteStore {
    async fn upsert_portfolio(&self, p: &Portfolio) -> Result<()> {
        let p = p.clone();
        self.write(move |w| {
            // An upsert, not a replace: the row keeps its revision.
            w.conn.prepare_cached(
                "INSERT INTO portfolios (portfolio_id, owner, name, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (portfolio_id) DO UPDATE
                 SET owner = excluded.owner, name = excluded.name, created_at = excluded.created_at",
            )?
                .execute(params![p.id.to_string(), p.owner.0, p.name, p.created_at.as_micros()])?;
            Ok(())
        })
        .await
    }

    async fn delete_portfolio(&self, p: &Portfolio) -> Result<()> {
        let id = p.id.to_string();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            tx.execute("DELETE FROM portfolios WHERE portfolio_id = ?1", [&id])?;
            tx.execute("DELETE FROM holdings WHERE portfolio_id = ?1", [&id])?;
            tx.execute(
                "DELETE FROM portfolio_events WHERE portfolio_id = ?1",
                [&id],
            )?;
            tx.execute(
                "DELETE FROM portfolio_imports WHERE portfolio_id = ?1",
                [&id],
            )?;
            Ok(tx.commit()?)
        })
        .await
    }

    async fn upsert_holding(&self, h: &Holding) -> Result<()> {
        let (id, pid, body) = (
            h.id.to_string(),
            h.portfolio_id.to_string(),
            serde_json::to_string(h)?,
        );
        self.write(move |w| {
            // An upsert, not a replace: a holding moved to another portfolio raises both revisions.
            w.conn
                .prepare_cached(
                    "INSERT INTO holdings (holding_id, portfolio_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (holding_id) DO UPDATE
                 SET portfolio_id = excluded.portfolio_id, body = excluded.body",
                )?
                .execute(params![id, pid, body])?;
            Ok(())
        })
        .await
    }

    async fn delete_holding(
        &self,
        _portfolio_id: PortfolioId,
        holding_id: HoldingId,
    ) -> Result<()> {
        let id = holding_id.to_string();
        self.write(move |w| {
            w.conn
                .execute("DELETE FROM holdings WHERE holding_id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport> {
        let rows = events
            .iter()
            .map(|e| {
                Ok((
                    e.id.to_string(),
                    e.portfolio_id.to_string(),
                    e.holding_id.to_string(),
                    e.at.as_micros(),
                    serde_json::to_string(e)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let mut n = 0;
            {
                let mut st = tx.prepare_cached("INSERT OR IGNORE INTO portfolio_events (event_id, portfolio_id, holding_id, at, body) VALUES (?1, ?2, ?3, ?4, ?5)")?;
                for r in &rows {
                    n += st.execute(params![r.0, r.1, r.2, r.3, r.4])?;
                }
            }
            tx.commit()?;
            Ok(WriteReport { rows: rows.len(), new_rows: Some(n) })
        })
        .await
    }

    async fn record_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
        holdings: &[HoldingId],
    ) -> Result<()> {
        let (pid, iid) = (portfolio_id.to_string(), import_id.to_string());
        let ids: Vec<String> = holdings.iter().map(ToString::to_string).collect();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR IGNORE INTO portfolio_imports (import_id, portfolio_id, holding_id)
                     VALUES (?1, ?2, ?3)",
                )?;
                for id in &ids {
                    st.execute(params![iid, pid, id])?;
                }
            }
            Ok(tx.commit()?)
        })
        .await
    }

    async fn undo_import(
        &self,
        portfolio_id: PortfolioId,
        import_id: ImportId,
    ) -> Result<Option<Vec<HoldingId>>> {
        let (pid, iid) = (portfolio_id.to_string(), import_id.to_string());
        self.write(move |w| undo_import_blocking(&w.conn, &pid, &iid))
            .await
    }

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>> {
        let owner = owner.0.clone();
        self.read(move |c| {
            portfolios_blocking(
                c,
                "SELECT portfolio_id, owner, name, created_at FROM portfolios WHERE owner = ?1 ORDER BY created_at, portfolio_id",
                &[Value::Text(owner)],
            )
        })
        .await
    }

    async fn all_portfolios(&self) -> Result<Vec<Portfolio>> {
        self.read(move |c| {
            portfolios_blocking(
                c,
                "SELECT portfolio_id, owner, name, created_at FROM portfolios ORDER BY portfolio_id",
                &[],
            )
        })
        .await
    }

    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>> {
        self.read(move |c| holdings_blocking(c, portfolio_id)).await
    }

    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
        self.read(move |c| events_blocking(c, portfolio_id)).await
    }

    async fn portfolio_revision(&self, portfolio_id: PortfolioId) -> Result<Option<u64>> {
        self.read(move |c| {
            let revision: Option<i64> = c
                .prepare_cached("SELECT revision FROM portfolios WHERE portfolio_id = ?1")?
                .query_row([portfolio_id.to_string()], |r| r.get(0))
                .optional()?;
            Ok(revision.map(|r| r.unsigned_abs()))
        })
        .await
    }
}

mod uuid_error {
    pub type Error = <tcg_schemas::PortfolioId as std::str::FromStr>::Err;
}
