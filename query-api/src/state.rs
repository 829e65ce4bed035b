//! Shared state of the handlers, the limits, and the hook that publishes rule changes.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use async_trait::async_trait;
use tcg_ports::SourceReports;
use tcg_processor_core::CoreConfig;
use tcg_schemas::{AlertEvent, RuleChange, Tick, Timestamp};
use tcg_store::{AppStore, PortfolioStore, PriceStore};
use tokio::sync::{broadcast, mpsc};

use crate::{
    auth::AuthCache, card_names::CardNames, limits::Gate, metrics::Metrics,
    response_cache::ResponseCache, routes::streams::StreamSlots, serve::ServeLimits,
};

/// A rule change could not be handed on.
#[derive(Debug, thiserror::Error)]
#[error("rule change not published: {0}")]
pub struct PublishError(pub String);

/// Hands rule changes to whoever evaluates rules: Kafka `tcg.alert-rules.v1` (key = rule id,
/// compacted) in the distributed mode, the in-process processor in the embedded one.
///
/// The API writes the rule to the store, then publishes; when publishing fails the store write
/// is undone and the client gets 503, so the store and the processors never disagree for long.
#[async_trait]
pub trait RulePublisher: Send + Sync + std::fmt::Debug {
    async fn publish(&self, change: RuleChange) -> Result<(), PublishError>;
}

/// A publisher into a bounded in-process channel (the embedded mode).
#[derive(Debug, Clone)]
pub struct ChannelRulePublisher(pub mpsc::Sender<RuleChange>);

#[async_trait]
impl RulePublisher for ChannelRulePublisher {
    async fn publish(&self, change: RuleChange) -> Result<(), PublishError> {
        self.0
            .send(change)
            .await
            .map_err(|_| PublishError("the rule channel is closed".into()))
    }
}

/// Limits of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Sustained requests per second per API key.
    pub rate_per_sec: NonZeroU32,
    /// Requests a key may make at once above the sustained rate.
    pub rate_burst: NonZeroU32,
    /// Largest JSON body, bytes.
    pub json_body_limit: usize,
    /// Largest CSV import body, bytes.
    pub import_body_limit: usize,
    /// Largest CSV import, rows.
    pub import_max_rows: usize,
    /// The processor core's limits, used to validate alert rules (one source of truth).
    pub core: CoreConfig,
    /// Largest page of a list.
    pub max_page: usize,
    /// Most series ids in one `GET /v1/prices/latest`.
    pub max_latest_series: usize,
    /// Most buckets one history (card or portfolio) may return.
    pub max_buckets: usize,
    /// Interval of SSE keep-alive comments.
    pub sse_keep_alive: Duration,
    /// How long a verified key is remembered (a revoked key may work this long); zero = never.
    pub auth_cache_ttl: Duration,
    /// Capacity of the tick and alert broadcast channels created by [`AppState::new`].
    pub broadcast_capacity: usize,
    /// Most portfolios per user, holdings per portfolio, rules and webhooks per user.
    pub max_portfolios: usize,
    pub max_holdings: usize,
    pub max_rules: usize,
    pub max_webhooks: usize,
    /// Which webhook targets are accepted: loopback, private, link-local, unique-local and
    /// cloud-metadata addresses are refused unless allowed (the dispatcher checks again at
    /// delivery time, against DNS rebinding).
    pub webhook_guard: tcg_address_guard::AddressGuard,
    /// How long a read request (`GET`) may take in all, waiting for a slot included, and how long
    /// any one store read of a write request may take; past it, 503.
    pub store_deadline: Duration,
    /// Requests under `/v1` (streams apart) that may use the stores at once; more wait for a slot
    /// up to `store_deadline`, then 503. When every slot is taken, `/readyz` says `saturated`.
    pub max_concurrent_reads: usize,
    /// Of those, portfolio valuations, histories, imports and exports at once (they read every
    /// holding), so that they never take every slot.
    pub max_concurrent_heavy_reads: usize,
    /// Most holdings × buckets one portfolio history may value (422 beyond, naming the limit).
    pub max_history_cells: usize,
    /// Largest page of holdings in a valuation (its totals always cover every holding).
    pub max_valuation_page: usize,
    /// Longest time to receive a request body (whole, not between chunks); 408 beyond.
    pub body_read_timeout: Duration,
    /// Longest request target (path and query), bytes; 414 beyond.
    pub max_uri_bytes: usize,
    /// Largest request head (request line and headers), bytes, and most header fields; 431 beyond.
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// [`crate::serve`]: time to receive a request head, from when the server waits for one (a new
    /// connection, or the next request on a kept-alive one, so it is the idle keep-alive timeout
    /// too); the connection is closed beyond.
    pub header_read_timeout: Duration,
    /// [`crate::serve`]: a connection on which no byte could be read or written for this long is
    /// closed (a client that stopped reading its stream, a body that stopped coming).
    pub idle_timeout: Duration,
    /// [`crate::serve`]: open connections at most; beyond, a connection is answered 503 and closed.
    pub max_connections: usize,
    /// Open SSE streams at most, in all and per API key; 429 beyond.
    pub max_streams: usize,
    pub max_streams_per_key: usize,
    /// How often an open stream checks that its key is still valid (through the auth cache, so
    /// a revoked key's streams end within `auth_cache_ttl` + this).
    pub stream_key_recheck: Duration,
    /// Bytes the response cache of history, latest prices and movers may hold (0: none kept).
    pub cache_bytes: u64,
    /// Longest a cached answer is served without a tick invalidating it (the bound on how old an
    /// answer is when the process is told of no ticks: `serve` without `--kafka`).
    pub cache_ttl: Duration,
    /// `Cache-Control: private, max-age` of those answers (at most what is left of their
    /// `cache_ttl`); a client then revalidates with `If-None-Match` (304 when unchanged).
    pub cache_max_age: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            rate_per_sec: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            rate_burst: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
            json_body_limit: 64 * 1024,
            import_body_limit: 8 * 1024 * 1024,
            import_max_rows: 50_000,
            core: CoreConfig::default(),
            max_page: 200,
            max_latest_series: 200,
            max_buckets: 5_000,
            sse_keep_alive: Duration::from_secs(15),
            auth_cache_ttl: Duration::from_secs(3),
            broadcast_capacity: 4096,
            max_portfolios: 100,
            max_holdings: 50_000,
            max_rules: 1_000,
            max_webhooks: 20,
            webhook_guard: tcg_address_guard::AddressGuard::default(),
            store_deadline: Duration::from_secs(5),
            max_concurrent_reads: 64,
            max_concurrent_heavy_reads: 2,
            max_history_cells: 2_000_000,
            max_valuation_page: 1_000,
            body_read_timeout: Duration::from_secs(30),
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            max_streams: 256,
            max_streams_per_key: 8,
            stream_key_recheck: Duration::from_secs(1),
            cache_bytes: 16 * 1024 * 1024,
            cache_ttl: Duration::from_secs(60),
            cache_max_age: Duration::from_secs(15),
        }
    }
}

type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub(crate) struct Inner {
    pub(crate) prices: Arc<dyn PriceStore>,
    pub(crate) app: Arc<dyn AppStore>,
    pub(crate) portfolios: Arc<dyn PortfolioStore>,
    pub(crate) config: ApiConfig,
    pub(crate) ticks: broadcast::Sender<Tick>,
    pub(crate) alerts: broadcast::Sender<AlertEvent>,
    pub(crate) rules: Option<Arc<dyn RulePublisher>>,
    pub(crate) sources: Option<Arc<dyn SourceReports>>,
    pub(crate) metrics: Metrics,
    pub(crate) auth: AuthCache,
    pub(crate) gate: Gate,
    pub(crate) streams: Arc<StreamSlots>,
    pub(crate) cache: Arc<ResponseCache>,
    pub(crate) names: Arc<CardNames>,
    pub(crate) clock: Clock,
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("prices", &self.inner.prices.backend())
            .field("config", &self.inner.config)
            .finish()
    }
}

impl AppState {
    /// State over the price data (SQLite or QuestDB) and the app's own data (SQLite or
    /// PostgreSQL; embedded, one `SqliteStore` is both), with fresh broadcast channels for ticks
    /// and alerts (see [`Self::tick_sender`]) and no rule publisher.
    pub fn new(prices: Arc<dyn PriceStore>, app: Arc<dyn AppStore>, config: ApiConfig) -> Self {
        let cap = config.broadcast_capacity.max(1);
        let (ticks, _) = broadcast::channel(cap);
        let (alerts, _) = broadcast::channel(cap);
        let auth = AuthCache::new(&config);
        let gate = Gate::new(&config);
        let metrics = Metrics::new();
        let cache = Arc::new(ResponseCache::new(
            config.cache_bytes,
            config.cache_ttl,
            metrics.clone(),
        ));
        Self {
            inner: Arc::new(Inner {
                prices,
                portfolios: app.clone(),
                app,
                config,
                ticks,
                alerts,
                rules: None,
                sources: None,
                metrics,
                auth,
                gate,
                streams: Arc::default(),
                cache,
                names: Arc::default(),
                clock: Arc::new(|| Timestamp::from(chrono::Utc::now())),
            }),
        }
    }

    fn map(self, f: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                prices: shared.prices.clone(),
                app: shared.app.clone(),
                portfolios: shared.portfolios.clone(),
                config: shared.config.clone(),
                ticks: shared.ticks.clone(),
                alerts: shared.alerts.clone(),
                rules: shared.rules.clone(),
                sources: shared.sources.clone(),
                metrics: shared.metrics.clone(),
                auth: AuthCache::new(&shared.config),
                gate: Gate::new(&shared.config),
                streams: Arc::default(),
                cache: shared.cache.clone(),
                names: shared.names.clone(),
                clock: shared.clock.clone(),
            },
        };
        f(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Publishes rule changes through `publisher` after they are stored.
    pub fn with_rule_publisher(self, publisher: Arc<dyn RulePublisher>) -> Self {
        self.map(|i| i.rules = Some(publisher))
    }

    /// Serves the sources' health and the cards' rejections from `reports` (`/v1/sources`,
    /// `/v1/cards/{id}/rejections`, `/readyz` detail).
    pub fn with_source_reports(self, reports: Arc<dyn SourceReports>) -> Self {
        self.map(|i| i.sources = Some(reports))
    }

    /// Keeps portfolios through `portfolios` instead of the app store itself (distributed: the
    /// app store plus the dashboards' copy in QuestDB, [`tcg_store::PortfolioCopy`]).
    pub fn with_portfolio_store(self, portfolios: Arc<dyn PortfolioStore>) -> Self {
        self.map(|i| i.portfolios = portfolios)
    }

    /// Uses an existing tick channel (e.g. the one the processor already publishes into).
    pub fn with_tick_channel(self, sender: broadcast::Sender<Tick>) -> Self {
        self.map(|i| i.ticks = sender)
    }

    /// Uses an existing alert channel.
    pub fn with_alert_channel(self, sender: broadcast::Sender<AlertEvent>) -> Self {
        self.map(|i| i.alerts = sender)
    }

    /// Replaces the wall clock (tests).
    pub fn with_clock(self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.map(|i| i.clock = Arc::new(clock))
    }

    /// Send ticks here; `/v1/stream/ticks` subscribers receive them.
    pub fn tick_sender(&self) -> broadcast::Sender<Tick> {
        self.inner.ticks.clone()
    }

    /// The cache of history, latest prices and movers: tell it of every tick written
    /// ([`ResponseCache::ticks_written`]).
    pub fn response_cache(&self) -> &Arc<ResponseCache> {
        &self.inner.cache
    }

    /// Send fired alerts here; `/v1/stream/alerts` subscribers receive their own.
    pub fn alert_sender(&self) -> broadcast::Sender<AlertEvent> {
        self.inner.alerts.clone()
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// The sources' health and rejections, when this process runs the collectors.
    pub fn source_reports(&self) -> Option<&Arc<dyn SourceReports>> {
        self.inner.sources.as_ref()
    }

    /// Ticks, latest prices, candles, movers and the catalog.
    pub fn prices(&self) -> &Arc<dyn PriceStore> {
        &self.inner.prices
    }

    /// Accounts, keys, portfolios, rules, alerts and webhooks.
    pub fn app(&self) -> &Arc<dyn AppStore> {
        &self.inner.app
    }

    /// Portfolios, holdings and their events (the app store's, unless replaced).
    pub fn portfolios(&self) -> &Arc<dyn PortfolioStore> {
        &self.inner.portfolios
    }

    /// Portfolio valuation: the app store's holdings at the price store's prices.
    pub fn valuer(&self) -> tcg_store::Valuer<'_> {
        tcg_store::Valuer::new(self.inner.prices.as_ref(), self.inner.portfolios.as_ref())
    }

    /// The connection limits of [`crate::serve`] from this state's configuration, counting
    /// connections in this state's metrics.
    pub fn serve_limits(&self) -> ServeLimits {
        ServeLimits::from_config(&self.inner.config).with_metrics(self.inner.metrics.clone())
    }

    /// The Prometheus text the `/metrics` endpoint serves.
    pub fn render_metrics(&self) -> String {
        self.inner.metrics.render()
    }

    /// The cards' names, sets and images (cached).
    pub fn card_names(&self) -> &CardNames {
        &self.inner.names
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.inner.clock)()
    }
}
