//! `tcgtracker bench store --questdb-http … --questdb-pg …` with few ticks against a real QuestDB:
//! every figure of the SQLite bench is there (same JSON shape), and the figures make sense.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod support;

use std::collections::BTreeSet;

use tcg_store::{BenchStoreConfig, bench_store};

/// Every key path of a JSON object ("ingest.rows_per_s", …).
fn paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Some(o) = v.as_object() {
        for (k, v) in o {
            let p = format!("{prefix}{k}");
            paths(v, &format!("{p}."), out);
            out.insert(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questdb_bench_has_every_figure_of_the_sqlite_bench() {
    let db = support::TestQuestDb::start().await;
    let small = BenchStoreConfig {
        json: true,
        ticks: 6_000,
        series: 300,
        days: 30,
        batch: 1_000,
        data_dir: None,
        runs: 3,
        cache_mib: 16,
        questdb_http: None,
        questdb_pg: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_args = BenchStoreConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..small.clone()
    };
    let questdb_args = BenchStoreConfig {
        questdb_http: Some(db.http.clone()),
        questdb_pg: Some(db.pg.clone()),
        ..small
    };
    let (sqlite, questdb) = tokio::task::spawn_blocking(move || {
        (
            bench_store(&sqlite_args).unwrap(),
            bench_store(&questdb_args).unwrap(),
        )
    })
    .await
    .unwrap();
    let (mut want, mut got) = (BTreeSet::new(), BTreeSet::new());
    paths(&sqlite, "", &mut want);
    paths(&questdb, "", &mut got);
    let missing: Vec<&String> = want.difference(&got).collect();
    assert!(missing.is_empty(), "missing {missing:?} in {questdb:#}");
    assert_eq!(questdb["backend"], "questdb");
    for ratio in [
        "/ingest/ratio_to_baseline",
        "/ingest/applied_ratio_to_baseline",
        "/history_1y_daily/ratio_to_baseline",
        "/latest_100/ratio_to_baseline",
        "/movers_all_series_7d/ratio_to_baseline",
    ] {
        let v = questdb.pointer(ratio).and_then(|v| v.as_f64());
        assert!(v.is_some_and(|v| v > 0.0), "{ratio} = {v:?} in {questdb:#}");
    }
    assert!(questdb["ingest"]["rows_per_s"].as_f64().unwrap() > 0.0);
    // Every tick went in once, through the store and through the bare writer.
    assert_eq!(questdb["ticks_rows_after"], 6_000);
    assert_eq!(questdb["ingest"]["baseline_rows"], 6_000);
    assert_eq!(questdb["history_1y_daily"]["candles"], 365);
    assert!(
        questdb["movers_all_series_7d"]["returned"]
            .as_u64()
            .unwrap()
            > 0
    );
    db.shut_down().await;
}
