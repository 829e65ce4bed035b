//! Price reads on a reader connection: latest prices, candles, movers and valuation price points.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use tcg_schemas::{
    Money, PriceKind, ProductId, SeriesKey, Source, Timestamp, time::MICROS_PER_DAY,
};

use super::{ccy, placeholders, rollups, to_i64, to_u64};
use crate::{
    Result, StoreError,
    codes::{kind_code, kind_from_code, source_code, source_from_code, sources_from_text},
    interval::{Interval, RawBucket, aggregate, fill_candles},
    model::*,
    movers,
    valuation::PriceBook,
};

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

/// The non-empty buckets of one (series, source, kind) in `[start, to)`: from the hourly or
/// daily rollup for whole buckets (merged into weeks or months) and the raw ticks of the bucket
/// `to` cuts; from the raw ticks alone for other widths.
fn buckets(
    conn: &Connection,
    interval: Interval,
    (sid, s, k): (i64, Source, PriceKind),
    start: i64,
    to: i64,
) -> Result<Vec<RawBucket>> {
    let Some((rollup, split)) = rollups::plan(interval, to) else {
        return Ok(aggregate(interval, points(conn, sid, s, k, start, to)?));
    };
    let Some((first, last, _)) = bounds(conn, sid, s, k)? else {
        return Ok(Vec::new());
    };
    let key = (sid, source_code(s), kind_code(k));
    let mut narrow = rollups::read(conn, rollup, key, (start, split), (first, last))?;
    let tail = points(conn, sid, s, k, split.max(start), to)?;
    narrow.extend(aggregate(rollup.width(), tail));
    Ok(if rollup.width() == interval {
        narrow
    } else {
        crate::interval::merge(interval, narrow)
    })
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
            let buckets = buckets(
                conn,
                q.interval,
                (sid, s, k),
                start.as_micros(),
                q.to.as_micros(),
            )?;
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
        "SELECT l.source, l.kind, l.ts, l.listing_id, l.price_cents, l.orig_minor, l.orig_ccy,
                l.confidence, l.agreeing
         FROM series s JOIN latest l ON l.sid = s.sid WHERE s.series_id = ?1 ORDER BY l.source, l.kind",
    )?;
    let mut out = Vec::new();
    for id in ids {
        let rows = stmt
            .query_map([id], |r| {
                Ok(LatestRow {
                    source: r.get(0)?,
                    kind: r.get(1)?,
                    ts: r.get(2)?,
                    listing: r.get(3)?,
                    cents: r.get(4)?,
                    orig: r.get(5)?,
                    ccy: r.get(6)?,
                    confidence: r.get(7)?,
                    agreeing: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for row in rows {
            let (s, k) = (source_from_code(row.source)?, kind_from_code(row.kind)?);
            if !prices.matches(s, k) {
                continue;
            }
            out.push(LatestPrice {
                series_id: id.clone(),
                source: s,
                kind: k,
                observed_at: Timestamp::from_micros(row.ts),
                price_usd: Money::usd_cents(row.cents),
                original: Money::new(row.orig, ccy(&row.ccy)?),
                listing_id: row.listing,
                confidence: row.confidence,
                agreeing: sources_from_text(row.agreeing.as_deref())?,
            });
        }
    }
    Ok(out)
}

/// One row of the `latest` table as read.
struct LatestRow {
    source: i64,
    kind: i64,
    ts: i64,
    listing: String,
    cents: i64,
    orig: i64,
    ccy: String,
    confidence: Option<u8>,
    agreeing: Option<String>,
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

/// Price points of each series for valuing it at any instant in `[from, to]`: the last point at
/// or before `from` and every point after it up to `to`; when every instant asked for is a day's
/// end (`day_ends`), each day's close from the daily rollup instead of every point.
pub(crate) fn price_book(
    conn: &Connection,
    series_ids: &[String],
    (from, to): (i64, i64),
    price: &ValuationPrice,
    day_ends: bool,
) -> Result<PriceBook> {
    let mut book = PriceBook::default();
    for series_id in series_ids {
        for (sid, _) in target_series(conn, &SeriesTarget::Series(series_id.clone()))? {
            for (s, k) in combos(conn, sid, &price.prices)? {
                if let Some((ts, c)) = last_before(conn, sid, s, k, from)? {
                    book.insert(series_id, ts, c);
                }
                if to <= from {
                    continue;
                }
                let after = if day_ends {
                    let Some((first, last, _)) = bounds(conn, sid, s, k)? else {
                        continue;
                    };
                    let key = (sid, source_code(s), kind_code(k));
                    rollups::day_closes(conn, key, (from + 1, to + 1), (first, last))?
                } else {
                    points(conn, sid, s, k, from + 1, to + 1)?
                };
                for (ts, c) in after {
                    book.insert(series_id, ts, c);
                }
            }
        }
    }
    book.seal();
    Ok(book)
}
