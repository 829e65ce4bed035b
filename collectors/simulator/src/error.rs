//! The simulator's one error type.

/// What can go wrong starting the simulator or building an answer.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding or serving the listener.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A 7z price archive could not be written.
    #[error("archive {name}: {source}")]
    Archive {
        name: String,
        #[source]
        source: sevenz_rust2::Error,
    },
    /// An answer could not be encoded.
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
}
