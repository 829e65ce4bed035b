//! The stores as the processor's output sinks (the `OutputSink` port): ticks and alerts into a
//! store, or alerts only into the store whose alert table is the webhook outbox.

use std::sync::Arc;

use tcg_ports::{BoxFuture, OutputSink, SinkError};
use tcg_schemas::{AlertEvent, Tick};

use crate::{AlertStore, Store};

/// The tick store; its alert table is the webhook outbox.
#[derive(Debug, Clone)]
pub struct StoreSink(pub Arc<dyn Store>);

impl OutputSink for StoreSink {
    fn deliver<'a>(
        &'a self,
        ticks: &'a [Tick],
        alerts: &'a [AlertEvent],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if !ticks.is_empty() {
                self.0.write_ticks(ticks).await.map_err(SinkError::failed)?;
            }
            if !alerts.is_empty() {
                self.0
                    .write_alerts(alerts)
                    .await
                    .map_err(SinkError::failed)?;
            }
            self.0.flush().await.map_err(SinkError::failed)
        })
    }
}

/// Alerts only, into the app store whose alert table is the webhook outbox (SQLite or
/// PostgreSQL, which the dispatchers read) when ticks go to another store. Both backends have an
/// alert durable when `write_alerts` returns.
#[derive(Debug, Clone)]
pub struct AlertOutboxSink(pub Arc<dyn AlertStore>);

impl OutputSink for AlertOutboxSink {
    fn deliver<'a>(
        &'a self,
        _: &'a [Tick],
        alerts: &'a [AlertEvent],
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if !alerts.is_empty() {
                self.0
                    .write_alerts(alerts)
                    .await
                    .map_err(SinkError::failed)?;
            }
            Ok(())
        })
    }
}
