//! Collectors for TCGplayer, TCGCSV, eBay (Browse, Marketplace Insights) and ECB reference rates,
//! and the shared HTTP machinery they use.
//!
//! Every client takes a base URL, so the same code runs against the real services or the market
//! simulator (the `tcg-simulator` crate). Sources implement [`Source`] and publish
//! [`tcg_schemas::RawQuote`]s to a [`QuoteSink`]. The root binary calls [`cli::run_collect_cli`]
//! (or [`cli::run_collectors`]) and [`cli::run_backfill_cli`].

pub mod cli;
pub mod ebay;
pub mod ecb;
pub mod error;
pub mod http;
pub mod internal_events;
pub(crate) mod rng;
pub mod sink;
pub mod source;
pub mod tcgcsv;
pub mod tcgplayer;
pub mod telemetry;

pub use cli::{
    BackfillArgs, CollectArgs, CollectConfig, CollectSummary, run_backfill_cli, run_collect_cli,
    run_collectors,
};
pub use error::CollectorError;
pub use sink::{CountingSink, JsonLinesSink, QuoteSink, SinkError, VecSink};
pub use source::{PassReport, RunReport, Source, run_source};

/// The User-Agent every client sends unless configured otherwise.
pub const USER_AGENT: &str = concat!(
    "tcgtracker/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/tcgtracker/tcgtracker)"
);
