//! The ops listener of `tcgtracker collect` (the same one `process` and `webhook dispatch` use):
//! a real simulator and collector process, `/healthz`, `/readyz`, and `/metrics` carrying the
//! collector's counters, gauges and histograms (with `_bucket` series) that Prometheus scrapes;
//! its `/sources` report, which a `serve --reports-from` pulls and shows at `/readyz`.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // one scenario, top to bottom

mod common;

use common::{Killed, free_port};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

async fn get(url: &str) -> Option<(u16, String)> {
    let r = reqwest::get(url).await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

#[tokio::test]
async fn collect_serves_metrics_health_and_readiness() {
    let bin = env!("CARGO_BIN_EXE_tcgtracker");
    let sim_port = free_port();
    let _sim = Killed(
        Command::new(bin)
            .args(["sim", "--listen", &format!("127.0.0.1:{sim_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ops_port = free_port();
    let _collect = Killed(
        Command::new(bin)
            .args([
                "collect",
                "--base-url",
                &format!("http://127.0.0.1:{sim_port}"),
                "--sources",
                "tcgcsv,ecb",
                "--stdout",
                "--poll-secs",
                "2",
                "--metrics-listen",
                &format!("127.0.0.1:{ops_port}"),
            ])
            .env_remove("TCG_METRICS_LISTEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{ops_port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        if let Some((200, body)) = get(&format!("{base}/metrics")).await
            && body.contains("tcg_collector_quotes_total{source=\"tcgcsv\"}")
        {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "no tcg_collector_quotes_total on {base}/metrics within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        metrics.contains("tcg_collector_request_duration_seconds_bucket{"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tcg_collector_breaker_state{"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tcg_build_info{component=\"collector\""),
        "{metrics}"
    );
    assert_eq!(get(&format!("{base}/healthz")).await.unwrap().0, 200);
    assert_eq!(get(&format!("{base}/readyz")).await.unwrap().0, 200);

    let (status, body) = get(&format!("{base}/sources")).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let sources: serde_json::Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = sources["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["source"].as_str())
        .collect();
    assert!(
        names.contains(&"tcgcsv") && names.contains(&"ecb"),
        "{body}"
    );
    let (status, body) = get(&format!("{base}/rejections?limit=5")).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let rejections: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(rejections["items"].is_array(), "{body}");

    // A query API that pulls the collector's report shows its sources in /readyz.
    let data = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let _serve = Killed(
        Command::new(bin)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{api_port}"),
                "--sqlite",
            ])
            .arg(data.path().join("tcgtracker.db"))
            .args(["--reports-from", &base])
            .env_remove("TCG_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let readyz = format!("http://127.0.0.1:{api_port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((200, body)) = get(&readyz).await
            && body.contains("\"tcgcsv\"")
            && body.contains("\"ecb\"")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{readyz} never named the collector's sources: {:?}",
            get(&readyz).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
