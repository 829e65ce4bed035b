//! `tcgtracker bench api` end to end at a small size: it builds its store, starts `serve` as
//! its own process, drives every scenario with wrk, and every answer is a 2xx; on SQLite, and on
//! a QuestDB the harness starts (`--questdb-http … --questdb-pg …`), where a second run reuses
//! the ticks the first wrote.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// Runs `bench api` small with `extra` flags; its report and its stderr.
fn bench_api(dir: &std::path::Path, extra: &[&str]) -> (serde_json::Value, String) {
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "wrk is not installed (apt-get install wrk; .ci/run installs it)"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
        .args([
            "bench", "api", "--json", "--ticks", "30000", "--series", "300", "--secs", "1",
            "--keys", "10", "--conns", "8",
        ])
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "bench api failed: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (report, stderr)
}

#[test]
fn bench_api_runs_every_scenario_without_an_error_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (report, stderr) = bench_api(dir.path(), &[]);
    assert_eq!(report["store"], "sqlite");
    check_report(&report);
    // the store was built (a later run of the same size reuses it)
    assert!(stderr.contains("built"), "{stderr}");
}

#[test]
fn bench_api_on_questdb() {
    let db = tcg_engines::QuestDb::start()
        .unwrap_or_else(|e| panic!("the harness could not start QuestDB: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--questdb-http",
        &db.http_url(),
        "--questdb-pg",
        &db.pg_url(),
    ];
    let (report, stderr) = bench_api(dir.path(), &flags);
    assert_eq!(report["store"], "questdb");
    check_report(&report);
    assert!(stderr.contains("built 30000 ticks on"), "{stderr}");
    let movers = &report["movers_all_series"];
    assert_eq!(movers["requests"], 5, "{movers}");
    assert!(movers["max_ms"].as_f64().unwrap() > 0.0, "{movers}");
    assert_eq!(report["targets"]["movers_all_series"]["max_ms"], 500);
    // a second run finds the ticks on the server and writes none
    let (again, stderr) = bench_api(dir.path(), &flags);
    assert!(stderr.contains("reusing the 30000 ticks"), "{stderr}");
    assert_eq!(again["store_build_secs"], 0.0);
}

fn check_report(report: &serde_json::Value) {
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
}
