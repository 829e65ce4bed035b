//! The flags of `tcgtracker collect` and `tcgtracker backfill` (and their environment
//! variables), mapped onto the collectors' plain configurations.

use std::path::PathBuf;

use chrono::NaiveDate;
use tcg_collectors::{BackfillConfig, CollectOptions};

/// `tcgtracker collect`: runs collectors against real services or one base URL.
#[derive(Debug, Clone, clap::Args)]
pub struct CollectArgs {
    /// One base URL for every source (the simulator, e.g. http://127.0.0.1:8787).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Sources to run.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tcgplayer,tcgcsv,ebay,ecb"
    )]
    pub sources: Vec<String>,
    /// TCGplayer category ids to collect (TCGplayer API and TCGCSV).
    #[arg(long, value_delimiter = ',', default_value = "3")]
    pub categories: Vec<u32>,
    #[arg(long, env = "TCGPLAYER_CLIENT_ID")]
    pub tcgplayer_client_id: Option<String>,
    #[arg(long, env = "TCGPLAYER_CLIENT_SECRET", hide_env_values = true)]
    pub tcgplayer_client_secret: Option<String>,
    #[arg(long, env = "EBAY_CLIENT_ID")]
    pub ebay_client_id: Option<String>,
    #[arg(long, env = "EBAY_CLIENT_SECRET", hide_env_values = true)]
    pub ebay_client_secret: Option<String>,
    /// Also read eBay Marketplace Insights (restricted API).
    #[arg(long)]
    pub ebay_insights: bool,
    /// eBay Browse calls a day.
    #[arg(long, default_value_t = 5_000)]
    pub ebay_daily_budget: u32,
    /// JSON file with the tracked cards (an array of TrackedCard) for eBay.
    #[arg(long)]
    pub tracked: Option<PathBuf>,
    /// Seconds between passes of TCGplayer and TCGCSV.
    #[arg(long)]
    pub poll_secs: Option<u64>,
    /// Stop each source after this many passes.
    #[arg(long)]
    pub passes: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration_secs: Option<u64>,
}

impl CollectArgs {
    /// What these flags ask of the collectors.
    pub fn options(&self) -> CollectOptions {
        CollectOptions {
            base_url: self.base_url.clone(),
            sources: self.sources.clone(),
            categories: self.categories.clone(),
            tcgplayer_client_id: self.tcgplayer_client_id.clone(),
            tcgplayer_client_secret: self.tcgplayer_client_secret.clone(),
            ebay_client_id: self.ebay_client_id.clone(),
            ebay_client_secret: self.ebay_client_secret.clone(),
            ebay_insights: self.ebay_insights,
            ebay_daily_budget: self.ebay_daily_budget,
            tracked: self.tracked.clone(),
            poll_secs: self.poll_secs,
            passes: self.passes,
            duration_secs: self.duration_secs,
        }
    }
}

/// `tcgtracker backfill`: price history from TCGCSV's daily archives.
#[derive(Debug, Clone, clap::Args)]
pub struct BackfillArgs {
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub to: NaiveDate,
    /// TCGCSV base URL (or the simulator's).
    #[arg(long, default_value = "https://tcgcsv.com")]
    pub base_url: String,
    /// Only these category ids (all when empty).
    #[arg(long, value_delimiter = ',')]
    pub categories: Vec<u32>,
    /// Progress file: finished days are skipped when the command is run again.
    #[arg(long, default_value = "tcgcsv-backfill.json")]
    pub state: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl BackfillArgs {
    /// The back-fill these flags describe.
    pub fn config(&self) -> BackfillConfig {
        BackfillConfig {
            from: self.from,
            to: self.to,
            base_url: self.base_url.clone(),
            categories: self.categories.clone(),
            state: self.state.clone(),
            quiet: self.quiet,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Collect {
        #[command(flatten)]
        args: CollectArgs,
    }

    #[derive(Debug, Parser)]
    struct Backfill {
        #[command(flatten)]
        args: BackfillArgs,
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let options = Collect::parse_from(["collect"]).args.options();
        // The credentials come from the environment, which may hold real ones.
        let want = CollectOptions {
            tcgplayer_client_id: options.tcgplayer_client_id.clone(),
            tcgplayer_client_secret: options.tcgplayer_client_secret.clone(),
            ebay_client_id: options.ebay_client_id.clone(),
            ebay_client_secret: options.ebay_client_secret.clone(),
            ..CollectOptions::default()
        };
        assert_eq!(options, want);
        let config =
            Backfill::parse_from(["backfill", "--from", "1970-01-01", "--to", "1970-01-01"])
                .args
                .config();
        assert_eq!(config, BackfillConfig::default());
    }

    #[test]
    fn collect_flags_reach_the_options() {
        let c = Collect::try_parse_from(["collect", "--sources", "tcgplayer,tcgcsv,ecb"]).unwrap();
        let cfg = c.args.options().to_config();
        // Env vars could hold real credentials; only the sources asked for may appear.
        assert!(cfg.ebay.is_none());
        assert!(cfg.tcgcsv.is_some() && cfg.ecb.is_some());
        let c = Collect::try_parse_from([
            "collect",
            "--base-url",
            "http://127.0.0.1:1",
            "--categories",
            "1,3",
            "--passes",
            "2",
        ])
        .unwrap();
        let options = c.args.options();
        assert_eq!(options.passes, Some(2));
        let t = options.to_config().tcgplayer.unwrap();
        assert_eq!(t.base_url, "http://127.0.0.1:1");
        assert_eq!(t.categories, vec![1, 3]);
    }

    #[test]
    fn backfill_dates_parse() {
        let b =
            Backfill::try_parse_from(["backfill", "--from", "2024-02-08", "--to", "2024-02-10"])
                .unwrap();
        assert_eq!(b.args.from.to_string(), "2024-02-08");
        assert!(
            Backfill::try_parse_from(["backfill", "--from", "yesterday", "--to", "2024-02-10"])
                .is_err()
        );
    }
}
