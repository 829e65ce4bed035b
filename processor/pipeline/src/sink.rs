//! Output sinks of the pipeline's own: the Kafka output topics, nothing (benchmarks), and
//! several at once. The trait is the `OutputSink` port of `tcg-ports`; the stores' sinks live in
//! `tcg-store`.

use std::sync::Arc;

use tcg_ports::{BoxFuture, SinkError};
use tcg_schemas::{AlertEvent, Tick};

pub use tcg_ports::OutputSink;

use crate::kafka::producer::EnvelopeProducer;

/// tcg.ticks.v1 (key: series id) and tcg.alerts.v1 (key: owner).
#[derive(Debug, Clone)]
pub struct KafkaOutputs(pub EnvelopeProducer);

impl OutputSink for KafkaOutputs {
    fn deliver<'a>(
        &'a self,
        ticks: &'a [Tick],
        alerts: &'a [AlertEvent],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let ticks: Vec<(String, Tick)> = ticks
                .iter()
                .map(|t| (t.series_id.clone(), t.clone()))
                .collect();
            let alerts: Vec<(String, AlertEvent)> = alerts
                .iter()
                .map(|a| (a.owner.0.clone(), a.clone()))
                .collect();
            let (a, b) = tokio::join!(self.0.send_all(ticks), self.0.send_all(alerts));
            a.map_err(SinkError::failed)?;
            b.map_err(SinkError::failed)?;
            Ok(())
        })
    }
}

/// Discards everything (benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

impl OutputSink for NullSink {
    fn deliver<'a>(
        &'a self,
        _: &'a [Tick],
        _: &'a [AlertEvent],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Several sinks, each of which must accept the output.
#[derive(Debug, Clone, Default)]
pub struct FanOut(pub Vec<Arc<dyn OutputSink>>);

impl OutputSink for FanOut {
    fn deliver<'a>(
        &'a self,
        ticks: &'a [Tick],
        alerts: &'a [AlertEvent],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            for sink in &self.0 {
                sink.deliver(ticks, alerts).await?;
            }
            Ok(())
        })
    }
}
