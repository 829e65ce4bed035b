//! `tcgtracker bench store`: SQLite ingest throughput and read latencies on generated data, each
//! figure also as a ratio to a baseline measured in the same run. With `--questdb-http` and
//! `--questdb-pg` the same on QuestDB ([`crate::questdb::bench`]).

use std::{path::PathBuf, time::Instant};

use serde_json::json;
use tcg_schemas::{
    Condition, Currency, Game, Language, Money, PriceKind, Printing, ProductId, SeriesKey, Source,
    Tick, Timestamp,
};

use crate::{
    Interval, Result, StoreError,
    model::{CandleQuery, FillMode, MoversQuery, PriceFilter, SeriesTarget},
    sqlite::{
        SqliteOptions, SqliteStore, TickRow, candles_blocking, latest_blocking, movers_blocking,
    },
};

/// What `tcgtracker bench store` measures, and where (the binary maps its flags onto this).
#[derive(Debug, Clone)]
pub struct BenchStoreConfig {
    /// Print one JSON object (the default output is the same object, pretty-printed).
    pub json: bool,
    /// Ticks to ingest.
    pub ticks: u64,
    /// Distinct series.
    pub series: u64,
    /// Days the ticks span (ending now).
    pub days: u64,
    /// Ticks per write batch (one transaction).
    pub batch: usize,
    /// Where the databases go (default: a fresh folder in the system temp dir, removed after).
    pub data_dir: Option<PathBuf>,
    /// Runs of each read (p50 and max are reported).
    pub runs: usize,
    /// Page cache per connection, MiB.
    pub cache_mib: i64,
    /// Bench QuestDB instead of SQLite: its HTTP endpoint (ILP), e.g. http://127.0.0.1:9000.
    /// Writes the generated ticks into its `ticks` table (and a scratch table
    /// `bench_bare_ticks`, dropped after).
    pub questdb_http: Option<String>,
    /// QuestDB's PGWire URL, e.g. postgres://admin:quest@127.0.0.1:8812/qdb.
    pub questdb_pg: Option<String>,
}

impl Default for BenchStoreConfig {
    fn default() -> Self {
        Self {
            json: true,
            ticks: 10_000_000,
            series: 50_000,
            days: 365,
            batch: 50_000,
            data_dir: None,
            runs: 30,
            cache_mib: 1024,
            questdb_http: None,
            questdb_pg: None,
        }
    }
}

/// Where the generated ticks end: 2026-01-01T00:00:00Z, fixed so runs are comparable.
pub(crate) const BENCH_END: i64 = 1_767_225_600_000_000;

/// A tiny deterministic generator (xorshift64*), so runs are comparable.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub(crate) struct Generator {
    pub(crate) keys: Vec<(String, SeriesKey, Game)>,
    prices: Vec<i64>,
    start: i64,
    step: i64,
    rng: Rng,
}

impl Generator {
    pub(crate) fn new(args: &BenchStoreConfig, end: i64) -> Self {
        let games = [
            Game::Pokemon,
            Game::Magic,
            Game::YuGiOh,
            Game::OnePiece,
            Game::Lorcana,
        ];
        let conditions = [
            Condition::NearMint,
            Condition::LightlyPlayed,
            Condition::ModeratelyPlayed,
            Condition::HeavilyPlayed,
            Condition::Damaged,
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let keys = (0..args.series)
            .map(|i| {
                let key = SeriesKey::Sku {
                    product_id: ProductId(100_000 + i / 5),
                    printing: Printing::Normal,
                    condition: conditions[(i % 5) as usize].clone(),
                    language: Language::English,
                };
                (key.id(), key, games[((i / 5) % 5) as usize])
            })
            .collect::<Vec<_>>();
        let prices = (0..args.series)
            .map(|_| 50 + rng.below(50_000) as i64)
            .collect();
        let rounds = args.ticks.div_ceil(args.series.max(1)).max(1);
        let span = i64::try_from(args.days).unwrap_or(365) * 86_400_000_000;
        let step = (span / i64::try_from(rounds).unwrap_or(1)).max(1);
        Self {
            keys,
            prices,
            start: end - span,
            step,
            rng,
        }
    }

    /// Tick number `i`: round-robin over the series, one round per time step (a collector sweep).
    pub(crate) fn tick(&mut self, i: u64) -> Tick {
        let n = self.keys.len() as u64;
        let s = (i % n) as usize;
        let round = i / n;
        let p = &mut self.prices[s];
        let delta = (self.rng.below(201) as i64 - 100) * *p / 2000;
        *p = (*p + delta).max(1);
        let (id, key, game) = &self.keys[s];
        let ts = self.start
            + i64::try_from(round).unwrap_or(0) * self.step
            + i64::try_from(s).unwrap_or(0);
        Tick {
            series_id: id.clone(),
            series: key.clone(),
            game: *game,
            source: Source::Tcgplayer,
            kind: PriceKind::Market,
            observed_at: Timestamp::from_micros(ts),
            price_usd: Money::usd_cents(*p),
            original: Money::new(*p, Currency::USD),
            shipping: None,
            listing_id: None,
            confidence: None,
            heartbeat: false,
        }
    }
}

pub(crate) fn stats(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let p50 = samples.get(samples.len() / 2).copied().unwrap_or(0.0);
    let max = samples.last().copied().unwrap_or(0.0);
    (p50, max)
}

pub(crate) fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

pub(crate) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Runs the benchmark and returns its figures as one JSON object.
pub fn bench_store(args: &BenchStoreConfig) -> Result<serde_json::Value> {
    if args.series == 0 || args.ticks == 0 || args.batch == 0 || args.days == 0 {
        return Err(StoreError::InvalidQuery(
            "ticks, series, days and batch must be > 0".into(),
        ));
    }
    match (&args.questdb_http, &args.questdb_pg) {
        (Some(http), Some(pg)) => return crate::questdb::bench::run(args, http, pg),
        (None, None) => {}
        _ => {
            return Err(StoreError::InvalidQuery(
                "--questdb-http and --questdb-pg go together".into(),
            ));
        }
    }
    let (dir, remove) = match &args.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("tcgtracker-bench-store-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir)?;
    let db_path = dir.join("bench-store.sqlite");
    let base_path = dir.join("bench-baseline.sqlite");
    for p in [&db_path, &base_path] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    }
    let end = BENCH_END;
    let options = SqliteOptions {
        readers: 1,
        cache_mib: args.cache_mib,
    };

    // ---- ingest into the store ----
    let store = SqliteStore::open_with(&db_path, options.clone())?;
    let mut gen_ = Generator::new(args, end);
    let mut ingest_secs = 0.0;
    let mut i = 0u64;
    while i < args.ticks {
        let n = (args.batch as u64).min(args.ticks - i);
        let batch: Vec<Tick> = (i..i + n).map(|k| gen_.tick(k)).collect();
        let t = Instant::now();
        store.write_ticks_blocking(&batch)?;
        ingest_secs += t.elapsed().as_secs_f64();
        i += n;
    }
    let ingest_rps = args.ticks as f64 / ingest_secs;

    // ---- baseline: the same rows, plain INSERT into a bare table without any index ----
    let base = rusqlite::Connection::open(&base_path)?;
    base.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{};
         CREATE TABLE bare (sid INTEGER, source INTEGER, kind INTEGER, ts INTEGER, listing_id TEXT, price_cents INTEGER,
           orig_minor INTEGER, orig_ccy TEXT, ship_minor INTEGER, ship_ccy TEXT, confidence INTEGER, heartbeat INTEGER);",
        args.cache_mib * 1024
    ))?;
    let mut gen_ = Generator::new(args, end);
    let mut base_secs = 0.0;
    let mut sids: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut i = 0u64;
    while i < args.ticks {
        let n = (args.batch as u64).min(args.ticks - i);
        let batch: Vec<Tick> = (i..i + n).map(|k| gen_.tick(k)).collect();
        let t = Instant::now();
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
        base_secs += t.elapsed().as_secs_f64();
        i += n;
    }
    drop(base);
    let base_rps = args.ticks as f64 / base_secs;

    // ---- reads ----
    let mut rng = Rng(42);
    let runs = args.runs.max(1);
    let ids: Vec<String> = gen_.keys.iter().map(|k| k.0.clone()).collect();
    let from = Timestamp::from_micros(end - 365 * 86_400_000_000);
    let to = Timestamp::from_micros(end);
    let (mut hist, mut hist_base, mut lat, mut lat_base, mut mov, mut mov_base) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    // One untimed pass of each read first (cold page cache, statement preparation), reported apart.
    let warm_id = ids[0].clone();
    let warm_q = CandleQuery {
        target: SeriesTarget::Series(warm_id),
        prices: PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
        interval: Interval::DAY,
        from,
        to,
        fill: FillMode::PreviousClose,
    };
    let t = Instant::now();
    store.with_reader(|c| candles_blocking(c, &warm_q))?;
    let cold_history_ms = ms(t);
    let t = Instant::now();
    store.with_reader(|c| latest_blocking(c, &ids[..100.min(ids.len())], &PriceFilter::any()))?;
    let cold_latest_ms = ms(t);
    let mut candles_returned = 0usize;
    let mut movers_returned = 0usize;
    for _ in 0..runs {
        let id = ids[rng.below(ids.len() as u64) as usize].clone();
        let q = CandleQuery {
            target: SeriesTarget::Series(id.clone()),
            prices: PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
            interval: Interval::DAY,
            from,
            to,
            fill: FillMode::PreviousClose,
        };
        let t = Instant::now();
        let c = store.with_reader(|c| candles_blocking(c, &q))?;
        hist.push(ms(t));
        candles_returned = c.first().map_or(0, |s| s.candles.len());
        let t = Instant::now();
        store.with_reader(|c| {
            Ok(c.prepare_cached(
                "WITH RECURSIVE d(day) AS (SELECT ?2 UNION ALL SELECT day + 1 FROM d WHERE day < ?3)
                 SELECT count(*) FROM d CROSS JOIN ticks t
                 WHERE t.day = d.day AND t.sid = (SELECT sid FROM series WHERE series_id = ?1) AND t.source = 1 AND t.kind = 1",
            )?
            .query_row(rusqlite::params![id, from.as_micros() / 86_400_000_000, (to.as_micros() - 1) / 86_400_000_000], |r| r.get::<_, i64>(0))?)
        })?;
        hist_base.push(ms(t));

        let some: Vec<String> = (0..100)
            .map(|_| ids[rng.below(ids.len() as u64) as usize].clone())
            .collect();
        let t = Instant::now();
        let l = store.with_reader(|c| latest_blocking(c, &some, &PriceFilter::any()))?;
        lat.push(ms(t));
        if l.len() != 100 {
            return Err(StoreError::Corrupt(format!(
                "latest returned {} rows for 100 series",
                l.len()
            )));
        }
        let t = Instant::now();
        store.with_reader(|c| {
            let mut st = c.prepare_cached("SELECT count(*) FROM series WHERE series_id = ?1")?;
            for s in &some {
                st.query_row([s], |r| r.get::<_, i64>(0))?;
            }
            Ok(())
        })?;
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
        let m = store.with_reader(|c| movers_blocking(c, &q))?;
        if cold_movers_ms.is_none() {
            cold_movers_ms = Some(ms(t));
            continue;
        }
        mov.push(ms(t));
        movers_returned = m.gainers.len() + m.losers.len();
        let t = Instant::now();
        store.with_reader(|c| {
            Ok(
                c.query_row("SELECT count(*), sum(price_cents) FROM latest", [], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })?;
        mov_base.push(ms(t));
    }
    let db_bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db_path.display())).ok())
        .map(|m| m.len())
        .sum();
    drop(store);
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (h50, hmax) = stats(hist);
    let (hb50, _) = stats(hist_base);
    let (l50, lmax) = stats(lat);
    let (lb50, _) = stats(lat_base);
    let (m50, mmax) = stats(mov);
    let (mb50, _) = stats(mov_base);
    Ok(json!({
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
        "history_1y_daily": {
            "p50_ms": round3(h50), "max_ms": round3(hmax), "cold_first_ms": round3(cold_history_ms), "candles": candles_returned,
            "baseline": "SELECT count(*) over the same per-day key seeks (the index walk without fetching rows or bucketing)",
            "baseline_p50_ms": round3(hb50), "ratio_to_baseline": round3(h50 / hb50.max(1e-6)),
            "target_ms": 5, "meets_target": hmax <= 5.0,
        },
        "latest_100": {
            "p50_ms": round3(l50), "max_ms": round3(lmax), "cold_first_ms": round3(cold_latest_ms),
            "baseline": "100 point lookups of the series ids (SELECT count(*) FROM series WHERE series_id = ?)",
            "baseline_p50_ms": round3(lb50), "ratio_to_baseline": round3(l50 / lb50.max(1e-6)),
            "target_ms": 5, "meets_target": lmax <= 5.0,
        },
        "movers_all_series_7d": {
            "p50_ms": round3(m50), "max_ms": round3(mmax), "cold_first_ms": round3(cold_movers_ms.unwrap_or(0.0)), "returned": movers_returned,
            "baseline": "full scan of the latest table (SELECT count(*), sum(price_cents) FROM latest): the 'now' side alone",
            "baseline_p50_ms": round3(mb50), "ratio_to_baseline": round3(m50 / mb50.max(1e-6)),
            "target_ms": 500, "meets_target": mmax <= 500.0,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_runs() {
        let dir = tempfile::tempdir().unwrap();
        let args = BenchStoreConfig {
            json: true,
            ticks: 20_000,
            series: 500,
            days: 30,
            batch: 5_000,
            data_dir: Some(dir.path().to_path_buf()),
            runs: 3,
            cache_mib: 16,
            questdb_http: None,
            questdb_pg: None,
        };
        let v = bench_store(&args).unwrap();
        assert!(v["ingest"]["rows_per_s"].as_f64().unwrap() > 0.0);
        assert_eq!(v["history_1y_daily"]["candles"], 365);
        assert!(v["movers_all_series_7d"]["returned"].as_u64().unwrap() > 0);
    }
}
