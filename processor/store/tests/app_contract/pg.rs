//! The PostgreSQL the app contract runs against: the server `TCG_TEST_DATABASE_URL` names (any
//! database on it; the tests create theirs beside it), else one cluster the harness
//! (`tcg_engines::Postgres`) starts for this test binary. Every test gets a fresh database of its
//! own (`CREATE DATABASE t_<random>`), so tests run in parallel on one server. Never skipped:
//! when no PostgreSQL can start, the test fails with the harness's reason.
//!
//! The harness cluster lives as long as the test binary: the harness's watchdog stops it when
//! the process exits, and its folder (`$TMPDIR/tcg-store-app-contract-<pid>`) is removed by the
//! next run (a static is never dropped).

use std::{
    path::PathBuf,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use tcg_engines::{Postgres, PostgresOptions};
use tcg_store::{PostgresAppStore, PostgresConfig};
use tokio_postgres::NoTls;

const DIR_PREFIX: &str = "tcg-store-app-contract-";

/// The harness cluster, kept for the life of the test binary.
static CLUSTER: Mutex<Option<Postgres>> = Mutex::new(None);
/// The URL of the server (a database on it), or why none could start.
static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// The server's URL: `TCG_TEST_DATABASE_URL`, or the harness cluster (started on first use).
pub async fn server_url() -> String {
    if let Ok(url) = std::env::var("TCG_TEST_DATABASE_URL") {
        return url;
    }
    let url = tokio::task::spawn_blocking(|| SERVER.get_or_init(start_cluster).clone())
        .await
        .unwrap();
    url.unwrap_or_else(|e| panic!("the harness could not start PostgreSQL: {e}"))
}

fn start_cluster() -> Result<String, String> {
    remove_stale_folders();
    let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id()));
    let pg = Postgres::start_with(PostgresOptions {
        data_dir: Some(dir),
        ..PostgresOptions::default()
    })
    .map_err(|e| e.to_string())?;
    let url = pg.url();
    *CLUSTER.lock().unwrap() = Some(pg);
    Ok(url)
}

/// Folders of earlier runs whose process is gone.
fn remove_stale_folders() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A fresh database of one test on the test server.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    server: String,
}

impl TestDb {
    /// Creates `t_<random>` on the test server.
    pub async fn create() -> Self {
        Self::create_on(server_url().await).await
    }

    /// Creates `t_<random>` on the server of `server` (a URL of any database on it).
    pub async fn create_on(server: String) -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        admin(&server)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        Self { name, server }
    }

    /// The URL of this database: the server's, with its database name replaced.
    pub fn url(&self) -> String {
        let start = self.server.find("://").map_or(0, |i| i + 3);
        let path = self.server[start..]
            .find(['/', '?'])
            .map_or(self.server.len(), |i| start + i);
        let query = self.server[path..]
            .find('?')
            .map_or(self.server.len(), |i| path + i);
        format!(
            "{}/{}{}",
            &self.server[..path],
            self.name,
            &self.server[query..]
        )
    }

    /// The store's configuration for this database, with short timeouts (tests that stop the
    /// server measure them).
    pub fn config(&self) -> PostgresConfig {
        let mut c = PostgresConfig::from_url(&self.server)
            .unwrap()
            .with_database(&self.name);
        c.connect_timeout = Duration::from_secs(2);
        c.wait_timeout = Duration::from_secs(2);
        c
    }

    /// A store on this database (migrated).
    pub async fn store(&self) -> PostgresAppStore {
        PostgresAppStore::connect(&self.config()).await.unwrap()
    }

    /// A plain client of this database (checks beside the store).
    pub async fn client(&self) -> tokio_postgres::Client {
        let (c, conn) = self.config().pg.connect(NoTls).await.unwrap();
        tokio::spawn(conn);
        c
    }

    /// Ends every session on this database but ours (as a server restart would).
    pub async fn terminate_sessions(&self) -> u64 {
        let c = admin(&self.server).await;
        c.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&self.name],
        )
        .await
        .unwrap()
        .len() as u64
    }

    /// Drops the database (its sessions ended first).
    pub async fn drop_db(self) {
        admin(&self.server)
            .await
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
    }
}

/// A client of the server's own database (the one its URL names).
async fn admin(server: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(server, NoTls).await.unwrap();
    tokio::spawn(conn);
    c
}

/// A cluster of one test's own (for tests that stop and restart it), started off the async
/// threads.
pub async fn own_cluster() -> Postgres {
    tokio::task::spawn_blocking(Postgres::start)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the harness could not start PostgreSQL: {e}"))
}
