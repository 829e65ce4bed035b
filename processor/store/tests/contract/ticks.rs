//! The [`TickStore`] contract: idempotent ticks, latest prices, candles, movers.

use tcg_schemas::{
    Condition, Currency, Game, Grade, Grader, Money, PriceKind, Printing, SeriesKey, Source, Tick,
};
use tcg_store::*;

use super::fixtures::*;

pub async fn ticks_are_idempotent(store: &dyn TickStore, ids: Ids) {
    let s = sku(ids.product(1), Condition::NearMint);
    let mut batch: Vec<Tick> = (0..10).map(|i| market(&s, i * 3600, 1000 + i)).collect();
    let mut listing = tick(
        &s,
        Source::EbayBrowse,
        PriceKind::Listing,
        100,
        900,
        Some("v1|1|0"),
    );
    listing.original = Money::new(800, Currency::EUR);
    listing.shipping = Some(Money::new(150, Currency::EUR));
    listing.confidence = Some(90);
    batch.push(listing);
    let first = store.write_ticks(&batch).await.unwrap();
    assert_eq!(first.rows, 11);
    store.sync().await.unwrap();
    let before = store
        .latest_prices(&[s.id()], &PriceFilter::any())
        .await
        .unwrap();
    let candles_before = store
        .candles(&CandleQuery {
            target: SeriesTarget::Series(s.id()),
            prices: PriceFilter::any(),
            interval: Interval::DAY,
            from: at(0),
            to: at(DAY),
            fill: FillMode::Empty,
        })
        .await
        .unwrap();
    // Replay, in another order and split differently: nothing changes.
    batch.reverse();
    for chunk in batch.chunks(4) {
        let r = store.write_ticks(chunk).await.unwrap();
        if let Some(n) = r.new_rows {
            assert_eq!(n, 0, "a replay inserted rows");
        }
    }
    store.sync().await.unwrap();
    let after = store
        .latest_prices(&[s.id()], &PriceFilter::any())
        .await
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(after.len(), 2);
    let m = after.iter().find(|l| l.kind == PriceKind::Market).unwrap();
    assert_eq!(
        (m.price_usd, m.observed_at),
        (Money::usd_cents(1009), at(9 * 3600))
    );
    let l = after.iter().find(|l| l.kind == PriceKind::Listing).unwrap();
    assert_eq!(
        (l.price_usd, l.original, l.listing_id.as_str()),
        (
            Money::usd_cents(900),
            Money::new(800, Currency::EUR),
            "v1|1|0"
        )
    );
    let candles_after = store
        .candles(&CandleQuery {
            target: SeriesTarget::Series(s.id()),
            prices: PriceFilter::any(),
            interval: Interval::DAY,
            from: at(0),
            to: at(DAY),
            fill: FillMode::Empty,
        })
        .await
        .unwrap();
    assert_eq!(candles_before, candles_after);
    let market_day = candles_after
        .iter()
        .find(|c| c.kind == PriceKind::Market)
        .unwrap();
    assert_eq!(market_day.candles[0].count, 10);
}

pub async fn latest_prices_per_source_and_kind(store: &dyn TickStore, ids: Ids) {
    let a = sku(ids.product(2), Condition::NearMint);
    let b = sku(ids.product(2), Condition::LightlyPlayed);
    store
        .write_ticks(&[
            market(&a, 0, 100),
            market(&a, 60, 110),
            tick(&a, Source::Tcgcsv, PriceKind::Market, 30, 105, None),
            tick(&a, Source::Tcgplayer, PriceKind::Low, 30, 90, None),
            market(&b, 10, 50),
        ])
        .await
        .unwrap();
    // An older tick arriving late does not replace the newest.
    store.write_ticks(&[market(&a, 20, 999)]).await.unwrap();
    store.sync().await.unwrap();
    let all = store
        .latest_prices(
            &[a.id(), b.id(), "nope/normal/nm/en".into()],
            &PriceFilter::any(),
        )
        .await
        .unwrap();
    let got: Vec<(String, Source, PriceKind, i64)> = all
        .iter()
        .map(|l| (l.series_id.clone(), l.source, l.kind, l.price_usd.minor))
        .collect();
    assert_eq!(
        got,
        vec![
            (a.id(), Source::Tcgplayer, PriceKind::Market, 110),
            (a.id(), Source::Tcgplayer, PriceKind::Low, 90),
            (a.id(), Source::Tcgcsv, PriceKind::Market, 105),
            (b.id(), Source::Tcgplayer, PriceKind::Market, 50),
        ]
    );
    let only = store
        .latest_prices(
            &[a.id(), b.id()],
            &PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
        )
        .await
        .unwrap();
    assert_eq!(only.len(), 2);
    assert!(
        store
            .latest_prices(&[], &PriceFilter::any())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn candles_fill_and_filter(store: &dyn TickStore, ids: Ids) {
    let p = ids.product(3);
    let nm = sku(p, Condition::NearMint);
    let graded = SeriesKey::Graded {
        product_id: p,
        grader: Grader::Psa,
        grade: Grade::whole(10).unwrap(),
    };
    store
        .write_ticks(&[
            market(&nm, -DAY, 500),  // before the range: the previous close
            market(&nm, 3600, 1000), // day 0
            market(&nm, 7200, 1200),
            market(&nm, 10_800, 900),
            market(&nm, 2 * DAY + 60, 1500), // day 2 (day 1 empty)
            tick(
                &graded,
                Source::EbaySold,
                PriceKind::Sold,
                3600,
                50_000,
                Some("s1"),
            ),
        ])
        .await
        .unwrap();
    store.sync().await.unwrap();
    let q = CandleQuery {
        target: SeriesTarget::Series(nm.id()),
        prices: PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
        interval: Interval::DAY,
        from: at(0),
        to: at(4 * DAY),
        fill: FillMode::PreviousClose,
    };
    let got = store.candles(&q).await.unwrap();
    assert_eq!(got.len(), 1);
    let c = &got[0].candles;
    assert_eq!(c.len(), 4);
    let usd = |v| Some(Money::usd_cents(v));
    assert_eq!(
        (
            c[0].open,
            c[0].high,
            c[0].low,
            c[0].close,
            c[0].count,
            c[0].filled
        ),
        (usd(1000), usd(1200), usd(900), usd(900), 3, false)
    );
    assert_eq!(
        (c[1].open, c[1].close, c[1].count, c[1].filled),
        (usd(900), usd(900), 0, true)
    );
    assert_eq!(
        (c[2].open, c[2].close, c[2].count),
        (usd(1500), usd(1500), 1)
    );
    assert_eq!((c[3].close, c[3].filled), (usd(1500), true));
    assert_eq!(c[0].start, at(0));
    // Marked empty instead.
    let empty = store
        .candles(&CandleQuery {
            fill: FillMode::Empty,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        (empty[0].candles[1].close, empty[0].candles[1].filled),
        (None, false)
    );
    // The first bucket before any in-range tick is filled from the close before the range.
    let earlier = store
        .candles(&CandleQuery {
            from: at(-DAY / 2),
            to: at(DAY),
            interval: Interval::HOUR,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(earlier[0].candles[0].close, usd(500));
    assert_eq!(earlier[0].candles.len(), 36);
    // By product and selection.
    let by_product = |selection: SeriesSelection| CandleQuery {
        target: SeriesTarget::Product {
            product_id: p,
            selection,
        },
        prices: PriceFilter::any(),
        ..q.clone()
    };
    let graded_only = store
        .candles(&by_product(SeriesSelection {
            graded: Some(true),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(graded_only.len(), 1);
    assert_eq!(
        (graded_only[0].series_id.clone(), graded_only[0].kind),
        (graded.id(), PriceKind::Sold)
    );
    assert_eq!(graded_only[0].candles[0].close, usd(50_000));
    let nm_only = store
        .candles(&by_product(SeriesSelection {
            condition: Some(Condition::NearMint),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(
        nm_only
            .iter()
            .map(|s| s.series_id.clone())
            .collect::<Vec<_>>(),
        vec![nm.id()]
    );
    let both = store
        .candles(&by_product(SeriesSelection::default()))
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
    // Weekly and monthly buckets.
    let weekly = store
        .candles(&CandleQuery {
            interval: Interval::Week,
            ..q.clone()
        })
        .await
        .unwrap();
    // Buckets cover [floor(from), to): the first week starts on Monday 2024-02-26 and holds the tick of 02-29.
    assert_eq!(weekly[0].candles.iter().map(|c| c.count).sum::<u64>(), 5);
    let monthly = store
        .candles(&CandleQuery {
            interval: Interval::Month,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(monthly[0].candles.len(), 1);
    assert_eq!(
        (
            monthly[0].candles[0].open,
            monthly[0].candles[0].close,
            monthly[0].candles[0].count
        ),
        (usd(1000), usd(1500), 4)
    );
    assert!(
        store
            .candles(&CandleQuery { to: at(0), ..q })
            .await
            .is_err()
    );
}

pub async fn movers_rank_by_window(store: &dyn Store, ids: Ids) {
    let (p_up, p_down, p_flat, p_other) = (
        ids.product(10),
        ids.product(11),
        ids.product(12),
        ids.product(13),
    );
    store
        .upsert_products(&[
            product(ids, 10, 1, "Up"),
            product(ids, 11, 1, "Down"),
            product(ids, 12, 1, "Flat"),
            product(ids, 13, 2, "Other"),
        ])
        .await
        .unwrap();
    let up = sku(p_up, Condition::NearMint);
    let down = sku(p_down, Condition::NearMint);
    let flat = sku(p_flat, Condition::NearMint);
    let other = sku(p_other, Condition::NearMint);
    let mut magic = market(&other, 0, 100);
    magic.game = Game::Magic;
    let mut magic2 = market(&other, 5 * DAY, 400);
    magic2.game = Game::Magic;
    store
        .write_ticks(&[
            market(&up, 0, 1000),
            market(&up, 5 * DAY, 1500),
            market(&down, 0, 1000),
            market(&down, 5 * DAY, 800),
            market(&flat, 0, 1000),
            market(&flat, 5 * DAY, 1000),
            magic,
            magic2,
            market(&up, 20 * DAY, 99_999), // after as_of: ignored
        ])
        .await
        .unwrap();
    store.sync().await.unwrap();
    let q = MoversQuery {
        since: at(DAY),
        as_of: at(6 * DAY),
        game: Some(Game::Pokemon),
        group_id: Some(ids.group(1)),
        prices: PriceFilter::any(),
        limit: 10,
        min_start_cents: 0,
        start_lookback_secs: 7 * DAY,
    };
    let m = store.movers(&q).await.unwrap();
    assert_eq!(
        m.gainers
            .iter()
            .map(|g| (g.series_id.clone(), g.change_bps))
            .collect::<Vec<_>>(),
        vec![(up.id(), 5000)]
    );
    assert_eq!(
        m.losers
            .iter()
            .map(|g| (g.series_id.clone(), g.change_bps))
            .collect::<Vec<_>>(),
        vec![(down.id(), -2000)]
    );
    assert_eq!(
        (
            m.gainers[0].start_usd,
            m.gainers[0].end_usd,
            m.gainers[0].end_at
        ),
        (Money::usd_cents(1000), Money::usd_cents(1500), at(5 * DAY))
    );
    let magic_only = store
        .movers(&MoversQuery {
            game: Some(Game::Magic),
            group_id: None,
            ..q.clone()
        })
        .await
        .unwrap();
    // Across all sets: a shared QuestDB may hold earlier runs' series too, so look at ours.
    let ours = |list: &[Mover]| -> Vec<(String, i64)> {
        let mine = [up.id(), down.id(), flat.id(), other.id()];
        list.iter()
            .filter(|g| mine.contains(&g.series_id))
            .map(|g| (g.series_id.clone(), g.change_bps))
            .collect()
    };
    assert_eq!(ours(&magic_only.gainers), vec![(other.id(), 30_000)]);
    assert!(ours(&magic_only.losers).is_empty());
    let any_game = store
        .movers(&MoversQuery {
            game: None,
            group_id: None,
            limit: 1,
            ..q.clone()
        })
        .await
        .unwrap();
    // The biggest gain of all is +300 % (this run's Magic series, or an earlier run's twin).
    assert_eq!(any_game.gainers.len(), 1);
    assert_eq!(any_game.gainers[0].change_bps, 30_000);
    // A window starting before any tick has no start price: nothing moves.
    let none = store
        .movers(&MoversQuery {
            since: at(-DAY),
            ..q.clone()
        })
        .await
        .unwrap();
    // A start price older than the lookback does not count.
    let stale = store
        .movers(&MoversQuery {
            since: at(2 * DAY),
            start_lookback_secs: DAY,
            ..q
        })
        .await
        .unwrap();
    assert!(stale.gainers.is_empty() && stale.losers.is_empty());
    assert!(none.gainers.is_empty() && none.losers.is_empty());
}

/// The printings TCGplayer prices of a product: those of its raw series with a TCGplayer or
/// TCGCSV price, not those only eBay (or another market) prices, nor graded series.
pub async fn tcgplayer_printings_are_the_priced_ones(store: &dyn TickStore, ids: Ids) {
    let p = ids.product(40);
    let raw = |printing: Printing, condition: Condition| SeriesKey::Sku {
        product_id: p,
        printing,
        condition,
        language: tcg_schemas::Language::English,
    };
    let holo = raw(Printing::Holofoil, Condition::NearMint);
    let reverse = raw(Printing::ReverseHolofoil, Condition::LightlyPlayed);
    let normal = raw(Printing::Normal, Condition::NearMint);
    let graded = SeriesKey::Graded {
        product_id: p,
        grader: Grader::Psa,
        grade: Grade::whole(10).unwrap(),
    };
    store
        .write_ticks(&[
            tick(&holo, Source::Tcgcsv, PriceKind::Market, 0, 500, None),
            tick(&reverse, Source::Tcgplayer, PriceKind::Low, 10, 300, None),
            tick(
                &normal,
                Source::EbayBrowse,
                PriceKind::Listing,
                20,
                200,
                Some("v1|9|0"),
            ),
            tick(&normal, Source::Cardmarket, PriceKind::Trend, 30, 210, None),
            tick(
                &graded,
                Source::Tcgplayer,
                PriceKind::Market,
                40,
                9_000,
                None,
            ),
        ])
        .await
        .unwrap();
    store.sync().await.unwrap();
    let mine: Vec<Printing> = store
        .tcgplayer_printings()
        .await
        .unwrap()
        .into_iter()
        .filter(|(id, _)| *id == p)
        .map(|(_, printing)| printing)
        .collect();
    assert_eq!(mine, vec![Printing::Holofoil, Printing::ReverseHolofoil]);
}
