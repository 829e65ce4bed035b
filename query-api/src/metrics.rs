//! Prometheus metrics of the API: requests by route template and status, and a latency histogram.
//!
//! The recorder belongs to the [`crate::AppState`] (not the process-global `metrics` recorder),
//! so several apps (tests) never share counters and the root binary keeps its own global recorder.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

use crate::state::AppState;

const REQUESTS: &str = "tcg_api_requests_total";
const LATENCY: &str = "tcg_api_request_duration_seconds";
const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// The API's own Prometheus registry.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let buckets = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let builder = match PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &buckets)
        {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "latency buckets refused; a summary is exported");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        recorder.describe_counter(
            REQUESTS.into(),
            None,
            "HTTP requests by method, route template and status".into(),
        );
        recorder.describe_histogram(
            LATENCY.into(),
            Some(metrics::Unit::Seconds),
            "HTTP request latency by method and route template".into(),
        );
        Self {
            recorder: Arc::new(recorder),
        }
    }

    /// Counts one finished request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = vec![
            Label::new("method", method.to_owned()),
            Label::new("route", route.to_owned()),
            Label::new("status", status.to_string()),
        ];
        self.recorder
            .register_counter(&Key::from_parts(REQUESTS, labels), &METADATA)
            .increment(1);
        let labels = vec![
            Label::new("method", method.to_owned()),
            Label::new("route", route.to_owned()),
        ];
        self.recorder
            .register_histogram(&Key::from_parts(LATENCY, labels), &METADATA)
            .record(seconds);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }
}

/// Middleware: times every request and counts it by route template (`/v1/cards/{product_id}`,
/// or `unmatched`), never by raw path, so ids do not explode the label set.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let resp = next.run(req).await;
    state.inner.metrics.record(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
