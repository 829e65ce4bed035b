//! The SQLite store's daily rollup equals the candles computed from the raw ticks: random ticks
//! (several series, sources and listings, duplicates) written in a random order in random
//! batches, read back at every interval (days from the rollup, weeks and months merged from
//! days, hours and another width from the raw ticks), every fill mode, and ranges whose `to`
//! cuts a bucket.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use tcg_schemas::{
    Condition, Currency, Game, Language, Money, PriceKind, Printing, ProductId, SeriesKey, Source,
    Tick, Timestamp,
};
use tcg_store::{
    CandleQuery, FillMode, Interval, PriceFilter, SeriesTarget, SqliteStore,
    interval::{aggregate, fill_candles},
    prelude::*,
};

const DAY: i64 = 86_400;
/// 2024-04-29T00:00:00Z, a Monday.
const T0: i64 = 1_714_348_800;
const SOURCES: [Source; 2] = [Source::Tcgplayer, Source::EbayBrowse];

fn series(i: u8) -> SeriesKey {
    SeriesKey::Sku {
        product_id: ProductId(1 + u64::from(i)),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
    }
}

/// (series, source, seconds after T0, listing, cents)
type Spec = (u8, u8, i64, u8, i64);

fn tick(&(s, src, at, listing, cents): &Spec) -> Tick {
    let key = series(s);
    Tick {
        series_id: key.id(),
        series: key,
        game: Game::Pokemon,
        source: SOURCES[usize::from(src)],
        kind: PriceKind::Market,
        observed_at: Timestamp::from_secs(T0 + at),
        price_usd: Money::usd_cents(cents),
        original: Money::new(cents, Currency::USD),
        shipping: None,
        listing_id: (listing > 0).then(|| format!("v1|{listing}|0")),
        confidence: None,
        agreeing: Vec::new(),
        heartbeat: false,
    }
}

/// The raw points of one (series, source) in the order the store reads ticks: (ts, listing).
/// A duplicate (same instant and listing) is the tick written first, as the store keeps it.
fn raw_points(written: &[Tick], series_id: &str, source: Source) -> Vec<(i64, i64)> {
    let mut kept: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for t in written
        .iter()
        .filter(|t| t.series_id == series_id && t.source == source)
    {
        kept.entry((
            t.observed_at.as_micros(),
            t.listing_id.clone().unwrap_or_default(),
        ))
        .or_insert(t.price_usd.minor);
    }
    kept.into_iter().map(|((ts, _), c)| (ts, c)).collect()
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(
        (0u8..2, 0u8..2, 0i64..70 * DAY, 0u8..3, 1i64..100_000),
        1..120,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn rollups_equal_candles_from_raw_ticks(
        specs in specs(),
        duplicates in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        order in any::<u64>(),
        batch in 1usize..40,
        cuts in prop::collection::vec((0i64..70 * DAY, 1i64..80 * DAY), 3),
    ) {
        let mut written: Vec<Tick> = specs.iter().map(tick).collect();
        for d in &duplicates {
            let again = written[d.index(written.len())].clone();
            written.push(again);
        }
        // late ticks: a random order, written in batches
        let mut order_key: Vec<(u64, usize)> = (0..written.len())
            .map(|i| ((i as u64 ^ order).wrapping_mul(0x9e37_79b9_7f4a_7c15), i))
            .collect();
        order_key.sort_unstable();
        let shuffled: Vec<Tick> = order_key.iter().map(|(_, i)| written[*i].clone()).collect();

        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            for chunk in shuffled.chunks(batch) {
                store.write_ticks(chunk).await.unwrap();
            }
        });

        let intervals = [
            Interval::HOUR,
            Interval::DAY,
            Interval::Week,
            Interval::Month,
            Interval::Seconds(7200),
        ];
        for s in 0..2u8 {
            let id = series(s).id();
            for source in SOURCES {
                let points = raw_points(&shuffled, &id, source);
                if points.is_empty() {
                    continue;
                }
                for &(from_off, len) in &cuts {
                    let from = Timestamp::from_secs(T0 + from_off - 3 * DAY);
                    // `to` anywhere (often cutting a bucket)
                    let to = Timestamp::from_secs(T0 + from_off - 3 * DAY + len);
                    for interval in intervals {
                        if interval.buckets(from, to).len() > 3000 {
                            continue;
                        }
                        for fill in [FillMode::PreviousClose, FillMode::Empty] {
                            let start = interval.floor(from).as_micros();
                            let prev = points
                                .iter()
                                .rfind(|(ts, _)| *ts < start)
                                .map(|p| p.1);
                            let inside = points
                                .iter()
                                .copied()
                                .filter(|(ts, _)| *ts >= start && *ts < to.as_micros());
                            let want = fill_candles(
                                interval, from, to, &aggregate(interval, inside), prev, fill,
                            );
                            let got = rt.block_on(store.candles(&CandleQuery {
                                target: SeriesTarget::Series(id.clone()),
                                prices: PriceFilter::only(source, PriceKind::Market),
                                interval,
                                from,
                                to,
                                fill,
                            }))
                            .unwrap();
                            prop_assert_eq!(got.len(), 1);
                            prop_assert_eq!(
                                &got[0].candles,
                                &want,
                                "{} {:?} {:?} {} .. {}",
                                id,
                                source,
                                interval,
                                from,
                                to
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_store_written_before_the_rollups_is_rolled_up_when_it_opens() {
    // The migration rolls up the ticks already there: write ticks, drop the rollup rows as an
    // older file would have none, run the migration's SQL again, and read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let ticks: Vec<Tick> = (0..50)
        .map(|i| tick(&(0, 0, i * 3 * 3600 + 7, (i % 3) as u8, 1_000 + i * 10)))
        .collect();
    let store = SqliteStore::open(&path).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(store.write_ticks(&ticks)).unwrap();
    let read = |store: &SqliteStore| {
        rt.block_on(store.candles(&CandleQuery {
            target: SeriesTarget::Series(series(0).id()),
            prices: PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
            interval: Interval::DAY,
            from: Timestamp::from_secs(T0),
            to: Timestamp::from_secs(T0 + 8 * DAY),
            fill: FillMode::Empty,
        }))
        .unwrap()
    };
    let before = read(&store);
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        // Back to version 3: later migrations' tables and columns go too (they run again).
        conn.execute_batch(
            "DROP TABLE candles_1d; ALTER TABLE ticks DROP COLUMN agreeing; \
             ALTER TABLE latest DROP COLUMN confidence; ALTER TABLE latest DROP COLUMN agreeing; \
             DROP TRIGGER holdings_raise_revision_on_insert; \
             DROP TRIGGER holdings_raise_revision_on_update; \
             DROP TRIGGER holdings_raise_revision_on_delete; \
             DROP TRIGGER portfolio_events_raise_revision_on_insert; \
             DROP TRIGGER portfolio_events_raise_revision_on_update; \
             DROP TRIGGER portfolio_events_raise_revision_on_delete; \
             ALTER TABLE portfolios DROP COLUMN revision; \
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(read(&reopened), before);
    assert!(before[0].candles.iter().any(|c| c.count > 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A valuation at day ends reads the days' closes from the rollup: the price it finds at
    /// each day's end is the last tick at or before it (ticks at distinct instants here; at one
    /// instant the rollup's close is the last listing's).
    #[test]
    fn day_end_valuations_find_the_last_tick_of_each_day(
        specs in specs(),
        batch in 1usize..40,
        first_day in -3i64..60,
        days in 1i64..30,
    ) {
        // distinct instants: the spec's index is added in microseconds
        let written: Vec<Tick> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut t = tick(s);
                t.observed_at = Timestamp::from_micros(t.observed_at.as_micros() + i as i64);
                t
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            for chunk in written.chunks(batch) {
                store.write_ticks(chunk).await.unwrap();
            }
        });
        let instants: Vec<Timestamp> = (0..days)
            .map(|d| Timestamp::from_micros((T0 + (first_day + d + 1) * DAY) * 1_000_000 - 1))
            .collect();
        let ids: Vec<String> = (0..2u8).map(|s| series(s).id()).collect();
        let book = rt
            .block_on(store.price_book(&ids, &instants, &tcg_store::ValuationPrice::default()))
            .unwrap();
        for id in &ids {
            for t in &instants {
                let want = written
                    .iter()
                    .filter(|w| w.series_id == *id && w.observed_at <= *t)
                    .max_by_key(|w| w.observed_at)
                    .map(|w| w.price_usd.minor);
                prop_assert_eq!(book.at_or_before(id, t.as_micros()).map(|p| p.1), want, "{} at {}", id, t);
            }
        }
    }
}
