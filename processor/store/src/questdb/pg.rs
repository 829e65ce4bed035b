//! The PGWire connections of the reads: a pool (reads run side by side, each on a connection of
//! its own; QuestDB answers one query at a time per connection) whose connections keep their
//! prepared statements, so a query text is parsed and planned once per connection. A connection
//! QuestDB closed (a restart, a crash) is dropped at checkout and made again; a query that finds
//! its connection closed runs once more on another (reads only).

use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::{NoTls, Row, types::ToSql};

use crate::{Result, StoreError};

/// Prepared statements kept per connection at most; past that the cache starts again (texts
/// with literal instants in them would otherwise pile up on both sides).
const MAX_STATEMENTS: usize = 256;

/// The read connections.
pub(crate) struct PgConn {
    pool: Pool,
}

fn pool_err(e: PoolError) -> StoreError {
    match e {
        // connecting failed: the client's own error, as a single connection reports it
        PoolError::Backend(e) => StoreError::Postgres(e),
        e => StoreError::Pool(e),
    }
}

impl PgConn {
    /// Connects once now, so a bad URL or a server that is down fails at start.
    pub(crate) async fn connect(url: &str, connections: usize, wait: Duration) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse()?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(wait))
            .create_timeout(Some(wait))
            .recycle_timeout(Some(wait))
            .build()
            .map_err(StoreError::PoolBuild)?;
        let c = Self { pool };
        drop(c.client().await?);
        Ok(c)
    }

    async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(pool_err)
    }

    async fn run(
        c: &Object,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
        if c.statement_cache.size() >= MAX_STATEMENTS {
            c.statement_cache.clear();
        }
        let statement = c.prepare_cached(sql).await?;
        c.query(&statement, params).await
    }

    /// Runs a read; once more on another connection when the connection was found closed.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let c = self.client().await?;
        match Self::run(&c, sql, params).await {
            Err(e) if e.is_closed() || c.is_closed() => {
                tracing::info!(error = %e, "QuestDB PGWire connection lost; reconnecting");
                drop(c);
                Ok(Self::run(&self.client().await?, sql, params).await?)
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
