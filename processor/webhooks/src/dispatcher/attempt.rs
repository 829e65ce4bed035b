//! One attempt: sign the alert, POST it through the guarded client, read the status (and the
//! start of the body), and hand the record to the recorder.

use std::sync::{Arc, atomic::Ordering};

use tcg_schemas::Timestamp;
use tcg_store::{AttemptRecord, DueDelivery};
use tokio::{
    sync::{OwnedSemaphorePermit, mpsc},
    time::Instant,
};

use super::{Ctx, micros};
use crate::{
    guard::{self, find_refusal},
    internal_events,
    outbox::{self, Outcome},
    sign::signature_header,
};

/// Makes one attempt at `d`, holding `_permit` until its record is handed over.
pub(super) async fn deliver(
    ctx: Arc<Ctx>,
    d: DueDelivery,
    _permit: OwnedSemaphorePermit,
    tx: mpsc::Sender<AttemptRecord>,
) {
    let attempt = d.attempts.saturating_add(1);
    let at = (ctx.clock)();
    let started = Instant::now();
    let outcome = send(&ctx, &d, at).await;
    let latency = started.elapsed();
    metrics::counter!(internal_events::DELIVERIES, "outcome" => outcome.label()).increment(1);
    metrics::histogram!(internal_events::LATENCY).record(latency.as_secs_f64());
    ctx.stats.attempts.fetch_add(1, Ordering::Relaxed);
    if outcome.is_success() {
        ctx.stats.delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        tracing::debug!(webhook = %d.webhook_id, alert = %d.alert_id, attempt, outcome = ?outcome, "webhook attempt failed");
    }
    let record = outbox::record(&d, attempt, at, micros(latency), outcome, &ctx.schedule);
    // The permit is held until the record is handed over: recording applies back-pressure.
    ctx.stats.unrecorded_add(1);
    if tx.send(record).await.is_err() {
        ctx.stats.unrecorded_sub(1);
        tracing::error!("webhook recorder is gone; attempt not recorded");
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

async fn send(ctx: &Ctx, d: &DueDelivery, at: Timestamp) -> Outcome {
    let url: reqwest::Url = match d.url.parse() {
        Ok(u) => u,
        Err(e) => return Outcome::Invalid(format!("invalid URL: {e}")),
    };
    if let Err(r) = guard::check_url(&ctx.guard, &url) {
        return Outcome::Refused(r.to_string());
    }
    let body = match outbox::body(&d.alert_json) {
        Ok(b) => b,
        Err(e) => return Outcome::Invalid(e.to_string()),
    };
    let keys = match outbox::signing_keys(d, at) {
        Ok(k) => k,
        Err(e) => return Outcome::Invalid(e.to_string()),
    };
    let timestamp = at.as_secs();
    let signature = signature_header(&keys, &d.alert_id, timestamp, &body);
    let request = ctx
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.alert_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body);
    let deadline = Instant::now() + ctx.timeout;
    let mut response = match tokio::time::timeout_at(deadline, request.send()).await {
        Err(_) => return Outcome::Timeout,
        Ok(Err(e)) => {
            if let Some(r) = find_refusal(&e) {
                return Outcome::Refused(r.to_string());
            }
            if e.is_timeout() {
                return Outcome::Timeout;
            }
            return Outcome::Network(chain(&e));
        }
        Ok(Ok(r)) => r,
    };
    let code = response.status().as_u16();
    // The status decides; the body is read only up to the cap, and only while time is left.
    let mut kept = Vec::new();
    while kept.len() < ctx.max_body {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = ctx.max_body - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    Outcome::Status {
        code,
        body: outbox::truncate_body(&kept, ctx.max_body),
    }
}
