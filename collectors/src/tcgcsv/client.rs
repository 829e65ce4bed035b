//! The TCGCSV client: custom User-Agent, ~100 ms between requests (the HTTP client's rate
//! limit) and a daily request budget.

use super::TcgcsvConfig;
use crate::{
    CollectorError,
    http::{Fetched, HttpClient, SharedBudget, join},
    tcgplayer::model::{CategoryRow, GroupRow, ProductPriceRow, ProductRow, parse_envelope},
    telemetry,
};

pub(crate) const SOURCE: &str = "tcgcsv";

/// A TCGCSV client.
#[derive(Debug)]
pub struct TcgcsvClient {
    http: HttpClient,
    base: String,
    budget: SharedBudget,
}

impl TcgcsvClient {
    pub fn new(config: &TcgcsvConfig) -> Result<Self, CollectorError> {
        if config.http.user_agent.trim().is_empty() {
            return Err(CollectorError::Config(
                "TCGCSV needs a custom User-Agent".into(),
            ));
        }
        Ok(TcgcsvClient {
            http: HttpClient::new(SOURCE, &config.http)?,
            base: config.base_url.clone(),
            budget: SharedBudget::per_day(SOURCE, config.daily_budget),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Requests left in today's budget.
    pub fn budget_remaining(&self) -> u32 {
        self.budget.remaining()
    }

    fn spend(&self) -> Result<(), CollectorError> {
        self.budget.spend()
    }

    async fn get(&self, op: &'static str, path: &str) -> Result<Fetched, CollectorError> {
        self.spend()?;
        self.http.get(op, &join(&self.base, path)).await
    }

    async fn get_rows<T: serde::de::DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
    ) -> Result<Vec<T>, CollectorError> {
        let fetched = self.get(op, path).await?;
        parse_envelope(SOURCE, &fetched.body)
            .map(|p| p.results)
            .inspect_err(|e| telemetry::error(SOURCE, e))
    }

    /// The text of `last-updated.txt` (trimmed), which changes once a day.
    pub async fn last_updated(&self) -> Result<String, CollectorError> {
        let fetched = self.get("last_updated", "last-updated.txt").await?;
        let text = std::str::from_utf8(&fetched.body)
            .map_err(|e| CollectorError::malformed_in(SOURCE, "last-updated.txt", e))?
            .trim()
            .to_owned();
        if text.is_empty() || text.len() > 100 {
            return Err(CollectorError::malformed_because(
                SOURCE,
                "last-updated.txt is empty or too long",
            ));
        }
        Ok(text)
    }

    pub async fn categories(&self) -> Result<Vec<CategoryRow>, CollectorError> {
        self.get_rows("categories", "tcgplayer/categories").await
    }

    pub async fn groups(&self, category_id: u32) -> Result<Vec<GroupRow>, CollectorError> {
        self.get_rows("groups", &format!("tcgplayer/{category_id}/groups"))
            .await
    }

    pub async fn products(
        &self,
        category_id: u32,
        group_id: u32,
    ) -> Result<Vec<ProductRow>, CollectorError> {
        self.get_rows(
            "products",
            &format!("tcgplayer/{category_id}/{group_id}/products"),
        )
        .await
    }

    pub async fn prices(
        &self,
        category_id: u32,
        group_id: u32,
    ) -> Result<Vec<ProductPriceRow>, CollectorError> {
        self.get_rows(
            "prices",
            &format!("tcgplayer/{category_id}/{group_id}/prices"),
        )
        .await
    }

    /// The archive of `date` (`YYYY-MM-DD`); `None` when there is none (404).
    pub async fn archive(&self, date: &str) -> Result<Option<bytes::Bytes>, CollectorError> {
        match self
            .get(
                "archive",
                &format!("archive/tcgplayer/prices-{date}.ppmd.7z"),
            )
            .await
        {
            Ok(f) => Ok(Some(f.body)),
            Err(CollectorError::Status { status: 404, .. }) => Ok(None),
            Err(e @ CollectorError::Status { status: 403, .. }) => {
                Err(CollectorError::ArchiveRefused {
                    day: date.to_owned(),
                    source: Box::new(e),
                })
            }
            Err(e) => Err(e),
        }
    }
}
