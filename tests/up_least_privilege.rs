//! `tcgtracker up` gives the demo the least privilege: its key is a user key (403 on the admin
//! endpoints), the banner shows it once (a later start names the file instead), and the data
//! directory is 0700 with its files 0600, although `up` runs under `umask 000` (where a plain
//! `create` would make them 0777 and 0666).

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{BIN, Killed, free_port};

/// `up` under `umask 000`, its output appended to `up.log`.
fn start(dir: &Path, port: u16) -> Killed {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("up.log"))
        .unwrap();
    let child = Command::new("sh")
        .args(["-c", "umask 000 && exec \"$0\" \"$@\"", BIN, "up"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--plain"])
        .args(["--poll-secs", "2", "--history-days", "0"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Killed(child)
}

/// SIGTERM, and the exit status must be success.
fn stop(child: &mut Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "up exited with {status}");
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("up.log")).unwrap_or_default()
}

/// Waits until the API answers `/readyz` and the demo key is in its file; returns the key.
async fn ready(dir: &Path, base: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    let key_file = dir.join("data/demo-key.txt");
    loop {
        let up = reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if up && let Ok(key) = std::fs::read_to_string(&key_file) {
            return key.trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "up did not come up; log:\n{}",
            log(dir)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn status(http: &reqwest::Client, base: &str, path: &str, key: &str) -> u16 {
    http.get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_key_is_a_user_key_and_the_data_dir_is_private_under_any_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let mut up = start(dir, port);
    let key = ready(dir, &base).await;
    // A user key: its own data answers, the admin endpoints refuse it.
    assert_eq!(status(&http, &base, "/v1/portfolios", &key).await, 200);
    assert_eq!(status(&http, &base, "/v1/admin/users", &key).await, 403);
    let banner = log(dir);
    assert_eq!(
        banner.matches(&key).count(),
        1,
        "the key is printed once: {banner}"
    );
    assert!(banner.contains(&format!("{base}/#key={key}")), "{banner}");

    // Private while running: the directory, the database with its WAL and shared memory, the key.
    assert_eq!(mode(&data), 0o700, "the data directory");
    for name in [
        "tcgtracker.db",
        "tcgtracker.db-wal",
        "tcgtracker.db-shm",
        "demo-key.txt",
    ] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    stop(&mut up.0);
    assert_eq!(
        mode(&data.join("core-state.json")),
        0o600,
        "core-state.json"
    );
    assert_eq!(mode(&data), 0o700);

    // A later start keeps the key and names its file instead of printing it.
    let before = log(dir).len();
    let mut again = start(dir, port);
    assert_eq!(ready(dir, &base).await, key, "the demo key is kept");
    let banner = log(dir)[before..].to_owned();
    assert!(!banner.contains(&key), "printed again: {banner}");
    assert!(banner.contains("demo-key.txt"), "{banner}");
    assert_eq!(status(&http, &base, "/v1/admin/users", &key).await, 403);
    stop(&mut again.0);
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.extension().is_none_or(|e| e != "tmp") {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}
