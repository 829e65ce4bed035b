//! Load run of the query API over loopback: builds a SQLite store with `--ticks` ticks (default
//! 1 M), serves the app on 127.0.0.1:0 in this process, then runs each scenario with `--conns`
//! concurrent connections for `--secs` seconds and prints requests/s and latency percentiles.
//!
//! ```sh
//! cargo run --release -p tcg-query-api --example load -- --ticks 1000000 --conns 64 --secs 15
//! ```
//! The client and the server share the machine (2 cores here), so the numbers are a floor.

#![allow(clippy::unwrap_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use tcg_store::prelude::*;

use tcg_query_api::{ApiConfig, AppState, app, create_key};
use tcg_schemas::{
    CardSet, CategoryId, Condition, Currency, Game, GroupId, Language, Money, PriceKind, Printing,
    Product, ProductId, SeriesKey, Source, Tick, Timestamp,
};
use tcg_store::{SqliteOptions, SqliteStore};

struct Args {
    ticks: u64,
    series: u64,
    conns: usize,
    secs: u64,
    dir: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        ticks: 1_000_000,
        series: 10_000,
        conns: 64,
        secs: 15,
        dir: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < v.len() {
        match v[i].as_str() {
            "--ticks" => a.ticks = v[i + 1].parse().unwrap(),
            "--series" => a.series = v[i + 1].parse().unwrap(),
            "--conns" => a.conns = v[i + 1].parse().unwrap(),
            "--secs" => a.secs = v[i + 1].parse().unwrap(),
            "--dir" => a.dir = Some(v[i + 1].clone().into()),
            other => panic!("unknown flag {other}"),
        }
        i += 2;
    }
    a
}

const CONDITIONS: [Condition; 5] = [
    Condition::NearMint,
    Condition::LightlyPlayed,
    Condition::ModeratelyPlayed,
    Condition::HeavilyPlayed,
    Condition::Damaged,
];

fn series_key(i: u64) -> SeriesKey {
    SeriesKey::Sku {
        product_id: ProductId(100_000 + i / 5),
        printing: Printing::Normal,
        condition: CONDITIONS[(i % 5) as usize].clone(),
        language: Language::English,
    }
}

/// Round-robin over the series, one sweep per time step, over the year before `now`.
fn fill(store: &SqliteStore, a: &Args, now: i64) {
    let rounds = a.ticks.div_ceil(a.series).max(1);
    let span = 365 * 86_400_000_000i64;
    let step = span / rounds as i64;
    let start = now - span;
    let keys: Vec<(String, SeriesKey)> = (0..a.series)
        .map(|i| (series_key(i).id(), series_key(i)))
        .collect();
    let mut prices: Vec<i64> = (0..a.series)
        .map(|i| 100 + (i as i64 * 7919) % 50_000)
        .collect();
    let mut batch = Vec::with_capacity(50_000);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for n in 0..a.ticks {
        let s = (n % a.series) as usize;
        let round = (n / a.series) as i64;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let p = &mut prices[s];
        *p = (*p + ((x % 201) as i64 - 100) * *p / 2000).max(1);
        let (id, k) = &keys[s];
        batch.push(Tick {
            series_id: id.clone(),
            series: k.clone(),
            game: Game::Pokemon,
            source: Source::Tcgplayer,
            kind: PriceKind::Market,
            observed_at: Timestamp::from_micros(start + round * step + s as i64),
            price_usd: Money::usd_cents(*p),
            original: Money::new(*p, Currency::USD),
            shipping: None,
            listing_id: None,
            confidence: None,
            heartbeat: false,
        });
        if batch.len() == 50_000 {
            store.write_ticks_blocking(&batch).unwrap();
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.write_ticks_blocking(&batch).unwrap();
    }
}

#[derive(Debug, Default)]
struct Outcome {
    latencies_us: Vec<u64>,
    errors: u64,
}

async fn scenario(
    name: &str,
    base: &str,
    key: &str,
    a: &Args,
    make_path: Arc<dyn Fn(u64) -> String + Send + Sync>,
) -> serde_json::Value {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.conns)
        .build()
        .unwrap();
    // Warm-up: one request per connection.
    for i in 0..a.conns as u64 {
        let _ = client
            .get(format!("{base}{}", make_path(i)))
            .bearer_auth(key)
            .send()
            .await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.conns {
        let (client, stop, key, base, make_path) = (
            client.clone(),
            stop.clone(),
            key.to_owned(),
            base.to_owned(),
            make_path.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            let mut i = c as u64 * 7_777;
            while !stop.load(Ordering::Relaxed) {
                i = i
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let t = Instant::now();
                let ok = match client
                    .get(format!("{base}{}", make_path(i >> 16)))
                    .bearer_auth(&key)
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                out.latencies_us.push(t.elapsed().as_micros() as u64);
                if !ok {
                    out.errors += 1;
                }
            }
            out
        }));
    }
    tokio::time::sleep(Duration::from_secs(a.secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let o = t.await.unwrap();
        all.extend(o.latencies_us);
        errors += o.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    serde_json::json!({
        "scenario": name,
        "requests": all.len(),
        "errors": errors,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "requests_per_sec": (all.len() as f64 / elapsed).round(),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": all.last().copied().unwrap_or(0) as f64 / 1000.0,
    })
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(a));
}

async fn run(a: Args) {
    let tmp = std::env::temp_dir().join(format!("tcg-load-{}", std::process::id()));
    let dir = a.dir.clone().unwrap_or(tmp.clone());
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("load.db");
    let fresh = !path.exists();
    let store = SqliteStore::open_with(
        &path,
        SqliteOptions {
            readers: 4,
            cache_mib: 256,
        },
    )
    .unwrap();
    let now = Timestamp::from(chrono::Utc::now()).as_micros();
    let t = Instant::now();
    if fresh {
        store
            .upsert_sets(&[CardSet {
                group_id: GroupId(1),
                category_id: CategoryId(3),
                game: Game::Pokemon,
                name: "Load Set".into(),
                abbreviation: None,
                published_on: None,
            }])
            .await
            .unwrap();
        let products: Vec<Product> = (0..a.series.div_ceil(5))
            .map(|i| Product {
                product_id: ProductId(100_000 + i),
                category_id: CategoryId(3),
                group_id: GroupId(1),
                game: Game::Pokemon,
                name: format!("Card {i}"),
                clean_name: None,
                number: Some(format!("{i}")),
                rarity: Some("Rare".into()),
                image_url: None,
                url: None,
            })
            .collect();
        store.upsert_products(&products).await.unwrap();
        let s = store.clone();
        let a2 = Args { dir: None, ..a };
        let a = tokio::task::spawn_blocking(move || {
            fill(&s, &a2, now);
            a2
        })
        .await
        .unwrap();
        eprintln!(
            "ingested {} ticks in {:.1}s",
            a.ticks,
            t.elapsed().as_secs_f64()
        );
        return finish(store, a, dir, tmp, now).await;
    }
    finish(store, a, dir, tmp, now).await;
}

async fn finish(
    store: SqliteStore,
    a: Args,
    dir: std::path::PathBuf,
    tmp: std::path::PathBuf,
    now: i64,
) {
    let ticks: i64 = store
        .with_reader(|c| Ok(c.query_row("SELECT count(*) FROM ticks", [], |r| r.get(0))?))
        .unwrap();
    let key = create_key(&store, "load", false).await.unwrap().key;
    let config = ApiConfig {
        rate_per_sec: std::num::NonZeroU32::new(1_000_000).unwrap(),
        rate_burst: std::num::NonZeroU32::new(1_000_000).unwrap(),
        ..ApiConfig::default()
    };
    let state = AppState::new(Arc::new(store.clone()), Arc::new(store.clone()), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app(state)).await });
    let products = a.series.div_ceil(5);
    let series = a.series;
    let from = Timestamp::from_micros(now - 365 * 86_400_000_000).to_string();
    let to = Timestamp::from_micros(now).to_string();
    let history: Arc<dyn Fn(u64) -> String + Send + Sync> = Arc::new(move |i| {
        format!(
            "/v1/cards/{}/history?interval=1d&from={from}&to={to}&condition=Near%20Mint&source=tcgplayer&kind=market",
            100_000 + i % products
        )
    });
    let latest: Arc<dyn Fn(u64) -> String + Send + Sync> = Arc::new(move |i| {
        let ids: Vec<String> = (0..10)
            .map(|j| series_key((i * 31 + j * 977) % series).id())
            .collect();
        format!("/v1/prices/latest?series={}", ids.join(","))
    });
    let mut results = Vec::new();
    for (name, f) in [("history_1y_daily", history), ("latest_10_series", latest)] {
        let r = scenario(name, &base, &key, &a, f).await;
        eprintln!("{r}");
        results.push(r);
    }
    println!(
        "{}",
        serde_json::json!({
            "ticks_in_store": ticks,
            "series": a.series,
            "connections": a.conns,
            "seconds_per_scenario": a.secs,
            "results": results,
        })
    );
    server.abort();
    if a.dir.is_none() {
        drop(store);
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let _ = dir;
}
