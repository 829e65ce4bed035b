//! Several processes (here: threads with their own connections) opening a new store file at once
//! all succeed, and the migrations run exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn concurrent_first_opens_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                tcg_store::SqliteStore::open(&path).map(|s| s.schema_version())
            })
        })
        .collect();
    let versions: Vec<i64> = handles
        .into_iter()
        .map(|h| h.join().unwrap().expect("open succeeds").expect("version"))
        .collect();
    assert!(versions.windows(2).all(|w| w[0] == w[1]), "{versions:?}");
    assert!(versions[0] >= 1);
}
