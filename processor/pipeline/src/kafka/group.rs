//! The consumer group as the runtime sees it: what librdkafka's rebalance callback recorded
//! (inside the poll) for the runtime to act on, and the commit of stored offsets.

use std::sync::Mutex;

use rdkafka::{
    ClientContext, TopicPartitionList,
    consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, RebalanceProtocol},
    types::RDKafkaRespErr,
};

use crate::internal_events;

/// What the group did since the runtime last looked (filled inside the poll, by librdkafka).
#[derive(Debug, Default)]
pub struct GroupContext {
    /// Revoked and already unassigned (on close, or with the cooperative protocol).
    pub(super) revoked: Mutex<Vec<i32>>,
    pub(super) assigned: Mutex<Vec<i32>>,
    /// Revoked, waiting for the runtime to flush, commit and unassign (eager protocol).
    pub(super) pending_revoke: Mutex<Option<Vec<i32>>>,
    /// Wakes the runtime when a revocation is pending.
    pub(super) wake: tokio::sync::Notify,
    /// Set when the runtime stops: a revocation during close is handled on the spot.
    pub(super) closing: std::sync::atomic::AtomicBool,
}

impl GroupContext {
    pub(super) fn take_pending_revoke(&self) -> Option<Vec<i32>> {
        self.pending_revoke.lock().ok().and_then(|mut p| p.take())
    }
}

impl ClientContext for GroupContext {
    /// librdkafka's statistics (every `statistics.interval.ms`): consumer lag per partition,
    /// from the client's own fetch state, without a request per batch.
    fn stats(&self, statistics: rdkafka::Statistics) {
        for (name, topic) in &statistics.topics {
            for (partition, p) in &topic.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    metrics::gauge!(internal_events::CONSUMER_LAG, "topic" => name.clone(), "partition" => partition.to_string())
                        .set(p.consumer_lag as f64);
                }
            }
        }
    }
}

impl ConsumerContext for GroupContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let parts: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let done = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = done {
                    tracing::error!(error = %e, "assigning partitions");
                }
                tracing::info!(?parts, "partitions assigned");
                if let Ok(mut a) = self.assigned.lock() {
                    a.extend(parts);
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS
                if !cooperative && !self.closing.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                // Flush first: the runtime finishes the batch in hand, commits, then unassigns.
                tracing::info!(
                    ?parts,
                    "partitions revoked: flushing before handing them over"
                );
                if let Ok(mut p) = self.pending_revoke.lock() {
                    p.get_or_insert_with(Vec::new).extend(parts);
                }
                self.wake.notify_one();
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                // Closing (the batch in hand is done) or cooperative: commit and let go now.
                commit_stored(consumer, CommitMode::Sync, "revoke");
                let done = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, "unassigning partitions");
                }
                tracing::info!(?parts, "partitions revoked");
                if let Ok(mut r) = self.revoked.lock() {
                    r.extend(parts);
                }
            }
            other => {
                tracing::error!(error = ?other, "rebalance error");
                if let Err(e) = consumer.unassign() {
                    tracing::warn!(error = %e, "unassigning after a rebalance error");
                }
            }
        }
    }

    fn pre_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {}

    fn post_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {}
}

/// Commits the offsets stored for the current assignment, unless librdkafka holds it lost (see
/// the module's documentation); a failure is only logged (a later commit, or the next owner,
/// covers it).
pub(super) fn commit_stored<C: ConsumerContext>(
    consumer: &impl Consumer<C>,
    mode: CommitMode,
    why: &str,
) {
    if consumer.assignment_lost() {
        tracing::info!(
            why,
            "assignment lost: its offsets are left to the next owner"
        );
        return;
    }
    if let Err(e) = consumer.commit_consumer_state(mode) {
        tracing::debug!(why, error = %e, "commit (nothing stored yet?)");
    }
}
