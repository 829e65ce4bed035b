//! What can go wrong getting or running an engine.

use std::path::PathBuf;

/// One error type for the harness; every variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A program the harness needs is not installed.
    #[error("{what} not found: {hint}")]
    Missing { what: String, hint: String },
    /// A file or process operation failed.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Maven could not resolve an engine's artifacts.
    #[error(
        "resolving {artifact} from Maven Central failed (mvn exited with {status}); its output:\n{output}"
    )]
    Resolve {
        artifact: String,
        status: String,
        output: String,
    },
    /// A preparation step (formatting Kafka's storage, initdb) failed.
    #[error("{engine}: {step} failed with {status}; its output:\n{output}")]
    Prepare {
        engine: &'static str,
        step: &'static str,
        status: String,
        output: String,
    },
    /// The engine exited before it answered.
    #[error("{engine} exited with {status} before it answered; its log ({log_path}):\n{log}")]
    Exited {
        engine: &'static str,
        status: String,
        log_path: PathBuf,
        log: String,
    },
    /// The engine did not answer in time.
    #[error("{engine} did not answer within {secs} s; its log ({log_path}):\n{log}")]
    NotReady {
        engine: &'static str,
        secs: u64,
        log_path: PathBuf,
        log: String,
    },
}

impl EngineError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EngineError {
        let context = context.into();
        move |source| EngineError::Io { context, source }
    }
}

/// The harness's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
