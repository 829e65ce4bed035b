//! The recorder: finished attempts, written in batches (retried a few times), and the
//! endpoints the recording disabled counted.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use tcg_store::{AttemptRecord, DeliveryStore};
use tokio::sync::{Notify, mpsc};

use super::Ctx;
use crate::internal_events;

/// Writes the attempts `rx` brings, up to `batch` at a time, until every sender is gone;
/// wakes the loop after each batch (retries may be due).
pub(super) async fn record_loop(
    store: Arc<dyn DeliveryStore>,
    mut rx: mpsc::Receiver<AttemptRecord>,
    batch: usize,
    disable_after_us: i64,
    notify: Arc<Notify>,
    ctx: Arc<Ctx>,
) {
    let mut buf = Vec::with_capacity(batch);
    while rx.recv_many(&mut buf, batch).await > 0 {
        let mut tries = 0u32;
        loop {
            match store.record_attempts(&buf, disable_after_us).await {
                Ok(report) => {
                    for d in &report.disabled {
                        let reason = if d.reason.contains("410") {
                            "gone"
                        } else {
                            "failing"
                        };
                        tracing::warn!(webhook = %d.webhook_id, reason = %d.reason, "webhook endpoint disabled");
                        metrics::counter!(internal_events::DISABLED, "reason" => reason)
                            .increment(1);
                        ctx.stats.disabled.fetch_add(1, Ordering::Relaxed);
                    }
                    break;
                }
                Err(e) if tries < 10 => {
                    tries += 1;
                    tracing::warn!(error = %e, tries, "recording webhook attempts failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200) * tries).await;
                }
                Err(e) => {
                    // The deliveries stay leased and are sent again when the lease ends.
                    tracing::error!(error = %e, attempts = buf.len(), "webhook attempts not recorded");
                    break;
                }
            }
        }
        ctx.stats.unrecorded_sub(buf.len() as u64);
        buf.clear();
        notify.notify_one();
    }
}
