//! The PGWire connection of the reads, made again when QuestDB closed it (a restart, a crash):
//! a query that finds the connection closed reconnects and runs once more (reads only).

use std::sync::Arc;

use tokio_postgres::{Client, NoTls, Row, types::ToSql};

use crate::Result;

/// One PGWire client, reconnected on demand.
pub(crate) struct PgConn {
    url: String,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

impl PgConn {
    /// Connects now, so a bad URL or a server that is down fails at start.
    pub(crate) async fn connect(url: &str) -> Result<Self> {
        let c = Self {
            url: url.to_owned(),
            client: tokio::sync::Mutex::new(None),
        };
        c.client().await?;
        Ok(c)
    }

    /// The open client, connecting again when the last one is closed.
    pub(crate) async fn client(&self) -> Result<Arc<Client>> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let (client, conn) = tokio_postgres::connect(&self.url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(error = %e, "QuestDB PGWire connection closed");
            }
        });
        let client = Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }

    /// Runs a read; once more on a fresh connection when the connection was found closed.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let c = self.client().await?;
        match c.query(sql, params).await {
            Err(e) if e.is_closed() || c.is_closed() => {
                tracing::info!(error = %e, "QuestDB PGWire connection lost; reconnecting");
                Ok(self.client().await?.query(sql, params).await?)
            }
            r => Ok(r?),
        }
    }

    /// Runs statements without binds (the DDL).
    pub(crate) async fn batch(&self, stmts: &[String]) -> Result<()> {
        let c = self.client().await?;
        for s in stmts {
            c.simple_query(s).await?;
        }
        Ok(())
    }
}
