//! The tick writer: ticks flattened into rows, series ids interned, idempotent inserts in one
//! transaction per batch.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use tcg_schemas::{Currency, Money, SeriesKey, Tick, time::MICROS_PER_DAY};

use super::{Writer, to_i64, usd_cents};
use crate::{
    Result,
    codes::{kind_code, source_code},
    model::WriteReport,
};

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
    /// The agreeing sources, comma-joined; `None` when there are none.
    pub(crate) agreeing: Option<String>,
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
            agreeing: crate::codes::sources_text(&t.agreeing),
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

pub(super) fn write_rows(w: &mut Writer, rows: &[TickRow]) -> Result<WriteReport> {
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
            "INSERT OR IGNORE INTO ticks (day, sid, source, kind, ts, listing_id, price_cents, orig_minor, orig_ccy, ship_minor, ship_ccy, confidence, heartbeat, agreeing)
             VALUES (?13, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14)",
        )?;
        let mut latest = tx.prepare_cached(
            "INSERT INTO latest (sid, source, kind, first_ts, ts, listing_id, price_cents, orig_minor, orig_ccy, confidence, agreeing)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (sid, source, kind) DO UPDATE SET
               first_ts = min(latest.first_ts, excluded.first_ts),
               ts = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.ts ELSE latest.ts END,
               listing_id = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.listing_id ELSE latest.listing_id END,
               price_cents = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.price_cents ELSE latest.price_cents END,
               orig_minor = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.orig_minor ELSE latest.orig_minor END,
               orig_ccy = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.orig_ccy ELSE latest.orig_ccy END,
               confidence = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.confidence ELSE latest.confidence END,
               agreeing = CASE WHEN (excluded.ts, excluded.listing_id) >= (latest.ts, latest.listing_id) THEN excluded.agreeing ELSE latest.agreeing END",
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
                r.ts.div_euclid(MICROS_PER_DAY),
                r.agreeing
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
                    r.orig_ccy.as_str(),
                    r.confidence,
                    r.agreeing
                ])?;
                super::rollups::add(
                    &tx,
                    super::rollups::RolledTick {
                        sid: *sid,
                        source: r.source,
                        kind: r.kind,
                        ts: r.ts,
                        listing_id: &r.listing_id,
                        price_cents: r.price_cents,
                    },
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(WriteReport {
        rows: rows.len(),
        new_rows: Some(new_rows),
    })
}
