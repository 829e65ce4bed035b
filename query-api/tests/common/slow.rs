//! A price store that can be made to hang (on `search_catalog`, `price_book`), counting the
//! reads that started and the ones whose futures were dropped unfinished.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use tcg_schemas::{CardSet, Game, Product, ProductId, Sku, Tick, Timestamp};
use tcg_store::{
    CandleQuery, CatalogPage, CatalogQuery, CatalogStore, LatestPrice, Movers, MoversQuery,
    PriceFilter, Result, SeriesCandles, SqliteStore, TickStore, ValuationPrice, WriteReport,
    valuation::PriceBook,
};

#[derive(Debug, Clone, Default)]
pub struct Switches {
    pub hang_search: Arc<AtomicBool>,
    pub hang_price_book: Arc<AtomicBool>,
    /// Hanging reads started, and hanging reads whose future was dropped.
    pub started: Arc<AtomicUsize>,
    pub dropped: Arc<AtomicUsize>,
}

impl Switches {
    pub fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone)]
pub struct SlowPrices {
    pub inner: SqliteStore,
    pub switches: Switches,
}

struct Unfinished(Arc<AtomicUsize>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl SlowPrices {
    async fn maybe_hang(&self, flag: &AtomicBool) {
        if flag.load(Ordering::SeqCst) {
            self.switches.started.fetch_add(1, Ordering::SeqCst);
            let guard = Unfinished(self.switches.dropped.clone());
            tokio::time::sleep(Duration::from_secs(3600)).await;
            std::mem::forget(guard);
        }
    }
}

#[async_trait]
impl TickStore for SlowPrices {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport> {
        self.inner.write_ticks(ticks).await
    }
    async fn flush(&self) -> Result<()> {
        self.inner.flush().await
    }
    async fn sync(&self) -> Result<()> {
        self.inner.sync().await
    }
    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>> {
        self.inner.latest_prices(series_ids, prices).await
    }
    async fn candles(&self, query: &CandleQuery) -> Result<Vec<SeriesCandles>> {
        self.inner.candles(query).await
    }
    async fn movers(&self, query: &MoversQuery) -> Result<Movers> {
        self.inner.movers(query).await
    }
    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>> {
        self.inner.product_series(product_id).await
    }
    async fn tcgplayer_printings(&self) -> Result<Vec<(ProductId, tcg_schemas::Printing)>> {
        self.inner.tcgplayer_printings().await
    }
    async fn price_book(
        &self,
        series_ids: &[String],
        instants: &[Timestamp],
        price: &ValuationPrice,
    ) -> Result<PriceBook> {
        self.maybe_hang(&self.switches.hang_price_book).await;
        self.inner.price_book(series_ids, instants, price).await
    }
}

#[async_trait]
impl CatalogStore for SlowPrices {
    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()> {
        self.inner.upsert_sets(sets).await
    }
    async fn upsert_products(&self, products: &[Product]) -> Result<()> {
        self.inner.upsert_products(products).await
    }
    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()> {
        self.inner.upsert_skus(skus).await
    }
    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage> {
        self.maybe_hang(&self.switches.hang_search).await;
        self.inner.search_catalog(query).await
    }
    async fn product(&self, product_id: ProductId) -> Result<Option<Product>> {
        self.inner.product(product_id).await
    }
    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>> {
        self.inner.sets(game).await
    }
    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>> {
        self.inner.skus(product_id).await
    }
}
