//! `tcgtracker up` end to end: a fresh data dir, free ports, real history and movers, a rule made
//! through the API that fires to a local webhook receiver with a valid signature, a SIGTERM that
//! drains in time, and a restart that duplicates nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use common::free_port;
use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{body::Bytes, http::HeaderMap, routing::post};
use serde_json::{Value, json};
use tcg_schemas::Timestamp;

/// A running `up`, killed when dropped if still running (a failing assertion must not leave it
/// behind).
struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn start(dir: &Path, port: u16) -> Up {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("up.log"))
        .unwrap();
    Up(Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
        .arg("up")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--plain",
            "--allow-private-webhooks",
        ])
        .args(["--poll-secs", "2", "--history-days", "3"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap())
}

fn stop(Up(child): &mut Up) -> Duration {
    let t = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "up exited with {status}");
    t.elapsed()
}

async fn wait_until<F, Fut>(what: &str, secs: u64, dir: &Path, mut f: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            std::fs::read_to_string(dir.join("up.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receiver() -> (u16, Received) {
    let got: Received = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        post({
            let got = got.clone();
            move |headers: HeaderMap, body: Bytes| {
                let got = got.clone();
                async move {
                    got.lock().unwrap().push((headers, body));
                    "ok"
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, got)
}

fn tick_count(db: &Path) -> i64 {
    let store = tcg_store::SqliteStore::open(db).unwrap();
    store
        .with_reader(|c| {
            c.query_row("SELECT count(*) FROM ticks", [], |r| r.get(0))
                .map_err(tcg_store::StoreError::from)
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_history_fires_signed_webhooks_and_restarts_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut up = start(dir.path(), port);
    let http = reqwest::Client::new();

    let key_file = dir.path().join("data/demo-key.txt");
    let key = wait_until("the demo key", 60, dir.path(), || {
        let f = key_file.clone();
        async move {
            std::fs::read_to_string(f)
                .ok()
                .map(|k| Value::String(k.trim().to_owned()))
        }
    })
    .await;
    let key = key.as_str().unwrap().to_owned();
    let get = |path: String| {
        let http = http.clone();
        let key = key.clone();
        let base = base.clone();
        async move {
            let r = http
                .get(format!("{base}{path}"))
                .bearer_auth(key)
                .send()
                .await
                .ok()?;
            if !r.status().is_success() {
                return None;
            }
            r.json::<Value>().await.ok()
        }
    };

    // History and movers from the back-filled days and the live polls.
    let movers = wait_until("movers", 90, dir.path(), || async move {
        get("/v1/movers?window=24h&limit=5".into())
            .await
            .filter(|m| m["gainers"].as_array().is_some_and(|g| !g.is_empty()))
    })
    .await;
    // A week of the default market: no card moved beyond ±40 % unless a simulated news event
    // (a spike or a crash) caused it, and then the mover says it was sudden.
    let week = get("/v1/movers?window=7d&limit=50".into()).await.unwrap();
    let seed = tcg_simulator::SimConfig::default().seed;
    let since = Timestamp::parse(week["since"].as_str().unwrap())
        .unwrap()
        .day();
    let as_of = Timestamp::parse(week["as_of"].as_str().unwrap())
        .unwrap()
        .day();
    let mut big = 0;
    for side in ["gainers", "losers"] {
        for mv in week[side].as_array().unwrap() {
            let bps = mv["change_bps"].as_i64().unwrap();
            if bps.abs() <= 4_000 {
                continue;
            }
            big += 1;
            let product = mv["product_id"].as_u64().unwrap();
            let news = (since - 1..=as_of)
                .any(|day| tcg_simulator::market::news_event(seed, product, day).is_some());
            assert!(news, "a move of {bps} bps with no news event: {mv}");
            assert_eq!(mv["sudden"], true, "a news move says it was sudden: {mv}");
        }
    }
    eprintln!("7-day movers beyond ±40 %: {big}, each a simulated news event");
    // The demo portfolio, valued at market prices with its cost basis and P&L.
    let valuation = wait_until("a valued demo portfolio", 90, dir.path(), || async move {
        let list = get("/v1/portfolios".into()).await?;
        let id = list["items"][0]["id"].as_str()?.to_owned();
        get(format!("/v1/portfolios/{id}/valuation"))
            .await
            .filter(|v| v["holdings"].as_array().is_some_and(|h| h.len() == 5))
    })
    .await;
    let cents =
        |m: &Value| (m["amount"].as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64;
    let (value, cost, unrealized) = (
        cents(&valuation["market_value_usd"]),
        cents(&valuation["cost_basis_usd"]),
        cents(&valuation["unrealized_pnl_usd"]),
    );
    assert!(value > 0 && cost > 0, "{valuation}");
    assert_eq!(unrealized, value - cost, "{valuation}");
    for h in valuation["holdings"].as_array().unwrap() {
        assert!(
            h["unit_price_usd"].is_object(),
            "every demo holding is priced: {h}"
        );
    }
    eprintln!(
        "history, movers and a valued portfolio {:.1} s after start",
        started.elapsed().as_secs_f64()
    );
    // Every source's health after its passes (the simulator answers as the real services do
    // when they work), named in the log once each has finished its first pass.
    let sources = wait_until("every source past a pass", 60, dir.path(), || async move {
        get("/v1/sources".into()).await.filter(|s| {
            s["items"]
                .as_array()
                .is_some_and(|i| !i.is_empty() && i.iter().all(|x| x["passes"].as_u64() > Some(0)))
        })
    })
    .await;
    assert_eq!(sources["monitored"], true);
    let names: Vec<&str> = sources["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["source"].as_str().unwrap())
        .collect();
    for name in ["tcgcsv", "tcgplayer", "ebay_browse", "ecb"] {
        assert!(names.contains(&name), "{name} in {sources}");
    }
    for x in sources["items"].as_array().unwrap() {
        assert_eq!(x["status"], "ok", "{x}");
        assert_eq!(x["up"], true, "{x}");
    }
    let log = std::fs::read_to_string(dir.path().join("up.log")).unwrap();
    assert!(log.contains("sources after their first pass:"), "{log}");
    assert!(!log.contains(" live at "), "{log}");

    // The eBay listings of the held cards that are not prices of them (lots, proxies, other
    // printings …), named with their title and reason.
    let portfolio = valuation["portfolio_id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| valuation["portfolio"]["id"].as_str().map(str::to_owned));
    let list = get("/v1/portfolios".into()).await.unwrap();
    let portfolio =
        portfolio.unwrap_or_else(|| list["items"][0]["id"].as_str().unwrap().to_owned());
    let holdings = get(format!("/v1/portfolios/{portfolio}/holdings"))
        .await
        .unwrap();
    let held: Vec<u64> = holdings["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["product_id"].as_u64().unwrap())
        .collect();
    assert_eq!(held.len(), 5, "{holdings}");
    let rejected = wait_until("a named rejection of a held card", 120, dir.path(), || {
        let held = held.clone();
        async move {
            for id in held {
                let r = get(format!("/v1/cards/{id}/rejections")).await?;
                if r["items"].as_array().is_some_and(|i| !i.is_empty()) {
                    return Some(r);
                }
            }
            None
        }
    })
    .await;
    let first = &rejected["items"][0];
    assert_eq!(first["stage"], "processor", "{first}");
    assert!(
        first["source"].as_str().unwrap().starts_with("ebay"),
        "{first}"
    );
    assert!(!first["title"].as_str().unwrap().is_empty(), "{first}");
    assert!(!first["reason"].as_str().unwrap().is_empty(), "{first}");
    assert!(!first["detail"].as_str().unwrap().is_empty(), "{first}");

    let product = movers["gainers"][0]["product_id"].as_u64().unwrap();
    let history = get(format!("/v1/cards/{product}/history?interval=1d"))
        .await
        .unwrap();
    let candles: usize = history["series"].as_array().map_or(0, |s| {
        s.iter()
            .map(|x| x["candles"]["start"].as_array().map_or(0, Vec::len))
            .sum()
    });
    assert!(
        candles >= 3,
        "daily candles of product {product}: {history}"
    );

    // A webhook endpoint on a local receiver and a rule that is true at once.
    let (hook_port, received) = receiver().await;
    let created: Value = http
        .post(format!("{base}/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({ "url": format!("http://127.0.0.1:{hook_port}/hook") }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"]
        .as_str()
        .expect("secret shown at creation")
        .to_owned();
    let rule = http
        .post(format!("{base}/v1/alert-rules"))
        .bearer_auth(&key)
        .json(&json!({
            "name": "e2e: anything above a cent",
            "product_id": product,
            "condition": { "type": "price_above", "threshold_usd": { "amount": "0.01", "currency": "USD" } },
            "cooldown_secs": 60
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        rule.status().as_u16(),
        201,
        "{}",
        rule.text().await.unwrap()
    );

    wait_until("a signed webhook", 120, dir.path(), || {
        let received = received.clone();
        async move { (!received.lock().unwrap().is_empty()).then_some(Value::Null) }
    })
    .await;
    {
        let got = received.lock().unwrap();
        let (headers, body) = &got[0];
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let wh = tcg_webhooks::WebhookHeaders {
            id: h("webhook-id"),
            timestamp: h("webhook-timestamp"),
            signature: h("webhook-signature"),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        tcg_webhooks::verify(
            &[secret.as_str()],
            &wh,
            body,
            now,
            Some(Duration::from_secs(300)),
        )
        .expect("signature verifies");
        let alert: Value = serde_json::from_slice(body).unwrap();
        assert!(body.len() > 20 && alert.is_object(), "{alert}");
    }

    // SIGTERM drains in time; a restart duplicates nothing.
    let took = stop(&mut up);
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");
    let db = dir.path().join("data/tcgtracker.db");
    let ticks_before = tick_count(&db);
    let alerts_before: Value = {
        let mut up2 = start(dir.path(), port);
        let v = wait_until("the API after restart", 60, dir.path(), || async move {
            get("/v1/alerts?limit=200".into()).await
        })
        .await;
        tokio::time::sleep(Duration::from_secs(8)).await;
        let after = get("/v1/alerts?limit=200".into()).await.unwrap();
        let took = stop(&mut up2);
        assert!(
            took < Duration::from_secs(5),
            "SIGTERM after restart took {took:?}"
        );
        let _ = v;
        after
    };
    assert!(tick_count(&db) >= ticks_before, "ticks are kept");
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for a in alerts_before["items"].as_array().unwrap() {
        *per_id
            .entry(a["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(
        per_id.values().all(|n| *n == 1),
        "an alert listed twice: {per_id:?}"
    );
    let got = received.lock().unwrap();
    let mut deliveries: BTreeMap<String, usize> = BTreeMap::new();
    for (headers, _) in got.iter() {
        let id = headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        *deliveries.entry(id).or_default() += 1;
    }
    assert!(
        deliveries.values().all(|n| *n == 1),
        "a webhook delivered twice: {deliveries:?}"
    );
    // The back-fill is not repeated: the days done are recorded.
    let log = std::fs::read_to_string(dir.path().join("up.log")).unwrap();
    assert_eq!(log.matches("tcgtracker is up").count(), 2, "{log}");
}
