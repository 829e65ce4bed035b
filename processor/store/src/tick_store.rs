//! The tick store: price ticks in, latest prices, candles, movers and price points out.

use async_trait::async_trait;
use tcg_schemas::{Printing, ProductId, Tick, Timestamp};

use crate::{
    Result,
    model::{
        CandleQuery, LatestPrice, Movers, MoversQuery, PriceFilter, SeriesCandles, ValuationPrice,
        WriteReport,
    },
    valuation::PriceBook,
};

/// Price data. Ticks are idempotent by [`Tick::key`]: a replayed tick changes nothing. Object
/// safe: use it as `Arc<dyn TickStore>`.
#[async_trait]
pub trait TickStore: Send + Sync + std::fmt::Debug {
    /// `"sqlite"` or `"questdb"`.
    fn backend(&self) -> &'static str;

    /// Stores ticks idempotently (identity: `Tick::key()`). Prices must be in USD.
    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport>;
    /// Makes every accepted write durable; an error means some rows are still pending (kept).
    async fn flush(&self) -> Result<()>;
    /// `flush`, then wait until the writes are visible to reads (QuestDB applies WAL asynchronously).
    async fn sync(&self) -> Result<()>;

    /// The newest price of each (series, source, kind) of the given series that passes `prices`.
    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>>;
    /// OHLC candles; buckets cover `[interval.floor(from), to)`.
    async fn candles(&self, query: &CandleQuery) -> Result<Vec<SeriesCandles>>;
    async fn movers(&self, query: &MoversQuery) -> Result<Movers>;
    /// The ids of every series of a product that has ticks (raw and graded), sorted.
    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>>;
    /// The printings TCGplayer (its API or TCGCSV) prices of each product: every (product,
    /// printing) of a raw series with a TCGplayer price, sorted. What the other markets' printings
    /// are checked against.
    async fn tcgplayer_printings(&self) -> Result<Vec<(ProductId, Printing)>>;
    /// For each of `series_ids` (raw series; graded and ungraded ticks of it count as the
    /// valuation's price filter says), at least the last price at or before each of `instants`:
    /// what [`PriceBook::at_or_before`] needs to value a holding at those instants.
    async fn price_book(
        &self,
        series_ids: &[String],
        instants: &[Timestamp],
        price: &ValuationPrice,
    ) -> Result<PriceBook>;
}
