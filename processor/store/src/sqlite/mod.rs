//! The embedded store: one SQLite file in WAL mode. One writer connection and a few reader
//! connections; every call runs on tokio's blocking pool, never on the async workers.
//!
//! One module a job: [`migrations`] (the schema), `tick_rows` (the tick writer), `price_reads`
//! (latest, candles, movers, price points), and one module per store trait it implements
//! (`ticks`, `catalog`, `portfolios`, `alerts`).

mod alerts;
mod catalog;
mod migrations;
mod portfolios;
mod price_reads;
mod rollups;
mod tick_rows;
mod ticks;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
};

use rusqlite::{Connection, config::DbConfig};
use tcg_schemas::{Currency, Money, Tick};

use crate::{Result, StoreError, model::WriteReport};

pub use migrations::{MIGRATIONS, migrate};
pub use price_reads::{candles_blocking, latest_blocking, movers_blocking};
pub(crate) use tick_rows::TickRow;
use tick_rows::write_rows;

/// Tuning of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Reader connections (reads run in parallel with the writer thanks to WAL).
    pub readers: usize,
    /// Page cache per connection, MiB. 8 by default: on `bench api`'s 10 M-tick file, 64 put
    /// `serve` near 300 MB under load and 16 near 180 MB, for no more requests per second (the
    /// OS keeps the file's pages anyway).
    pub cache_mib: i64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            readers: 2,
            cache_mib: 8,
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
    /// Read-only connections. A read waits here for a free one (no thread held while it
    /// waits), then runs on the blocking pool: at most this many reads are on threads at once,
    /// however many requests wait.
    readers: deadpool::unmanaged::Pool<Connection>,
    cache_mib: i64,
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

/// A read-only connection to `path`, configured.
fn open_reader(path: &Path, cache_mib: i64) -> Result<Connection> {
    let r = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&r, cache_mib)?;
    Ok(r)
}

/// Busy timeout, pragmas, and the query planner's stability guarantee (QPSG): without it, a
/// statement with an `integer_column = ?` term is planned by the value bound, and SQLite plans
/// it again (parsing its SQL) every time a kept statement is bound anew, which rusqlite's
/// statement cache does on every use: 15 % of `serve`'s CPU on cold history reads. Our
/// statements are written for one plan (key seeks), so plans that ignore bound values are the
/// ones we want.
fn configure(conn: &Connection, cache_mib: i64) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
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

fn to_i64(v: u64) -> i64 {
    v as i64
}

pub(crate) fn to_u64(v: i64) -> u64 {
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
    Currency::parse(text).map_err(|e| StoreError::CorruptValue(Box::new(e)))
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
        // Write transactions take the write lock when they begin: one that read first and then
        // wrote would fail with "database is locked" at once (no busy wait) whenever another
        // process (a second service on the same file) wrote in between.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        migrate(&mut conn)?;
        let readers = deadpool::unmanaged::Pool::new(options.readers.max(1));
        for _ in 0..options.readers.max(1) {
            readers
                .try_add(open_reader(&path, options.cache_mib)?)
                .map_err(|(_, e)| StoreError::ReaderPool(e))?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(Writer {
                    conn,
                    sids: HashMap::new(),
                }),
                readers,
                cache_mib: options.cache_mib,
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

    /// Runs `f` on a free reader connection on the blocking pool, waiting (asynchronously) for
    /// one to be free. The connection goes back to the pool when `f` returns, even if the
    /// caller stopped waiting.
    pub(crate) async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let conn = self
            .inner
            .readers
            .get()
            .await
            .map_err(StoreError::ReaderPool)?;
        tokio::task::spawn_blocking(move || f(&conn)).await?
    }

    pub(crate) async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.writer))).await?
    }

    /// The blocking tick write (what [`Store::write_ticks`] runs on the blocking pool).
    pub fn write_ticks_blocking(&self, ticks: &[Tick]) -> Result<WriteReport> {
        let rows = ticks
            .iter()
            .map(TickRow::from_tick)
            .collect::<Result<Vec<_>>>()?;
        write_rows(&mut lock(&self.inner.writer), &rows)
    }

    /// Runs `f` on a reader connection on the calling thread (benchmarks, tools): a free one
    /// of the pool, or, when every one is busy, a connection opened for this call.
    pub fn with_reader<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        match self.inner.readers.try_get() {
            Ok(conn) => f(&conn),
            Err(_) => f(&open_reader(&self.inner.path, self.inner.cache_mib)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept statement with `integer_column = ?` terms is not planned again when it is bound
    /// anew (the query planner's stability guarantee is on).
    #[test]
    fn kept_statements_are_not_planned_again_on_every_use() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        // The rollups' read: the series' terms are not used by the loop over the parts.
        let sql =
            "WITH RECURSIVE p(part) AS (SELECT ?1 UNION ALL SELECT part + 1 FROM p WHERE part < ?2)
                   SELECT count(*) FROM p CROSS JOIN candles_1d c
                   WHERE c.part = p.part AND c.sid = ?3 AND c.source = ?4";
        let reprepared = store
            .with_reader(|c| {
                for i in 0..20i64 {
                    c.prepare_cached(sql)?
                        .query_row([i, i + 2, 2 + i % 3, 1], |r| r.get::<_, i64>(0))?;
                }
                Ok(c.prepare_cached(sql)?
                    .get_status(rusqlite::StatementStatus::RePrepare))
            })
            .unwrap();
        assert_eq!(reprepared, 0);
    }

    #[test]
    fn an_unreadable_currency_keeps_its_parse_error() {
        let err = ccy("not a code").unwrap_err();
        assert!(matches!(err, StoreError::CorruptValue(_)), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        assert!(
            err.to_string()
                .starts_with("stored data is not readable: \"not a code\""),
            "{err}"
        );
    }
}
