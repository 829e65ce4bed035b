//! [`TickStore`] on SQLite: writes through the one writer, reads on the reader pool.

use async_trait::async_trait;
use tcg_schemas::{Printing, ProductId, Tick, Timestamp};

use super::{SqliteStore, TickRow, price_reads, tick_rows::write_rows, to_i64, to_u64};
use crate::{Result, TickStore, codes::source_code, model::*, valuation::PriceBook};

#[async_trait]
impl TickStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport> {
        if ticks.is_empty() {
            return Ok(WriteReport::default());
        }
        let rows = ticks
            .iter()
            .map(TickRow::from_tick)
            .collect::<Result<Vec<_>>>()?;
        self.write(move |w| write_rows(w, &rows)).await
    }

    async fn flush(&self) -> Result<()> {
        Ok(())
    }

    async fn sync(&self) -> Result<()> {
        Ok(())
    }

    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>> {
        let (ids, prices) = (series_ids.to_vec(), prices.clone());
        self.read(move |c| price_reads::latest_blocking(c, &ids, &prices))
            .await
    }

    async fn candles(&self, query: &CandleQuery) -> Result<Vec<SeriesCandles>> {
        let q = query.clone();
        self.read(move |c| price_reads::candles_blocking(c, &q))
            .await
    }

    async fn movers(&self, query: &MoversQuery) -> Result<Movers> {
        let q = query.clone();
        self.read(move |c| price_reads::movers_blocking(c, &q))
            .await
    }

    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT series_id FROM series WHERE product_id = ?1 ORDER BY series_id",
            )?
            .query_map([to_i64(product_id.0)], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn tcgplayer_printings(&self) -> Result<Vec<(ProductId, Printing)>> {
        let tcgplayer = [
            source_code(tcg_schemas::Source::Tcgplayer),
            source_code(tcg_schemas::Source::Tcgcsv),
        ];
        self.read(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT DISTINCT s.product_id, s.printing FROM series s JOIN latest l ON l.sid = s.sid
                     WHERE s.graded = 0 AND l.source IN (?1, ?2) ORDER BY s.product_id, s.printing",
                )?
                .query_map(tcgplayer, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .filter_map(|(p, printing)| {
                    Some((ProductId(to_u64(p)), Printing::parse(&printing?)))
                })
                .collect())
        })
        .await
    }

    async fn price_book(
        &self,
        series_ids: &[String],
        instants: &[Timestamp],
        price: &ValuationPrice,
    ) -> Result<PriceBook> {
        let (Some(from), Some(to)) = (instants.iter().min(), instants.iter().max()) else {
            return Ok(PriceBook::default());
        };
        let (ids, price) = (series_ids.to_vec(), price.clone());
        let (from, to) = (from.as_micros(), to.as_micros());
        let days = crate::interval::all_day_ends(instants.iter().copied());
        self.read(move |c| price_reads::price_book(c, &ids, (from, to), &price, days))
            .await
    }
}
