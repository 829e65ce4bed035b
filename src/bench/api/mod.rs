//! `tcgtracker bench api`: the query API at market scale, as a client meets it. Builds (or
//! reuses) a SQLite store of `--ticks` ticks (or, with `--questdb-http URL --questdb-pg URL`,
//! writes them into that QuestDB), starts `tcgtracker serve` on it as its own process, drives
//! each scenario from wrk (a separate load generator) and prints, per scenario, requests per
//! second, p50 and p99, bytes per answer (plain and gzip), `serve`'s memory, and the ratio to
//! `/healthz` measured in the same run (the HTTP stack's ceiling on this machine); then a few
//! timed movers requests over all series that no cache answers.

mod dataset;
mod questdb;
mod server;
mod wrk;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tcg_store::SqliteStore;

use self::{
    dataset::{Dataset, QuestDbUrls},
    server::Server,
    wrk::{Load, Requests},
};

/// Flags of `tcgtracker bench api`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiBenchArgs {
    /// Print one JSON object (the default output is the same object, pretty-printed).
    #[arg(long)]
    json: bool,
    /// Ticks in the store (default 10 M on SQLite, 100 M on QuestDB).
    #[arg(long)]
    ticks: Option<u64>,
    /// Series in the store (5 conditions of series/5 cards).
    #[arg(long, default_value_t = 10_000)]
    series: u64,
    /// Folder of the store, reused by later runs of the same size (default:
    /// ~/.cache/tcgtracker/bench-api, or ~/.cache/tcgtracker/bench-api-questdb on QuestDB,
    /// where it keeps the app's own data and the marker of the build on the server).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The prices in this QuestDB instead of SQLite: its HTTP endpoint (ILP, REST), e.g.
    /// http://127.0.0.1:9000 (`cargo run -p tcg-engines -- run questdb --data
    /// ~/.cache/tcgtracker/bench-api-questdb/server` starts one). Its `ticks` table gets the
    /// bench's ticks unless it holds them already.
    #[arg(long, requires = "questdb_pg")]
    questdb_http: Option<String>,
    /// QuestDB's PGWire URL, e.g. postgres://admin:quest@127.0.0.1:8812/qdb.
    #[arg(long, requires = "questdb_http")]
    questdb_pg: Option<String>,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Connections wrk keeps open.
    #[arg(long, default_value_t = 64)]
    conns: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// API keys the requests take turns with.
    #[arg(long, default_value_t = 300)]
    keys: usize,
    /// The wrk binary.
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
}

/// Holdings of the portfolio whose value history is read.
const HOLDINGS: u64 = 200;
const YEAR_SECS: i64 = 365 * 86_400;

fn default_dir(questdb: bool) -> PathBuf {
    std::env::var_os("HOME")
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join(if questdb {
            ".cache/tcgtracker/bench-api-questdb"
        } else {
            ".cache/tcgtracker/bench-api"
        })
}

impl ApiBenchArgs {
    fn questdb(&self) -> Option<QuestDbUrls> {
        Some(QuestDbUrls {
            http: self.questdb_http.clone()?,
            pg: self.questdb_pg.clone()?,
        })
    }
}

/// The store of the run, built or reused.
async fn prepare(args: &ApiBenchArgs, dir: PathBuf) -> Result<Dataset> {
    let series = args.series;
    match args.questdb() {
        Some(urls) => {
            let ticks = args.ticks.unwrap_or(100_000_000);
            questdb::prepare(&dir, ticks, series, urls).await
        }
        None => {
            let ticks = args.ticks.unwrap_or(10_000_000);
            tokio::task::spawn_blocking(move || dataset::prepare(&dir, ticks, series)).await?
        }
    }
}

pub async fn run(args: ApiBenchArgs) -> Result<()> {
    let quest = args.questdb().is_some();
    let dir = args.dir.clone().unwrap_or_else(|| default_dir(quest));
    let data = prepare(&args, dir.clone()).await?;
    let keys = create_keys(&data, args.keys).await?;
    let server = Server::start(&data).await?;
    let portfolio = portfolio(&server.base, &keys[0], &data).await?;
    let load = Load {
        conns: args.conns,
        threads: args.threads,
        secs: args.secs,
    };
    let lua = dir.join("scenario.lua");
    let mut results = serde_json::Map::new();
    let mut healthz = f64::NAN;
    for (name, paths, owner_only) in scenarios(&data, &portfolio) {
        let requests = Requests {
            paths: &paths,
            keys: if owner_only { &keys[..1] } else { &keys },
            to_base_secs: data.now.as_micros() / 1_000_000,
        };
        eprintln!("bench api: {name} ({} s)", args.secs);
        let measured = wrk::run(&args.wrk, &lua, &server.base, &requests, load)?;
        let (plain, gzip) = answer_sizes(&server.base, &requests).await?;
        let (rss, _) = server.rss_mib()?;
        if name == "healthz" {
            healthz = measured.requests_per_sec;
        }
        let mut entry = serde_json::to_value(&measured)?;
        entry["bytes"] = json!(plain);
        entry["bytes_gzip"] = json!(gzip);
        entry["serve_rss_mib_after"] = json!(rss);
        entry["ratio_to_healthz"] = json!(measured.requests_per_sec / healthz);
        results.insert(name.to_owned(), entry);
    }
    let movers_all = movers_all_series(&server.base, &keys[0]).await?;
    let (_, peak) = server.rss_mib()?;
    let report = json!({
        "bench": "api",
        "store": if quest { "questdb" } else { "sqlite" },
        "ticks": data.ticks,
        "series": data.series,
        "products": data.products(),
        "store_build_secs": data.build_secs,
        "load": {"generator": "wrk", "conns": args.conns, "threads": args.threads,
                 "secs": args.secs, "keys": args.keys},
        "scenarios": Value::Object(results),
        "movers_all_series": movers_all,
        "serve_peak_rss_mib": peak,
        "targets": targets(quest),
        "note": "each scenario's ratio_to_healthz divides its requests/s by /healthz's in this run; \
                 history_cold asks for a different `to` every request (never a cache hit), \
                 history_warm for 50 cards' one-year daily candles (cached after the first); \
                 movers_all_series times single requests of the 7-day movers over all series, \
                 each with another `limit` (never a cache hit), one after the other"
    });
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// The targets of issue 19 for this store.
fn targets(questdb: bool) -> Value {
    if questdb {
        json!({
            "history_warm": {"requests_per_sec": 2000, "p99_ms": 20},
            "history_cold": {"requests_per_sec": 2000, "p99_ms": 20},
            "movers_all_series": {"max_ms": 500}
        })
    } else {
        json!({
            "history_warm": {"requests_per_sec": 5900, "p99_ms": 5},
            "history_cold": {"requests_per_sec": 2000},
            "portfolio_history": {"requests_per_sec": 1000, "p99_ms": 50},
            "serve_peak_rss_mib": 150
        })
    }
}

/// Requests of the 7-day movers over all series, one at a time, each with another `limit` (so
/// no cache answers): their latencies, p50 and max.
async fn movers_all_series(base: &str, key: &str) -> Result<Value> {
    let client = reqwest::Client::new();
    let mut ms = Vec::new();
    for limit in 11..=15 {
        let t = std::time::Instant::now();
        let r = client
            .get(format!("{base}/v1/movers?window=7d&limit={limit}"))
            .bearer_auth(key)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("movers: {} {}", r.status(), r.text().await?);
        }
        r.bytes().await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut sorted = ms.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(json!({
        "requests": ms.len(),
        "ms": ms,
        "p50_ms": sorted[sorted.len() / 2],
        "max_ms": sorted[sorted.len() - 1],
    }))
}

/// The scenarios: name, paths, and whether only the first key (the portfolio's owner) may ask.
fn scenarios(d: &Dataset, portfolio: &str) -> Vec<(&'static str, Vec<String>, bool)> {
    let now = d.now.as_micros() / 1_000_000;
    let (from, to) = (rfc3339(now - YEAR_SECS), rfc3339(now));
    let year = |p: u64, to: &str| {
        format!(
            "/v1/cards/{}/history?interval=1d&from={from}&to={to}&condition=NM&source=tcgplayer&kind=market",
            d.product(p).0
        )
    };
    let hot = d.products().min(50);
    let spread = |i: u64| i.wrapping_mul(2_654_435_761) % d.products().max(1);
    vec![
        ("healthz", vec!["/healthz".to_owned()], false),
        (
            "history_warm",
            (0..hot).map(|i| year(spread(i), &to)).collect(),
            false,
        ),
        (
            "history_cold",
            (0..d.products().min(2_000))
                .map(|i| year(spread(i), "{to}"))
                .collect(),
            false,
        ),
        (
            "latest_10",
            (0..500u64)
                .map(|i| {
                    let ids: Vec<String> = (0..10)
                        .map(|j| d.series_id(spread(i * 10 + j) * 5 + j % 5))
                        .collect();
                    format!("/v1/prices/latest?series={}", ids.join(","))
                })
                .collect(),
            false,
        ),
        ("movers_7d", vec!["/v1/movers?window=7d".to_owned()], false),
        (
            "portfolio_history",
            vec![format!(
                "/v1/portfolios/{portfolio}/history?interval=1d&from={from}&to={to}"
            )],
            true,
        ),
        (
            "search",
            (0..500u64)
                .map(|i| format!("/v1/cards?q=Bench%20Card%20{}", spread(i)))
                .collect(),
            false,
        ),
    ]
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `n` user keys, written to the store before `serve` opens it.
async fn create_keys(d: &Dataset, n: usize) -> Result<Vec<String>> {
    let store = SqliteStore::open(&d.db).with_context(|| format!("opening {}", d.db.display()))?;
    let mut keys = Vec::with_capacity(n.max(1));
    for i in 0..n.max(1) {
        let created = tcg_query_api::create_key(&store, &format!("bench-{i}"), false)
            .await
            .map_err(|e| anyhow::anyhow!("creating a key: {e}"))?;
        keys.push(created.key);
    }
    Ok(keys)
}

/// A portfolio of [`HOLDINGS`] cards owned by `key`'s user, made through the API; its id.
async fn portfolio(base: &str, key: &str, d: &Dataset) -> Result<String> {
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/v1/portfolios"))
        .bearer_auth(key)
        .json(&json!({"name": "bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"]
        .as_str()
        .context("the new portfolio's id")?
        .to_owned();
    let today = chrono::Utc::now().date_naive();
    for i in 0..HOLDINGS.min(d.products()) {
        // Bought over the dataset's year (a month apart), so the value history is priced.
        let days_back = 364 - 30 * i64::try_from(i % 12).unwrap_or(0);
        let acquired_on = (today - chrono::Duration::days(days_back)).format("%Y-%m-%d");
        let r = client
            .post(format!("{base}/v1/portfolios/{id}/holdings"))
            .bearer_auth(key)
            .json(&json!({
                "product_id": d.product(i * 7).0,
                "printing": "Normal",
                "condition": "Near Mint",
                "language": "English",
                "quantity": 1 + i % 3,
                "acquired_on": acquired_on.to_string(),
                "cost_per_unit": {"amount": "1.00", "currency": "USD"}
            }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("adding a holding: {} {}", r.status(), r.text().await?);
        }
    }
    Ok(id)
}

/// The size of the scenario's first answer, plain and gzip-compressed.
async fn answer_sizes(base: &str, r: &Requests<'_>) -> Result<(usize, usize)> {
    let path = r.paths[0].replace("{to}", &rfc3339(r.to_base_secs));
    let client = reqwest::Client::new();
    let mut sizes = [0; 2];
    for (size, encoding) in sizes.iter_mut().zip(["identity", "gzip"]) {
        let resp = client
            .get(format!("{base}{path}"))
            .bearer_auth(&r.keys[0])
            .header("accept-encoding", encoding)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("{path}: {}", resp.status());
        }
        *size = resp.bytes().await?.len();
    }
    Ok((sizes[0], sizes[1]))
}
