//! The fair value through the processor: order of sources, wild sources, parked prices, no
//! sources, restarts, and the confirmation of moves by `percent_change` rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use proptest::prelude::*;
use tcg_processor_core::{
    CoreConfig, Output, Processor,
    fair::{self, Candidate, INPUTS},
};
use tcg_schemas::{Direction, PriceKind, RawQuote, RuleCondition, SeriesFilter, Source, Trigger};

const DAY: i64 = 86_400;

/// The latest fair value in `outs` (cents).
fn last_fair(outs: &[Output]) -> Option<i64> {
    outs.iter()
        .flat_map(fair_ticks)
        .last()
        .map(|t| t.price_usd.minor)
}

fn feed(p: &mut Processor, quotes: &[RawQuote]) -> Vec<Output> {
    quotes
        .iter()
        .map(|q| p.process(now(), std::slice::from_ref(q)))
        .collect()
}

/// A product's quotes from every source, all $10-ish, over the first minutes.
fn calm(product: u64) -> Vec<RawQuote> {
    vec![
        sold("s1", product, 1_000, 0),
        sold("s2", product, 1_010, 60),
        sold("s3", product, 990, 120),
        listing("l1", product, NM_TITLE, 1_050, 0, 180),
        priced(Source::Tcgplayer, PriceKind::Market, product, 1_000, 240),
        priced(Source::Tcgcsv, PriceKind::Market, product, 1_000, 300),
        priced(Source::Tcgplayer, PriceKind::High, product, 2_500, 300),
    ]
}

#[test]
fn every_source_prices_the_fair_value_and_the_tick_says_how_sure_it_is() {
    let mut p = Processor::new(CoreConfig::default());
    let outs = feed(&mut p, &calm(7));
    let fair: Vec<_> = outs.iter().flat_map(fair_ticks).collect();
    let last = fair.last().unwrap();
    assert_eq!(last.series_id, "7/holofoil/nm/en");
    assert_eq!(
        (last.source, last.kind),
        (Source::Tcgtracker, PriceKind::Fair)
    );
    assert_eq!(last.price_usd.minor, 1_000);
    assert_eq!(last.original, last.price_usd);
    assert!(last.confidence.is_some_and(|c| c > 0));
    // TCGplayer, eBay sales and eBay listings agree, all fresh.
    let now = p.fair_value(&last.series, at(300)).unwrap();
    assert_eq!(
        last.agreeing, now.agreeing,
        "the tick names the sources that agree"
    );
    assert_eq!(now.cents, 1_000);
    assert_eq!(now.confidence, 95);
    assert_eq!(
        now.agreeing,
        vec![
            Source::Tcgplayer,
            Source::Tcgcsv,
            Source::EbayBrowse,
            Source::EbaySold
        ]
    );
    assert_eq!((now.groups_agreeing, now.groups_priced), (3, 3));
    // Fair ticks of a series never share an instant and never go back.
    for w in fair.windows(2) {
        assert!(w[0].observed_at < w[1].observed_at, "{fair:?}");
    }
}

#[test]
fn no_sources_no_fair_value() {
    let mut p = Processor::new(CoreConfig::default());
    // Parked and direct prices are not inputs; a broken quote is rejected.
    let out = p.process(
        now(),
        &[
            priced(Source::Tcgplayer, PriceKind::High, 7, 99_900, 0),
            priced(Source::Tcgcsv, PriceKind::DirectLow, 7, 900, 0),
            market(7, 0, 10),
        ],
    );
    assert!(fair_ticks(&out).is_empty(), "{:?}", out.ticks);
    assert_eq!(out.stats.fair, 0);
    assert_eq!(fair::blend(&[], Some(1_000), at(0)), None);
}

#[test]
fn a_parked_999_or_one_wild_source_moves_neither_the_fair_value_nor_a_confirmed_alert() {
    let mut p = Processor::new(CoreConfig::default());
    let window = |min| RuleCondition::PercentChange {
        percent: "20".parse().unwrap(),
        window_secs: 3 * DAY as u64,
        direction: Direction::Either,
        min_confirming_sources: min,
    };
    p.upsert_rule(rule(1, 7, window(Some(2)), 60)).unwrap();
    p.upsert_rule(rule(2, 7, window(None), 60)).unwrap();
    let mut on_fair = rule(3, 7, window(None), 60);
    on_fair.filter = SeriesFilter {
        kind: Some(PriceKind::Fair),
        ..SeriesFilter::default()
    };
    p.upsert_rule(on_fair).unwrap();
    let before = last_fair(&feed(&mut p, &calm(7))).unwrap();
    assert_eq!(before, 1_000);

    let wild = [
        // TCGplayer's parked high.
        priced(Source::Tcgplayer, PriceKind::High, 7, 99_900, DAY),
        // TCGCSV publishes a broken market price.
        priced(Source::Tcgcsv, PriceKind::Market, 7, 99_900, DAY + 60),
        // One wild listing, then one merely high.
        listing("l2", 7, NM_TITLE, 99_900, 0, DAY + 120),
        listing("l3", 7, NM_TITLE, 6_000, 0, DAY + 180),
    ];
    let outs = feed(&mut p, &wild);
    for t in outs.iter().flat_map(fair_ticks) {
        assert_eq!(t.price_usd.minor, before, "{t:?}");
    }
    let alerts: Vec<_> = outs.iter().flat_map(|o| o.alerts.iter()).collect();
    assert!(
        alerts
            .iter()
            .all(|a| a.rule_id == rule(2, 7, window(None), 0).id),
        "only the unconfirmed rule fires: {alerts:#?}"
    );
    let tcgcsv = alerts
        .iter()
        .find(|a| a.source == Source::Tcgcsv)
        .expect("the unconfirmed rule sees TCGCSV's jump");
    match &tcgcsv.trigger {
        Trigger::PercentChange {
            confirmed_by,
            sources_priced,
            ..
        } => assert_eq!((*confirmed_by, *sources_priced), (Some(1), Some(2))),
        other => panic!("{other:?}"),
    }
    assert!(
        tcgcsv
            .message
            .contains("single-source move (confirmed by 1 of 2 sources)"),
        "{}",
        tcgcsv.message
    );
}

#[test]
fn a_move_that_sales_confirm_fires_the_confirmed_rule_and_moves_the_fair_value() {
    let mut p = Processor::new(CoreConfig::default());
    let cond = RuleCondition::PercentChange {
        percent: "20".parse().unwrap(),
        window_secs: 2 * DAY as u64,
        direction: Direction::Up,
        min_confirming_sources: Some(2),
    };
    p.upsert_rule(rule(1, 8, cond, 60)).unwrap();
    let mut quotes = calm(8);
    // Sales at $15 for a day, then TCGplayer's market follows.
    for (i, t) in (0..4).map(|i| (i, DAY + i * 3_600)) {
        quotes.push(sold(&format!("n{i}"), 8, 1_500, t));
    }
    quotes.push(priced(
        Source::Tcgplayer,
        PriceKind::Market,
        8,
        1_500,
        DAY + 5 * 3_600,
    ));
    let outs = feed(&mut p, &quotes);
    let alerts: Vec<_> = outs.iter().flat_map(|o| o.alerts.iter()).collect();
    let fired: Vec<_> = alerts
        .iter()
        .filter(|a| a.source == Source::Tcgplayer)
        .collect();
    assert_eq!(fired.len(), 1, "{alerts:#?}");
    match &fired[0].trigger {
        Trigger::PercentChange {
            confirmed_by,
            sources_priced,
            ..
        } => assert_eq!((*confirmed_by, *sources_priced), (Some(2), Some(2))),
        other => panic!("{other:?}"),
    }
    assert!(fired[0].message.contains("confirmed by 2 of 2 sources"));
    assert_eq!(last_fair(&outs), Some(1_500));
}

#[test]
fn the_fair_value_survives_a_restart() {
    let mut p = Processor::new(CoreConfig::default());
    feed(&mut p, &calm(7));
    let mut restored = Processor::restore(CoreConfig::default(), p.snapshot()).unwrap();
    let wild = [priced(Source::Tcgcsv, PriceKind::Market, 7, 99_900, DAY)];
    let a = feed(&mut p, &wild);
    let b = feed(&mut restored, &wild);
    assert_eq!(a, b);
    assert!(fair_ticks(&a[0]).iter().all(|t| t.price_usd.minor == 1_000));
}

/// One quote per stream (eBay items each their own), prices within 8× of each other.
fn streams() -> impl Strategy<Value = Vec<RawQuote>> {
    let one = (0usize..6, 500i64..4_000, 0i64..3_600);
    prop::collection::vec(one, 1..14).prop_map(|picks| {
        let mut seen = std::collections::BTreeSet::new();
        picks
            .into_iter()
            .enumerate()
            .filter_map(|(n, (which, cents, t))| {
                let q = match which {
                    0 => priced(Source::Tcgplayer, PriceKind::Market, 7, cents, t),
                    1 => priced(Source::Tcgcsv, PriceKind::Market, 7, cents, t),
                    2 => priced(Source::Tcgplayer, PriceKind::Mid, 7, cents, t),
                    3 => priced(Source::Tcgcsv, PriceKind::Low, 7, cents, t),
                    4 => sold(&format!("s{n}"), 7, cents, t),
                    _ => listing(&format!("l{n}"), 7, NM_TITLE, cents, 0, t),
                };
                // aggregates: one quote per stream
                (which >= 4 || seen.insert(which)).then_some(q)
            })
            .collect()
    })
}

fn candidate() -> impl Strategy<Value = Candidate> {
    (0..INPUTS.len(), 1i64..2_000_000, 1u32..13, 0i64..(40 * DAY)).prop_map(
        |(i, cents, weight, age)| Candidate {
            source: INPUTS[i].source,
            kind: INPUTS[i].kind,
            group: INPUTS[i].group,
            cents,
            weight: weight.min(INPUTS[i].max_weight),
            observed_at: at(40 * DAY - age),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_fair_value_does_not_depend_on_the_order_of_sources(
        quotes in streams(),
        order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()),
    ) {
        let mut shuffled = quotes.clone();
        // a deterministic shuffle from the drawn seed
        let mut s = order;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mut a = Processor::new(CoreConfig::default());
        let mut b = Processor::new(CoreConfig::default());
        let fa = last_fair(&feed(&mut a, &quotes));
        let fb = last_fair(&feed(&mut b, &shuffled));
        prop_assert!(fa.is_some());
        prop_assert_eq!(fa, fb);
    }

    #[test]
    fn the_blend_does_not_depend_on_the_order_of_candidates(
        mut c in prop::collection::vec(candidate(), 0..12),
        reference in prop::option::of(1i64..2_000_000),
        rotate in any::<prop::sample::Index>(),
    ) {
        let at = at(40 * DAY);
        let once = fair::blend(&c, reference, at);
        let k = if c.is_empty() { 0 } else { rotate.index(c.len()) };
        c.rotate_left(k);
        c.reverse();
        prop_assert_eq!(fair::blend(&c, reference, at), once.clone());
        if c.is_empty() {
            prop_assert!(once.is_none(), "no sources, no value");
        }
    }

    #[test]
    fn one_wild_source_cannot_move_the_fair_value_beyond_the_rule(
        prior in 100i64..100_000,
        sane in prop::collection::vec((0..INPUTS.len(), 50i64..200), 1..8),
        wild in candidate(),
    ) {
        let at = at(40 * DAY);
        let sane: Vec<Candidate> = sane
            .into_iter()
            .map(|(i, pct)| Candidate {
                source: INPUTS[i].source,
                kind: INPUTS[i].kind,
                group: INPUTS[i].group,
                cents: prior * pct / 100,
                weight: INPUTS[i].max_weight,
                observed_at: at,
            })
            .collect();
        let mut all = sane.clone();
        all.push(wild);
        let f = fair::blend(&all, Some(prior), at).unwrap();
        let lo = sane.iter().map(|c| c.cents).min().unwrap();
        let hi = sane.iter().map(|c| c.cents).max().unwrap();
        // A wild source outweighed by the others stays within them…
        let sane_weight: u32 = sane.iter().map(|c| c.weight).sum();
        if sane_weight > wild.weight {
            prop_assert!(lo <= f.cents && f.cents <= hi, "{f:?} outside {lo}..={hi}");
        }
        // …and one outweighed by them and the last value together never leaves the band
        // around them.
        if sane_weight + fair::PRIOR_WEIGHT > wild.weight {
            prop_assert!(f.cents * fair::BAND >= lo.min(prior) && f.cents <= hi.max(prior) * fair::BAND);
        }
    }

    #[test]
    fn one_wild_quote_through_the_processor_stays_within_the_others(
        wild_cents in 1i64..1_000_000_000,
        wild_source in 0usize..3,
    ) {
        let mut p = Processor::new(CoreConfig::default());
        feed(&mut p, &calm(7));
        let q = match wild_source {
            0 => priced(Source::Tcgcsv, PriceKind::Market, 7, wild_cents, DAY),
            1 => priced(Source::Tcgplayer, PriceKind::High, 7, wild_cents, DAY),
            _ => listing("wild", 7, NM_TITLE, wild_cents, 0, DAY),
        };
        let outs = feed(&mut p, &[q]);
        for t in outs.iter().flat_map(fair_ticks) {
            prop_assert!((990..=1_010).contains(&t.price_usd.minor), "{t:?}");
        }
    }
}

#[test]
fn a_far_listing_is_held_back_while_the_last_fair_value_is_recent() {
    // A graded card priced by eBay listings only: one at $10 makes the fair value; a second at
    // $600 makes their median $305, over ten times the recent fair value: held back.
    let mut p = Processor::new(CoreConfig::default());
    feed(&mut p, &[listing("a", 9, NM_TITLE, 1_000, 0, 0)]);
    let held = feed(&mut p, &[listing("b", 9, NM_TITLE, 60_000, 0, 3_600)]);
    assert!(fair_ticks(&held[0]).is_empty(), "{:?}", held[0].ticks);
    // A week on, the old listings and the old fair value have aged out: $600 it is.
    let later = fair::REFERENCE_TTL_SECS + 7_200;
    let out = feed(&mut p, &[listing("c", 9, NM_TITLE, 60_000, 0, later)]);
    assert_eq!(last_fair(&out), Some(60_000));
}
