//! The processor runtime over Kafka: a consumer in a group reads tcg.quotes.raw.v1 in batches,
//! runs each partition's core, hands the output to the sinks and the DLQ, and only then stores the
//! batch's offsets (committed by the runtime within [`COMMIT_INTERVAL`], synchronously on revoke
//! and at shutdown).
//!
//! Revoked partitions are flushed and committed first: the rebalance callback (which runs inside
//! the consumer's poll) only records the revocation and wakes the runtime; the group waits (in
//! librdkafka's "wait unassign call" state) while the runtime finishes the batch in hand, stores
//! and commits its offsets, and only then unassigns. The next owner starts exactly where this
//! one stopped, so no message is processed twice across an orderly rebalance.
//!
//! A broker that goes away (a crash, a restart) does not stop the runtime: librdkafka reconnects
//! and retries by itself, and the errors it reports meanwhile ("broker transport failure", "all
//! brokers down") are logged and counted, not returned. Only fatal errors end a run.
//!
//! The runtime commits, not librdkafka's auto-commit, and never the offsets of an assignment the
//! group took away. When the broker is gone for longer than the session timeout, librdkafka
//! (2.12) drops the assignment as lost and resets the member id, but its auto-commit still sends
//! the revoked partitions' offsets once the broker is back, with that empty member id; for a
//! static member (`--instance-id`) the broker answers FENCED_INSTANCE_ID, which librdkafka makes a
//! fatal error (confluentinc/librdkafka#5585). The partitions of a lost assignment are redone by
//! their next owner instead, which the store's deduplication makes harmless. One narrow case is
//! left: a commit sent while the broker is already unreachable is held by librdkafka until the
//! coordinator answers (for at most a session timeout), and goes out with the reset member id
//! if the session times out meanwhile. The runtime commits only after storing a batch, so an
//! outage holds at most one such commit.

use crate::internal_events;
use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer, StreamConsumer},
    error::{KafkaError, KafkaResult},
    message::{BorrowedMessage, Headers},
};
use tcg_processor_core::{Output, Processor, Stats};
use tcg_schemas::{DeadLetter, Envelope, RuleChange, topics};

pub use super::group::GroupContext;
use super::{
    batch::Batch,
    group::commit_stored,
    producer::{EnvelopeProducer, Outgoing, now},
    replay::replay_partition,
};
use crate::{
    config::{ConsumeConfig, KafkaConfig},
    error::{PipelineError, Result},
    partitioned::PartitionedCore,
    sink::OutputSink,
};

/// How soon stored offsets are committed (librdkafka's `auto.commit.interval.ms` would be 5 s).
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Totals of one run of the runtime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub batches: u64,
    pub messages: u64,
    pub dead_letters: u64,
    pub replayed: u64,
    pub core: Stats,
}

/// The processor runtime.
pub struct KafkaProcessor {
    kafka: KafkaConfig,
    args: ConsumeConfig,
    consumer: StreamConsumer<GroupContext>,
    rules: StreamConsumer,
    producer: EnvelopeProducer,
    sink: Arc<dyn OutputSink>,
    core: PartitionedCore,
    /// The output of the batch in hand; its buffers are kept from batch to batch.
    output: Output,
    report: RunReport,
    progress: Arc<std::sync::atomic::AtomicU64>,
    fetched: Arc<std::sync::atomic::AtomicU64>,
    /// When the offsets stored since the last commit are to be committed.
    commit_at: Option<tokio::time::Instant>,
    /// Sees every rejected quote (e.g. to keep the recent ones for the API).
    on_rejected: Option<OnRejected>,
}

/// A hook that sees every quote the core rejects.
pub type OnRejected = Box<dyn FnMut(&tcg_processor_core::Rejection) + Send + Sync>;

impl Drop for KafkaProcessor {
    /// The consumer's close (when it drops, next) waits until the group has let go of the
    /// partitions. A revocation still pending (a run that ended with an error in the middle of
    /// one) is finished here, and one during the close is served on the spot: otherwise the close
    /// would wait for the runtime forever and the process would hang instead of exiting.
    fn drop(&mut self) {
        let context = self.consumer.context();
        context
            .closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if context.take_pending_revoke().is_some()
            && let Err(e) = self.consumer.unassign()
        {
            tracing::warn!(error = %e, "unassigning on drop");
        }
    }
}

impl std::fmt::Debug for KafkaProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProcessor")
            .field("group", &self.args.group)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

impl KafkaProcessor {
    /// Connects, subscribes, and reads the whole rules topic before returning.
    pub async fn start(
        kafka: KafkaConfig,
        args: ConsumeConfig,
        sink: Arc<dyn OutputSink>,
        core: PartitionedCore,
    ) -> Result<Self> {
        let mut config = super::base_config(&kafka);
        if let Some(id) = &args.instance_id {
            config.set("group.instance.id", id);
        }
        let consumer: StreamConsumer<GroupContext> = config
            .set("group.id", &args.group)
            // The runtime commits (see the module's documentation).
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", args.session_timeout_ms.to_string())
            .set("heartbeat.interval.ms", "1000")
            .set("enable.partition.eof", "false")
            // Prefetch a few batches, not librdkafka's default of 100,000 messages / 64 MiB:
            // memory stays bounded and warm, and lag stays on the broker where it is measured.
            .set(
                "queued.min.messages",
                (args.batch_max * 4).max(1000).to_string(),
            )
            .set("queued.max.messages.kbytes", "16384")
            .set("statistics.interval.ms", "5000")
            .create_with_context(GroupContext::default())?;
        consumer.subscribe(&[topics::QUOTES_RAW])?;

        let rules: StreamConsumer = super::base_config(&kafka)
            .set(
                "group.id",
                format!("{}-rules-{}", args.group, std::process::id()),
            )
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .create()?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topics::ALERT_RULES, 0, Offset::Beginning)?;
        rules.assign(&tpl)?;
        let producer = EnvelopeProducer::new(&kafka)?;
        let mut me = KafkaProcessor {
            kafka,
            args,
            consumer,
            rules,
            producer,
            sink,
            core,
            output: Output::default(),
            report: RunReport::default(),
            progress: Arc::default(),
            fetched: Arc::default(),
            commit_at: None,
            on_rejected: None,
        };
        me.load_rules().await?;
        Ok(me)
    }

    /// Reads tcg.alert-rules.v1 up to its current end.
    async fn load_rules(&mut self) -> Result<()> {
        let (_, high) =
            self.rules
                .fetch_watermarks(topics::ALERT_RULES, 0, Duration::from_secs(10))?;
        let mut next = 0;
        while next < high {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.rules.recv())
                .await
                .map_err(|_| PipelineError::Timeout("reading the rules topic".into()))??;
            next = msg.offset() + 1;
            let body = msg.payload().map(<[u8]>::to_vec);
            self.apply_rule_message(body.as_deref());
        }
        tracing::info!(rules = self.core.rule_count(), "rules loaded");
        Ok(())
    }

    fn apply_rule_message(&mut self, body: Option<&[u8]>) {
        let Some(body) = body else { return }; // tombstone: the delete was applied before
        match Envelope::<RuleChange>::decode(body) {
            Ok(env) => {
                if let Err(e) = self.core.apply_rule_change(env.payload) {
                    tracing::warn!(error = %e, "rule refused");
                }
            }
            Err(e) => tracing::warn!(error = %e, "undecodable rule change skipped"),
        }
    }

    /// Calls `hook` with every quote the core rejects (after counting it), before the batch's
    /// output is delivered.
    #[must_use]
    pub fn on_rejected(
        mut self,
        hook: impl FnMut(&tcg_processor_core::Rejection) + Send + Sync + 'static,
    ) -> Self {
        self.on_rejected = Some(Box::new(hook));
        self
    }

    /// A counter of messages handled (their output delivered), readable while `run` goes on.
    pub fn progress(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.progress.clone()
    }

    /// A counter of messages taken from the consumer into batches (delivered or in hand).
    pub fn fetched(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.fetched.clone()
    }

    pub fn report(&self) -> RunReport {
        self.report
    }

    /// Runs until `shutdown` resolves; then finishes the batch in hand, commits and returns.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<RunReport> {
        tokio::pin!(shutdown);
        // Kept from batch to batch, like the output buffers.
        let mut batch = Batch::default();
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.consumer.context().wake.notified() => {
                    self.finish_revoke()?;
                    continue;
                }
                () = tokio::time::sleep_until(
                    self.commit_at.unwrap_or_else(tokio::time::Instant::now)
                ), if self.commit_at.is_some() => {
                    self.commit_at = None;
                    commit_stored(&self.consumer, CommitMode::Async, "interval");
                    continue;
                }
                rule = self.rules.recv() => {
                    if let Some(rule) = usable(rule, "rules")? {
                        let body = rule.payload().map(<[u8]>::to_vec);
                        self.apply_rule_message(body.as_deref());
                    }
                    continue;
                }
                msg = self.consumer.recv() => match usable(msg, "quotes")? {
                    Some(msg) => take(&mut batch, &msg, &self.fetched),
                    None => continue,
                },
            }
            let deadline = tokio::time::Instant::now() + self.args.linger();
            // A revocation ends the batch at once: it is flushed, then the partitions go (a wake
            // that raced with a message is kept by the Notify; `finish_revoke` after every batch
            // catches any other).
            while batch.len() < self.args.batch_max {
                // What librdkafka has queued already is taken without a timer per message.
                if let Some(msg) = self.consumer.recv().now_or_never() {
                    if let Some(msg) = usable(msg, "quotes")? {
                        take(&mut batch, &msg, &self.fetched);
                    }
                    continue;
                }
                let next = tokio::select! {
                    biased;
                    // The revocation is served inside `recv` while it waits for a message.
                    () = self.consumer.context().wake.notified() => break,
                    next = tokio::time::timeout_at(deadline, self.consumer.recv()) => next,
                };
                match next {
                    Ok(msg) => {
                        if let Some(msg) = usable(msg, "quotes")? {
                            take(&mut batch, &msg, &self.fetched);
                        }
                    }
                    Err(_) => break,
                }
            }
            self.handle(&mut batch).await?;
            batch.clear();
            self.finish_revoke()?;
        }
        self.consumer
            .context()
            .closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        commit_stored(&self.consumer, CommitMode::Sync, "shutdown");
        self.finish_revoke()?;
        tracing::info!(report = ?self.report, "processor stopped");
        Ok(self.report)
    }

    /// After the batch in hand is stored: commits, unassigns the revoked partitions and drops
    /// their state (a partition that comes back is rebuilt from its log).
    fn finish_revoke(&mut self) -> Result<()> {
        let Some(parts) = self.consumer.context().take_pending_revoke() else {
            return Ok(());
        };
        commit_stored(&self.consumer, CommitMode::Sync, "revoke");
        self.commit_at = None;
        self.consumer.unassign()?;
        for p in &parts {
            self.core.remove(*p);
        }
        metrics::counter!(internal_events::PROCESSOR_REVOCATIONS).increment(1);
        tracing::info!(
            ?parts,
            "revoked partitions flushed, committed and handed over"
        );
        Ok(())
    }

    async fn handle(&mut self, batch: &mut Batch) -> Result<()> {
        let started = Instant::now();
        self.follow_ownership(batch);
        let (dead, next_offsets) = self.process_parts(batch).await?;
        // 1. dead letters, 2. outputs, 3. offsets.
        for letter in &dead {
            self.send_dead_letter(letter).await?;
        }
        let output = &self.output;
        self.sink.deliver(&output.ticks, &output.alerts).await?;
        self.store_offsets(&next_offsets)?;
        self.record_batch(dead.len() as u64, started);
        Ok(())
    }

    /// Forgets the cores of partitions the group moved since the last batch, and drops the
    /// batch's messages of partitions this processor no longer owns (the next owner has them).
    fn follow_ownership(&mut self, batch: &mut Batch) {
        let context = self.consumer.context();
        let revoked: Vec<i32> = context
            .revoked
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        // A partition that comes back may have moved on elsewhere: rebuild it afresh.
        let assigned: Vec<i32> = context
            .assigned
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default();
        for p in revoked.into_iter().chain(assigned) {
            self.core.remove(p);
        }
        let owned: Vec<i32> = self
            .consumer
            .assignment()
            .map(|tpl| tpl.elements().iter().map(|e| e.partition()).collect())
            .unwrap_or_default();
        for p in batch.partitions() {
            if !owned.contains(&p) {
                batch.drop_partition(p);
            }
        }
    }

    /// Runs each partition's core (rebuilding it first when new here) into `self.output`;
    /// returns the dead letters and the next offset of each partition.
    async fn process_parts(&mut self, batch: &Batch) -> Result<(Vec<DeadLetter>, Vec<(i32, i64)>)> {
        let output = &mut self.output;
        output.ticks.clear();
        output.alerts.clear();
        output.stats = Stats::default();
        let mut dead: Vec<DeadLetter> = Vec::new();
        let mut next_offsets: Vec<(i32, i64)> = Vec::new();
        for part in batch.parts() {
            let partition = part.partition;
            if self.core.get_mut(partition).is_none() {
                let rebuilt = Self::rebuild(
                    &self.kafka,
                    &self.args,
                    &mut self.report,
                    self.core.fresh(),
                    partition,
                    part.first_offset,
                )
                .await?;
                self.core.insert(partition, rebuilt);
            }
            dead.extend(part.dead.iter().cloned());
            let Some(core) = self.core.get_mut(partition) else {
                continue;
            };
            core.process_into(&part.quotes, |i| part.produced[i], &mut self.output);
            for r in self.output.rejected.drain(..) {
                internal_events::count_rejection(r.quote.source.as_str(), r.reason);
                if let Some(hook) = self.on_rejected.as_mut() {
                    hook(&r);
                }
                if r.reason.is_invalid_input()
                    && let Some(letter) = part.dead_letter_for(r.index, r.reason, r.detail, now())
                {
                    dead.push(letter);
                }
            }
            next_offsets.push((partition, part.next_offset));
            self.report.messages += part.messages as u64;
        }
        Ok((dead, next_offsets))
    }

    /// Stores the offsets after the batch (committed within [`COMMIT_INTERVAL`]).
    fn store_offsets(&mut self, next_offsets: &[(i32, i64)]) -> Result<()> {
        if next_offsets.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for (p, o) in next_offsets {
            tpl.add_partition_offset(topics::QUOTES_RAW, *p, Offset::Offset(*o))?;
        }
        self.consumer.store_offsets(&tpl)?;
        self.commit_at
            .get_or_insert_with(|| tokio::time::Instant::now() + COMMIT_INTERVAL);
        Ok(())
    }

    /// The batch's figures into the report, the progress counter and the metrics.
    fn record_batch(&mut self, dead_letters: u64, started: Instant) {
        let output = &self.output;
        self.progress
            .store(self.report.messages, std::sync::atomic::Ordering::Relaxed);
        self.report.batches += 1;
        self.report.dead_letters += dead_letters;
        self.report.core.add(&output.stats);
        metrics::counter!(internal_events::PROCESSOR_QUOTES).increment(output.stats.quotes);
        metrics::counter!(internal_events::PROCESSOR_TICKS)
            .increment(output.stats.ticks + output.stats.heartbeats);
        metrics::counter!(internal_events::PROCESSOR_ALERTS).increment(output.stats.alerts);
        metrics::counter!(internal_events::PROCESSOR_DLQ).increment(dead_letters);
        metrics::histogram!(internal_events::PROCESSOR_BATCH_SECONDS)
            .record(started.elapsed().as_secs_f64());
    }

    async fn send_dead_letter(&self, letter: &DeadLetter) -> Result<()> {
        let body = Envelope::new(now(), letter.clone()).encode()?;
        let origin = letter.origin.as_ref();
        self.producer
            .send_raw(Outgoing {
                topic: topics::QUOTES_DLQ,
                key: letter.key.as_deref().unwrap_or(""),
                payload: body,
                headers: vec![
                    ("tcg-dlq-reason", letter.reason.as_str().to_owned()),
                    ("tcg-dlq-detail", letter.detail.clone()),
                    (
                        "tcg-origin-topic",
                        origin.map_or(String::new(), |o| o.topic.clone()),
                    ),
                    (
                        "tcg-origin-partition",
                        origin.map_or(String::new(), |o| o.partition.to_string()),
                    ),
                    (
                        "tcg-origin-offset",
                        origin.map_or(String::new(), |o| o.offset.to_string()),
                    ),
                ],
            })
            .await?;
        metrics::counter!(internal_events::PROCESSOR_DEAD_LETTERS, "reason" => letter.reason.as_str())
            .increment(1);
        Ok(())
    }

    /// A fresh core for `partition`, fed silently with the partition's log from the lookback
    /// horizon up to `upto` (exclusive): the state its previous owner had at `upto`.
    async fn rebuild(
        kafka: &KafkaConfig,
        args: &ConsumeConfig,
        report: &mut RunReport,
        mut core: Processor,
        partition: i32,
        upto: i64,
    ) -> Result<Processor> {
        let kafka = kafka.clone();
        let lookback_ms = args.state_lookback_hours.max(0) * 3_600_000;
        let started = Instant::now();
        let (core_back, replayed) = tokio::task::spawn_blocking(move || {
            replay_partition(&kafka, partition, upto, lookback_ms, &mut core).map(|n| (core, n))
        })
        .await??;
        report.replayed += replayed;
        tracing::info!(
            partition,
            upto,
            replayed,
            ms = started.elapsed().as_millis() as u64,
            "partition state rebuilt"
        );
        Ok(core_back)
    }
}

/// A message; `None` after an error librdkafka recovers from by itself (a broker gone for a
/// while, a partition's leader moving, a coordinator loading): it reconnects and retries, so the
/// error is logged and counted and the caller goes on. A fatal error (or any other kind) is
/// returned.
pub(super) fn usable<'a>(
    received: KafkaResult<BorrowedMessage<'a>>,
    consumer: &'static str,
) -> Result<Option<BorrowedMessage<'a>>> {
    match received {
        Ok(msg) => Ok(Some(msg)),
        Err(KafkaError::MessageConsumption(code)) => {
            // librdkafka logs the broker's failures itself; here they come once per poll.
            tracing::debug!(consumer, error = %code, "consumer error (librdkafka retries)");
            metrics::counter!(internal_events::CONSUMER_ERRORS, "consumer" => consumer)
                .increment(1);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Takes a message into the batch (decoded on the spot) and counts it as fetched.
fn take(batch: &mut Batch, m: &BorrowedMessage<'_>, fetched: &std::sync::atomic::AtomicU64) {
    batch.take(m.partition(), m.offset(), m.key(), m.payload(), now);
    fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Reads the DLQ headers of a message (tests and tools).
pub fn header(m: &impl Message, name: &str) -> Option<String> {
    let headers = m.headers()?;
    (0..headers.count()).find_map(|i| {
        let h = headers.get(i);
        (h.key == name).then(|| {
            h.value
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        })
    })
}
