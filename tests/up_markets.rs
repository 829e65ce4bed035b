//! `tcgtracker up` with every market: on a fresh data dir, Cardmarket, Scryfall, Card Kingdom,
//! PriceCharting and JustTCG (the simulator serves their real shapes) each get prices served by
//! the API, in the kinds and currencies they quote, a buylist with its spread to market; their
//! unmapped and ambiguous products are listed; and the fair value counts them among the sources
//! that agree.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use common::free_port;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// The markets and the kinds each may quote (as the processor accepts them).
const MARKETS: [(&str, &[&str]); 5] = [
    (
        "cardmarket",
        &["trend", "avg", "avg1", "avg7", "avg30", "low"],
    ),
    ("scryfall", &["market", "trend"]),
    ("cardkingdom", &["retail", "buylist"]),
    ("pricecharting", &["sales"]),
    ("justtcg", &["market"]),
];

struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, port: u16) -> Up {
    let log = std::fs::File::create(dir.join("up.log")).unwrap();
    Up(Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
        .arg("up")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--plain"])
        .args(["--poll-secs", "2", "--history-days", "0"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap())
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("up.log")).unwrap_or_default()
}

/// Every (source, kind, original currency) priced among the cards of `game`'s first page, and
/// the prices themselves.
async fn prices_of(get: &impl AsyncGet, game: &str) -> Vec<Value> {
    let Some(page) = get.get(&format!("/v1/cards?game={game}&limit=40")).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for card in page["items"].as_array().into_iter().flatten() {
        let id = card["product_id"].as_u64().unwrap();
        let Some(detail) = get.get(&format!("/v1/cards/{id}")).await else {
            continue;
        };
        for series in ["raw", "graded"] {
            for s in detail[series].as_array().into_iter().flatten() {
                for p in s["prices"].as_array().into_iter().flatten() {
                    let mut p = p.clone();
                    p["series_id"] = s["series_id"].clone();
                    out.push(p);
                }
            }
        }
    }
    out
}

trait AsyncGet {
    async fn get(&self, path: &str) -> Option<Value>;
}

struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl AsyncGet for Api {
    async fn get(&self, path: &str) -> Option<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_market_is_priced_listed_and_counted_by_the_fair_value() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _up = start(dir.path(), port);
    let key_file = dir.path().join("data/demo-key.txt");
    let deadline = Instant::now() + Duration::from_secs(120);
    let key = loop {
        if let Ok(k) = std::fs::read_to_string(&key_file) {
            break k.trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no demo key; log:\n{}",
            log(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
        key,
    };

    // Each market's prices, served by the card detail (Magic for Scryfall and Card Kingdom).
    let deadline = Instant::now() + Duration::from_secs(240);
    let prices = loop {
        let mut all = prices_of(&api, "magic").await;
        all.extend(prices_of(&api, "pokemon").await);
        let seen: BTreeSet<&str> = all.iter().filter_map(|p| p["source"].as_str()).collect();
        let fair_with_market = all.iter().any(|p| {
            p["kind"] == "fair"
                && p["agreeing"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|s| MARKETS.iter().any(|(m, _)| s == m)))
        });
        if MARKETS.iter().all(|(m, _)| seen.contains(m)) && fair_with_market {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "sources priced: {seen:?}, a fair value agreeing with another market: \
             {fair_with_market}; log:\n{}",
            log(dir.path())
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
    };
    let mut kinds: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in &prices {
        let source = p["source"].as_str().unwrap();
        let Some((_, allowed)) = MARKETS.iter().find(|(m, _)| *m == source) else {
            continue;
        };
        let kind = p["kind"].as_str().unwrap();
        assert!(allowed.contains(&kind), "{source} quoted {kind}: {p}");
        kinds.entry(source).or_default().insert(kind);
        let currency = p["original"]["currency"].as_str().unwrap();
        let eur = source == "cardmarket" || (source == "scryfall" && kind == "trend");
        assert_eq!(currency, if eur { "EUR" } else { "USD" }, "{p}");
        assert_eq!(p["price_usd"]["currency"], "USD");
        if kind == "buylist" {
            // A shop buying (quantity > 0; the others are rejected as not_buying) pays less
            // than the market of the same series.
            let spread = &p["spread"];
            if spread.is_object() {
                let share: f64 = spread["share_percent"].as_str().unwrap().parse().unwrap();
                assert!(share > 0.0 && share < 100.0, "{p}");
            }
        }
    }
    println!("kinds by market: {kinds:?}");
    // The markets that do not say a card's printing (Cardmarket, PriceCharting) price the
    // printings TCGplayer prices: a holo-only card's plain figure is its Holofoil.
    let tcgplayer: BTreeSet<&str> = prices
        .iter()
        .filter(|p| p["source"] == "tcgplayer" || p["source"] == "tcgcsv")
        .filter_map(|p| p["series_id"].as_str())
        .collect();
    for market in ["cardmarket", "pricecharting"] {
        let series: BTreeSet<&str> = prices
            .iter()
            .filter(|p| p["source"] == market)
            .filter_map(|p| p["series_id"].as_str())
            .filter(|s| s.split('/').count() == 4)
            .collect();
        let lonely: Vec<&&str> = series.iter().filter(|s| !tcgplayer.contains(*s)).collect();
        println!(
            "{market}: {} raw series, {} without a TCGplayer price",
            series.len(),
            lonely.len()
        );
        assert!(
            lonely.len() * 10 <= series.len(),
            "{market} prices series TCGplayer does not: {lonely:?}"
        );
    }
    assert!(kinds["cardmarket"].contains("trend"));
    assert!(kinds["cardkingdom"].contains("retail"));

    // Unmapped and ambiguous products, listed by market and never priced.
    let unmapped = api.get("/v1/sources/unmapped?limit=200").await.unwrap();
    assert_eq!(unmapped["monitored"], true);
    let listed: BTreeSet<(String, String)> = unmapped["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["source"].as_str().unwrap().to_owned(),
                u["why"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    println!("unmapped: {listed:?}");
    assert!(
        listed.iter().any(|(_, why)| why == "unmapped"),
        "{listed:?}"
    );
    assert!(
        listed.iter().any(|(_, why)| why == "ambiguous"),
        "{listed:?}"
    );
    let cm = api
        .get("/v1/sources/unmapped?source=cardmarket&limit=5")
        .await
        .unwrap();
    assert!(
        cm["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["source"] == "cardmarket")
    );

    // Every market reports its health.
    let sources = api.get("/v1/sources").await.unwrap();
    for (m, _) in MARKETS {
        let s = sources["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == m)
            .unwrap_or_else(|| panic!("{m} is not in /v1/sources: {sources}"));
        assert_eq!(s["up"], true, "{s}");
    }
    let count = |m: &str| {
        sources["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == m)
            .and_then(|s| s["unmapped_products"].as_u64())
            .unwrap()
    };
    assert!(count("cardmarket") > 0, "{sources}");
    assert_eq!(count("tcgcsv"), 0);
}
