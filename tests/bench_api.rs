//! `tcgtracker bench api` end to end at a small size: it builds its store, starts `serve` as
//! its own process, drives every scenario with wrk, and every answer is a 2xx.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn bench_api_runs_every_scenario_without_an_error_answer() {
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "wrk is not installed (apt-get install wrk; .ci/run installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
        .args([
            "bench", "api", "--json", "--ticks", "30000", "--series", "300", "--secs", "1",
            "--keys", "10", "--conns", "8",
        ])
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench api failed: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(report["bench"], "api");
    assert_eq!(report["ticks"], 30_000);
    let scenarios = report["scenarios"].as_object().unwrap();
    let names: Vec<&str> = scenarios.keys().map(String::as_str).collect();
    for want in [
        "healthz",
        "history_warm",
        "history_cold",
        "latest_10",
        "movers_7d",
        "portfolio_history",
        "search",
    ] {
        assert!(names.contains(&want), "{want} missing: {names:?}");
    }
    for (name, s) in scenarios {
        assert!(s["requests_per_sec"].as_f64().unwrap() > 0.0, "{name}: {s}");
        assert_eq!(s["non_2xx"], 0, "{name}: {s}");
        assert!(
            s["p99_ms"].as_f64().unwrap() >= s["p50_ms"].as_f64().unwrap(),
            "{name}: {s}"
        );
        assert!(s["bytes"].as_u64().unwrap() > 0, "{name}: {s}");
        assert!(s["ratio_to_healthz"].as_f64().unwrap() > 0.0, "{name}: {s}");
    }
    // a year of daily candles, and movers over the store's last week, are real answers
    assert!(scenarios["history_warm"]["bytes"].as_u64().unwrap() > 10_000);
    assert!(
        scenarios["movers_7d"]["bytes"].as_u64().unwrap() > 500,
        "movers found nothing: {}",
        scenarios["movers_7d"]
    );
    assert!(report["serve_peak_rss_mib"].as_f64().unwrap() > 0.0);
    // the store was built (a later run of the same size reuses it)
    assert!(stderr.contains("built"), "{stderr}");
}
