//! Source credentials: from the environment only, never from the file.

/// Source credentials, from the environment only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub tcgplayer: Option<(String, String)>,
    pub ebay: Option<(String, String)>,
}

impl Credentials {
    /// Reads `TCGPLAYER_CLIENT_ID`/`_SECRET` and `EBAY_CLIENT_ID`/`_SECRET`; a pair counts only
    /// when both halves are set and not empty.
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
        }
    }

    pub fn any(&self) -> bool {
        self.tcgplayer.is_some() || self.ebay.is_some()
    }
}
