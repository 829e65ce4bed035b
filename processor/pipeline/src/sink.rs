//! Where a batch's output goes before its input may be acknowledged.

use std::sync::Arc;

use async_trait::async_trait;
use tcg_schemas::{AlertEvent, Tick};
use tcg_store::Store;

use crate::{error::Result, kafka::producer::EnvelopeProducer};

/// A destination of ticks and alerts. `deliver` returning `Ok` means the output is durable
/// there: only then may the quotes that produced it be acknowledged.
#[async_trait]
pub trait OutputSink: Send + Sync + std::fmt::Debug {
    async fn deliver(&self, ticks: &[Tick], alerts: &[AlertEvent]) -> Result<()>;
}

/// The tick store; its alert table is the webhook outbox.
#[derive(Debug, Clone)]
pub struct StoreSink(pub Arc<dyn Store>);

#[async_trait]
impl OutputSink for StoreSink {
    async fn deliver(&self, ticks: &[Tick], alerts: &[AlertEvent]) -> Result<()> {
        if !ticks.is_empty() {
            self.0.write_ticks(ticks).await?;
        }
        if !alerts.is_empty() {
            self.0.write_alerts(alerts).await?;
        }
        self.0.flush().await?;
        Ok(())
    }
}

/// Alerts only, into a store whose alert table is the webhook outbox (the SQLite file the
/// dispatcher reads, when ticks go to QuestDB).
#[derive(Debug, Clone)]
pub struct AlertOutboxSink(pub Arc<dyn Store>);

#[async_trait]
impl OutputSink for AlertOutboxSink {
    async fn deliver(&self, _: &[Tick], alerts: &[AlertEvent]) -> Result<()> {
        if !alerts.is_empty() {
            self.0.write_alerts(alerts).await?;
            self.0.flush().await?;
        }
        Ok(())
    }
}

/// tcg.ticks.v1 (key: series id) and tcg.alerts.v1 (key: owner).
#[derive(Debug, Clone)]
pub struct KafkaOutputs(pub EnvelopeProducer);

#[async_trait]
impl OutputSink for KafkaOutputs {
    async fn deliver(&self, ticks: &[Tick], alerts: &[AlertEvent]) -> Result<()> {
        let ticks: Vec<(String, Tick)> = ticks
            .iter()
            .map(|t| (t.series_id.clone(), t.clone()))
            .collect();
        let alerts: Vec<(String, AlertEvent)> = alerts
            .iter()
            .map(|a| (a.owner.0.clone(), a.clone()))
            .collect();
        let (a, b) = tokio::join!(self.0.send_all(ticks), self.0.send_all(alerts));
        a?;
        b?;
        Ok(())
    }
}

/// Discards everything (benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

#[async_trait]
impl OutputSink for NullSink {
    async fn deliver(&self, _: &[Tick], _: &[AlertEvent]) -> Result<()> {
        Ok(())
    }
}

/// Several sinks, each of which must accept the output.
#[derive(Debug, Clone, Default)]
pub struct FanOut(pub Vec<Arc<dyn OutputSink>>);

#[async_trait]
impl OutputSink for FanOut {
    async fn deliver(&self, ticks: &[Tick], alerts: &[AlertEvent]) -> Result<()> {
        for sink in &self.0 {
            sink.deliver(ticks, alerts).await?;
        }
        Ok(())
    }
}
