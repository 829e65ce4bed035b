//! `tcgtracker keys create|list|revoke` against a running `tcgtracker serve` on the same SQLite
//! file: a key is printed once and stored hashed, it authenticates its user, only an admin key
//! opens the operational endpoints, and a revoked key stops working.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{BIN, Killed, free_port};
use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn keys(db: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("keys")
        .args(args)
        .args(["--sqlite", db.to_str().unwrap()])
        .env_remove("TCG_SQLITE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "keys {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The key (first line) and its id (from the `# key id … (prefix …)` line).
fn created(text: &str) -> (String, String) {
    let mut lines = text.lines();
    let key = lines.next().unwrap().trim().to_owned();
    let id = lines
        .next()
        .and_then(|l| l.strip_prefix("# key id "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    (key, id)
}

async fn status(port: u16, path: &str, key: &str) -> Option<u16> {
    reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

#[tokio::test]
async fn keys_are_printed_once_stored_hashed_scoped_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("accounts.db");

    let (alice, alice_id) = created(&keys(&db, &["create", "--user", "alice"]));
    let (root, _) = created(&keys(&db, &["create", "--user", "root", "--admin"]));
    assert!(alice.starts_with("tcg_") && alice.len() > 20, "{alice}");
    assert_ne!(alice, root);

    let listed = keys(&db, &["list"]);
    assert!(listed.contains(&alice_id) && listed.contains("alice") && listed.contains("admin"));
    assert!(
        !listed.contains(&alice) && !listed.contains(&root),
        "list never shows a key"
    );
    // Only a hash is kept: the key's text is nowhere in the database files.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&alice[4..]) && !text.contains(&root[4..]));
    }

    let port = free_port();
    let _serve = Killed(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--sqlite", db.to_str().unwrap()])
            .env_remove("TCG_SQLITE")
            .env_remove("QUESTDB_HTTP")
            .env_remove("QUESTDB_PG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(port, "/v1/portfolios", &alice).await.is_none() {
        assert!(Instant::now() < deadline, "serve did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert_eq!(status(port, "/v1/portfolios", &alice).await, Some(200));
    assert_eq!(
        status(port, "/v1/portfolios", "tcg_000000000000_nope").await,
        Some(401)
    );
    assert_eq!(status(port, "/v1/admin/users", &alice).await, Some(403));
    assert_eq!(status(port, "/v1/admin/users", &root).await, Some(200));

    let revoked = keys(&db, &["revoke", &alice_id]);
    assert!(
        revoked.contains("revoked") && revoked.contains("alice"),
        "{revoked}"
    );
    assert!(keys(&db, &["list", "--user", "alice"]).contains("revoked"));
    // A verified key may be remembered for the auth cache's lifetime (5 s by default).
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(port, "/v1/portfolios", &alice).await != Some(401) {
        assert!(
            Instant::now() < deadline,
            "a revoked key still works after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status(port, "/v1/portfolios", &root).await, Some(200));
}
