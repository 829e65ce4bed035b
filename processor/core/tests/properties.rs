//! Invariants of the core, for any batch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use tcg_processor_core::{CoreConfig, Output, Processor};
use tcg_schemas::{
    CategoryId, Currency, Direction, FxRates, Money, PriceKind, ProductId, RawQuote, RuleCondition,
    SkuId, Source, Subject,
};

const TITLES: &[&str] = &[
    "Charizard ex 199/165 Pokemon 151 Special Illustration Rare NM",
    "Charizard ex 199/165 PSA 10 GEM MINT Pokemon 151",
    "Charizard ex 199/165 BGS 9.5 Pokemon 151",
    "Charizard ex 199/165 Japanese Pokemon Card 151",
    "Pokemon 151 Booster Pack Sealed",
    "Charizard ex 199/165 PROXY custom card",
    "Lot of 50 Pokemon cards Charizard ex",
    "Charizard ex 200/165 Pokemon 151",
];

fn fx() -> FxRates {
    let mut rates = BTreeMap::new();
    rates.insert(Currency::USD, "1.0850".parse().unwrap());
    rates.insert(Currency::JPY, "163.2".parse().unwrap());
    FxRates {
        base: Currency::EUR,
        as_of: "2024-05-01".into(),
        rates,
    }
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        8 => Just(Currency::USD),
        1 => Just(Currency::EUR),
        1 => Just(Currency::JPY),
        1 => Just(Currency::CHF), // no rate: rejected
    ]
}

fn money() -> impl Strategy<Value = Money> {
    (currency(), prop_oneof![20 => 1i64..6, 1 => -1i64..1]).prop_map(|(c, step)| {
        let minor = step * if c == Currency::JPY { 150 } else { 100 };
        Money::new(minor, c)
    })
}

fn quote() -> impl Strategy<Value = RawQuote> {
    let tcg = (
        1u64..4,
        prop::sample::select(vec!["Normal", "Holofoil", "Galaxy Foil"]),
        prop::sample::select(vec![PriceKind::Market, PriceKind::Low, PriceKind::Mid]),
        prop::sample::select(vec![Source::Tcgplayer, Source::Tcgcsv]),
        0i64..40,
        money(),
    )
        .prop_map(|(product, sub, kind, source, t, price)| RawQuote {
            source,
            observed_at: at(t * 600),
            kind,
            price,
            shipping: None,
            subject: Subject::TcgProduct {
                category_id: CategoryId(3),
                group_id: None,
                product_id: ProductId(product),
                sub_type_name: sub.into(),
            },
        });
    let sku = (1u64..4, 1u32..8, 1u32..12, 0i64..40, money(), 0i64..3).prop_map(
        |(product, condition, language, t, price, ship)| RawQuote {
            source: Source::Tcgplayer,
            observed_at: at(t * 600),
            kind: PriceKind::LowestListing,
            price,
            shipping: Some(Money::new(ship * 50, price.currency)),
            subject: Subject::TcgSku {
                category_id: CategoryId(3),
                product_id: ProductId(product),
                sku_id: SkuId(product * 100 + u64::from(condition)),
                printing: "Holofoil".into(),
                condition_id: condition,
                language_id: language,
            },
        },
    );
    let ebay = (
        0usize..TITLES.len(),
        0u32..6,
        1i64..4,
        0i64..40,
        0i64..2,
        1u64..4,
    )
        .prop_map(|(title, item, price, t, ship, product)| {
            listing(
                &format!("v1|{item}|0"),
                product,
                TITLES[title],
                price * 5000,
                ship * 400,
                t * 600,
            )
        });
    let future = (1u64..4, 0i64..3).prop_map(|(p, d)| {
        let mut q = market(p, 100, 0);
        q.observed_at = now().plus_secs(301 + d * 1000);
        q
    });
    prop_oneof![10 => tcg, 4 => sku, 5 => ebay, 1 => future]
}

fn processor() -> Processor {
    let mut p = Processor::new(CoreConfig {
        heartbeat_secs: 1800,
        ..CoreConfig::default()
    });
    p.set_fx_rates(fx());
    for (n, product, cond) in [
        (
            1,
            1,
            RuleCondition::PriceAbove {
                threshold_usd: usd(300),
            },
        ),
        (
            2,
            2,
            RuleCondition::PriceBelow {
                threshold_usd: usd(250),
            },
        ),
        (
            3,
            3,
            RuleCondition::PercentChange {
                percent: "25".parse().unwrap(),
                window_secs: 7200,
                direction: Direction::Either,
                min_confirming_sources: None,
            },
        ),
        (4, 1, RuleCondition::NewHigh { days: 3 }),
        (
            5,
            2,
            RuleCondition::Deal {
                percent: "10".parse().unwrap(),
            },
        ),
    ] {
        p.upsert_rule(rule(n, product, cond, 900)).unwrap();
    }
    p
}

/// Output without batch positions, which differ when a batch is split.
fn comparable(
    out: &Output,
) -> (
    Vec<tcg_schemas::Tick>,
    Vec<tcg_schemas::AlertEvent>,
    Vec<(String, RawQuote)>,
) {
    (
        out.ticks.clone(),
        out.alerts.clone(),
        out.rejected
            .iter()
            .map(|r| (format!("{}: {}", r.reason, r.detail), r.quote.clone()))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn processing_a_batch_twice_gives_the_same_ticks_as_once(batch in prop::collection::vec(quote(), 0..80)) {
        let mut p = processor();
        let once = p.process(now(), &batch);
        let again = p.process(now(), &batch);
        prop_assert!(again.ticks.is_empty(), "replay produced ticks: {:?}", again.ticks);
        prop_assert!(again.alerts.is_empty());
        // Broken quotes are rejected again; eBay items judged not to be the card are
        // remembered, so their replays are duplicates rather than new rejections.
        let invalid = |o: &Output| o.rejected.iter().filter(|r| r.reason.is_invalid_input()).count();
        prop_assert_eq!(again.rejected.len(), invalid(&again));
        prop_assert_eq!(invalid(&again), invalid(&once));
        let mut fresh = processor();
        prop_assert_eq!(fresh.process(now(), &batch), once);
    }

    #[test]
    fn splitting_a_batch_anywhere_gives_the_same_output(batch in prop::collection::vec(quote(), 0..80), cut in any::<prop::sample::Index>()) {
        let k = if batch.is_empty() { 0 } else { cut.index(batch.len() + 1) };
        let mut whole = processor();
        let all = whole.process(now(), &batch);
        let mut split = processor();
        let a = split.process(now(), &batch[..k]);
        let b = split.process(now(), &batch[k..]);
        let (mut t, mut al, mut r) = comparable(&a);
        let (t2, al2, r2) = comparable(&b);
        t.extend(t2);
        al.extend(al2);
        r.extend(r2);
        prop_assert_eq!((t, al, r), comparable(&all));
        let mut stats = a.stats;
        stats.add(&b.stats);
        prop_assert_eq!(stats, all.stats);
        prop_assert_eq!(split.snapshot(), whole.snapshot());
        // Rejections point at their quote in the batch.
        for rj in &all.rejected {
            prop_assert_eq!(&batch[rj.index], &rj.quote);
        }
    }

    #[test]
    fn appending_the_parts_of_a_batch_into_one_output_equals_processing_it_whole(batch in prop::collection::vec(quote(), 0..80), cut in any::<prop::sample::Index>()) {
        let k = if batch.is_empty() { 0 } else { cut.index(batch.len() + 1) };
        let mut whole = processor();
        let all = whole.process(now(), &batch);
        // One output kept across calls, as the Kafka runtime keeps it from batch to batch.
        let mut split = processor();
        let mut out = Output::default();
        split.process_into(&batch[..k], |_| now(), &mut out);
        for rj in &out.rejected {
            prop_assert_eq!(&batch[rj.index], &rj.quote);
        }
        let first_rejections = out.rejected.len();
        split.process_into(&batch[k..], |_| now(), &mut out);
        // The second call's rejections point into its own part of the batch.
        for rj in &out.rejected[first_rejections..] {
            prop_assert_eq!(&batch[k + rj.index], &rj.quote);
        }
        prop_assert_eq!(comparable(&out), comparable(&all));
        prop_assert_eq!(out.stats, all.stats);
        prop_assert_eq!(split.snapshot(), whole.snapshot());
    }

    #[test]
    fn normalization_never_loses_the_original_amount_or_currency(batch in prop::collection::vec(quote(), 1..60)) {
        let mut p = processor();
        for q in &batch {
            let out = p.process(now(), std::slice::from_ref(q));
            let accounted = quoted(&out).len() as u64 + out.stats.rejected + out.stats.duplicates + out.stats.unchanged;
            prop_assert_eq!(accounted, 1, "every quote is a tick, a rejection, a duplicate or unchanged");
            prop_assert!(fair_ticks(&out).len() <= quoted(&out).len(), "at most one fair value per tick");
            for t in quoted(&out) {
                prop_assert_eq!(t.original, q.price);
                prop_assert_eq!(t.shipping, q.shipping);
                prop_assert_eq!(t.observed_at, q.observed_at);
                prop_assert_eq!(t.price_usd.currency, Currency::USD);
                if q.price.currency == Currency::USD {
                    let ship = if q.kind.includes_shipping() { q.shipping.map_or(0, |s| s.minor) } else { 0 };
                    prop_assert_eq!(t.price_usd.minor, q.price.minor + ship);
                }
            }
            for r in &out.rejected {
                prop_assert_eq!(&r.quote, q);
            }
        }
    }
}
