//! SQL text. Values that come from callers are bound ($n); instants, our own vocabularies and
//! numbers are written as literals by these functions (never caller text).

use chrono::NaiveDateTime;
use tcg_schemas::Timestamp;
use tokio_postgres::types::ToSql;

use super::ddl::TABLES;
use crate::{Interval, Result, model::*};

/// A bind value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Long(i64),
    Ts(NaiveDateTime),
}

impl Param {
    pub(crate) fn as_sql(&self) -> &(dyn ToSql + Sync) {
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
pub(crate) fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn in_list(col: &str, items: &[String]) -> String {
    format!("{col} IN ({})", items.join(", "))
}

/// `col IN ($1, $2, …)` of `n` binds; one bind is `col = $1`: QuestDB types the bind of
/// `IN ($1)` as an array (`varchar[]`), which a text bind does not fit.
fn in_binds(col: &str, n: usize) -> String {
    if n == 1 {
        return format!("{col} = $1");
    }
    let binds: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    in_list(col, &binds)
}

pub(crate) fn price_filter_sql(prices: &PriceFilter, prefix: &str) -> String {
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
    format!(
        "SELECT series, source, kind, observed_at, listing_id, price_cents, orig_minor, orig_currency, confidence, agreeing FROM ticks WHERE {}{} LATEST ON observed_at PARTITION BY series, source, kind",
        in_binds("series", n),
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

/// The WAL state of our tables: name, suspended, writerTxn (applied), sequencerTxn (accepted),
/// errorMessage.
pub fn sql_wal_state() -> String {
    let names: Vec<String> = TABLES.iter().map(|t| lit(t)).collect();
    format!(
        "SELECT name, suspended, writerTxn, sequencerTxn, errorMessage FROM wal_tables() WHERE {}",
        in_list("name", &names)
    )
}
