//! `tcgtracker bench store`: SQLite ingest throughput and read latencies on generated data, each
//! figure also as a ratio to a baseline measured in the same run. With `--questdb-http` and
//! `--questdb-pg` the same on QuestDB ([`crate::questdb::bench`]).
//!
//! Here: the configuration, the tick generator, the queries and the read figures both backends
//! share; the SQLite run is in the `sqlite` submodule.

mod sqlite;

use std::{path::PathBuf, time::Instant};

use serde_json::json;
use tcg_schemas::{
    Condition, Currency, Game, Language, Money, PriceKind, Printing, ProductId, SeriesKey, Source,
    Tick, Timestamp,
};

use crate::{
    Interval, Result, StoreError,
    model::{CandleQuery, FillMode, MoversQuery, PriceFilter, SeriesTarget},
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
const BENCH_END: i64 = 1_767_225_600_000_000;

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

struct Generator {
    keys: Vec<(String, SeriesKey, Game)>,
    prices: Vec<i64>,
    start: i64,
    step: i64,
    rng: Rng,
}

/// The games of the synthetic cards, in turn.
const GAMES: [Game; 5] = [
    Game::Pokemon,
    Game::Magic,
    Game::YuGiOh,
    Game::OnePiece,
    Game::Lorcana,
];

/// The game of synthetic card `card` (its product id is 100,000 + `card`).
pub fn synthetic_game(card: u64) -> Game {
    GAMES[(card % 5) as usize]
}

/// The synthetic market of the benches: `ticks` TCGplayer market ticks, round-robin over
/// `series` series (the 5 conditions of `series / 5` cards, product ids from 100,000, games in
/// turn: [`synthetic_game`]), each a random walk, over the `days` before `end`, `batch` at a
/// time. A batch is generated when asked for.
pub fn synthetic_ticks(
    ticks: u64,
    series: u64,
    days: u64,
    batch: usize,
    end: Timestamp,
) -> impl Iterator<Item = Vec<Tick>> {
    let mut gen_ = Generator::new(ticks, series, days, end.as_micros());
    let batch = batch.max(1);
    (0..ticks).step_by(batch).map(move |i| {
        let n = (batch as u64).min(ticks - i);
        (i..i + n).map(|k| gen_.tick(k)).collect()
    })
}

impl Generator {
    fn new(ticks: u64, series: u64, days: u64, end: i64) -> Self {
        let conditions = [
            Condition::NearMint,
            Condition::LightlyPlayed,
            Condition::ModeratelyPlayed,
            Condition::HeavilyPlayed,
            Condition::Damaged,
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let keys = (0..series)
            .map(|i| {
                let key = SeriesKey::Sku {
                    product_id: ProductId(100_000 + i / 5),
                    printing: Printing::Normal,
                    condition: conditions[(i % 5) as usize].clone(),
                    language: Language::English,
                };
                (key.id(), key, synthetic_game(i / 5))
            })
            .collect::<Vec<_>>();
        let prices = (0..series).map(|_| 50 + rng.below(50_000) as i64).collect();
        let rounds = ticks.div_ceil(series.max(1)).max(1);
        let span = i64::try_from(days).unwrap_or(365) * 86_400_000_000;
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
    fn tick(&mut self, i: u64) -> Tick {
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
            agreeing: Vec::new(),
            heartbeat: false,
        }
    }
}

fn stats(mut samples: Vec<f64>) -> (f64, f64) {
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

/// A day, in microseconds.
const DAY_US: i64 = 86_400_000_000;

/// The write batches of a run: `args.ticks` generated ticks, `args.batch` at a time. A batch is
/// generated when asked for, so a timed write leaves the generation out.
pub(crate) fn batches(args: &BenchStoreConfig) -> impl Iterator<Item = Vec<Tick>> + use<> {
    synthetic_ticks(
        args.ticks,
        args.series,
        args.days,
        args.batch,
        Timestamp::from_micros(BENCH_END),
    )
}

/// The ids of the generated series, in generation order.
pub(crate) fn series_ids(args: &BenchStoreConfig) -> Vec<String> {
    Generator::new(args.ticks, args.series, args.days, BENCH_END)
        .keys
        .into_iter()
        .map(|k| k.0)
        .collect()
}

/// The year the history reads cover: `[from, to)`, ending at [`BENCH_END`].
pub(crate) fn year_window() -> (Timestamp, Timestamp) {
    (
        Timestamp::from_micros(BENCH_END - 365 * DAY_US),
        Timestamp::from_micros(BENCH_END),
    )
}

/// One year of daily TCGplayer market candles of series `id`.
pub(crate) fn year_of_candles(id: String) -> CandleQuery {
    let (from, to) = year_window();
    CandleQuery {
        target: SeriesTarget::Series(id),
        prices: PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
        interval: Interval::DAY,
        from,
        to,
        fill: FillMode::PreviousClose,
    }
}

/// The 7-day movers of all series, as of [`BENCH_END`].
pub(crate) fn week_of_movers() -> MoversQuery {
    MoversQuery {
        since: Timestamp::from_micros(BENCH_END - 7 * DAY_US),
        as_of: Timestamp::from_micros(BENCH_END),
        game: None,
        group_id: None,
        prices: PriceFilter::any(),
        limit: 20,
        min_start_cents: 0,
        start_lookback_secs: 7 * 86_400,
    }
}

/// A series id drawn at random.
pub(crate) fn pick(rng: &mut Rng, ids: &[String]) -> String {
    ids[rng.below(ids.len() as u64) as usize].clone()
}

/// 100 series ids drawn at random (repeats possible).
pub(crate) fn pick_100(rng: &mut Rng, ids: &[String]) -> Vec<String> {
    (0..100).map(|_| pick(rng, ids)).collect()
}

/// What the read benchmarks measured (milliseconds) and what the last timed runs returned.
#[derive(Debug, Default)]
pub(crate) struct ReadSamples {
    /// The untimed first pass of each read (cold caches), reported apart.
    pub(crate) cold_history_ms: f64,
    pub(crate) cold_latest_ms: f64,
    pub(crate) cold_movers_ms: Option<f64>,
    pub(crate) history: Vec<f64>,
    pub(crate) history_base: Vec<f64>,
    pub(crate) latest: Vec<f64>,
    pub(crate) latest_base: Vec<f64>,
    pub(crate) movers: Vec<f64>,
    pub(crate) movers_base: Vec<f64>,
    pub(crate) candles_returned: usize,
    pub(crate) movers_returned: usize,
}

/// What each read's baseline is, as the report describes it.
#[derive(Debug)]
pub(crate) struct ReadBaselines {
    pub(crate) history: &'static str,
    pub(crate) latest: &'static str,
    pub(crate) movers: &'static str,
}

/// The report's `history_1y_daily`, `latest_100` and `movers_all_series_7d` objects.
#[derive(Debug)]
pub(crate) struct ReadFigures {
    pub(crate) history: serde_json::Value,
    pub(crate) latest: serde_json::Value,
    pub(crate) movers: serde_json::Value,
}

impl ReadSamples {
    /// p50 and max of each read beside its baseline's p50, and the targets.
    pub(crate) fn figures(self, baselines: &ReadBaselines) -> ReadFigures {
        let (h50, hmax) = stats(self.history);
        let (hb50, _) = stats(self.history_base);
        let (l50, lmax) = stats(self.latest);
        let (lb50, _) = stats(self.latest_base);
        let (m50, mmax) = stats(self.movers);
        let (mb50, _) = stats(self.movers_base);
        ReadFigures {
            history: json!({
                "p50_ms": round3(h50), "max_ms": round3(hmax), "cold_first_ms": round3(self.cold_history_ms), "candles": self.candles_returned,
                "baseline": baselines.history,
                "baseline_p50_ms": round3(hb50), "ratio_to_baseline": round3(h50 / hb50.max(1e-6)),
                "target_ms": 5, "meets_target": hmax <= 5.0,
            }),
            latest: json!({
                "p50_ms": round3(l50), "max_ms": round3(lmax), "cold_first_ms": round3(self.cold_latest_ms),
                "baseline": baselines.latest,
                "baseline_p50_ms": round3(lb50), "ratio_to_baseline": round3(l50 / lb50.max(1e-6)),
                "target_ms": 5, "meets_target": lmax <= 5.0,
            }),
            movers: json!({
                "p50_ms": round3(m50), "max_ms": round3(mmax), "cold_first_ms": round3(self.cold_movers_ms.unwrap_or(0.0)), "returned": self.movers_returned,
                "baseline": baselines.movers,
                "baseline_p50_ms": round3(mb50), "ratio_to_baseline": round3(m50 / mb50.max(1e-6)),
                "target_ms": 500, "meets_target": mmax <= 500.0,
            }),
        }
    }
}

/// Runs the benchmark and returns its figures as one JSON object.
pub fn bench_store(args: &BenchStoreConfig) -> Result<serde_json::Value> {
    if args.series == 0 || args.ticks == 0 || args.batch == 0 || args.days == 0 {
        return Err(StoreError::InvalidQuery(
            "ticks, series, days and batch must be > 0".into(),
        ));
    }
    match (&args.questdb_http, &args.questdb_pg) {
        (Some(http), Some(pg)) => crate::questdb::bench::run(args, http, pg),
        (None, None) => sqlite::bench(args),
        _ => Err(StoreError::InvalidQuery(
            "--questdb-http and --questdb-pg go together".into(),
        )),
    }
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
