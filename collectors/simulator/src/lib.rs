//! The market simulator: one HTTP server that serves the TCGplayer API, TCGCSV (with a small
//! price archive), eBay Browse and Marketplace Insights and the ECB rate shapes at their real
//! paths, from a generated catalog whose prices random-walk. Deterministic under a seed; faults
//! (429 with Retry-After, 500s, hangs, malformed JSON, expired tokens) can be switched on.
//!
//! It depends on no collector: the collectors' tests and the binary run their clients against it.

pub mod archive;
pub mod cardkingdom;
pub mod cardmarket;
pub mod catalog;
mod config;
mod error;
pub mod fx;
pub mod justtcg;
pub mod listings;
pub mod market;
pub mod pricecharting;
mod rng;
mod routes;
pub mod scryfall;
mod state;
mod stats;

use std::{
    future::Future,
    sync::{Arc, atomic::Ordering},
};

pub use config::{FaultConfig, SimConfig};
pub use error::SimError;
pub use stats::{Endpoint, SimStats, StatsSnapshot};

use catalog::SimCatalog;
use state::SimState;

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
        Simulator {
            state: Arc::new(SimState::new(config)),
        }
    }

    pub fn handle(&self) -> SimHandle {
        SimHandle {
            state: self.state.clone(),
        }
    }

    /// The axum router serving every shape.
    pub fn router(&self) -> axum::Router {
        routes::router(self.state.clone())
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
