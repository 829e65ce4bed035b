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
/// Requests answered 503 because no slot for store reads freed up in time, by route.
const SATURATED: &str = "tcg_api_store_saturated_total";
/// Read requests cut at the store deadline, by route.
const DEADLINE: &str = "tcg_api_store_deadline_exceeded_total";
/// Requests holding a slot for store reads now.
const READS_IN_FLIGHT: &str = "tcg_api_store_reads_in_flight";
/// Open connections (`serve`), and connections refused over the cap.
const CONNECTIONS: &str = "tcg_api_connections_open";
const CONNECTIONS_REFUSED: &str = "tcg_api_connections_refused_total";
/// Open SSE streams, streams refused over a cap (`scope`: `key` or `all`), and streams ended by
/// the server (`reason`: `revoked`, `lagged`).
const STREAMS: &str = "tcg_api_streams_open";
const STREAMS_REFUSED: &str = "tcg_api_streams_refused_total";
const STREAMS_ENDED: &str = "tcg_api_streams_ended_total";
/// The response cache (`src/response_cache`): answers served from it and computed, by route;
/// answers dropped by size or age (`cause`) and by new ticks; bytes held.
const CACHE_HITS: &str = "tcg_api_cache_hits_total";
const CACHE_MISSES: &str = "tcg_api_cache_misses_total";
const CACHE_EVICTIONS: &str = "tcg_api_cache_evictions_total";
const CACHE_INVALIDATIONS: &str = "tcg_api_cache_invalidations_total";
const CACHE_BYTES: &str = "tcg_api_cache_bytes";

/// The methods `tcg_api_requests_total` names; any other is counted as `other`.
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// A method as a metric label: one of [`KNOWN_METHODS`], or `other` (the label set stays bounded
/// whatever clients send).
pub fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}
const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// How often [`crate::serve`] runs [`Metrics::upkeep`].
pub const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

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
        describe(&recorder);
        Self {
            recorder: Arc::new(recorder),
        }
    }

    fn count(&self, name: &'static str, labels: Vec<Label>) {
        self.count_by(name, labels, 1);
    }

    fn count_by(&self, name: &'static str, labels: Vec<Label>, n: u64) {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
            .increment(n);
    }

    fn gauge(&self, name: &'static str, value: f64) {
        self.recorder
            .register_gauge(&Key::from_name(name), &METADATA)
            .set(value);
    }

    pub(crate) fn saturated(&self, route: &str) {
        self.count(SATURATED, vec![Label::new("route", route.to_owned())]);
    }

    pub(crate) fn deadline_exceeded(&self, route: &str) {
        self.count(DEADLINE, vec![Label::new("route", route.to_owned())]);
    }

    pub(crate) fn reads_in_flight(&self, n: usize) {
        self.gauge(READS_IN_FLIGHT, n as f64);
    }

    pub(crate) fn connections(&self, open: usize) {
        self.gauge(CONNECTIONS, open as f64);
    }

    pub(crate) fn connection_refused(&self) {
        self.count(CONNECTIONS_REFUSED, Vec::new());
    }

    pub(crate) fn streams(&self, open: usize) {
        self.gauge(STREAMS, open as f64);
    }

    pub(crate) fn stream_refused(&self, scope: &'static str) {
        self.count(STREAMS_REFUSED, vec![Label::new("scope", scope)]);
    }

    pub(crate) fn stream_ended(&self, reason: &'static str) {
        self.count(STREAMS_ENDED, vec![Label::new("reason", reason)]);
    }

    pub(crate) fn cache_hit(&self, route: &str) {
        self.count(CACHE_HITS, vec![Label::new("route", route.to_owned())]);
    }

    pub(crate) fn cache_miss(&self, route: &str) {
        self.count(CACHE_MISSES, vec![Label::new("route", route.to_owned())]);
    }

    pub(crate) fn cache_evicted(&self, cause: &'static str) {
        self.count(CACHE_EVICTIONS, vec![Label::new("cause", cause)]);
    }

    pub(crate) fn cache_invalidated(&self, n: usize) {
        self.count_by(CACHE_INVALIDATIONS, Vec::new(), n as u64);
    }

    pub(crate) fn cache_bytes(&self, bytes: i64) {
        self.gauge(CACHE_BYTES, bytes.max(0) as f64);
    }

    /// Counts one finished request (`method` is labelled by [`method_label`]).
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        let labels = vec![
            Label::new("method", method),
            Label::new("route", route.to_owned()),
            Label::new("status", status.to_string()),
        ];
        self.recorder
            .register_counter(&Key::from_parts(REQUESTS, labels), &METADATA)
            .increment(1);
        let labels = vec![
            Label::new("method", method),
            Label::new("route", route.to_owned()),
        ];
        self.recorder
            .register_histogram(&Key::from_parts(LATENCY, labels), &METADATA)
            .record(seconds);
    }

    /// Folds the latency samples recorded since the last upkeep (or scrape) into their buckets.
    /// The recorder keeps every sample until then: without it a `serve` nobody scrapes grew by
    /// ~20 bytes a request (6.5 MB every 5 s under 63 k req/s of `/healthz`). [`crate::serve`]
    /// runs it every [`UPKEEP_EVERY`].
    pub fn upkeep(&self) {
        self.recorder.handle().run_upkeep();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }
}

fn describe(recorder: &PrometheusRecorder) {
    let counters = [
        (
            REQUESTS,
            "HTTP requests by method (known methods, else other), route template and status",
        ),
        (
            SATURATED,
            "Requests refused: no slot for store reads in time",
        ),
        (DEADLINE, "Read requests cut at the store deadline"),
        (CONNECTIONS_REFUSED, "Connections answered 503 over the cap"),
        (
            STREAMS_REFUSED,
            "SSE streams refused over a cap (key or all)",
        ),
        (
            STREAMS_ENDED,
            "SSE streams ended by the server (key revoked, reader lagged)",
        ),
        (
            CACHE_HITS,
            "Answers served from the response cache, by route",
        ),
        (
            CACHE_MISSES,
            "Cacheable answers computed (not in the response cache), by route",
        ),
        (
            CACHE_EVICTIONS,
            "Answers dropped from the response cache by size or age (cause)",
        ),
        (
            CACHE_INVALIDATIONS,
            "Answers dropped from the response cache because a tick they cover was written",
        ),
    ];
    for (name, help) in counters {
        recorder.describe_counter(name.into(), None, help.into());
    }
    let gauges = [
        (READS_IN_FLIGHT, "Requests holding a slot for store reads"),
        (CONNECTIONS, "Open HTTP connections"),
        (STREAMS, "Open SSE streams"),
        (CACHE_BYTES, "Bytes held by the response cache"),
    ];
    for (name, help) in gauges {
        recorder.describe_gauge(name.into(), None, help.into());
    }
    recorder.describe_histogram(
        LATENCY.into(),
        Some(metrics::Unit::Seconds),
        "HTTP request latency by method and route template".into(),
    );
}

/// Middleware: times every request and counts it by route template (`/v1/cards/{product_id}`,
/// or `unmatched`), never by raw path, so ids do not explode the label set.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method().as_str());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let resp = next.run(req).await;
    state.inner.metrics.record(
        method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
