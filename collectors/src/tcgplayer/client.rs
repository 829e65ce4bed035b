//! The TCGplayer API client: a cached client-credentials token (refreshed before expiry and once
//! on a 401), paged catalog calls, and pricing by product and by SKU in batches.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use serde::{Deserialize, de::DeserializeOwned};
use tokio::{sync::Mutex, time::Instant};

use super::{
    TcgplayerConfig,
    model::{
        CategoryRow, GroupRow, Page, PrintingRow, ProductPriceRow, ProductRow, SkuPriceRow, SkuRow,
        parse_envelope,
    },
};
use crate::{
    CollectorError,
    http::{HttpClient, join},
    telemetry,
};

pub(crate) const SOURCE: &str = "tcgplayer";

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug, Clone)]
struct CachedToken {
    value: String,
    refresh_at: Instant,
}

/// When to refresh a token living `expires_in`: a tenth of its life early, at most an hour.
pub(crate) fn refresh_margin(expires_in: Duration) -> Duration {
    (expires_in / 10).min(Duration::from_secs(3600))
}

/// A TCGplayer API client.
#[derive(Debug)]
pub struct TcgplayerClient {
    http: HttpClient,
    api_base: String,
    token_url: String,
    client_id: String,
    client_secret: String,
    page_size: u32,
    token: Mutex<Option<CachedToken>>,
    mints: AtomicU64,
}

impl TcgplayerClient {
    pub fn new(config: &TcgplayerConfig) -> Result<Self, CollectorError> {
        let http = HttpClient::new(SOURCE, &config.http)?;
        let api_base = if config.api_version.is_empty() {
            config.base_url.trim_end_matches('/').to_owned()
        } else {
            join(&config.base_url, &config.api_version)
        };
        Ok(TcgplayerClient {
            http,
            api_base,
            token_url: join(&config.base_url, "token"),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            page_size: config.page_size.clamp(1, 100),
            token: Mutex::new(None),
            mints: AtomicU64::new(0),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Tokens minted so far by this client.
    pub fn tokens_minted(&self) -> u64 {
        self.mints.load(Ordering::Relaxed)
    }

    /// A valid bearer token, minting one when none is cached or the cached one is due.
    pub async fn token(&self) -> Result<String, CollectorError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
        ];
        let fetched = self
            .http
            .send("token", |c| c.post(&self.token_url).form(&form))
            .await
            .map_err(|e| match e {
                CollectorError::Status { status, .. } if status == 400 || status == 401 => {
                    CollectorError::Auth {
                        source_name: SOURCE,
                        message: format!("token endpoint answered {status}"),
                    }
                }
                other => other,
            })?;
        let answer: TokenAnswer = serde_json::from_slice(&fetched.body)
            .map_err(|e| CollectorError::malformed(SOURCE, format!("token: {e}")))?;
        let life = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        self.mints.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(telemetry::TOKEN_MINTS, "source" => SOURCE).increment(1);
        tracing::info!(
            source = SOURCE,
            expires_in_s = life.as_secs(),
            "minted token"
        );
        let token = CachedToken {
            value: answer.access_token,
            refresh_at: Instant::now() + life - refresh_margin(life),
        };
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    async fn forget_token(&self, value: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == value) {
            *cached = None;
        }
    }

    /// GET an API path (after the version prefix) with the token; on a 401 the token is dropped,
    /// a new one minted and the call made once more.
    async fn get_page<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Page<T>, CollectorError> {
        let url = join(&self.api_base, path);
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            let auth = format!("bearer {token}");
            let result = self
                .http
                .send(op, |c| {
                    c.get(&url)
                        .query(query)
                        .header(reqwest::header::AUTHORIZATION, &auth)
                        .header(reqwest::header::ACCEPT, "application/json")
                })
                .await;
            match result {
                Ok(fetched) => {
                    return parse_envelope(SOURCE, &fetched.body).inspect_err(|e| {
                        telemetry::error(SOURCE, e);
                    });
                }
                Err(CollectorError::Status { status: 401, .. }) if !refreshed => {
                    tracing::info!(source = SOURCE, "401: refreshing token once");
                    self.forget_token(&token).await;
                    refreshed = true;
                }
                Err(CollectorError::Status {
                    status: 401, url, ..
                }) => {
                    return Err(CollectorError::Auth {
                        source_name: SOURCE,
                        message: format!("401 from {url} with a fresh token"),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Pages through a catalog listing (`limit` ≤ 100, `offset`) until `totalItems`.
    async fn get_all<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, CollectorError> {
        let mut out = Vec::new();
        let mut offset: u64 = 0;
        loop {
            let mut q = query.to_vec();
            q.push(("limit", self.page_size.to_string()));
            q.push(("offset", offset.to_string()));
            let page: Page<T> = self.get_page(op, path, &q).await?;
            let n = page.results.len() as u64;
            out.extend(page.results);
            offset += n;
            let more = page
                .total_items
                .map_or(n == u64::from(self.page_size), |t| offset < t);
            if n == 0 || !more {
                return Ok(out);
            }
        }
    }

    pub async fn categories(&self) -> Result<Vec<CategoryRow>, CollectorError> {
        self.get_all("categories", "catalog/categories", &[]).await
    }

    pub async fn groups(&self, category_id: u32) -> Result<Vec<GroupRow>, CollectorError> {
        self.get_all(
            "groups",
            &format!("catalog/categories/{category_id}/groups"),
            &[],
        )
        .await
    }

    pub async fn printings(&self, category_id: u32) -> Result<Vec<PrintingRow>, CollectorError> {
        self.get_page(
            "printings",
            &format!("catalog/categories/{category_id}/printings"),
            &[],
        )
        .await
        .map(|p| p.results)
    }

    /// The products of a group, with extended fields and SKUs.
    pub async fn products(
        &self,
        category_id: u32,
        group_id: u32,
    ) -> Result<Vec<ProductRow>, CollectorError> {
        self.get_all(
            "products",
            "catalog/products",
            &[
                ("categoryId", category_id.to_string()),
                ("groupId", group_id.to_string()),
                ("getExtendedFields", "true".into()),
                ("includeSkus", "true".into()),
            ],
        )
        .await
    }

    pub async fn product_skus(&self, product_id: u64) -> Result<Vec<SkuRow>, CollectorError> {
        self.get_page("skus", &format!("catalog/products/{product_id}/skus"), &[])
            .await
            .map(|p| p.results)
    }

    /// Prices of up to 250 products.
    pub async fn product_prices(
        &self,
        ids: &[u64],
    ) -> Result<Vec<ProductPriceRow>, CollectorError> {
        self.get_page(
            "pricing_product",
            &format!("pricing/product/{}", join_ids(ids)),
            &[],
        )
        .await
        .map(|p| p.results)
    }

    /// Prices of every product of a group (one call).
    pub async fn group_prices(
        &self,
        group_id: u32,
    ) -> Result<Vec<ProductPriceRow>, CollectorError> {
        self.get_page("pricing_group", &format!("pricing/group/{group_id}"), &[])
            .await
            .map(|p| p.results)
    }

    /// Prices of up to 250 SKUs.
    pub async fn sku_prices(&self, ids: &[u64]) -> Result<Vec<SkuPriceRow>, CollectorError> {
        self.get_page(
            "pricing_sku",
            &format!("pricing/sku/{}", join_ids(ids)),
            &[],
        )
        .await
        .map(|p| p.results)
    }
}

fn join_ids(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_a_tenth_early_at_most_an_hour() {
        assert_eq!(
            refresh_margin(Duration::from_secs(100)),
            Duration::from_secs(10)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(14 * 86_400)),
            Duration::from_secs(3600)
        );
        assert_eq!(join_ids(&[1, 2, 3]), "1,2,3");
    }
}
