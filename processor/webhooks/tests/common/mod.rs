//! Local receivers on 127.0.0.1:0, stores in temporary directories, alerts.
#![allow(clippy::unwrap_used, dead_code)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU16, AtomicU32, AtomicU64, Ordering},
    },
    time::Duration,
};
use tcg_store::prelude::*;

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
};
use tcg_schemas::{
    AlertEvent, AlertId, Condition, Language, Money, PriceKind, Printing, ProductId, RuleId,
    SeriesKey, Source, Timestamp, Trigger, UserId,
};
use tcg_store::{AccountStore, SqliteStore, Webhook};
use tcg_webhooks::{Dispatcher, DispatcherConfig, RunReport};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// Lower-case header names to values, and the body, of one request.
pub type Request = (HashMap<String, String>, Vec<u8>);

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Debug, Default)]
pub struct Inner {
    /// (path, webhook-id) → requests answered 2xx.
    pub delivered: Mutex<HashMap<(String, String), u32>>,
    pub requests: AtomicU64,
    pub in_flight: AtomicI64,
    pub max_in_flight: AtomicI64,
    /// Status to answer (0 = 204).
    pub status: AtomicU16,
    /// How many of the next requests are delayed by `delay_ms`.
    pub slow: AtomicU32,
    pub delay_ms: AtomicU64,
    /// Headers (lower-case names) and body of the last request.
    pub last: Mutex<Option<Request>>,
}

#[derive(Debug, Clone, Default)]
pub struct Receiver(pub Arc<Inner>);

impl Receiver {
    pub fn delivered_total(&self) -> usize {
        self.0.delivered.lock().unwrap().len()
    }
    pub fn counts(&self) -> HashMap<(String, String), u32> {
        self.0.delivered.lock().unwrap().clone()
    }
    pub fn max_in_flight(&self) -> i64 {
        self.0.max_in_flight.load(Ordering::SeqCst)
    }
    pub fn requests(&self) -> u64 {
        self.0.requests.load(Ordering::SeqCst)
    }
    pub fn last(&self) -> Request {
        self.0.last.lock().unwrap().clone().unwrap()
    }
}

async fn hook(State(r): State<Receiver>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let r = &r.0;
    r.requests.fetch_add(1, Ordering::SeqCst);
    let now = r.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    r.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let slow = r
        .slow
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if slow {
        tokio::time::sleep(Duration::from_millis(r.delay_ms.load(Ordering::SeqCst))).await;
    }
    let status = match r.status.load(Ordering::SeqCst) {
        0 => StatusCode::NO_CONTENT,
        s => StatusCode::from_u16(s).unwrap(),
    };
    let map: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    if status.is_success() {
        let id = map.get("webhook-id").cloned().unwrap_or_default();
        *r.delivered
            .lock()
            .unwrap()
            .entry((uri.path().to_owned(), id))
            .or_default() += 1;
    }
    *r.last.lock().unwrap() = Some((map, body.to_vec()));
    r.in_flight.fetch_sub(1, Ordering::SeqCst);
    status
}

/// Serves a receiver on `listener` until the returned sender is dropped or fired.
pub fn serve_on(listener: TcpListener, r: Receiver) -> oneshot::Sender<()> {
    let (tx, rx) = oneshot::channel::<()>();
    let app = Router::new().fallback(hook).with_state(r);
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    tx
}

pub async fn receiver() -> (Receiver, SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let r = Receiver::default();
    let stop = serve_on(listener, r.clone());
    (r, addr, stop)
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub owner: UserId,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        Self {
            dir,
            store,
            owner: UserId("ana".into()),
        }
    }

    /// The same SQLite file opened again (a restarted process).
    pub fn reopen(&self) -> SqliteStore {
        SqliteStore::open(self.dir.path().join("t.db")).unwrap()
    }

    pub async fn webhook(&self, url: &str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let now = Timestamp::from(chrono::Utc::now());
        self.store
            .insert_webhook(&Webhook {
                id: id.clone(),
                owner: self.owner.clone(),
                url: url.to_owned(),
                description: None,
                enabled: true,
                secret: SECRET.into(),
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        id
    }

    /// Stores `n` alerts of the owner (ids from `start`); returns their ids.
    pub async fn alerts(&self, start: u64, n: u64) -> Vec<String> {
        let batch: Vec<AlertEvent> = (start..start + n).map(|i| alert(&self.owner, i)).collect();
        for chunk in batch.chunks(2000) {
            self.store.write_alerts(chunk).await.unwrap();
        }
        batch.iter().map(|a| a.id.to_string()).collect()
    }
}

pub fn alert(owner: &UserId, n: u64) -> AlertEvent {
    let rule = RuleId(uuid::Uuid::from_u128(7));
    let series = SeriesKey::Sku {
        product_id: ProductId(42),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
    };
    let observed_at = Timestamp::from_secs(1_700_000_000 + i64::try_from(n).unwrap());
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

/// A config for tests: fast retries, short timeout, 127.0.0.1 explicitly allowed, no cap per
/// endpoint (the cap's own test sets one).
pub fn config() -> DispatcherConfig {
    DispatcherConfig {
        per_endpoint_per_minute: u32::MAX,
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_millis(500),
        claim_lease: Duration::from_millis(1500),
        retry_schedule: [0, 50, 50, 50, 50, 50, 50, 50, 50, 50]
            .into_iter()
            .map(Duration::from_millis)
            .chain(std::iter::repeat_n(Duration::from_millis(200), 100))
            .collect(),
        allow_cidrs: vec!["127.0.0.1/32".into()],
        ..DispatcherConfig::default()
    }
}

/// A running dispatcher and the way to stop it.
pub struct Running {
    pub stop: oneshot::Sender<()>,
    pub handle: JoinHandle<RunReport>,
}

impl Running {
    pub async fn stop(self) -> RunReport {
        let _ = self.stop.send(());
        self.handle.await.unwrap()
    }
}

pub fn start(d: Dispatcher) -> Running {
    let (stop, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        d.run(async move {
            let _ = rx.await;
        })
        .await
        .unwrap()
    });
    Running { stop, handle }
}

/// Polls `f` until it holds or `secs` pass.
pub async fn eventually(secs: u64, mut f: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
