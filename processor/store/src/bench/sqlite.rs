//! The SQLite run of the store bench: ingest through the store and, as the baseline, plain
//! INSERTs into a bare table; then the reads, each beside its baseline.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::Instant,
};

use serde_json::json;
use tcg_schemas::Tick;

use super::{
    BenchStoreConfig, DAY_US, ReadBaselines, ReadSamples, Rng, batches, ms, pick, pick_100, round3,
    series_ids, week_of_movers, year_of_candles, year_window,
};
use crate::{
    Result, StoreError,
    model::PriceFilter,
    sqlite::{
        SqliteOptions, SqliteStore, TickRow, candles_blocking, latest_blocking, movers_blocking,
    },
};

/// The SQLite bench: ingest through the store, the baseline ingest, the reads, the report.
pub(super) fn bench(args: &BenchStoreConfig) -> Result<serde_json::Value> {
    let files = BenchFiles::prepare(args)?;
    let options = SqliteOptions {
        readers: 1,
        cache_mib: args.cache_mib,
    };
    let store = SqliteStore::open_with(&files.db, options)?;
    let ingest_rps = args.ticks as f64 / ingest_store(&store, args)?;
    let base_rps = args.ticks as f64 / ingest_baseline(&files.baseline, args)?;
    let runs = args.runs.max(1);
    let reads = measure_reads(&store, &series_ids(args), runs)?;
    let db_bytes = files.db_bytes();
    drop(store);
    files.remove_if_temporary();
    Ok(sqlite_report(
        args, runs, db_bytes, ingest_rps, base_rps, reads,
    ))
}

/// The SQLite bench's two databases, and whether their folder is a temporary one.
struct BenchFiles {
    dir: PathBuf,
    remove: bool,
    db: PathBuf,
    baseline: PathBuf,
}

impl BenchFiles {
    /// Creates the folder (`--data-dir`, or a fresh one in the system temp dir) and removes the
    /// databases of an earlier run.
    fn prepare(args: &BenchStoreConfig) -> Result<Self> {
        let (dir, remove) = match &args.data_dir {
            Some(d) => (d.clone(), false),
            None => (
                std::env::temp_dir().join(format!("tcgtracker-bench-store-{}", std::process::id())),
                true,
            ),
        };
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("bench-store.sqlite");
        let baseline = dir.join("bench-baseline.sqlite");
        for p in [&db, &baseline] {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
        Ok(Self {
            dir,
            remove,
            db,
            baseline,
        })
    }

    /// The store's size on disk: the database and its WAL.
    fn db_bytes(&self) -> u64 {
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", self.db.display())).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Removes the folder if the bench made it.
    fn remove_if_temporary(self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Writes the generated ticks through the store, one transaction per batch. Returns the
/// seconds spent writing.
fn ingest_store(store: &SqliteStore, args: &BenchStoreConfig) -> Result<f64> {
    let mut secs = 0.0;
    for batch in batches(args) {
        let t = Instant::now();
        store.write_ticks_blocking(&batch)?;
        secs += t.elapsed().as_secs_f64();
    }
    Ok(secs)
}

/// The baseline: the same rows, plain INSERT into a bare table without any index, same
/// batches. Returns the seconds spent writing.
fn ingest_baseline(path: &Path, args: &BenchStoreConfig) -> Result<f64> {
    let base = rusqlite::Connection::open(path)?;
    base.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{};
         CREATE TABLE bare (sid INTEGER, source INTEGER, kind INTEGER, ts INTEGER, listing_id TEXT, price_cents INTEGER,
           orig_minor INTEGER, orig_ccy TEXT, ship_minor INTEGER, ship_ccy TEXT, confidence INTEGER, heartbeat INTEGER);",
        args.cache_mib * 1024
    ))?;
    let mut sids = HashMap::new();
    let mut secs = 0.0;
    for batch in batches(args) {
        let t = Instant::now();
        insert_bare(&base, &batch, &mut sids)?;
        secs += t.elapsed().as_secs_f64();
    }
    Ok(secs)
}

/// One baseline batch: the store's rows of `batch` (series ids numbered in `sids`), in one
/// transaction.
fn insert_bare(
    base: &rusqlite::Connection,
    batch: &[Tick],
    sids: &mut HashMap<String, i64>,
) -> Result<()> {
    let rows = batch
        .iter()
        .map(TickRow::from_tick)
        .collect::<Result<Vec<_>>>()?;
    let tx = base.unchecked_transaction()?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO bare VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for r in &rows {
            let next = sids.len() as i64;
            let sid = *sids.entry(r.series_id.clone()).or_insert(next);
            st.execute(rusqlite::params![
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
                r.heartbeat
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The reads, each beside its baseline: one untimed pass of each first (cold page cache,
/// statement preparation), reported apart; then `runs` timed runs (the movers at most 10).
fn measure_reads(store: &SqliteStore, ids: &[String], runs: usize) -> Result<ReadSamples> {
    let mut rng = Rng(42);
    let mut samples = ReadSamples::default();
    let warm_q = year_of_candles(ids[0].clone());
    let t = Instant::now();
    store.with_reader(|c| candles_blocking(c, &warm_q))?;
    samples.cold_history_ms = ms(t);
    let t = Instant::now();
    store.with_reader(|c| latest_blocking(c, &ids[..100.min(ids.len())], &PriceFilter::any()))?;
    samples.cold_latest_ms = ms(t);
    for _ in 0..runs {
        time_history(store, pick(&mut rng, ids), &mut samples)?;
        time_latest(store, &pick_100(&mut rng, ids), &mut samples)?;
    }
    time_movers(store, runs, &mut samples)?;
    Ok(samples)
}

/// One year of daily candles of series `id`; its baseline counts the same per-day key seeks.
fn time_history(store: &SqliteStore, id: String, samples: &mut ReadSamples) -> Result<()> {
    let (from, to) = year_window();
    let q = year_of_candles(id.clone());
    let t = Instant::now();
    let c = store.with_reader(|c| candles_blocking(c, &q))?;
    samples.history.push(ms(t));
    samples.candles_returned = c.first().map_or(0, |s| s.candles.len());
    let t = Instant::now();
    store.with_reader(|c| {
        Ok(c.prepare_cached(
            "WITH RECURSIVE d(day) AS (SELECT ?2 UNION ALL SELECT day + 1 FROM d WHERE day < ?3)
             SELECT count(*) FROM d CROSS JOIN ticks t
             WHERE t.day = d.day AND t.sid = (SELECT sid FROM series WHERE series_id = ?1) AND t.source = 1 AND t.kind = 1",
        )?
        .query_row(rusqlite::params![id, from.as_micros() / DAY_US, (to.as_micros() - 1) / DAY_US], |r| r.get::<_, i64>(0))?)
    })?;
    samples.history_base.push(ms(t));
    Ok(())
}

/// The latest prices of 100 series; its baseline looks the 100 series ids up.
fn time_latest(store: &SqliteStore, some: &[String], samples: &mut ReadSamples) -> Result<()> {
    let t = Instant::now();
    let l = store.with_reader(|c| latest_blocking(c, some, &PriceFilter::any()))?;
    samples.latest.push(ms(t));
    if l.len() != 100 {
        return Err(StoreError::Corrupt(format!(
            "latest returned {} rows for 100 series",
            l.len()
        )));
    }
    let t = Instant::now();
    store.with_reader(|c| {
        let mut st = c.prepare_cached("SELECT count(*) FROM series WHERE series_id = ?1")?;
        for s in some {
            st.query_row([s], |r| r.get::<_, i64>(0))?;
        }
        Ok(())
    })?;
    samples.latest_base.push(ms(t));
    Ok(())
}

/// The 7-day movers of all series: one untimed run, then up to 10 timed ones; the baseline
/// scans the latest table.
fn time_movers(store: &SqliteStore, runs: usize, samples: &mut ReadSamples) -> Result<()> {
    for _ in 0..=runs.min(10) {
        let q = week_of_movers();
        let t = Instant::now();
        let m = store.with_reader(|c| movers_blocking(c, &q))?;
        if samples.cold_movers_ms.is_none() {
            samples.cold_movers_ms = Some(ms(t));
            continue;
        }
        samples.movers.push(ms(t));
        samples.movers_returned = m.gainers.len() + m.losers.len();
        let t = Instant::now();
        store.with_reader(|c| {
            Ok(
                c.query_row("SELECT count(*), sum(price_cents) FROM latest", [], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })?;
        samples.movers_base.push(ms(t));
    }
    Ok(())
}

/// What the SQLite reads are compared with.
const SQLITE_BASELINES: ReadBaselines = ReadBaselines {
    history: "SELECT count(*) over the same per-day key seeks (the index walk without fetching rows or bucketing)",
    latest: "100 point lookups of the series ids (SELECT count(*) FROM series WHERE series_id = ?)",
    movers: "full scan of the latest table (SELECT count(*), sum(price_cents) FROM latest): the 'now' side alone",
};

/// The SQLite bench's JSON object.
fn sqlite_report(
    args: &BenchStoreConfig,
    runs: usize,
    db_bytes: u64,
    ingest_rps: f64,
    base_rps: f64,
    reads: ReadSamples,
) -> serde_json::Value {
    let reads = reads.figures(&SQLITE_BASELINES);
    json!({
        "bench": "store",
        "backend": "sqlite",
        "ticks": args.ticks,
        "series": args.series,
        "days": args.days,
        "batch": args.batch,
        "runs": runs,
        "note": "latencies are measured on the store's blocking read path (the async API adds one spawn_blocking hop); p50 and max exclude one untimed warm-up run, reported as cold_first_ms",
        "db_bytes": db_bytes,
        "ingest": {
            "rows_per_s": ingest_rps.round(),
            "baseline": "plain INSERT of the same rows into a bare rowid table without any index or key, same batches",
            "baseline_rows_per_s": base_rps.round(),
            "ratio_to_baseline": round3(ingest_rps / base_rps),
            "target_rows_per_s": 200_000,
            "meets_target": ingest_rps >= 200_000.0,
        },
        "history_1y_daily": reads.history,
        "latest_100": reads.latest,
        "movers_all_series_7d": reads.movers,
    })
}
