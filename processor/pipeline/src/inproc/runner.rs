//! The core's loop on the embedded bus: batches of quotes in, output to the sinks.

use crate::internal_events;
use std::{future::Future, sync::Arc, time::Duration};

use tcg_processor_core::{Processor, Stats};
use tcg_schemas::RawQuote;
use tokio::sync::mpsc;

use crate::{error::Result, kafka::producer::now, sink::OutputSink};

/// Receives batches of up to `batch_max` quotes, waiting at most `linger` to fill one, until the
/// channel closes or `shutdown` resolves; every batch's output is delivered before the next.
/// Returns the totals.
pub async fn run(
    mut rx: mpsc::Receiver<RawQuote>,
    core: &mut Processor,
    sink: Arc<dyn OutputSink>,
    batch_max: usize,
    linger: Duration,
    shutdown: impl Future<Output = ()>,
) -> Result<Stats> {
    tokio::pin!(shutdown);
    let mut totals = Stats::default();
    let mut batch = Vec::with_capacity(batch_max.max(1));
    loop {
        batch.clear();
        tokio::select! {
            biased;
            () = &mut shutdown => {
                // Drain what the collectors already handed over, then stop.
                while let Ok(q) = rx.try_recv() {
                    batch.push(q);
                }
                if !batch.is_empty() {
                    deliver(core, &batch, sink.as_ref(), &mut totals).await?;
                }
                break;
            }
            n = rx.recv_many(&mut batch, batch_max.max(1)) => {
                if n == 0 {
                    break;
                }
            }
        }
        let deadline = tokio::time::Instant::now() + linger;
        while batch.len() < batch_max {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(q)) => batch.push(q),
                _ => break,
            }
        }
        deliver(core, &batch, sink.as_ref(), &mut totals).await?;
    }
    Ok(totals)
}

async fn deliver(
    core: &mut Processor,
    batch: &[RawQuote],
    sink: &dyn OutputSink,
    totals: &mut Stats,
) -> Result<()> {
    let out = core.process(now(), batch);
    for r in &out.rejected {
        metrics::counter!(internal_events::PROCESSOR_REJECTED, "reason" => r.reason.as_str())
            .increment(1);
    }
    sink.deliver(&out.ticks, &out.alerts).await?;
    metrics::counter!(internal_events::PROCESSOR_QUOTES).increment(out.stats.quotes);
    totals.add(&out.stats);
    Ok(())
}
