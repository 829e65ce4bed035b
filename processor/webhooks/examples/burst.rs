//! Delivery throughput: N alerts to one local endpoint through the outbox and the dispatcher,
//! against a baseline of N bare POSTs of the same size with the same concurrency (no store, no
//! signing). Prints one JSON line.
//!
//! `cargo run --release -p tcg-webhooks --example burst -- [N] [CONCURRENCY]`
#![allow(clippy::unwrap_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, http::StatusCode};
use tcg_schemas::{
    AlertEvent, AlertId, Condition, Language, Money, PriceKind, Printing, ProductId, RuleId,
    SeriesKey, Source, Timestamp, Trigger, UserId,
};
use tcg_store::{AccountStore, SqliteStore, Store, Webhook};
use tcg_webhooks::{Dispatcher, DispatcherConfig};

fn alert(owner: &UserId, n: u64) -> AlertEvent {
    let rule = RuleId(uuid::Uuid::from_u128(7));
    let series = SeriesKey::Sku {
        product_id: ProductId(42),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
    };
    let observed_at = Timestamp::from_secs(1_700_000_000 + n as i64);
    AlertEvent {
        id: AlertId::derive(
            rule,
            &series.id(),
            observed_at,
            Source::Tcgplayer,
            PriceKind::Market,
            None,
        ),
        rule_id: rule,
        owner: owner.clone(),
        rule_name: "cheap".into(),
        product_id: ProductId(42),
        series_id: series.id(),
        series,
        source: Source::Tcgplayer,
        kind: PriceKind::Market,
        observed_at,
        price_usd: Money::usd_cents(400),
        listing_id: None,
        trigger: Trigger::PriceBelow {
            threshold_usd: Money::usd_cents(500),
        },
        message: format!("alert {n}"),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let concurrency = args.get(1).copied().unwrap_or(16) as usize;

    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let app = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::Relaxed);
            StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("burst.db")).unwrap();
    let owner = UserId("bench".into());
    let now = Timestamp::from(chrono::Utc::now());
    store
        .insert_webhook(&Webhook {
            id: uuid::Uuid::new_v4().to_string(),
            owner: owner.clone(),
            url: format!("http://{addr}/hook"),
            description: None,
            enabled: true,
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let alerts: Vec<AlertEvent> = (0..n).map(|i| alert(&owner, i)).collect();
    let body_len = serde_json::to_vec(&alerts[0]).unwrap().len() + 60;

    // Baseline: bare POSTs, same concurrency, same client settings.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (c, url) = (client.clone(), format!("http://{addr}/base"));
        let body = vec![b'x'; body_len];
        set.spawn(async move {
            let r = c.post(url).body(body).send().await.unwrap();
            assert!(r.status().is_success());
            drop(permit);
        });
        while set.try_join_next().is_some() {}
    }
    while set.join_next().await.is_some() {}
    let baseline = n as f64 / started.elapsed().as_secs_f64();
    hits.store(0, Ordering::Relaxed);

    for chunk in alerts.chunks(5000) {
        store.write_alerts(chunk).await.unwrap();
    }
    let config = DispatcherConfig {
        concurrency,
        allow_cidrs: vec!["127.0.0.1/32".into()],
        poll_interval: Duration::from_millis(50),
        ..DispatcherConfig::default()
    };
    let dispatcher = Dispatcher::new(store.clone(), config).unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let run = tokio::spawn(dispatcher.run(async move {
        let _ = rx.await;
    }));
    while hits.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let report = run.await.unwrap().unwrap();
    let rate = n as f64 / elapsed;
    println!(
        "{}",
        serde_json::json!({
            "bench": "webhook_delivery",
            "alerts": n,
            "concurrency": concurrency,
            "seconds": elapsed,
            "alerts_per_sec": rate.round(),
            "baseline_bare_posts_per_sec": baseline.round(),
            "ratio_to_baseline": (rate / baseline * 1000.0).round() / 1000.0,
            "delivered": report.delivered,
            "attempts": report.attempts,
        })
    );
}
