//! `tcgtracker bench store --questdb-http URL --questdb-pg URL`: the SQLite bench's figures on
//! QuestDB, each beside a baseline measured in the same run. Ingest goes through our store
//! (`write_ticks`, flushed every `--batch` rows) and, as the baseline, through a bare questdb-rs
//! `Sender` writing the same rows with the same flush size into a scratch table of the same
//! columns without DEDUP (and without the daily view `candles_1d` QuestDB keeps over `ticks`). Then
//! one year of daily candles of a series (from the daily view, beside the same candles read from
//! the ticks), the latest prices of 100 series and the 7-day movers of all series.

use std::time::{Duration, Instant};

use questdb::ingress::{Buffer, Sender, TimestampMicros};
use serde_json::json;
use tcg_schemas::Tick;
use tokio_postgres::Client;

use super::{config::QuestDbConfig, ilp::ilp_err, store::QuestDbStore};
use crate::{
    BenchStoreConfig, Result, StoreError, TickStore,
    bench::{
        ReadBaselines, ReadSamples, Rng, batches, ms, pick, pick_100, round3, series_ids,
        week_of_movers, year_of_candles, year_window,
    },
    model::PriceFilter,
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

/// The bench's store configuration: flushes by rows alone, every `batch` rows (one
/// `write_ticks` call of `batch` rows), with room for slow servers.
fn bench_config(http: &str, pg_url: &str, batch: usize) -> Result<QuestDbConfig> {
    let mut config = QuestDbConfig::from_urls(http, pg_url)?;
    config.max_rows = batch;
    config.max_bytes = usize::MAX / 2;
    config.max_age = Duration::from_secs(24 * 3600);
    config.retry_timeout = Duration::from_secs(60);
    config.request_timeout = Duration::from_secs(60);
    config.visibility_timeout = Duration::from_secs(1800);
    Ok(config)
}

async fn bench(args: &BenchStoreConfig, http: &str, pg_url: &str) -> Result<serde_json::Value> {
    let config = bench_config(http, pg_url, args.batch)?;
    let store = QuestDbStore::connect(config.clone()).await?;
    let (pg, conn) = tokio_postgres::connect(pg_url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let rows_before = one_i64(&pg, "SELECT count() FROM ticks").await?;
    let ingest = ingest_store(&store, args).await?;
    let baseline = ingest_baseline(&pg, &config, args).await?;
    let stored_rows = one_i64(&pg, "SELECT count() FROM ticks").await?;
    let db_bytes = one_i64(&pg, "SELECT sum(diskSize) FROM table_partitions('ticks')")
        .await
        .ok();
    let runs = args.runs.max(1);
    let raw = QuestDbStore::connect(QuestDbConfig {
        rollups: false,
        ..config
    })
    .await?;
    let stores = Stores {
        view: &store,
        raw: &raw,
    };
    let reads = measure_reads(stores, &pg, &series_ids(args), runs).await?;
    drop(store);
    let rows = Rows {
        before: rows_before,
        after: stored_rows,
        db_bytes,
    };
    Ok(report(args, runs, &rows, &ingest, &baseline, reads))
}

/// The ingest through the store, in seconds.
#[derive(Debug)]
struct StoreIngest {
    /// Writing and flushing (until the server acknowledged every row).
    write_secs: f64,
    /// Generating the ticks, between the writes.
    gen_secs: f64,
    /// Then waiting until the WAL is applied (the rows visible to reads).
    apply_wait_secs: f64,
}

/// Writes the generated ticks through the store (`write_ticks`, flushed every `--batch` rows),
/// then waits until they are applied.
async fn ingest_store(store: &QuestDbStore, args: &BenchStoreConfig) -> Result<StoreIngest> {
    let mut write_secs = 0.0;
    let t_all = Instant::now();
    for batch in batches(args) {
        let t = Instant::now();
        store.write_ticks(&batch).await?;
        write_secs += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    store.flush().await?;
    write_secs += t.elapsed().as_secs_f64();
    let gen_secs = t_all.elapsed().as_secs_f64() - write_secs;
    let t = Instant::now();
    store.sync().await?;
    Ok(StoreIngest {
        write_secs,
        gen_secs,
        apply_wait_secs: t.elapsed().as_secs_f64(),
    })
}

/// The baseline ingest: seconds writing, seconds until applied, and the rows the table held.
#[derive(Debug)]
struct BaselineIngest {
    secs: f64,
    apply_secs: f64,
    rows: i64,
}

/// The baseline: a bare `Sender`, the same rows, the same flush size, into a scratch table
/// without DEDUP (dropped after).
async fn ingest_baseline(
    pg: &Client,
    config: &QuestDbConfig,
    args: &BenchStoreConfig,
) -> Result<BaselineIngest> {
    pg.simple_query(&format!("DROP TABLE IF EXISTS {BARE_TABLE}"))
        .await?;
    pg.simple_query(&bare_ddl()).await?;
    let mut sender = Sender::from_conf(config.ilp_conf()).map_err(ilp_err)?;
    let mut secs = 0.0;
    let mut buf = sender.new_buffer();
    for batch in batches(args) {
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
        secs += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    wait_applied(pg, BARE_TABLE).await?;
    let apply_secs = t.elapsed().as_secs_f64();
    let rows = one_i64(pg, &format!("SELECT count() FROM {BARE_TABLE}")).await?;
    pg.simple_query(&format!("DROP TABLE IF EXISTS {BARE_TABLE}"))
        .await?;
    Ok(BaselineIngest {
        secs,
        apply_secs,
        rows,
    })
}

/// A string as a SQL literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The store measured, and the same store reading every candle from the ticks (the history's
/// baseline).
#[derive(Clone, Copy)]
struct Stores<'a> {
    view: &'a QuestDbStore,
    raw: &'a QuestDbStore,
}

/// The reads, each beside its baseline: one untimed pass of each first (cold caches, compiled
/// plans), reported apart; then `runs` timed runs (the movers at most 10).
async fn measure_reads(
    stores: Stores<'_>,
    pg: &Client,
    ids: &[String],
    runs: usize,
) -> Result<ReadSamples> {
    let store = stores.view;
    let mut rng = Rng(42);
    let mut samples = ReadSamples::default();
    let t = Instant::now();
    store.candles(&year_of_candles(ids[0].clone())).await?;
    samples.cold_history_ms = ms(t);
    let t = Instant::now();
    store
        .latest_prices(&ids[..100.min(ids.len())], &PriceFilter::any())
        .await?;
    samples.cold_latest_ms = ms(t);
    for _ in 0..runs {
        time_history(stores, pick(&mut rng, ids), &mut samples).await?;
        time_latest(store, pg, &pick_100(&mut rng, ids), &mut samples).await?;
    }
    time_movers(store, pg, runs, &mut samples).await?;
    Ok(samples)
}

/// One year of daily candles of series `id`; its baseline reads the same candles from the ticks.
async fn time_history(stores: Stores<'_>, id: String, samples: &mut ReadSamples) -> Result<()> {
    let q = year_of_candles(id.clone());
    let t = Instant::now();
    let c = stores.view.candles(&q).await?;
    samples.history.push(ms(t));
    samples.candles_returned = c.first().map_or(0, |s| s.candles.len());
    let t = Instant::now();
    let raw = stores.raw.candles(&q).await?;
    samples.history_base.push(ms(t));
    if raw != c {
        return Err(StoreError::Corrupt(format!(
            "the daily view's candles of {id} differ from the ticks'"
        )));
    }
    Ok(())
}

/// The latest prices of 100 series; its baseline is one `LATEST ON … PARTITION BY series` of
/// the same series.
async fn time_latest(
    store: &QuestDbStore,
    pg: &Client,
    some: &[String],
    samples: &mut ReadSamples,
) -> Result<()> {
    let t = Instant::now();
    let l = store.latest_prices(some, &PriceFilter::any()).await?;
    samples.latest.push(ms(t));
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
    samples.latest_base.push(ms(t));
    Ok(())
}

/// The 7-day movers of all series: one untimed run, then up to 10 timed ones; the baseline
/// counts the latest row of every series.
async fn time_movers(
    store: &QuestDbStore,
    pg: &Client,
    runs: usize,
    samples: &mut ReadSamples,
) -> Result<()> {
    let (_, to) = year_window();
    for _ in 0..=runs.min(10) {
        let q = week_of_movers();
        let t = Instant::now();
        let m = store.movers(&q).await?;
        if samples.cold_movers_ms.is_none() {
            samples.cold_movers_ms = Some(ms(t));
            continue;
        }
        samples.movers.push(ms(t));
        samples.movers_returned = m.gainers.len() + m.losers.len();
        let t = Instant::now();
        one_i64(
            pg,
            &format!(
                "SELECT count() FROM (SELECT series, price_cents FROM ticks WHERE observed_at <= {} LATEST ON observed_at PARTITION BY series)",
                super::sql::ts_lit(to)
            ),
        )
        .await?;
        samples.movers_base.push(ms(t));
    }
    Ok(())
}

/// What the QuestDB reads are compared with.
const QUESTDB_BASELINES: ReadBaselines = ReadBaselines {
    history: "the same candles read from the ticks (SAMPLE BY over the year's ticks of the series; QuestDbConfig::rollups = false)",
    latest: "one LATEST ON … PARTITION BY series of the same 100 series (one key instead of series, source, kind)",
    movers: "count() of LATEST ON … PARTITION BY series over all ticks up to as_of: the 'now' side alone, one key",
};

/// The `ticks` table around the run.
#[derive(Debug)]
struct Rows {
    before: i64,
    after: i64,
    /// Its partitions' size on disk, when QuestDB tells.
    db_bytes: Option<i64>,
}

/// The QuestDB bench's JSON object: the SQLite bench's figures and a few of its own.
fn report(
    args: &BenchStoreConfig,
    runs: usize,
    rows: &Rows,
    ingest: &StoreIngest,
    baseline: &BaselineIngest,
    reads: ReadSamples,
) -> serde_json::Value {
    let ticks = args.ticks as f64;
    let ingest_rps = ticks / ingest.write_secs;
    let applied_rps = ticks / (ingest.write_secs + ingest.apply_wait_secs);
    let base_rps = ticks / baseline.secs;
    let base_applied_rps = ticks / (baseline.secs + baseline.apply_secs);
    let reads = reads.figures(&QUESTDB_BASELINES);
    json!({
        "bench": "store",
        "backend": "questdb",
        "ticks": args.ticks,
        "series": args.series,
        "days": args.days,
        "batch": args.batch,
        "runs": runs,
        "note": "QuestDB over loopback: ILP/HTTP writes, PGWire reads (each read is one or more SQL round trips). Ingest rows_per_s counts until every row is acknowledged by the server (flushed); applied_rows_per_s until the WAL is applied (visible to reads). p50 and max exclude one untimed warm-up run, reported as cold_first_ms",
        "db_bytes": rows.db_bytes,
        "ticks_rows_before": rows.before,
        "ticks_rows_after": rows.after,
        "ingest": {
            "rows_per_s": ingest_rps.round(),
            "applied_rows_per_s": applied_rps.round(),
            "generate_s": round3(ingest.gen_secs),
            "baseline": format!("a bare questdb-rs Sender: the same rows, flushed every {} rows, into a table of the same columns without DEDUP", args.batch),
            "baseline_rows_per_s": base_rps.round(),
            "baseline_applied_rows_per_s": base_applied_rps.round(),
            "baseline_rows": baseline.rows,
            "ratio_to_baseline": round3(ingest_rps / base_rps),
            "applied_ratio_to_baseline": round3(applied_rps / base_applied_rps),
            "target_rows_per_s": 200_000,
            "meets_target": ingest_rps >= 200_000.0,
        },
        "history_1y_daily": reads.history,
        "latest_100": reads.latest,
        "movers_all_series_7d": reads.movers,
    })
}
