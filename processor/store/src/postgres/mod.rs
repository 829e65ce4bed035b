//! The app store on PostgreSQL ([`PostgresAppStore`]): accounts, portfolios, alert rules and
//! fired alerts, webhook endpoints and the delivery outbox of the distributed deployment, with
//! exactly the semantics of the SQLite implementation (the `app_contract` test suite runs the
//! same checks on both).
//!
//! One module a job: [`config`] (URL, pool and its timeouts), [`migrate`] (versioned schema,
//! run on connect under an advisory lock), and one module per store trait it implements
//! (`accounts`, `portfolios`, `alerts`, `deliveries`).
//!
//! Several dispatchers may share one database: [`crate::DeliveryStore::claim_due`] locks the
//! due deliveries with `FOR UPDATE … SKIP LOCKED` in the transaction that sets their lease, so
//! no delivery is handed to two of them within a lease; fan-out takes outbox entries the same
//! way.

mod accounts;
mod alerts;
pub mod config;
mod deliveries;
pub mod migrate;
mod portfolios;

use deadpool_postgres::{Object, Pool};

use crate::{Result, StoreError};

pub use config::PostgresConfig;
pub use migrate::{AppliedMigration, MIGRATIONS, Migration};

/// The app store on PostgreSQL: a pool of connections to one database.
#[derive(Clone)]
pub struct PostgresAppStore {
    pool: Pool,
    display: String,
}

impl std::fmt::Debug for PostgresAppStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresAppStore")
            .field("url", &self.display)
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PostgresAppStore {
    /// Connects and migrates: fails when the server cannot be reached within the configured
    /// timeouts (`is_unavailable()` is then true) or a migration fails.
    pub async fn connect(config: &PostgresConfig) -> Result<Self> {
        let store = Self {
            pool: config.pool()?,
            display: config.display_url().to_owned(),
        };
        {
            let mut client = store.client().await?;
            migrate::migrate(&mut client).await?;
        }
        Ok(store)
    }

    /// Connects to the URL (`postgres://…`), with the default pool settings.
    pub async fn connect_url(url: &str) -> Result<Self> {
        Self::connect(&PostgresConfig::from_url(url)?).await
    }

    /// The migrations `schema_migrations` records.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>> {
        migrate::applied(&**self.client().await?).await
    }

    /// The connection pool (its status: size, available, waiting).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A connection from the pool: checked before reuse, made anew when the old one broke.
    pub(crate) async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(StoreError::Pool)
    }
}

/// A count or limit as PostgreSQL's BIGINT.
fn to_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A page size as SQL's LIMIT: at least 1.
fn limit(v: usize) -> i64 {
    to_i64(v.max(1))
}

/// A count read back.
fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Stored JSON bodies, parsed.
fn bodies<T: serde::de::DeserializeOwned>(rows: &[tokio_postgres::Row]) -> Result<Vec<T>> {
    rows.iter()
        .map(|r| Ok(serde_json::from_str(r.try_get::<_, &str>(0)?)?))
        .collect()
}
