//! Source credentials: from the environment only, never from the file.

/// Source credentials, from the environment only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub tcgplayer: Option<(String, String)>,
    pub ebay: Option<(String, String)>,
    /// PriceCharting's API token.
    pub pricecharting: Option<String>,
    /// JustTCG's API key.
    pub justtcg: Option<String>,
}

impl Credentials {
    /// Reads `TCGPLAYER_CLIENT_ID`/`_SECRET`, `EBAY_CLIENT_ID`/`_SECRET`,
    /// `PRICECHARTING_TOKEN` and `JUSTTCG_API_KEY`; a pair counts only when both halves are set
    /// and not empty.
    pub fn from_env(env: &[(String, String)]) -> Credentials {
        let get = |k: &str| {
            env.iter()
                .find(|(name, v)| name == k && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_owned())
        };
        let pair = |id: &str, secret: &str| get(id).zip(get(secret));
        Credentials {
            tcgplayer: pair("TCGPLAYER_CLIENT_ID", "TCGPLAYER_CLIENT_SECRET"),
            ebay: pair("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"),
            pricecharting: get("PRICECHARTING_TOKEN"),
            justtcg: get("JUSTTCG_API_KEY"),
        }
    }

    pub fn any(&self) -> bool {
        self.tcgplayer.is_some()
            || self.ebay.is_some()
            || self.pricecharting.is_some()
            || self.justtcg.is_some()
    }
}
