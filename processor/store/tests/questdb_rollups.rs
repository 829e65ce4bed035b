//! The QuestDB store's daily view (`candles_1d`) gives the candles computed from the raw ticks,
//! on a real QuestDB: random ticks (several series, sources and listings, duplicates) written in
//! a random order in random batches, each batch its own commit (late ticks land in days the view
//! has already rolled up), read back at every interval (days from the view, weeks and months
//! merged from its days, hours and another width from the ticks), both fill modes, and ranges
//! whose `to` cuts a bucket. Each answer is checked against candles aggregated from the ticks
//! written and against the same store reading every candle from the ticks
//! (`QuestDbConfig::rollups = false`); day-end valuations likewise.
//!
//! Also: ticks at one instant from several listings (QuestDB's order of them is its storage
//! order, the same for the view and the ticks), a database whose ticks predate the view (the
//! view is built at start and read once it has caught up), and a view QuestDB invalidated
//! (rebuilt by the next sync).

#![allow(clippy::unwrap_used)] // tests may unwrap

mod support;

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU64, Ordering},
};

use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use support::TestQuestDb;
use tcg_schemas::{
    Condition, Currency, Game, Language, Money, PriceKind, Printing, ProductId, SeriesKey, Source,
    Tick, Timestamp,
};
use tcg_store::{
    CandleQuery, FillMode, Interval, PriceFilter, QuestDbStore, SeriesTarget, ValuationPrice,
    interval::{aggregate, fill_candles},
    prelude::*,
};

const DAY: i64 = 86_400;
/// 2024-04-29T00:00:00Z, a Monday.
const T0: i64 = 1_714_348_800;
const SOURCES: [Source; 2] = [Source::Tcgplayer, Source::EbayBrowse];
const INTERVALS: [Interval; 5] = [
    Interval::HOUR,
    Interval::DAY,
    Interval::Week,
    Interval::Month,
    Interval::Seconds(7200),
];

/// A base for the product ids of one case, so that cases (and runs on a shared server) never
/// share a series.
fn case_base() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    5_000_000 + (nanos % 1_000_000) * 1_000 + NEXT.fetch_add(1, Ordering::Relaxed) * 10
}

fn series(base: u64, i: u8) -> SeriesKey {
    SeriesKey::Sku {
        product_id: ProductId(base + u64::from(i)),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
    }
}

/// (series, source, seconds after T0, listing, cents)
type Spec = (u8, u8, i64, u8, i64);

/// A tick of the spec. Listings are `listing` microseconds apart, so two listings never share
/// an instant (the order of one instant's listings is QuestDB's own: see
/// `one_instants_listings_read_alike`).
fn tick(base: u64, &(s, src, at, listing, cents): &Spec) -> Tick {
    let key = series(base, s);
    Tick {
        series_id: key.id(),
        series: key,
        game: Game::Pokemon,
        source: SOURCES[usize::from(src)],
        kind: PriceKind::Market,
        observed_at: Timestamp::from_micros((T0 + at) * 1_000_000 + i64::from(listing)),
        price_usd: Money::usd_cents(cents),
        original: Money::new(cents, Currency::USD),
        shipping: None,
        listing_id: (listing > 0).then(|| format!("v1|{listing}|0")),
        confidence: None,
        agreeing: Vec::new(),
        heartbeat: false,
    }
}

/// The raw points of one (series, source) in time order, one per tick key.
fn raw_points(written: &[Tick], series_id: &str, source: Source) -> Vec<(i64, i64)> {
    let mut kept: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for t in written
        .iter()
        .filter(|t| t.series_id == series_id && t.source == source)
    {
        kept.insert(
            (
                t.observed_at.as_micros(),
                t.listing_id.clone().unwrap_or_default(),
            ),
            t.price_usd.minor,
        );
    }
    kept.into_iter().map(|((ts, _), c)| (ts, c)).collect()
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(
        (0u8..2, 0u8..2, 0i64..70 * DAY, 0u8..3, 1i64..100_000),
        1..120,
    )
}

/// Two stores on one server: one reads days from the view, the other every candle from the
/// ticks.
struct Stores {
    view: QuestDbStore,
    raw: QuestDbStore,
}

async fn stores(db: &TestQuestDb) -> Stores {
    let mut c = db.config();
    c.max_age = std::time::Duration::from_secs(3600);
    c.visibility_timeout = std::time::Duration::from_secs(120);
    let view = QuestDbStore::connect(c.clone()).await.unwrap();
    c.rollups = false;
    let raw = QuestDbStore::connect(c).await.unwrap();
    Stores { view, raw }
}

fn query(
    id: &str,
    source: Source,
    interval: Interval,
    (from, to): (Timestamp, Timestamp),
    fill: FillMode,
) -> CandleQuery {
    CandleQuery {
        target: SeriesTarget::Series(id.to_owned()),
        prices: PriceFilter::only(source, PriceKind::Market),
        interval,
        from,
        to,
        fill,
    }
}

/// Every interval and fill over `[from, to)` of one (series, source): the view's answer, the
/// ticks' answer, and the candles aggregated from `points`, all equal.
async fn check_range(
    s: &Stores,
    id: &str,
    source: Source,
    points: &[(i64, i64)],
    (from, to): (Timestamp, Timestamp),
) -> Result<(), TestCaseError> {
    for interval in INTERVALS {
        if interval.buckets(from, to).len() > 3000 {
            continue;
        }
        for fill in [FillMode::PreviousClose, FillMode::Empty] {
            let start = interval.floor(from).as_micros();
            let prev = points.iter().rfind(|(ts, _)| *ts < start).map(|p| p.1);
            let inside = points
                .iter()
                .copied()
                .filter(|(ts, _)| *ts >= start && *ts < to.as_micros());
            let want = fill_candles(interval, from, to, &aggregate(interval, inside), prev, fill);
            let q = query(id, source, interval, (from, to), fill);
            let got = s.view.candles(&q).await.unwrap();
            let raw = s.raw.candles(&q).await.unwrap();
            let at = format!("{id} {source:?} {interval:?} {fill:?} {from} .. {to}");
            prop_assert_eq!(&got, &raw, "view and ticks differ: {}", at);
            // QuestDB answers for the sources and kinds a series had before `to`.
            if points.first().is_some_and(|p| p.0 >= to.as_micros()) {
                prop_assert!(got.is_empty(), "{}", at);
                continue;
            }
            prop_assert_eq!(got.len(), 1, "{}", at);
            prop_assert_eq!(&got[0].candles, &want, "{}", at);
        }
    }
    Ok(())
}

/// Day-end valuations from the view equal those from the ticks and the last tick at or before
/// each instant.
async fn check_day_ends(
    s: &Stores,
    ids: &[String],
    written: &[Tick],
    first_day: i64,
    days: i64,
) -> Result<(), TestCaseError> {
    let instants: Vec<Timestamp> = (0..days)
        .map(|d| Timestamp::from_micros((T0 + (first_day + d + 1) * DAY) * 1_000_000 - 1))
        .collect();
    let price = ValuationPrice::default();
    let got = s.view.price_book(ids, &instants, &price).await.unwrap();
    let raw = s.raw.price_book(ids, &instants, &price).await.unwrap();
    for id in ids {
        for t in &instants {
            let want = written
                .iter()
                .filter(|w| w.series_id == *id && w.observed_at <= *t)
                .max_by_key(|w| (w.observed_at, w.listing_id.clone()))
                .map(|w| w.price_usd.minor);
            let v = got.at_or_before(id, t.as_micros()).map(|p| p.1);
            prop_assert_eq!(
                v,
                raw.at_or_before(id, t.as_micros()).map(|p| p.1),
                "{} at {}",
                id,
                t
            );
            prop_assert_eq!(v, want, "{} at {}", id, t);
        }
    }
    Ok(())
}

/// The written ticks in a random order (late ticks), each `batch` of them one commit.
async fn write_shuffled(
    store: &QuestDbStore,
    written: &[Tick],
    order: u64,
    batch: usize,
) -> Vec<Tick> {
    let mut keyed: Vec<(u64, usize)> = (0..written.len())
        .map(|i| ((i as u64 ^ order).wrapping_mul(0x9e37_79b9_7f4a_7c15), i))
        .collect();
    keyed.sort_unstable();
    let shuffled: Vec<Tick> = keyed.iter().map(|(_, i)| written[*i].clone()).collect();
    for chunk in shuffled.chunks(batch) {
        store.write_ticks(chunk).await.unwrap();
        store.flush().await.unwrap();
    }
    store.sync().await.unwrap();
    shuffled
}

#[test]
fn view_candles_equal_candles_from_raw_ticks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestQuestDb::from_env_or_start());
    let s = rt.block_on(stores(&db));
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        specs(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        any::<u64>(),
        1usize..40,
        prop::collection::vec((0i64..70 * DAY, 1i64..80 * DAY), 2),
        (-3i64..60, 1i64..30),
    );
    let result = runner.run(
        &strategy,
        |(specs, duplicates, order, batch, cuts, (first_day, days))| {
            let base = case_base();
            let mut written: Vec<Tick> = specs.iter().map(|s| tick(base, s)).collect();
            for d in &duplicates {
                let again = written[d.index(written.len())].clone();
                written.push(again);
            }
            rt.block_on(async {
                let shuffled = write_shuffled(&s.view, &written, order, batch).await;
                prop_assert!(s.view.reads_view().await.unwrap(), "the view is read");
                prop_assert!(!s.raw.reads_view().await.unwrap());
                let ids: Vec<String> = (0..2u8).map(|i| series(base, i).id()).collect();
                for id in &ids {
                    for source in SOURCES {
                        let points = raw_points(&shuffled, id, source);
                        if points.is_empty() {
                            continue;
                        }
                        for &(from_off, len) in &cuts {
                            let from = Timestamp::from_secs(T0 + from_off - 3 * DAY);
                            // `to` anywhere (often cutting a bucket)
                            let to = Timestamp::from_secs(T0 + from_off - 3 * DAY + len);
                            check_range(&s, id, source, &points, (from, to)).await?;
                        }
                    }
                }
                check_day_ends(&s, &ids, &shuffled, first_day, days).await
            })
        },
    );
    drop(s);
    rt.block_on(db.shut_down());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Ticks of several listings at one instant, arriving in several commits: QuestDB orders them
/// by how they were stored, and the view, built from the same rows, agrees with the ticks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instants_listings_read_alike() {
    let db = TestQuestDb::from_env_or_start().await;
    let s = stores(&db).await;
    let base = case_base();
    let at = 3 * DAY + 600;
    for (listing, cents) in [(2u8, 200i64), (1, 100), (0, 50), (2, 210)] {
        let mut t = tick(base, &(0, 1, at, listing, cents));
        t.observed_at = Timestamp::from_secs(T0 + at);
        s.view.write_ticks(&[t]).await.unwrap();
        s.view.flush().await.unwrap();
    }
    let mut later = tick(base, &(0, 1, at + 60, 0, 75));
    later.observed_at = Timestamp::from_secs(T0 + at + 60);
    s.view.write_ticks(&[later]).await.unwrap();
    s.view.sync().await.unwrap();
    let id = series(base, 0).id();
    for interval in [Interval::DAY, Interval::Week, Interval::Month] {
        let q = query(
            &id,
            SOURCES[1],
            interval,
            (
                Timestamp::from_secs(T0),
                Timestamp::from_secs(T0 + 20 * DAY),
            ),
            FillMode::PreviousClose,
        );
        let got = s.view.candles(&q).await.unwrap();
        assert_eq!(got, s.raw.candles(&q).await.unwrap(), "{interval:?}");
        let c = got[0].candles.iter().find(|c| c.count > 0).unwrap();
        // three rows at one instant (listing 2's second price replaced its first), a later one
        assert_eq!(c.count, 4, "{interval:?}");
        assert_eq!(c.close, Some(Money::usd_cents(75)));
        assert_eq!(c.high, Some(Money::usd_cents(210)));
        assert_eq!(c.low, Some(Money::usd_cents(50)));
    }
    drop(s);
    db.shut_down().await;
}

/// A database whose ticks were written before the view existed: the view is created at start
/// (by two stores starting at once), built by QuestDB in the background, and read once it has
/// caught up; a view QuestDB invalidates (a column of `ticks` dropped) is rebuilt by the next
/// sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_database_gains_the_view_and_an_invalid_view_is_rebuilt() {
    let db = TestQuestDb::start().await;
    let base = case_base();
    let written: Vec<Tick> = (0..400)
        .map(|i| {
            tick(
                base,
                &(0, 0, i * 4 * 3600 + 7, (i % 3) as u8, 1_000 + i * 10),
            )
        })
        .collect();
    let id = series(base, 0).id();
    let q = query(
        &id,
        SOURCES[0],
        Interval::Week,
        (
            Timestamp::from_secs(T0),
            Timestamp::from_secs(T0 + 60 * DAY + 5),
        ),
        FillMode::Empty,
    );
    let want = {
        let s = stores(&db).await;
        s.view.write_ticks(&written).await.unwrap();
        s.view.sync().await.unwrap();
        s.raw.candles(&q).await.unwrap()
    };
    let pg = db.pg_client().await;
    pg.simple_query("DROP MATERIALIZED VIEW candles_1d")
        .await
        .unwrap();
    // Stores of a newer build start on it, two at once (both make the view and its indexes):
    // reads are right at once, and from the view after a sync.
    let (s, other) = tokio::join!(stores(&db), stores(&db));
    drop(other);
    assert_eq!(s.view.candles(&q).await.unwrap(), want);
    s.view.sync().await.unwrap();
    assert_eq!(s.view.candles(&q).await.unwrap(), want);
    let rows: i64 = pg
        .query_one("SELECT count() FROM candles_1d", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        rows >= 60,
        "the view was built from the older ticks: {rows} rows"
    );

    pg.simple_query("ALTER TABLE ticks ADD COLUMN scratch LONG")
        .await
        .unwrap();
    pg.simple_query("ALTER TABLE ticks DROP COLUMN scratch")
        .await
        .unwrap();
    let more = tick(base, &(0, 0, 70 * DAY, 0, 4_242));
    s.view
        .write_ticks(std::slice::from_ref(&more))
        .await
        .unwrap();
    s.view.sync().await.unwrap();
    let status: String = pg
        .query_one(
            "SELECT view_status FROM materialized_views() WHERE view_name = 'candles_1d'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "valid");
    let q = CandleQuery {
        to: Timestamp::from_secs(T0 + 71 * DAY),
        ..q
    };
    let got = s.view.candles(&q).await.unwrap();
    assert_eq!(got, s.raw.candles(&q).await.unwrap());
    assert_eq!(
        got[0].candles.last().unwrap().close,
        Some(Money::usd_cents(4_242))
    );
    drop(s);
    db.shut_down().await;
}
