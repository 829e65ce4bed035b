//! Daily candles kept by QuestDB itself: the materialized view `candles_1d` over `ticks`
//! (`SAMPLE BY 1d`, refreshed incrementally after every commit to `ticks`), so a one-year daily
//! history reads about 365 rows of the view instead of every tick of the year.
//!
//! - Same answers as the ticks: the view is the same `first/max/min/last/count` the raw reads
//!   compute, over the same rows in the same (storage) order, bucketed by UTC day. Days come
//!   from the view, weeks and months are merged from its days, and the day that `to` cuts is
//!   aggregated from the ticks (`tests/questdb_rollups.rs` checks the answers against the raw
//!   reads and against candles computed from the ticks written, on random data).
//! - No hourly view, on measurement: the markets are polled every few minutes at most, so an
//!   hour of a series holds about one tick (100 M ticks of 10,000 series over a year are 1.1
//!   ticks per series-hour) and an hourly view would be as large as the ticks. Hours are read
//!   from the ticks.
//! - The view is indexed on `series` (a read of one series seeks instead of scanning the
//!   view's rows of every series).
//! - Refresh lag: QuestDB refreshes the view asynchronously after a commit is applied.
//!   [`crate::TickStore::sync`] waits until the view has caught up with every commit applied
//!   before (as it waits for the WAL), so a reader that synced reads the view as it reads the
//!   ticks. Reading "the view, plus the ticks newer than its last refresh" instead is not
//!   possible: a refresh is a transaction number, not a time, and late ticks land in any old
//!   day.
//! - A view created on a `ticks` table that already holds rows (an older database) is built by
//!   QuestDB in the background; until it has caught up with the commits there were at start,
//!   and whenever QuestDB reports it invalid (e.g. after a column of `ticks` was dropped), the
//!   reads come from the ticks and an invalid view is rebuilt (`REFRESH … FULL`).

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use tcg_schemas::Timestamp;
use tokio_postgres::Row;

use super::{pg::PgConn, writer::lock};
use crate::{Interval, Result, StoreError, interval::RawBucket, model::PriceFilter};

/// The view's name.
pub const VIEW: &str = "candles_1d";

const DAY_MICROS: i64 = 86_400_000_000;

/// The view. Its keys (`series`, `source`, `kind`) are DEDUP keys of `ticks`, as QuestDB
/// requires of a view over a deduplicated table. `product` (the series' product id as a
/// symbol, indexed) finds a card's series; `first_at` (the day's first tick) says whether a
/// series had a price before an instant; `close_at` (the day's last tick) is what a valuation at
/// day ends needs.
pub const VIEW_DDL: &str = "CREATE MATERIALIZED VIEW IF NOT EXISTS candles_1d AS (\
SELECT observed_at, series, source, kind, first(CAST(product_id AS SYMBOL)) product, \
first(price_cents) open, max(price_cents) high, min(price_cents) low, last(price_cents) close, \
count() n, first(observed_at) first_at, last(observed_at) close_at \
FROM ticks SAMPLE BY 1d) PARTITION BY MONTH";

/// The view's columns, in order: a view of another shape (an older build's) is made again.
pub const VIEW_COLUMNS: [&str; 12] = [
    "observed_at",
    "series",
    "source",
    "kind",
    "product",
    "open",
    "high",
    "low",
    "close",
    "n",
    "first_at",
    "close_at",
];

/// The view's columns and whether each is indexed.
pub const SQL_VIEW_COLUMNS: &str = "SELECT \"column\", indexed FROM table_columns('candles_1d')";

/// The indexed columns: a read of one series or one card seeks instead of scanning the view.
pub const INDEXED: [&str; 2] = ["series", "product"];

/// Drops a view of another shape.
pub const VIEW_DROP: &str = "DROP MATERIALIZED VIEW IF EXISTS candles_1d";

/// Rebuilds an invalid view from the ticks (in the background).
pub const VIEW_REFRESH_FULL: &str = "REFRESH MATERIALIZED VIEW candles_1d FULL";

/// The view's state: status (`valid`, `refreshing`, `invalid`), the `ticks` transaction it has
/// caught up with, the reason it is invalid.
pub const SQL_VIEW_STATE: &str = "SELECT view_status, refresh_base_table_txn, invalidation_reason \
FROM materialized_views() WHERE view_name = 'candles_1d'";

/// The transaction `ticks` has accepted (its sequencer).
pub const SQL_TICKS_TXN: &str = "SELECT sequencerTxn FROM wal_tables() WHERE name = 'ticks'";

/// The view's own WAL: applied and accepted transactions.
pub const SQL_VIEW_WAL: &str =
    "SELECT writerTxn, sequencerTxn FROM wal_tables() WHERE name = 'candles_1d'";

/// Where a read of `[start, to)` at `interval` comes from: the view's days up to the returned
/// split, the ticks from there to `to` (the day `to` cuts). `None`: not from the view (hours,
/// other widths).
pub fn split(interval: Interval, to: Timestamp) -> Option<Timestamp> {
    match interval {
        Interval::Seconds(86_400) | Interval::Week | Interval::Month => {
            let t = to.as_micros();
            Some(Timestamp::from_micros(t - t.rem_euclid(DAY_MICROS)))
        }
        Interval::Seconds(_) => None,
    }
}

/// The (series, source, kind) combos of series $1 (or, `by_product`, of card $1: its id as
/// text) that had a price before $2. The text depends only on its arguments, so QuestDB
/// compiles it once (every instant is bound).
pub fn sql_combos(by_product: bool, prices: &PriceFilter) -> String {
    format!(
        "SELECT series, source, kind, count() FROM candles_1d WHERE {} = $1 \
AND observed_at < $2 AND first_at < $2{}",
        if by_product { "product" } else { "series" },
        super::sql::price_filter_sql(prices, "")
    )
}

/// The days of (series $1, source $2, kind $3) in `[$4, $5)` from the view, then the ticks of
/// `[$5, $6)` (the day `to` cuts) aggregated into one row, dated by its first tick (no row when
/// there are none; an empty range asks for nothing). One text, every instant bound: QuestDB
/// compiles it once.
pub const SQL_DAYS: &str = "SELECT observed_at, open, high, low, close, n FROM candles_1d \
WHERE series = $1 AND source = $2 AND kind = $3 AND observed_at >= $4 AND observed_at < $5 \
UNION ALL SELECT first(observed_at) observed_at, first(price_cents) open, max(price_cents) high, \
min(price_cents) low, last(price_cents) close, count() n FROM ticks \
WHERE series = $1 AND source = $2 AND kind = $3 AND observed_at >= $5 AND observed_at < $6";

/// The close of the last day of (series $1, source $2, kind $3) before $4 (a day start): the
/// last price before it.
pub const SQL_PREV_CLOSE: &str = "SELECT close_at, close FROM candles_1d \
WHERE series = $1 AND source = $2 AND kind = $3 AND observed_at < $4 LIMIT -1";

/// `(close_at, close)` of every day of series $1 (the sources and kinds `prices` allows) that
/// starts before $2: the last price of each day, all a valuation at day ends needs.
pub fn sql_day_closes(prices: &PriceFilter) -> String {
    format!(
        "SELECT close_at, close FROM candles_1d WHERE series = $1{} AND observed_at < $2",
        super::sql::price_filter_sql(prices, "")
    )
}

/// One bucket out of a row `(start, open, high, low, close, n)`; `None` for an empty one.
pub(super) fn bucket(r: &Row, interval: Interval) -> Result<Option<RawBucket>> {
    let Some(open) = r.try_get::<_, Option<i64>>(1)? else {
        return Ok(None);
    };
    let at = super::store::from_naive(r.try_get(0)?);
    Ok(Some(RawBucket {
        start: interval.floor(at),
        open,
        high: r.try_get::<_, Option<i64>>(2)?.unwrap_or(open),
        low: r.try_get::<_, Option<i64>>(3)?.unwrap_or(open),
        close: r.try_get::<_, Option<i64>>(4)?.unwrap_or(open),
        count: u64::try_from(r.try_get::<_, Option<i64>>(5)?.unwrap_or(0)).unwrap_or(0),
    }))
}

/// Whether the reads may use the view: it has caught up with the commits `ticks` had when the
/// store connected, and QuestDB does not report it invalid. Asked again every few seconds while
/// in use (a view invalidated later is noticed, rebuilt, and not read meanwhile).
#[derive(Debug)]
pub(super) struct ViewReadiness {
    /// The `ticks` transaction the view must have caught up with (`i64::MAX`: there is no view).
    target: i64,
    state: Mutex<Readiness>,
}

#[derive(Debug, Default)]
struct Readiness {
    ready: bool,
    /// When QuestDB was last asked.
    checked: Option<Instant>,
    /// When a rebuild of an invalid view was last asked for.
    rebuild: Option<Instant>,
}

/// How often the view's state is asked for while it is not usable, while it is, and how long a
/// rebuild is given before it is asked for again.
const RECHECK_WAITING: Duration = Duration::from_millis(500);
const RECHECK_READY: Duration = Duration::from_secs(5);
const REBUILD_AGAIN: Duration = Duration::from_secs(600);

/// The view's state, as `materialized_views()` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ViewState {
    pub(super) status: String,
    pub(super) refreshed_txn: i64,
    pub(super) reason: String,
}

impl ViewState {
    /// Caught up with `ticks` transaction `txn` and usable.
    pub(super) fn covers(&self, txn: i64) -> bool {
        self.status != "invalid" && self.refreshed_txn >= txn
    }
}

pub(super) async fn view_state(pg: &PgConn) -> Result<Option<ViewState>> {
    let rows = pg.query(SQL_VIEW_STATE, &[]).await?;
    rows.first()
        .map(|r| {
            Ok(ViewState {
                status: r.try_get::<_, Option<String>>(0)?.unwrap_or_default(),
                refreshed_txn: r.try_get::<_, Option<i64>>(1)?.unwrap_or(-1),
                reason: r.try_get::<_, Option<String>>(2)?.unwrap_or_default(),
            })
        })
        .transpose()
}

async fn one_i64(pg: &PgConn, sql: &str, col: usize) -> Result<i64> {
    let rows = pg.query(sql, &[]).await?;
    Ok(match rows.first() {
        Some(r) => r.try_get::<_, Option<i64>>(col)?.unwrap_or(0),
        None => 0,
    })
}

/// Creates the view and its indexes when missing (again when an older build made it of
/// another shape), and returns how far it must catch up before reads use it (an invalid view is
/// rebuilt on the first read or sync).
pub(super) async fn ensure_view(pg: &PgConn) -> Result<ViewReadiness> {
    let columns = |rows: Vec<Row>| -> Result<Vec<(String, bool)>> {
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    };
    let mut have = if view_state(pg).await?.is_some() {
        columns(pg.query(SQL_VIEW_COLUMNS, &[]).await?)?
    } else {
        Vec::new()
    };
    let names: Vec<&str> = have.iter().map(|c| c.0.as_str()).collect();
    if !names.is_empty() && names != VIEW_COLUMNS {
        tracing::warn!(
            ?names,
            "the QuestDB view candles_1d has another shape; making it again"
        );
        pg.batch(&[VIEW_DROP.to_owned()]).await?;
    }
    // Another store starting beside this one may make it first: then it is there.
    if let Err(e) = pg.batch(&[VIEW_DDL.to_owned()]).await
        && view_state(pg).await?.is_none()
    {
        // A `ticks` table of another shape (made by something else): the reads keep to it.
        tracing::warn!(error = %e, "cannot create the QuestDB view candles_1d; reading candles from the ticks");
        return Ok(ViewReadiness {
            target: i64::MAX,
            state: Mutex::new(Readiness::default()),
        });
    }
    have = columns(pg.query(SQL_VIEW_COLUMNS, &[]).await?)?;
    for column in INDEXED {
        if !have.iter().any(|(c, indexed)| c == column && *indexed) {
            let add = format!("ALTER MATERIALIZED VIEW candles_1d ALTER COLUMN {column} ADD INDEX");
            match pg.batch(&[add]).await {
                // An index QuestDB had not applied yet when we looked (ours of a moment ago
                // after a restart, or another store's starting beside this one).
                Err(e) if already_indexed(&e) => {}
                r => r?,
            }
        }
    }
    // Known at once, so that the first reads (many at a time after a start) agree.
    let target = one_i64(pg, SQL_TICKS_TXN, 0).await?;
    let ready = view_state(pg).await?.is_some_and(|s| s.covers(target));
    Ok(ViewReadiness {
        target,
        state: Mutex::new(Readiness {
            ready,
            checked: Some(Instant::now()),
            rebuild: None,
        }),
    })
}

/// QuestDB's refusal to index a column that is indexed.
fn already_indexed(e: &StoreError) -> bool {
    matches!(e, StoreError::Postgres(pe)
        if pe.as_db_error().is_some_and(|d| d.message().contains("already indexed")))
}

impl ViewReadiness {
    /// Whether reads may use the view now.
    pub(super) async fn ready(&self, pg: &PgConn) -> Result<bool> {
        {
            let mut s = lock(&self.state);
            let every = if s.ready {
                RECHECK_READY
            } else {
                RECHECK_WAITING
            };
            if s.checked.is_some_and(|t| t.elapsed() < every) {
                return Ok(s.ready);
            }
            s.checked = Some(Instant::now());
        }
        if self.target == i64::MAX {
            return Ok(false);
        }
        let state = view_state(pg).await?;
        let ok = state.as_ref().is_some_and(|s| s.covers(self.target));
        lock(&self.state).ready = ok;
        if let Some(s) = state.filter(|s| s.status == "invalid") {
            self.rebuild(pg, &s).await?;
        }
        Ok(ok)
    }

    /// Asks QuestDB to rebuild an invalid view (once in a while, not on every check).
    async fn rebuild(&self, pg: &PgConn, s: &ViewState) -> Result<()> {
        {
            let mut st = lock(&self.state);
            st.ready = false;
            if st.rebuild.is_some_and(|t| t.elapsed() < REBUILD_AGAIN) {
                return Ok(());
            }
            st.rebuild = Some(Instant::now());
        }
        tracing::warn!(reason = %s.reason, "the QuestDB view candles_1d is invalid; rebuilding it from the ticks");
        pg.batch(&[VIEW_REFRESH_FULL.to_owned()]).await
    }

    /// A state seen while syncing: a view that has caught up with the target is read from now
    /// on, not only after the next recheck (a read right after a sync would otherwise see the
    /// "not yet" of a check made less than [`RECHECK_WAITING`] before).
    fn note_caught_up(&self, s: &ViewState) {
        if s.covers(self.target) {
            let mut state = lock(&self.state);
            state.ready = true;
            state.checked = Some(Instant::now());
        }
    }

    /// Waits until the view has caught up with `ticks` transaction `txn` and its own writes are
    /// applied (what [`crate::TickStore::sync`] needs after the ticks' WAL is applied).
    pub(super) async fn wait_caught_up(
        &self,
        pg: &PgConn,
        txn: i64,
        deadline: Instant,
    ) -> Result<()> {
        let mut view_txn = None;
        loop {
            match (view_txn, view_state(pg).await?) {
                (_, None) => return Ok(()),
                (_, Some(s)) if s.status == "invalid" => self.rebuild(pg, &s).await?,
                (None, Some(s)) if s.covers(txn) => {
                    self.note_caught_up(&s);
                    view_txn = Some(one_i64(pg, SQL_VIEW_WAL, 1).await?);
                    continue;
                }
                (Some(v), Some(_)) if one_i64(pg, SQL_VIEW_WAL, 0).await? >= v => return Ok(()),
                _ => {}
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Timeout(format!(
                    "the view candles_1d did not catch up with ticks transaction {txn}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_cut_day_is_read_from_the_ticks() {
        let to = Timestamp::from_micros(3 * DAY_MICROS + 5);
        assert_eq!(
            split(Interval::DAY, to),
            Some(Timestamp::from_micros(3 * DAY_MICROS))
        );
        assert_eq!(
            split(Interval::Month, to),
            Some(Timestamp::from_micros(3 * DAY_MICROS))
        );
        assert_eq!(split(Interval::HOUR, to), None);
        assert_eq!(split(Interval::Seconds(7200), to), None);
        assert_eq!(
            sql_combos(
                true,
                &PriceFilter::only(
                    tcg_schemas::Source::Tcgplayer,
                    tcg_schemas::PriceKind::Market
                )
            ),
            "SELECT series, source, kind, count() FROM candles_1d WHERE product = $1 AND observed_at < $2 \
AND first_at < $2 AND source IN ('tcgplayer') AND kind IN ('market')"
        );
    }

    #[test]
    fn the_view_names_its_columns_in_order() {
        let select = VIEW_DDL.split(" FROM ticks").next().unwrap();
        let named: Vec<&str> = select
            .split(", ")
            .map(|c| c.rsplit(' ').next().unwrap())
            .collect();
        assert_eq!(named, VIEW_COLUMNS);
        assert!(INDEXED.iter().all(|c| VIEW_COLUMNS.contains(c)));
    }

    #[test]
    fn an_invalid_or_lagging_view_is_not_read() {
        let s = |status: &str, txn| ViewState {
            status: status.into(),
            refreshed_txn: txn,
            reason: String::new(),
        };
        assert!(s("valid", 5).covers(5));
        assert!(s("refreshing", 6).covers(5));
        assert!(!s("valid", 4).covers(5));
        assert!(!s("refreshing", -1).covers(0));
        assert!(!s("invalid", 9).covers(5));
    }
}
