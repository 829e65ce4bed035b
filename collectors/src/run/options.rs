//! `tcgtracker collect`'s options as plain data, and the collectors' configuration they make.

use std::path::PathBuf;

use serde::Deserialize;

use super::CollectConfig;
use crate::{
    cardkingdom::CardkingdomConfig, cardmarket::CardmarketConfig, ebay::EbayConfig, ecb::EcbConfig,
    justtcg::JusttcgConfig, pricecharting::PricechartingConfig, scryfall::ScryfallConfig,
    tcgcsv::TcgcsvConfig, tcgplayer::TcgplayerConfig,
};

/// One `tcgtracker collect` run as plain data (the binary maps its flags onto it): which sources,
/// their credentials, and when to stop. [`CollectOptions::to_config`] turns it into the
/// collectors' [`CollectConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectOptions {
    /// One base URL for every source (the simulator); the real services when absent.
    pub base_url: Option<String>,
    /// Sources to run (`tcgplayer`, `tcgcsv`, `ebay`, `ecb`, and the other markets:
    /// `cardmarket`, `scryfall`, `cardkingdom`, `pricecharting`, `justtcg`).
    pub sources: Vec<String>,
    /// TCGplayer category ids to collect (TCGplayer API and TCGCSV).
    pub categories: Vec<u32>,
    pub tcgplayer_client_id: Option<String>,
    pub tcgplayer_client_secret: Option<String>,
    pub ebay_client_id: Option<String>,
    pub ebay_client_secret: Option<String>,
    /// PriceCharting's API token (PriceCharting runs only with one, or against a base URL).
    pub pricecharting_token: Option<String>,
    /// JustTCG's API key (JustTCG runs only with one, or against a base URL).
    pub justtcg_api_key: Option<String>,
    /// Also read eBay Marketplace Insights (restricted API).
    pub ebay_insights: bool,
    /// eBay Browse calls a day.
    pub ebay_daily_budget: u32,
    /// JSON file with the tracked cards (an array of `TrackedCard`) for eBay.
    pub tracked: Option<PathBuf>,
    /// Seconds between passes of TCGplayer and TCGCSV (each source's own when absent).
    pub poll_secs: Option<u64>,
    /// Stop each source after this many passes.
    pub passes: Option<u64>,
    /// Stop after this many seconds.
    pub duration_secs: Option<u64>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            base_url: None,
            sources: ["tcgplayer", "tcgcsv", "ebay", "ecb"]
                .map(String::from)
                .to_vec(),
            categories: vec![3],
            tcgplayer_client_id: None,
            tcgplayer_client_secret: None,
            ebay_client_id: None,
            ebay_client_secret: None,
            pricecharting_token: None,
            justtcg_api_key: None,
            ebay_insights: false,
            ebay_daily_budget: 5_000,
            tracked: None,
            poll_secs: None,
            passes: None,
            duration_secs: None,
        }
    }
}

impl CollectOptions {
    /// The collector configuration these options describe. Sources needing credentials are
    /// left out (with a warning) when none are given and no base URL is set.
    pub fn to_config(&self) -> CollectConfig {
        let mut cfg = match &self.base_url {
            Some(url) => CollectConfig::for_simulator(url),
            None => CollectConfig {
                tcgplayer: Some(TcgplayerConfig::default()),
                tcgcsv: Some(TcgcsvConfig::default()),
                ebay: Some(EbayConfig::default()),
                ecb: Some(EcbConfig::default()),
                // Needs an API key (`TCG_JUSTTCG_API_KEY`): off unless one is given.
                justtcg: None,
                cardkingdom: Some(CardkingdomConfig::default()),
                // Needs a token (`TCG_PRICECHARTING_TOKEN`): off unless one is given.
                pricecharting: None,
                cardmarket: Some(CardmarketConfig::default()),
                scryfall: Some(ScryfallConfig::default()),
            },
        };
        let wants = |s: &str| self.sources.iter().any(|x| x.eq_ignore_ascii_case(s));
        if let Some(t) = cfg.tcgplayer.as_mut() {
            t.categories = self.categories.clone();
            if let Some(id) = &self.tcgplayer_client_id {
                t.client_id = id.clone();
            }
            if let Some(secret) = &self.tcgplayer_client_secret {
                t.client_secret = secret.clone();
            }
            if let Some(p) = self.poll_secs {
                t.poll_interval_secs = p;
            }
        }
        if let Some(t) = cfg.tcgcsv.as_mut() {
            t.categories = self.categories.clone();
            if let Some(p) = self.poll_secs {
                t.poll_interval_secs = p;
            }
        }
        if let Some(e) = cfg.ebay.as_mut() {
            if let Some(id) = &self.ebay_client_id {
                e.client_id = id.clone();
            }
            if let Some(secret) = &self.ebay_client_secret {
                e.client_secret = secret.clone();
            }
            e.insights.enabled = self.ebay_insights;
            e.daily_budget = self.ebay_daily_budget;
        }
        if !wants("tcgplayer")
            || cfg
                .tcgplayer
                .as_ref()
                .is_some_and(|t| t.client_id.is_empty())
        {
            if wants("tcgplayer") {
                tracing::warn!("TCGplayer API: no credentials; skipped");
            }
            cfg.tcgplayer = None;
        }
        if !wants("ebay") || cfg.ebay.as_ref().is_some_and(|e| e.client_id.is_empty()) {
            if wants("ebay") {
                tracing::warn!("eBay: no credentials; skipped");
            }
            cfg.ebay = None;
        }
        if !wants("tcgcsv") {
            cfg.tcgcsv = None;
        }
        if !wants("ecb") {
            cfg.ecb = None;
        }
        self.other_markets(&mut cfg);
        cfg
    }

    /// The other markets of `cfg`: on the options' categories, off unless asked for.
    fn other_markets(&self, cfg: &mut CollectConfig) {
        let wants = |s: &str| self.sources.iter().any(|x| x.eq_ignore_ascii_case(s));
        if let Some(token) = &self.pricecharting_token {
            cfg.pricecharting
                .get_or_insert_with(PricechartingConfig::default)
                .token = token.clone();
        }
        if let Some(key) = &self.justtcg_api_key {
            cfg.justtcg
                .get_or_insert_with(JusttcgConfig::default)
                .api_key = key.clone();
        }
        if let Some(j) = cfg.justtcg.as_mut() {
            j.categories = self.categories.clone();
        }
        if let Some(p) = cfg.pricecharting.as_mut() {
            p.categories = self.categories.clone();
        }
        if let Some(c) = cfg.cardmarket.as_mut() {
            c.games = CardmarketConfig::games_for_categories(&self.categories);
        }
        if wants("justtcg") && cfg.justtcg.as_ref().is_none_or(|j| j.api_key.is_empty()) {
            tracing::warn!("JustTCG: no API key (JUSTTCG_API_KEY); skipped");
            cfg.justtcg = None;
        }
        if !wants("justtcg") {
            cfg.justtcg = None;
        }
        if !wants("cardkingdom") {
            cfg.cardkingdom = None;
        }
        if wants("pricecharting")
            && cfg
                .pricecharting
                .as_ref()
                .is_none_or(|p| p.token.is_empty())
        {
            tracing::warn!("PriceCharting: no token (PRICECHARTING_TOKEN); skipped");
            cfg.pricecharting = None;
        }
        if !wants("pricecharting") {
            cfg.pricecharting = None;
        }
        if !wants("cardmarket") {
            cfg.cardmarket = None;
        }
        if !wants("scryfall") {
            cfg.scryfall = None;
        }
    }
}
