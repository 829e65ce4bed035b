//! The producer every component uses: idempotent, acks=all, keyed, bounded in flight, and every
//! delivery awaited (a failure is counted and returned, never ignored).

use std::time::Duration;

use futures_util::future::try_join_all;
use rdkafka::{
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord, Producer},
};
use tcg_schemas::{Envelope, Timestamp, TopicPayload};

use crate::{
    config::KafkaArgs,
    error::{PipelineError, Result},
};

/// A keyed JSON-envelope producer.
#[derive(Clone)]
pub struct EnvelopeProducer {
    inner: FutureProducer,
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

impl EnvelopeProducer {
    pub fn new(kafka: &KafkaArgs) -> Result<Self> {
        let inner: FutureProducer = super::base_config(kafka)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("max.in.flight.requests.per.connection", "5")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            .set("queue.buffering.max.messages", "100000")
            .create()?;
        Ok(EnvelopeProducer { inner })
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
        let mut headers = OwnedHeaders::new();
        for (k, v) in &msg.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_bytes()),
            });
        }
        let record = FutureRecord::to(msg.topic)
            .key(msg.key)
            .payload(&msg.payload)
            .headers(headers);
        match self.inner.send(record, Duration::from_secs(30)).await {
            Ok(delivery) => {
                metrics::counter!("tcg_kafka_produced_total", "topic" => msg.topic.to_owned())
                    .increment(1);
                Ok((delivery.partition, delivery.offset))
            }
            Err((e, _)) => {
                metrics::counter!("tcg_kafka_delivery_failures_total", "topic" => msg.topic.to_owned())
                    .increment(1);
                Err(PipelineError::Delivery {
                    topic: msg.topic.to_owned(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// Waits until everything queued is delivered.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        self.inner.flush(timeout)?;
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
