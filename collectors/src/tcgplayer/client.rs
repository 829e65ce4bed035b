//! The TCGplayer API client: a client-credentials token (the shared [`TokenCache`]: refreshed
//! before expiry and once on a 401), paged catalog calls, and pricing by product and by SKU in
//! batches.

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{
    TcgplayerConfig,
    model::{
        CategoryRow, GroupRow, Page, PrintingRow, ProductPriceRow, ProductRow, SkuPriceRow, SkuRow,
        parse_envelope,
    },
};
use crate::{
    CollectorError,
    http::{HttpClient, Minted, TokenCache, join, mint_client_credentials},
    telemetry,
};

pub(crate) const SOURCE: &str = "tcgplayer";

/// A token is refreshed a tenth of its life early, at most this much.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(3600);
/// The life of a token whose answer does not say.
const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(3600);

/// A TCGplayer API client.
#[derive(Debug)]
pub struct TcgplayerClient {
    http: HttpClient,
    api_base: String,
    token_url: String,
    client_id: String,
    client_secret: String,
    page_size: u32,
    token: TokenCache,
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
            token: TokenCache::new(SOURCE, MAX_REFRESH_MARGIN),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Tokens minted so far by this client.
    pub fn tokens_minted(&self) -> u64 {
        self.token.minted()
    }

    /// A valid bearer token, minting one when none is cached or the cached one is due.
    pub async fn token(&self) -> Result<String, CollectorError> {
        self.token.get(|| self.mint()).await
    }

    /// `POST /token` with the client credentials as a form.
    async fn mint(&self) -> Result<Minted, CollectorError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
        ];
        mint_client_credentials(&self.http, DEFAULT_TOKEN_LIFE, |c| {
            c.post(&self.token_url).form(&form)
        })
        .await
    }

    /// GET an API path (after the version prefix) with the token; on a 401 the token is dropped,
    /// a new one minted and the call made once more.
    async fn get_page<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Page<T>, CollectorError> {
        let url = &join(&self.api_base, path);
        let fetched = self
            .token
            .authorized(
                || self.mint(),
                |token| async move {
                    let auth = format!("bearer {token}");
                    self.http
                        .send(op, |c| {
                            c.get(url)
                                .query(query)
                                .header(reqwest::header::AUTHORIZATION, &auth)
                                .header(reqwest::header::ACCEPT, "application/json")
                        })
                        .await
                },
            )
            .await?;
        parse_envelope(SOURCE, &fetched.body).inspect_err(|e| telemetry::error(SOURCE, e))
    }

    /// Pages through a catalog listing (`limit` ≤ 100, `offset`) until `totalItems`.
    async fn get_all<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, CollectorError> {
        match self.get_all_partial(op, path, query).await {
            (rows, None) => Ok(rows),
            (_, Some(e)) => Err(e),
        }
    }

    /// Pages through a catalog listing, keeping the pages read before one failed: the rows,
    /// and the error that stopped the paging (if any).
    async fn get_all_partial<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> (Vec<T>, Option<CollectorError>) {
        let mut out = Vec::new();
        let mut offset: u64 = 0;
        loop {
            let mut q = query.to_vec();
            q.push(("limit", self.page_size.to_string()));
            q.push(("offset", offset.to_string()));
            let page: Page<T> = match self.get_page(op, path, &q).await {
                Ok(page) => page,
                Err(e) => return (out, Some(e)),
            };
            let n = page.results.len() as u64;
            out.extend(page.results);
            offset += n;
            let more = page
                .total_items
                .map_or(n == u64::from(self.page_size), |t| offset < t);
            if n == 0 || !more {
                return (out, None);
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
        match self.products_partial(category_id, group_id).await {
            (rows, None) => Ok(rows),
            (_, Some(e)) => Err(e),
        }
    }

    /// The products of a group as far as they could be read: the pages before a failed one,
    /// and that failure.
    pub async fn products_partial(
        &self,
        category_id: u32,
        group_id: u32,
    ) -> (Vec<ProductRow>, Option<CollectorError>) {
        self.get_all_partial(
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

    use crate::http::token::refresh_margin;

    #[test]
    fn refreshes_a_tenth_early_at_most_an_hour() {
        assert_eq!(
            refresh_margin(Duration::from_secs(100), MAX_REFRESH_MARGIN),
            Duration::from_secs(10)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(14 * 86_400), MAX_REFRESH_MARGIN),
            Duration::from_secs(3600)
        );
        assert_eq!(join_ids(&[1, 2, 3]), "1,2,3");
    }
}
