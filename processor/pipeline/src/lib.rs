//! Moving quotes: the Kafka transport (topics, producer, the processor's consumer runtime), the
//! output sinks, and the partitioned core that makes replays exact.
//!
//! Delivery is at-least-once and the effect exactly-once: a batch's offsets are stored only after
//! its ticks and alerts are durable in every sink; the store deduplicates ticks by their identity
//! and alerts by their deterministic id; and a processor that takes over a partition first replays
//! the partition's recent log silently, so its core state (and therefore its alerts) are exactly
//! what the previous owner's were.

pub mod config;
pub mod error;
pub mod inproc;
pub mod internal_events;
pub mod kafka;
pub mod partitioned;
pub mod quote_sink;
pub mod sink;
#[cfg(test)]
pub(crate) mod testkit;

pub use config::{ConsumeConfig, KafkaConfig, TopicConfig};
pub use error::{PipelineError, Result};
pub use partitioned::PartitionedCore;
pub use quote_sink::KafkaQuoteSink;
pub use sink::{FanOut, KafkaOutputs, NullSink, OutputSink};
