//! Versioned migrations of the app store's PostgreSQL schema, run on connect.
//!
//! The SQL files under `processor/store/migrations/postgres/` are embedded in the binary. All of
//! [`migrate`] runs in one transaction that first takes a transaction-level advisory lock: of
//! several instances starting at once on one database, one applies what is missing while the
//! others wait on the lock, then see it recorded in `schema_migrations` and apply nothing. A
//! migration that fails rolls back entirely (PostgreSQL's DDL is transactional).

use tokio_postgres::Client;

use crate::{Result, StoreError};

/// One migration: its version (the file's number), name and SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "app_data",
        sql: include_str!("../../migrations/postgres/0001_app_data.sql"),
    },
    Migration {
        version: 2,
        name: "portfolio_imports",
        sql: include_str!("../../migrations/postgres/0002_portfolio_imports.sql"),
    },
    Migration {
        version: 3,
        name: "portfolio_revision",
        sql: include_str!("../../migrations/postgres/0003_portfolio_revision.sql"),
    },
];

/// The advisory lock key of the migrations (any constant; advisory locks are per database).
const MIGRATION_LOCK: i64 = 0x7463_6774_7261_636b; // "tcgtrack"

/// Applies what is missing; returns the versions applied now (empty when the schema was
/// current). Fails when the database has a version this binary does not know (a newer one).
pub async fn migrate(client: &mut Client) -> Result<Vec<i64>> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied: Vec<i64> = tx
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newer) = applied.iter().find(|v| **v > known) {
        return Err(StoreError::Migration(format!(
            "the database has schema version {newer}, this binary knows up to {known}: \
             run a newer tcgtracker"
        )));
    }
    let mut now = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        tx.batch_execute(m.sql)
            .await
            .map_err(|source| StoreError::PostgresMigration {
                version: m.version,
                name: m.name,
                source,
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await?;
        now.push(m.version);
    }
    tx.commit().await?;
    Ok(now)
}

/// An applied migration as `schema_migrations` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub applied_at: chrono::DateTime<chrono::Utc>,
}

/// What `schema_migrations` records, by version.
pub async fn applied(client: &Client) -> Result<Vec<AppliedMigration>> {
    client
        .query(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AppliedMigration {
                version: r.try_get(0)?,
                name: r.try_get(1)?,
                applied_at: r.try_get(2)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_and_match_the_file_names() {
        let mut last = 0;
        for m in MIGRATIONS {
            assert!(m.version > last, "{m:?}");
            last = m.version;
            assert!(!m.sql.trim().is_empty());
            assert!(
                m.sql.starts_with(&format!(
                    "-- tcgtracker app store on PostgreSQL, migration {}",
                    m.version
                )),
                "{:04}_{}.sql starts with its version",
                m.version,
                m.name
            );
        }
    }
}
