//! Collectors for TCGplayer, TCGCSV, eBay (Browse, Marketplace Insights) and ECB reference rates,
//! and the shared HTTP machinery they use.
//!
//! Every client takes a base URL, so the same code runs against the real services or the market
//! simulator (the `tcg-simulator` crate). Sources implement [`Source`] and publish
//! [`tcg_schemas::RawQuote`]s to a [`QuoteSink`]. The root binary maps its flags onto plain
//! configurations and calls [`run_collect`] (or [`run_collectors`]) and [`run_backfill`].

pub mod cardkingdom;
pub mod cardmarket;
pub mod ebay;
pub mod ecb;
pub mod error;
pub mod health;
pub mod http;
pub mod identity;
pub mod internal_events;
pub mod justtcg;
pub mod pricecharting;
pub mod rejections;
pub(crate) mod rng;
pub mod run;
pub mod scryfall;
pub mod sink;
pub mod source;
pub(crate) mod state_file;
pub mod tcgcsv;
pub mod tcgplayer;
pub mod telemetry;

pub use error::CollectorError;
pub use health::{
    Degradation, HealthError, HealthStatus, SourceHealth, SourceHealthRegistry, degradation,
};
pub use rejections::{CollectorRejectReason, CollectorRejection, RejectionLog};
pub use run::{
    BackfillConfig, CollectConfig, CollectFeeds, CollectOptions, CollectSummary, Feeds,
    JusttcgBackfillConfig, MarketContext, load_tracked, run_backfill, run_collect,
    run_collect_monitored, run_collectors, run_collectors_monitored, run_justtcg_backfill,
};
pub use sink::{CountingSink, JsonLinesSink, QuoteSink, SinkError, VecSink};
pub use source::{
    CollectorMonitor, PassReport, RunReport, Source, run_source, run_source_monitored,
};

/// The User-Agent every client sends unless configured otherwise.
pub const USER_AGENT: &str = concat!(
    "tcgtracker/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/tcgtracker/tcgtracker)"
);
