//! `tcgtracker collect` (and the TCGCSV flags of `tcgtracker backfill`): its flags (and
//! environment variables), mapped onto the collectors' plain configurations, and the command
//! that runs them.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use tcg_collectors::{BackfillConfig, CollectOptions, QuoteSink, tcgcsv::TcgcsvConfig};
use tcg_pipeline::kafka::producer::EnvelopeProducer;
use tcg_schemas::TrackedCard;
use tcg_store::Store;
use tokio::{sync::watch, task::JoinHandle};

/// `tcgtracker collect`: runs collectors against real services or one base URL.
#[derive(Debug, Clone, clap::Args)]
pub struct CollectArgs {
    /// One base URL for every source (the simulator, e.g. http://127.0.0.1:8787).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Sources to run: tcgplayer, tcgcsv, ebay, ecb, and the other markets cardmarket,
    /// scryfall, cardkingdom, pricecharting (with a token), justtcg (with a key).
    #[arg(
        long,
        env = "TCG_SOURCES",
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
    /// PriceCharting's API token (for `--sources …,pricecharting`).
    #[arg(long, env = "PRICECHARTING_TOKEN", hide_env_values = true)]
    pub pricecharting_token: Option<String>,
    /// JustTCG's API key (for `--sources …,justtcg`).
    #[arg(long, env = "JUSTTCG_API_KEY", hide_env_values = true)]
    pub justtcg_api_key: Option<String>,
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
            pricecharting_token: self.pricecharting_token.clone(),
            justtcg_api_key: self.justtcg_api_key.clone(),
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

#[derive(Debug, clap::Args)]
pub struct CollectCmdArgs {
    #[command(flatten)]
    collect: CollectArgs,
    #[command(flatten)]
    kafka: crate::kafka_flags::KafkaFlags,
    /// Print the quotes as JSON lines instead of producing them to Kafka.
    #[arg(long)]
    stdout: bool,
    /// Search eBay for every card users hold in portfolios or watch with active alert rules,
    /// read from the store (--sqlite, or QuestDB) and refreshed every `--track-refresh-secs`;
    /// merged with the `--tracked` watch list.
    #[arg(long, env = "TCG_TRACK_FROM_STORE")]
    track_from_store: bool,
    #[arg(long, env = "TCG_TRACK_REFRESH_SECS", default_value_t = 60)]
    track_refresh_secs: u64,
    /// Write TCGCSV's catalog (sets and products of `--categories`) to the store at start and
    /// every `--catalog-refresh-secs`, so that the API, the tracked cards and Grafana have names.
    #[arg(long, env = "TCG_SYNC_CATALOG")]
    sync_catalog: bool,
    #[arg(long, env = "TCG_CATALOG_REFRESH_SECS", default_value_t = 86_400)]
    catalog_refresh_secs: u64,
    #[command(flatten)]
    store: crate::serve_cmd::StoreArgs,
    #[command(flatten)]
    ops: crate::ops_server::OpsArgs,
}

/// Runs the collectors, publishing to tcg.quotes.raw.v1 (or standard output), until SIGTERM or
/// Ctrl-C (or `--duration-secs`, or `--passes`).
pub async fn collect(args: CollectCmdArgs) -> Result<()> {
    let monitor = tcg_collectors::CollectorMonitor::new();
    let ready =
        crate::ops_server::start(&args.ops, "collector", Some(Arc::new(monitor.clone()))).await?;
    let sink = quote_sink(&args)?;
    let watch_list = watch_list(&args.collect)?;
    let (tracked_tx, tracked_rx) = watch::channel(watch_list.clone());
    let stores = if args.track_from_store || args.sync_catalog {
        Some(args.store.open().await?)
    } else {
        None
    };
    let catalog = match (&stores, args.sync_catalog) {
        (Some(stores), true) => Some(sync_catalog(&args, stores.prices.clone()).await?),
        _ => None,
    };
    // The other markets map their products with the store's catalog.
    let (identity, indexer) = match &stores {
        Some(stores) => {
            let (identity, tx) = crate::catalog_index::identity();
            let catalog: Arc<dyn tcg_store::PriceStore> = stores.prices.clone();
            let task = tokio::spawn(crate::catalog_index::refresh(catalog, tx));
            (Some(identity), Some(task))
        }
        None => (None, None),
    };
    let tracker = match (stores, args.track_from_store) {
        (Some(stores), true) => {
            let every = Duration::from_secs(args.track_refresh_secs.max(1));
            Some(track_from_store(stores, watch_list, every, tracked_tx).await)
        }
        _ => None,
    };
    ready.set(true);
    let feeds = tcg_collectors::CollectFeeds {
        tracked: Some(tracked_rx),
        identity,
    };
    let result = tcg_collectors::run_collect_monitored(
        args.collect.options(),
        sink,
        feeds,
        crate::shutdown_signal(),
        monitor,
    )
    .await;
    for task in [tracker, catalog, indexer].into_iter().flatten() {
        task.abort();
    }
    result?;
    Ok(())
}

/// Where the quotes go: Kafka, or JSON lines on standard output with `--stdout`.
fn quote_sink(args: &CollectCmdArgs) -> Result<Arc<dyn QuoteSink>> {
    Ok(if args.stdout {
        Arc::new(tcg_collectors::JsonLinesSink)
    } else {
        Arc::new(tcg_pipeline::KafkaQuoteSink(EnvelopeProducer::new(
            &args.kafka.config(),
        )?))
    })
}

/// The `--tracked` watch list (empty without one).
fn watch_list(collect: &CollectArgs) -> Result<Vec<TrackedCard>> {
    Ok(match &collect.tracked {
        Some(path) => tcg_collectors::load_tracked(path)
            .with_context(|| format!("reading the watch list {}", path.display()))?,
        None => Vec::new(),
    })
}

/// Writes TCGCSV's catalog to the store now (before the first eBay pass: the tracked cards need
/// its names), then again every `--catalog-refresh-secs` (at least a minute) in the returned task.
async fn sync_catalog(args: &CollectCmdArgs, store: Arc<dyn Store>) -> Result<JoinHandle<()>> {
    let tcgcsv = TcgcsvConfig {
        base_url: args
            .collect
            .base_url
            .clone()
            .unwrap_or_else(|| TcgcsvConfig::default().base_url),
        ..Default::default()
    };
    let categories = args.collect.categories.clone();
    let products =
        crate::catalog::sync_catalog(tcgcsv.clone(), &categories, store.as_ref(), false).await?;
    eprintln!(
        "catalog: {} products of categories {categories:?}",
        products.len()
    );
    let every = Duration::from_secs(args.catalog_refresh_secs.max(60));
    Ok(tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match crate::catalog::sync_catalog(tcgcsv.clone(), &categories, store.as_ref(), false)
                .await
            {
                Ok(p) => tracing::info!(products = p.len(), "catalog synced"),
                Err(e) => tracing::warn!(error = %e, "catalog sync failed"),
            }
        }
    }))
}

/// Keeps eBay's tracked cards current from the store (merged with `watch_list`): the first list
/// now, before the first eBay pass, then a refresh every `every` in the returned task.
async fn track_from_store(
    stores: crate::stores::Stores,
    watch_list: Vec<TrackedCard>,
    every: Duration,
    tracked_tx: watch::Sender<Vec<TrackedCard>>,
) -> JoinHandle<()> {
    let read = move || {
        let (stores, watch_list) = (stores.clone(), watch_list.clone());
        async move {
            let cards = crate::tracked::tracked_cards(
                stores.prices.as_ref(),
                stores.app.as_ref(),
                &watch_list,
            );
            match cards.await {
                Ok(cards) => {
                    metrics::gauge!("tcg_collector_tracked_cards").set(cards.len() as f64);
                    Some(cards)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the tracked cards");
                    None
                }
            }
        }
    };
    if let Some(cards) = read().await {
        eprintln!("tracking {} cards from the store", cards.len());
        let _ = tracked_tx.send(cards);
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Some(cards) = read().await {
                let _ = tracked_tx.send(cards);
            }
        }
    })
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
            pricecharting_token: options.pricecharting_token.clone(),
            justtcg_api_key: options.justtcg_api_key.clone(),
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
