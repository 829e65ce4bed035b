//! Alert delivery over signed webhooks.
//!
//! - [`Dispatcher`]: reads the SQLite outbox (alerts stored by the processor), POSTs each alert to
//!   every enabled endpoint of its owner, with bounded concurrency, retries on a schedule, and
//!   records every attempt. All state is in SQLite: a restarted dispatcher continues.
//! - [`sign`]/[`verify`]: Standard Webhooks (Svix style) signatures, `webhook-id`,
//!   `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`.
//! - [`guard`]: refuses loopback, private, link-local, unique-local, CGNAT, multicast and cloud
//!   metadata targets, checked against the addresses actually connected to.
//! - [`VerifyRequest`]/[`run_verify`]: the `webhook verify` CLI helper.

pub mod config;
pub mod dispatcher;
pub mod guard;
pub mod internal_events;
pub mod outbox;
pub mod schedule;
pub mod sign;
pub mod verify;

pub use config::DispatcherConfig;
pub use dispatcher::{Dispatcher, Notifier, RunReport};
pub use guard::AddressGuard;
pub use schedule::RetrySchedule;
pub use sign::{SigningKey, signature_header};
pub use verify::{VerifyRequest, WebhookHeaders, run_verify, verify};

/// Everything that can go wrong in webhook delivery and verification.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("store: {0}")]
    Store(#[from] tcg_store::StoreError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("invalid configuration: {0}")]
    BadCidr(#[from] tcg_address_guard::BadCidr),
    #[error("invalid signing secret: {0}")]
    InvalidSecret(String),
    /// The secret after `whsec_` is not base64 (the decoder's error kept).
    #[error("invalid signing secret: not base64 after whsec_: {0}")]
    SecretNotBase64(#[source] base64::DecodeError),
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header that must be a whole number of unix seconds is not (the parse error kept).
    #[error("invalid header {name}: {value:?} is not unix seconds: {source}")]
    InvalidHeader {
        name: &'static str,
        value: String,
        #[source]
        source: std::num::ParseIntError,
    },
    #[error("timestamp {timestamp} is {skew_secs} s away from now (tolerance {tolerance_secs} s)")]
    TimestampOutOfTolerance {
        timestamp: i64,
        skew_secs: i64,
        tolerance_secs: u64,
    },
    #[error("no signature matches")]
    SignatureMismatch,
    #[error("address refused: {0}")]
    Refused(String),
    #[error("http client: {0}")]
    Http(#[source] reqwest::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("io: {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("usage: {0}")]
    Usage(String),
}
