//! The configuration of `tcgtracker up`: one TOML file, then environment overrides, then flags.
//!
//! Layers, the later winning: built-in defaults < the file (`--config`, `TCG_CONFIG`, or
//! `./tcgtracker.toml` when it exists) < `TCG__SECTION__KEY` variables (any key of the file) <
//! the named variables and flags of `up` (`TCG_DATA_DIR`, `--listen`, …). Everything that is not
//! a secret has a default; secrets (source credentials) come only from the environment and are
//! refused in the file. Unknown keys and bad values stop the start with a message naming them.
//! `tcgtracker.example.toml` at the repository root documents every key.

mod credentials;
mod layers;
mod sources;
#[cfg(test)]
mod tests;

use std::{net::SocketAddr, path::PathBuf};

use serde::Deserialize;
use tcg_collectors::{
    cardkingdom::CardkingdomConfig, cardmarket::CardmarketConfig, ebay::EbayConfig, ecb::EcbConfig,
    justtcg::JusttcgConfig, pricecharting::PricechartingConfig, scryfall::ScryfallConfig,
    tcgcsv::TcgcsvConfig, tcgplayer::TcgplayerConfig,
};
use tcg_processor_core::CoreConfig;
use tcg_simulator::SimConfig;
use tcg_webhooks::DispatcherConfig;

pub use credentials::Credentials;
pub use layers::{ConfigError, load, locate};

/// Where the collectors read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Upstream {
    /// The live services when any source credentials are set, the built-in simulator otherwise.
    Auto,
    /// The built-in market simulator (no network).
    Simulator,
    /// TCGCSV and ECB (public); the TCGplayer API and eBay when their credentials are set.
    Live,
}

/// Every setting of `tcgtracker up`. Field names are the file's keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite store, the core's state and the demo key live.
    pub data_dir: PathBuf,
    /// Address of the query API and the web page.
    pub listen: SocketAddr,
    /// `auto`, `simulator` or `live`.
    pub upstream: Upstream,
    /// Seconds between collector passes; unset: 5 on the simulator, each source's own interval live.
    pub poll_secs: Option<u64>,
    /// Days of history loaded from TCGCSV's daily archives on first start; unset: 30 on the
    /// simulator, 0 live (a live archive is tens of megabytes a day).
    pub history_days: Option<u64>,
    /// TCGplayer categories collected from the live services (the simulator has its own, in
    /// `[simulator] categories`).
    pub categories: Vec<u32>,
    pub simulator: SimConfig,
    pub tcgplayer: TcgplayerConfig,
    pub tcgcsv: TcgcsvConfig,
    pub ebay: EbayConfig,
    pub ecb: EcbConfig,
    /// The other markets read live (besides TCGplayer and eBay): any of `cardmarket`,
    /// `scryfall`, `cardkingdom` (no key; Scryfall and Card Kingdom price Magic only),
    /// `pricecharting` (with `PRICECHARTING_TOKEN`) and `justtcg` (with `JUSTTCG_API_KEY`).
    /// The simulator serves all five.
    pub markets: Vec<String>,
    pub cardmarket: CardmarketConfig,
    pub scryfall: ScryfallConfig,
    pub cardkingdom: CardkingdomConfig,
    pub pricecharting: PricechartingConfig,
    pub justtcg: JusttcgConfig,
    pub core: CoreConfig,
    pub webhooks: DispatcherConfig,
}

/// The other markets `up` knows.
pub const MARKETS: [&str; 5] = [
    "cardmarket",
    "scryfall",
    "cardkingdom",
    "pricecharting",
    "justtcg",
];

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            upstream: Upstream::Auto,
            poll_secs: None,
            history_days: None,
            categories: vec![3],
            simulator: SimConfig {
                seed: 7,
                ..SimConfig::default()
            },
            tcgplayer: TcgplayerConfig::default(),
            tcgcsv: TcgcsvConfig::default(),
            ebay: EbayConfig::default(),
            ecb: EcbConfig::default(),
            markets: MARKETS.map(String::from).to_vec(),
            cardmarket: CardmarketConfig::default(),
            scryfall: ScryfallConfig::default(),
            cardkingdom: CardkingdomConfig::default(),
            pricecharting: PricechartingConfig::default(),
            justtcg: JusttcgConfig::default(),
            core: CoreConfig::default(),
            webhooks: DispatcherConfig::default(),
        }
    }
}

impl Config {
    /// Values that parse but cannot work.
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Invalid(format!(
                "configuration key `{key}`: {message}"
            )))
        };
        if self.poll_secs == Some(0) {
            return bad("poll_secs", "must be at least 1");
        }
        if self.categories.is_empty() {
            return bad("categories", "name at least one TCGplayer category id");
        }
        if self.simulator.categories.is_empty() {
            return bad(
                "simulator.categories",
                "name at least one TCGplayer category id",
            );
        }
        if let Some(m) = self.markets.iter().find(|m| !MARKETS.contains(&m.as_str())) {
            return bad(
                "markets",
                &format!("{m:?} is not one of {}", MARKETS.join(", ")),
            );
        }
        for (key, url) in [
            ("tcgplayer.base_url", &self.tcgplayer.base_url),
            ("tcgcsv.base_url", &self.tcgcsv.base_url),
            ("ebay.base_url", &self.ebay.base_url),
            ("ecb.base_url", &self.ecb.base_url),
            ("cardmarket.base_url", &self.cardmarket.base_url),
            ("scryfall.base_url", &self.scryfall.base_url),
            ("cardkingdom.base_url", &self.cardkingdom.base_url),
            ("pricecharting.base_url", &self.pricecharting.base_url),
            ("justtcg.base_url", &self.justtcg.base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad(key, &format!("{url:?} is not an http(s) URL"));
            }
        }
        if self.webhooks.concurrency == 0 {
            return bad("webhooks.concurrency", "must be at least 1");
        }
        if self.core.min_confidence > 100 {
            return bad("core.min_confidence", "is a percentage (0-100)");
        }
        Ok(())
    }

    /// Whether the collectors read the live services, given the credentials found.
    pub fn is_live(&self, creds: &Credentials) -> bool {
        match self.upstream {
            Upstream::Simulator => false,
            Upstream::Live => true,
            Upstream::Auto => creds.any(),
        }
    }

    pub fn history_days(&self, live: bool) -> u64 {
        self.history_days.unwrap_or(if live { 0 } else { 30 })
    }

    /// The TCGplayer categories collected.
    pub fn categories(&self, live: bool) -> Vec<u32> {
        if live {
            self.categories.clone()
        } else {
            self.simulator.categories.clone()
        }
    }
}
