//! `tcgtracker backfill --source justtcg` (issue 21 item 6): with a key, the history of the
//! store's cards comes from JustTCG into the SQLite store, through the core, resumably; without
//! a key, a clear message. The catalog is synced first by `collect --sync-catalog`, as a user of
//! the distributed mode would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use common::{BIN, Killed, free_port};

fn backfill(db: &Path, dir: &Path, base: &str, key: Option<&str>) -> Output {
    let from = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive();
    let mut cmd = Command::new(BIN);
    cmd.args(["backfill", "--source", "justtcg", "--quiet"])
        .args(["--from", &from.to_string(), "--to", &from.to_string()])
        .args(["--categories", "3", "--max-products", "3"])
        .args(["--justtcg-base-url", &format!("{base}/v1")])
        .arg("--justtcg-state")
        .arg(dir.join("justtcg-backfill.json"))
        .arg("--sqlite")
        .arg(db)
        .env_remove("TCG_SQLITE")
        .env_remove("JUSTTCG_API_KEY")
        .stdin(Stdio::null());
    if let Some(k) = key {
        cmd.env("JUSTTCG_API_KEY", k);
    }
    cmd.output().unwrap()
}

fn justtcg_ticks(db: &Path) -> (i64, i64) {
    let store = tcg_store::SqliteStore::open(db).unwrap();
    store
        .with_reader(|c| {
            c.query_row(
                "SELECT count(*), count(DISTINCT day) FROM ticks WHERE source = 9",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(tcg_store::StoreError::from)
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_justtcg_backfill_loads_history_resumably() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _sim = Killed(
        Command::new(BIN)
            .args([
                "sim",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--seed",
                "5",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let db = dir.path().join("store.db");
    // The catalog, as `collect --sync-catalog` writes it (the simulator may take a moment).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(BIN)
            .args([
                "collect",
                "--base-url",
                &base,
                "--sources",
                "ecb",
                "--stdout",
            ])
            .args(["--sync-catalog", "--categories", "3", "--passes", "1"])
            .arg("--sqlite")
            .arg(&db)
            .env_remove("TCG_SQLITE")
            .env_remove("QUESTDB_HTTP")
            .env_remove("QUESTDB_PG")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "collect --sync-catalog: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // No key: said plainly, nothing written.
    let out = backfill(&db, dir.path(), &base, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("JUSTTCG_API_KEY"), "{stderr}");

    // With a key: three products' month of history, through the core.
    let out = backfill(&db, dir.path(), &base, Some("tcg_test"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let done = count_before(&stderr, " products done");
    let missing = count_before(&stderr, " not on JustTCG");
    assert_eq!(done + missing, 3, "{stderr}");
    assert!(done >= 1, "{stderr}");
    let (ticks, days) = justtcg_ticks(&db);
    assert!(
        ticks > 0 && days >= 28,
        "{ticks} ticks over {days} days\n{stderr}"
    );

    // Again: every product is already done, nothing is asked of JustTCG, nothing is doubled.
    let out = backfill(&db, dir.path(), &base, Some("tcg_test"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(count_before(&stderr, " products done"), 0, "{stderr}");
    assert_eq!(count_before(&stderr, " already done"), 3, "{stderr}");
    assert_eq!(justtcg_ticks(&db).0, ticks);
}

/// The number just before `what` in the back-fill's summary line.
fn count_before(text: &str, what: &str) -> u32 {
    let line = text
        .lines()
        .find(|l| l.contains("back-fill from JustTCG"))
        .unwrap_or_else(|| panic!("no summary line in:\n{text}"));
    let head = &line[..line
        .find(what)
        .unwrap_or_else(|| panic!("{what:?} in {line}"))];
    head.rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number before {what:?} in {line}"))
}
