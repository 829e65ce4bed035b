//! Connection and batching settings, and the questdb-rs configuration string they make.

use std::time::Duration;

use crate::{Result, StoreError};

/// Connection and batching settings.
#[derive(Debug, Clone)]
pub struct QuestDbConfig {
    /// ILP/HTTP `host:port` (the REST port, 9000 by default).
    pub http_addr: String,
    /// `https` instead of `http` (QuestDB Enterprise).
    pub tls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Bearer token (instead of username/password).
    pub token: Option<String>,
    /// PGWire connection string, e.g. `postgres://admin:quest@127.0.0.1:8812/qdb`.
    pub pg_url: String,
    /// Flush when this many tick rows are pending…
    pub max_rows: usize,
    /// …or the buffer holds this many bytes…
    pub max_bytes: usize,
    /// …or the oldest pending row is this old (checked by a background task and at every write).
    pub max_age: Duration,
    /// How long a failed flush is retried before giving up: questdb-rs retries 5xx answers and
    /// timeouts itself; the writer adds a server that refuses connections (down, restarting).
    pub retry_timeout: Duration,
    /// Timeout of one HTTP request (plus the size-based allowance of `request_min_throughput`).
    pub request_timeout: Duration,
    /// How long [`Store::sync`] waits for WAL tables to apply (and the daily view to refresh).
    pub visibility_timeout: Duration,
    /// Read whole days, weeks and months from the daily view `candles_1d` (true by default);
    /// false reads every candle from the ticks (the bench's baseline, the tests' reference).
    pub rollups: bool,
    /// PGWire connections the reads share at most (QuestDB answers one query at a time per
    /// connection); waiting for one, and making one, give up after `request_timeout`.
    pub read_connections: usize,
}

impl QuestDbConfig {
    /// From `QUESTDB_HTTP`-style (`http://host:9000`) and `QUESTDB_PG`-style URLs.
    pub fn from_urls(http_url: &str, pg_url: &str) -> Result<Self> {
        let (tls, rest) = if let Some(r) = http_url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = http_url.strip_prefix("http://") {
            (false, r)
        } else {
            (false, http_url)
        };
        let addr = rest.trim_end_matches('/');
        if addr.is_empty() || addr.contains('/') {
            return Err(StoreError::InvalidQuery(format!(
                "bad QuestDB HTTP address {http_url:?}"
            )));
        }
        Ok(Self {
            http_addr: addr.to_owned(),
            tls,
            username: None,
            password: None,
            token: None,
            pg_url: pg_url.to_owned(),
            max_rows: 50_000,
            max_bytes: 8 * 1024 * 1024,
            max_age: Duration::from_secs(1),
            retry_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            visibility_timeout: Duration::from_secs(30),
            rollups: true,
            read_connections: 8,
        })
    }

    /// The questdb-rs configuration string. Protocol version 1 is pinned (no `/settings` round
    /// trip at start, plain-text rows; nothing here needs v2's binary doubles or arrays), and
    /// auto-flush is off: this adapter flushes by rows, bytes and age itself.
    pub fn ilp_conf(&self) -> String {
        let mut s = format!(
            "{}::addr={};protocol_version=1;auto_flush=off;retry_timeout={};request_timeout={};request_min_throughput=102400;",
            if self.tls { "https" } else { "http" },
            self.http_addr,
            self.retry_timeout.as_millis(),
            self.request_timeout.as_millis().max(1),
        );
        if let Some(u) = &self.username {
            s.push_str(&format!("username={};", conf_escape(u)));
        }
        if let Some(p) = &self.password {
            s.push_str(&format!("password={};", conf_escape(p)));
        }
        if let Some(t) = &self.token {
            s.push_str(&format!("token={};", conf_escape(t)));
        }
        s
    }
}

/// `;` inside a config value is written `;;`.
fn conf_escape(v: &str) -> String {
    v.replace(';', ";;")
}
