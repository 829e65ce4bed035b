//! The ops listener of `collect`, `process` and `webhook dispatch`: `/metrics` (Prometheus text),
//! `/healthz` (the process is alive) and `/readyz` (the command has its connections and works);
//! for `collect` and `process` also `/sources` (each source's health, JSON) and
//! `/rejections?limit=` (the recent rejected quotes, JSON), which `serve --reports-from` reads.
//!
//! Off unless `--metrics-listen ADDR` (`TCG_METRICS_LISTEN`) is given. When on, it installs the
//! process-global `metrics` recorder (a Prometheus recorder), so every `metrics::counter!`,
//! `gauge!` and `histogram!` of the collectors, the processor runtime and the webhook dispatcher
//! is exported. The query API (`tcgtracker serve`) does not use this: it serves its own
//! `/metrics`, `/healthz` and `/readyz` from its per-app registry (`tcg_query_api::Metrics`).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, Result};
use axum::{
    Json, Router,
    extract::Query,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tcg_ports::SourceReports;

/// Histogram buckets (seconds) of every histogram the pipeline records: batch durations,
/// upstream request latencies and webhook attempts. With buckets set, histograms are exported
/// as Prometheus histograms (`_bucket`, `_sum`, `_count`), which `histogram_quantile` can use.
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The ops listener's flag.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OpsArgs {
    /// Serve /metrics, /healthz and /readyz on this address (e.g. 0.0.0.0:9464). Off when unset.
    #[arg(long, env = "TCG_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

/// Whether `/readyz` answers 200. Cheap to clone; every clone shares the flag.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Starts the ops listener when `--metrics-listen` is set (installing the global Prometheus
/// recorder); returns the readiness flag the command sets once it works. Without the flag, the
/// flag is returned all the same (nobody reads it) and no recorder is installed.
pub async fn start(
    args: &OpsArgs,
    component: &'static str,
    reports: Option<Arc<dyn SourceReports>>,
) -> Result<Readiness> {
    let ready = Readiness::default();
    let Some(addr) = args.metrics_listen else {
        return Ok(ready);
    };
    let handle = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .context("histogram buckets")?
        .install_recorder()
        .context("installing the Prometheus recorder")?;
    metrics::gauge!("tcg_build_info", "component" => component, "version" => env!("CARGO_PKG_VERSION"))
        .set(1.0);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the ops listener on {addr}"))?;
    eprintln!(
        "ops listener on http://{} (/metrics, /healthz, /readyz)",
        listener.local_addr()?
    );
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let mut app = router(handle, ready.clone());
    if let Some(reports) = reports {
        app = app.merge(reports_router(reports));
    }
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the ops listener stopped");
        }
    });
    Ok(ready)
}

/// `/metrics`, `/healthz`, `/readyz` over a Prometheus handle.
pub fn router(handle: PrometheusHandle, ready: Readiness) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        handle.render(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move {
                    if ready.is_ready() {
                        (StatusCode::OK, "ready\n").into_response()
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
                    }
                }
            }),
        )
}

/// Most rejections `/rejections` answers at once (the bounded log keeps about as many).
pub const MAX_REJECTIONS: usize = 2_000;

#[derive(Debug, serde::Deserialize)]
struct Limit {
    limit: Option<usize>,
}

/// `/sources` (`{"items": [SourceHealth…]}`), `/rejections?limit=` (`{"items":
/// [CardRejection…]}`, newest first, at most [`MAX_REJECTIONS`]) and `/unmapped?limit=`
/// (`{"items": [UnmappedProduct…]}`, the other markets' products no card fits, at most
/// [`MAX_REJECTIONS`]).
pub fn reports_router(reports: Arc<dyn SourceReports>) -> Router {
    let sources = reports.clone();
    let unmapped = reports.clone();
    Router::new()
        .route(
            "/unmapped",
            get(move |Query(q): Query<Limit>| {
                let reports = unmapped.clone();
                async move {
                    let limit = q.limit.unwrap_or(MAX_REJECTIONS).min(MAX_REJECTIONS);
                    Json(serde_json::json!({ "items": reports.unmapped(None, limit) }))
                }
            }),
        )
        .route(
            "/sources",
            get(move || {
                let reports = sources.clone();
                async move { Json(serde_json::json!({ "items": reports.sources() })) }
            }),
        )
        .route(
            "/rejections",
            get(move |Query(q): Query<Limit>| {
                let reports = reports.clone();
                async move {
                    let limit = q.limit.unwrap_or(MAX_REJECTIONS).min(MAX_REJECTIONS);
                    Json(serde_json::json!({ "items": reports.recent_rejections(limit) }))
                }
            }),
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn serves_metrics_health_and_readiness() {
        // A local recorder (not the global one: tests share the process).
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .unwrap()
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("tcg_collector_quotes_total", "source" => "tcgcsv").increment(3);
            metrics::histogram!("tcg_processor_batch_seconds").record(0.02);
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(handle, Readiness::default());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

        let body = get("/metrics").await.unwrap().text().await.unwrap();
        assert!(
            body.contains("tcg_collector_quotes_total{source=\"tcgcsv\"} 3"),
            "{body}"
        );
        assert!(
            body.contains("tcg_processor_batch_seconds_bucket{le=\"0.025\"} 1"),
            "{body}"
        );
        assert!(
            body.contains("tcg_processor_batch_seconds_count 1"),
            "{body}"
        );
        assert_eq!(get("/healthz").await.unwrap().status(), 200);
    }

    #[tokio::test]
    async fn readyz_follows_the_flag() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let ready = Readiness::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(recorder.handle(), ready.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let url = format!("http://{addr}/readyz");
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 503);
        ready.set(true);
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
        ready.set(false);
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 503);
    }
}
