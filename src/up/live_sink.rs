//! Ticks and alerts to the query API's live streams (SSE), every tick written to its response
//! cache (which drops the answers they change), and a nudge to the webhook dispatcher when
//! alerts fired. It runs after the store sink: the ticks are in the store.

use std::sync::Arc;

use tcg_pipeline::OutputSink;
use tcg_query_api::response_cache::ResponseCache;
use tcg_schemas::{AlertEvent, Tick};
use tokio::sync::broadcast;

/// Ticks older than this are stored, not streamed (history loaded by the back-fill).
const LIVE_SECS: i64 = 600;

#[derive(Debug)]
pub struct LiveSink {
    pub ticks: broadcast::Sender<Tick>,
    pub alerts: broadcast::Sender<AlertEvent>,
    pub cache: Arc<ResponseCache>,
    pub webhooks: tcg_webhooks::Notifier,
}

impl OutputSink for LiveSink {
    fn deliver<'a>(
        &'a self,
        ticks: &'a [Tick],
        alerts: &'a [AlertEvent],
    ) -> tcg_ports::BoxFuture<'a, Result<(), tcg_ports::SinkError>> {
        Box::pin(async move {
            // back-filled ticks too: they change the history answers
            self.cache.ticks_written(ticks);
            let cutoff = tcg_pipeline::kafka::producer::now().minus_secs(LIVE_SECS);
            // A send fails only while nobody listens: nothing to do then.
            for t in ticks.iter().filter(|t| t.observed_at >= cutoff) {
                let _ = self.ticks.send(t.clone());
            }
            for a in alerts {
                let _ = self.alerts.send(a.clone());
            }
            if !alerts.is_empty() {
                self.webhooks.notify();
            }
            Ok(())
        })
    }
}
