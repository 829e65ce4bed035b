//! The store: ILP/HTTP writes through the [`IlpWriter`], PGWire reads. The store traits are
//! implemented one module each: `ticks`, `catalog`, `portfolios`, `alerts`.

use std::sync::Mutex;

use chrono::NaiveDateTime;
use tcg_schemas::{PriceKind, SeriesKey, Source, Timestamp};
use tokio_postgres::{Row, types::ToSql};

use super::{
    config::QuestDbConfig,
    ddl::{ADDED_COLUMNS, ddl_statements},
    pg::PgConn,
    sql::*,
    writer::{IlpWriter, lock},
};
use crate::{Result, StoreError, TickStore, model::*};

/// The QuestDB store: ILP/HTTP writes, PGWire reads.
pub struct QuestDbStore {
    pub(super) writer: IlpWriter,
    pub(super) pg: PgConn,
    pub(super) config: QuestDbConfig,
    /// Whether the daily view has caught up (reads use it once it has).
    pub(super) view: super::rollups::ViewReadiness,
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

pub(super) fn naive(t: Timestamp) -> NaiveDateTime {
    t.to_datetime().naive_utc()
}

pub(super) fn from_naive(t: NaiveDateTime) -> Timestamp {
    Timestamp::from_micros(t.and_utc().timestamp_micros())
}

/// A stored value that does not parse, its parse error kept.
pub(super) fn corrupt<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::CorruptValue(Box::new(e))
}

pub(super) fn source_of(s: &str) -> Result<Source> {
    Source::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown source {s:?}")))
}

pub(super) fn kind_of(s: &str) -> Result<PriceKind> {
    PriceKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown kind {s:?}")))
}

/// One row of `wal_tables()`.
pub(super) struct WalState {
    pub(super) name: String,
    pub(super) suspended: bool,
    pub(super) writer_txn: i64,
    pub(super) sequencer_txn: i64,
    pub(super) error: String,
}

pub(super) fn wal_states(rows: &[Row]) -> Result<Vec<WalState>> {
    rows.iter()
        .map(|r| {
            Ok(WalState {
                name: r.try_get(0)?,
                suspended: r.try_get(1)?,
                writer_txn: r.try_get(2)?,
                sequencer_txn: r.try_get(3)?,
                error: r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        })
        .collect()
}

pub(super) fn bodies<T: serde::de::DeserializeOwned>(rows: &[Row]) -> Result<Vec<T>> {
    rows.iter()
        .map(|r| {
            let b: String = r.try_get(0)?;
            Ok(serde_json::from_str(&b)?)
        })
        .collect()
}

/// Adds the [`ADDED_COLUMNS`] a table created by an older build lacks.
async fn add_missing_columns(pg: &PgConn) -> Result<()> {
    for (table, column, ty) in ADDED_COLUMNS {
        let rows = pg
            .query(
                &format!("SELECT \"column\" FROM table_columns('{table}')"),
                &[],
            )
            .await?;
        let has = rows
            .iter()
            .any(|r| r.try_get::<_, String>(0).is_ok_and(|c| c == column));
        if !has {
            pg.batch(&[format!("ALTER TABLE {table} ADD COLUMN {column} {ty}")])
                .await?;
        }
    }
    Ok(())
}

impl QuestDbStore {
    /// Read-your-writes for the app's own data (portfolios, holdings, their events, rules):
    /// QuestDB applies WAL writes asynchronously, so a portfolio created by one request would
    /// answer 404 to the next (seen against QuestDB 9.3: `POST /v1/portfolios` then
    /// `POST …/holdings`). Such a write returns only once it is visible to reads.
    pub(super) async fn visible(&self) -> Result<()> {
        TickStore::sync(self).await
    }

    /// Connects PGWire, creates the tables (`CREATE TABLE IF NOT EXISTS`) and the daily view
    /// (`CREATE MATERIALIZED VIEW IF NOT EXISTS`, see [`super::rollups`]) and starts the age
    /// flusher. Call inside a tokio runtime.
    pub async fn connect(config: QuestDbConfig) -> Result<Self> {
        let pg = PgConn::connect(
            &config.pg_url,
            config.read_connections,
            config.request_timeout,
        )
        .await?;
        pg.batch(&ddl_statements()).await?;
        add_missing_columns(&pg).await?;
        let view = super::rollups::ensure_view(&pg).await?;
        let writer = IlpWriter::new(&config)?;
        let flusher = writer.spawn_age_flusher();
        Ok(Self {
            writer,
            pg,
            config,
            view,
            clock: Mutex::new(0),
            _flusher: flusher,
        })
    }

    /// The ILP writer (pending rows, diagnostics).
    pub fn writer(&self) -> &IlpWriter {
        &self.writer
    }

    /// A strictly increasing wall-clock instant for newest-state rows.
    pub(super) fn now(&self) -> Timestamp {
        let wall = chrono::Utc::now().timestamp_micros();
        let mut last = lock(&self.clock);
        *last = wall.max(*last + 1);
        Timestamp::from_micros(*last)
    }

    pub(super) async fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
        self.pg.query(sql, &p).await
    }

    pub(super) async fn combos_of(
        &self,
        target: &SeriesTarget,
        prices: &PriceFilter,
        to: Timestamp,
    ) -> Result<Vec<(String, Source, PriceKind)>> {
        let rows = if self.reads_view().await? {
            let (by_product, id) = match target {
                SeriesTarget::Series(id) => (false, id.clone()),
                SeriesTarget::Product { product_id, .. } => (true, product_id.0.to_string()),
            };
            let binds = [Param::Text(id), Param::Ts(naive(to))];
            self.query(&super::rollups::sql_combos(by_product, prices), &binds)
                .await?
        } else {
            self.raw_combos(target, prices, to).await?
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

    /// The combos of a target from the ticks (the view not caught up yet).
    async fn raw_combos(
        &self,
        target: &SeriesTarget,
        prices: &PriceFilter,
        to: Timestamp,
    ) -> Result<Vec<Row>> {
        Ok(match target {
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
        })
    }

    pub(super) async fn newest_bodies<T: serde::de::DeserializeOwned>(
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
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<QuestDbStore>();
    f::<IlpWriter>();
    let _ = naive;
}
