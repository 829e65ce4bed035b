//! Daily candles kept beside the ticks (`candles_1d`, `schemas/sql/sqlite/0004_rollups.sql`):
//! each new tick updates its day's bucket in the transaction that writes it, and a history of
//! days, weeks or months reads one row per day instead of every tick.
//!
//! There is no hourly rollup, on measurement: the markets are polled every few minutes at most,
//! so an hour holds about one tick of a series and an hourly rollup as many rows as the ticks;
//! keeping one as well cut ingest from 213 k to 125 k ticks/s (`bench store`, 2 M ticks, 10,000
//! series) and would not make an hourly read touch fewer rows. Hours are read from the ticks.
//!
//! A bucket keeps the `(ts, listing_id)` its open and close came from, so a late tick takes
//! either only when it sorts first (or last) in the order the raw ticks are read in: a rollup
//! equals the candle aggregated from the raw ticks, whatever order they arrived in
//! (`tests/rollups.rs` checks it on random data).

use rusqlite::{Connection, params};
use tcg_schemas::Timestamp;

use crate::{
    Result,
    interval::{Interval, RawBucket},
};

const DAY_MICROS: i64 = 86_400_000_000;

/// A rollup: its bucket width, the span of its clustering `part`, and its statements.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rollup {
    width: i64,
    part: i64,
    upsert: &'static str,
    select: &'static str,
}

/// The upsert of one new tick into a rollup table (`?1` part, `?2` sid, `?3` source, `?4` kind,
/// `?5` bucket, `?6` ts, `?7` listing, `?8` cents).
macro_rules! upsert {
    ($table:literal) => {
        concat!(
            "INSERT INTO ", $table, " (part, sid, source, kind, bucket, open_ts, open_listing, open,
                 high, low, close_ts, close_listing, close, count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8, ?6, ?7, ?8, 1)
             ON CONFLICT (part, sid, source, kind, bucket) DO UPDATE SET
               open = CASE WHEN (excluded.open_ts, excluded.open_listing) < (open_ts, open_listing)
                           THEN excluded.open ELSE open END,
               open_listing = CASE WHEN (excluded.open_ts, excluded.open_listing) < (open_ts, open_listing)
                           THEN excluded.open_listing ELSE open_listing END,
               open_ts = CASE WHEN (excluded.open_ts, excluded.open_listing) < (open_ts, open_listing)
                           THEN excluded.open_ts ELSE open_ts END,
               close = CASE WHEN (excluded.close_ts, excluded.close_listing) >= (close_ts, close_listing)
                           THEN excluded.close ELSE close END,
               close_listing = CASE WHEN (excluded.close_ts, excluded.close_listing) >= (close_ts, close_listing)
                           THEN excluded.close_listing ELSE close_listing END,
               close_ts = CASE WHEN (excluded.close_ts, excluded.close_listing) >= (close_ts, close_listing)
                           THEN excluded.close_ts ELSE close_ts END,
               high = max(high, excluded.high),
               low = min(low, excluded.low),
               count = count + 1"
        )
    };
}

/// The buckets of one (series, source, kind) in `[?6, ?7)`, one seek per part `?1..=?2`.
macro_rules! select {
    ($table:literal) => {
        concat!(
            "WITH RECURSIVE p(part) AS (SELECT ?1 UNION ALL SELECT part + 1 FROM p WHERE part < ?2)
             SELECT c.bucket, c.open, c.high, c.low, c.close, c.count FROM p CROSS JOIN ",
            $table,
            " c
             WHERE c.part = p.part AND c.sid = ?3 AND c.source = ?4 AND c.kind = ?5
               AND c.bucket >= ?6 AND c.bucket < ?7
             ORDER BY c.bucket"
        )
    };
}

const DAILY: Rollup = Rollup {
    width: DAY_MICROS,
    part: 28 * DAY_MICROS,
    upsert: upsert!("candles_1d"),
    select: select!("candles_1d"),
};

/// One new tick, as the rollups take it.
#[derive(Debug, Clone, Copy)]
pub(super) struct RolledTick<'a> {
    pub sid: i64,
    pub source: i64,
    pub kind: i64,
    pub ts: i64,
    pub listing_id: &'a str,
    pub price_cents: i64,
}

/// Adds a tick written for the first time to its day's bucket.
pub(super) fn add(conn: &Connection, t: RolledTick<'_>) -> Result<()> {
    let r = DAILY;
    conn.prepare_cached(r.upsert)?.execute(params![
        t.ts.div_euclid(r.part),
        t.sid,
        t.source,
        t.kind,
        t.ts - t.ts.rem_euclid(r.width),
        t.ts,
        t.listing_id,
        t.price_cents
    ])?;
    Ok(())
}

/// The rollup a history of `interval` can be read from, if any.
fn rollup_for(interval: Interval) -> Option<Rollup> {
    match interval {
        Interval::Seconds(86_400) | Interval::Week | Interval::Month => Some(DAILY),
        Interval::Seconds(_) => None,
    }
}

/// Where a read of `[start, to)` at `interval` comes from: whole rollup buckets up to `split`,
/// raw ticks from `split` to `to` (the part of a bucket `to` cuts). `None`: no rollup serves
/// this interval.
pub(super) fn plan(interval: Interval, to: i64) -> Option<(Rollup, i64)> {
    let r = rollup_for(interval)?;
    Some((r, to - to.rem_euclid(r.width)))
}

impl Rollup {
    /// The rollup's width, for aggregating the raw tail at the same width.
    pub fn width(self) -> Interval {
        Interval::Seconds(self.width / 1_000_000)
    }
}

/// The first and last `part` holding buckets in `[start, end)` of a series whose ticks span
/// `ticks` (first, last); `None` when there are none.
fn parts(r: Rollup, (start, end): (i64, i64), ticks: (i64, i64)) -> Option<(i64, i64)> {
    let lo = start.max(ticks.0 - ticks.0.rem_euclid(r.width));
    let hi = end.min(ticks.1 + 1);
    (lo < hi).then(|| (lo.div_euclid(r.part), (hi - 1).div_euclid(r.part)))
}

/// Rollup buckets of one (series, source, kind) starting in `[start, end)`, in time order;
/// `ticks` bounds the days looked at (the series' first and last tick).
pub(super) fn read(
    conn: &Connection,
    r: Rollup,
    key: (i64, i64, i64),
    (start, end): (i64, i64),
    ticks: (i64, i64),
) -> Result<Vec<RawBucket>> {
    let Some((first, last)) = parts(r, (start, end), ticks) else {
        return Ok(Vec::new());
    };
    let rows = conn
        .prepare_cached(r.select)?
        .query_map(
            params![first, last, key.0, key.1, key.2, start, end],
            |row| {
                Ok(RawBucket {
                    start: Timestamp::from_micros(row.get(0)?),
                    open: row.get(1)?,
                    high: row.get(2)?,
                    low: row.get(3)?,
                    close: row.get(4)?,
                    count: row.get::<_, i64>(5)?.unsigned_abs(),
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// `(close_ts, close)` of the days of one (series, source, kind) in `[start, end)` (both day
/// starts): the last price of each day, which is all a valuation at day ends needs.
/// `ticks` bounds the days looked at (the series' first and last tick).
pub(super) fn day_closes(
    conn: &Connection,
    key: (i64, i64, i64),
    (start, end): (i64, i64),
    ticks: (i64, i64),
) -> Result<Vec<(i64, i64)>> {
    let Some((first, last)) = parts(DAILY, (start, end), ticks) else {
        return Ok(Vec::new());
    };
    let rows = conn
        .prepare_cached(
            "WITH RECURSIVE p(part) AS (SELECT ?1 UNION ALL SELECT part + 1 FROM p WHERE part < ?2)
             SELECT c.close_ts, c.close FROM p CROSS JOIN candles_1d c
             WHERE c.part = p.part AND c.sid = ?3 AND c.source = ?4 AND c.kind = ?5
               AND c.bucket >= ?6 AND c.bucket < ?7",
        )?
        .query_map(
            params![first, last, key.0, key.1, key.2, start, end],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_bucket_is_read_raw() {
        let (r, split) = plan(Interval::DAY, 3 * DAY_MICROS + 5).unwrap();
        assert_eq!(split, 3 * DAY_MICROS);
        assert_eq!(r.width(), Interval::DAY);
        let (_, split) = plan(Interval::Month, 3 * DAY_MICROS).unwrap();
        assert_eq!(split, 3 * DAY_MICROS);
        assert!(plan(Interval::Seconds(60), 0).is_none());
        assert!(plan(Interval::HOUR, 0).is_none());
    }
}
