//! The SQLite schema: versioned migrations, applied once each even when several processes open
//! the same new file at once.

use rusqlite::Connection;

use crate::{Result, StoreError};

/// The migrations, in order; `PRAGMA user_version` is the number applied.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../../../schemas/sql/sqlite/0001_init.sql"),
    include_str!("../../../../schemas/sql/sqlite/0002_accounts.sql"),
    include_str!("../../../../schemas/sql/sqlite/0003_webhook_delivery.sql"),
    include_str!("../../../../schemas/sql/sqlite/0004_rollups.sql"),
    include_str!("../../../../schemas/sql/sqlite/0005_portfolio_imports.sql"),
    include_str!("../../../../schemas/sql/sqlite/0006_fair_agreeing.sql"),
    include_str!("../../../../schemas/sql/sqlite/0007_portfolio_revision.sql"),
];

/// Applies pending migrations; returns the schema version.
pub fn migrate(conn: &mut Connection) -> Result<usize> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version)
        .map_err(|_| StoreError::Migration("negative user_version".into()))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Migration(format!(
            "database schema version {version} is newer than this build knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        // Another process may be migrating the same file: take the write lock first and look
        // again, so each migration runs exactly once.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if usize::try_from(current).unwrap_or(0) > i {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(MIGRATIONS.len())
}
