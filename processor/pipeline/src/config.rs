//! Configuration of the Kafka transport and the processor runtime (serde structs; the binary
//! maps its flags and environment variables onto them).

use std::time::Duration;

use serde::Deserialize;
use tcg_schemas::topics;

/// Where the brokers are and how this client calls itself.
#[derive(Debug, Clone, Deserialize)]
pub struct KafkaConfig {
    /// Comma-separated bootstrap brokers, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Client id reported to the brokers.
    pub client_id: String,
}

/// Partitions, replication and retention of the topics, for `tcgtracker topics create`.
#[derive(Debug, Clone, Deserialize)]
pub struct TopicConfig {
    /// Partitions of the quote, tick and alert topics (the unit of processor parallelism).
    pub partitions: i32,
    /// Replication factor of every topic.
    pub replication: i32,
    /// Retention of tcg.quotes.raw.v1 in hours (also bounds processor state rebuilds).
    pub quotes_retention_hours: i64,
    /// Retention of tcg.ticks.v1, tcg.alerts.v1 and tcg.quotes.dlq.v1 in hours.
    pub output_retention_hours: i64,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            partitions: 6,
            replication: 1,
            quotes_retention_hours: 24 * 7,
            output_retention_hours: 24 * 14,
        }
    }
}

/// One topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: &'static str,
    pub partitions: i32,
    pub replication: i32,
    /// Topic configs (`cleanup.policy`, `retention.ms`, …).
    pub configs: Vec<(&'static str, String)>,
}

impl TopicConfig {
    /// The five topics with their settings. The rules topic is compacted and single-partition
    /// (every processor reads all of it, in order).
    pub fn specs(&self) -> Vec<TopicSpec> {
        let ms = |hours: i64| (hours.max(1) * 3_600_000).to_string();
        let delete = |hours| {
            vec![
                ("cleanup.policy", "delete".to_owned()),
                ("retention.ms", ms(hours)),
            ]
        };
        vec![
            TopicSpec {
                name: topics::QUOTES_RAW,
                partitions: self.partitions,
                replication: self.replication,
                configs: delete(self.quotes_retention_hours),
            },
            TopicSpec {
                name: topics::TICKS,
                partitions: self.partitions,
                replication: self.replication,
                configs: delete(self.output_retention_hours),
            },
            TopicSpec {
                name: topics::ALERTS,
                partitions: self.partitions,
                replication: self.replication,
                configs: delete(self.output_retention_hours),
            },
            TopicSpec {
                name: topics::ALERT_RULES,
                partitions: 1,
                replication: self.replication,
                configs: vec![("cleanup.policy", "compact".to_owned())],
            },
            TopicSpec {
                name: topics::QUOTES_DLQ,
                partitions: self.partitions,
                replication: self.replication,
                configs: delete(self.output_retention_hours),
            },
        ]
    }
}

/// How the processor consumes.
#[derive(Debug, Clone, Deserialize)]
pub struct ConsumeConfig {
    /// Consumer group of the processors.
    pub group: String,
    /// Most quotes in one batch.
    pub batch_max: usize,
    /// Longest wait to fill a batch, in milliseconds.
    pub batch_linger_ms: u64,
    /// How far back a processor replays a newly assigned partition to rebuild its state (hours).
    pub state_lookback_hours: i64,
    /// Consumer group session timeout: how soon a dead processor's partitions move (ms).
    pub session_timeout_ms: u64,
    /// Static group membership (`group.instance.id`, e.g. a StatefulSet pod name): a restarted
    /// processor takes its old place at once instead of waiting for the group to notice.
    pub instance_id: Option<String>,
}

impl ConsumeConfig {
    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.batch_linger_ms)
    }
}

impl Default for ConsumeConfig {
    fn default() -> Self {
        ConsumeConfig {
            group: "tcg-processor".into(),
            batch_max: 2000,
            batch_linger_ms: 200,
            state_lookback_hours: 24 * 7,
            session_timeout_ms: 10_000,
            instance_id: None,
        }
    }
}
