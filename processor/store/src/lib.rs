//! The tick store: one boundary ([`Store`]) used by the processor (writes) and the query API (reads),
//! implemented by the embedded [`SqliteStore`] (the default) and [`QuestDbStore`].
//!
//! Write semantics shared by both backends:
//! - ticks are idempotent by [`tcg_schemas::Tick::key`]: a replayed tick changes nothing;
//! - alerts by their [`tcg_schemas::AlertId`], portfolio events by their id;
//! - catalog, portfolios, holdings and rules are upserts (last write wins);
//! - a write that returns `Ok` was accepted; after [`Store::flush`] returns `Ok` everything accepted
//!   before it is durable (SQLite: already at write; QuestDB: rows buffered for batching are sent).
//!   A consumer commits its offsets only after `flush`.

pub mod accounts;
pub mod bench;
pub mod codes;
pub mod deliveries;
pub mod interval;
pub mod model;
pub mod movers;
pub mod questdb;
pub mod sqlite;
pub mod valuation;

use async_trait::async_trait;
use tcg_schemas::{
    AlertEvent, AlertRule, CardSet, Game, Holding, HoldingId, Portfolio, PortfolioEvent,
    PortfolioId, Product, ProductId, RuleChange, RuleId, Sku, Tick, Timestamp, UserId,
};

pub use accounts::{AccountStore, ApiKeyRecord, NewWebhook, User, Webhook, WebhookPatch};
pub use bench::{BenchStoreArgs, bench_store};
pub use deliveries::{
    AttemptRecord, AttemptResolution, DeliveryAttempt, DeliveryStore, DisabledEndpoint,
    DueDelivery, FanOut, RecordReport, WebhookHealth,
};
pub use interval::Interval;
pub use model::*;
pub use questdb::{IlpWriter, QuestDbConfig, QuestDbStore};
pub use sqlite::{SqliteOptions, SqliteStore};

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres wire: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("questdb ingest: {0}")]
    Ilp(String),
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
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("background task failed: {0}")]
    Task(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store boundary. Object safe: use it as `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// `"sqlite"` or `"questdb"`.
    fn backend(&self) -> &'static str;

    // ---- writes -------------------------------------------------------------------------------

    /// Stores ticks idempotently (identity: `Tick::key()`). Prices must be in USD.
    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport>;
    /// Makes every accepted write durable; an error means some rows are still pending (kept).
    async fn flush(&self) -> Result<()>;
    /// `flush`, then wait until the writes are visible to reads (QuestDB applies WAL asynchronously).
    async fn sync(&self) -> Result<()>;
    /// Stores fired alerts, idempotent by id.
    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport>;
    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()>;
    async fn upsert_products(&self, products: &[Product]) -> Result<()>;
    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()>;
    async fn upsert_portfolio(&self, portfolio: &Portfolio) -> Result<()>;
    async fn delete_portfolio(&self, portfolio: &Portfolio) -> Result<()>;
    async fn upsert_holding(&self, holding: &Holding) -> Result<()>;
    async fn delete_holding(&self, portfolio_id: PortfolioId, holding_id: HoldingId) -> Result<()>;
    /// Appends portfolio events, idempotent by id.
    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport>;
    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()>;
    async fn delete_rule(&self, rule_id: RuleId, owner: &UserId) -> Result<()>;

    /// Applies a change from `tcg.alert-rules.v1`.
    async fn apply_rule_change(&self, change: &RuleChange) -> Result<()> {
        match change {
            RuleChange::Upsert { rule } => self.upsert_rule(rule).await,
            RuleChange::Delete { rule_id, owner } => self.delete_rule(*rule_id, owner).await,
        }
    }

    // ---- reads --------------------------------------------------------------------------------

    /// The newest price of each (series, source, kind) of the given series that passes `prices`.
    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>>;
    /// OHLC candles; buckets cover `[interval.floor(from), to)`.
    async fn candles(&self, query: &CandleQuery) -> Result<Vec<SeriesCandles>>;
    async fn movers(&self, query: &MoversQuery) -> Result<Movers>;
    async fn portfolio_value(
        &self,
        portfolio_id: PortfolioId,
        at: Timestamp,
        price: &ValuationPrice,
    ) -> Result<PortfolioValuation>;
    async fn portfolio_history(
        &self,
        portfolio_id: PortfolioId,
        from: Timestamp,
        to: Timestamp,
        interval: Interval,
        price: &ValuationPrice,
    ) -> Result<Vec<ValuationPoint>>;
    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage>;
    /// The ids of every series of a product that has ticks (raw and graded), sorted.
    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>>;
    async fn product(&self, product_id: ProductId) -> Result<Option<Product>>;
    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>>;
    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>>;
    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>>;
    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>>;
    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>>;
    /// Rules, of one owner or all (the processor loads all at start).
    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>>;
    /// An owner's alerts, newest first.
    async fn alerts(&self, owner: &UserId, limit: usize) -> Result<Vec<AlertEvent>>;
}

/// The series ids a valuation needs, and bucket (start, end) pairs of a history.
pub(crate) fn bucket_pairs(
    interval: Interval,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    interval
        .buckets(from, to)
        .into_iter()
        .map(|s| (s, interval.next(s)))
        .collect()
}
