//! The jobs the binary runs: `collect` (every configured collector into one sink) and `backfill`
//! (history from TCGCSV's archives). Each takes a plain serde configuration; the command-line
//! flags that fill them live in the binary.

mod backfill;
mod collect;
mod options;

pub use backfill::{BackfillConfig, JusttcgBackfillConfig, run_backfill, run_justtcg_backfill};
pub use collect::{
    CollectConfig, CollectFeeds, CollectSummary, Feeds, MarketContext, load_tracked, run_collect,
    run_collect_monitored, run_collectors, run_collectors_monitored,
};
pub use options::CollectOptions;
