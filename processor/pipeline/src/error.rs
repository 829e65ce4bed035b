use tcg_schemas::SchemaError;

/// Everything that can go wrong moving quotes through the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("kafka delivery to {topic} failed: {source}")]
    Delivery {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("creating topic {topic}: {code}")]
    TopicCreation {
        topic: String,
        code: rdkafka::types::RDKafkaErrorCode,
    },
    #[error("starting the producer's poll thread: {0}")]
    PollThread(#[source] std::io::Error),
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// An output sink (a store, the output topics) did not take a batch's output.
    #[error("delivering the output: {0}")]
    Sink(#[from] tcg_ports::SinkError),
    #[error("encoding: {0}")]
    Schema(#[from] SchemaError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("the quote channel is closed")]
    Closed,
    #[error("timed out: {0}")]
    Timeout(String),
}

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
