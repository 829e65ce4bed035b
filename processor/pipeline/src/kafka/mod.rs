//! The Kafka transport: topic admin, the envelope producer and the processor consumer.

pub mod admin;
pub mod batch;
pub mod consumer;
mod group;
pub mod producer;
mod replay;

use rdkafka::ClientConfig;

use crate::config::KafkaConfig;

/// The settings every client of ours shares.
pub fn base_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &kafka.brokers)
        .set("client.id", &kafka.client_id)
        .set("broker.address.family", "v4");
    c
}
