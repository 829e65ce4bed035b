//! `tcgtracker topics create` and `tcgtracker process`: the distributed pipeline's commands.

use std::sync::Arc;

use anyhow::{Context, Result};
use tcg_pipeline::{
    FanOut, KafkaOutputs, OutputSink, PartitionedCore,
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
    // The core's rejections, kept for `serve --reports-from` (this process has no sources).
    let monitor = tcg_collectors::CollectorMonitor::new();
    let ready =
        crate::ops_server::start(&args.ops, "processor", Some(Arc::new(monitor.clone()))).await?;
    let stores = args.store.open().await?;
    let mut sinks: Vec<Arc<dyn OutputSink>> = vec![Arc::new(tcg_store::StoreSink(stores.prices))];
    if !stores.shared {
        // The webhook outbox is the app store's alert table (`tcgtracker webhook dispatch`
        // reads it); the tick store keeps its own copy of the alerts for the dashboards.
        sinks.push(Arc::new(tcg_store::AlertOutboxSink(stores.app)));
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
    .with_context(|| format!("connecting to {}", args.kafka.brokers))?
    .on_rejected(move |r| {
        let at = tcg_schemas::Timestamp::from(chrono::Utc::now());
        monitor.rejections.record(r.to_card_rejection(at));
    });
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
