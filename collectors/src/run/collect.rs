//! `tcgtracker collect`: every configured collector at once, into one quote sink.

use std::{future::Future, sync::Arc, time::Duration};

use serde::Deserialize;
use tcg_schemas::{FxRates, TrackedCard};
use tokio::sync::watch;

use super::CollectOptions;
use crate::{
    CollectorError, CollectorMonitor, QuoteSink, RunReport, Source,
    cardkingdom::{CardkingdomConfig, CardkingdomSource},
    cardmarket::{CardmarketConfig, CardmarketSource},
    ebay::{EbayConfig, EbaySource},
    ecb::{EcbClient, EcbConfig, run_fx_monitored},
    identity::{Identity, PrintingSink, UnmappedLog},
    justtcg::{JusttcgConfig, JusttcgSource},
    pricecharting::{PricechartingConfig, PricechartingSource},
    run_source_monitored,
    scryfall::{ScryfallConfig, ScryfallSource},
    tcgcsv::{TcgcsvConfig, TcgcsvSource},
    tcgplayer::{TcgplayerConfig, TcgplayerSource},
};

/// Which collectors run and how. A missing section switches that collector off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectConfig {
    pub tcgplayer: Option<TcgplayerConfig>,
    pub tcgcsv: Option<TcgcsvConfig>,
    pub ebay: Option<EbayConfig>,
    pub ecb: Option<EcbConfig>,
    pub justtcg: Option<JusttcgConfig>,
    pub cardkingdom: Option<CardkingdomConfig>,
    pub pricecharting: Option<PricechartingConfig>,
    pub cardmarket: Option<CardmarketConfig>,
    pub scryfall: Option<ScryfallConfig>,
}

impl CollectConfig {
    /// The sources this configuration runs, by their health and metrics names.
    pub fn source_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.tcgplayer.is_some() {
            names.push("tcgplayer");
        }
        if self.tcgcsv.is_some() {
            names.push("tcgcsv");
        }
        if let Some(ebay) = &self.ebay {
            if ebay.insights.enabled {
                names.push("ebay_sold");
            }
            names.push("ebay_browse");
        }
        if self.ecb.is_some() {
            names.push("ecb");
        }
        if self.cardkingdom.is_some() {
            names.push("cardkingdom");
        }
        if self.pricecharting.is_some() {
            names.push("pricecharting");
        }
        if self.cardmarket.is_some() {
            names.push("cardmarket");
        }
        if self.scryfall.is_some() {
            names.push("scryfall");
        }
        if self.justtcg.is_some() {
            names.push("justtcg");
        }
        names
    }

    /// Every collector pointed at one base URL (the simulator), with demo credentials and short
    /// poll intervals.
    pub fn for_simulator(base_url: &str) -> CollectConfig {
        CollectConfig {
            tcgplayer: Some(TcgplayerConfig {
                base_url: base_url.to_owned(),
                client_id: "sim".into(),
                client_secret: "sim".into(),
                poll_interval_secs: 60,
                ..TcgplayerConfig::default()
            }),
            tcgcsv: Some(TcgcsvConfig {
                base_url: base_url.to_owned(),
                poll_interval_secs: 60,
                ..TcgcsvConfig::default()
            }),
            ebay: Some(EbayConfig {
                base_url: base_url.to_owned(),
                client_id: "sim".into(),
                client_secret: "sim".into(),
                ..EbayConfig::default()
            }),
            ecb: Some(EcbConfig {
                base_url: base_url.to_owned(),
                ..EcbConfig::default()
            }),
            justtcg: Some(JusttcgConfig {
                base_url: crate::http::join(base_url, "v1"),
                // The simulator's keys starting `tcg_` (not `tcg_free`) are on its Enterprise plan.
                api_key: "tcg_sim_demo".into(),
                categories: vec![3, 1, 2, 68],
                batch_size: 100,
                requests_per_pass: 0,
                discover_requests_per_pass: 4,
                daily_budget: 50_000,
                poll_interval_secs: 60,
                http: crate::http::HttpConfig::default(),
                ..JusttcgConfig::default()
            }),
            cardkingdom: Some(CardkingdomConfig {
                base_url: base_url.to_owned(),
                poll_interval_secs: 60,
                retry_interval_secs: 2,
                ..CardkingdomConfig::default()
            }),
            pricecharting: Some(PricechartingConfig {
                base_url: base_url.to_owned(),
                token: "sim".into(),
                categories: vec![3, 1, 2, 68],
                poll_interval_secs: 60,
                retry_interval_secs: 10,
                // No one-call-a-second spacing against the simulator.
                http: crate::http::HttpConfig::default(),
                ..PricechartingConfig::default()
            }),
            cardmarket: Some(CardmarketConfig {
                base_url: base_url.to_owned(),
                poll_interval_secs: 60,
                ..CardmarketConfig::default()
            }),
            scryfall: Some(ScryfallConfig {
                base_url: base_url.to_owned(),
                poll_interval_secs: 60,
                retry_secs: 10,
                // Quick retries: the simulator does not lock clients out after a 429.
                http: crate::http::HttpConfig::default(),
                ..ScryfallConfig::default()
            }),
        }
    }
}

/// What the collectors read while they run, kept current by the caller.
#[derive(Debug, Clone)]
pub struct Feeds {
    /// The cards eBay searches.
    pub tracked: watch::Receiver<Vec<TrackedCard>>,
    /// Our catalog and the id bridge, for the sources that map another market's products.
    pub identity: Identity,
}

impl From<watch::Receiver<Vec<TrackedCard>>> for Feeds {
    /// Tracked cards and an empty catalog.
    fn from(tracked: watch::Receiver<Vec<TrackedCard>>) -> Self {
        Feeds {
            tracked,
            identity: Identity::default(),
        }
    }
}

/// What a source that maps another market's products gets: our catalog and the id bridge to map
/// with, and the log of what it could not map.
#[derive(Debug, Clone)]
pub struct MarketContext {
    pub identity: Identity,
    pub unmapped: Arc<UnmappedLog>,
}

/// What `run_collectors` did, per source.
#[derive(Debug, Clone, Default)]
pub struct CollectSummary {
    pub sources: Vec<(&'static str, RunReport)>,
}

impl CollectSummary {
    pub fn quotes(&self) -> u64 {
        self.sources.iter().map(|(_, r)| r.totals.quotes).sum()
    }
}

/// Runs every configured collector concurrently into `sink` until `shutdown` resolves (or each
/// has done `max_passes`). eBay searches the tracked cards of `feeds` and the other markets map
/// with its identity (both kept current through watch channels); ECB rates are published on
/// `fx` when given.
pub async fn run_collectors(
    config: CollectConfig,
    feeds: Feeds,
    sink: Arc<dyn QuoteSink>,
    fx: Option<watch::Sender<FxRates>>,
    max_passes: Option<u64>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<CollectSummary, CollectorError> {
    let monitor = CollectorMonitor::default();
    run_collectors_monitored(config, feeds, sink, fx, max_passes, shutdown, monitor).await
}

/// [`run_collectors`], recording every pass of every source (and every ECB fetch) in
/// `monitor`: each source is listed as starting at once, so its health exists before its first
/// pass ends.
pub async fn run_collectors_monitored(
    config: CollectConfig,
    feeds: Feeds,
    sink: Arc<dyn QuoteSink>,
    fx: Option<watch::Sender<FxRates>>,
    max_passes: Option<u64>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    monitor: CollectorMonitor,
) -> Result<CollectSummary, CollectorError> {
    let names = config.source_names();
    let Feeds { tracked, identity } = feeds;
    let market = MarketContext {
        identity,
        unmapped: monitor.unmapped.clone(),
    };
    let sources = sources_of(&config, &tracked, &market)?;
    for source in &sources {
        monitor.health.register(source.name());
    }
    debug_assert!(
        sources.iter().all(|s| names.contains(&s.name())),
        "source_names() names every source"
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stop = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let fx_task = match (config.ecb, fx) {
        (Some(c), Some(tx)) => {
            let client = EcbClient::new(&c)?;
            let every = Duration::from_secs(c.poll_interval_secs.max(1));
            let (monitor, stopped) = (monitor.clone(), stop(stop_rx.clone()));
            monitor.health.register("ecb");
            Some(tokio::spawn(async move {
                run_fx_monitored(client, tx, every, stopped, &monitor).await;
            }))
        }
        _ => None,
    };
    // The other markets' rows leave in the printings TCGplayer prices.
    let market_sink: Arc<dyn QuoteSink> = Arc::new(PrintingSink {
        inner: sink.clone(),
        catalog: market.identity.catalog.clone(),
    });
    let mut tasks = Vec::new();
    for mut source in sources {
        let other_market =
            tcg_schemas::Source::parse(source.name()).is_some_and(|s| s.is_other_market());
        let sink = if other_market {
            market_sink.clone()
        } else {
            sink.clone()
        };
        let (rx, monitor) = (stop_rx.clone(), monitor.clone());
        tasks.push(tokio::spawn(async move {
            let name = source.name();
            let report =
                run_source_monitored(source.as_mut(), sink, max_passes, stop(rx), &monitor).await;
            (name, report)
        }));
    }
    let mut summary = CollectSummary::default();
    for t in tasks {
        match t.await {
            Ok(r) => summary.sources.push(r),
            Err(e) => tracing::error!(error = %e, "collector task failed"),
        }
    }
    stopper.abort();
    if let Some(t) = fx_task {
        t.abort();
    }
    Ok(summary)
}

/// The sources `config` runs: eBay searches `tracked`; the other markets map their products
/// with `market`.
fn sources_of(
    config: &CollectConfig,
    tracked: &watch::Receiver<Vec<TrackedCard>>,
    market: &MarketContext,
) -> Result<Vec<Box<dyn Source>>, CollectorError> {
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    if let Some(c) = config.tcgplayer.clone() {
        sources.push(Box::new(TcgplayerSource::new(c)?));
    }
    if let Some(c) = config.tcgcsv.clone() {
        sources.push(Box::new(TcgcsvSource::new(c)?));
    }
    if let Some(c) = config.ebay.clone() {
        if c.insights.enabled {
            let mut sold = EbaySource::insights(c.clone(), Vec::new())?;
            sold.follow(tracked.clone());
            sources.push(Box::new(sold));
        }
        let mut browse = EbaySource::browse(c, Vec::new())?;
        browse.follow(tracked.clone());
        sources.push(Box::new(browse));
    }
    // The other markets: each maps its products to ours with `market`.
    if let Some(c) = config.scryfall.clone() {
        sources.push(Box::new(ScryfallSource::new(c, market.clone())?));
    }
    if let Some(c) = config.cardmarket.clone() {
        sources.push(Box::new(CardmarketSource::new(c, market.clone())?));
    }
    if let Some(c) = config.pricecharting.clone() {
        sources.push(Box::new(PricechartingSource::new(c, market.clone())?));
    }
    if let Some(c) = config.cardkingdom.clone() {
        sources.push(Box::new(CardkingdomSource::new(c, market.clone())?));
    }
    if let Some(c) = config.justtcg.clone() {
        sources.push(Box::new(JusttcgSource::new(c, market.clone())?));
    }
    Ok(sources)
}

/// Loads tracked cards from a JSON file (an array of `TrackedCard`).
pub fn load_tracked(path: &std::path::Path) -> Result<Vec<TrackedCard>, CollectorError> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CollectorError::Config(format!("{}: {e}", path.display())))
}

/// Runs `tcgtracker collect` into `sink` until `stop` resolves, `duration_secs` or `passes`,
/// then prints a line per source. eBay searches `tracked` when given (a live list the caller
/// keeps current), else the `tracked` file.
pub async fn run_collect(
    options: CollectOptions,
    sink: Arc<dyn QuoteSink>,
    tracked: Option<watch::Receiver<Vec<TrackedCard>>>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<CollectSummary, CollectorError> {
    let feeds = CollectFeeds {
        tracked,
        identity: None,
    };
    run_collect_monitored(options, sink, feeds, stop, CollectorMonitor::default()).await
}

/// What `tcgtracker collect` reads while it runs, when its caller keeps it current: the tracked
/// cards (else the options' `tracked` file), and our catalog for the other markets (else none:
/// they map nothing and say so).
#[derive(Debug, Default)]
pub struct CollectFeeds {
    pub tracked: Option<watch::Receiver<Vec<TrackedCard>>>,
    pub identity: Option<Identity>,
}

/// [`run_collect`], recording every pass and rejection in `monitor` (which `collect`'s ops
/// listener serves at `/sources`, `/rejections` and `/unmapped`).
pub async fn run_collect_monitored(
    options: CollectOptions,
    sink: Arc<dyn QuoteSink>,
    feeds: CollectFeeds,
    stop: impl Future<Output = ()> + Send + 'static,
    monitor: CollectorMonitor,
) -> Result<CollectSummary, CollectorError> {
    let (_file_tx, tracked_rx) = match feeds.tracked {
        Some(rx) => (None, rx),
        None => {
            let cards = match &options.tracked {
                Some(p) => load_tracked(p)?,
                None => Vec::new(),
            };
            let (tx, rx) = watch::channel(cards);
            (Some(tx), rx)
        }
    };
    let (fx_tx, _fx_rx) = watch::channel(FxRates::default());
    let duration = options.duration_secs.map(Duration::from_secs);
    let shutdown = async move {
        match duration {
            Some(d) => tokio::select! {
                () = tokio::time::sleep(d) => {}
                () = stop => {}
            },
            None => stop.await,
        }
    };
    let summary = run_collectors_monitored(
        options.to_config(),
        Feeds {
            tracked: tracked_rx,
            identity: feeds.identity.unwrap_or_default(),
        },
        sink,
        Some(fx_tx),
        options.passes,
        shutdown,
        monitor,
    )
    .await?;
    for (name, r) in &summary.sources {
        eprintln!(
            "{name}: {} passes ({} failed), {} quotes, {} requests, {} errors",
            r.passes, r.failed_passes, r.totals.quotes, r.totals.requests, r.totals.errors
        );
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_without_credentials_keeps_the_open_sources() {
        let options = CollectOptions {
            sources: vec!["tcgplayer".into(), "tcgcsv".into(), "ecb".into()],
            ..CollectOptions::default()
        };
        let cfg = options.to_config();
        // Without credentials only the open sources asked for may appear.
        assert!(cfg.ebay.is_none());
        assert!(cfg.tcgcsv.is_some() && cfg.ecb.is_some());
        let options = CollectOptions {
            base_url: Some("http://127.0.0.1:1".into()),
            categories: vec![1, 3],
            ..CollectOptions::default()
        };
        let cfg = options.to_config();
        let t = cfg.tcgplayer.unwrap();
        assert_eq!(t.base_url, "http://127.0.0.1:1");
        assert_eq!(t.categories, vec![1, 3]);
        assert!(cfg.ebay.is_some());
    }

    #[test]
    fn collect_config_reads_from_json() {
        let cfg: CollectConfig = serde_json::from_str(r#"{"tcgcsv":{"categories":[1],"http":{"min_interval_ms":200}},"ebay":{"insights":{"enabled":true}}}"#).unwrap();
        let t = cfg.tcgcsv.unwrap();
        assert_eq!(t.daily_budget, 10_000);
        assert_eq!(t.http.min_interval_ms, 200);
        assert!(cfg.ebay.unwrap().insights.enabled);
        assert!(cfg.tcgplayer.is_none());
        assert!(serde_json::from_str::<CollectConfig>(r#"{"tcgcsv":{"bogus":1}}"#).is_err());
    }

    #[test]
    fn collect_options_read_from_json() {
        let options: CollectOptions =
            serde_json::from_str(r#"{"sources":["tcgcsv"],"passes":1}"#).unwrap();
        assert_eq!(options.passes, Some(1));
        assert_eq!(options.categories, vec![3]);
        assert!(serde_json::from_str::<CollectOptions>(r#"{"bogus":1}"#).is_err());
    }
}
