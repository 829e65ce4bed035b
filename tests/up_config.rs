//! `tcgtracker up` and its configuration: bad files and variables are refused at start with a
//! message that names the key, and credentials switch the collectors from the built-in simulator
//! to the configured live services (played here by a separate `tcgtracker sim`).

#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Killed, free_port};
use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

/// Runs `up` to its exit (a refused configuration exits at once) with a clean environment.
fn up_refused(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcgtracker"));
    cmd.arg("up")
        .args(["--data-dir", dir.join("data").to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("TCG") || k.starts_with("EBAY_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let Output { status, stderr, .. } = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    assert_eq!(
        status.code(),
        Some(2),
        "up should refuse this with exit code 2; it said:\n{stderr}"
    );
    assert!(
        !dir.join("data/tcgtracker.db").exists(),
        "nothing is started with a refused configuration"
    );
    stderr
}

#[test]
fn unknown_keys_and_bad_values_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conf.toml");

    std::fs::write(&file, "[tcgcsv]\ndaily_budgt = 100\n").unwrap();
    let e = up_refused(dir.path(), &["--config", file.to_str().unwrap()], &[]);
    assert!(
        e.contains("`tcgcsv.daily_budgt`") && e.contains("conf.toml"),
        "{e}"
    );

    std::fs::write(&file, "[webhooks]\ntimeout = \"a while\"\n").unwrap();
    let e = up_refused(dir.path(), &[], &[("TCG_CONFIG", file.to_str().unwrap())]);
    assert!(e.contains("`webhooks.timeout`"), "{e}");

    std::fs::write(&file, "[ebay]\nclient_secret = \"x\"\n").unwrap();
    let e = up_refused(dir.path(), &["--config", file.to_str().unwrap()], &[]);
    assert!(e.contains("EBAY_CLIENT_SECRET"), "{e}");

    // ./tcgtracker.toml is read when present.
    std::fs::write(dir.path().join("tcgtracker.toml"), "upstream = \"cloud\"\n").unwrap();
    let e = up_refused(dir.path(), &[], &[]);
    assert!(
        e.contains("`upstream`") && e.contains("tcgtracker.toml"),
        "{e}"
    );
    std::fs::remove_file(dir.path().join("tcgtracker.toml")).unwrap();

    let e = up_refused(dir.path(), &[], &[("TCG__CORE__MIN_CONFIDENCE", "high")]);
    assert!(
        e.contains("`core.min_confidence`") && e.contains("TCG__CORE__MIN_CONFIDENCE"),
        "{e}"
    );
    let e = up_refused(dir.path(), &[], &[("TCG_POLL_SECS", "0")]);
    assert!(e.contains("poll-secs") || e.contains("POLL_SECS"), "{e}");

    let missing = dir.path().join("nope.toml");
    let e = up_refused(dir.path(), &["--config", missing.to_str().unwrap()], &[]);
    assert!(e.contains("nope.toml"), "{e}");
}

fn source_ticks(db: &Path, source: tcg_schemas::Source) -> i64 {
    let Ok(store) = tcg_store::SqliteStore::open(db) else {
        return 0;
    };
    store
        .with_reader(|c| {
            c.query_row(
                "SELECT count(*) FROM ticks WHERE source = ?1",
                [tcg_store::codes::source_code(source)],
                |r| r.get(0),
            )
            .map_err(tcg_store::StoreError::from)
        })
        .unwrap_or(0)
}

/// With TCGplayer credentials and `upstream = "live"`, `up` starts no simulator of its own and
/// reads the configured TCGCSV, TCGplayer API and ECB addresses (another process here).
#[test]
fn credentials_switch_up_to_the_configured_live_services() {
    let dir = tempfile::tempdir().unwrap();
    let sim_port = free_port();
    let sim_log = std::fs::File::create(dir.path().join("sim.log")).unwrap();
    let _sim = Killed(
        Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
            .args(["sim", "--listen", &format!("127.0.0.1:{sim_port}")])
            .args(["--seed", "11"])
            .stdin(Stdio::null())
            .stdout(sim_log.try_clone().unwrap())
            .stderr(sim_log)
            .spawn()
            .unwrap(),
    );
    let live = format!("http://127.0.0.1:{sim_port}");
    let conf = dir.path().join("live.toml");
    std::fs::write(
        &conf,
        format!(
            "upstream = \"auto\"\ncategories = [3]\npoll_secs = 1\n\
             [tcgplayer]\nbase_url = \"{live}\"\n[tcgcsv]\nbase_url = \"{live}\"\n\
             [tcgcsv.http]\nmin_interval_ms = 0\n[ecb]\nbase_url = \"{live}\"\n"
        ),
    )
    .unwrap();
    let log_path = dir.path().join("up.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcgtracker"));
    for (k, _) in std::env::vars() {
        if k.starts_with("TCG") || k.starts_with("EBAY_") {
            cmd.env_remove(k);
        }
    }
    let _up = Killed(
        cmd.arg("up")
            .args(["--config", conf.to_str().unwrap()])
            .args(["--data-dir", dir.path().join("data").to_str().unwrap()])
            .args(["--listen", &format!("127.0.0.1:{}", free_port()), "--plain"])
            .env("TCGPLAYER_CLIENT_ID", "test-id")
            .env("TCGPLAYER_CLIENT_SECRET", "test-secret")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let db = dir.path().join("data/tcgtracker.db");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tcgplayer = source_ticks(&db, tcg_schemas::Source::Tcgplayer);
        let tcgcsv = source_ticks(&db, tcg_schemas::Source::Tcgcsv);
        if tcgplayer > 0 && tcgcsv > 0 {
            assert!(
                text.contains(&format!("live: TCGCSV {live}"))
                    && text.contains(&format!("TCGplayer API on, reading {live}"))
                    && text.contains("eBay off (no credentials)")
                    && !text.contains("built-in simulator"),
                "{text}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no ticks from the live services (tcgplayer {tcgplayer}, tcgcsv {tcgcsv}); log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Once every source has passed, up says what each one did.
    loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(report) = text.split("sources after their first pass:").nth(1) {
            let line = report
                .lines()
                .find(|l| l.trim_start().starts_with("tcgplayer "))
                .unwrap_or_else(|| panic!("a tcgplayer line: {report}"));
            assert!(
                line.contains(" ok,") || line.contains(" degraded,"),
                "{line}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no source report; log:\n{text}");
        std::thread::sleep(Duration::from_millis(300));
    }
}
