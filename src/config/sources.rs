//! Which sources `up` reads and how: the simulator's URL for every source, or the live services
//! with the credentials found.

use tcg_collectors::{CollectConfig, ebay::EbayConfig, tcgplayer::TcgplayerConfig};

use super::{Config, Credentials};

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
                    t.categories = categories;
                    t.poll_interval_secs = poll;
                }
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
                }
            }
        }
    }
}
