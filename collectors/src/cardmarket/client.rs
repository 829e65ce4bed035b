//! Fetches Cardmarket's published files (static objects on S3: no credentials, no quota; a file
//! not published answers S3's `403 AccessDenied` XML, a throttled request `503 SlowDown`).

use serde::de::DeserializeOwned;

use super::{
    CardmarketConfig,
    model::{PriceGuideFile, ProductListFile},
};
use crate::{
    CollectorError,
    http::{HttpClient, join},
    telemetry,
};

pub(crate) const SOURCE: &str = "cardmarket";

/// The two product lists of a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductList {
    /// `products_singles_{game}.json`: cards.
    Singles,
    /// `products_nonsingles_{game}.json`: sealed products and accessories.
    Nonsingles,
}

impl ProductList {
    pub fn file(self) -> &'static str {
        match self {
            ProductList::Singles => "products_singles",
            ProductList::Nonsingles => "products_nonsingles",
        }
    }
}

/// A Cardmarket downloads client.
#[derive(Debug)]
pub struct CardmarketClient {
    http: HttpClient,
    base: String,
}

/// Parses one of Cardmarket's JSON files, naming the file when it is not one.
pub fn parse_file<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, CollectorError> {
    serde_json::from_slice(body).map_err(|e| CollectorError::malformed_in(SOURCE, what, e))
}

impl CardmarketClient {
    pub fn new(config: &CardmarketConfig) -> Result<Self, CollectorError> {
        Ok(CardmarketClient {
            http: HttpClient::new(SOURCE, &config.http)?,
            base: config.base_url.clone(),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    async fn file<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
    ) -> Result<T, CollectorError> {
        let fetched = self.http.get(op, &join(&self.base, path)).await?;
        parse_file(path, &fetched.body).inspect_err(|e| telemetry::error(SOURCE, e))
    }

    /// The game's price guide (`productCatalog/priceGuide/price_guide_{game}.json`).
    pub async fn price_guide(&self, game: u32) -> Result<PriceGuideFile, CollectorError> {
        self.file(
            "price_guide",
            &format!("productCatalog/priceGuide/price_guide_{game}.json"),
        )
        .await
    }

    /// One of the game's product lists (`productCatalog/productList/{list}_{game}.json`).
    pub async fn products(
        &self,
        game: u32,
        list: ProductList,
    ) -> Result<ProductListFile, CollectorError> {
        self.file(
            "product_list",
            &format!("productCatalog/productList/{}_{game}.json", list.file()),
        )
        .await
    }
}
