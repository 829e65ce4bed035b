//! The dispatcher: outbox → signed POSTs, bounded in concurrency and memory, every attempt
//! recorded.
//!
//! One loop: fan new alerts out into deliveries (a page at a time), claim due deliveries with a
//! lease into a small local queue (at most `concurrency` of them), start a POST whenever a
//! permit of the semaphore is free, and sleep until the next delivery is due, the poll interval
//! passes, or the [`Notifier`] fires (a freshly stored alert, or recorded retries). Finished
//! attempts go through a bounded channel to a recorder that writes them in batches.

use std::{
    collections::VecDeque,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tcg_schemas::Timestamp;
use tcg_store::{AttemptRecord, DeliveryStore, DueDelivery};
use tokio::{
    sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
    time::Instant,
};

use crate::{
    WebhookError,
    config::DispatcherConfig,
    guard::{self, AddressGuard, GuardedResolver, Lookup, find_refusal},
    outbox::{self, Outcome},
    schedule::RetrySchedule,
    sign::signature_header,
};

/// Metric names (the `metrics` crate; the process's recorder exports them).
pub mod names {
    /// Counter, label `outcome` (delivered, http_error, gone, timeout, network, refused, invalid).
    pub const DELIVERIES: &str = "tcg_webhook_deliveries_total";
    /// Histogram of attempt latency, seconds.
    pub const LATENCY: &str = "tcg_webhook_attempt_duration_seconds";
    /// Counter, label `reason` (gone, failing).
    pub const DISABLED: &str = "tcg_webhook_endpoints_disabled_total";
    /// Gauge: pending deliveries plus alerts not fanned out yet.
    pub const BACKLOG: &str = "tcg_webhook_outbox_backlog";
    /// Gauge: deliveries this dispatcher holds in memory, claimed and queued or being POSTed
    /// (at most twice `concurrency`, whatever the backlog).
    pub const CLAIMED: &str = "tcg_webhook_claimed";
    /// Gauge: finished attempts handed to the recorder and not yet written (at most
    /// `concurrency` + `record_batch` + the recorder channel, `max(concurrency, record_batch)`).
    pub const UNRECORDED: &str = "tcg_webhook_unrecorded";
}

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
        metrics::gauge!(names::UNRECORDED).set(now as f64);
    }

    fn unrecorded_sub(&self, n: u64) {
        let before = self
            .unrecorded
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(n))
            })
            .unwrap_or(0);
        metrics::gauge!(names::UNRECORDED).set(before.saturating_sub(n) as f64);
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
        let Dispatcher {
            store,
            config,
            guard,
            client,
            notify,
            clock,
        } = self;
        let ctx = Arc::new(Ctx {
            client,
            guard,
            schedule: RetrySchedule::new(config.retry_schedule.clone()),
            timeout: config.timeout,
            max_body: config.max_response_body,
            clock: clock.clone(),
            stats: Stats::default(),
        });
        let conc = config.concurrency;
        let sem = Arc::new(Semaphore::new(conc));
        let (tx, rx) = mpsc::channel::<AttemptRecord>(conc.max(config.record_batch));
        let recorder = tokio::spawn(record_loop(
            store.clone(),
            rx,
            config.record_batch,
            micros(config.disable_after),
            notify.clone(),
            ctx.clone(),
        ));
        let mut tasks = JoinSet::new();
        let mut queue: VecDeque<DueDelivery> = VecDeque::with_capacity(conc);
        let (mut fan_pending, mut drained) = (true, false);
        let mut next_gauge = Instant::now();
        let mut peak_claimed = 0usize;
        tokio::pin!(shutdown);

        loop {
            while tasks.try_join_next().is_some() {}
            if futures_ready(&mut shutdown).await {
                break;
            }
            if Instant::now() >= next_gauge {
                next_gauge = Instant::now() + config.poll_interval;
                match store.backlog().await {
                    Ok(n) => metrics::gauge!(names::BACKLOG).set(n as f64),
                    Err(e) => tracing::warn!(error = %e, "webhook backlog not readable"),
                }
            }
            if fan_pending {
                match store.fan_out(clock(), config.page_size).await {
                    Ok(f) => fan_pending = f.alerts >= config.page_size,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook fan-out failed; retrying");
                        sleep_or(&mut shutdown, config.poll_interval).await;
                        continue;
                    }
                }
                drained = false;
            }
            // Refill the local queue (at most `concurrency` deliveries wait here, so the lease
            // covers their wait plus their own POST).
            if !drained && queue.len() <= conc / 2 {
                let want = conc - queue.len();
                let now = clock();
                match store
                    .claim_due(now, want, plus(now, config.claim_lease))
                    .await
                {
                    Ok(got) => {
                        drained = got.len() < want;
                        queue.extend(got);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying");
                        sleep_or(&mut shutdown, config.poll_interval).await;
                        continue;
                    }
                }
            }
            // Held in memory: queued plus in flight (a permit is taken per POST).
            let claimed = queue.len() + (conc - sem.available_permits());
            peak_claimed = peak_claimed.max(claimed);
            metrics::gauge!(names::CLAIMED).set(claimed as f64);
            while !queue.is_empty() {
                let Ok(permit) = sem.clone().try_acquire_owned() else {
                    break;
                };
                if let Some(d) = queue.pop_front() {
                    tasks.spawn(deliver(ctx.clone(), d, permit, tx.clone()));
                }
            }
            if !queue.is_empty() {
                // Every permit is taken: wait for one.
                tokio::select! {
                    () = &mut shutdown => break,
                    p = sem.acquire() => drop(p),
                }
                continue;
            }
            if fan_pending || !drained {
                continue;
            }
            let wait = match store.next_due().await {
                Ok(Some(t)) => {
                    let left = t.as_micros().saturating_sub(clock().as_micros());
                    Duration::from_micros(u64::try_from(left).unwrap_or(0))
                }
                Ok(None) => config.poll_interval,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook outbox not readable");
                    config.poll_interval
                }
            };
            // Something due but not claimable (e.g. its alert row is gone) must not spin.
            let wait = wait.min(config.poll_interval).max(Duration::from_millis(5));
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(wait) => {}
                () = notify.notified() => {}
            }
            fan_pending = true;
            drained = false;
        }

        while tasks.join_next().await.is_some() {}
        metrics::gauge!(names::CLAIMED).set(queue.len() as f64);
        drop(tx);
        if let Err(e) = recorder.await {
            tracing::error!(error = %e, "webhook recorder failed");
        }
        let s = &ctx.stats;
        Ok(RunReport {
            attempts: s.attempts.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            endpoints_disabled: s.disabled.load(Ordering::Relaxed),
            peak_claimed: peak_claimed as u64,
            peak_unrecorded: s.peak_unrecorded.load(Ordering::Relaxed),
        })
    }
}

/// Whether `f` is ready now (without waiting).
async fn futures_ready(f: &mut std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        biased;
        () = f.as_mut() => true,
        () = std::future::ready(()) => false,
    }
}

async fn sleep_or(shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>, d: Duration) {
    tokio::select! {
        () = shutdown.as_mut() => {}
        () = tokio::time::sleep(d) => {}
    }
}

async fn record_loop(
    store: Arc<dyn DeliveryStore>,
    mut rx: mpsc::Receiver<AttemptRecord>,
    batch: usize,
    disable_after_us: i64,
    notify: Arc<Notify>,
    ctx: Arc<Ctx>,
) {
    let mut buf = Vec::with_capacity(batch);
    while rx.recv_many(&mut buf, batch).await > 0 {
        let mut tries = 0u32;
        loop {
            match store.record_attempts(&buf, disable_after_us).await {
                Ok(report) => {
                    for d in &report.disabled {
                        let reason = if d.reason.contains("410") {
                            "gone"
                        } else {
                            "failing"
                        };
                        tracing::warn!(webhook = %d.webhook_id, reason = %d.reason, "webhook endpoint disabled");
                        metrics::counter!(names::DISABLED, "reason" => reason).increment(1);
                        ctx.stats.disabled.fetch_add(1, Ordering::Relaxed);
                    }
                    break;
                }
                Err(e) if tries < 10 => {
                    tries += 1;
                    tracing::warn!(error = %e, tries, "recording webhook attempts failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200) * tries).await;
                }
                Err(e) => {
                    // The deliveries stay leased and are sent again when the lease ends.
                    tracing::error!(error = %e, attempts = buf.len(), "webhook attempts not recorded");
                    break;
                }
            }
        }
        ctx.stats.unrecorded_sub(buf.len() as u64);
        buf.clear();
        notify.notify_one();
    }
}

async fn deliver(
    ctx: Arc<Ctx>,
    d: DueDelivery,
    _permit: OwnedSemaphorePermit,
    tx: mpsc::Sender<AttemptRecord>,
) {
    let attempt = d.attempts.saturating_add(1);
    let at = (ctx.clock)();
    let started = Instant::now();
    let outcome = send(&ctx, &d, at).await;
    let latency = started.elapsed();
    metrics::counter!(names::DELIVERIES, "outcome" => outcome.label()).increment(1);
    metrics::histogram!(names::LATENCY).record(latency.as_secs_f64());
    ctx.stats.attempts.fetch_add(1, Ordering::Relaxed);
    if outcome.is_success() {
        ctx.stats.delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        tracing::debug!(webhook = %d.webhook_id, alert = %d.alert_id, attempt, outcome = ?outcome, "webhook attempt failed");
    }
    let record = outbox::record(&d, attempt, at, micros(latency), outcome, &ctx.schedule);
    // The permit is held until the record is handed over: recording applies back-pressure.
    ctx.stats.unrecorded_add(1);
    if tx.send(record).await.is_err() {
        ctx.stats.unrecorded_sub(1);
        tracing::error!("webhook recorder is gone; attempt not recorded");
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

async fn send(ctx: &Ctx, d: &DueDelivery, at: Timestamp) -> Outcome {
    let url: reqwest::Url = match d.url.parse() {
        Ok(u) => u,
        Err(e) => return Outcome::Invalid(format!("invalid URL: {e}")),
    };
    if let Err(r) = guard::check_url(&ctx.guard, &url) {
        return Outcome::Refused(r.to_string());
    }
    let body = match outbox::body(&d.alert_json) {
        Ok(b) => b,
        Err(e) => return Outcome::Invalid(e.to_string()),
    };
    let keys = match outbox::signing_keys(d, at) {
        Ok(k) => k,
        Err(e) => return Outcome::Invalid(e.to_string()),
    };
    let timestamp = at.as_secs();
    let signature = signature_header(&keys, &d.alert_id, timestamp, &body);
    let request = ctx
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.alert_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body);
    let deadline = Instant::now() + ctx.timeout;
    let mut response = match tokio::time::timeout_at(deadline, request.send()).await {
        Err(_) => return Outcome::Timeout,
        Ok(Err(e)) => {
            if let Some(r) = find_refusal(&e) {
                return Outcome::Refused(r.to_string());
            }
            if e.is_timeout() {
                return Outcome::Timeout;
            }
            return Outcome::Network(chain(&e));
        }
        Ok(Ok(r)) => r,
    };
    let code = response.status().as_u16();
    // The status decides; the body is read only up to the cap, and only while time is left.
    let mut kept = Vec::new();
    while kept.len() < ctx.max_body {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = ctx.max_body - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    Outcome::Status {
        code,
        body: outbox::truncate_body(&kept, ctx.max_body),
    }
}
