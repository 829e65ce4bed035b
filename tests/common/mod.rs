//! Helpers shared by the end-to-end tests of the binary (each test file is its own crate and
//! uses only some of them).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeSet, path::Path, process::Child};

use tcg_store::{SqliteStore, StoreError};

/// The `tcgtracker` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tcgtracker");

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (SIGKILL) and reaped when the guard goes, also when a test fails.
#[derive(Debug)]
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One number from the SQLite store, e.g. `SELECT count(*) FROM ticks`.
pub fn count(db: &Path, sql: &str) -> i64 {
    let store = SqliteStore::open(db).unwrap();
    store
        .with_reader(|c| c.query_row(sql, [], |r| r.get(0)).map_err(StoreError::from))
        .unwrap()
}

/// Every stored alert's id.
pub fn alert_ids(db: &Path) -> BTreeSet<String> {
    let store = SqliteStore::open(db).unwrap();
    store
        .with_reader(|c| {
            let mut st = c.prepare("SELECT alert_id FROM alerts")?;
            let ids = st
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<BTreeSet<_>, _>>()?;
            Ok(ids)
        })
        .unwrap()
}
