//! `tcgtracker serve`: the query API on its own.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, Result};
use async_trait::async_trait;
use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
};
use tcg_pipeline::{KafkaConfig, kafka::producer::EnvelopeProducer};
use tcg_query_api::{ApiConfig, AppState, PublishError, RulePublisher};
use tcg_schemas::{AlertEvent, Envelope, RuleChange, Tick, topics};

pub use crate::stores::StoreArgs;

/// Publishes rule changes to tcg.alert-rules.v1 (key: rule id).
#[derive(Debug)]
pub struct KafkaRulePublisher(pub EnvelopeProducer);

#[async_trait]
impl RulePublisher for KafkaRulePublisher {
    async fn publish(&self, change: RuleChange) -> Result<(), PublishError> {
        self.0
            .send(&change.rule_id().to_string(), change)
            .await
            .map(|_| ())
            .map_err(|e| PublishError(e.to_string()))
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address of the HTTP API.
    #[arg(long, env = "TCG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// Publish rule changes to Kafka and stream ticks and alerts from it (distributed mode).
    #[arg(long, env = "TCG_SERVE_KAFKA")]
    kafka: bool,
    #[command(flatten)]
    brokers: crate::kafka_flags::KafkaFlags,
    /// Accept webhook endpoints on loopback and private addresses (as the dispatcher's flag of
    /// the same name; never in production).
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_PRIVATE")]
    allow_private_webhooks: bool,
    /// Internal networks accepted anyway, comma-separated CIDRs (e.g. 10.1.2.0/24).
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_CIDRS", value_delimiter = ',')]
    allow_webhook_cidrs: Vec<String>,
    /// Ops listeners of the collectors and processors (`--metrics-listen` of `collect` and
    /// `process`, e.g. http://collector:9464), comma-separated: their sources' health and recent
    /// rejections are pulled every 5 s and served at /v1/sources, /readyz and
    /// /v1/cards/{id}/rejections.
    #[arg(long, env = "TCG_REPORTS_FROM", value_delimiter = ',')]
    reports_from: Vec<String>,
}

/// How often `--reports-from` listeners are pulled.
const REPORTS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the query API until SIGTERM or Ctrl-C.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let stores = args.store.open().await?;
    let config = ApiConfig {
        webhook_guard: tcg_webhooks::AddressGuard::new(
            args.allow_private_webhooks,
            &args.allow_webhook_cidrs,
        )?,
        ..ApiConfig::default()
    };
    let mut state =
        AppState::new(stores.prices, stores.app, config).with_portfolio_store(stores.portfolios);
    if !args.reports_from.is_empty() {
        let reports =
            crate::remote_reports::RemoteReports::spawn(args.reports_from.clone(), REPORTS_EVERY)
                .await
                .context("the --reports-from client")?;
        state = state.with_source_reports(reports);
    }
    if args.kafka {
        state = state.with_rule_publisher(Arc::new(KafkaRulePublisher(EnvelopeProducer::new(
            &args.brokers.config(),
        )?)));
        tokio::spawn(follow_outputs(
            args.brokers.config(),
            state.tick_sender(),
            state.alert_sender(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    eprintln!(
        "query API on http://{} (docs: /docs)",
        listener.local_addr()?
    );
    // Header, idle and body timeouts, the connection cap (tcg_query_api::serve).
    let limits = state.serve_limits();
    tcg_query_api::serve(
        listener,
        tcg_query_api::app(state),
        limits,
        crate::shutdown_signal(),
    )
    .await?;
    Ok(())
}

/// Feeds the SSE streams from tcg.ticks.v1 and tcg.alerts.v1 (from their end: live only).
async fn follow_outputs(
    kafka: KafkaConfig,
    ticks: tokio::sync::broadcast::Sender<Tick>,
    alerts: tokio::sync::broadcast::Sender<AlertEvent>,
) {
    let consumer: StreamConsumer = match tcg_pipeline::kafka::base_config(&kafka)
        .set("group.id", format!("tcg-api-{}", std::process::id()))
        .set("auto.offset.reset", "latest")
        .set("enable.auto.commit", "false")
        .create()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot follow ticks and alerts");
            return;
        }
    };
    if let Err(e) = consumer.subscribe(&[topics::TICKS, topics::ALERTS]) {
        tracing::error!(error = %e, "cannot subscribe to ticks and alerts");
        return;
    }
    loop {
        match consumer.recv().await {
            Ok(m) => {
                let body = m.payload().unwrap_or_default();
                if m.topic() == topics::TICKS {
                    if let Ok(env) = Envelope::<Tick>::decode(body) {
                        let _ = ticks.send(env.payload);
                    }
                } else if let Ok(env) = Envelope::<AlertEvent>::decode(body) {
                    let _ = alerts.send(env.payload);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "following outputs");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
