//! The parts `up` starts: the upstream (simulator or live) with the catalog, the query API, the
//! webhook dispatcher, the collectors, and the tracking of what users hold and watch (with the
//! demo set-up once prices exist). Each long-running part is a task in the caller's `JoinSet`
//! that ends when the cancellation token is cancelled.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, Result};
use tcg_ports::QuoteSink;
use tcg_query_api::AppState;
use tcg_schemas::{FxRates, Product, RuleChange, TrackedCard};
use tcg_store::SqliteStore;
use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::{PartResult, demo::DemoTry, progress::Progress};
use crate::config::Config;

/// How often the cards eBay searches for are read again.
const TRACKED_REFRESH: Duration = Duration::from_secs(30);
/// How often the demo set-up looks for prices on the first start.
const DEMO_RETRY: Duration = Duration::from_secs(1);

/// Where prices come from, and the catalog read from there.
#[derive(Debug)]
pub struct Upstream {
    /// The built-in simulator, when the collectors do not read the live services.
    pub sim: Option<tcg_simulator::RunningSim>,
    pub sim_url: Option<String>,
    /// TCGCSV's base URL: the simulator's, or the configured one.
    pub tcgcsv_url: String,
    pub catalog: Vec<Product>,
}

/// Starts the simulator (unless live) and loads the catalog into the store, so that cards can
/// be searched and tracked.
pub async fn start_upstream(
    cfg: &Config,
    live: bool,
    store: &SqliteStore,
    stop: &CancellationToken,
) -> Result<Upstream> {
    let sim = if live {
        None
    } else {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let shutdown = stop.clone().cancelled_owned();
        Some(
            tcg_simulator::spawn(addr, cfg.simulator.clone(), shutdown)
                .await
                .context("starting the market simulator")?,
        )
    };
    let sim_url = sim.as_ref().map(|s| s.base_url.clone());
    let tcgcsv_url = sim_url
        .clone()
        .unwrap_or_else(|| cfg.tcgcsv.base_url.clone());
    let catalog = crate::catalog::sync_catalog(
        tcg_collectors::tcgcsv::TcgcsvConfig {
            base_url: tcgcsv_url.clone(),
            ..cfg.tcgcsv.clone()
        },
        &cfg.categories(live),
        store,
        live,
    )
    .await?;
    Ok(Upstream {
        sim,
        sim_url,
        tcgcsv_url,
        catalog,
    })
}

/// Binds the API's address (before the banner names it) and serves until cancelled.
pub async fn spawn_api(
    parts: &mut JoinSet<PartResult>,
    listen: SocketAddr,
    state: AppState,
    stop: &CancellationToken,
) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("binding {listen} (is tcgtracker already running? try --listen)")
        })?;
    let addr = listener.local_addr()?;
    let shutdown = stop.clone().cancelled_owned();
    let limits = state.serve_limits();
    parts.spawn(async move {
        let served = tcg_query_api::serve(listener, tcg_query_api::app(state), limits, shutdown)
            .await
            .context("serving the query API");
        ("the query API", served)
    });
    Ok(addr)
}

/// The webhook dispatcher; returns its notifier (the core nudges it when alerts fire).
pub fn spawn_dispatcher(
    parts: &mut JoinSet<PartResult>,
    store: &SqliteStore,
    cfg: &Config,
    stop: &CancellationToken,
) -> Result<tcg_webhooks::Notifier> {
    let dispatcher = tcg_webhooks::Dispatcher::new(store.clone(), cfg.webhooks.clone())?;
    let notifier = dispatcher.notifier();
    let shutdown = stop.clone().cancelled_owned();
    parts.spawn(async move {
        let ran = dispatcher.run(shutdown).await.map(drop);
        ("the webhook dispatcher", ran.context("delivering webhooks"))
    });
    Ok(notifier)
}

/// What the collectors read, and the history they load first.
#[derive(Debug)]
pub struct CollectorsPart {
    pub collect: tcg_collectors::CollectConfig,
    /// Days of history from TCGCSV's daily archives, loaded before polling (0: none).
    pub history_days: u64,
    pub backfill_url: String,
    /// Categories back-filled (empty: every category the archives hold).
    pub backfill_categories: Vec<u32>,
    /// The back-fill's progress file (a restart skips the days already done).
    pub backfill_state: std::path::PathBuf,
}

/// History first (so that charts and movers have data at once), then the collectors, into the
/// bounded channel (a full channel slows them down; nothing drops). The sink is dropped when
/// they stop, which closes the channel: the core then knows it has every quote.
pub fn spawn_collectors(
    parts: &mut JoinSet<PartResult>,
    part: CollectorsPart,
    sink: Arc<dyn QuoteSink>,
    feeds: tcg_collectors::Feeds,
    fx: watch::Sender<FxRates>,
    monitor: tcg_collectors::CollectorMonitor,
    stop: &CancellationToken,
) {
    // Listed as starting at once, so that the page and `/readyz` name them during the back-fill.
    for name in part.collect.source_names() {
        monitor.health.register(name);
    }
    let stop = stop.clone();
    parts.spawn(async move {
        if part.history_days > 0 {
            let today = chrono::Utc::now().date_naive();
            let backfill = tcg_collectors::BackfillConfig {
                from: today - chrono::Days::new(part.history_days),
                to: today - chrono::Days::new(1),
                base_url: part.backfill_url,
                categories: part.backfill_categories,
                state: part.backfill_state,
                quiet: true,
            };
            tokio::select! {
                () = stop.cancelled() => return ("the collectors", Ok(())),
                done = tcg_collectors::run_backfill(backfill, sink.clone()) => {
                    if let Err(e) = done {
                        // Said plainly: the user sees why the charts start today.
                        eprintln!("history back-fill stopped: {e}");
                    }
                }
            }
        }
        let shutdown = stop.cancelled_owned();
        let ran = tcg_collectors::run_collectors_monitored(
            part.collect,
            feeds,
            sink,
            Some(fx),
            None,
            shutdown,
            monitor,
        )
        .await;
        ("the collectors", ran.map(drop).context("collecting prices"))
    });
}

/// Prints what every source did once each has finished its first pass (after the history
/// back-fill, when there is one).
pub fn spawn_source_report(
    parts: &mut JoinSet<PartResult>,
    health: Arc<tcg_collectors::SourceHealthRegistry>,
    stop: &CancellationToken,
) {
    let stop = stop.clone();
    parts.spawn(async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = health.wait_settled() => super::banner::print_sources(&health.snapshot()),
        }
        ("the source report", Ok(()))
    });
}

/// What the demo set-up of a first start reads: the catalog, where rules go, the progress (ticks
/// stored) and the sources' health (whether every first pass is done).
#[derive(Debug)]
pub struct DemoSetUp {
    pub catalog: Vec<Product>,
    pub rules: mpsc::Sender<RuleChange>,
    pub progress: Arc<Progress>,
    pub health: Arc<tcg_collectors::SourceHealthRegistry>,
}

/// Keeps the tracked cards (every user's holdings and active rules) fresh for the eBay
/// searches; on the first start, also creates the demo portfolio and rules once prices exist
/// (and refreshes the tracked cards at once, so that eBay is searched for them).
pub fn spawn_tracking(
    parts: &mut JoinSet<PartResult>,
    store: SqliteStore,
    tracked: watch::Sender<Vec<TrackedCard>>,
    demo: Option<DemoSetUp>,
    stop: &CancellationToken,
) {
    let tracked = Arc::new(tracked);
    if let Some(DemoSetUp {
        catalog,
        rules,
        progress,
        health,
    }) = demo
    {
        let (store, tracked, stop) = (store.clone(), tracked.clone(), stop.clone());
        parts.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = set_up_demo(&store, &catalog, &rules, &progress, &health) => {
                    refresh_tracked(&store, &tracked).await;
                }
            }
            ("the demo set-up", Ok(()))
        });
    }
    let stop = stop.clone();
    parts.spawn(async move {
        let mut every = tokio::time::interval(TRACKED_REFRESH);
        loop {
            tokio::select! {
                () = stop.cancelled() => return ("tracking", Ok(())),
                _ = every.tick() => refresh_tracked(&store, &tracked).await,
            }
        }
    });
}

/// Tries the demo set-up until it succeeds (it needs market prices in the store: five cards,
/// or once every source has passed, as many as there are). Says once when every source has
/// passed and no card is priced yet.
async fn set_up_demo(
    store: &SqliteStore,
    catalog: &[Product],
    rules: &mpsc::Sender<RuleChange>,
    progress: &Progress,
    health: &tcg_collectors::SourceHealthRegistry,
) {
    let mut said = false;
    loop {
        if progress.ticks() > 0 || health.settled() {
            let settled = health.settled();
            match super::demo::create_demo(store, catalog, rules, settled).await {
                Ok(DemoTry::Created(n)) => {
                    if n < super::demo::PICKS {
                        eprintln!("demo portfolio: {n} priced cards (the catalog has no more yet)");
                    }
                    return;
                }
                Ok(DemoTry::Waiting(0)) if settled && !said => {
                    said = true;
                    eprintln!(
                        "demo set-up waiting for priced cards: none of the {} catalog products has a \
                         TCGCSV market price yet",
                        catalog.len()
                    );
                }
                Ok(DemoTry::Waiting(_)) => {}
                Err(e) => tracing::warn!(error = %e, "demo set-up failed; will retry"),
            }
        }
        tokio::time::sleep(DEMO_RETRY).await;
    }
}

/// The cards eBay searches for: every user's holdings and active rules.
async fn refresh_tracked(store: &SqliteStore, tx: &watch::Sender<Vec<TrackedCard>>) {
    match crate::tracked::tracked_cards(store, store, &[]).await {
        Ok(cards) => {
            let _ = tx.send(cards);
        }
        Err(e) => tracing::warn!(error = %e, "reading the tracked cards"),
    }
}
