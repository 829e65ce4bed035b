//! The embedded store: one SQLite file in WAL mode. One writer connection and a few reader
//! connections; every call runs on tokio's blocking pool, never on the async workers.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use tcg_schemas::{
    AlertEvent, AlertRule, CardSet, CategoryId, Currency, Game, GroupId, Holding, HoldingId, Money,
    Portfolio, PortfolioEvent, PortfolioId, PriceKind, Product, ProductId, RuleId, SeriesKey, Sku,
    SkuId, Source, Tick, Timestamp, UserId,
};

use tcg_schemas::time::MICROS_PER_DAY;

use crate::{
    Interval, Result, Store, StoreError, bucket_pairs,
    codes::{kind_code, kind_from_code, source_code, source_from_code},
    interval::{aggregate, fill_candles},
    model::*,
    movers,
    valuation::{self, PriceBook},
};

/// The migrations, in order; `PRAGMA user_version` is the number applied.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../../schemas/sql/sqlite/0001_init.sql"),
    include_str!("../../../schemas/sql/sqlite/0002_accounts.sql"),
    include_str!("../../../schemas/sql/sqlite/0003_webhook_delivery.sql"),
];

/// Tuning of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Reader connections (reads run in parallel with the writer thanks to WAL).
    pub readers: usize,
    /// Page cache per connection, MiB.
    pub cache_mib: i64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            readers: 2,
            cache_mib: 64,
        }
    }
}

pub(crate) struct Writer {
    pub(crate) conn: Connection,
    sids: HashMap<String, i64>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// The embedded SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn configure(conn: &Connection, cache_mib: i64) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{};",
        cache_mib.max(1) * 1024
    ))?;
    Ok(())
}

/// Switches the file to WAL and returns the journal mode it is in. SQLite answers "busy" at once,
/// without its busy handler, while another connection is switching the same new file: that is
/// retried for as long as the busy timeout.
fn switch_to_wal(conn: &Connection) -> Result<String> {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < give_up =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return Ok(other?),
        }
    }
}

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

fn to_i64(v: u64) -> i64 {
    v as i64
}

fn to_u64(v: i64) -> u64 {
    v as u64
}

fn usd_cents(m: &Money, what: &str) -> Result<i64> {
    if m.currency != Currency::USD {
        return Err(StoreError::InvalidTick(format!(
            "{what} is in {}, not USD",
            m.currency
        )));
    }
    Ok(m.minor)
}

fn ccy(text: &str) -> Result<Currency> {
    Currency::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SqliteOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open(&path)?;
        // Before anything that takes a lock: another process opening the same new file at the
        // same moment (switching it to WAL, migrating) is waited for, not an error.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode = switch_to_wal(&conn)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Migration(format!(
                "journal_mode is {mode}, WAL is required"
            )));
        }
        configure(&conn, options.cache_mib)?;
        migrate(&mut conn)?;
        let mut readers = Vec::new();
        for _ in 0..options.readers.max(1) {
            let r = Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&r, options.cache_mib)?;
            readers.push(Mutex::new(r));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(Writer {
                    conn,
                    sids: HashMap::new(),
                }),
                readers,
                next: AtomicUsize::new(0),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(lock(&self.inner.writer)
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub(crate) async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let i = inner.next.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = lock(&inner.readers[i]);
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    pub(crate) async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.writer)))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// The blocking tick write (what [`Store::write_ticks`] runs on the blocking pool).
    pub fn write_ticks_blocking(&self, ticks: &[Tick]) -> Result<WriteReport> {
        let rows = ticks
            .iter()
            .map(TickRow::from_tick)
            .collect::<Result<Vec<_>>>()?;
        write_rows(&mut lock(&self.inner.writer), &rows)
    }

    /// Runs `f` on a reader connection on the calling thread (benchmarks, tools).
    pub fn with_reader<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let i = self.inner.next.fetch_add(1, Ordering::Relaxed) % self.inner.readers.len();
        f(&lock(&self.inner.readers[i]))
    }
}

/// A tick flattened for the tables.
#[derive(Debug, Clone)]
pub(crate) struct TickRow {
    pub(crate) series_id: String,
    pub(crate) product_id: i64,
    pub(crate) game: String,
    pub(crate) series: SeriesKey,
    pub(crate) source: i64,
    pub(crate) kind: i64,
    pub(crate) ts: i64,
    pub(crate) listing_id: String,
    pub(crate) price_cents: i64,
    pub(crate) orig_minor: i64,
    pub(crate) orig_ccy: Currency,
    pub(crate) ship: Option<Money>,
    pub(crate) confidence: Option<u8>,
    pub(crate) heartbeat: bool,
}

impl TickRow {
    pub(crate) fn from_tick(t: &Tick) -> Result<Self> {
        Ok(Self {
            series_id: t.series_id.clone(),
            product_id: to_i64(t.series.product_id().0),
            game: t.game.slug(),
            series: t.series.clone(),
            source: source_code(t.source),
            kind: kind_code(t.kind),
            ts: t.observed_at.as_micros(),
            listing_id: t.listing_id.clone().unwrap_or_default(),
            price_cents: usd_cents(&t.price_usd, "price_usd")?,
            orig_minor: t.original.minor,
            orig_ccy: t.original.currency,
            ship: t.shipping,
            confidence: t.confidence,
            heartbeat: t.heartbeat,
        })
    }
}

fn series_sid(conn: &Connection, sids: &mut HashMap<String, i64>, row: &TickRow) -> Result<i64> {
    if let Some(sid) = sids.get(&row.series_id) {
        return Ok(*sid);
    }
    let (graded, printing, condition, language, grader, grade) = match &row.series {
        SeriesKey::Sku {
            printing,
            condition,
            language,
            ..
        } => (
            0,
            Some(printing.as_str().to_owned()),
            Some(condition.as_str().to_owned()),
            Some(language.as_str().to_owned()),
            None,
            None,
        ),
        SeriesKey::Graded { grader, grade, .. } => (
            1,
            None,
            None,
            None,
            Some(grader.as_str().to_owned()),
            Some(grade.to_string()),
        ),
    };
    conn
        .prepare_cached(
            "INSERT OR IGNORE INTO series (series_id, product_id, game, graded, printing, condition, language, grader, grade)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![row.series_id, row.product_id, row.game, graded, printing, condition, language, grader, grade])?;
    let sid: i64 = conn
        .prepare_cached("SELECT sid FROM series WHERE series_id = ?1")?
        .query_row([&row.series_id], |r| r.get(0))?;
    sids.insert(row.series_id.clone(), sid);
    Ok(sid)
}

fn write_rows(w: &mut Writer, rows: &[TickRow]) -> Result<WriteReport> {
    let res = write_rows_tx(w, rows);
    if res.is_err() {
        // A rolled-back transaction may have taken series ids with it.
        w.sids.clear();
    }
    res
}

fn write_rows_tx(w: &mut Writer, rows: &[TickRow]) -> Result<WriteReport> {
    let mut sids = Vec::with_capacity(rows.len());
    let tx = w.conn.unchecked_transaction()?;
    for r in rows {
        sids.push(series_sid(&tx, &mut w.sids, r)?);
    }
    let mut new_rows = 0usize;
    {
        let mut ins = tx.prepare_cached(
            "INSERT OR IGNORE INTO ticks (day, sid, source, kind, ts, listing_id, price_cents, orig_minor, orig_ccy, ship_minor, ship_ccy, confidence, heartbeat)
             VALUES (?13, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut latest = tx.prepare_cached(
            "INSERT INTO latest (sid, source, kind, first_ts, ts, listing_id, price_cents, orig_minor, orig_ccy)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (sid, source, kind) DO UPDATE SET
               first_ts = min(latest.first_ts, excluded.first_ts),
               ts = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.ts ELSE latest.ts END,
               listing_id = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.listing_id ELSE latest.listing_id END,
               price_cents = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.price_cents ELSE latest.price_cents END,
               orig_minor = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.orig_minor ELSE latest.orig_minor END,
               orig_ccy = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.orig_ccy ELSE latest.orig_ccy END",
        )?;
        for (r, sid) in rows.iter().zip(&sids) {
            let n = ins.execute(params![
                sid,
                r.source,
                r.kind,
                r.ts,
                r.listing_id,
                r.price_cents,
                r.orig_minor,
                r.orig_ccy.as_str(),
                r.ship.map(|s| s.minor),
                r.ship.map(|s| s.currency.as_str().to_owned()),
                r.confidence,
                r.heartbeat,
                r.ts.div_euclid(MICROS_PER_DAY)
            ])?;
            if n == 1 {
                new_rows += 1;
                latest.execute(params![
                    sid,
                    r.source,
                    r.kind,
                    r.ts,
                    r.listing_id,
                    r.price_cents,
                    r.orig_minor,
                    r.orig_ccy.as_str()
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(WriteReport {
        rows: rows.len(),
        new_rows: Some(new_rows),
    })
}

/// `(sid, series_id)` of the target.
fn target_series(conn: &Connection, target: &SeriesTarget) -> Result<Vec<(i64, String)>> {
    match target {
        SeriesTarget::Series(id) => Ok(conn
            .prepare_cached("SELECT sid, series_id FROM series WHERE series_id = ?1")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?),
        SeriesTarget::Product {
            product_id,
            selection,
        } => {
            let all = conn
                .prepare_cached(
                    "SELECT sid, series_id FROM series WHERE product_id = ?1 ORDER BY series_id",
                )?
                .query_map([to_i64(product_id.0)], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(all
                .into_iter()
                .filter(|(_, id)| id.parse::<SeriesKey>().is_ok_and(|k| selection.matches(&k)))
                .collect())
        }
    }
}

/// The (source, kind) combos a series has, filtered.
fn combos(conn: &Connection, sid: i64, prices: &PriceFilter) -> Result<Vec<(Source, PriceKind)>> {
    let raw = conn
        .prepare_cached("SELECT source, kind FROM latest WHERE sid = ?1 ORDER BY source, kind")?
        .query_map([sid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (s, k) in raw {
        let (s, k) = (source_from_code(s)?, kind_from_code(k)?);
        if prices.matches(s, k) {
            out.push((s, k));
        }
    }
    Ok(out)
}

/// `(first_ts, ts, price_cents)` of a (series, source, kind) from the `latest` table.
fn bounds(conn: &Connection, sid: i64, s: Source, k: PriceKind) -> Result<Option<(i64, i64, i64)>> {
    Ok(conn
        .prepare_cached("SELECT first_ts, ts, price_cents FROM latest WHERE sid = ?1 AND source = ?2 AND kind = ?3")?
        .query_row(params![sid, source_code(s), kind_code(k)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// The last `(ts, cents)` at or before `t`: the `latest` row when it is not after `t`, otherwise one
/// seek per day going back (bounded by the first tick of the series).
pub(crate) fn last_before(
    conn: &Connection,
    sid: i64,
    s: Source,
    k: PriceKind,
    t: i64,
) -> Result<Option<(i64, i64)>> {
    let Some((first, last, cents)) = bounds(conn, sid, s, k)? else {
        return Ok(None);
    };
    if t < first {
        return Ok(None);
    }
    if last <= t {
        return Ok(Some((last, cents)));
    }
    let mut st = conn.prepare_cached(
        "SELECT ts, price_cents FROM ticks WHERE day = ?1 AND sid = ?2 AND source = ?3 AND kind = ?4 AND ts <= ?5
         ORDER BY ts DESC, listing_id DESC LIMIT 1",
    )?;
    let (sc, kc) = (source_code(s), kind_code(k));
    let mut day = t.div_euclid(MICROS_PER_DAY);
    let first_day = first.div_euclid(MICROS_PER_DAY);
    while day >= first_day {
        if let Some(p) = st
            .query_row(params![day, sid, sc, kc, t], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
        {
            return Ok(Some(p));
        }
        day -= 1;
    }
    Ok(None)
}

/// Ticks of one (series, source, kind) in `[from, to)`, in time order: one seek per day, days
/// bounded by the series' first and last tick.
fn points(
    conn: &Connection,
    sid: i64,
    s: Source,
    k: PriceKind,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64)>> {
    let Some((first, last, _)) = bounds(conn, sid, s, k)? else {
        return Ok(Vec::new());
    };
    let lo = from.max(first);
    let hi = to.min(last + 1);
    if lo >= hi {
        return Ok(Vec::new());
    }
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE d(day) AS (SELECT ?1 UNION ALL SELECT day + 1 FROM d WHERE day < ?2)
             SELECT t.ts, t.price_cents FROM d CROSS JOIN ticks t
             WHERE t.day = d.day AND t.sid = ?3 AND t.source = ?4 AND t.kind = ?5 AND t.ts >= ?6 AND t.ts < ?7
             ORDER BY t.ts, t.listing_id",
        )?
        .query_map(
            params![lo.div_euclid(MICROS_PER_DAY), (hi - 1).div_euclid(MICROS_PER_DAY), sid, source_code(s), kind_code(k), lo, hi],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Candles, blocking.
pub fn candles_blocking(conn: &Connection, q: &CandleQuery) -> Result<Vec<SeriesCandles>> {
    if q.to <= q.from {
        return Err(StoreError::InvalidQuery("candles need from < to".into()));
    }
    let start = q.interval.floor(q.from);
    let mut out = Vec::new();
    for (sid, series_id) in target_series(conn, &q.target)? {
        for (s, k) in combos(conn, sid, &q.prices)? {
            let prev = last_before(conn, sid, s, k, start.as_micros() - 1)?.map(|p| p.1);
            let pts = points(conn, sid, s, k, start.as_micros(), q.to.as_micros())?;
            let buckets = aggregate(q.interval, pts);
            out.push(SeriesCandles {
                series_id: series_id.clone(),
                source: s,
                kind: k,
                candles: fill_candles(q.interval, q.from, q.to, &buckets, prev, q.fill),
            });
        }
    }
    Ok(out)
}

pub fn latest_blocking(
    conn: &Connection,
    ids: &[String],
    prices: &PriceFilter,
) -> Result<Vec<LatestPrice>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.source, l.kind, l.ts, l.listing_id, l.price_cents, l.orig_minor, l.orig_ccy
         FROM series s JOIN latest l ON l.sid = s.sid WHERE s.series_id = ?1 ORDER BY l.source, l.kind",
    )?;
    let mut out = Vec::new();
    for id in ids {
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (s, k, ts, listing, cents, orig, oc) in rows {
            let (s, k) = (source_from_code(s)?, kind_from_code(k)?);
            if !prices.matches(s, k) {
                continue;
            }
            out.push(LatestPrice {
                series_id: id.clone(),
                source: s,
                kind: k,
                observed_at: Timestamp::from_micros(ts),
                price_usd: Money::usd_cents(cents),
                original: Money::new(orig, ccy(&oc)?),
                listing_id: listing,
            });
        }
    }
    Ok(out)
}

/// `(sid, source, kind)` → `(ts, cents)`.
type LastPrices = HashMap<(i64, i64, i64), (i64, i64)>;

/// Last `(ts, cents)` per (sid, source, kind) in `(lo, hi]`: one range scan over those days.
fn last_in_span(conn: &Connection, lo: i64, hi: i64) -> Result<LastPrices> {
    let mut out: LastPrices = HashMap::new();
    let mut st = conn.prepare_cached(
        "SELECT sid, source, kind, ts, price_cents FROM ticks WHERE day >= ?1 AND day <= ?2 AND ts > ?3 AND ts <= ?4",
    )?;
    let mut rows = st.query(params![
        lo.div_euclid(MICROS_PER_DAY),
        hi.div_euclid(MICROS_PER_DAY),
        lo,
        hi
    ])?;
    while let Some(r) = rows.next()? {
        let key = (r.get(0)?, r.get(1)?, r.get(2)?);
        let p: (i64, i64) = (r.get(3)?, r.get(4)?);
        // Rows come in (day, sid, source, kind, ts, listing) order: the last one seen wins.
        let e = out.entry(key).or_insert(p);
        if p.0 >= e.0 {
            *e = p;
        }
    }
    Ok(out)
}

/// Movers, blocking. The "now" price comes from the `latest` table (one small scan); the price at
/// the window start from one range scan over the lookback days before `since` (day-clustered).
pub fn movers_blocking(conn: &Connection, q: &MoversQuery) -> Result<Movers> {
    let since = q.since.as_micros();
    let lookback = q.start_lookback_secs.max(1).saturating_mul(1_000_000);
    let starts = last_in_span(conn, since.saturating_sub(lookback), since)?;
    let mut sql = String::from(
        "SELECT s.series_id, s.product_id, l.sid, l.source, l.kind, l.ts, l.price_cents
         FROM latest l JOIN series s ON s.sid = l.sid WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(g) = q.game {
        sql.push_str(" AND s.game = ?");
        args.push(Value::Text(g.slug()));
    }
    if let Some(gid) = q.group_id {
        sql.push_str(" AND s.product_id IN (SELECT product_id FROM products WHERE group_id = ?)");
        args.push(Value::Integer(i64::from(gid.0)));
    }
    if !q.prices.sources.is_empty() {
        sql.push_str(&format!(
            " AND l.source IN ({})",
            placeholders(q.prices.sources.len())
        ));
        args.extend(
            q.prices
                .sources
                .iter()
                .map(|s| Value::Integer(source_code(*s))),
        );
    }
    if !q.prices.kinds.is_empty() {
        sql.push_str(&format!(
            " AND l.kind IN ({})",
            placeholders(q.prices.kinds.len())
        ));
        args.extend(q.prices.kinds.iter().map(|k| Value::Integer(kind_code(*k))));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut out = Vec::new();
    let asof = q.as_of.as_micros();
    while let Some(r) = rows.next()? {
        let (sid, sc, kc): (i64, i64, i64) = (r.get(2)?, r.get(3)?, r.get(4)?);
        let Some(&(start_at, start)) = starts.get(&(sid, sc, kc)) else {
            continue;
        };
        let (s, k) = (source_from_code(sc)?, kind_from_code(kc)?);
        let (mut end_at, mut end): (i64, i64) = (r.get(5)?, r.get(6)?);
        if end_at > asof {
            match last_before(conn, sid, s, k, asof)? {
                Some(p) => (end_at, end) = p,
                None => continue,
            }
        }
        out.push(Mover {
            series_id: r.get(0)?,
            product_id: ProductId(to_u64(r.get(1)?)),
            source: s,
            kind: k,
            start_usd: Money::usd_cents(start),
            start_at: Timestamp::from_micros(start_at),
            end_usd: Money::usd_cents(end),
            end_at: Timestamp::from_micros(end_at),
            change_bps: movers::change_bps(start, end),
        });
    }
    Ok(movers::rank(out, q.limit, q.min_start_cents))
}

fn holdings_blocking(conn: &Connection, id: PortfolioId) -> Result<Vec<Holding>> {
    let bodies = conn
        .prepare_cached("SELECT body FROM holdings WHERE portfolio_id = ?1 ORDER BY holding_id")?
        .query_map([id.to_string()], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies
        .iter()
        .map(|b| Ok(serde_json::from_str(b)?))
        .collect()
}

fn events_blocking(conn: &Connection, id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
    let bodies = conn
        .prepare_cached(
            "SELECT body FROM portfolio_events WHERE portfolio_id = ?1 ORDER BY at, event_id",
        )?
        .query_map([id.to_string()], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies
        .iter()
        .map(|b| Ok(serde_json::from_str(b)?))
        .collect()
}

/// Price points each holding's series needs to be valued at any instant in `[from, to]`.
fn price_book(
    conn: &Connection,
    holdings: &[Holding],
    from: i64,
    to: i64,
    price: &ValuationPrice,
) -> Result<PriceBook> {
    let mut book = PriceBook::default();
    let mut done = std::collections::HashSet::new();
    for h in holdings {
        let series_id = h.series().id();
        if !done.insert(series_id.clone()) {
            continue;
        }
        for (sid, _) in target_series(conn, &SeriesTarget::Series(series_id.clone()))? {
            for (s, k) in combos(conn, sid, &price.prices)? {
                if let Some((ts, c)) = last_before(conn, sid, s, k, from)? {
                    book.insert(&series_id, ts, c);
                }
                if to > from {
                    for (ts, c) in points(conn, sid, s, k, from + 1, to + 1)? {
                        book.insert(&series_id, ts, c);
                    }
                }
            }
        }
    }
    book.seal();
    Ok(book)
}

fn product_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Product, String)> {
    let game: String = r.get(3)?;
    let category = CategoryId(r.get(1)?);
    Ok((
        Product {
            product_id: ProductId(to_u64(r.get(0)?)),
            category_id: category,
            group_id: GroupId(r.get(2)?),
            game: Game::parse(&game).unwrap_or(Game::from_category(category)),
            name: r.get(4)?,
            clean_name: r.get(5)?,
            number: r.get(6)?,
            rarity: r.get(7)?,
            image_url: r.get(8)?,
            url: r.get(9)?,
        },
        game,
    ))
}

const PRODUCT_COLS: &str =
    "product_id, category_id, group_id, game, name, clean_name, number, rarity, image_url, url";

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn search_blocking(conn: &Connection, q: &CatalogQuery) -> Result<CatalogPage> {
    let limit = q.limit.clamp(1, 500);
    let mut sql = format!("SELECT {PRODUCT_COLS} FROM products WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(name) = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        sql.push_str(" AND name LIKE ? ESCAPE '\\'");
        args.push(Value::Text(format!("%{}%", like_escape(name))));
    }
    if let Some(number) = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        sql.push_str(" AND (number = ? COLLATE NOCASE OR number LIKE ? ESCAPE '\\')");
        args.push(Value::Text(number.to_owned()));
        args.push(Value::Text(format!("{}/%", like_escape(number))));
    }
    if let Some(g) = q.group_id {
        sql.push_str(" AND group_id = ?");
        args.push(Value::Integer(i64::from(g.0)));
    }
    if let Some(g) = q.game {
        sql.push_str(" AND game = ?");
        args.push(Value::Text(g.slug()));
    }
    if let Some(c) = &q.cursor {
        let (name, id) = decode_cursor(c)?;
        sql.push_str(
            " AND (name > ? COLLATE NOCASE OR (name = ? COLLATE NOCASE AND product_id > ?))",
        );
        args.push(Value::Text(name.clone()));
        args.push(Value::Text(name));
        args.push(Value::Integer(to_i64(id)));
    }
    sql.push_str(" ORDER BY name COLLATE NOCASE, product_id LIMIT ?");
    args.push(Value::Integer(i64::try_from(limit + 1).unwrap_or(501)));
    let mut items = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), product_from_row)?
        .map(|r| r.map(|p| p.0))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|p| encode_cursor(&p.name, p.product_id))
    } else {
        None
    };
    Ok(CatalogPage { items, next_cursor })
}

fn json_bodies<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    args: &[Value],
) -> Result<Vec<T>> {
    let bodies = conn
        .prepare_cached(sql)?
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies
        .iter()
        .map(|b| Ok(serde_json::from_str(b)?))
        .collect()
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport> {
        if ticks.is_empty() {
            return Ok(WriteReport::default());
        }
        let rows = ticks
            .iter()
            .map(TickRow::from_tick)
            .collect::<Result<Vec<_>>>()?;
        self.write(move |w| write_rows(w, &rows)).await
    }

    async fn flush(&self) -> Result<()> {
        Ok(())
    }

    async fn sync(&self) -> Result<()> {
        Ok(())
    }

    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        let rows = alerts
            .iter()
            .map(|a| {
                Ok((
                    a.id.to_string(),
                    a.rule_id.to_string(),
                    a.owner.0.clone(),
                    a.series_id.clone(),
                    a.observed_at.as_micros(),
                    serde_json::to_string(a)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let mut n = 0;
            {
                let mut st = tx.prepare_cached("INSERT OR IGNORE INTO alerts (alert_id, rule_id, owner, series_id, observed_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
                for r in &rows {
                    n += st.execute(params![r.0, r.1, r.2, r.3, r.4, r.5])?;
                }
            }
            tx.commit()?;
            Ok(WriteReport { rows: rows.len(), new_rows: Some(n) })
        })
        .await
    }

    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()> {
        let sets = sets.to_vec();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO card_sets (group_id, category_id, game, name, abbreviation, published_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (group_id) DO UPDATE SET category_id = excluded.category_id, game = excluded.game, name = excluded.name,
                       abbreviation = excluded.abbreviation, published_on = excluded.published_on",
                )?;
                for s in &sets {
                    st.execute(params![s.group_id.0, s.category_id.0, s.game.slug(), s.name, s.abbreviation, s.published_on])?;
                }
            }
            Ok(tx.commit()?)
        })
        .await
    }

    async fn upsert_products(&self, products: &[Product]) -> Result<()> {
        let products = products.to_vec();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached(&format!(
                    "INSERT OR REPLACE INTO products ({PRODUCT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))?;
                for p in &products {
                    st.execute(params![to_i64(p.product_id.0), p.category_id.0, p.group_id.0, p.game.slug(), p.name, p.clean_name, p.number, p.rarity, p.image_url, p.url])?;
                }
            }
            Ok(tx.commit()?)
        })
        .await
    }

    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()> {
        let skus = skus.to_vec();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached("INSERT OR REPLACE INTO skus (sku_id, product_id, printing, condition, language) VALUES (?1, ?2, ?3, ?4, ?5)")?;
                for s in &skus {
                    st.execute(params![to_i64(s.sku_id.0), to_i64(s.product_id.0), s.printing.as_str(), s.condition.as_str(), s.language.as_str()])?;
                }
            }
            Ok(tx.commit()?)
        })
        .await
    }

    async fn upsert_portfolio(&self, p: &Portfolio) -> Result<()> {
        let p = p.clone();
        self.write(move |w| {
            w.conn.prepare_cached("INSERT OR REPLACE INTO portfolios (portfolio_id, owner, name, created_at) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![p.id.to_string(), p.owner.0, p.name, p.created_at.as_micros()])?;
            Ok(())
        })
        .await
    }

    async fn delete_portfolio(&self, p: &Portfolio) -> Result<()> {
        let id = p.id.to_string();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            tx.execute("DELETE FROM portfolios WHERE portfolio_id = ?1", [&id])?;
            tx.execute("DELETE FROM holdings WHERE portfolio_id = ?1", [&id])?;
            tx.execute(
                "DELETE FROM portfolio_events WHERE portfolio_id = ?1",
                [&id],
            )?;
            Ok(tx.commit()?)
        })
        .await
    }

    async fn upsert_holding(&self, h: &Holding) -> Result<()> {
        let (id, pid, body) = (
            h.id.to_string(),
            h.portfolio_id.to_string(),
            serde_json::to_string(h)?,
        );
        self.write(move |w| {
            w.conn.prepare_cached("INSERT OR REPLACE INTO holdings (holding_id, portfolio_id, body) VALUES (?1, ?2, ?3)")?.execute(params![id, pid, body])?;
            Ok(())
        })
        .await
    }

    async fn delete_holding(
        &self,
        _portfolio_id: PortfolioId,
        holding_id: HoldingId,
    ) -> Result<()> {
        let id = holding_id.to_string();
        self.write(move |w| {
            w.conn
                .execute("DELETE FROM holdings WHERE holding_id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport> {
        let rows = events
            .iter()
            .map(|e| {
                Ok((
                    e.id.to_string(),
                    e.portfolio_id.to_string(),
                    e.holding_id.to_string(),
                    e.at.as_micros(),
                    serde_json::to_string(e)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let mut n = 0;
            {
                let mut st = tx.prepare_cached("INSERT OR IGNORE INTO portfolio_events (event_id, portfolio_id, holding_id, at, body) VALUES (?1, ?2, ?3, ?4, ?5)")?;
                for r in &rows {
                    n += st.execute(params![r.0, r.1, r.2, r.3, r.4])?;
                }
            }
            tx.commit()?;
            Ok(WriteReport { rows: rows.len(), new_rows: Some(n) })
        })
        .await
    }

    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()> {
        let (id, owner, pid, at, body) = (
            rule.id.to_string(),
            rule.owner.0.clone(),
            to_i64(rule.product_id.0),
            rule.updated_at.as_micros(),
            serde_json::to_string(rule)?,
        );
        self.write(move |w| {
            w.conn
                .prepare_cached("INSERT OR REPLACE INTO alert_rules (rule_id, owner, product_id, updated_at, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![id, owner, pid, at, body])?;
            Ok(())
        })
        .await
    }

    async fn delete_rule(&self, rule_id: RuleId, _owner: &UserId) -> Result<()> {
        let id = rule_id.to_string();
        self.write(move |w| {
            w.conn
                .execute("DELETE FROM alert_rules WHERE rule_id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>> {
        let (ids, prices) = (series_ids.to_vec(), prices.clone());
        self.read(move |c| latest_blocking(c, &ids, &prices)).await
    }

    async fn candles(&self, query: &CandleQuery) -> Result<Vec<SeriesCandles>> {
        let q = query.clone();
        self.read(move |c| candles_blocking(c, &q)).await
    }

    async fn movers(&self, query: &MoversQuery) -> Result<Movers> {
        let q = query.clone();
        self.read(move |c| movers_blocking(c, &q)).await
    }

    async fn portfolio_value(
        &self,
        portfolio_id: PortfolioId,
        at: Timestamp,
        price: &ValuationPrice,
    ) -> Result<PortfolioValuation> {
        let price = price.clone();
        self.read(move |c| {
            let holdings = holdings_blocking(c, portfolio_id)?;
            let events = events_blocking(c, portfolio_id)?;
            let book = price_book(c, &holdings, at.as_micros(), at.as_micros(), &price)?;
            Ok(valuation::value_at(&holdings, &events, &book, at))
        })
        .await
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
        let price = price.clone();
        self.read(move |c| {
            let holdings = holdings_blocking(c, portfolio_id)?;
            let events = events_blocking(c, portfolio_id)?;
            let buckets = bucket_pairs(interval, from, to);
            let lo = buckets.first().map_or(from, |b| b.0).as_micros();
            let hi = buckets.last().map_or(to, |b| b.1).as_micros();
            let book = price_book(c, &holdings, lo, hi, &price)?;
            Ok(valuation::history(&holdings, &events, &book, &buckets))
        })
        .await
    }

    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage> {
        let q = query.clone();
        self.read(move |c| search_blocking(c, &q)).await
    }

    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT series_id FROM series WHERE product_id = ?1 ORDER BY series_id",
            )?
            .query_map([to_i64(product_id.0)], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn product(&self, product_id: ProductId) -> Result<Option<Product>> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {PRODUCT_COLS} FROM products WHERE product_id = ?1"
            ))?
            .query_row([to_i64(product_id.0)], product_from_row)
            .optional()?
            .map(|p| p.0))
        })
        .await
    }

    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>> {
        self.read(move |c| {
            let rows = c
                .prepare_cached("SELECT group_id, category_id, game, name, abbreviation, published_on FROM card_sets WHERE ?1 IS NULL OR game = ?1 ORDER BY name COLLATE NOCASE, group_id")?
                .query_map([game.map(|g| g.slug())], |r| {
                    let cat = CategoryId(r.get(1)?);
                    Ok(CardSet {
                        group_id: GroupId(r.get(0)?),
                        category_id: cat,
                        game: Game::parse(&r.get::<_, String>(2)?).unwrap_or(Game::from_category(cat)),
                        name: r.get(3)?,
                        abbreviation: r.get(4)?,
                        published_on: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>> {
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT sku_id, product_id, printing, condition, language FROM skus WHERE product_id = ?1 ORDER BY sku_id")?
                .query_map([to_i64(product_id.0)], |r| {
                    Ok(Sku {
                        sku_id: SkuId(to_u64(r.get(0)?)),
                        product_id: ProductId(to_u64(r.get(1)?)),
                        printing: tcg_schemas::Printing::parse(&r.get::<_, String>(2)?),
                        condition: tcg_schemas::Condition::parse(&r.get::<_, String>(3)?),
                        language: tcg_schemas::Language::parse(&r.get::<_, String>(4)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>> {
        let owner = owner.clone();
        self.read(move |c| {
            let rows = c
                .prepare_cached("SELECT portfolio_id, owner, name, created_at FROM portfolios WHERE owner = ?1 ORDER BY created_at, portfolio_id")?
                .query_map([&owner.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(id, o, name, at)| {
                    Ok(Portfolio {
                        id: id.parse().map_err(|e: uuid_error::Error| StoreError::Corrupt(e.to_string()))?,
                        owner: UserId(o),
                        name,
                        created_at: Timestamp::from_micros(at),
                    })
                })
                .collect()
        })
        .await
    }

    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>> {
        self.read(move |c| holdings_blocking(c, portfolio_id)).await
    }

    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
        self.read(move |c| events_blocking(c, portfolio_id)).await
    }

    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>> {
        let owner = owner.map(|o| o.0.clone());
        self.read(move |c| {
            json_bodies(
                c,
                "SELECT body FROM alert_rules WHERE ?1 IS NULL OR owner = ?1 ORDER BY rule_id",
                &[owner.map_or(Value::Null, Value::Text)],
            )
        })
        .await
    }

    async fn alerts(&self, owner: &UserId, limit: usize) -> Result<Vec<AlertEvent>> {
        let owner = owner.0.clone();
        self.read(move |c| {
            json_bodies(
                c,
                "SELECT body FROM alerts WHERE owner = ?1 ORDER BY observed_at DESC, alert_id LIMIT ?2",
                &[Value::Text(owner), Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX))],
            )
        })
        .await
    }
}

mod uuid_error {
    pub type Error = <tcg_schemas::PortfolioId as std::str::FromStr>::Err;
}
