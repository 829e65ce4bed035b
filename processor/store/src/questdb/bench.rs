//! `tcgtracker bench store --questdb-http URL --questdb-pg URL`: the SQLite bench's figures on
//! QuestDB, each beside a baseline measured in the same run. Ingest goes through our store
//! (`write_ticks`, flushed every `--batch` rows) and, as the baseline, through a bare questdb-rs
//! `Sender` writing the same rows with the same flush size into a scratch table of the same
//! columns without DEDUP. Then one year of daily candles of a series, the latest prices of 100
//! series and the 7-day movers of all series.

use std::time::{Duration, Instant};

use questdb::ingress::{Buffer, Sender, TimestampMicros};
use serde_json::json;
use tcg_schemas::{PriceKind, Source, Tick, Timestamp};
use tokio_postgres::Client;

use super::{config::QuestDbConfig, ilp::ilp_err, store::QuestDbStore};
use crate::{
    BenchStoreConfig, Interval, Result, StoreError, TickStore,
    bench::{BENCH_END, Generator, Rng, ms, round3, stats},
    model::{CandleQuery, FillMode, MoversQuery, PriceFilter, SeriesTarget},
};

/// The baseline's table: the columns of `ticks`, no DEDUP.
const BARE_TABLE: &str = "bench_bare_ticks";

fn bare_ddl() -> String {
    format!(
        "CREATE TABLE {BARE_TABLE} (observed_at TIMESTAMP, series SYMBOL CAPACITY 262144 CACHE, source SYMBOL, kind SYMBOL, \
game SYMBOL, orig_currency SYMBOL, ship_currency SYMBOL, listing_id VARCHAR, product_id LONG, price_cents LONG, \
orig_minor LONG, ship_minor LONG, confidence LONG, heartbeat BOOLEAN) TIMESTAMP(observed_at) PARTITION BY DAY WAL"
    )
}

/// Runs the QuestDB bench on a runtime of its own.
pub fn run(args: &BenchStoreConfig, http: &str, pg: &str) -> Result<serde_json::Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(bench(args, http, pg))
}

/// The bare writer's row: what `encode_tick` writes, by hand on a raw buffer.
fn bare_row(buf: &mut Buffer, t: &Tick) -> questdb::Result<()> {
    buf.table(BARE_TABLE)?
        .symbol("series", &t.series_id)?
        .symbol("source", t.source.as_str())?
        .symbol("kind", t.kind.as_str())?
        .symbol("game", t.game.slug())?
        .symbol("orig_currency", t.original.currency.as_str())?
        .column_str("listing_id", t.listing_id.as_deref().unwrap_or(""))?
        .column_i64("product_id", t.series.product_id().0 as i64)?
        .column_i64("price_cents", t.price_usd.minor)?
        .column_i64("orig_minor", t.original.minor)?
        .column_bool("heartbeat", t.heartbeat)?
        .at(TimestampMicros::new(t.observed_at.as_micros()))
}

async fn one_i64(pg: &Client, sql: &str) -> Result<i64> {
    Ok(pg
        .query_one(sql, &[])
        .await?
        .try_get::<_, Option<i64>>(0)?
        .unwrap_or(0))
}

/// Waits until `table`'s WAL is applied up to what its sequencer holds now.
async fn wait_applied(pg: &Client, table: &str) -> Result<()> {
    let sql = format!(
        "SELECT writerTxn, sequencerTxn, suspended FROM wal_tables() WHERE name = '{table}'"
    );
    let target: i64 = pg.query_one(&sql, &[]).await?.try_get(1)?;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let r = pg.query_one(&sql, &[]).await?;
        if r.try_get::<_, bool>(2)? {
            return Err(StoreError::WalSuspended {
                table: table.to_owned(),
                reason: "seen in wal_tables()".into(),
            });
        }
        if r.try_get::<_, i64>(0)? >= target {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(StoreError::Timeout(format!("{table} WAL not applied")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn bench(args: &BenchStoreConfig, http: &str, pg_url: &str) -> Result<serde_json::Value> {
    let end = BENCH_END;
    let mut config = QuestDbConfig::from_urls(http, pg_url)?;
    // Flushes by rows alone, every --batch rows (one write_ticks call of --batch rows).
    config.max_rows = args.batch;
    config.max_bytes = usize::MAX / 2;
    config.max_age = Duration::from_secs(24 * 3600);
    config.retry_timeout = Duration::from_secs(60);
    config.request_timeout = Duration::from_secs(60);
    config.visibility_timeout = Duration::from_secs(1800);
    let store = QuestDbStore::connect(config.clone()).await?;
    let (pg, conn) = tokio_postgres::connect(pg_url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let rows_before = one_i64(&pg, "SELECT count() FROM ticks").await?;

    // ---- ingest through the store ----
    let mut gen_ = Generator::new(args, end);
    let mut write_secs = 0.0;
    let t_all = Instant::now();
    let mut i = 0u64;
    while i < args.ticks {
        let n = (args.batch as u64).min(args.ticks - i);
        let batch: Vec<Tick> = (i..i + n).map(|k| gen_.tick(k)).collect();
        let t = Instant::now();
        store.write_ticks(&batch).await?;
        write_secs += t.elapsed().as_secs_f64();
        i += n;
    }
    let t = Instant::now();
    store.flush().await?;
    write_secs += t.elapsed().as_secs_f64();
    let gen_secs = t_all.elapsed().as_secs_f64() - write_secs;
    let t = Instant::now();
    store.sync().await?;
    let apply_wait_secs = t.elapsed().as_secs_f64();
    let ingest_rps = args.ticks as f64 / write_secs;
    let applied_rps = args.ticks as f64 / (write_secs + apply_wait_secs);

    // ---- baseline: a bare Sender, same rows, same flush size, a table without DEDUP ----
    pg.simple_query(&format!("DROP TABLE IF EXISTS {BARE_TABLE}"))
        .await?;
    pg.simple_query(&bare_ddl()).await?;
    let mut sender = Sender::from_conf(config.ilp_conf()).map_err(ilp_err)?;
    let mut gen_ = Generator::new(args, end);
    let mut base_secs = 0.0;
    let mut i = 0u64;
    let mut buf = sender.new_buffer();
    while i < args.ticks {
        let n = (args.batch as u64).min(args.ticks - i);
        let batch: Vec<Tick> = (i..i + n).map(|k| gen_.tick(k)).collect();
        let t = Instant::now();
        // The flush blocks: on the blocking pool, as the store does it.
        let (s, b, res) = tokio::task::spawn_blocking(move || {
            let res = batch.iter().try_for_each(|tick| bare_row(&mut buf, tick));
            let res = res.and_then(|()| sender.flush(&mut buf));
            (sender, buf, res)
        })
        .await?;
        (sender, buf) = (s, b);
        res.map_err(ilp_err)?;
        base_secs += t.elapsed().as_secs_f64();
        i += n;
    }
    let t = Instant::now();
    wait_applied(&pg, BARE_TABLE).await?;
    let base_apply_secs = t.elapsed().as_secs_f64();
    let base_rps = args.ticks as f64 / base_secs;
    let base_applied_rps = args.ticks as f64 / (base_secs + base_apply_secs);
    let bare_rows = one_i64(&pg, &format!("SELECT count() FROM {BARE_TABLE}")).await?;
    pg.simple_query(&format!("DROP TABLE IF EXISTS {BARE_TABLE}"))
        .await?;
    let stored_rows = one_i64(&pg, "SELECT count() FROM ticks").await?;
    let db_bytes = one_i64(&pg, "SELECT sum(diskSize) FROM table_partitions('ticks')")
        .await
        .ok();

    // ---- reads ----
    let mut rng = Rng(42);
    let runs = args.runs.max(1);
    let ids: Vec<String> = gen_.keys.iter().map(|k| k.0.clone()).collect();
    let from = Timestamp::from_micros(end - 365 * 86_400_000_000);
    let to = Timestamp::from_micros(end);
    let candle_q = |id: String| CandleQuery {
        target: SeriesTarget::Series(id),
        prices: PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
        interval: Interval::DAY,
        from,
        to,
        fill: FillMode::PreviousClose,
    };
    let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let (mut hist, mut hist_base, mut lat, mut lat_base, mut mov, mut mov_base) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    // One untimed pass of each read first (cold caches, compiled plans), reported apart.
    let t = Instant::now();
    store.candles(&candle_q(ids[0].clone())).await?;
    let cold_history_ms = ms(t);
    let t = Instant::now();
    store
        .latest_prices(&ids[..100.min(ids.len())], &PriceFilter::any())
        .await?;
    let cold_latest_ms = ms(t);
    let mut candles_returned = 0usize;
    let mut movers_returned = 0usize;
    for _ in 0..runs {
        let id = ids[rng.below(ids.len() as u64) as usize].clone();
        let t = Instant::now();
        let c = store.candles(&candle_q(id.clone())).await?;
        hist.push(ms(t));
        candles_returned = c.first().map_or(0, |s| s.candles.len());
        let t = Instant::now();
        one_i64(
            &pg,
            &format!(
                "SELECT count() FROM ticks WHERE series = {} AND source = 'tcgplayer' AND kind = 'market' AND observed_at >= {} AND observed_at < {}",
                lit(&id),
                super::sql::ts_lit(from),
                super::sql::ts_lit(to)
            ),
        )
        .await?;
        hist_base.push(ms(t));

        let some: Vec<String> = (0..100)
            .map(|_| ids[rng.below(ids.len() as u64) as usize].clone())
            .collect();
        let t = Instant::now();
        let l = store.latest_prices(&some, &PriceFilter::any()).await?;
        lat.push(ms(t));
        let distinct: std::collections::HashSet<&String> = some.iter().collect();
        if l.len() != distinct.len() {
            return Err(StoreError::Corrupt(format!(
                "latest returned {} rows for {} series",
                l.len(),
                distinct.len()
            )));
        }
        let list: Vec<String> = some.iter().map(|s| lit(s)).collect();
        let t = Instant::now();
        pg.query(
            &format!(
                "SELECT series, price_cents FROM ticks WHERE series IN ({}) LATEST ON observed_at PARTITION BY series",
                list.join(", ")
            ),
            &[],
        )
        .await?;
        lat_base.push(ms(t));
    }
    let mut cold_movers_ms = None;
    for _ in 0..=runs.min(10) {
        let q = MoversQuery {
            since: Timestamp::from_micros(end - 7 * 86_400_000_000),
            as_of: to,
            game: None,
            group_id: None,
            prices: PriceFilter::any(),
            limit: 20,
            min_start_cents: 0,
            start_lookback_secs: 7 * 86_400,
        };
        let t = Instant::now();
        let m = store.movers(&q).await?;
        if cold_movers_ms.is_none() {
            cold_movers_ms = Some(ms(t));
            continue;
        }
        mov.push(ms(t));
        movers_returned = m.gainers.len() + m.losers.len();
        let t = Instant::now();
        one_i64(
            &pg,
            &format!(
                "SELECT count() FROM (SELECT series, price_cents FROM ticks WHERE observed_at <= {} LATEST ON observed_at PARTITION BY series)",
                super::sql::ts_lit(to)
            ),
        )
        .await?;
        mov_base.push(ms(t));
    }
    drop(store);
    let (h50, hmax) = stats(hist);
    let (hb50, _) = stats(hist_base);
    let (l50, lmax) = stats(lat);
    let (lb50, _) = stats(lat_base);
    let (m50, mmax) = stats(mov);
    let (mb50, _) = stats(mov_base);
    Ok(json!({
        "bench": "store",
        "backend": "questdb",
        "ticks": args.ticks,
        "series": args.series,
        "days": args.days,
        "batch": args.batch,
        "runs": runs,
        "note": "QuestDB over loopback: ILP/HTTP writes, PGWire reads (each read is one or more SQL round trips). Ingest rows_per_s counts until every row is acknowledged by the server (flushed); applied_rows_per_s until the WAL is applied (visible to reads). p50 and max exclude one untimed warm-up run, reported as cold_first_ms",
        "db_bytes": db_bytes,
        "ticks_rows_before": rows_before,
        "ticks_rows_after": stored_rows,
        "ingest": {
            "rows_per_s": ingest_rps.round(),
            "applied_rows_per_s": applied_rps.round(),
            "generate_s": round3(gen_secs),
            "baseline": format!("a bare questdb-rs Sender: the same rows, flushed every {} rows, into a table of the same columns without DEDUP", args.batch),
            "baseline_rows_per_s": base_rps.round(),
            "baseline_applied_rows_per_s": base_applied_rps.round(),
            "baseline_rows": bare_rows,
            "ratio_to_baseline": round3(ingest_rps / base_rps),
            "applied_ratio_to_baseline": round3(applied_rps / base_applied_rps),
            "target_rows_per_s": 200_000,
            "meets_target": ingest_rps >= 200_000.0,
        },
        "history_1y_daily": {
            "p50_ms": round3(h50), "max_ms": round3(hmax), "cold_first_ms": round3(cold_history_ms), "candles": candles_returned,
            "baseline": "SELECT count() of the same series, source, kind and year (the scan without bucketing), one query",
            "baseline_p50_ms": round3(hb50), "ratio_to_baseline": round3(h50 / hb50.max(1e-6)),
            "target_ms": 5, "meets_target": hmax <= 5.0,
        },
        "latest_100": {
            "p50_ms": round3(l50), "max_ms": round3(lmax), "cold_first_ms": round3(cold_latest_ms),
            "baseline": "one LATEST ON … PARTITION BY series of the same 100 series (one key instead of series, source, kind)",
            "baseline_p50_ms": round3(lb50), "ratio_to_baseline": round3(l50 / lb50.max(1e-6)),
            "target_ms": 5, "meets_target": lmax <= 5.0,
        },
        "movers_all_series_7d": {
            "p50_ms": round3(m50), "max_ms": round3(mmax), "cold_first_ms": round3(cold_movers_ms.unwrap_or(0.0)), "returned": movers_returned,
            "baseline": "count() of LATEST ON … PARTITION BY series over all ticks up to as_of: the 'now' side alone, one key",
            "baseline_p50_ms": round3(mb50), "ratio_to_baseline": round3(m50 / mb50.max(1e-6)),
            "target_ms": 500, "meets_target": mmax <= 500.0,
        },
    }))
}
