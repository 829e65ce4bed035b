//! The one request of a pass: `GET https://api.cardkingdom.com/api/v2/pricelist` (no key).

use crate::{
    CollectorError,
    http::{HttpClient, join},
};

use super::CardkingdomConfig;

/// The metrics, health and logging name (`Source::Cardkingdom.as_str()`).
pub const SOURCE: &str = "cardkingdom";

/// The singles price list with per-grade retail prices (`condition_values`).
pub const PRICELIST_PATH: &str = "api/v2/pricelist";

/// Fetches Card Kingdom's price list.
#[derive(Debug, Clone)]
pub struct CardkingdomClient {
    http: HttpClient,
    url: String,
}

impl CardkingdomClient {
    pub fn new(config: &CardkingdomConfig) -> Result<Self, CollectorError> {
        Ok(CardkingdomClient {
            http: HttpClient::new(SOURCE, &config.http)?,
            url: join(&config.base_url, PRICELIST_PATH),
        })
    }

    /// The URL a pass reads.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The whole list, as sent (429 and 5xx are retried by the shared client, honouring
    /// `Retry-After`; any other status is an error at once).
    pub async fn price_list(&self) -> Result<bytes::Bytes, CollectorError> {
        Ok(self.http.get("pricelist", &self.url).await?.body)
    }
}
