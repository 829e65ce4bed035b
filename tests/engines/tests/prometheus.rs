//! The Prometheus harness: a real server that scrapes itself answers `up` = 1 over its HTTP API
//! and loads a rule file passed next to its configuration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tcg_engines::Prometheus;

/// A configuration that scrapes the server itself every second, with one rule file.
fn self_scrape(port: u16) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         rule_files: [rules.yml]\n\
         scrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n"
    )
}

/// A recording rule, to show that a rule file passed to `start_on` is loaded.
const RULES: &str = "groups:\n  - name: t\n    rules:\n      - record: job:up:max\n        expr: max by (job) (up)\n";

/// The value of the first sample `promql` returns, if any.
async fn first_value(http: &reqwest::Client, url: &str, promql: &str) -> Option<String> {
    let body: serde_json::Value = http
        .get(format!("{url}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    assert_eq!(body["status"], "success", "{promql}: {body}");
    body["data"]["result"][0]["value"][1]
        .as_str()
        .map(str::to_owned)
}

/// Polls `promql` until it returns a sample (the first scrape and rule evaluation take a
/// second or two).
async fn wait_value(prom: &Prometheus, promql: &str) -> String {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = first_value(&http, &prom.url(), promql).await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{promql} returned nothing; log:\n{}",
            prom.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_itself_and_evaluates_its_rules() {
    let port = tcg_engines::free_port().unwrap();
    let prom = Prometheus::start_on(port, &self_scrape(port), &[("rules.yml", RULES)])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wait_value(&prom, r#"up{job="self"}"#).await, "1");
    assert_eq!(wait_value(&prom, r#"job:up:max{job="self"}"#).await, "1");
}
