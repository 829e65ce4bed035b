//! `tcgtracker topics create` and `tcgtracker process`: the distributed pipeline's commands.

use std::{path::PathBuf, sync::Arc};

use anyhow::{Context, Result};
use tcg_pipeline::{
    ConsumeArgs, FanOut, KafkaArgs, KafkaOutputs, OutputSink, PartitionedCore, StoreSink,
    TopicArgs,
    kafka::{admin::TopicOutcome, consumer::KafkaProcessor, producer::EnvelopeProducer},
};
use tcg_processor_core::CoreConfig;

#[derive(Debug, clap::Args)]
pub struct TopicsCreateArgs {
    #[command(flatten)]
    kafka: KafkaArgs,
    #[command(flatten)]
    topics: TopicArgs,
}

/// Creates the topics (safe to run again: existing topics are left as they are).
pub async fn topics_create(args: TopicsCreateArgs) -> Result<()> {
    let outcomes = tcg_pipeline::kafka::admin::ensure_topics(&args.kafka, &args.topics)
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
    kafka: KafkaArgs,
    #[command(flatten)]
    consume: ConsumeArgs,
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
        sinks.push(Arc::new(KafkaOutputs(EnvelopeProducer::new(&args.kafka)?)));
    }
    let runtime = KafkaProcessor::start(
        args.kafka.clone(),
        args.consume.clone(),
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
    collect: tcg_collectors::CollectArgs,
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Print the quotes as JSON lines instead of producing them to Kafka.
    #[arg(long)]
    stdout: bool,
    #[command(flatten)]
    ops: crate::ops_server::OpsArgs,
}

/// Runs the collectors, publishing to tcg.quotes.raw.v1 (or standard output).
pub async fn collect(args: CollectCmdArgs) -> Result<()> {
    let ready = crate::ops_server::start(&args.ops, "collector").await?;
    let sink: Arc<dyn tcg_collectors::QuoteSink> = if args.stdout {
        Arc::new(tcg_collectors::JsonLinesSink)
    } else {
        Arc::new(tcg_pipeline::KafkaQuoteSink(EnvelopeProducer::new(
            &args.kafka,
        )?))
    };
    ready.set(true);
    tcg_collectors::run_collect_cli(args.collect, sink).await?;
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct BackfillCmdArgs {
    #[command(flatten)]
    backfill: tcg_collectors::BackfillArgs,
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
    let (tx, rx) = tcg_collectors::channel(10_000);
    let sink: Arc<dyn OutputSink> = Arc::new(StoreSink(Arc::new(store)));
    let processing = tokio::spawn(async move {
        // History is old by design: no heartbeats are needed between daily archive prices.
        let mut core = tcg_processor_core::Processor::new(CoreConfig::default());
        tcg_pipeline::inproc::run(
            rx,
            &mut core,
            sink,
            5_000,
            std::time::Duration::from_millis(200),
            std::future::pending(),
        )
        .await
    });
    let report = tcg_collectors::run_backfill_cli(args.backfill, Arc::new(tx)).await?;
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
