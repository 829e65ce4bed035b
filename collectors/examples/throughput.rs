//! How many quotes a second one collector sustains against the simulator (same process,
//! loopback), with baselines measured in the same run. Prints one JSON line.
//!
//! `cargo run --release -p tcg-collectors --example throughput [SECONDS]`

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tcg_collectors::{
    CountingSink, Source,
    http::HttpConfig,
    tcgplayer::{TcgplayerConfig, TcgplayerSource},
};
use tcg_simulator::{SimConfig, Simulator};

/// The baselines run this many seconds at most (the collector runs as long as asked).
const BASELINE_MAX_SECS: f64 = 3.0;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5.0);
    let (base, products) = start_simulator().await?;
    let collector = collector_run(&base, secs).await?;
    let client = reqwest::Client::new();
    let bare_rps = bare_pricing_rps(&base, &client, secs.min(BASELINE_MAX_SECS)).await?;
    let sim_rps = simulator_rps(&base, &client, secs.min(BASELINE_MAX_SECS)).await?;

    let CollectorRun {
        elapsed,
        passes,
        requests,
        quotes,
    } = collector;
    let collector_rps = requests as f64 / elapsed;
    println!(
        "{}",
        serde_json::json!({
            "bench": "collector_tcgplayer",
            "products": products,
            "seconds": elapsed,
            "passes": passes,
            "quotes": quotes,
            "quotes_per_sec": (quotes as f64 / elapsed).round(),
            "collector_requests_per_sec": collector_rps.round(),
            "bare_pricing_requests_per_sec": bare_rps.round(),
            "ratio_collector_to_bare_requests": (collector_rps / bare_rps * 1000.0).round() / 1000.0,
            "simulator_small_requests_per_sec_8_clients": sim_rps.round(),
        })
    );
    Ok(())
}

/// The simulator on a free loopback port: its base URL and the number of products it serves.
async fn start_simulator() -> Result<(String, usize), Box<dyn std::error::Error>> {
    let sim = Simulator::new(SimConfig {
        seed: 1,
        categories: vec![3, 1, 2, 68],
        sets_per_game: 5,
        cards_per_set: 100,
        ..SimConfig::default()
    });
    let products = sim.handle().catalog().products.len();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(sim.serve(listener, std::future::pending()));
    Ok((base, products))
}

/// What the collector did in the measured passes.
struct CollectorRun {
    elapsed: f64,
    passes: u64,
    requests: u64,
    quotes: u64,
}

/// The collector: TCGplayer API, product and SKU prices, no client-side rate limit; passes for
/// `secs` after a first one that loads and caches the catalog.
async fn collector_run(base: &str, secs: f64) -> Result<CollectorRun, Box<dyn std::error::Error>> {
    let mut source = TcgplayerSource::new(TcgplayerConfig {
        base_url: base.to_owned(),
        client_id: "bench".into(),
        client_secret: "bench".into(),
        categories: vec![3, 1, 2, 68],
        collect_skus: true,
        http: HttpConfig {
            min_interval_ms: 0,
            ..HttpConfig::default()
        },
        ..TcgplayerConfig::default()
    })?;
    let sink = Arc::new(CountingSink::default());
    source.collect(sink.as_ref()).await?; // loads and caches the catalog
    let warm = sink.count();
    let start = Instant::now();
    let (mut passes, mut requests) = (0u64, 0u64);
    while start.elapsed().as_secs_f64() < secs {
        let r = source.collect(sink.as_ref()).await?;
        passes += 1;
        requests += r.requests;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(CollectorRun {
        elapsed,
        passes,
        requests,
        quotes: sink.count() - warm,
    })
}

/// Baseline 1: the same pricing requests with a bare reqwest client, body read and dropped, for
/// `secs`; requests a second.
async fn bare_pricing_rps(
    base: &str,
    client: &reqwest::Client,
    secs: f64,
) -> Result<f64, Box<dyn std::error::Error>> {
    let token: serde_json::Value = client
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "b"),
            ("client_secret", "b"),
        ])
        .send()
        .await?
        .json()
        .await?;
    let auth = format!(
        "bearer {}",
        token["access_token"].as_str().unwrap_or_default()
    );
    let first_id = sim_first_product(base, client, &auth).await?;
    let ids: Vec<String> = (first_id..first_id + 250).map(|i| i.to_string()).collect();
    let url = format!("{base}/v1.39.0/pricing/product/{}", ids.join(","));
    let start = Instant::now();
    let mut bare = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let body = client
            .get(&url)
            .header("Authorization", &auth)
            .send()
            .await?
            .bytes()
            .await?;
        std::hint::black_box(body);
        bare += 1;
    }
    Ok(bare as f64 / start.elapsed().as_secs_f64())
}

/// Baseline 2: the simulator alone, 8 concurrent clients on a small answer, for `secs`; requests
/// a second.
async fn simulator_rps(
    base: &str,
    client: &reqwest::Client,
    secs: f64,
) -> Result<f64, Box<dyn std::error::Error>> {
    let daily = format!("{base}/stats/eurofxref/eurofxref-daily.xml");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, daily) = (client.clone(), daily.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while start.elapsed() < Duration::from_secs_f64(secs) {
                if client.get(&daily).send().await.is_ok() {
                    n += 1;
                }
            }
            n
        }));
    }
    let mut sim_requests = 0;
    for t in tasks {
        sim_requests += t.await?;
    }
    Ok(sim_requests as f64 / start.elapsed().as_secs_f64())
}

async fn sim_first_product(
    base: &str,
    client: &reqwest::Client,
    auth: &str,
) -> Result<u64, Box<dyn std::error::Error>> {
    let v: serde_json::Value = client
        .get(format!("{base}/v1.39.0/catalog/products?limit=1"))
        .header("Authorization", auth)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["results"][0]["productId"].as_u64().unwrap_or(100_000))
}
