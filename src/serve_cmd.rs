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
    /// Memory the response cache of history, latest prices and movers may hold, MiB (0: off).
    #[arg(long, env = "TCG_CACHE_MB", default_value_t = 16)]
    cache_mb: u64,
    /// Longest a cached answer is served while no tick it covers arrives, seconds. With
    /// `--kafka` every tick drops the answers it changes at once; without it, `serve` learns of
    /// no ticks, and an answer is at most this old.
    #[arg(long, env = "TCG_CACHE_TTL_SECS", default_value_t = 60)]
    cache_ttl_secs: u64,
    /// Sustained requests per second per API key (429 beyond).
    #[arg(long, env = "TCG_RATE_PER_SEC", default_value = "50")]
    rate_per_sec: std::num::NonZeroU32,
    /// Requests a key may make at once above the sustained rate.
    #[arg(long, env = "TCG_RATE_BURST", default_value = "100")]
    rate_burst: std::num::NonZeroU32,
}

/// How long after a tick arrives from Kafka the response cache is told of it again.
const SETTLE: Duration = Duration::from_secs(1);

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
        cache_bytes: args.cache_mb.saturating_mul(1024 * 1024),
        cache_ttl: Duration::from_secs(args.cache_ttl_secs),
        rate_per_sec: args.rate_per_sec,
        rate_burst: args.rate_burst,
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
            state.response_cache().clone(),
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

/// Feeds the SSE streams from tcg.ticks.v1 and tcg.alerts.v1 (from their end: live only), and
/// tells the response cache of every tick: when it arrives, and again [`SETTLE`] later (a
/// QuestDB write becomes visible to reads a moment after it is acknowledged, so an answer read
/// in between would otherwise be kept until its time-to-live).
async fn follow_outputs(
    kafka: KafkaConfig,
    ticks: tokio::sync::broadcast::Sender<Tick>,
    alerts: tokio::sync::broadcast::Sender<AlertEvent>,
    cache: Arc<tcg_query_api::response_cache::ResponseCache>,
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
    let mut settle = tokio::time::interval(SETTLE);
    // ticks told once (this period), and those told once in the last period: told again now
    let (mut arrived, mut settling) = (Vec::<Tick>::new(), Vec::<Tick>::new());
    loop {
        tokio::select! {
            m = consumer.recv() => match m {
                Ok(m) => {
                    let body = m.payload().unwrap_or_default();
                    if m.topic() == topics::TICKS {
                        if let Ok(env) = Envelope::<Tick>::decode(body) {
                            cache.ticks_written(std::slice::from_ref(&env.payload));
                            if cache.enabled() {
                                arrived.push(env.payload.clone());
                            }
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
            },
            _ = settle.tick() => {
                cache.ticks_written(&settling);
                settling = std::mem::take(&mut arrived);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    #[test]
    fn cache_flag_defaults_are_the_library_defaults() {
        let args = Serve::try_parse_from(["serve"]).unwrap().args;
        let want = ApiConfig::default();
        // the environment may set them (TCG_CACHE_MB, TCG_CACHE_TTL_SECS): compare only then
        if std::env::var_os("TCG_CACHE_MB").is_none() {
            assert_eq!(args.cache_mb * 1024 * 1024, want.cache_bytes);
        }
        if std::env::var_os("TCG_CACHE_TTL_SECS").is_none() {
            assert_eq!(Duration::from_secs(args.cache_ttl_secs), want.cache_ttl);
        }
        if std::env::var_os("TCG_RATE_PER_SEC").is_none() {
            assert_eq!(args.rate_per_sec, want.rate_per_sec);
        }
        if std::env::var_os("TCG_RATE_BURST").is_none() {
            assert_eq!(args.rate_burst, want.rate_burst);
        }
        let off = Serve::try_parse_from(["serve", "--cache-mb", "0"])
            .unwrap()
            .args;
        assert_eq!(off.cache_mb, 0);
    }
}
