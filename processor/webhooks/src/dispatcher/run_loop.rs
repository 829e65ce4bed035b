//! The dispatcher's loop: fan out, claim into the local queue, start POSTs while permits are
//! free, sleep until something is due; at shutdown, wait for the POSTs in flight and the
//! recorder.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use tcg_schemas::Timestamp;
use tcg_store::{AttemptRecord, DeliveryStore, DueDelivery};
use tokio::{
    sync::{Notify, Semaphore, mpsc},
    task::{JoinHandle, JoinSet},
    time::Instant,
};

use super::{
    Ctx, Dispatcher, RunReport, Stats, attempt::deliver, micros, plus, rate::EndpointRate,
    recorder::record_loop,
};
use crate::{config::DispatcherConfig, internal_events, schedule::RetrySchedule};

/// One [`Dispatcher::run`]: the deliveries it holds and what it knows of the outbox.
pub(super) struct RunLoop {
    store: Arc<dyn DeliveryStore>,
    config: DispatcherConfig,
    notify: Arc<Notify>,
    ctx: Arc<Ctx>,
    /// One permit per POST in flight.
    sem: Arc<Semaphore>,
    /// Finished attempts, to the recorder.
    tx: mpsc::Sender<AttemptRecord>,
    tasks: JoinSet<()>,
    /// Claimed deliveries not started yet (at most `concurrency`).
    queue: VecDeque<DueDelivery>,
    /// New alerts may wait to be fanned out.
    fan_pending: bool,
    /// The last claim found fewer due deliveries than it asked for.
    drained: bool,
    /// When the backlog gauge is read next.
    next_gauge: Instant,
    peak_claimed: usize,
    /// POSTs started per endpoint in the last minute (the cap).
    rate: EndpointRate,
    deferred: u64,
}

impl RunLoop {
    /// The loop's state, and the recorder it hands finished attempts to (already running).
    pub(super) fn start(dispatcher: Dispatcher) -> (Self, JoinHandle<()>) {
        let Dispatcher {
            store,
            config,
            guard,
            client,
            notify,
            clock,
        } = dispatcher;
        let ctx = Arc::new(Ctx {
            client,
            guard,
            schedule: RetrySchedule::new(config.retry_schedule.clone()),
            timeout: config.timeout,
            max_body: config.max_response_body,
            clock,
            stats: Stats::default(),
        });
        let conc = config.concurrency;
        let (tx, rx) = mpsc::channel::<AttemptRecord>(conc.max(config.record_batch));
        let recorder = tokio::spawn(record_loop(
            store.clone(),
            rx,
            config.record_batch,
            micros(config.disable_after),
            notify.clone(),
            ctx.clone(),
        ));
        let run = Self {
            store,
            notify,
            ctx,
            sem: Arc::new(Semaphore::new(conc)),
            tx,
            tasks: JoinSet::new(),
            queue: VecDeque::with_capacity(conc),
            fan_pending: true,
            drained: false,
            next_gauge: Instant::now(),
            peak_claimed: 0,
            rate: EndpointRate::new(config.per_endpoint_per_minute),
            deferred: 0,
            config,
        };
        (run, recorder)
    }

    fn now(&self) -> Timestamp {
        (self.ctx.clock)()
    }

    /// The loop: fan out, claim, start POSTs, sleep until something is due, until `shutdown`.
    pub(super) async fn until(&mut self, mut shutdown: Pin<&mut impl Future<Output = ()>>) {
        loop {
            while self.tasks.try_join_next().is_some() {}
            if futures_ready(&mut shutdown).await {
                break;
            }
            self.gauge_backlog().await;
            if !(self.fan_out().await && self.refill().await) {
                sleep_or(&mut shutdown, self.config.poll_interval).await;
                continue;
            }
            self.start_posts();
            if !self.queue.is_empty() {
                // Every permit is taken: wait for one.
                tokio::select! {
                    () = &mut shutdown => break,
                    p = self.sem.acquire() => drop(p),
                }
                continue;
            }
            if self.fan_pending || !self.drained {
                continue;
            }
            let wait = self.idle_wait().await;
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(wait) => {}
                () = self.notify.notified() => {}
            }
            self.fan_pending = true;
            self.drained = false;
        }
    }

    /// Sets the backlog gauge, once per poll interval.
    async fn gauge_backlog(&mut self) {
        if Instant::now() < self.next_gauge {
            return;
        }
        self.next_gauge = Instant::now() + self.config.poll_interval;
        match self.store.backlog().await {
            Ok(n) => metrics::gauge!(internal_events::BACKLOG).set(n as f64),
            Err(e) => tracing::warn!(error = %e, "webhook backlog not readable"),
        }
    }

    /// Fans a page of new alerts out into deliveries, if some may wait. False when the store
    /// failed (logged; the caller waits and tries again).
    async fn fan_out(&mut self) -> bool {
        if !self.fan_pending {
            return true;
        }
        match self.store.fan_out(self.now(), self.config.page_size).await {
            Ok(f) => self.fan_pending = f.alerts >= self.config.page_size,
            Err(e) => {
                tracing::warn!(error = %e, "webhook fan-out failed; retrying");
                return false;
            }
        }
        self.drained = false;
        true
    }

    /// Refills the local queue once it is half empty (at most `concurrency` deliveries wait
    /// here, so the lease covers their wait plus their own POST). False when the store failed
    /// (logged; the caller waits and tries again).
    async fn refill(&mut self) -> bool {
        let conc = self.config.concurrency;
        if self.drained || self.queue.len() > conc / 2 {
            return true;
        }
        let want = conc - self.queue.len();
        let now = self.now();
        match self
            .store
            .claim_due(now, want, plus(now, self.config.claim_lease))
            .await
        {
            Ok(got) => {
                self.drained = got.len() < want;
                self.queue.extend(got);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying");
                false
            }
        }
    }

    /// Sets the claimed gauge, then starts a POST for each queued delivery while a permit is
    /// free. A delivery whose endpoint had its POSTs for the minute is let go unstarted: it
    /// stays leased, and is due again when the lease ends.
    fn start_posts(&mut self) {
        // Held in memory: queued plus in flight (a permit is taken per POST).
        let claimed = self.queue.len() + (self.config.concurrency - self.sem.available_permits());
        self.peak_claimed = self.peak_claimed.max(claimed);
        metrics::gauge!(internal_events::CLAIMED).set(claimed as f64);
        while !self.queue.is_empty() {
            let Ok(permit) = self.sem.clone().try_acquire_owned() else {
                break;
            };
            let now = self.now();
            while let Some(d) = self.queue.pop_front() {
                if self.rate.try_start(&d.webhook_id, now) {
                    self.tasks
                        .spawn(deliver(self.ctx.clone(), d, permit, self.tx.clone()));
                    break;
                }
                self.deferred += 1;
                metrics::counter!(internal_events::DEFERRED).increment(1);
                tracing::debug!(webhook = %d.webhook_id, alert = %d.alert_id, "endpoint at its cap for the minute: delivery waits for its lease to end");
            }
        }
    }

    /// How long to sleep with nothing to do: until the next delivery is due, at most the poll
    /// interval.
    async fn idle_wait(&self) -> Duration {
        let wait = match self.store.next_due().await {
            Ok(Some(t)) => {
                let left = t.as_micros().saturating_sub(self.now().as_micros());
                Duration::from_micros(u64::try_from(left).unwrap_or(0))
            }
            Ok(None) => self.config.poll_interval,
            Err(e) => {
                tracing::warn!(error = %e, "webhook outbox not readable");
                self.config.poll_interval
            }
        };
        // Something due but not claimable (e.g. its alert row is gone) must not spin.
        wait.min(self.config.poll_interval)
            .max(Duration::from_millis(5))
    }

    /// Waits for the POSTs in flight and the recorder, and totals the run.
    pub(super) async fn finish(mut self, recorder: JoinHandle<()>) -> RunReport {
        while self.tasks.join_next().await.is_some() {}
        metrics::gauge!(internal_events::CLAIMED).set(self.queue.len() as f64);
        drop(self.tx);
        if let Err(e) = recorder.await {
            tracing::error!(error = %e, "webhook recorder failed");
        }
        let s = &self.ctx.stats;
        RunReport {
            attempts: s.attempts.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            deferred: self.deferred,
            endpoints_disabled: s.disabled.load(Ordering::Relaxed),
            peak_claimed: self.peak_claimed as u64,
            peak_unrecorded: s.peak_unrecorded.load(Ordering::Relaxed),
        }
    }
}

/// Whether `f` is ready now (without waiting).
async fn futures_ready(f: &mut Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        biased;
        () = f.as_mut() => true,
        () = std::future::ready(()) => false,
    }
}

async fn sleep_or(shutdown: &mut Pin<&mut impl Future<Output = ()>>, d: Duration) {
    tokio::select! {
        () = shutdown.as_mut() => {}
        () = tokio::time::sleep(d) => {}
    }
}
