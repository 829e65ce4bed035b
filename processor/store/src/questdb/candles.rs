//! Candles and day-end prices on QuestDB: whole days from the daily view (see [`super::rollups`])
//! where it serves the read and has caught up, everything else from the ticks.

use tcg_schemas::Timestamp;

use super::{rollups, sql::*, store::*};
use crate::{Interval, Result, interval::RawBucket, model::PriceFilter, valuation::PriceBook};

/// The binds of one (series, source, kind).
pub(super) type Combo = [Param; 3];

impl QuestDbStore {
    /// Whether reads take whole days from the daily view now: false until it has caught up with
    /// the ticks there were when the store connected, while QuestDB reports it invalid, and
    /// when [`super::QuestDbConfig::rollups`] is off.
    pub async fn reads_view(&self) -> Result<bool> {
        Ok(self.config.rollups && self.view.ready(&self.pg).await?)
    }

    /// Where a read of `interval` up to `to` splits between the view and the ticks, when the
    /// view serves it now (`None`: all from the ticks).
    pub(super) async fn view_split(
        &self,
        interval: Interval,
        to: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let Some(split) = rollups::split(interval, to) else {
            return Ok(None);
        };
        Ok(self.reads_view().await?.then_some(split))
    }

    /// The last price before `start` and the non-empty buckets of `[start, to)` of one (series,
    /// source, kind): whole days up to `split` from the view (merged into weeks or months), the
    /// rest from the ticks; all from the ticks without a split.
    pub(super) async fn buckets(
        &self,
        p: &Combo,
        interval: Interval,
        (start, to): (Timestamp, Timestamp),
        split: Option<Timestamp>,
    ) -> Result<(Option<i64>, Vec<RawBucket>)> {
        let ts = |t: Timestamp| Param::Ts(naive(t));
        let [a, b, c] = p.clone();
        let (prev_sql, prev_p, sql, p, width) = match split {
            Some(split) => (
                rollups::SQL_PREV_CLOSE.to_owned(),
                vec![a.clone(), b.clone(), c.clone(), ts(start)],
                rollups::SQL_DAYS.to_owned(),
                vec![a, b, c, ts(start), ts(split), ts(to)],
                Interval::DAY,
            ),
            None => (
                sql_prev_close(start),
                p.to_vec(),
                sql_candles(interval, start, to),
                p.to_vec(),
                interval,
            ),
        };
        let prev = self
            .query(&prev_sql, &prev_p)
            .await?
            .first()
            .map(|r| r.try_get::<_, i64>(1))
            .transpose()?;
        let mut buckets = Vec::new();
        for r in self.query(&sql, &p).await? {
            buckets.extend(rollups::bucket(&r, width)?);
        }
        if width == interval {
            return Ok((prev, buckets));
        }
        buckets.sort_by_key(|b| b.start);
        Ok((prev, crate::interval::merge(interval, buckets)))
    }

    /// The day-end prices of `series_ids` from the view, when every instant is a day's end and
    /// the view serves (`None`: read them from the ticks).
    pub(super) async fn day_end_book(
        &self,
        series_ids: &[String],
        instants: &[Timestamp],
        prices: &PriceFilter,
    ) -> Result<Option<PriceBook>> {
        let Some(last) = instants.iter().max() else {
            return Ok(None);
        };
        if !crate::interval::all_day_ends(instants.iter().copied()) || !self.reads_view().await? {
            return Ok(None);
        }
        // Days up to the last instant's day: each day's close is the last price at its end.
        let sql = rollups::sql_day_closes(prices);
        let end = Param::Ts(naive(Timestamp::from_micros(last.as_micros() + 1)));
        let mut book = PriceBook::default();
        for id in series_ids {
            for r in self
                .query(&sql, &[Param::Text(id.clone()), end.clone()])
                .await?
            {
                book.insert(id, from_naive(r.try_get(0)?).as_micros(), r.try_get(1)?);
            }
        }
        book.seal();
        Ok(Some(book))
    }
}
