//! The producer every component uses: idempotent, acks=all, keyed, bounded in flight, and every
//! delivery awaited (a failure is counted and returned, never ignored). A message is retried for
//! up to [`DELIVERY_TIMEOUT_MS`], long enough for a broker to restart: idempotence keeps the
//! retries from writing a message twice.
//!
//! Built on rdkafka's `BaseProducer` with a poll thread of our own that sleeps while nothing is in
//! flight. (rdkafka's `FutureProducer` polls every 100 ms whatever happens, and its poll spins
//! through the last millisecond of every wait: about 1 % of a core per producer, idle or not.)

use crate::internal_events;
use std::{
    sync::{Arc, Condvar, Mutex},
    time::Duration,
};

use futures_util::future::try_join_all;
use rdkafka::{
    ClientContext, Message,
    error::{KafkaError, RDKafkaErrorCode},
    message::{Header, OwnedHeaders},
    producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext},
};
use tcg_schemas::{Envelope, Timestamp, TopicPayload};
use tokio::sync::oneshot;

use crate::{
    config::KafkaConfig,
    error::{PipelineError, Result},
};

/// Where a message landed, or why it did not.
type Delivered = std::result::Result<(i32, i64), KafkaError>;

/// Hands each delivery report to the sender waiting for it.
struct DeliveryContext;

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<oneshot::Sender<Delivered>>;

    fn delivery(&self, result: &DeliveryResult<'_>, waiter: Self::DeliveryOpaque) {
        let delivered = match result {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.clone()),
        };
        // The sender may have stopped waiting (its future dropped): nothing to tell then.
        let _ = waiter.send(delivered);
    }
}

/// Wakes the poll thread when a message is sent, and tells it to stop.
#[derive(Default)]
struct PollSignal {
    state: Mutex<PollState>,
    wake: Condvar,
}

#[derive(Default)]
struct PollState {
    sends: u64,
    stop: bool,
}

impl PollSignal {
    fn sent(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.sends += 1;
        }
        self.wake.notify_one();
    }

    fn stop(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.stop = true;
        }
        self.wake.notify_one();
    }
}

/// Serves delivery reports while messages are in flight; sleeps otherwise (waking each second
/// to serve error events). Ends when told to stop, within one poll (≤ 500 ms).
fn poll_loop(producer: &BaseProducer<DeliveryContext>, signal: &PollSignal) {
    let mut seen = 0;
    loop {
        {
            let Ok(mut state) = signal.state.lock() else {
                return;
            };
            if state.stop {
                return;
            }
            if state.sends == seen && producer.in_flight_count() == 0 {
                state = match signal.wake.wait_timeout(state, Duration::from_secs(1)) {
                    Ok((state, _)) => state,
                    Err(_) => return,
                };
                if state.stop {
                    return;
                }
            }
            seen = state.sends;
        }
        let wait = if producer.in_flight_count() > 0 {
            Duration::from_millis(500)
        } else {
            Duration::ZERO
        };
        producer.poll(wait);
    }
}

/// The last handle gone: the poll thread stops (and drops the producer, which purges and
/// flushes what is left, as rdkafka's producers do).
struct Shared {
    producer: Arc<BaseProducer<DeliveryContext>>,
    signal: Arc<PollSignal>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.signal.stop();
    }
}

/// A keyed JSON-envelope producer.
#[derive(Clone)]
pub struct EnvelopeProducer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EnvelopeProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeProducer").finish_non_exhaustive()
    }
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub topic: &'a str,
    pub key: &'a str,
    pub payload: Vec<u8>,
    pub headers: Vec<(&'a str, String)>,
}

/// How long librdkafka retries a message before its delivery fails (`message.timeout.ms`): two
/// minutes, as Kafka's own producers (`delivery.timeout.ms`). A one-node broker killed and
/// restarted took 15-25 s to answer again in the crash test; a production broker recovering its
/// logs after a crash takes longer.
const DELIVERY_TIMEOUT_MS: &str = "120000";

/// How long a send waits for room in a full local queue before it fails.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

impl EnvelopeProducer {
    pub fn new(kafka: &KafkaConfig) -> Result<Self> {
        let producer: BaseProducer<DeliveryContext> = super::base_config(kafka)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("max.in.flight.requests.per.connection", "5")
            .set("linger.ms", "5")
            .set("message.timeout.ms", DELIVERY_TIMEOUT_MS)
            .set("queue.buffering.max.messages", "100000")
            .create_with_context(DeliveryContext)?;
        // Delivery failures read 0, not "no data", on the dashboards and in the alert rules
        // until one happens (one series per topic this project writes).
        for topic in tcg_schemas::topics::ALL {
            metrics::counter!(internal_events::KAFKA_DELIVERY_FAILURES, "topic" => topic)
                .increment(0);
        }
        let producer = Arc::new(producer);
        let signal = Arc::new(PollSignal::default());
        let (p, s) = (producer.clone(), signal.clone());
        std::thread::Builder::new()
            .name("tcg-kafka-poll".into())
            .spawn(move || poll_loop(&p, &s))
            .map_err(PipelineError::PollThread)?;
        Ok(EnvelopeProducer {
            shared: Arc::new(Shared { producer, signal }),
        })
    }

    /// Encodes `payload` in its topic's envelope and sends it; resolves when the broker acked.
    pub async fn send<T: TopicPayload>(&self, key: &str, payload: T) -> Result<(i32, i64)> {
        let bytes = Envelope::new(now(), payload).encode()?;
        self.send_raw(Outgoing {
            topic: T::TOPIC,
            key,
            payload: bytes,
            headers: Vec::new(),
        })
        .await
    }

    /// Sends many payloads of one topic concurrently and waits for every ack.
    pub async fn send_all<T: TopicPayload>(&self, items: Vec<(String, T)>) -> Result<()> {
        let produced_at = now();
        let mut messages = Vec::with_capacity(items.len());
        for (key, payload) in items {
            messages.push((key, Envelope::new(produced_at, payload).encode()?));
        }
        let sends = messages.iter().map(|(key, bytes)| {
            self.send_raw(Outgoing {
                topic: T::TOPIC,
                key,
                payload: bytes.clone(),
                headers: Vec::new(),
            })
        });
        try_join_all(sends).await?;
        Ok(())
    }

    /// Sends bytes as they are (dead letters keep the original body).
    pub async fn send_raw(&self, msg: Outgoing<'_>) -> Result<(i32, i64)> {
        match self.deliver(&msg).await {
            Ok(delivery) => {
                metrics::counter!(internal_events::KAFKA_PRODUCED, "topic" => msg.topic.to_owned())
                    .increment(1);
                Ok(delivery)
            }
            Err(e) => {
                metrics::counter!(internal_events::KAFKA_DELIVERY_FAILURES, "topic" => msg.topic.to_owned())
                    .increment(1);
                Err(PipelineError::Delivery {
                    topic: msg.topic.to_owned(),
                    source: e,
                })
            }
        }
    }

    /// Queues the message (waiting for room while the local queue is full, up to
    /// [`QUEUE_TIMEOUT`]) and waits for the broker's answer.
    async fn deliver(&self, msg: &Outgoing<'_>) -> Delivered {
        let producer = &self.shared.producer;
        let give_up = tokio::time::Instant::now() + QUEUE_TIMEOUT;
        let (tx, rx) = oneshot::channel();
        let mut waiter = Box::new(tx);
        loop {
            let mut headers = OwnedHeaders::new();
            for (k, v) in &msg.headers {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let record = BaseRecord::with_opaque_to(msg.topic, waiter)
                .key(msg.key)
                .payload(&msg.payload)
                .headers(headers);
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), record))
                    if tokio::time::Instant::now() < give_up =>
                {
                    waiter = record.delivery_opaque;
                    self.shared.signal.sent();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((e, _)) => return Err(e),
            }
        }
        self.shared.signal.sent();
        rx.await.unwrap_or(Err(KafkaError::Canceled))
    }

    /// Waits until everything queued is delivered.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        self.shared.producer.flush(timeout)?;
        Ok(())
    }
}

/// The wall clock, for `produced_at` (the only clock read of the transport).
pub fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp::from_micros(micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::mocking::MockCluster;

    /// CPU time (ns) of this process's threads named `name`, and how many there are.
    fn threads_named(name: &str) -> (u64, usize) {
        let mut cpu = 0;
        let mut count = 0;
        for task in std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
        {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() != name {
                continue;
            }
            count += 1;
            let sched = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            cpu += sched
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .unwrap_or(0);
        }
        (cpu, count)
    }

    // One test, so that no other producer of this test binary runs beside the one measured.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deliveries_are_reported_and_an_idle_producer_sleeps_and_stops_when_dropped() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        let kafka = KafkaConfig {
            brokers: cluster.bootstrap_servers(),
            client_id: "producer-test".into(),
        };
        let producer = EnvelopeProducer::new(&kafka).unwrap();
        let send = |payload: Vec<u8>| {
            let producer = producer.clone();
            async move {
                producer
                    .send_raw(Outgoing {
                        topic: "t",
                        key: "k",
                        payload,
                        headers: vec![("h", "v".into())],
                    })
                    .await
            }
        };
        assert_eq!(send(b"one".to_vec()).await.unwrap(), (0, 0));
        assert_eq!(send(b"two".to_vec()).await.unwrap(), (0, 1));
        let many: Vec<_> = (0..200)
            .map(|i| send(format!("m{i}").into_bytes()))
            .collect();
        let offsets: Vec<i64> = try_join_all(many)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        assert_eq!(offsets.len(), 200);
        assert!(offsets.iter().all(|o| (2..202).contains(o)), "{offsets:?}");

        // The broker (here: librdkafka, before sending) refuses a message: the sender hears it.
        let err = send(vec![b'x'; 2_000_000]).await.unwrap_err();
        assert!(
            matches!(&err, PipelineError::Delivery { topic, .. } if topic == "t"),
            "{err}"
        );

        // Nothing in flight: the poll thread waits on its condition variable instead of
        // polling librdkafka every 100 ms (rdkafka's own poll thread spends ~10 ms of CPU a
        // second that way).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (before, threads) = threads_named("tcg-kafka-poll");
        assert_eq!(threads, 1);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (after, _) = threads_named("tcg-kafka-poll");
        let idle_ns = after - before;
        assert!(
            idle_ns < 2_000_000,
            "the idle poll thread used {idle_ns} ns of CPU in 2 s"
        );

        // Still serving after a long sleep.
        assert_eq!(send(b"late".to_vec()).await.unwrap().0, 0);

        drop(producer);
        let mut gone = false;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if threads_named("tcg-kafka-poll").1 == 0 {
                gone = true;
                break;
            }
        }
        assert!(gone, "the poll thread outlived its producer");
    }
}
