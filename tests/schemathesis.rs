//! Fuzzing in CI: schemathesis (every check, a fixed seed, bounded examples per operation)
//! against the binary under test, through `tests/fuzz/schemathesis.sh` (which starts `up` on a
//! free loopback port with a temporary data dir and makes its keys with `keys create`). Any 5xx,
//! schema violation, or ST201/ST202 failure (a request the document forbids accepted, or one it
//! allows refused) fails the test, with schemathesis's report (each failure with a curl line to
//! replay it) and the errors `up` logged. No check is left out; `tests/fuzz/schemathesis.toml`
//! names the operations whose documented 422 is a rule a schema cannot state (the card must be in
//! the catalog, a sale at most the copies held, …).
//!
//! Schemathesis comes from PyPI into `~/.cache/tcgtracker/venv` (`tests/fuzz/install.sh`, which
//! `.ci/run` calls). Without it the test is skipped with a message, unless it is required: under
//! CI (`CI=true`), or when `TCG_SCHEMATHESIS` names the `st` to use (`.ci/run` sets it), a missing
//! schemathesis fails the test.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

/// The `st` to run, and whether it was named (then it must exist).
fn st() -> (PathBuf, bool) {
    let named = std::env::var_os("TCG_SCHEMATHESIS");
    let required = named.is_some();
    let path = named.map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/tcgtracker/venv/bin/st")
        },
        PathBuf::from,
    );
    (path, required)
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

#[test]
fn schemathesis_finds_no_failure() {
    let (st, named) = st();
    if !st.exists() {
        assert!(
            !(named || under_ci()),
            "schemathesis is not installed at {} (tests/fuzz/install.sh; .ci/run runs it)",
            st.display()
        );
        eprintln!(
            "SKIPPED: schemathesis is not installed at {}; run tests/fuzz/install.sh to fuzz the API",
            st.display()
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/schemathesis.sh");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .env("TCG_BIN", env!("CARGO_BIN_EXE_tcgtracker"))
        .env("TCG_SCHEMATHESIS", &st)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found failures ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for line in stdout
        .lines()
        .filter(|l| l.starts_with("== schemathesis summary") || l.starts_with("   exit statuses"))
    {
        eprintln!("{line}");
    }
    eprintln!("schemathesis took {:.0} s", started.elapsed().as_secs_f64());
}
