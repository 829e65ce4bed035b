//! The market simulator: one HTTP server that serves the TCGplayer API, TCGCSV (with a small
//! price archive), eBay Browse and Marketplace Insights and the ECB rate shapes at their real
//! paths, from a generated catalog whose prices random-walk. Deterministic under a seed; faults
//! (429 with Retry-After, 500s, hangs, malformed JSON, expired tokens) can be switched on.
//!
//! It depends on no collector: the collectors' tests and the binary run their clients against it.

pub mod archive;
pub mod catalog;
mod error;
pub mod fx;
mod handlers;
pub mod listings;
pub mod market;
mod rng;

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use serde::{Deserialize, Serialize};

pub use error::SimError;

use catalog::SimCatalog;

/// Faults the simulator injects. Rates are probabilities per request (data endpoints, not
/// token endpoints); `first_*` make the first N data requests fail in a known way.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// 429 Too Many Requests with `Retry-After: retry_after_secs`.
    pub rate_429: f64,
    /// 500 Internal Server Error.
    pub rate_500: f64,
    /// Hang for `hang_ms` before answering (so clients time out).
    pub rate_hang: f64,
    /// Truncated JSON (or XML) with status 200.
    pub rate_malformed: f64,
    /// 401 as if the token had expired early.
    pub rate_expired_token: f64,
    pub retry_after_secs: u64,
    pub hang_ms: u64,
    /// The first N data requests answer 429 (with Retry-After).
    pub first_429: u64,
    /// The next N answer 503 (with Retry-After), then N more 500.
    pub first_503: u64,
    pub first_500: u64,
    /// The next N answer truncated JSON.
    pub first_malformed: u64,
}

impl FaultConfig {
    /// Every fault switched on at modest rates (the "chaos" preset).
    pub fn chaos() -> Self {
        FaultConfig {
            rate_429: 0.03,
            rate_500: 0.03,
            rate_hang: 0.01,
            rate_malformed: 0.02,
            rate_expired_token: 0.01,
            retry_after_secs: 1,
            hang_ms: 3_000,
            ..FaultConfig::default()
        }
    }
}

/// The simulator's settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    pub seed: u64,
    /// TCGplayer category ids to generate (known: 1, 2, 3, 68, 71).
    pub categories: Vec<u32>,
    pub sets_per_game: u32,
    pub cards_per_set: u32,
    pub sealed_per_set: u32,
    /// Prices move every `step_secs` seconds.
    pub step_secs: u64,
    /// Freeze the clock at this Unix time (deterministic tests); wall clock when absent.
    pub fixed_time: Option<i64>,
    /// TCGplayer token lifetime.
    pub tcgplayer_token_ttl_secs: u64,
    /// eBay token lifetime.
    pub ebay_token_ttl_secs: u64,
    /// TCGCSV updates every this many seconds, at 20:00 UTC for a day.
    pub tcgcsv_update_secs: i64,
    /// Most listings a search finds before filters.
    pub listings_per_query: u64,
    /// First day of the TCGCSV archive.
    pub archive_start: String,
    /// Days in `eurofxref-hist.xml`.
    pub fx_history_days: u32,
    pub faults: FaultConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            categories: vec![3, 1, 2, 68],
            sets_per_game: 3,
            cards_per_set: 40,
            sealed_per_set: 2,
            step_secs: 60,
            fixed_time: None,
            tcgplayer_token_ttl_secs: 1_209_599,
            ebay_token_ttl_secs: 7_200,
            tcgcsv_update_secs: 86_400,
            listings_per_query: 60,
            archive_start: "2024-02-08".into(),
            fx_history_days: 60,
            faults: FaultConfig::default(),
        }
    }
}

/// Which kind of request was served (for the counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    TcgplayerToken,
    Tcgplayer,
    Tcgcsv,
    TcgcsvArchive,
    EbayToken,
    EbayBrowse,
    EbayInsights,
    Ecb,
}

/// Request and fault counters, readable while the simulator runs.
#[derive(Debug, Default)]
pub struct SimStats {
    endpoints: [AtomicU64; 8],
    faults: [AtomicU64; 5],
    ebay_queries: Mutex<HashMap<String, u64>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    pub tcgplayer_tokens: u64,
    pub tcgplayer_requests: u64,
    pub tcgcsv_requests: u64,
    pub tcgcsv_archives: u64,
    pub ebay_tokens: u64,
    pub ebay_browse: u64,
    pub ebay_insights: u64,
    pub ecb_requests: u64,
    pub faults_429: u64,
    pub faults_500: u64,
    pub faults_hang: u64,
    pub faults_malformed: u64,
    pub faults_expired_token: u64,
    /// eBay searches by `q`.
    pub ebay_queries: HashMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    TooMany,
    Unavailable,
    ServerError,
    Hang,
    Malformed,
    ExpiredToken,
}

impl SimStats {
    fn hit(&self, e: Endpoint) {
        self.endpoints[e as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn fault(&self, f: Fault) {
        let i = match f {
            Fault::None => return,
            Fault::TooMany => 0,
            Fault::ServerError | Fault::Unavailable => 1,
            Fault::Hang => 2,
            Fault::Malformed => 3,
            Fault::ExpiredToken => 4,
        };
        self.faults[i].fetch_add(1, Ordering::Relaxed);
    }

    fn query(&self, q: &str) {
        if let Ok(mut m) = self.ebay_queries.lock() {
            *m.entry(q.to_owned()).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let e = |i: usize| self.endpoints[i].load(Ordering::Relaxed);
        let f = |i: usize| self.faults[i].load(Ordering::Relaxed);
        StatsSnapshot {
            tcgplayer_tokens: e(0),
            tcgplayer_requests: e(1),
            tcgcsv_requests: e(2),
            tcgcsv_archives: e(3),
            ebay_tokens: e(4),
            ebay_browse: e(5),
            ebay_insights: e(6),
            ecb_requests: e(7),
            faults_429: f(0),
            faults_500: f(1),
            faults_hang: f(2),
            faults_malformed: f(3),
            faults_expired_token: f(4),
            ebay_queries: self
                .ebay_queries
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) config: SimConfig,
    pub(crate) catalog: SimCatalog,
    pub(crate) stats: Arc<SimStats>,
    request_no: AtomicU64,
    pub(crate) token_generation: AtomicU64,
    pub(crate) token_no: AtomicU64,
    pub(crate) archives: Mutex<HashMap<String, bytes::Bytes>>,
}

impl SimState {
    pub(crate) fn now_secs(&self) -> i64 {
        self.config
            .fixed_time
            .unwrap_or_else(|| chrono::Utc::now().timestamp())
    }

    pub(crate) fn step_at(&self, secs: i64) -> i64 {
        secs.div_euclid(self.config.step_secs.max(1) as i64)
    }

    /// Decides the fault of the next data request (deterministic in request order).
    pub(crate) fn next_fault(&self, authed: bool) -> Fault {
        let n = self.request_no.fetch_add(1, Ordering::Relaxed);
        let f = &self.config.faults;
        let fault = if n < f.first_429 {
            Fault::TooMany
        } else if n < f.first_429 + f.first_503 {
            Fault::Unavailable
        } else if n < f.first_429 + f.first_503 + f.first_500 {
            Fault::ServerError
        } else if n < f.first_429 + f.first_503 + f.first_500 + f.first_malformed {
            Fault::Malformed
        } else {
            let r = rng::unit(rng::hash(&[self.config.seed, n, 0xFA17]));
            let mut edge = f.rate_429;
            if r < edge {
                Fault::TooMany
            } else if r < {
                edge += f.rate_500;
                edge
            } {
                Fault::ServerError
            } else if r < {
                edge += f.rate_hang;
                edge
            } {
                Fault::Hang
            } else if r < {
                edge += f.rate_malformed;
                edge
            } {
                Fault::Malformed
            } else if authed && r < edge + f.rate_expired_token {
                Fault::ExpiredToken
            } else {
                Fault::None
            }
        };
        self.stats.fault(fault);
        fault
    }
}

/// A handle to a running (or about to run) simulator: counters and controls.
#[derive(Debug, Clone)]
pub struct SimHandle {
    state: Arc<SimState>,
}

impl SimHandle {
    pub fn stats(&self) -> StatsSnapshot {
        self.state.stats.snapshot()
    }

    /// Invalidates every token issued so far (clients then get 401 and must mint again).
    pub fn revoke_tokens(&self) {
        self.state.token_generation.fetch_add(1, Ordering::Relaxed);
    }

    pub fn catalog(&self) -> &SimCatalog {
        &self.state.catalog
    }

    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }
}

/// The simulator: build it, take a handle, serve it.
#[derive(Debug)]
pub struct Simulator {
    state: Arc<SimState>,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        let catalog = SimCatalog::generate(
            config.seed,
            &config.categories,
            config.sets_per_game,
            config.cards_per_set,
            config.sealed_per_set,
        );
        Simulator {
            state: Arc::new(SimState {
                config,
                catalog,
                stats: Arc::new(SimStats::default()),
                request_no: AtomicU64::new(0),
                token_generation: AtomicU64::new(0),
                token_no: AtomicU64::new(0),
                archives: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn handle(&self) -> SimHandle {
        SimHandle {
            state: self.state.clone(),
        }
    }

    /// The axum router serving every shape.
    pub fn router(&self) -> axum::Router {
        handlers::router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), SimError> {
        let addr = listener.local_addr()?;
        tracing::info!(%addr, seed = self.state.config.seed, products = self.state.catalog.products.len(), "simulator listening");
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}

/// Runs the simulator with `config` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SimError> {
    Simulator::new(config).serve(listener, shutdown).await
}

/// A simulator serving in the background of the current runtime.
#[derive(Debug)]
pub struct RunningSim {
    /// `http://ADDR`: the base URL of every client.
    pub base_url: String,
    pub handle: SimHandle,
    pub task: tokio::task::JoinHandle<Result<(), SimError>>,
}

/// Binds `addr` (use `127.0.0.1:0` for a free port) and serves the simulator in a background
/// task until `shutdown` resolves: the embedded mode's data source when no credentials are set.
pub async fn spawn(
    addr: std::net::SocketAddr,
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningSim, SimError> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let sim = Simulator::new(config);
    let handle = sim.handle();
    let task = tokio::spawn(sim.serve(listener, shutdown));
    Ok(RunningSim {
        base_url,
        handle,
        task,
    })
}
