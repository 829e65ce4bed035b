//! [`TickStore`] on QuestDB: ticks through the ILP writer, reads over PGWire.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::NaiveDateTime;
use tcg_schemas::{Currency, Money, Printing, ProductId, SeriesKey, Tick, Timestamp};

use super::{ilp::*, sql::*, store::*};
use crate::{
    Result, StoreError, TickStore, interval::fill_candles, model::*, movers, valuation::PriceBook,
};
#[async_trait]
impl TickStore for QuestDbStore {
    fn backend(&self) -> &'static str {
        "questdb"
    }

    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport> {
        let ticks = ticks.to_vec();
        let n = ticks.len();
        self.writer
            .append(n, false, move |buf| {
                ticks.iter().try_for_each(|t| encode_tick(buf, t))
            })
            .await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn flush(&self) -> Result<()> {
        self.writer.flush().await
    }

    async fn sync(&self) -> Result<()> {
        self.writer.flush().await?;
        // What the sequencer has accepted by now (our flush included) must be applied: waiting
        // for that, not for writerTxn = sequencerTxn, also ends while other writers go on.
        let sql = sql_wal_state();
        let target: std::collections::HashMap<String, i64> =
            wal_states(&self.pg.query(&sql, &[]).await?)?
                .into_iter()
                .map(|w| (w.name, w.sequencer_txn))
                .collect();
        let deadline = Instant::now() + self.config.visibility_timeout;
        loop {
            let mut behind = Vec::new();
            for w in wal_states(&self.pg.query(&sql, &[]).await?)? {
                if w.suspended {
                    return Err(StoreError::WalSuspended {
                        table: w.name,
                        reason: w.error,
                    });
                }
                if target.get(&w.name).is_some_and(|t| w.writer_txn < *t) {
                    behind.push(w.name);
                }
            }
            if behind.is_empty() {
                // The daily view refreshes after the ticks are applied: wait for it too.
                let ticks = target.get("ticks").copied().unwrap_or(0);
                return self.view.wait_caught_up(&self.pg, ticks, deadline).await;
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Timeout(format!(
                    "WAL of {} not applied within {:?}",
                    behind.join(", "),
                    self.config.visibility_timeout
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>> {
        if series_ids.is_empty() {
            return Ok(Vec::new());
        }
        let params: Vec<Param> = series_ids.iter().map(|s| Param::Text(s.clone())).collect();
        let rows = self
            .query(&sql_latest(series_ids.len(), prices), &params)
            .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(LatestPrice {
                    series_id: r.try_get(0)?,
                    source: source_of(&r.try_get::<_, String>(1)?)?,
                    kind: kind_of(&r.try_get::<_, String>(2)?)?,
                    observed_at: from_naive(r.try_get(3)?),
                    listing_id: r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
                    price_usd: Money::usd_cents(r.try_get(5)?),
                    original: Money::new(
                        r.try_get(6)?,
                        Currency::parse(&r.try_get::<_, String>(7)?).map_err(corrupt)?,
                    ),
                    confidence: r
                        .try_get::<_, Option<i64>>(8)?
                        .and_then(|c| u8::try_from(c).ok()),
                    agreeing: crate::codes::sources_from_text(
                        r.try_get::<_, Option<String>>(9)?.as_deref(),
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Same order as the SQLite store: request order, then source and kind.
        out.sort_by_key(|l| {
            (
                series_ids.iter().position(|s| *s == l.series_id),
                l.source,
                l.kind,
            )
        });
        Ok(out)
    }

    async fn candles(&self, q: &CandleQuery) -> Result<Vec<SeriesCandles>> {
        if q.to <= q.from {
            return Err(StoreError::InvalidQuery("candles need from < to".into()));
        }
        let start = q.interval.floor(q.from);
        let split = self.view_split(q.interval, q.to).await?;
        let mut out = Vec::new();
        for (series, s, k) in self.combos_of(&q.target, &q.prices, q.to).await? {
            let p = [
                Param::Text(series.clone()),
                Param::Text(s.as_str().into()),
                Param::Text(k.as_str().into()),
            ];
            let (prev, buckets) = self.buckets(&p, q.interval, (start, q.to), split).await?;
            out.push(SeriesCandles {
                series_id: series,
                source: s,
                kind: k,
                candles: fill_candles(q.interval, q.from, q.to, &buckets, prev, q.fill),
            });
        }
        Ok(out)
    }

    async fn movers(&self, q: &MoversQuery) -> Result<Movers> {
        let in_set: Option<std::collections::HashSet<i64>> = match q.group_id {
            Some(g) => Some(
                self.query(&sql_set_products(), &[Param::Long(i64::from(g.0))])
                    .await?
                    .iter()
                    .map(|r| r.try_get::<_, i64>(0))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            None => None,
        };
        let mut rows = Vec::new();
        for r in self.query(&sql_movers(q), &[]).await? {
            let pid: i64 = r.try_get(1)?;
            if in_set.as_ref().is_some_and(|s| !s.contains(&pid)) {
                continue;
            }
            let (start, end): (i64, i64) = (r.try_get(5)?, r.try_get(7)?);
            rows.push(Mover {
                series_id: r.try_get(0)?,
                product_id: ProductId(pid as u64),
                source: source_of(&r.try_get::<_, String>(2)?)?,
                kind: kind_of(&r.try_get::<_, String>(3)?)?,
                start_usd: Money::usd_cents(start),
                start_at: from_naive(r.try_get(4)?),
                end_usd: Money::usd_cents(end),
                end_at: from_naive(r.try_get(6)?),
                change_bps: movers::change_bps(start, end),
            });
        }
        Ok(movers::rank(rows, q.limit, q.min_start_cents))
    }

    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>> {
        let target = SeriesTarget::Product {
            product_id,
            selection: SeriesSelection::default(),
        };
        let mut ids: Vec<String> = self
            .combos_of(
                &target,
                &PriceFilter::any(),
                Timestamp::from_secs(253_402_300_799),
            )
            .await?
            .into_iter()
            .map(|c| c.0)
            .collect();
        ids.dedup();
        Ok(ids)
    }

    async fn tcgplayer_printings(&self) -> Result<Vec<(ProductId, Printing)>> {
        let rows = self
            .query(
                "SELECT DISTINCT series FROM ticks WHERE source IN ('tcgplayer', 'tcgcsv')",
                &[],
            )
            .await?;
        let mut out: Vec<(ProductId, Printing)> = rows
            .iter()
            .filter_map(|r| r.try_get::<_, String>(0).ok())
            .filter_map(|id| match id.parse::<SeriesKey>() {
                Ok(SeriesKey::Sku {
                    product_id,
                    printing,
                    ..
                }) => Some((product_id, printing)),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn price_book(
        &self,
        series_ids: &[String],
        instants: &[Timestamp],
        price: &ValuationPrice,
    ) -> Result<PriceBook> {
        let mut book = PriceBook::default();
        if instants.is_empty() {
            return Ok(book);
        }
        if let Some(book) = self
            .day_end_book(series_ids, instants, &price.prices)
            .await?
        {
            return Ok(book);
        }
        let sql = sql_valuation_asof(instants, &price.prices);
        for id in series_ids {
            for r in self.query(&sql, &[Param::Text(id.clone())]).await? {
                let (Some(at), Some(c)) = (
                    r.try_get::<_, Option<NaiveDateTime>>(1)?,
                    r.try_get::<_, Option<i64>>(2)?,
                ) else {
                    continue;
                };
                book.insert(id, from_naive(at).as_micros(), c);
            }
        }
        book.seal();
        Ok(book)
    }
}
