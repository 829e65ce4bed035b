//! The outlier rule, the blend and the confidence on hand-made candidates.

use super::*;

const AT: i64 = 1_714_521_600;

fn at() -> Timestamp {
    Timestamp::from_secs(AT)
}

/// A candidate of the input (source, kind), `cents`, observed `age` seconds before [`at`].
fn c(source: Source, kind: PriceKind, cents: i64, age: i64) -> Candidate {
    let i = input(source, kind).unwrap();
    Candidate {
        source,
        kind,
        group: i.group,
        cents,
        weight: i.weight,
        observed_at: Timestamp::from_secs(AT - age),
    }
}

fn market(source: Source, cents: i64) -> Candidate {
    c(source, PriceKind::Market, cents, 3_600)
}

fn sold(cents: i64, sales: u32) -> Candidate {
    Candidate {
        weight: 3 * sales,
        ..c(Source::EbaySold, PriceKind::Sold, cents, 3_600)
    }
}

fn listing(cents: i64) -> Candidate {
    c(Source::EbayBrowse, PriceKind::Listing, cents, 3_600)
}

#[test]
fn the_band_is_a_tenth_to_ten_times_both_ends_included() {
    assert!(in_band(100, 1_000) && in_band(10_000, 1_000) && in_band(1_000, 1_000));
    assert!(!in_band(99, 1_000) && !in_band(10_001, 1_000));
    assert!(agrees(1_150, 1_000) && agrees(850, 1_000));
    assert!(!agrees(1_151, 1_000) && !agrees(849, 1_000));
}

#[test]
fn every_input_has_a_bit_in_a_mask() {
    assert!(INPUTS.len() <= 32);
    assert_eq!(input_bit(Source::Tcgplayer, PriceKind::Market), Some(1));
    assert_eq!(input_bit(Source::Tcgplayer, PriceKind::High), None);
}

#[test]
fn parking_values_and_the_fair_value_itself_are_never_inputs() {
    assert!(input(Source::Tcgplayer, PriceKind::High).is_none());
    assert!(input(Source::Tcgcsv, PriceKind::High).is_none());
    assert!(input(Source::Tcgtracker, PriceKind::Fair).is_none());
    assert!(
        INPUTS
            .iter()
            .all(|i| i.kind != PriceKind::High && !i.source.is_computed())
    );
}

#[test]
fn the_weighted_median_takes_the_middle_of_the_weight() {
    assert_eq!(weighted_median(&[]), None);
    assert_eq!(weighted_median(&[(500, 0)]), None);
    assert_eq!(weighted_median(&[(100, 1), (200, 1), (900, 1)]), Some(200));
    assert_eq!(weighted_median(&[(100, 10), (200, 1), (900, 1)]), Some(100));
    // Exactly half on each side: the mean, rounded down.
    assert_eq!(weighted_median(&[(100, 1), (201, 1)]), Some(150));
}

#[test]
fn no_candidate_no_value() {
    assert_eq!(blend(&[], None, at()), None);
    assert_eq!(blend(&[], Some(1_000), at()), None);
}

#[test]
fn a_wild_value_outside_the_band_is_left_out_and_costs_confidence() {
    let sane = [
        market(Source::Tcgplayer, 1_000),
        sold(1_020, 3),
        listing(1_050),
    ];
    let base = blend(&sane, Some(1_000), at()).unwrap();
    let mut with_wild = sane.to_vec();
    with_wild.push(market(Source::Tcgcsv, 99_900));
    let f = blend(&with_wild, Some(1_000), at()).unwrap();
    assert_eq!(f.cents, base.cents);
    assert_eq!(
        f.cents, 1_010,
        "half the weight at 1000, half above: the mean"
    );
    assert!(f.confidence < base.confidence, "{f:?} vs {base:?}");
    assert!(!f.agreeing.contains(&Source::Tcgcsv));
    assert_eq!(
        f.agreeing,
        vec![Source::Tcgplayer, Source::EbayBrowse, Source::EbaySold]
    );
    // Without a reference the weighted median of the candidates is the reference: the same.
    assert_eq!(blend(&with_wild, None, at()).unwrap().cents, 1_010);
}

#[test]
fn a_single_listing_weighs_little() {
    let f = blend(
        &[market(Source::Tcgplayer, 1_000), listing(5_000)],
        Some(1_000),
        at(),
    )
    .unwrap();
    assert_eq!(f.cents, 1_000);
}

#[test]
fn the_reference_is_the_weight_of_the_sources_steadied_by_the_last_value() {
    // Last fair value $10; TCGplayer (API and TCGCSV) and eBay sales now all say $150: the
    // market moved, the last value weighs too little to hold it back.
    let moved = [
        market(Source::Tcgplayer, 15_000),
        market(Source::Tcgcsv, 15_000),
        sold(14_800, 4),
        listing(1_000),
    ];
    assert_eq!(blend(&moved, Some(1_000), at()).unwrap().cents, 15_000);
    // One of two market prices broken: the last value tips the balance.
    let broken = [
        market(Source::Tcgplayer, 1_000),
        market(Source::Tcgcsv, 99_900),
    ];
    assert_eq!(blend(&broken, Some(1_000), at()).unwrap().cents, 1_000);
    // A lone listing far from a recent fair value is left out: no value.
    assert_eq!(blend(&[listing(99_900)], Some(1_000), at()), None);
    // Without a last value it is all there is.
    assert_eq!(blend(&[listing(99_900)], None, at()).unwrap().cents, 99_900);
}

#[test]
fn confidence_counts_agreeing_sources_freshness_and_evidence() {
    let one = blend(&[market(Source::Tcgplayer, 1_000)], None, at()).unwrap();
    assert_eq!(one.confidence, 50);
    assert_eq!((one.groups_agreeing, one.groups_priced), (1, 1));
    // The mirror is the same source: no more confidence.
    let mirrored = [
        market(Source::Tcgplayer, 1_000),
        market(Source::Tcgcsv, 1_000),
    ];
    assert_eq!(blend(&mirrored, None, at()).unwrap().confidence, 50);
    // Sales agreeing: a second source.
    let two = [market(Source::Tcgplayer, 1_000), sold(1_050, 4)];
    assert_eq!(blend(&two, None, at()).unwrap().confidence, 80);
    // Three sources.
    let three = [
        market(Source::Tcgplayer, 1_000),
        sold(1_050, 4),
        listing(990),
    ];
    assert_eq!(blend(&three, None, at()).unwrap().confidence, 95);
    // Stale: a 3-day-old market is worth half its points, a 10-day-old one a quarter.
    let stale = [c(Source::Tcgplayer, PriceKind::Market, 1_000, 3 * 86_400)];
    assert_eq!(blend(&stale, None, at()).unwrap().confidence, 25);
    let staler = [c(Source::Tcgplayer, PriceKind::Market, 1_000, 10 * 86_400)];
    assert_eq!(blend(&staler, None, at()).unwrap().confidence, 12);
    // One listing alone: little evidence.
    assert_eq!(blend(&[listing(1_000)], None, at()).unwrap().confidence, 5);
    // Disagreement costs: a sales median 40 % above the market.
    let split = [market(Source::Tcgplayer, 1_000), sold(1_400, 2)];
    let f = blend(&split, None, at()).unwrap();
    assert_eq!((f.cents, f.confidence), (1_000, 31));
    assert_eq!(f.agreeing, vec![Source::Tcgplayer]);
    assert_eq!((f.groups_agreeing, f.groups_priced), (1, 2));
}

#[test]
fn freshness_steps() {
    assert_eq!(freshness(-10), 100);
    assert_eq!(freshness(36 * 3_600), 100);
    assert_eq!(freshness(36 * 3_600 + 1), 50);
    assert_eq!(freshness(7 * 86_400), 50);
    assert_eq!(freshness(7 * 86_400 + 1), 25);
}

#[test]
fn a_move_is_confirmed_by_half_as_much_the_same_way() {
    assert!(same_way((1_000, 1_500), (2_000, 2_500)));
    assert!(!same_way((1_000, 1_500), (2_000, 2_400)));
    assert!(!same_way((1_000, 1_500), (2_000, 1_000)));
    assert!(same_way((1_000, 500), (2_000, 1_500)));
    assert!(!same_way((1_000, 1_000), (2_000, 2_000)));
}
