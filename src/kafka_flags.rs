//! The Kafka and processor flags (and their environment variables), mapped onto the pipeline's
//! serde configuration structs.

use tcg_pipeline::{ConsumeConfig, KafkaConfig, TopicConfig};

/// Where the brokers are and how this client calls itself.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaFlags {
    /// Comma-separated bootstrap brokers, e.g. `127.0.0.1:9092`.
    #[arg(long, env = "TCG_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Client id reported to the brokers.
    #[arg(long, env = "TCG_KAFKA_CLIENT_ID", default_value = "tcgtracker")]
    pub client_id: String,
}

impl KafkaFlags {
    pub fn config(&self) -> KafkaConfig {
        KafkaConfig {
            brokers: self.brokers.clone(),
            client_id: self.client_id.clone(),
        }
    }
}

/// Partitions, replication and retention of the topics, for `tcgtracker topics create`.
#[derive(Debug, Clone, clap::Args)]
pub struct TopicFlags {
    /// Partitions of the quote, tick and alert topics (the unit of processor parallelism).
    #[arg(long, env = "TCG_TOPIC_PARTITIONS", default_value_t = 6)]
    pub partitions: i32,
    /// Replication factor of every topic.
    #[arg(long, env = "TCG_TOPIC_REPLICATION", default_value_t = 1)]
    pub replication: i32,
    /// Retention of tcg.quotes.raw.v1 in hours (also bounds processor state rebuilds).
    #[arg(long, env = "TCG_QUOTES_RETENTION_HOURS", default_value_t = 24 * 7)]
    pub quotes_retention_hours: i64,
    /// Retention of tcg.ticks.v1, tcg.alerts.v1 and tcg.quotes.dlq.v1 in hours.
    #[arg(long, env = "TCG_OUTPUT_RETENTION_HOURS", default_value_t = 24 * 14)]
    pub output_retention_hours: i64,
}

impl TopicFlags {
    pub fn config(&self) -> TopicConfig {
        TopicConfig {
            partitions: self.partitions,
            replication: self.replication,
            quotes_retention_hours: self.quotes_retention_hours,
            output_retention_hours: self.output_retention_hours,
        }
    }
}

/// How the processor consumes.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsumeFlags {
    /// Consumer group of the processors.
    #[arg(long, env = "TCG_PROCESSOR_GROUP", default_value = "tcg-processor")]
    pub group: String,
    /// Most quotes in one batch.
    #[arg(long, env = "TCG_BATCH_MAX", default_value_t = 2000)]
    pub batch_max: usize,
    /// Longest wait to fill a batch, in milliseconds.
    #[arg(long, env = "TCG_BATCH_LINGER_MS", default_value_t = 200)]
    pub batch_linger_ms: u64,
    /// How far back a processor replays a newly assigned partition to rebuild its state (hours).
    #[arg(long, env = "TCG_STATE_LOOKBACK_HOURS", default_value_t = 24 * 7)]
    pub state_lookback_hours: i64,
    /// Consumer group session timeout: how soon a dead processor's partitions move (ms).
    #[arg(long, env = "TCG_SESSION_TIMEOUT_MS", default_value_t = 10_000)]
    pub session_timeout_ms: u64,
    /// Static group membership (`group.instance.id`, e.g. a StatefulSet pod name): a restarted
    /// processor takes its old place at once instead of waiting for the group to notice.
    #[arg(long, env = "TCG_PROCESSOR_INSTANCE_ID")]
    pub instance_id: Option<String>,
}

impl ConsumeFlags {
    pub fn config(&self) -> ConsumeConfig {
        ConsumeConfig {
            group: self.group.clone(),
            batch_max: self.batch_max,
            batch_linger_ms: self.batch_linger_ms,
            state_lookback_hours: self.state_lookback_hours,
            session_timeout_ms: self.session_timeout_ms,
            instance_id: self.instance_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        kafka: KafkaFlags,
        #[command(flatten)]
        topics: TopicFlags,
        #[command(flatten)]
        consume: ConsumeFlags,
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let cli = Cli::parse_from(["x"]);
        let topics = cli.topics.config();
        let want = TopicConfig::default();
        assert_eq!(topics.specs(), want.specs());
        let consume = cli.consume.config();
        let want = ConsumeConfig::default();
        assert_eq!(consume.group, want.group);
        assert_eq!(consume.batch_max, want.batch_max);
        assert_eq!(consume.batch_linger_ms, want.batch_linger_ms);
        assert_eq!(consume.state_lookback_hours, want.state_lookback_hours);
        assert_eq!(consume.session_timeout_ms, want.session_timeout_ms);
        assert_eq!(consume.instance_id, want.instance_id);
        assert_eq!(cli.kafka.config().brokers, "127.0.0.1:9092");
    }

    #[test]
    fn flags_reach_the_config() {
        let cli = Cli::parse_from([
            "x",
            "--brokers",
            "10.0.0.1:9092",
            "--partitions",
            "12",
            "--batch-max",
            "50",
            "--instance-id",
            "p-0",
        ]);
        assert_eq!(cli.kafka.config().brokers, "10.0.0.1:9092");
        assert_eq!(cli.topics.config().partitions, 12);
        assert_eq!(cli.consume.config().batch_max, 50);
        assert_eq!(cli.consume.config().instance_id.as_deref(), Some("p-0"));
    }
}
