//! The QuestDB the QuestDB tests run against: the one `QUESTDB_HTTP` / `QUESTDB_PG` name, or a
//! real server started by the harness (tcg-engines) on free loopback ports. Never skipped: when
//! the harness cannot start QuestDB, the test fails with the harness's error.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses part of it; tests may unwrap

use tcg_engines::QuestDb;
use tcg_store::QuestDbConfig;

/// A QuestDB to test against, and the harness server when we started it.
#[derive(Debug)]
pub struct TestQuestDb {
    pub http: String,
    pub pg: String,
    /// `None` when the environment named an outside server.
    pub server: Option<QuestDb>,
}

impl TestQuestDb {
    /// The server of `QUESTDB_HTTP` and `QUESTDB_PG` when both are set, else a fresh one.
    pub async fn from_env_or_start() -> Self {
        match (std::env::var("QUESTDB_HTTP"), std::env::var("QUESTDB_PG")) {
            (Ok(http), Ok(pg)) => Self {
                http,
                pg,
                server: None,
            },
            _ => Self::start().await,
        }
    }

    /// A fresh server of our own (for tests that kill and restart it).
    pub async fn start() -> Self {
        let server = tokio::task::spawn_blocking(QuestDb::start)
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("the harness could not start QuestDB: {e}"));
        Self {
            http: server.http_url(),
            pg: server.pg_url(),
            server: Some(server),
        }
    }

    /// The adapter's configuration for this server.
    pub fn config(&self) -> QuestDbConfig {
        QuestDbConfig::from_urls(&self.http, &self.pg).unwrap()
    }

    /// Runs `f` on the harness server on the blocking pool (kill, stop, restart block).
    pub async fn with_server<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut QuestDb) -> R + Send + 'static,
    ) -> R {
        let mut server = self
            .server
            .take()
            .expect("this test needs a server of its own");
        let (server, r) = tokio::task::spawn_blocking(move || {
            let r = f(&mut server);
            (server, r)
        })
        .await
        .unwrap();
        self.server = Some(server);
        r
    }

    /// Stops the harness server (if any) off the async threads.
    pub async fn shut_down(mut self) {
        if let Some(s) = self.server.take() {
            tokio::task::spawn_blocking(move || drop(s)).await.unwrap();
        }
    }

    /// A PGWire client of its own (counts, checks).
    pub async fn pg_client(&self) -> tokio_postgres::Client {
        let (c, conn) = tokio_postgres::connect(&self.pg, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        c
    }
}
