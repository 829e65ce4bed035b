//! `tcgtracker topics create` and `tcgtracker process`: the distributed pipeline's commands.

use std::{path::PathBuf, sync::Arc};

use anyhow::{Context, Result};
use tcg_pipeline::{
    FanOut, KafkaOutputs, OutputSink, PartitionedCore, StoreSink,
    kafka::{admin::TopicOutcome, consumer::KafkaProcessor, producer::EnvelopeProducer},
};
use tcg_processor_core::CoreConfig;

#[derive(Debug, clap::Args)]
pub struct TopicsCreateArgs {
    #[command(flatten)]
    kafka: crate::kafka_flags::KafkaFlags,
    #[command(flatten)]
    topics: crate::kafka_flags::TopicFlags,
}

/// Creates the topics (safe to run again: existing topics are left as they are).
pub async fn topics_create(args: TopicsCreateArgs) -> Result<()> {
    let outcomes =
        tcg_pipeline::kafka::admin::ensure_topics(&args.kafka.config(), &args.topics.config())
            .await
            .with_context(|| format!("creating topics on {}", args.kafka.brokers))?;
    for o in outcomes {
        match o {
            TopicOutcome::Created(t) => println!("created  {t}"),
            TopicOutcome::AlreadyExists(t) => println!("exists   {t}"),
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    kafka: crate::kafka_flags::KafkaFlags,
    #[command(flatten)]
    consume: crate::kafka_flags::ConsumeFlags,
    #[command(flatten)]
    store: crate::serve_cmd::StoreArgs,
    /// Also publish ticks to tcg.ticks.v1 and alerts to tcg.alerts.v1.
    #[arg(long, env = "TCG_PUBLISH_OUTPUTS", default_value_t = true, action = clap::ArgAction::Set)]
    publish: bool,
    #[command(flatten)]
    ops: crate::ops_server::OpsArgs,
}

/// Runs the processor until SIGTERM or Ctrl-C.
pub async fn process(args: ProcessArgs) -> Result<()> {
    let ready = crate::ops_server::start(&args.ops, "processor").await?;
    let sqlite = args.store.sqlite()?;
    let store = args.store.ticks(&sqlite).await?;
    let mut sinks: Vec<Arc<dyn OutputSink>> = vec![Arc::new(StoreSink(store.clone()))];
    if store.backend() != "sqlite" {
        // The webhook outbox lives in the SQLite file (`tcgtracker webhook dispatch` reads it).
        sinks.push(Arc::new(tcg_pipeline::AlertOutboxSink(Arc::new(sqlite))));
    }
    if args.publish {
        sinks.push(Arc::new(KafkaOutputs(EnvelopeProducer::new(
            &args.kafka.config(),
        )?)));
    }
    let runtime = KafkaProcessor::start(
        args.kafka.config(),
        args.consume.config(),
        Arc::new(FanOut(sinks)),
        PartitionedCore::new(CoreConfig::default()),
    )
    .await
    .with_context(|| format!("connecting to {}", args.kafka.brokers))?;
    eprintln!(
        "processing {} in group {} from {}",
        tcg_schemas::topics::QUOTES_RAW,
        args.consume.group,
        args.kafka.brokers
    );
    // Ready once the store answered and the consumer is subscribed; not ready while draining.
    ready.set(true);
    let draining = ready.clone();
    let report = runtime
        .run(async move {
            crate::shutdown_signal().await;
            draining.set(false);
        })
        .await?;
    eprintln!(
        "stopped: {} messages in {} batches, {} ticks, {} alerts, {} dead letters, {} replayed",
        report.messages,
        report.batches,
        report.core.ticks + report.core.heartbeats,
        report.core.alerts,
        report.dead_letters,
        report.replayed
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct CollectCmdArgs {
    #[command(flatten)]
    collect: crate::collect_cmd::CollectArgs,
    #[command(flatten)]
    kafka: crate::kafka_flags::KafkaFlags,
    /// Print the quotes as JSON lines instead of producing them to Kafka.
    #[arg(long)]
    stdout: bool,
    /// Search eBay for every card users hold in portfolios or watch with active alert rules,
    /// read from the store (--sqlite, or QuestDB) and refreshed every `--track-refresh-secs`;
    /// merged with the `--tracked` watch list.
    #[arg(long, env = "TCG_TRACK_FROM_STORE")]
    track_from_store: bool,
    #[arg(long, env = "TCG_TRACK_REFRESH_SECS", default_value_t = 60)]
    track_refresh_secs: u64,
    /// Write TCGCSV's catalog (sets and products of `--categories`) to the store at start and
    /// every `--catalog-refresh-secs`, so that the API, the tracked cards and Grafana have names.
    #[arg(long, env = "TCG_SYNC_CATALOG")]
    sync_catalog: bool,
    #[arg(long, env = "TCG_CATALOG_REFRESH_SECS", default_value_t = 86_400)]
    catalog_refresh_secs: u64,
    #[command(flatten)]
    store: crate::serve_cmd::StoreArgs,
    #[command(flatten)]
    ops: crate::ops_server::OpsArgs,
}

/// Runs the collectors, publishing to tcg.quotes.raw.v1 (or standard output), until SIGTERM or
/// Ctrl-C (or `--duration-secs`, or `--passes`).
pub async fn collect(args: CollectCmdArgs) -> Result<()> {
    let ready = crate::ops_server::start(&args.ops, "collector").await?;
    let sink: Arc<dyn tcg_collectors::QuoteSink> = if args.stdout {
        Arc::new(tcg_collectors::JsonLinesSink)
    } else {
        Arc::new(tcg_pipeline::KafkaQuoteSink(EnvelopeProducer::new(
            &args.kafka.config(),
        )?))
    };
    let watch_list = match &args.collect.tracked {
        Some(path) => tcg_collectors::load_tracked(path)
            .with_context(|| format!("reading the watch list {}", path.display()))?,
        None => Vec::new(),
    };
    let (tracked_tx, tracked_rx) = tokio::sync::watch::channel(watch_list.clone());
    let stores = if args.track_from_store || args.sync_catalog {
        let sqlite = args.store.sqlite()?;
        let store = args.store.ticks(&sqlite).await?;
        Some((sqlite, store))
    } else {
        None
    };
    let catalog = match (&stores, args.sync_catalog) {
        (Some((_, store)), true) => {
            let store = store.clone();
            let tcgcsv =
                tcg_collectors::tcgcsv::TcgcsvConfig {
                    base_url: args.collect.base_url.clone().unwrap_or_else(|| {
                        tcg_collectors::tcgcsv::TcgcsvConfig::default().base_url
                    }),
                    ..Default::default()
                };
            let categories = args.collect.categories.clone();
            // Before the first eBay pass: the tracked cards need the catalog's names.
            let products =
                crate::catalog::sync_catalog(tcgcsv.clone(), &categories, store.as_ref(), false)
                    .await?;
            eprintln!(
                "catalog: {} products of categories {categories:?}",
                products.len()
            );
            let every = std::time::Duration::from_secs(args.catalog_refresh_secs.max(60));
            Some(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match crate::catalog::sync_catalog(
                        tcgcsv.clone(),
                        &categories,
                        store.as_ref(),
                        false,
                    )
                    .await
                    {
                        Ok(p) => tracing::info!(products = p.len(), "catalog synced"),
                        Err(e) => tracing::warn!(error = %e, "catalog sync failed"),
                    }
                }
            }))
        }
        _ => None,
    };
    let tracker = if let (Some((sqlite, store)), true) = (stores, args.track_from_store) {
        let every = std::time::Duration::from_secs(args.track_refresh_secs.max(1));
        let read = move || {
            let (store, sqlite, watch_list) = (store.clone(), sqlite.clone(), watch_list.clone());
            async move {
                match crate::tracked::tracked_cards(store.as_ref(), &sqlite, &watch_list).await {
                    Ok(cards) => {
                        metrics::gauge!("tcg_collector_tracked_cards").set(cards.len() as f64);
                        Some(cards)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the tracked cards");
                        None
                    }
                }
            }
        };
        // The first list before the first eBay pass, then a refresh every `every`.
        if let Some(cards) = read().await {
            eprintln!("tracking {} cards from the store", cards.len());
            let _ = tracked_tx.send(cards);
        }
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Some(cards) = read().await {
                    let _ = tracked_tx.send(cards);
                }
            }
        }))
    } else {
        None
    };
    ready.set(true);
    let result = tcg_collectors::run_collect(
        args.collect.options(),
        sink,
        Some(tracked_rx),
        crate::shutdown_signal(),
    )
    .await;
    for task in [tracker, catalog].into_iter().flatten() {
        task.abort();
    }
    result?;
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct BackfillCmdArgs {
    #[command(flatten)]
    backfill: crate::collect_cmd::BackfillArgs,
    /// SQLite tick store to fill (through the processor core).
    #[arg(long, env = "TCG_SQLITE", default_value = "data/tcgtracker.db")]
    sqlite: PathBuf,
}

/// Back-fills history from TCGCSV's archives into the SQLite store, through the core.
pub async fn backfill(args: BackfillCmdArgs) -> Result<()> {
    if let Some(dir) = args.sqlite.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = tcg_store::SqliteStore::open(&args.sqlite)
        .with_context(|| format!("opening the store {}", args.sqlite.display()))?;
    let (tx, rx) = tcg_pipeline::inproc::channel(10_000);
    let sink: Arc<dyn OutputSink> = Arc::new(StoreSink(Arc::new(store)));
    let processing = tokio::spawn(async move {
        // History is old by design: no heartbeats are needed between daily archive prices.
        let mut core = tcg_processor_core::Processor::new(CoreConfig::default());
        tcg_pipeline::inproc::run(
            tcg_pipeline::inproc::Inputs::quotes(rx),
            &mut core,
            sink,
            tcg_pipeline::inproc::Batching {
                max: 5_000,
                linger: std::time::Duration::from_millis(200),
            },
            |_| {},
            std::future::pending(),
        )
        .await
    });
    let report = tcg_collectors::run_backfill(args.backfill.config(), Arc::new(tx)).await?;
    let stats = processing.await.context("the processing task")??;
    eprintln!(
        "back-fill: {report:?}; {} quotes → {} ticks ({} unchanged, {} rejected)",
        stats.quotes, stats.ticks, stats.unchanged, stats.rejected
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {
    /// SQLite file holding the alert outbox, the webhook endpoints and the delivery log.
    #[arg(long, env = "TCG_SQLITE", default_value = "data/tcgtracker.db")]
    sqlite: PathBuf,
    /// Deliver to loopback and private addresses too.
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_PRIVATE")]
    allow_private: bool,
    /// Internal networks delivered to anyway, comma-separated CIDRs (e.g. 10.1.2.0/24).
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_CIDRS", value_delimiter = ',')]
    allow_cidrs: Vec<String>,
    /// Most deliveries in flight.
    #[arg(long, env = "TCG_WEBHOOKS_CONCURRENCY", default_value_t = 16)]
    concurrency: usize,
    #[command(flatten)]
    ops: crate::ops_server::OpsArgs,
}

/// Runs the webhook dispatcher on its own (distributed mode) until SIGTERM or Ctrl-C.
pub async fn dispatch(args: DispatchArgs) -> Result<()> {
    let ready = crate::ops_server::start(&args.ops, "webhook-dispatcher").await?;
    let store = tcg_store::SqliteStore::open(&args.sqlite)
        .with_context(|| format!("opening {}", args.sqlite.display()))?;
    let dispatcher = tcg_webhooks::Dispatcher::new(
        store,
        tcg_webhooks::DispatcherConfig {
            allow_private: args.allow_private,
            allow_cidrs: args.allow_cidrs.clone(),
            concurrency: args.concurrency.max(1),
            ..tcg_webhooks::DispatcherConfig::default()
        },
    )?;
    eprintln!("delivering webhooks from {}", args.sqlite.display());
    ready.set(true);
    let report = dispatcher
        .run(async move {
            crate::shutdown_signal().await;
            ready.set(false);
        })
        .await?;
    eprintln!("stopped: {report:?}");
    Ok(())
}
