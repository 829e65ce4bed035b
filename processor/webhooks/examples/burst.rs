//! Delivery throughput and memory: N alerts to one local endpoint through the outbox and the
//! dispatcher, against a baseline measured in the same run: N bare POSTs of the same size to the
//! same receiver with the same concurrency, from a plain reqwest client (no store, no signing).
//! Before each phase the peak RSS (VmHWM) is reset (`/proc/self/clear_refs`), so each phase's
//! peak is its own. Prints one JSON line.
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
use tcg_store::prelude::*;

use axum::{Router, http::StatusCode};
use tcg_schemas::{
    AlertEvent, AlertId, Condition, Language, Money, PriceKind, Printing, ProductId, RuleId,
    SeriesKey, Source, Timestamp, Trigger, UserId,
};
use tcg_store::{AccountStore, SqliteStore, Webhook};
use tcg_webhooks::{Dispatcher, DispatcherConfig, RunReport};

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

/// A `kB` field of /proc/self/status (Linux), e.g. `VmHWM` (peak RSS) or `VmRSS`.
fn status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false if that is not possible here.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Memory figures of one phase: RSS at its start, its peak (VmHWM), and whether the peak was
/// reset at its start (otherwise it is the process's peak so far).
fn phase_memory(rss_before: Option<u64>, reset: bool) -> serde_json::Value {
    serde_json::json!({
        "rss_before_kib": rss_before,
        "peak_rss_kib": status_kib("VmHWM"),
        "peak_rss_reset_at_start": reset,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let concurrency = args.get(1).copied().unwrap_or(16) as usize;

    let receiver = Receiver::start().await;
    let backlog = Backlog::store(&receiver, n).await;
    let base = baseline(&receiver, n, concurrency, backlog.body_len).await;
    let run = dispatcher_phase(&receiver, &backlog.store, n, concurrency).await;
    println!("{}", report(n, concurrency, backlog.body_len, &run, &base));
}

/// The local endpoint: answers 204 to everything and counts the requests.
struct Receiver {
    addr: std::net::SocketAddr,
    hits: Arc<AtomicU64>,
}

impl Receiver {
    async fn start() -> Self {
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
        Self { addr, hits }
    }
}

/// The store holding the endpoint and the `n` alerts to deliver, and the size of one body.
struct Backlog {
    /// Removed on drop: kept for as long as the store is used.
    _dir: tempfile::TempDir,
    store: SqliteStore,
    body_len: usize,
}

impl Backlog {
    /// The backlog is stored before either phase (in chunks, never all in memory at once).
    async fn store(receiver: &Receiver, n: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("burst.db")).unwrap();
        let owner = UserId("bench".into());
        let now = Timestamp::from(chrono::Utc::now());
        store
            .insert_webhook(&Webhook {
                id: uuid::Uuid::new_v4().to_string(),
                owner: owner.clone(),
                url: format!("http://{}/hook", receiver.addr),
                description: None,
                enabled: true,
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        let body_len =
            tcg_webhooks::outbox::body(&serde_json::to_string(&alert(&owner, 0)).unwrap())
                .unwrap()
                .len();
        let mut i = 0;
        while i < n {
            let chunk: Vec<AlertEvent> = (i..n.min(i + 2000)).map(|k| alert(&owner, k)).collect();
            store.write_alerts(&chunk).await.unwrap();
            i += chunk.len() as u64;
        }
        Self {
            _dir: dir,
            store,
            body_len,
        }
    }
}

/// The baseline phase's figures.
struct Baseline {
    secs: f64,
    rate: f64,
    memory: serde_json::Value,
}

/// Baseline: bare POSTs of the same size, same concurrency, a plain client.
async fn baseline(receiver: &Receiver, n: u64, concurrency: usize, body_len: usize) -> Baseline {
    let reset = reset_peak_rss();
    let rss_before = status_kib("VmRSS");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let url = format!("http://{}/base", receiver.addr);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (c, url) = (client.clone(), url.clone());
        let body = vec![b'x'; body_len];
        set.spawn(async move {
            let r = c.post(url).body(body).send().await.unwrap();
            assert!(r.status().is_success());
            drop(permit);
        });
        while set.try_join_next().is_some() {}
    }
    while set.join_next().await.is_some() {}
    let secs = started.elapsed().as_secs_f64();
    let rate = n as f64 / secs;
    let memory = phase_memory(rss_before, reset);
    assert_eq!(receiver.hits.swap(0, Ordering::SeqCst), n);
    drop(client);
    Baseline { secs, rate, memory }
}

/// The dispatcher phase's figures, with the bounds and sizes of its configuration.
struct DispatcherRun {
    elapsed: f64,
    rate: f64,
    report: RunReport,
    claimed_bound: u64,
    unrecorded_bound: u64,
    page_size: usize,
    record_batch: usize,
    memory: serde_json::Value,
}

/// The dispatcher: outbox → signed POSTs → recorded attempts, until all `n` arrived.
async fn dispatcher_phase(
    receiver: &Receiver,
    store: &SqliteStore,
    n: u64,
    concurrency: usize,
) -> DispatcherRun {
    let config = DispatcherConfig {
        concurrency,
        allow_cidrs: vec!["127.0.0.1/32".into()],
        poll_interval: Duration::from_millis(50),
        // One endpoint takes the whole burst: the throughput measured is the dispatcher's, not
        // the per-endpoint cap's.
        per_endpoint_per_minute: u32::MAX,
        ..DispatcherConfig::default()
    };
    let (claimed_bound, unrecorded_bound) = (
        RunReport::claimed_bound(&config),
        RunReport::unrecorded_bound(&config),
    );
    let (page_size, record_batch) = (config.page_size, config.record_batch);
    let reset = reset_peak_rss();
    let rss_before = status_kib("VmRSS");
    let dispatcher = Dispatcher::new(store.clone(), config).unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let run = tokio::spawn(dispatcher.run(async move {
        let _ = rx.await;
    }));
    while receiver.hits.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let report = run.await.unwrap().unwrap();
    DispatcherRun {
        elapsed,
        rate: n as f64 / elapsed,
        report,
        claimed_bound,
        unrecorded_bound,
        page_size,
        record_batch,
        memory: phase_memory(rss_before, reset),
    }
}

/// The JSON line the example prints.
fn report(
    n: u64,
    concurrency: usize,
    body_len: usize,
    run: &DispatcherRun,
    base: &Baseline,
) -> serde_json::Value {
    let peak = |v: &serde_json::Value| v["peak_rss_kib"].as_f64();
    let rss_ratio = match (peak(&run.memory), peak(&base.memory)) {
        (Some(a), Some(b)) if b > 0.0 => Some((a / b * 1000.0).round() / 1000.0),
        _ => None,
    };
    serde_json::json!({
        "bench": "webhook_delivery",
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "alerts": n,
        "concurrency": concurrency,
        "body_bytes": body_len,
        "dispatcher": {
            "seconds": (run.elapsed * 1000.0).round() / 1000.0,
            "deliveries_per_sec": run.rate.round(),
            "delivered": run.report.delivered,
            "attempts": run.report.attempts,
            "peak_claimed": run.report.peak_claimed,
            "claimed_bound": run.claimed_bound,
            "peak_unrecorded": run.report.peak_unrecorded,
            "unrecorded_bound": run.unrecorded_bound,
            "page_size": run.page_size,
            "record_batch": run.record_batch,
            "memory": run.memory,
        },
        "baseline_bare_posts": {
            "seconds": (base.secs * 1000.0).round() / 1000.0,
            "posts_per_sec": base.rate.round(),
            "memory": base.memory,
        },
        "ratio_to_baseline": {
            "deliveries_per_sec": (run.rate / base.rate * 1000.0).round() / 1000.0,
            "peak_rss": rss_ratio,
        },
    })
}
