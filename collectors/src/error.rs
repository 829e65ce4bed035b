//! The crate's one error type.

/// Everything that can go wrong collecting prices or serving the simulator.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The upstream answered with an HTTP error status (after retries, where retried).
    #[error("{source_name}: HTTP {status} from {url}")]
    Status {
        source_name: &'static str,
        status: u16,
        url: String,
    },
    /// The request could not be sent or the answer not read (connection refused, reset …).
    #[error("{source_name}: transport error: {message}")]
    Transport {
        source_name: &'static str,
        message: String,
    },
    /// No answer within the request timeout.
    #[error("{source_name}: timed out: {url}")]
    Timeout {
        source_name: &'static str,
        url: String,
    },
    /// The source's circuit breaker is open: no request was sent.
    #[error("{source_name}: circuit breaker open")]
    BreakerOpen { source_name: &'static str },
    /// The answer could not be decoded.
    #[error("{source_name}: malformed answer: {message}")]
    Malformed {
        source_name: &'static str,
        message: String,
    },
    /// A TCGplayer-style envelope with `success:false`.
    #[error("{source_name}: upstream reported failure: {errors:?}")]
    Upstream {
        source_name: &'static str,
        errors: Vec<String>,
    },
    /// Authentication failed (bad credentials, or a refreshed token refused again).
    #[error("{source_name}: authentication failed: {message}")]
    Auth {
        source_name: &'static str,
        message: String,
    },
    /// A daily request budget is spent; it refills after `retry_in_secs`.
    #[error("{source_name}: daily budget of {limit} requests spent (refills in {retry_in_secs}s)")]
    BudgetExhausted {
        source_name: &'static str,
        limit: u32,
        retry_in_secs: u64,
    },
    /// The quote sink is closed (its receiver was dropped) or could not take the quotes (e.g.
    /// the brokers did not acknowledge them).
    #[error(transparent)]
    Sink(#[from] tcg_ports::SinkError),
    /// A 7z price archive could not be read or written.
    #[error("archive {name}: {message}")]
    Archive { name: String, message: String },
    /// Invalid configuration or arguments.
    #[error("configuration: {0}")]
    Config(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Schema(#[from] tcg_schemas::SchemaError),
}

impl CollectorError {
    /// Whether the quote sink is gone (a collector stops instead of retrying).
    pub fn is_sink_closed(&self) -> bool {
        matches!(self, CollectorError::Sink(tcg_ports::SinkError::Closed))
    }

    /// A short, stable label for metrics (`errors_total{kind=…}`).
    pub fn kind(&self) -> &'static str {
        match self {
            CollectorError::Status { status, .. } if *status == 429 => "rate_limited",
            CollectorError::Status { status, .. } if *status >= 500 => "server_error",
            CollectorError::Status { .. } => "client_error",
            CollectorError::Transport { .. } => "transport",
            CollectorError::Timeout { .. } => "timeout",
            CollectorError::BreakerOpen { .. } => "breaker_open",
            CollectorError::Malformed { .. } => "malformed",
            CollectorError::Upstream { .. } => "upstream",
            CollectorError::Auth { .. } => "auth",
            CollectorError::BudgetExhausted { .. } => "budget",
            CollectorError::Sink(tcg_ports::SinkError::Closed) => "sink_closed",
            CollectorError::Sink(_) => "sink",
            CollectorError::Archive { .. } => "archive",
            CollectorError::Config(_) => "config",
            CollectorError::Io(_) => "io",
            CollectorError::Schema(_) => "schema",
        }
    }

    pub(crate) fn malformed(source_name: &'static str, message: impl std::fmt::Display) -> Self {
        CollectorError::Malformed {
            source_name,
            message: message.to_string(),
        }
    }
}
