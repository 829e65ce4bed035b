//! `tcgtracker backfill`: price history into the SQLite store, through the processor core, from
//! TCGCSV's daily archives or, with `--source justtcg` and an API key, from JustTCG product by
//! product (the store's held and watched cards first, then its catalog).

use std::{collections::BTreeSet, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, Result, bail};
use tcg_collectors::{JusttcgBackfillConfig, QuoteSink, justtcg::JusttcgConfig};
use tcg_pipeline::OutputSink;
use tcg_processor_core::CoreConfig;
use tcg_schemas::{CategoryId, ProductId};
use tcg_store::{SqliteStore, StoreSink};

use crate::collect_cmd::BackfillArgs;

/// Where history comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistorySource {
    /// TCGCSV's daily archives (every product of the categories, one file a day).
    Tcgcsv,
    /// JustTCG's price histories, one request a product (needs JUSTTCG_API_KEY).
    Justtcg,
}

#[derive(Debug, clap::Args)]
pub struct BackfillCmdArgs {
    #[command(flatten)]
    backfill: BackfillArgs,
    /// SQLite tick store to fill (through the processor core).
    #[arg(long, env = "TCG_SQLITE", default_value = "data/tcgtracker.db")]
    sqlite: PathBuf,
    /// Where history comes from. JustTCG reads from `--from` up to now (`--to` is TCGCSV's), the
    /// shortest history it offers that reaches back that far (7, 30, 90, 180 days or a year).
    #[arg(long, value_enum, default_value_t = HistorySource::Tcgcsv)]
    source: HistorySource,
    /// JustTCG's API key.
    #[arg(long, env = "JUSTTCG_API_KEY", hide_env_values = true)]
    justtcg_api_key: Option<String>,
    /// JustTCG's base URL (or the simulator's, e.g. http://127.0.0.1:8787/v1).
    #[arg(long, default_value = "https://api.justtcg.com/v1")]
    justtcg_base_url: String,
    /// JustTCG: these products only (else held and watched cards, then the catalog of
    /// `--categories`).
    #[arg(long, value_delimiter = ',')]
    products: Vec<u64>,
    /// JustTCG: at most this many products a run (one request each; the free plan allows 100 a
    /// day). A later run goes on with the next ones.
    #[arg(long, default_value_t = 100)]
    max_products: usize,
    /// JustTCG's progress file.
    #[arg(long, default_value = "justtcg-backfill.json")]
    justtcg_state: PathBuf,
}

/// Back-fills history into the SQLite store, through the core.
pub async fn backfill(args: BackfillCmdArgs) -> Result<()> {
    if let Some(dir) = args.sqlite.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = SqliteStore::open(&args.sqlite)
        .with_context(|| format!("opening the store {}", args.sqlite.display()))?;
    let justtcg = match args.source {
        HistorySource::Tcgcsv => None,
        HistorySource::Justtcg => Some(justtcg_config(&args, &store).await?),
    };
    let (tx, rx) = tcg_pipeline::inproc::channel(10_000);
    let sink: Arc<dyn OutputSink> = Arc::new(StoreSink(Arc::new(store)));
    let processing = tokio::spawn(async move {
        // History is old by design: no heartbeats are needed between its prices.
        let mut core = tcg_processor_core::Processor::new(CoreConfig::default());
        tcg_pipeline::inproc::run(
            tcg_pipeline::inproc::Inputs::quotes(rx),
            &mut core,
            sink,
            tcg_pipeline::inproc::Batching {
                max: 5_000,
                linger: Duration::from_millis(200),
            },
            |_| {},
            std::future::pending(),
        )
        .await
    });
    let quotes: Arc<dyn QuoteSink> = Arc::new(tx);
    let report = match justtcg {
        None => format!(
            "{:?}",
            tcg_collectors::run_backfill(args.backfill.config(), quotes).await?
        ),
        Some(config) => format!(
            "{:?}",
            tcg_collectors::run_justtcg_backfill(config, quotes).await?
        ),
    };
    let stats = processing.await.context("the processing task")??;
    eprintln!(
        "back-fill: {report}; {} quotes → {} ticks ({} unchanged, {} rejected)",
        stats.quotes, stats.ticks, stats.unchanged, stats.rejected
    );
    Ok(())
}

/// The JustTCG back-fill the flags describe, its products read from `store`.
async fn justtcg_config(
    args: &BackfillCmdArgs,
    store: &SqliteStore,
) -> Result<JusttcgBackfillConfig> {
    let Some(api_key) = args
        .justtcg_api_key
        .clone()
        .filter(|k| !k.trim().is_empty())
    else {
        bail!("a JustTCG back-fill needs an API key: set JUSTTCG_API_KEY (or --justtcg-api-key)");
    };
    let products = products(args, store).await?;
    if products.is_empty() {
        bail!(
            "no products to back-fill from JustTCG: the store {} has no catalog of categories \
             {:?} yet (run `tcgtracker up` or `tcgtracker collect --sync-catalog` first), or \
             name them with --products",
            args.sqlite.display(),
            args.backfill.categories
        );
    }
    let today = chrono::Utc::now().date_naive();
    let days = (today - args.backfill.from).num_days().max(1);
    Ok(JusttcgBackfillConfig {
        justtcg: JusttcgConfig {
            base_url: args.justtcg_base_url.clone(),
            api_key,
            ..JusttcgConfig::default()
        },
        days: u32::try_from(days).unwrap_or(u32::MAX),
        products,
        state: args.justtcg_state.clone(),
        quiet: args.backfill.quiet,
    })
}

/// The products to read, the most wanted first: those named, else every card held or watched,
/// then the catalog's products of `--categories` (every category when none), at most
/// `--max-products`.
async fn products(
    args: &BackfillCmdArgs,
    store: &SqliteStore,
) -> Result<Vec<(ProductId, CategoryId)>> {
    let index = crate::catalog_index::load_index(store)
        .await
        .context("reading the store's catalog")?;
    let category_of = |id: u64| index.get(ProductId(id)).map(|e| e.category_id);
    if !args.products.is_empty() {
        return args
            .products
            .iter()
            .map(|&id| {
                category_of(id)
                    .map(|c| (ProductId(id), c))
                    .with_context(|| {
                        format!(
                            "product {id} is not in the store's catalog: its category is unknown"
                        )
                    })
            })
            .collect();
    }
    let tracked = crate::tracked::tracked_cards(store, store, &[])
        .await
        .context("reading the held and watched cards")?;
    let wanted = |c: CategoryId| {
        args.backfill.categories.is_empty() || args.backfill.categories.contains(&c.0)
    };
    let mut catalog: Vec<(ProductId, CategoryId)> = index
        .entries()
        .filter(|e| !e.sealed && wanted(e.category_id))
        .map(|e| (e.product_id, e.category_id))
        .collect();
    catalog.sort();
    let mut seen = BTreeSet::new();
    Ok(tracked
        .iter()
        .filter_map(|t| category_of(t.product_id.0).map(|c| (t.product_id, c)))
        .chain(catalog)
        .filter(|(p, _)| seen.insert(*p))
        .take(args.max_products)
        .collect())
}
