//! Which sources `up` reads and how: the simulator's URL for every source, or the live services
//! with the credentials found.

use tcg_collectors::{
    CollectConfig, cardmarket::CardmarketConfig, ebay::EbayConfig, justtcg::JusttcgConfig,
    pricecharting::PricechartingConfig, tcgplayer::TcgplayerConfig,
};

use super::{Config, Credentials};

/// TCGplayer's Magic category: the only game Scryfall and Card Kingdom price.
const MAGIC: u32 = 1;

impl Config {
    /// The collectors' configuration: every source against the simulator at `sim_url`, or the
    /// live services (TCGCSV and ECB always, the TCGplayer API and eBay with credentials).
    pub fn collect_config(&self, creds: &Credentials, sim_url: Option<&str>) -> CollectConfig {
        match sim_url {
            Some(url) => {
                let mut c = CollectConfig::for_simulator(url);
                let poll = self.poll_secs.unwrap_or(5);
                let categories = self.simulator.categories.clone();
                if let Some(t) = c.tcgplayer.as_mut() {
                    t.categories = categories.clone();
                    t.poll_interval_secs = poll;
                }
                if let Some(t) = c.tcgcsv.as_mut() {
                    t.categories = categories.clone();
                    t.poll_interval_secs = poll;
                }
                self.simulated_markets(&mut c, &categories);
                c
            }
            None => {
                let mut tcgplayer = self.tcgplayer.clone();
                let mut tcgcsv = self.tcgcsv.clone();
                tcgplayer.categories = self.categories.clone();
                tcgcsv.categories = self.categories.clone();
                if let Some(p) = self.poll_secs {
                    tcgplayer.poll_interval_secs = p;
                    tcgcsv.poll_interval_secs = p;
                }
                CollectConfig {
                    tcgplayer: creds.tcgplayer.clone().map(|(id, secret)| TcgplayerConfig {
                        client_id: id,
                        client_secret: secret,
                        ..tcgplayer
                    }),
                    tcgcsv: Some(tcgcsv),
                    ebay: creds.ebay.clone().map(|(id, secret)| EbayConfig {
                        client_id: id,
                        client_secret: secret,
                        ..self.ebay.clone()
                    }),
                    ecb: Some(self.ecb.clone()),
                    ..self.live_markets(creds)
                }
            }
        }
    }

    fn wants(&self, market: &str) -> bool {
        self.markets.iter().any(|m| m == market)
    }

    /// The other markets against the simulator: those in `markets`, on its categories.
    fn simulated_markets(&self, c: &mut CollectConfig, categories: &[u32]) {
        if let Some(m) = c.cardmarket.as_mut() {
            m.games = CardmarketConfig::games_for_categories(categories);
        }
        if let Some(p) = c.pricecharting.as_mut() {
            p.categories = categories.to_vec();
        }
        if let Some(j) = c.justtcg.as_mut() {
            j.categories = categories.to_vec();
        }
        if !self.wants("cardmarket") {
            c.cardmarket = None;
        }
        if !self.wants("scryfall") {
            c.scryfall = None;
        }
        if !self.wants("cardkingdom") {
            c.cardkingdom = None;
        }
        if !self.wants("pricecharting") {
            c.pricecharting = None;
        }
        if !self.wants("justtcg") {
            c.justtcg = None;
        }
    }

    /// The other markets read live: those in `markets` that price a collected category, the
    /// keyed ones only with their key.
    fn live_markets(&self, creds: &Credentials) -> CollectConfig {
        let cats = &self.categories;
        let magic = cats.contains(&MAGIC);
        let games = CardmarketConfig::games_for_categories(cats);
        CollectConfig {
            cardmarket: (self.wants("cardmarket") && !games.is_empty()).then(|| CardmarketConfig {
                games,
                ..self.cardmarket.clone()
            }),
            scryfall: (self.wants("scryfall") && magic).then(|| self.scryfall.clone()),
            cardkingdom: (self.wants("cardkingdom") && magic).then(|| self.cardkingdom.clone()),
            pricecharting: creds
                .pricecharting
                .clone()
                .filter(|_| self.wants("pricecharting"))
                .map(|token| PricechartingConfig {
                    token,
                    categories: cats.clone(),
                    ..self.pricecharting.clone()
                }),
            justtcg: creds
                .justtcg
                .clone()
                .filter(|_| self.wants("justtcg"))
                .map(|api_key| JusttcgConfig {
                    api_key,
                    categories: cats.clone(),
                    ..self.justtcg.clone()
                }),
            ..CollectConfig::default()
        }
    }
}
