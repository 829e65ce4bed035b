use tcg_schemas::SchemaError;

/// Everything that can go wrong moving quotes through the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("kafka delivery to {topic} failed: {message}")]
    Delivery { topic: String, message: String },
    #[error("creating topic {topic}: {message}")]
    TopicCreation { topic: String, message: String },
    #[error("store: {0}")]
    Store(#[from] tcg_store::StoreError),
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
