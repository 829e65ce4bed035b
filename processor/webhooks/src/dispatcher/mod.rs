//! The dispatcher: outbox → signed POSTs, bounded in concurrency and memory, every attempt
//! recorded.
//!
//! One loop: fan new alerts out into deliveries (a page at a time), claim due deliveries with a
//! lease into a small local queue (at most `concurrency` of them), start a POST whenever a
//! permit of the semaphore is free, and sleep until the next delivery is due, the poll interval
//! passes, or the [`Notifier`] fires (a freshly stored alert, or recorded retries). Finished
//! attempts go through a bounded channel to a recorder that writes them in batches. No endpoint
//! gets more than `per_endpoint_per_minute` POSTs in any minute: a delivery beyond the cap is
//! not started, and is due again when its lease ends.

mod attempt;
mod rate;
mod recorder;
mod run_loop;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tcg_schemas::Timestamp;
use tcg_store::DeliveryStore;
use tokio::sync::Notify;

use crate::{
    WebhookError,
    config::DispatcherConfig,
    guard::{AddressGuard, GuardedResolver, Lookup},
    internal_events,
    schedule::RetrySchedule,
};
use run_loop::RunLoop;

/// Metric names (the `metrics` crate; the process's recorder exports them), defined in
/// [`crate::internal_events`]; this path is kept for callers of the old one.
pub use crate::internal_events as names;

type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Wakes the dispatcher at once (call it after storing alerts) instead of at the next poll.
#[derive(Debug, Clone)]
pub struct Notifier(Arc<Notify>);

impl Notifier {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// Totals of one [`Dispatcher::run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub attempts: u64,
    pub delivered: u64,
    /// Deliveries not started because their endpoint had its cap for the minute (each is due
    /// again when its lease ends; one delivery may count several times).
    pub deferred: u64,
    pub endpoints_disabled: u64,
    /// The most deliveries held at once: claimed from the store and waiting in the local queue
    /// or being POSTed. At most `2 × concurrency` (the queue is refilled up to `concurrency`,
    /// and at most `concurrency` POSTs are in flight), independent of the backlog.
    pub peak_claimed: u64,
    /// The most finished attempts at once on their way to the store (handed to the recorder or
    /// waiting to be). At most [`RunReport::unrecorded_bound`].
    pub peak_unrecorded: u64,
}

impl RunReport {
    /// The bound on [`RunReport::peak_claimed`] for a configuration.
    pub fn claimed_bound(config: &DispatcherConfig) -> u64 {
        2 * config.concurrency as u64
    }

    /// The bound on [`RunReport::peak_unrecorded`] for a configuration: attempts waiting to
    /// be handed over (each holds a permit), the recorder channel, and the batch being written.
    pub fn unrecorded_bound(config: &DispatcherConfig) -> u64 {
        let (c, b) = (config.concurrency as u64, config.record_batch as u64);
        c + c.max(b) + b
    }
}

#[derive(Debug, Default)]
struct Stats {
    attempts: AtomicU64,
    delivered: AtomicU64,
    disabled: AtomicU64,
    unrecorded: AtomicU64,
    peak_unrecorded: AtomicU64,
}

impl Stats {
    fn unrecorded_add(&self, n: u64) {
        let now = self.unrecorded.fetch_add(n, Ordering::Relaxed) + n;
        self.peak_unrecorded.fetch_max(now, Ordering::Relaxed);
        metrics::gauge!(internal_events::UNRECORDED).set(now as f64);
    }

    fn unrecorded_sub(&self, n: u64) {
        let before = self
            .unrecorded
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(n))
            })
            .unwrap_or(0);
        metrics::gauge!(internal_events::UNRECORDED).set(before.saturating_sub(n) as f64);
    }
}

struct Ctx {
    client: reqwest::Client,
    guard: Arc<AddressGuard>,
    schedule: RetrySchedule,
    timeout: Duration,
    max_body: usize,
    clock: Clock,
    stats: Stats,
}

/// Delivers the outbox. Build with [`Dispatcher::new`], run with [`Dispatcher::run`].
pub struct Dispatcher {
    store: Arc<dyn DeliveryStore>,
    config: DispatcherConfig,
    guard: Arc<AddressGuard>,
    client: reqwest::Client,
    notify: Arc<Notify>,
    clock: Clock,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish()
    }
}

/// The delivery client: no redirects, no proxy, names resolved through the guard.
fn build_client(
    config: &DispatcherConfig,
    resolver: GuardedResolver,
) -> Result<reqwest::Client, WebhookError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .pool_max_idle_per_host(config.concurrency)
        .user_agent(config.user_agent.clone())
        .dns_resolver(Arc::new(resolver))
        .build()
        .map_err(WebhookError::Http)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_micros(t.as_micros().saturating_add(micros(d)))
}

impl Dispatcher {
    /// A dispatcher over a store (e.g. `tcg_store::SqliteStore`).
    pub fn new<S: DeliveryStore + 'static>(
        store: S,
        config: DispatcherConfig,
    ) -> Result<Self, WebhookError> {
        Self::from_arc(Arc::new(store), config)
    }

    /// A dispatcher over a shared store.
    pub fn from_arc(
        store: Arc<dyn DeliveryStore>,
        config: DispatcherConfig,
    ) -> Result<Self, WebhookError> {
        config.validate()?;
        let guard = Arc::new(AddressGuard::new(
            config.allow_private,
            &config.allow_cidrs,
        )?);
        let client = build_client(&config, GuardedResolver::new(guard.clone()))?;
        Ok(Self {
            store,
            config,
            guard,
            client,
            notify: Arc::new(Notify::new()),
            clock: Arc::new(|| Timestamp::from(chrono::Utc::now())),
        })
    }

    /// Replaces the wall clock (tests).
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Resolves endpoint host names with `lookup` instead of the system resolver (tests: a name
    /// that resolves to an internal address at delivery time, DNS rebinding). The address guard
    /// still judges every address returned.
    pub fn with_dns_lookup(mut self, lookup: Lookup) -> Result<Self, WebhookError> {
        self.client = build_client(
            &self.config,
            GuardedResolver::with_lookup(self.guard.clone(), lookup),
        )?;
        Ok(self)
    }

    /// The fast path: notify after storing alerts and they are sent at once.
    pub fn notifier(&self) -> Notifier {
        Notifier(self.notify.clone())
    }

    pub fn config(&self) -> &DispatcherConfig {
        &self.config
    }

    /// Delivers until `shutdown` resolves; then lets the POSTs in flight finish (each within the
    /// timeout), records them, and returns. Deliveries claimed but not started are handed out
    /// again when their lease ends.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<RunReport, WebhookError> {
        let (mut run, recorder) = RunLoop::start(self);
        tokio::pin!(shutdown);
        run.until(shutdown).await;
        Ok(run.finish(recorder).await)
    }
}
