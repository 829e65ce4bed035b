//! The Scryfall client: `GET /bulk-data` on the API (which wants an accurate `User-Agent` and an
//! `Accept` header, and 50–100 ms between requests: the HTTP client's rate limit), and the
//! download of a bulk file from the URI the list names.

use reqwest::header::ACCEPT;

use super::{
    SOURCE, ScryfallConfig,
    model::{BulkItem, BulkList, parse_bulk_list},
};
use crate::{
    CollectorError,
    http::{HttpClient, join},
};

/// A Scryfall client.
#[derive(Debug)]
pub struct ScryfallClient {
    http: HttpClient,
    base: String,
}

impl ScryfallClient {
    pub fn new(config: &ScryfallConfig) -> Result<Self, CollectorError> {
        if config.http.user_agent.trim().is_empty() {
            return Err(CollectorError::Config(
                "Scryfall needs an accurate User-Agent".into(),
            ));
        }
        Ok(ScryfallClient {
            http: HttpClient::new(SOURCE, &config.http)?,
            base: config.base_url.clone(),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Every bulk file Scryfall lists.
    pub async fn bulk_list(&self) -> Result<BulkList, CollectorError> {
        let url = join(&self.base, "bulk-data");
        let fetched = self
            .http
            .send("bulk_data", |c| {
                c.get(&url)
                    .header(ACCEPT, "application/json;q=0.9,*/*;q=0.8")
            })
            .await?;
        parse_bulk_list(&fetched.body)
    }

    /// The bulk file of type `kind` (`default_cards` …) as listed now.
    pub async fn bulk_item(&self, kind: &str) -> Result<BulkItem, CollectorError> {
        self.bulk_list()
            .await?
            .data
            .into_iter()
            .find(|item| item.kind == kind)
            .ok_or_else(|| {
                CollectorError::malformed_because(
                    SOURCE,
                    format!("no {kind} file in the bulk-data list"),
                )
            })
    }

    /// The bytes of a bulk file (gzip-compressed JSON Lines, or a JSON array), whole: the
    /// compressed file of `default_cards` is some 80 MB; cards are then read from it one by one.
    pub async fn download(&self, uri: &str) -> Result<bytes::Bytes, CollectorError> {
        let fetched = self
            .http
            .send("bulk_file", |c| c.get(uri).header(ACCEPT, "*/*"))
            .await?;
        Ok(fetched.body)
    }
}
