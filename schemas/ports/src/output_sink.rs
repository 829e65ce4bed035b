//! Where a batch's output goes before the quotes that produced it may be acknowledged.

use tcg_schemas::{AlertEvent, Tick};

use crate::{BoxFuture, SinkError};

/// A destination of ticks and alerts (a store, the Kafka output topics, the live streams).
/// `deliver` returning `Ok` means the output is durable there: only then may the quotes that
/// produced it be acknowledged. A sink that cannot take it answers [`SinkError::Failed`] with
/// the cause; the runtime stops and the quotes are processed again (the stores deduplicate).
pub trait OutputSink: Send + Sync + std::fmt::Debug {
    fn deliver<'a>(
        &'a self,
        ticks: &'a [Tick],
        alerts: &'a [AlertEvent],
    ) -> BoxFuture<'a, Result<(), SinkError>>;
}
