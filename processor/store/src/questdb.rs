//! The QuestDB adapter: writes with questdb-rs ILP over HTTP (batched by rows, bytes and age, flushed
//! on tokio's blocking pool), reads in QuestDB SQL over PGWire (tokio-postgres, bind parameters).
//!
//! Everything that builds text (DDL, ILP rows, SQL) is a pure function tested without a server.

use std::{
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use chrono::NaiveDateTime;
use questdb::ingress::{Buffer, ProtocolVersion, Sender, TimestampMicros};
use tcg_schemas::{
    AlertEvent, AlertRule, CardSet, CategoryId, Currency, Game, GroupId, Holding, HoldingId, Money,
    Portfolio, PortfolioEvent, PortfolioId, PriceKind, Product, ProductId, RuleId, SeriesKey, Sku,
    SkuId, Source, Tick, Timestamp, UserId,
};
use tokio_postgres::{Client, NoTls, Row, types::ToSql};

use crate::{
    Interval, Result, Store, StoreError, bucket_pairs,
    interval::{RawBucket, fill_candles},
    model::*,
    movers,
    valuation::{self, PriceBook},
};

/// The DDL, statements separated by lines holding only `;;`.
pub const QUESTDB_DDL: &str = include_str!("../../../schemas/sql/questdb/ddl.sql");

/// Tables this adapter writes.
pub const TABLES: [&str; 9] = [
    "ticks",
    "alerts",
    "card_sets",
    "products",
    "skus",
    "portfolios",
    "holdings",
    "portfolio_events",
    "alert_rules",
];

/// The DDL statements, comments removed, ready to run one by one.
pub fn ddl_statements() -> Vec<String> {
    QUESTDB_DDL
        .split("\n;;")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

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
    /// How long questdb-rs retries a failed flush (5xx, network) before giving up.
    pub retry_timeout: Duration,
    /// Timeout of one HTTP request (plus the size-based allowance of `request_min_throughput`).
    pub request_timeout: Duration,
    /// How long [`Store::sync`] waits for WAL tables to apply.
    pub visibility_timeout: Duration,
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

fn ilp_err(e: questdb::Error) -> StoreError {
    StoreError::Ilp(format!("{:?}: {}", e.code(), e.msg()))
}

fn ts(t: Timestamp) -> TimestampMicros {
    TimestampMicros::new(t.as_micros())
}

/// Appends one tick row (table `ticks`). Symbols first, then columns; a NULL is an omitted column;
/// the designated timestamp is the observation time.
pub fn encode_tick(buf: &mut Buffer, t: &Tick) -> Result<()> {
    if t.price_usd.currency != Currency::USD {
        return Err(StoreError::InvalidTick(format!(
            "price_usd is in {}",
            t.price_usd.currency
        )));
    }
    buf.table("ticks")
        .and_then(|b| b.symbol("series", &t.series_id))
        .and_then(|b| b.symbol("source", t.source.as_str()))
        .and_then(|b| b.symbol("kind", t.kind.as_str()))
        .and_then(|b| b.symbol("game", t.game.slug()))
        .and_then(|b| b.symbol("orig_currency", t.original.currency.as_str()))
        .and_then(|b| match &t.shipping {
            Some(s) => b.symbol("ship_currency", s.currency.as_str()),
            None => Ok(b),
        })
        .and_then(|b| b.column_str("listing_id", t.listing_id.as_deref().unwrap_or("")))
        .and_then(|b| b.column_i64("product_id", t.series.product_id().0 as i64))
        .and_then(|b| b.column_i64("price_cents", t.price_usd.minor))
        .and_then(|b| b.column_i64("orig_minor", t.original.minor))
        .and_then(|b| match &t.shipping {
            Some(s) => b.column_i64("ship_minor", s.minor),
            None => Ok(b),
        })
        .and_then(|b| match t.confidence {
            Some(c) => b.column_i64("confidence", i64::from(c)),
            None => Ok(b),
        })
        .and_then(|b| b.column_bool("heartbeat", t.heartbeat))
        .and_then(|b| b.at(ts(t.observed_at)))
        .map_err(ilp_err)
}

/// Appends one alert row; its designated timestamp is the tick's observation time, so a replay
/// has the same keys and is deduplicated.
pub fn encode_alert(buf: &mut Buffer, a: &AlertEvent) -> Result<()> {
    let body = serde_json::to_string(a)?;
    buf.table("alerts")
        .and_then(|b| b.symbol("owner", &a.owner.0))
        .and_then(|b| b.symbol("series", &a.series_id))
        .and_then(|b| b.column_str("alert_id", a.id.to_string()))
        .and_then(|b| b.column_str("rule_id", a.rule_id.to_string()))
        .and_then(|b| b.column_str("body", &body))
        .and_then(|b| b.at(ts(a.observed_at)))
        .map_err(ilp_err)
}

fn opt_str<'b>(b: &'b mut Buffer, name: &str, v: Option<&str>) -> questdb::Result<&'b mut Buffer> {
    match v {
        Some(v) => b.column_str(name, v),
        None => Ok(b),
    }
}

pub fn encode_set(buf: &mut Buffer, s: &CardSet, at: Timestamp) -> Result<()> {
    buf.table("card_sets")
        .and_then(|b| b.symbol("game", s.game.slug()))
        .and_then(|b| b.column_i64("group_id", i64::from(s.group_id.0)))
        .and_then(|b| b.column_i64("category_id", i64::from(s.category_id.0)))
        .and_then(|b| b.column_str("name", &s.name))
        .and_then(|b| opt_str(b, "abbreviation", s.abbreviation.as_deref()))
        .and_then(|b| opt_str(b, "published_on", s.published_on.as_deref()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_product(buf: &mut Buffer, p: &Product, at: Timestamp) -> Result<()> {
    buf.table("products")
        .and_then(|b| b.symbol("game", p.game.slug()))
        .and_then(|b| b.column_i64("product_id", p.product_id.0 as i64))
        .and_then(|b| b.column_i64("category_id", i64::from(p.category_id.0)))
        .and_then(|b| b.column_i64("group_id", i64::from(p.group_id.0)))
        .and_then(|b| b.column_str("name", &p.name))
        .and_then(|b| opt_str(b, "clean_name", p.clean_name.as_deref()))
        .and_then(|b| opt_str(b, "number", p.number.as_deref()))
        .and_then(|b| opt_str(b, "rarity", p.rarity.as_deref()))
        .and_then(|b| opt_str(b, "image_url", p.image_url.as_deref()))
        .and_then(|b| opt_str(b, "url", p.url.as_deref()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_sku(buf: &mut Buffer, s: &Sku, at: Timestamp) -> Result<()> {
    buf.table("skus")
        .and_then(|b| b.column_i64("sku_id", s.sku_id.0 as i64))
        .and_then(|b| b.column_i64("product_id", s.product_id.0 as i64))
        .and_then(|b| b.column_str("printing", s.printing.as_str()))
        .and_then(|b| b.column_str("condition", s.condition.as_str()))
        .and_then(|b| b.column_str("language", s.language.as_str()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_portfolio(
    buf: &mut Buffer,
    p: &Portfolio,
    deleted: bool,
    at: Timestamp,
) -> Result<()> {
    buf.table("portfolios")
        .and_then(|b| b.symbol("portfolio_id", p.id.to_string()))
        .and_then(|b| b.symbol("owner", &p.owner.0))
        .and_then(|b| b.column_str("name", &p.name))
        .and_then(|b| b.column_ts("created_at", ts(p.created_at)))
        .and_then(|b| b.column_bool("deleted", deleted))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_holding(
    buf: &mut Buffer,
    portfolio_id: PortfolioId,
    holding_id: HoldingId,
    body: Option<&Holding>,
    at: Timestamp,
) -> Result<()> {
    let json = body
        .map(serde_json::to_string)
        .transpose()?
        .unwrap_or_default();
    buf.table("holdings")
        .and_then(|b| b.symbol("holding_id", holding_id.to_string()))
        .and_then(|b| b.symbol("portfolio_id", portfolio_id.to_string()))
        .and_then(|b| b.column_str("body", &json))
        .and_then(|b| b.column_bool("deleted", body.is_none()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_event(buf: &mut Buffer, e: &PortfolioEvent) -> Result<()> {
    let body = serde_json::to_string(e)?;
    buf.table("portfolio_events")
        .and_then(|b| b.symbol("portfolio_id", e.portfolio_id.to_string()))
        .and_then(|b| b.symbol("holding_id", e.holding_id.to_string()))
        .and_then(|b| b.column_str("event_id", e.id.to_string()))
        .and_then(|b| b.column_str("body", &body))
        .and_then(|b| b.at(ts(e.at)))
        .map_err(ilp_err)
}

pub fn encode_rule(
    buf: &mut Buffer,
    rule_id: RuleId,
    owner: &UserId,
    rule: Option<&AlertRule>,
    at: Timestamp,
) -> Result<()> {
    let json = rule
        .map(serde_json::to_string)
        .transpose()?
        .unwrap_or_default();
    buf.table("alert_rules")
        .and_then(|b| b.symbol("rule_id", rule_id.to_string()))
        .and_then(|b| b.symbol("owner", &owner.0))
        .and_then(|b| b.column_i64("product_id", rule.map_or(0, |r| r.product_id.0 as i64)))
        .and_then(|b| b.column_str("body", &json))
        .and_then(|b| b.column_bool("deleted", rule.is_none()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

// ---------------------------------------------------------------------------------------------
// The batching writer.

struct WriterState {
    sender: Option<Sender>,
    conf: String,
    buf: Buffer,
    rows: usize,
    oldest: Option<Instant>,
    last_background_error: Option<String>,
}

impl WriterState {
    fn sender(&mut self) -> Result<&mut Sender> {
        if self.sender.as_ref().is_none_or(Sender::must_close) {
            self.sender = Some(Sender::from_conf(&self.conf).map_err(ilp_err)?);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| StoreError::Ilp("no sender".into()))
    }

    /// Sends the buffer. On failure the rows stay in the buffer for the next flush.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 && self.buf.is_empty() {
            return Ok(());
        }
        let mut buf = std::mem::replace(&mut self.buf, Buffer::new(ProtocolVersion::V1));
        let res = self
            .sender()
            .and_then(|s| s.flush(&mut buf).map_err(ilp_err));
        self.buf = buf;
        match res {
            Ok(()) => {
                self.rows = 0;
                self.oldest = None;
                self.last_background_error = None;
                Ok(())
            }
            Err(e) => Err(StoreError::FlushFailed {
                pending_rows: self.rows,
                message: e.to_string(),
            }),
        }
    }
}

/// Batches ILP rows and flushes them by rows, bytes and age. Cloning shares the buffer.
#[derive(Clone)]
pub struct IlpWriter {
    state: Arc<Mutex<WriterState>>,
    max_rows: usize,
    max_bytes: usize,
    max_age: Duration,
}

impl std::fmt::Debug for IlpWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IlpWriter")
            .field("max_rows", &self.max_rows)
            .field("max_bytes", &self.max_bytes)
            .field("max_age", &self.max_age)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl IlpWriter {
    /// A writer for `config` (no connection is made until the first flush).
    pub fn new(config: &QuestDbConfig) -> Result<Self> {
        let conf = config.ilp_conf();
        // Validate the configuration now, so a typo fails at start, not at the first flush.
        let sender = Sender::from_conf(&conf).map_err(ilp_err)?;
        Ok(Self {
            state: Arc::new(Mutex::new(WriterState {
                sender: Some(sender),
                conf,
                buf: Buffer::new(ProtocolVersion::V1),
                rows: 0,
                oldest: None,
                last_background_error: None,
            })),
            max_rows: config.max_rows.max(1),
            max_bytes: config.max_bytes.max(1024),
            max_age: config.max_age,
        })
    }

    /// Rows waiting to be sent.
    pub fn pending_rows(&self) -> usize {
        lock(&self.state).rows
    }

    /// The pending ILP text (tests, diagnostics).
    pub fn pending_bytes(&self) -> Vec<u8> {
        lock(&self.state).buf.as_bytes().to_vec()
    }

    /// Encodes rows into the batch (all or none), then flushes when a limit is reached or when
    /// `flush_now`. Runs on the blocking pool.
    pub async fn append<F>(&self, rows: usize, flush_now: bool, encode: F) -> Result<()>
    where
        F: FnOnce(&mut Buffer) -> Result<()> + Send + 'static,
    {
        let state = self.state.clone();
        let (max_rows, max_bytes, max_age) = (self.max_rows, self.max_bytes, self.max_age);
        tokio::task::spawn_blocking(move || {
            let mut st = lock(&state);
            st.buf.set_marker().map_err(ilp_err)?;
            if let Err(e) = encode(&mut st.buf) {
                st.buf.rewind_to_marker().map_err(ilp_err)?;
                return Err(e);
            }
            st.buf.clear_marker();
            st.rows += rows;
            st.oldest.get_or_insert_with(Instant::now);
            let due = flush_now
                || st.rows >= max_rows
                || st.buf.len() >= max_bytes
                || st.oldest.is_some_and(|o| o.elapsed() >= max_age);
            if due { st.flush() } else { Ok(()) }
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Sends everything pending. On error the rows are kept for the next attempt.
    pub async fn flush(&self) -> Result<()> {
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || lock(&state).flush())
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// The error of the last background (age-triggered) flush, if it failed and nothing succeeded since.
    pub fn last_background_error(&self) -> Option<String> {
        lock(&self.state).last_background_error.clone()
    }

    /// Starts the age-based flusher on the current tokio runtime. It stops when the writer is dropped.
    pub fn spawn_age_flusher(&self) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Mutex<WriterState>> = Arc::downgrade(&self.state);
        let max_age = self.max_age;
        let period = (max_age / 2).max(Duration::from_millis(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(state) = weak.upgrade() else { break };
                let due = lock(&state).oldest.is_some_and(|o| o.elapsed() >= max_age);
                if !due {
                    continue;
                }
                let res = tokio::task::spawn_blocking(move || {
                    let mut st = lock(&state);
                    let r = st.flush();
                    if let Err(e) = &r {
                        st.last_background_error = Some(e.to_string());
                    }
                    r
                })
                .await;
                if let Ok(Err(e)) = res {
                    tracing::warn!(error = %e, "QuestDB background flush failed; rows kept for retry");
                }
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// SQL text. Values that come from callers are bound ($n); instants, our own vocabularies and
// numbers are written as literals by these functions (never caller text).

/// A bind value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Long(i64),
    Ts(NaiveDateTime),
}

impl Param {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Text(s) => s,
            Param::Long(v) => v,
            Param::Ts(t) => t,
        }
    }
}

/// A timestamp literal: `'2024-01-01T00:00:00.000000Z'`.
pub fn ts_lit(t: Timestamp) -> String {
    format!("'{}'", t.to_datetime().format("%Y-%m-%dT%H:%M:%S%.6fZ"))
}

/// A quoted literal of our own vocabulary (single quotes doubled).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn in_list(col: &str, items: &[String]) -> String {
    format!("{col} IN ({})", items.join(", "))
}

fn price_filter_sql(prices: &PriceFilter, prefix: &str) -> String {
    let mut s = String::new();
    if !prices.sources.is_empty() {
        let v: Vec<String> = prices.sources.iter().map(|x| lit(x.as_str())).collect();
        s.push_str(&format!(" AND {}", in_list(&format!("{prefix}source"), &v)));
    }
    if !prices.kinds.is_empty() {
        let v: Vec<String> = prices.kinds.iter().map(|x| lit(x.as_str())).collect();
        s.push_str(&format!(" AND {}", in_list(&format!("{prefix}kind"), &v)));
    }
    s
}

/// Latest price per (series, source, kind) of `n` bound series ids.
pub fn sql_latest(n: usize, prices: &PriceFilter) -> String {
    let binds: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!(
        "SELECT series, source, kind, observed_at, listing_id, price_cents, orig_minor, orig_currency FROM ticks WHERE {}{} LATEST ON observed_at PARTITION BY series, source, kind",
        in_list("series", &binds),
        price_filter_sql(prices, "")
    )
}

/// The (series, source, kind) combos of a product ($1) seen before `to`.
pub fn sql_product_series(prices: &PriceFilter, to: Timestamp) -> String {
    format!(
        "SELECT series, source, kind FROM ticks WHERE product_id = $1 AND observed_at < {}{} LATEST ON observed_at PARTITION BY series, source, kind",
        ts_lit(to),
        price_filter_sql(prices, "")
    )
}

/// The (source, kind) combos of one series ($1) seen before `to`.
pub fn sql_series_combos(prices: &PriceFilter, to: Timestamp) -> String {
    format!(
        "SELECT series, source, kind FROM ticks WHERE series = $1 AND observed_at < {}{} LATEST ON observed_at PARTITION BY series, source, kind",
        ts_lit(to),
        price_filter_sql(prices, "")
    )
}

/// Candles of one (series $1, source $2, kind $3) over `[from, to)`; `from` is bucket-aligned.
/// Every bucket of the range comes back (`FROM … TO … FILL(NULL)`); the caller fills from the
/// previous close where asked.
pub fn sql_candles(interval: Interval, from: Timestamp, to: Timestamp) -> String {
    format!(
        "SELECT observed_at, first(price_cents) open, max(price_cents) high, min(price_cents) low, last(price_cents) close, count() n \
FROM ticks WHERE series = $1 AND source = $2 AND kind = $3 AND observed_at >= {f} AND observed_at < {t} \
SAMPLE BY {u} FROM {f} TO {t} FILL(NULL) ALIGN TO CALENDAR",
        f = ts_lit(from),
        t = ts_lit(to),
        u = interval.questdb_unit()
    )
}

/// The last price of (series $1, source $2, kind $3) strictly before `before`.
pub fn sql_prev_close(before: Timestamp) -> String {
    format!(
        "SELECT observed_at, price_cents FROM ticks WHERE series = $1 AND source = $2 AND kind = $3 AND observed_at < {} LIMIT -1",
        ts_lit(before)
    )
}

/// Movers: the latest price at `as_of` joined with the latest price at `since`, per (series,
/// source, kind). Filters run before LATEST ON (they are constant per series).
pub fn sql_movers(q: &MoversQuery) -> String {
    let mut filt = price_filter_sql(&q.prices, "");
    if let Some(g) = q.game {
        filt.push_str(&format!(" AND game = {}", lit(&g.slug())));
    }
    format!(
        "WITH now_px AS (SELECT series, source, kind, product_id, observed_at, price_cents FROM ticks WHERE observed_at <= {a}{filt} LATEST ON observed_at PARTITION BY series, source, kind), \
then_px AS (SELECT series, source, kind, observed_at, price_cents FROM ticks WHERE observed_at > {lb} AND observed_at <= {s}{filt} LATEST ON observed_at PARTITION BY series, source, kind) \
SELECT n.series, n.product_id, n.source, n.kind, t.observed_at start_at, t.price_cents start_cents, n.observed_at end_at, n.price_cents end_cents \
FROM now_px n JOIN then_px t ON n.series = t.series AND n.source = t.source AND n.kind = t.kind",
        a = ts_lit(q.as_of),
        s = ts_lit(q.since),
        lb = ts_lit(q.since.minus_secs(q.start_lookback_secs.max(1))),
    )
}

/// Product ids of a set ($1), newest catalog state.
pub fn sql_set_products() -> String {
    "SELECT product_id FROM (SELECT * FROM products LATEST ON updated_at PARTITION BY product_id) WHERE group_id = $1".into()
}

/// The price of one series ($1) at each instant of `instants` (ascending): an ASOF JOIN of a
/// generated time grid with the series' ticks.
pub fn sql_valuation_asof(instants: &[Timestamp], prices: &PriceFilter) -> String {
    let grid = match instants {
        [] => "SELECT CAST(0 AS TIMESTAMP) ts FROM long_sequence(0)".to_owned(),
        [first, rest @ ..] => {
            // Evenly spaced instants: arithmetic on microseconds; otherwise a literal list.
            let step = rest
                .first()
                .map_or(0, |s| s.as_micros() - first.as_micros());
            let even = instants
                .windows(2)
                .all(|w| w[1].as_micros() - w[0].as_micros() == step);
            if even {
                format!(
                    "SELECT CAST({} + (x - 1) * {} AS TIMESTAMP) ts FROM long_sequence({})",
                    first.as_micros(),
                    step,
                    instants.len()
                )
            } else {
                instants
                    .iter()
                    .map(|t| {
                        format!(
                            "SELECT CAST({} AS TIMESTAMP) ts FROM long_sequence(1)",
                            t.as_micros()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ")
            }
        }
    };
    format!(
        "SELECT g.ts, p.observed_at, p.price_cents FROM (({grid}) timestamp(ts)) g \
ASOF JOIN (SELECT observed_at, price_cents FROM ticks WHERE series = $1{}) p",
        price_filter_sql(prices, "")
    )
}

/// Catalog search over the newest product states; returns the SQL and its binds.
pub fn sql_search(q: &CatalogQuery) -> Result<(String, Vec<Param>)> {
    let mut sql = String::from(
        "SELECT product_id, category_id, group_id, game, name, clean_name, number, rarity, image_url, url \
FROM (SELECT * FROM products LATEST ON updated_at PARTITION BY product_id) WHERE name IS NOT NULL",
    );
    let mut args = Vec::new();
    let mut bind = |sql: &mut String, text: &str, p: Param| {
        args.push(p);
        sql.push_str(&text.replace("$?", &format!("${}", args.len())));
    };
    if let Some(name) = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        bind(
            &mut sql,
            " AND name ILIKE $?",
            Param::Text(format!("%{}%", like_escape(name))),
        );
    }
    if let Some(number) = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        bind(
            &mut sql,
            " AND (lower(number) = lower($?)",
            Param::Text(number.to_owned()),
        );
        bind(
            &mut sql,
            " OR number ILIKE $?)",
            Param::Text(format!("{}/%", like_escape(number))),
        );
    }
    if let Some(g) = q.group_id {
        bind(&mut sql, " AND group_id = $?", Param::Long(i64::from(g.0)));
    }
    if let Some(g) = q.game {
        sql.push_str(&format!(" AND game = {}", lit(&g.slug())));
    }
    if let Some(c) = &q.cursor {
        let (name, id) = decode_cursor(c)?;
        bind(
            &mut sql,
            " AND (lower(name) > lower($?)",
            Param::Text(name.clone()),
        );
        bind(&mut sql, " OR (lower(name) = lower($?)", Param::Text(name));
        bind(&mut sql, " AND product_id > $?))", Param::Long(id as i64));
    }
    sql.push_str(&format!(
        " ORDER BY lower(name), product_id LIMIT {}",
        q.limit.clamp(1, 500) + 1
    ));
    Ok((sql, args))
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Newest state of a mutable table, deleted rows dropped: `(… LATEST ON … PARTITION BY id) WHERE deleted = false`.
pub fn sql_newest(table: &str, id: &str, columns: &str, filter: &str) -> String {
    format!(
        "SELECT {columns} FROM (SELECT * FROM {table} LATEST ON updated_at PARTITION BY {id}) WHERE deleted = false{filter}"
    )
}

/// WAL tables whose writes are not all applied yet.
pub fn sql_wal_pending() -> String {
    let names: Vec<String> = TABLES.iter().map(|t| lit(t)).collect();
    format!(
        "SELECT count() FROM wal_tables() WHERE {} AND writerTxn <> sequencerTxn",
        in_list("name", &names)
    )
}

// ---------------------------------------------------------------------------------------------
// The store.

/// The QuestDB store: ILP/HTTP writes, PGWire reads.
pub struct QuestDbStore {
    writer: IlpWriter,
    pg: Client,
    config: QuestDbConfig,
    clock: Mutex<i64>,
    _flusher: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for QuestDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuestDbStore")
            .field("http_addr", &self.config.http_addr)
            .finish()
    }
}

impl Drop for QuestDbStore {
    fn drop(&mut self) {
        self._flusher.abort();
    }
}

fn naive(t: Timestamp) -> NaiveDateTime {
    t.to_datetime().naive_utc()
}

fn from_naive(t: NaiveDateTime) -> Timestamp {
    Timestamp::from_micros(t.and_utc().timestamp_micros())
}

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn source_of(s: &str) -> Result<Source> {
    Source::parse(s).ok_or_else(|| corrupt(format!("unknown source {s:?}")))
}

fn kind_of(s: &str) -> Result<PriceKind> {
    PriceKind::parse(s).ok_or_else(|| corrupt(format!("unknown kind {s:?}")))
}

fn bodies<T: serde::de::DeserializeOwned>(rows: &[Row]) -> Result<Vec<T>> {
    rows.iter()
        .map(|r| {
            let b: String = r.try_get(0)?;
            Ok(serde_json::from_str(&b)?)
        })
        .collect()
}

impl QuestDbStore {
    /// Connects PGWire, creates the tables (`CREATE TABLE IF NOT EXISTS`) and starts the age flusher.
    /// Call inside a tokio runtime.
    pub async fn connect(config: QuestDbConfig) -> Result<Self> {
        let (pg, conn) = tokio_postgres::connect(&config.pg_url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(error = %e, "QuestDB PGWire connection closed");
            }
        });
        for stmt in ddl_statements() {
            pg.simple_query(&stmt).await?;
        }
        let writer = IlpWriter::new(&config)?;
        let flusher = writer.spawn_age_flusher();
        Ok(Self {
            writer,
            pg,
            config,
            clock: Mutex::new(0),
            _flusher: flusher,
        })
    }

    /// The ILP writer (pending rows, diagnostics).
    pub fn writer(&self) -> &IlpWriter {
        &self.writer
    }

    /// A strictly increasing wall-clock instant for newest-state rows.
    fn now(&self) -> Timestamp {
        let wall = chrono::Utc::now().timestamp_micros();
        let mut last = lock(&self.clock);
        *last = wall.max(*last + 1);
        Timestamp::from_micros(*last)
    }

    async fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
        Ok(self.pg.query(sql, &p).await?)
    }

    async fn combos_of(
        &self,
        target: &SeriesTarget,
        prices: &PriceFilter,
        to: Timestamp,
    ) -> Result<Vec<(String, Source, PriceKind)>> {
        let rows = match target {
            SeriesTarget::Series(id) => {
                self.query(&sql_series_combos(prices, to), &[Param::Text(id.clone())])
                    .await?
            }
            SeriesTarget::Product { product_id, .. } => {
                self.query(
                    &sql_product_series(prices, to),
                    &[Param::Long(product_id.0 as i64)],
                )
                .await?
            }
        };
        let mut out = Vec::new();
        for r in rows {
            let series: String = r.try_get(0)?;
            if let SeriesTarget::Product { selection, .. } = target
                && !series
                    .parse::<SeriesKey>()
                    .is_ok_and(|k| selection.matches(&k))
            {
                continue;
            }
            out.push((
                series,
                source_of(&r.try_get::<_, String>(1)?)?,
                kind_of(&r.try_get::<_, String>(2)?)?,
            ));
        }
        out.sort();
        Ok(out)
    }

    async fn newest_bodies<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        id: &str,
        filter: &str,
        params: &[Param],
    ) -> Result<Vec<T>> {
        let rows = self
            .query(&sql_newest(table, id, "body", filter), params)
            .await?;
        bodies(&rows)
    }

    async fn price_book(
        &self,
        holdings: &[Holding],
        instants: &[Timestamp],
        price: &ValuationPrice,
    ) -> Result<PriceBook> {
        let mut book = PriceBook::default();
        let mut seen = std::collections::HashSet::new();
        let sql = sql_valuation_asof(instants, &price.prices);
        for h in holdings {
            let id = h.series().id();
            if !seen.insert(id.clone()) {
                continue;
            }
            for r in self.query(&sql, &[Param::Text(id.clone())]).await? {
                let (Some(at), Some(c)) = (
                    r.try_get::<_, Option<NaiveDateTime>>(1)?,
                    r.try_get::<_, Option<i64>>(2)?,
                ) else {
                    continue;
                };
                book.insert(&id, from_naive(at).as_micros(), c);
            }
        }
        book.seal();
        Ok(book)
    }
}

fn product_of(r: &Row) -> Result<Product> {
    let category = CategoryId(u32::try_from(r.try_get::<_, i64>(1)?).map_err(corrupt)?);
    let game: Option<String> = r.try_get(3)?;
    Ok(Product {
        product_id: ProductId(r.try_get::<_, i64>(0)? as u64),
        category_id: category,
        group_id: GroupId(u32::try_from(r.try_get::<_, i64>(2)?).map_err(corrupt)?),
        game: game
            .as_deref()
            .and_then(Game::parse)
            .unwrap_or(Game::from_category(category)),
        name: r.try_get(4)?,
        clean_name: r.try_get(5)?,
        number: r.try_get(6)?,
        rarity: r.try_get(7)?,
        image_url: r.try_get(8)?,
        url: r.try_get(9)?,
    })
}

#[async_trait]
impl Store for QuestDbStore {
    fn backend(&self) -> &'static str {
        "questdb"
    }

    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport> {
        let ticks = ticks.to_vec();
        let n = ticks.len();
        self.writer
            .append(n, false, move |buf| {
                ticks.iter().try_for_each(|t| encode_tick(buf, t))
            })
            .await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn flush(&self) -> Result<()> {
        self.writer.flush().await
    }

    async fn sync(&self) -> Result<()> {
        self.writer.flush().await?;
        let deadline = Instant::now() + self.config.visibility_timeout;
        let sql = sql_wal_pending();
        loop {
            let rows = self.pg.query(&sql, &[]).await?;
            let pending: i64 = rows.first().map(|r| r.try_get(0)).transpose()?.unwrap_or(0);
            if pending == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Timeout(format!(
                    "{pending} WAL tables not applied"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        let alerts = alerts.to_vec();
        let n = alerts.len();
        self.writer
            .append(n, true, move |buf| {
                alerts.iter().try_for_each(|a| encode_alert(buf, a))
            })
            .await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()> {
        let (sets, at) = (sets.to_vec(), self.now());
        self.writer
            .append(sets.len(), true, move |buf| {
                sets.iter().try_for_each(|s| encode_set(buf, s, at))
            })
            .await
    }

    async fn upsert_products(&self, products: &[Product]) -> Result<()> {
        let (products, at) = (products.to_vec(), self.now());
        self.writer
            .append(products.len(), true, move |buf| {
                products.iter().try_for_each(|p| encode_product(buf, p, at))
            })
            .await
    }

    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()> {
        let (skus, at) = (skus.to_vec(), self.now());
        self.writer
            .append(skus.len(), true, move |buf| {
                skus.iter().try_for_each(|s| encode_sku(buf, s, at))
            })
            .await
    }

    async fn upsert_portfolio(&self, p: &Portfolio) -> Result<()> {
        let (p, at) = (p.clone(), self.now());
        self.writer
            .append(1, true, move |buf| encode_portfolio(buf, &p, false, at))
            .await
    }

    async fn delete_portfolio(&self, p: &Portfolio) -> Result<()> {
        let (p, at) = (p.clone(), self.now());
        self.writer
            .append(1, true, move |buf| encode_portfolio(buf, &p, true, at))
            .await
    }

    async fn upsert_holding(&self, h: &Holding) -> Result<()> {
        let (h, at) = (h.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_holding(buf, h.portfolio_id, h.id, Some(&h), at)
            })
            .await
    }

    async fn delete_holding(&self, portfolio_id: PortfolioId, holding_id: HoldingId) -> Result<()> {
        let at = self.now();
        self.writer
            .append(1, true, move |buf| {
                encode_holding(buf, portfolio_id, holding_id, None, at)
            })
            .await
    }

    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport> {
        let events = events.to_vec();
        let n = events.len();
        self.writer
            .append(n, true, move |buf| {
                events.iter().try_for_each(|e| encode_event(buf, e))
            })
            .await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()> {
        let (rule, at) = (rule.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_rule(buf, rule.id, &rule.owner, Some(&rule), at)
            })
            .await
    }

    async fn delete_rule(&self, rule_id: RuleId, owner: &UserId) -> Result<()> {
        let (owner, at) = (owner.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_rule(buf, rule_id, &owner, None, at)
            })
            .await
    }

    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>> {
        if series_ids.is_empty() {
            return Ok(Vec::new());
        }
        let params: Vec<Param> = series_ids.iter().map(|s| Param::Text(s.clone())).collect();
        let rows = self
            .query(&sql_latest(series_ids.len(), prices), &params)
            .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(LatestPrice {
                    series_id: r.try_get(0)?,
                    source: source_of(&r.try_get::<_, String>(1)?)?,
                    kind: kind_of(&r.try_get::<_, String>(2)?)?,
                    observed_at: from_naive(r.try_get(3)?),
                    listing_id: r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
                    price_usd: Money::usd_cents(r.try_get(5)?),
                    original: Money::new(
                        r.try_get(6)?,
                        Currency::parse(&r.try_get::<_, String>(7)?).map_err(corrupt)?,
                    ),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Same order as the SQLite store: request order, then source and kind.
        out.sort_by_key(|l| {
            (
                series_ids.iter().position(|s| *s == l.series_id),
                l.source,
                l.kind,
            )
        });
        Ok(out)
    }

    async fn candles(&self, q: &CandleQuery) -> Result<Vec<SeriesCandles>> {
        if q.to <= q.from {
            return Err(StoreError::InvalidQuery("candles need from < to".into()));
        }
        let start = q.interval.floor(q.from);
        let mut out = Vec::new();
        for (series, s, k) in self.combos_of(&q.target, &q.prices, q.to).await? {
            let p = [
                Param::Text(series.clone()),
                Param::Text(s.as_str().into()),
                Param::Text(k.as_str().into()),
            ];
            let prev = self
                .query(&sql_prev_close(start), &p)
                .await?
                .first()
                .map(|r| r.try_get::<_, i64>(1))
                .transpose()?;
            let mut buckets = Vec::new();
            for r in self
                .query(&sql_candles(q.interval, start, q.to), &p)
                .await?
            {
                let Some(open) = r.try_get::<_, Option<i64>>(1)? else {
                    continue;
                };
                let at = from_naive(r.try_get(0)?);
                buckets.push(RawBucket {
                    start: q.interval.floor(at),
                    open,
                    high: r.try_get::<_, Option<i64>>(2)?.unwrap_or(open),
                    low: r.try_get::<_, Option<i64>>(3)?.unwrap_or(open),
                    close: r.try_get::<_, Option<i64>>(4)?.unwrap_or(open),
                    count: u64::try_from(r.try_get::<_, Option<i64>>(5)?.unwrap_or(0)).unwrap_or(0),
                });
            }
            out.push(SeriesCandles {
                series_id: series,
                source: s,
                kind: k,
                candles: fill_candles(q.interval, q.from, q.to, &buckets, prev, q.fill),
            });
        }
        Ok(out)
    }

    async fn movers(&self, q: &MoversQuery) -> Result<Movers> {
        let in_set: Option<std::collections::HashSet<i64>> = match q.group_id {
            Some(g) => Some(
                self.query(&sql_set_products(), &[Param::Long(i64::from(g.0))])
                    .await?
                    .iter()
                    .map(|r| r.try_get::<_, i64>(0))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            None => None,
        };
        let mut rows = Vec::new();
        for r in self.query(&sql_movers(q), &[]).await? {
            let pid: i64 = r.try_get(1)?;
            if in_set.as_ref().is_some_and(|s| !s.contains(&pid)) {
                continue;
            }
            let (start, end): (i64, i64) = (r.try_get(5)?, r.try_get(7)?);
            rows.push(Mover {
                series_id: r.try_get(0)?,
                product_id: ProductId(pid as u64),
                source: source_of(&r.try_get::<_, String>(2)?)?,
                kind: kind_of(&r.try_get::<_, String>(3)?)?,
                start_usd: Money::usd_cents(start),
                start_at: from_naive(r.try_get(4)?),
                end_usd: Money::usd_cents(end),
                end_at: from_naive(r.try_get(6)?),
                change_bps: movers::change_bps(start, end),
            });
        }
        Ok(movers::rank(rows, q.limit, q.min_start_cents))
    }

    async fn portfolio_value(
        &self,
        portfolio_id: PortfolioId,
        at: Timestamp,
        price: &ValuationPrice,
    ) -> Result<PortfolioValuation> {
        let holdings = self.holdings(portfolio_id).await?;
        let events = self.portfolio_events(portfolio_id).await?;
        let book = self.price_book(&holdings, &[at], price).await?;
        Ok(valuation::value_at(&holdings, &events, &book, at))
    }

    async fn portfolio_history(
        &self,
        portfolio_id: PortfolioId,
        from: Timestamp,
        to: Timestamp,
        interval: Interval,
        price: &ValuationPrice,
    ) -> Result<Vec<ValuationPoint>> {
        if to <= from {
            return Err(StoreError::InvalidQuery("history needs from < to".into()));
        }
        let holdings = self.holdings(portfolio_id).await?;
        let events = self.portfolio_events(portfolio_id).await?;
        let buckets = bucket_pairs(interval, from, to);
        let instants: Vec<Timestamp> = buckets
            .iter()
            .map(|b| Timestamp::from_micros(b.1.as_micros() - 1))
            .collect();
        let book = self.price_book(&holdings, &instants, price).await?;
        Ok(valuation::history(&holdings, &events, &book, &buckets))
    }

    async fn search_catalog(&self, q: &CatalogQuery) -> Result<CatalogPage> {
        let (sql, params) = sql_search(q)?;
        let limit = q.limit.clamp(1, 500);
        let mut items = self
            .query(&sql, &params)
            .await?
            .iter()
            .map(product_of)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|p| encode_cursor(&p.name, p.product_id))
        } else {
            None
        };
        Ok(CatalogPage { items, next_cursor })
    }

    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>> {
        let target = SeriesTarget::Product {
            product_id,
            selection: SeriesSelection::default(),
        };
        let mut ids: Vec<String> = self
            .combos_of(
                &target,
                &PriceFilter::any(),
                Timestamp::from_secs(253_402_300_799),
            )
            .await?
            .into_iter()
            .map(|c| c.0)
            .collect();
        ids.dedup();
        Ok(ids)
    }

    async fn product(&self, product_id: ProductId) -> Result<Option<Product>> {
        let sql = "SELECT product_id, category_id, group_id, game, name, clean_name, number, rarity, image_url, url FROM products WHERE product_id = $1 LIMIT -1";
        self.query(sql, &[Param::Long(product_id.0 as i64)])
            .await?
            .first()
            .map(product_of)
            .transpose()
    }

    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>> {
        let filter = game
            .map(|g| format!(" WHERE game = {}", lit(&g.slug())))
            .unwrap_or_default();
        let sql = format!(
            "SELECT group_id, category_id, game, name, abbreviation, published_on FROM (SELECT * FROM card_sets LATEST ON updated_at PARTITION BY group_id){filter} ORDER BY lower(name), group_id"
        );
        self.query(&sql, &[])
            .await?
            .iter()
            .map(|r| {
                let cat = CategoryId(u32::try_from(r.try_get::<_, i64>(1)?).map_err(corrupt)?);
                Ok(CardSet {
                    group_id: GroupId(u32::try_from(r.try_get::<_, i64>(0)?).map_err(corrupt)?),
                    category_id: cat,
                    game: r
                        .try_get::<_, Option<String>>(2)?
                        .as_deref()
                        .and_then(Game::parse)
                        .unwrap_or(Game::from_category(cat)),
                    name: r.try_get(3)?,
                    abbreviation: r.try_get(4)?,
                    published_on: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>> {
        let sql = "SELECT sku_id, product_id, printing, condition, language FROM (SELECT * FROM skus LATEST ON updated_at PARTITION BY sku_id) WHERE product_id = $1 ORDER BY sku_id";
        self.query(sql, &[Param::Long(product_id.0 as i64)])
            .await?
            .iter()
            .map(|r| {
                Ok(Sku {
                    sku_id: SkuId(r.try_get::<_, i64>(0)? as u64),
                    product_id: ProductId(r.try_get::<_, i64>(1)? as u64),
                    printing: tcg_schemas::Printing::parse(&r.try_get::<_, String>(2)?),
                    condition: tcg_schemas::Condition::parse(&r.try_get::<_, String>(3)?),
                    language: tcg_schemas::Language::parse(&r.try_get::<_, String>(4)?),
                })
            })
            .collect()
    }

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>> {
        let sql = sql_newest(
            "portfolios",
            "portfolio_id",
            "portfolio_id, owner, name, created_at",
            " AND owner = $1 ORDER BY created_at, portfolio_id",
        );
        self.query(&sql, &[Param::Text(owner.0.clone())])
            .await?
            .iter()
            .map(|r| {
                Ok(Portfolio {
                    id: r.try_get::<_, String>(0)?.parse().map_err(corrupt)?,
                    owner: UserId(r.try_get(1)?),
                    name: r.try_get(2)?,
                    created_at: from_naive(r.try_get(3)?),
                })
            })
            .collect()
    }

    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>> {
        self.newest_bodies(
            "holdings",
            "holding_id",
            " AND portfolio_id = $1 ORDER BY holding_id",
            &[Param::Text(portfolio_id.to_string())],
        )
        .await
    }

    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
        let rows = self
            .query(
                "SELECT body FROM portfolio_events WHERE portfolio_id = $1 ORDER BY at, event_id",
                &[Param::Text(portfolio_id.to_string())],
            )
            .await?;
        bodies(&rows)
    }

    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>> {
        match owner {
            Some(o) => {
                self.newest_bodies(
                    "alert_rules",
                    "rule_id",
                    " AND owner = $1 ORDER BY rule_id",
                    &[Param::Text(o.0.clone())],
                )
                .await
            }
            None => {
                self.newest_bodies("alert_rules", "rule_id", " ORDER BY rule_id", &[])
                    .await
            }
        }
    }

    async fn alerts(&self, owner: &UserId, limit: usize) -> Result<Vec<AlertEvent>> {
        let sql = format!(
            "SELECT body FROM alerts WHERE owner = $1 ORDER BY observed_at DESC, alert_id LIMIT {}",
            limit.max(1)
        );
        let rows = self.query(&sql, &[Param::Text(owner.0.clone())]).await?;
        bodies(&rows)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<QuestDbStore>();
    f::<IlpWriter>();
    let _ = naive;
}
