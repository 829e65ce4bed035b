//! Where collectors publish quotes.

use std::{error::Error, future::Future, pin::Pin};

use tcg_schemas::RawQuote;

/// A boxed, sendable future (the shape of the object-safe async methods of the ports).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a sink did not take a batch of quotes.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The sink is gone (its receiver was dropped, the process is stopping): a collector stops.
    #[error("quote sink closed")]
    Closed,
    /// The sink could not take the quotes (e.g. the brokers did not acknowledge them); a
    /// collector counts a failed pass and tries again on the next.
    #[error("quote sink failed")]
    Failed(#[source] Box<dyn Error + Send + Sync + 'static>),
}

impl SinkError {
    /// Wraps any error as [`SinkError::Failed`], keeping it as the source.
    pub fn failed(e: impl Error + Send + Sync + 'static) -> Self {
        SinkError::Failed(Box::new(e))
    }
}

/// Receives the quotes of one fetch, in order.
pub trait QuoteSink: Send + Sync {
    /// Publishes `quotes`; waits while the sink is full (backpressure, never a drop). Fails only
    /// when the sink is gone or cannot take them.
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), SinkError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_cause() {
        let e = SinkError::failed(std::io::Error::other("broker down"));
        let source = e.source().map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("broker down"));
        assert_eq!(e.to_string(), "quote sink failed");
    }
}
