//! `tcgtracker up`: everything in one process on the embedded default — the market simulator
//! (when no source credentials are set), the collectors, the processor core, the SQLite store,
//! the webhook dispatcher and the query API with its web page.
//!
//! Each part is a task in one `JoinSet` under one cancellation token; the processor core runs
//! on the embedded bus (`tcg_pipeline::inproc`) on this task. Ctrl-C or SIGTERM cancels the
//! token: the collectors stop and drop their sink, the core processes what they handed over
//! and stops when the channel closes, its state is saved, and the other parts finish. A part
//! that fails stops the whole the same way, and `up` reports its error.

mod args;
mod banner;
mod core_state;
mod data_dir;
mod demo;
mod demo_key;
mod identity;
mod live_sink;
mod parts;
mod progress;

pub use args::UpArgs;

use std::{path::PathBuf, sync::Arc, time::Duration, time::Instant};

use anyhow::{Context, Result};
use tcg_collectors::CollectorMonitor;
use tcg_pipeline::{
    FanOut, OutputSink,
    inproc::{Batching, Inputs},
};
use tcg_processor_core::{Output, Processor};
use tcg_query_api::{ApiConfig, AppState, ChannelRulePublisher};
use tcg_schemas::{FxRates, RuleChange, TrackedCard};
use tcg_store::{SqliteStore, StoreSink, prelude::*};
use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Credentials};
use live_sink::LiveSink;
use progress::Progress;

/// How long the other parts get to finish once the core has stopped.
const PARTS_GRACE: Duration = Duration::from_secs(3);
/// How long the core waits for the collectors to hand over their last quotes.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// A running part's outcome, named for the message when it fails.
type PartResult = (&'static str, Result<()>);

pub async fn up(args: UpArgs) -> Result<()> {
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let (cfg, config_file) = args.resolve(&env)?;
    let creds = Credentials::from_env(&env);
    let live = cfg.is_live(&creds);
    data_dir::prepare(&cfg.data_dir)?;
    let store = SqliteStore::open(data_dir::database(&cfg.data_dir)?)
        .with_context(|| format!("opening the store in {}", cfg.data_dir.display()))?;
    // The `-wal` and `-shm` of an earlier run may predate the database's mode.
    data_dir::restrict_known(&cfg.data_dir)?;
    let stop = CancellationToken::new();
    let mut parts: JoinSet<PartResult> = JoinSet::new();
    // Cancels the token when dropped: an early return stops every part started so far.
    let _stop_on_return = stop.clone().drop_guard();

    let upstream = parts::start_upstream(&cfg, live, &store, &stop).await?;
    let demo = demo_key::demo_key(&store, &cfg.data_dir).await?;
    let state_file = cfg.data_dir.join("core-state.json");
    let mut core = core_state::restore_core(cfg.core.clone(), &state_file)?;
    for rule in store.rules(None).await? {
        if let Err(e) = core.upsert_rule(rule) {
            tracing::warn!(error = %e, "stored rule refused by the core");
        }
    }
    let setting = Setting {
        cfg: &cfg,
        config_file: config_file.as_deref(),
        creds: &creds,
        live,
        store: &store,
        upstream: &upstream,
        demo: &demo,
        plain: args.plain,
    };
    let (inputs, sinks, watch) = start_parts(&setting, &mut parts, &stop).await?;
    let started = Instant::now();
    let failure = run_core(&mut core, inputs, sinks, &watch, &mut parts, &stop).await;
    core_state::save_core(&core, &state_file)?;
    finish(parts).await;
    // Files another part created during the run (the back-fill's progress) are private too.
    data_dir::restrict_known(&cfg.data_dir)?;
    watch.progress.print(started, true);
    eprintln!("stopped; state saved in {}", cfg.data_dir.display());
    failure
}

/// What the parts are started from.
#[derive(Debug)]
struct Setting<'a> {
    cfg: &'a Config,
    config_file: Option<&'a std::path::Path>,
    creds: &'a Credentials,
    live: bool,
    store: &'a SqliteStore,
    upstream: &'a parts::Upstream,
    demo: &'a DemoKey,
    plain: bool,
}

/// What the core's batches are reported to: the progress line, and the monitor whose
/// rejection log the API serves.
#[derive(Debug)]
struct Watch {
    progress: Arc<Progress>,
    monitor: CollectorMonitor,
}

impl Watch {
    /// Counts a batch and keeps its rejections (named, for `/v1/cards/{id}/rejections`).
    fn batch(&self, out: &Output) {
        self.progress.add(&out.stats);
        if out.rejected.is_empty() {
            return;
        }
        let at = tcg_schemas::Timestamp::from(chrono::Utc::now());
        for r in &out.rejected {
            self.monitor.rejections.record(r.to_card_rejection(at));
        }
    }
}

/// Starts the API, the dispatcher, the collectors, the tracking and the progress line, and
/// prints the banner; returns the core's inputs, its sinks and what its batches report to.
async fn start_parts(
    s: &Setting<'_>,
    parts: &mut JoinSet<PartResult>,
    stop: &CancellationToken,
) -> Result<(Inputs, Arc<dyn OutputSink>, Watch)> {
    let (cfg, live) = (s.cfg, s.live);
    let (rule_tx, rule_rx) = mpsc::channel::<RuleChange>(1024);
    let (tracked_tx, tracked_rx) = watch::channel(Vec::<TrackedCard>::new());
    let (fx_tx, fx_rx) = watch::channel(FxRates::default());
    let monitor = CollectorMonitor::new();
    let state =
        api_state(cfg, s.store, rule_tx.clone())?.with_source_reports(Arc::new(monitor.clone()));
    let live_sink = LiveSink {
        ticks: state.tick_sender(),
        alerts: state.alert_sender(),
        cache: state.response_cache().clone(),
        webhooks: parts::spawn_dispatcher(parts, s.store, cfg, stop)?,
    };
    let api_addr = parts::spawn_api(parts, cfg.listen, state, stop).await?;
    let (quote_sink, quote_rx) = tcg_pipeline::inproc::channel(20_000);
    let collect = cfg.collect_config(s.creds, s.upstream.sim_url.as_deref());
    banner::print(&banner::Banner {
        cfg,
        config_file: s.config_file,
        api_addr,
        demo: s.demo,
        upstream: s.upstream,
        live_tcgplayer: live && collect.tcgplayer.is_some(),
        live_ebay: live && collect.ebay.is_some(),
    });
    let collectors = parts::CollectorsPart {
        collect,
        history_days: cfg.history_days(live),
        backfill_url: s.upstream.tcgcsv_url.clone(),
        backfill_categories: if live {
            cfg.categories(live)
        } else {
            Vec::new()
        },
        backfill_state: cfg.data_dir.join("backfill.json"),
    };
    let feeds = identity::feeds(parts, s.store.clone(), tracked_rx, stop);
    parts::spawn_collectors(
        parts,
        collectors,
        Arc::new(quote_sink),
        feeds,
        fx_tx,
        monitor.clone(),
        stop,
    );
    parts::spawn_source_report(parts, monitor.health.clone(), stop);
    let progress = Arc::new(Progress::default());
    let demo = s.demo.first_start.then(|| parts::DemoSetUp {
        catalog: s.upstream.catalog.clone(),
        rules: rule_tx,
        progress: progress.clone(),
        health: monitor.health.clone(),
    });
    parts::spawn_tracking(parts, s.store.clone(), tracked_tx, demo, stop);
    parts.spawn({
        let (progress, stop, plain) = (progress.clone(), stop.clone(), s.plain);
        async move {
            let r = progress::report_until(progress, Instant::now(), plain, stop).await;
            ("progress", r)
        }
    });
    let sinks: Arc<dyn OutputSink> = Arc::new(FanOut(vec![
        Arc::new(StoreSink(Arc::new(s.store.clone()))),
        Arc::new(live_sink),
    ]));
    let inputs = Inputs {
        quotes: quote_rx,
        rules: Some(rule_rx),
        fx: Some(fx_rx),
    };
    Ok((inputs, sinks, Watch { progress, monitor }))
}

/// The query API's state over the store, publishing rule changes to the core.
fn api_state(
    cfg: &Config,
    store: &SqliteStore,
    rules: mpsc::Sender<RuleChange>,
) -> Result<AppState> {
    let api_config = ApiConfig {
        core: cfg.core.clone(),
        webhook_guard: tcg_webhooks::AddressGuard::new(
            cfg.webhooks.allow_private,
            &cfg.webhooks.allow_cidrs,
        )?,
        ..ApiConfig::default()
    };
    Ok(
        AppState::new(Arc::new(store.clone()), Arc::new(store.clone()), api_config)
            .with_rule_publisher(Arc::new(ChannelRulePublisher(rules))),
    )
}

/// Runs the core until it has processed the collectors' last quote. Ctrl-C, SIGTERM or a part
/// that fails cancels `stop` first; the failure, if any, is returned.
async fn run_core(
    core: &mut Processor,
    inputs: Inputs,
    sinks: Arc<dyn OutputSink>,
    watch: &Watch,
    parts: &mut JoinSet<PartResult>,
    stop: &CancellationToken,
) -> Result<()> {
    let drained = {
        let stop = stop.clone();
        async move {
            stop.cancelled().await;
            tokio::time::sleep(DRAIN_GRACE).await;
        }
    };
    let batching = Batching {
        max: 5_000,
        linger: Duration::from_millis(50),
    };
    let run = tcg_pipeline::inproc::run(
        inputs,
        core,
        sinks,
        batching,
        |out: &Output| watch.batch(out),
        drained,
    );
    tokio::pin!(run);
    let signal = crate::shutdown_signal();
    tokio::pin!(signal);
    let mut failure: Option<anyhow::Error> = None;
    loop {
        tokio::select! {
            done = &mut run => {
                if let Err(e) = done {
                    failure.get_or_insert(anyhow::Error::new(e).context("the processor"));
                }
                break;
            }
            () = &mut signal, if !stop.is_cancelled() => {
                eprintln!("\nstopping: draining the pipeline");
                stop.cancel();
            }
            Some(joined) = parts.join_next(), if !stop.is_cancelled() => {
                if let Some(e) = part_failure(joined) {
                    eprintln!("\nerror: {e:#}; stopping");
                    failure.get_or_insert(e);
                    stop.cancel();
                }
            }
        }
    }
    stop.cancel();
    failure.map_or(Ok(()), Err)
}

/// The error of a part that failed or panicked; `None` for one that finished.
fn part_failure(joined: Result<PartResult, tokio::task::JoinError>) -> Option<anyhow::Error> {
    match joined {
        Ok((_, Ok(()))) => None,
        Ok((name, Err(e))) => Some(e.context(name)),
        Err(e) => Some(anyhow::Error::new(e).context("a part of up")),
    }
}

/// Waits for the parts to finish (they were cancelled); aborts those that do not in time.
async fn finish(mut parts: JoinSet<PartResult>) {
    let all = async {
        while let Some(joined) = parts.join_next().await {
            if let Some(e) = part_failure(joined) {
                tracing::warn!(error = format!("{e:#}"), "while stopping");
            }
        }
    };
    if tokio::time::timeout(PARTS_GRACE, all).await.is_err() {
        tracing::warn!("parts still running after {PARTS_GRACE:?}: aborted");
    }
}

/// The demo user's key (a user key), read from `demo-key.txt` or created on the first start.
#[derive(Debug)]
pub struct DemoKey {
    pub key: String,
    pub file: PathBuf,
    /// No `demo-key.txt` existed: the demo portfolio and rules are created.
    pub first_start: bool,
    /// The key was created by this start (the banner shows it this once).
    pub created: bool,
}
