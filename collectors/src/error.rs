//! The crate's one error type. Where a cause is an error value (reqwest's, serde_json's, an
//! i/o or 7z error, a refused request) it is kept as the `source`, so `{:#}` and anyhow chains
//! reach it; the message still names it, as the logs print errors with `%e`.

use std::{error::Error as StdError, fmt, path::PathBuf};

/// Any error, boxed (the cause of a malformed answer: JSON, UTF-8, a number or a currency code).
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong collecting prices.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The upstream answered with an HTTP error status (after retries, where retried).
    #[error("{source_name}: HTTP {status} from {url}")]
    Status {
        source_name: &'static str,
        status: u16,
        url: String,
    },
    /// The request could not be sent or the answer not read (connection refused, reset …), or
    /// the client could not be built.
    #[error("{source_name}: transport error: {source}")]
    Transport {
        source_name: &'static str,
        #[source]
        source: reqwest::Error,
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
    /// The answer could not be decoded: `what` says which part (empty for the whole answer),
    /// `source` why, when an error value says it.
    #[error("{source_name}: malformed answer: {}", detail(.what, .source))]
    Malformed {
        source_name: &'static str,
        what: String,
        #[source]
        source: Option<BoxError>,
    },
    /// A TCGplayer-style envelope with `success:false`.
    #[error("{source_name}: upstream reported failure: {errors:?}")]
    Upstream {
        source_name: &'static str,
        errors: Vec<String>,
    },
    /// Authentication failed: the token endpoint refused the credentials, or the API refused a
    /// freshly minted token. The refused request is the source.
    #[error("{source_name}: authentication failed: {reason}: {source}")]
    Auth {
        source_name: &'static str,
        reason: &'static str,
        #[source]
        source: Box<CollectorError>,
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
    /// TCGCSV's archive refused the download (HTTP 403): it no longer serves its price
    /// archives to everyone, and asking again does not help.
    #[error(
        "TCGCSV's price archive refused the download of {day} (HTTP 403): it no longer serves its \
         archives; no history is loaded from it (JustTCG can back-fill history with an API key: \
         JUSTTCG_API_KEY=… tcgtracker backfill --source justtcg)"
    )]
    ArchiveRefused {
        day: String,
        #[source]
        source: Box<CollectorError>,
    },
    /// A 7z price archive could not be read.
    #[error("archive {name}: {source}")]
    Archive {
        name: String,
        #[source]
        source: ArchiveError,
    },
    /// Invalid configuration or arguments.
    #[error("configuration: {0}")]
    Config(String),
    /// A back-fill state file could not be read or written as JSON (a `config` error, as a
    /// broken state file is fixed by hand).
    #[error("configuration: state file {}: {source}", path.display())]
    StateFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Schema(#[from] tcg_schemas::SchemaError),
}

/// Why a price archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not a 7z archive, or a corrupt one.
    #[error(transparent)]
    SevenZ(#[from] sevenz_rust2::Error),
    /// The blocking task decoding it failed (panicked or was cancelled).
    #[error("decoder task failed: {0}")]
    Decoder(#[source] tokio::task::JoinError),
}

/// The text of a malformed answer: `what: source`, or either alone.
struct Detail<'a> {
    what: &'a str,
    source: Option<&'a (dyn StdError + Send + Sync + 'static)>,
}

fn detail<'a>(what: &'a str, source: &'a Option<BoxError>) -> Detail<'a> {
    Detail {
        what,
        source: source.as_deref(),
    }
}

impl fmt::Display for Detail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.what.is_empty(), self.source) {
            (_, None) => f.write_str(self.what),
            (true, Some(source)) => write!(f, "{source}"),
            (false, Some(source)) => write!(f, "{}: {source}", self.what),
        }
    }
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
            CollectorError::Archive { .. } | CollectorError::ArchiveRefused { .. } => "archive",
            CollectorError::Config(_) | CollectorError::StateFile { .. } => "config",
            CollectorError::Io(_) => "io",
            CollectorError::Schema(_) => "schema",
        }
    }

    /// A malformed answer, `cause` saying why (a JSON, UTF-8 or number error …).
    pub(crate) fn malformed(
        source_name: &'static str,
        cause: impl StdError + Send + Sync + 'static,
    ) -> Self {
        CollectorError::Malformed {
            source_name,
            what: String::new(),
            source: Some(Box::new(cause)),
        }
    }

    /// A malformed part of an answer (`what`: `token`, `rate "abc"` …), `cause` saying why.
    pub(crate) fn malformed_in(
        source_name: &'static str,
        what: impl Into<String>,
        cause: impl StdError + Send + Sync + 'static,
    ) -> Self {
        CollectorError::Malformed {
            source_name,
            what: what.into(),
            source: Some(Box::new(cause)),
        }
    }

    /// A malformed answer with no error value behind it (a check of ours failed).
    pub(crate) fn malformed_because(source_name: &'static str, why: impl Into<String>) -> Self {
        CollectorError::Malformed {
            source_name,
            what: why.into(),
            source: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(e: &dyn StdError) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut next = e.source();
        while let Some(s) = next {
            out.push(s.to_string());
            next = s.source();
        }
        out
    }

    #[test]
    fn malformed_keeps_its_cause_and_says_it() {
        let json = serde_json::from_slice::<u32>(b"nope").unwrap_err();
        let text = json.to_string();
        let e = CollectorError::malformed_in("tcgplayer", "token", json);
        assert_eq!(
            e.to_string(),
            format!("tcgplayer: malformed answer: token: {text}")
        );
        assert_eq!(chain(&e)[1], text);
        assert_eq!(e.kind(), "malformed");

        let e = CollectorError::malformed("ecb", "x".parse::<u32>().unwrap_err());
        assert_eq!(
            e.to_string(),
            "ecb: malformed answer: invalid digit found in string"
        );
        let e = CollectorError::malformed_because("ecb", "no rates in the document");
        assert_eq!(
            e.to_string(),
            "ecb: malformed answer: no rates in the document"
        );
        assert!(e.source().is_none());
    }

    #[test]
    fn auth_keeps_the_refused_request() {
        let refused = CollectorError::Status {
            source_name: "ebay_browse",
            status: 401,
            url: "http://x/token".into(),
        };
        let e = CollectorError::Auth {
            source_name: "ebay_browse",
            reason: "the token endpoint refused the credentials",
            source: Box::new(refused),
        };
        assert_eq!(
            chain(&e),
            [
                "ebay_browse: authentication failed: the token endpoint refused the credentials: \
                 ebay_browse: HTTP 401 from http://x/token",
                "ebay_browse: HTTP 401 from http://x/token",
            ]
        );
        assert_eq!(e.kind(), "auth");
    }

    #[test]
    fn archive_and_state_file_errors_keep_their_causes() {
        let e = CollectorError::Archive {
            name: "prices-2024-02-08.ppmd.7z".into(),
            source: sevenz_rust2::Error::FileNotFound.into(),
        };
        assert!(
            e.to_string()
                .starts_with("archive prices-2024-02-08.ppmd.7z: "),
            "{e}"
        );
        assert_eq!(e.kind(), "archive");
        let json = serde_json::from_slice::<u32>(b"{").unwrap_err();
        let e = CollectorError::StateFile {
            path: "state.json".into(),
            source: json,
        };
        assert!(
            e.to_string()
                .starts_with("configuration: state file state.json: "),
            "{e}"
        );
        assert!(e.source().is_some());
        assert_eq!(e.kind(), "config");
    }
}
