//! The stores: one trait per concern, each implemented by the embedded [`SqliteStore`] (the
//! default) and [`QuestDbStore`] or [`PostgresAppStore`]:
//! - [`TickStore`]: price ticks, latest prices, candles, movers, price points;
//! - [`CatalogStore`]: sets, products, SKUs;
//! - [`PortfolioStore`] and [`AlertStore`]: the app's own data (portfolios, holdings and their
//!   events; alert rules and fired alerts), beside [`AccountStore`] and [`DeliveryStore`];
//! - [`Valuer`]: portfolio valuation as one service over a tick store and a portfolio store.
//!
//! [`Store`] is all four of one backend, as `up` and the services hold them today. [`AppStore`]
//! is the app's own data (SQLite or PostgreSQL, chosen by URL with [`AppDatabase`] and
//! [`connect_app_store`]); [`copy_app_data`] copies it from one app store into another.
//!
//! Write semantics shared by both backends:
//! - ticks are idempotent by [`tcg_schemas::Tick::key`]: a replayed tick changes nothing;
//! - alerts by their [`tcg_schemas::AlertId`], portfolio events by their id;
//! - catalog, portfolios, holdings and rules are upserts (last write wins);
//! - a write that returns `Ok` was accepted; after [`TickStore::flush`] returns `Ok` everything accepted
//!   before it is durable (SQLite: already at write; QuestDB: rows buffered for batching are sent).
//!   A consumer commits its offsets only after `flush`.

pub mod accounts;
mod alert_store;
pub mod app_copy;
mod app_database;
#[cfg(feature = "bench")]
pub mod bench;
mod catalog_store;
pub mod codes;
pub mod deliveries;
pub mod interval;
pub mod model;
pub mod movers;
mod output_sinks;
mod portfolio_copy;
mod portfolio_store;
pub mod postgres;
pub mod questdb;
pub mod sqlite;
mod tick_store;
pub mod valuation;
mod valuer;

pub use accounts::{
    AccountStore, ApiKeyRecord, NewWebhook, User, Webhook, WebhookPatch, WebhookRecord,
};
pub use alert_store::AlertStore;
pub use app_copy::{CopyCount, CopyReport, copy_app_data};
pub use app_database::{AppDatabase, connect_app_store};
#[cfg(feature = "bench")]
pub use bench::{BenchStoreConfig, bench_store};
pub use catalog_store::CatalogStore;
pub use deliveries::{
    AttemptRecord, AttemptResolution, DeliveryAttempt, DeliveryStore, DisabledEndpoint,
    DueDelivery, FanOut, RecordReport, WebhookHealth,
};
pub use interval::Interval;
pub use model::*;
pub use output_sinks::{AlertOutboxSink, StoreSink};
pub use portfolio_copy::PortfolioCopy;
pub use portfolio_store::PortfolioStore;
pub use postgres::{PostgresAppStore, PostgresConfig};
pub use questdb::{IlpWriter, QuestDbConfig, QuestDbStore};
pub use sqlite::{SqliteOptions, SqliteStore};
pub use tick_store::TickStore;
pub use valuer::Valuer;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL (the app store) or QuestDB's PGWire answered with an error or the connection
    /// failed.
    #[error("postgres wire: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The app store's pool gave no connection: the server refused or did not answer within the
    /// connect timeout, every connection stayed busy past the wait timeout, or the pool closed.
    #[error("postgres pool: {0}")]
    Pool(#[source] deadpool_postgres::PoolError),
    /// The SQLite store's pool of reader connections gave none (it was closed).
    #[error("sqlite reader pool: {0}")]
    ReaderPool(#[source] deadpool::unmanaged::PoolError),
    /// The pool could not be built from its configuration.
    #[error("postgres pool configuration: {0}")]
    PoolBuild(#[source] deadpool_postgres::BuildError),
    /// A database URL that names no backend or does not parse (its password masked).
    #[error("database URL {url}: {reason}")]
    DatabaseUrl {
        url: String,
        reason: String,
        #[source]
        source: Option<tokio_postgres::Error>,
    },
    /// A PostgreSQL migration failed (and was rolled back).
    #[error("PostgreSQL migration {version:04}_{name} failed: {source}")]
    PostgresMigration {
        version: i64,
        name: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The QuestDB client refused to build or send rows (its error code and message).
    #[error("questdb ingest: {:?}: {}", .0.code(), .0.msg())]
    Ilp(#[source] ::questdb::Error),
    /// QuestDB suspended a WAL table: its writes are not applied until an operator resumes it.
    #[error("WAL table {table} is suspended, its writes are not applied: {reason}")]
    WalSuspended { table: String, reason: String },
    /// A flush to QuestDB failed (network, 5xx after retries); the rows are kept and sent again by
    /// the next flush.
    #[error("flush failed, {pending_rows} rows kept for retry: {source}")]
    FlushFailed {
        pending_rows: usize,
        #[source]
        source: ::questdb::Error,
    },
    /// QuestDB refused a batch (HTTP 400: a value its table cannot take, e.g. text for a LONG
    /// column). The rows are kept, so nothing is lost silently: they go out with the next flush
    /// once the table takes them, or `IlpWriter::discard_pending` drops them.
    #[error(
        "QuestDB refused the rows for table {table}, column {column}: {reason} ({pending_rows} rows kept)",
        table = .table.as_deref().unwrap_or("?"),
        column = .column.as_deref().unwrap_or("?")
    )]
    Refused {
        table: Option<String>,
        column: Option<String>,
        reason: String,
        pending_rows: usize,
        #[source]
        source: ::questdb::Error,
    },
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid tick: {0}")]
    InvalidTick(String),
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("schema migration: {0}")]
    Migration(String),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// A stored value that does not parse (a currency code, an id, a number out of range), its
    /// parse error kept.
    #[error("stored data is not readable: {0}")]
    CorruptValue(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the database cannot be reached right now, so that a request can be answered
    /// with 503 (and retried) rather than 500: connection refused or reset, connect timeout, the
    /// pool's wait or check timed out, a connection closed under a query, or the server shutting
    /// down or starting up. Causes are kept (`source()`); the pool makes new connections by
    /// itself once the server is back, nothing needs reopening.
    pub fn is_unavailable(&self) -> bool {
        use deadpool_postgres::PoolError;
        match self {
            Self::Pool(PoolError::Timeout(_) | PoolError::Closed) => true,
            Self::Pool(PoolError::Backend(e))
            | Self::Postgres(e)
            | Self::PostgresMigration { source: e, .. } => pg_unavailable(e),
            _ => false,
        }
    }
}

/// A PostgreSQL client error that says the server is out of reach, not that the request was
/// wrong.
fn pg_unavailable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        // 08: connection exception; 57P01-03: admin/crash shutdown, cannot connect now (starting
        // up); 53300: too many connections.
        let code = code.code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300");
    }
    // Connecting or talking failed at the socket: refused, reset, timed out.
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<std::io::Error>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Every store concern of one backend: what the processor's output sink writes (ticks and the
/// alerts the dashboards read) and what the embedded `up` holds as one file. Implemented for
/// anything that implements the four.
pub trait Store: PriceStore + PortfolioStore + AlertStore {}

impl<T: PriceStore + PortfolioStore + AlertStore + ?Sized> Store for T {}

/// The price data: ticks, latest, candles, movers and the catalog beside them. SQLite (embedded)
/// or QuestDB (distributed).
pub trait PriceStore: TickStore + CatalogStore {}

impl<T: TickStore + CatalogStore + ?Sized> PriceStore for T {}

/// The app's own data: accounts and keys, portfolios and holdings, alert rules and fired alerts,
/// webhook endpoints, deliveries and the outbox. SQLite (embedded) or PostgreSQL (distributed).
pub trait AppStore: AccountStore + PortfolioStore + AlertStore + DeliveryStore {}

impl<T: AccountStore + PortfolioStore + AlertStore + DeliveryStore + ?Sized> AppStore for T {}

/// The store traits, for `use tcg_store::prelude::*` where methods of several are called.
pub mod prelude {
    pub use crate::{
        AccountStore, AlertStore, AppStore, CatalogStore, DeliveryStore, PortfolioStore,
        PriceStore, Store, TickStore,
    };
}
