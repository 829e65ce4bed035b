//! Property: replaying any tick batch (whole, reordered, or any part of it) changes nothing in SQLite.

#![allow(clippy::unwrap_used)] // tests may unwrap

use proptest::prelude::*;
use tcg_schemas::{
    Condition, Game, Language, Money, PriceKind, Printing, ProductId, SeriesKey, Source, Tick,
    Timestamp,
};
use tcg_store::{
    Interval, PriceFilter, SqliteStore,
    model::{CandleQuery, FillMode, SeriesTarget},
    sqlite::{candles_blocking, latest_blocking},
};

fn arb_tick() -> impl Strategy<Value = Tick> {
    (
        0u64..4,
        0usize..4,
        0usize..3,
        0i64..(3 * 86_400),
        1i64..100_000,
        prop::option::of("[a-z0-9|]{1,6}"),
        any::<bool>(),
    )
        .prop_map(|(product, source, kind, secs, cents, listing, heartbeat)| {
            let series = SeriesKey::Sku {
                product_id: ProductId(product),
                printing: Printing::Normal,
                condition: Condition::NearMint,
                language: Language::English,
            };
            Tick {
                series_id: series.id(),
                series,
                game: Game::Magic,
                source: Source::ALL[source],
                kind: [PriceKind::Market, PriceKind::Listing, PriceKind::Sold][kind],
                observed_at: Timestamp::from_secs(1_700_000_000 + secs),
                price_usd: Money::usd_cents(cents),
                original: Money::usd_cents(cents),
                shipping: None,
                listing_id: listing,
                confidence: None,
                agreeing: Vec::new(),
                heartbeat,
            }
        })
}

fn snapshot(store: &SqliteStore) -> String {
    let ids: Vec<String> = (0..4).map(|p| format!("{p}/normal/nm/en")).collect();
    let latest = store
        .with_reader(|c| latest_blocking(c, &ids, &PriceFilter::any()))
        .unwrap();
    let mut out = format!("{latest:?}");
    for id in &ids {
        let q = CandleQuery {
            target: SeriesTarget::Series(id.clone()),
            prices: PriceFilter::any(),
            interval: Interval::HOUR,
            from: Timestamp::from_secs(1_700_000_000),
            to: Timestamp::from_secs(1_700_000_000 + 3 * 86_400),
            fill: FillMode::Empty,
        };
        out.push_str(&format!(
            "{:?}",
            store.with_reader(|c| candles_blocking(c, &q)).unwrap()
        ));
    }
    let rows: Vec<String> = store
        .with_reader(|c| {
            let mut st =
                c.prepare("SELECT * FROM ticks ORDER BY day, sid, source, kind, ts, listing_id")?;
            let n = st.column_count();
            let rows = st
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join(","))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .unwrap();
    out.push_str(&rows.join("\n"));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn replaying_any_batch_is_a_no_op(batch in prop::collection::vec(arb_tick(), 1..60), cut in 0usize..60, reverse in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("p.sqlite")).unwrap();
        let first = store.write_ticks_blocking(&batch).unwrap();
        prop_assert_eq!(first.rows, batch.len());
        let before = snapshot(&store);
        let mut replay = batch.clone();
        if reverse {
            replay.reverse();
        }
        let (a, b) = replay.split_at(cut.min(replay.len()));
        for part in [a, b, &replay[..]] {
            let r = store.write_ticks_blocking(part).unwrap();
            prop_assert_eq!(r.new_rows, Some(0));
        }
        prop_assert_eq!(snapshot(&store), before);
    }
}
