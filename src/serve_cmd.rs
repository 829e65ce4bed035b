//! `tcgtracker serve`: the query API on its own.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, Result};
use async_trait::async_trait;
use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
};
use tcg_pipeline::{KafkaConfig, kafka::producer::EnvelopeProducer};
use tcg_query_api::{ApiConfig, AppState, PublishError, RulePublisher};
use tcg_schemas::{AlertEvent, Envelope, RuleChange, Tick, topics};
use tcg_store::{SqliteStore, Store};

/// Where ticks are stored: the embedded SQLite file, or QuestDB when both URLs are given.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// SQLite file of the embedded store (also keeps users, API keys and webhooks).
    #[arg(long, env = "TCG_SQLITE", default_value = "data/tcgtracker.db")]
    pub sqlite: PathBuf,
    /// QuestDB HTTP endpoint (ILP writes), e.g. http://127.0.0.1:9000.
    #[arg(long, env = "QUESTDB_HTTP", requires = "questdb_pg")]
    pub questdb_http: Option<String>,
    /// QuestDB PGWire URL (reads), e.g. postgres://admin:quest@127.0.0.1:8812/qdb.
    #[arg(
        long,
        env = "QUESTDB_PG",
        requires = "questdb_http",
        hide_env_values = true
    )]
    pub questdb_pg: Option<String>,
}

impl StoreArgs {
    /// The SQLite store (always: accounts live there).
    pub fn sqlite(&self) -> Result<SqliteStore> {
        if let Some(dir) = self.sqlite.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        SqliteStore::open(&self.sqlite)
            .with_context(|| format!("opening the store {}", self.sqlite.display()))
    }

    /// The tick store: QuestDB when configured, else the SQLite file.
    pub async fn ticks(&self, sqlite: &SqliteStore) -> Result<Arc<dyn Store>> {
        match (&self.questdb_http, &self.questdb_pg) {
            (Some(http), Some(pg)) => {
                let config = tcg_store::QuestDbConfig::from_urls(http, pg)?;
                Ok(Arc::new(
                    tcg_store::QuestDbStore::connect(config)
                        .await
                        .with_context(|| format!("connecting to QuestDB at {http} / {pg}"))?,
                ))
            }
            _ => Ok(Arc::new(sqlite.clone())),
        }
    }
}

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
}

/// Runs the query API until SIGTERM or Ctrl-C.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let sqlite = args.store.sqlite()?;
    let ticks = args.store.ticks(&sqlite).await?;
    let config = ApiConfig {
        webhook_guard: tcg_webhooks::AddressGuard::new(
            args.allow_private_webhooks,
            &args.allow_webhook_cidrs,
        )?,
        ..ApiConfig::default()
    };
    let mut state = AppState::new(ticks, Arc::new(sqlite), config);
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
    axum::serve(listener, tcg_query_api::app(state))
        .with_graceful_shutdown(crate::shutdown_signal())
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
