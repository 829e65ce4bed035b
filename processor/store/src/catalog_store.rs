//! The catalog: sets, products and SKUs as TCGplayer (and the other markets) list them.

use async_trait::async_trait;
use tcg_schemas::{CardSet, Game, Product, ProductId, Sku};

use crate::{
    Result,
    model::{CatalogPage, CatalogQuery},
};

/// Catalog writes are upserts (last write wins). Object safe.
#[async_trait]
pub trait CatalogStore: Send + Sync + std::fmt::Debug {
    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()>;
    async fn upsert_products(&self, products: &[Product]) -> Result<()>;
    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()>;

    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage>;
    async fn product(&self, product_id: ProductId) -> Result<Option<Product>>;
    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>>;
    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>>;
}
