//! `tcgtracker up`: everything in one process on the embedded default — the market simulator
//! (when no source credentials are set), the collectors, the processor core, the SQLite store,
//! the webhook dispatcher and the query API with its web page.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tcg_store::prelude::*;

use anyhow::{Context, Result};
use async_trait::async_trait;
use tcg_collectors::QuoteSink;
use tcg_pipeline::{FanOut, OutputSink, StoreSink};
use tcg_processor_core::{CoreConfig, Processor, Snapshot};
use tcg_query_api::{ApiConfig, AppState, ChannelRulePublisher};
use tcg_schemas::{
    AlertEvent, AlertRule, Condition, FxRates, Holding, HoldingChange, HoldingId, Money, Portfolio,
    PortfolioEvent, PortfolioEventId, PortfolioId, PriceKind, RawQuote, RuleChange, RuleCondition,
    RuleId, SeriesFilter, SeriesKey, Source, Tick, Timestamp, TrackedCard, UserId,
};
use tcg_store::{AccountStore, PriceFilter, SqliteStore};
use tokio::sync::{broadcast, mpsc, watch};

use crate::config::{self, Config, Credentials, Upstream};

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// The configuration file (default: ./tcgtracker.toml when it exists; every key is documented
    /// in tcgtracker.example.toml). Flags and their variables override it.
    #[arg(long, env = "TCG_CONFIG")]
    config: Option<PathBuf>,
    /// Where the SQLite store, the core's state and the demo key live [default: data].
    #[arg(long, env = "TCG_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address of the query API and the web page [default: 127.0.0.1:8080].
    #[arg(long, env = "TCG_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where prices come from: the live services when credentials are set (auto), the built-in
    /// simulator, or live [default: auto].
    #[arg(long, env = "TCG_UPSTREAM", value_enum)]
    upstream: Option<Upstream>,
    /// Seed of the built-in market simulator [default: 7].
    #[arg(long, env = "TCG_SIM_SEED")]
    seed: Option<u64>,
    /// Seconds between collector passes [default: 5 on the simulator, each source's own live].
    #[arg(long, env = "TCG_POLL_SECS", value_parser = clap::value_parser!(u64).range(1..))]
    poll_secs: Option<u64>,
    /// Days of price history loaded from the daily archives on first start [default: 30 on the
    /// simulator, 0 live].
    #[arg(long, env = "TCG_HISTORY_DAYS")]
    history_days: Option<u64>,
    /// Deliver webhooks to loopback and private addresses too (local receivers, tests).
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_PRIVATE")]
    allow_private_webhooks: bool,
    /// Print a log line every few seconds instead of one updating progress line.
    #[arg(long)]
    plain: bool,
}

impl UpArgs {
    /// The file, then `TCG__…` overrides, then these flags and their variables.
    fn resolve(&self, env: &[(String, String)]) -> Result<(Config, Option<PathBuf>)> {
        let found = config::locate(self.config.as_deref())?;
        let mut cfg = config::load(
            found
                .as_ref()
                .map(|(path, text)| (path.as_path(), text.as_str())),
            env,
        )?;
        if let Some(v) = &self.data_dir {
            cfg.data_dir = v.clone();
        }
        if let Some(v) = self.listen {
            cfg.listen = v;
        }
        if let Some(v) = self.upstream {
            cfg.upstream = v;
        }
        if let Some(v) = self.seed {
            cfg.simulator.seed = v;
        }
        if self.poll_secs.is_some() {
            cfg.poll_secs = self.poll_secs;
        }
        if self.history_days.is_some() {
            cfg.history_days = self.history_days;
        }
        if self.allow_private_webhooks {
            cfg.webhooks.allow_private = true;
        }
        Ok((cfg, found.map(|(path, _)| path)))
    }
}

/// Counters for the progress line.
#[derive(Debug, Default)]
struct Progress {
    quotes: AtomicU64,
    ticks: AtomicU64,
    alerts: AtomicU64,
    rejected: AtomicU64,
}

/// Ticks and alerts to the SSE streams, and a nudge to the webhook dispatcher.
#[derive(Debug)]
struct LiveSink {
    ticks: broadcast::Sender<Tick>,
    alerts: broadcast::Sender<AlertEvent>,
    webhooks: tcg_webhooks::Notifier,
}

#[async_trait]
impl OutputSink for LiveSink {
    async fn deliver(&self, ticks: &[Tick], alerts: &[AlertEvent]) -> tcg_pipeline::Result<()> {
        // The live feed is live: history loaded by the back-fill is stored, not streamed.
        let cutoff = now().minus_secs(600);
        for t in ticks.iter().filter(|t| t.observed_at >= cutoff) {
            let _ = self.ticks.send(t.clone());
        }
        for a in alerts {
            let _ = self.alerts.send(a.clone());
        }
        if !alerts.is_empty() {
            self.webhooks.notify();
        }
        Ok(())
    }
}

fn now() -> Timestamp {
    tcg_pipeline::kafka::producer::now()
}

pub async fn up(args: UpArgs) -> Result<()> {
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let (cfg, config_file) = match args.resolve(&env) {
        Ok(resolved) => resolved,
        Err(e) => {
            // A configuration mistake is the user's to fix: say what, exit 2, start nothing.
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    let creds = Credentials::from_env(&env);
    let live = cfg.is_live(&creds);
    let data_dir = cfg.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let store = SqliteStore::open(data_dir.join("tcgtracker.db"))
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    // 1. The market simulator, unless the collectors read the live services.
    let sim = if live {
        None
    } else {
        Some(tcg_simulator::spawn("127.0.0.1:0".parse()?, cfg.simulator.clone(), stopped()).await?)
    };
    let sim_url = sim.as_ref().map(|s| s.base_url.clone());
    let tcgcsv_url = sim_url
        .clone()
        .unwrap_or_else(|| cfg.tcgcsv.base_url.clone());
    let categories = cfg.categories(live);

    // 2. The catalog, so that cards can be searched and tracked.
    let catalog = crate::catalog::sync_catalog(
        tcg_collectors::tcgcsv::TcgcsvConfig {
            base_url: tcgcsv_url.clone(),
            ..cfg.tcgcsv.clone()
        },
        &categories,
        &store,
        live,
    )
    .await?;

    // 3. The API key, portfolio and rule of the demo user, on first start.
    let key_file = data_dir.join("demo-key.txt");
    let first_start = !key_file.exists();
    let demo_key = if first_start {
        let created = tcg_query_api::create_key(&store, "demo", true).await?;
        std::fs::write(&key_file, format!("{}\n", created.key))?;
        created.key
    } else {
        std::fs::read_to_string(&key_file)?.trim().to_owned()
    };

    // 4. The processor core, its rules and its state from the last run.
    let state_file = data_dir.join("core-state.json");
    let mut core = restore_core(cfg.core.clone(), &state_file)?;
    for rule in store.rules(None).await? {
        if let Err(e) = core.upsert_rule(rule) {
            tracing::warn!(error = %e, "stored rule refused by the core");
        }
    }

    // 5. The query API and the web page.
    let (rule_tx, mut rule_rx) = mpsc::channel::<RuleChange>(1024);
    let api_config = ApiConfig {
        core: cfg.core.clone(),
        webhook_guard: tcg_webhooks::AddressGuard::new(
            cfg.webhooks.allow_private,
            &cfg.webhooks.allow_cidrs,
        )?,
        ..ApiConfig::default()
    };
    let state = AppState::new(Arc::new(store.clone()), Arc::new(store.clone()), api_config)
        .with_rule_publisher(Arc::new(ChannelRulePublisher(rule_tx.clone())));
    let ticks_tx = state.tick_sender();
    let alerts_tx = state.alert_sender();
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| {
            format!(
                "binding {} (is tcgtracker already running? try --listen)",
                cfg.listen
            )
        })?;
    let api_addr = listener.local_addr()?;
    let api = tokio::spawn({
        let stop = stopped();
        async move {
            axum::serve(listener, tcg_query_api::app(state))
                .with_graceful_shutdown(stop)
                .await
        }
    });

    // 6. The webhook dispatcher.
    let dispatcher = tcg_webhooks::Dispatcher::new(store.clone(), cfg.webhooks.clone())?;
    let notifier = dispatcher.notifier();
    let webhooks = tokio::spawn(dispatcher.run(stopped()));

    // 7. The collectors, into a bounded channel (a full channel slows them down; nothing drops).
    let (quote_sink, quote_rx) = tcg_pipeline::inproc::channel(20_000);
    let (tracked_tx, tracked_rx) = watch::channel(Vec::<TrackedCard>::new());
    let (fx_tx, mut fx_rx) = watch::channel(FxRates::default());
    let collect = cfg.collect_config(&creds, sim_url.as_deref());
    let collect_live_tcgplayer = live && collect.tcgplayer.is_some();
    let collect_live_ebay = live && collect.ebay.is_some();
    let progress = Arc::new(Progress::default());
    let history_days = cfg.history_days(live);
    let backfill_state = data_dir.join("backfill.json");
    let backfill_url = tcgcsv_url.clone();
    let backfill_categories = if live { categories.clone() } else { Vec::new() };
    let collectors = tokio::spawn({
        let sink: Arc<dyn QuoteSink> = Arc::new(quote_sink);
        let stop = stopped();
        async move {
            // History first (from the simulator's daily archives), so that charts and movers
            // have data at once; a restart skips the days already done.
            if history_days > 0 {
                let today = chrono::Utc::now().date_naive();
                let backfill = tcg_collectors::BackfillConfig {
                    from: today - chrono::Days::new(history_days),
                    to: today - chrono::Days::new(1),
                    base_url: backfill_url,
                    categories: backfill_categories,
                    state: backfill_state,
                    quiet: true,
                };
                if let Err(e) = tcg_collectors::run_backfill(backfill, sink.clone()).await {
                    tracing::warn!(error = %e, "history back-fill failed");
                }
            }
            tcg_collectors::run_collectors(collect, tracked_rx, sink, Some(fx_tx), None, stop).await
        }
    });

    let sinks: Arc<dyn OutputSink> = Arc::new(FanOut(vec![
        Arc::new(StoreSink(Arc::new(store.clone()))),
        Arc::new(LiveSink {
            ticks: ticks_tx,
            alerts: alerts_tx,
            webhooks: notifier,
        }),
    ]));

    let link = format!("http://{api_addr}/#key={demo_key}");
    eprintln!("tcgtracker is up");
    eprintln!("  web page   {link}");
    eprintln!("  API        http://{api_addr}/v1  (Authorization: Bearer <key>; docs at /docs)");
    eprintln!("  demo key   {} (also in {})", demo_key, key_file.display());
    eprintln!("  data       {}", data_dir.display());
    eprintln!(
        "  config     {}",
        config_file.map_or_else(
            || "defaults (see tcgtracker.example.toml)".to_owned(),
            |p| p.display().to_string()
        )
    );
    match &sim {
        Some(sim) => eprintln!(
            "  upstream   built-in simulator at {} (seed {}); {} products in the catalog",
            sim.base_url,
            cfg.simulator.seed,
            catalog.len()
        ),
        None => {
            eprintln!(
                "  upstream   live: TCGCSV {} and ECB {}; {} products in the catalog",
                cfg.tcgcsv.base_url,
                cfg.ecb.base_url,
                catalog.len()
            );
            let state = |on: bool, url: &str| {
                if on {
                    format!("live at {url}")
                } else {
                    "off (no credentials)".to_owned()
                }
            };
            eprintln!(
                "             TCGplayer API {}; eBay {}",
                state(collect_live_tcgplayer, &cfg.tcgplayer.base_url),
                state(collect_live_ebay, &cfg.ebay.base_url)
            );
        }
    }
    eprintln!("  Ctrl-C stops (and keeps everything for the next start)");

    // 8. The processor loop, the demo set-up once prices are there, and the progress line.
    let mut demo_pending = first_start;
    let mut quote_rx = quote_rx;
    let mut batch: Vec<RawQuote> = Vec::with_capacity(5_000);
    let mut last_report = Instant::now();
    let started = Instant::now();
    let tracked_refresh = tokio::time::interval(Duration::from_secs(30));
    tokio::pin!(tracked_refresh);
    let shutdown = crate::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        batch.clear();
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(change) = rule_rx.recv() => {
                if let Err(e) = core.apply_rule_change(change) {
                    tracing::warn!(error = %e, "rule change refused by the core");
                }
                continue;
            }
            Ok(()) = fx_rx.changed() => {
                core.set_fx_rates(fx_rx.borrow_and_update().clone());
                continue;
            }
            _ = tracked_refresh.tick() => {
                refresh_tracked(&store, &tracked_tx).await;
                continue;
            }
            n = quote_rx.recv_many(&mut batch, 5_000) => {
                if n == 0 {
                    break;
                }
            }
        }
        process_batch(&mut core, &batch, sinks.as_ref(), &progress).await?;
        if demo_pending && progress.ticks.load(Ordering::Relaxed) > 0 {
            match create_demo(&store, &catalog, &rule_tx).await {
                Ok(true) => {
                    demo_pending = false;
                    refresh_tracked(&store, &tracked_tx).await;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "demo set-up failed; will retry"),
            }
        }
        if last_report.elapsed() >= Duration::from_secs(if args.plain { 10 } else { 1 }) {
            report(&progress, started, args.plain);
            last_report = Instant::now();
        }
    }

    // Drain: stop the collectors, process what they handed over, save the core's state.
    eprintln!("\nstopping: draining the pipeline");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(2), collectors).await;
    while let Ok(q) = quote_rx.try_recv() {
        batch.push(q);
        if batch.len() >= 5_000 {
            process_batch(&mut core, &batch, sinks.as_ref(), &progress).await?;
            batch.clear();
        }
    }
    process_batch(&mut core, &batch, sinks.as_ref(), &progress).await?;
    save_core(&core, &state_file)?;
    let _ = tokio::time::timeout(Duration::from_secs(2), webhooks).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), api).await;
    report(&progress, started, true);
    eprintln!("stopped; state saved in {}", data_dir.display());
    Ok(())
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

async fn process_batch(
    core: &mut Processor,
    batch: &[RawQuote],
    sinks: &dyn OutputSink,
    progress: &Progress,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let out = core.process(now(), batch);
    sinks.deliver(&out.ticks, &out.alerts).await?;
    progress
        .quotes
        .fetch_add(out.stats.quotes, Ordering::Relaxed);
    progress
        .ticks
        .fetch_add(out.stats.ticks + out.stats.heartbeats, Ordering::Relaxed);
    progress
        .alerts
        .fetch_add(out.stats.alerts, Ordering::Relaxed);
    progress
        .rejected
        .fetch_add(out.stats.rejected, Ordering::Relaxed);
    Ok(())
}

fn report(p: &Progress, started: Instant, plain: bool) {
    let secs = started.elapsed().as_secs();
    let line = format!(
        "[{:02}:{:02}:{:02}] quotes {} · ticks {} · alerts {} · rejected {}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        p.quotes.load(Ordering::Relaxed),
        p.ticks.load(Ordering::Relaxed),
        p.alerts.load(Ordering::Relaxed),
        p.rejected.load(Ordering::Relaxed)
    );
    if plain {
        eprintln!("{line}");
    } else {
        eprint!("\r{line}   ");
    }
}

fn restore_core(config: CoreConfig, path: &Path) -> Result<Processor> {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice::<Snapshot>(&bytes) {
            Ok(s) if s.version == Snapshot::VERSION => Processor::restore(config, s)
                .map_err(|e| anyhow::anyhow!("restoring the core's state: {e}")),
            _ => {
                eprintln!(
                    "core state in {} is from another version: starting afresh",
                    path.display()
                );
                Ok(Processor::new(config))
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Processor::new(config)),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save_core(core: &Processor, path: &Path) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&core.snapshot())?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The demo portfolio (five priced cards) and two demo rules, once market prices exist.
async fn create_demo(
    store: &SqliteStore,
    catalog: &[tcg_schemas::Product],
    rules: &mpsc::Sender<RuleChange>,
) -> Result<bool> {
    let owner = UserId("demo".into());
    let at = now();
    let mut picks: Vec<(SeriesKey, i64)> = Vec::new();
    for product in catalog.iter().filter(|p| !p.is_sealed()) {
        let series = store.product_series(product.product_id).await?;
        let latest = store
            .latest_prices(
                &series,
                &PriceFilter {
                    sources: vec![Source::Tcgcsv],
                    kinds: vec![PriceKind::Market],
                },
            )
            .await?;
        if let Some(l) = latest.first()
            && let Ok(key) = l.series_id.parse::<SeriesKey>()
            && !key.is_graded()
        {
            picks.push((key, l.price_usd.minor));
        }
        if picks.len() == 5 {
            break;
        }
    }
    if picks.len() < 5 {
        return Ok(false);
    }
    let portfolio = Portfolio {
        id: PortfolioId(uuid::Uuid::new_v4()),
        owner: owner.clone(),
        name: "Demo binder".into(),
        created_at: at,
    };
    store.upsert_portfolio(&portfolio).await?;
    let mut events = Vec::new();
    for (i, (series, cents)) in picks.iter().enumerate() {
        let SeriesKey::Sku {
            product_id,
            printing,
            condition,
            language,
        } = series
        else {
            continue;
        };
        let cost = Money::usd_cents((cents * (70 + 10 * i as i64) / 100).max(1));
        let quantity = 1 + i as u32 % 3;
        let holding = Holding {
            id: HoldingId(uuid::Uuid::new_v4()),
            portfolio_id: portfolio.id,
            product_id: *product_id,
            printing: printing.clone(),
            condition: if condition.is_other() {
                Condition::NearMint
            } else {
                condition.clone()
            },
            language: language.clone(),
            grading: None,
            quantity,
            cost_per_unit: cost,
            acquired_on: "2024-05-01".into(),
            note: Some("demo".into()),
        };
        store.upsert_holding(&holding).await?;
        events.push(PortfolioEvent {
            id: PortfolioEventId(uuid::Uuid::new_v4()),
            portfolio_id: portfolio.id,
            holding_id: holding.id,
            at: Timestamp::from_secs(1_714_521_600),
            change: HoldingChange::Acquired {
                quantity,
                cost_per_unit: cost,
            },
        });
    }
    store.append_portfolio_events(&events).await?;
    let (first, cents) = &picks[0];
    let SeriesKey::Sku {
        printing,
        condition: first_condition,
        language,
        ..
    } = first
    else {
        return Ok(false);
    };
    for (n, condition) in [
        RuleCondition::PriceAbove {
            threshold_usd: Money::usd_cents(cents + cents / 100 + 1),
        },
        RuleCondition::PercentChange {
            percent: "1".parse()?,
            window_secs: 3600,
            direction: tcg_schemas::Direction::Either,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let rule = AlertRule {
            id: RuleId(uuid::Uuid::new_v4()),
            owner: owner.clone(),
            name: if n == 0 {
                "Demo: first card up 1%".into()
            } else {
                "Demo: first card moves 1% in an hour".into()
            },
            product_id: first.product_id(),
            // The very series whose price set the threshold (not the card's other printings),
            // as TCGCSV market prices: one alert per real move, not one per eBay listing.
            filter: SeriesFilter {
                printing: Some(printing.clone()),
                condition: Some(first_condition.clone()),
                language: Some(language.clone()),
                graded: Some(false),
                source: Some(Source::Tcgcsv),
                kind: Some(PriceKind::Market),
                ..SeriesFilter::default()
            },
            condition,
            cooldown_secs: 3600,
            paused: false,
            created_at: at,
            updated_at: at,
        };
        store.upsert_rule(&rule).await?;
        rules.send(RuleChange::Upsert { rule }).await?;
    }
    let _ = store.ensure_user(&owner, at).await;
    Ok(true)
}
