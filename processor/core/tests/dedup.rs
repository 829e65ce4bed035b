//! Replays, unchanged prices, heartbeats, repeated listings, caps and snapshots.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use tcg_processor_core::{CoreConfig, Processor};
use tcg_schemas::{PriceKind, RuleCondition};

#[test]
fn replaying_a_quote_yields_nothing_new() {
    let mut p = Processor::new(CoreConfig::default());
    let q = market(7, 1000, 0);
    assert_eq!(quoted(&p.process(now(), std::slice::from_ref(&q))).len(), 1);
    let out = p.process(now(), &[q.clone(), q]);
    assert!(out.ticks.is_empty(), "nor a fair value");
    assert_eq!(out.stats.duplicates, 2);
}

#[test]
fn older_observations_of_a_stream_are_duplicates() {
    let mut p = Processor::new(CoreConfig::default());
    p.process(now(), &[market(7, 1000, 100)]);
    let out = p.process(now(), &[market(7, 1200, 50)]);
    assert!(out.ticks.is_empty());
    assert_eq!(out.stats.duplicates, 1);
}

#[test]
fn unchanged_price_gives_heartbeats_at_the_interval_only() {
    let cfg = CoreConfig {
        heartbeat_secs: 3600,
        ..CoreConfig::default()
    };
    let mut p = Processor::new(cfg);
    let kinds: Vec<(usize, bool)> = [0, 600, 1200, 3600, 4000, 7200, 7300]
        .into_iter()
        .map(|t| {
            let out = p.process(now(), &[market(7, 1000, t)]);
            (
                quoted(&out).len(),
                quoted(&out).first().is_some_and(|t| t.heartbeat),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, false),
            (0, false),
            (0, false),
            (1, true), // 3600 s after the last emitted tick
            (0, false),
            (1, true),
            (0, false)
        ]
    );
    let out = p.process(now(), &[market(7, 1001, 7301)]);
    assert_eq!(quoted(&out).len(), 1);
    assert!(!quoted(&out)[0].heartbeat, "a changed price is a real tick");
}

#[test]
fn heartbeats_do_not_fire_rules() {
    let cfg = CoreConfig {
        heartbeat_secs: 60,
        ..CoreConfig::default()
    };
    let mut p = Processor::new(cfg);
    p.upsert_rule(rule(
        1,
        7,
        RuleCondition::PriceAbove {
            threshold_usd: usd(500),
        },
        0,
    ))
    .unwrap();
    assert_eq!(p.process(now(), &[market(7, 1000, 0)]).alerts.len(), 1);
    let out = p.process(now(), &[market(7, 1000, 120)]);
    assert!(quoted(&out)[0].heartbeat);
    assert!(out.alerts.is_empty());
}

#[test]
fn kinds_and_sources_are_separate_streams() {
    let mut p = Processor::new(CoreConfig::default());
    let mut low = market(7, 1000, 0);
    low.kind = PriceKind::Low;
    let mut api = market(7, 1000, 0);
    api.source = tcg_schemas::Source::Tcgplayer;
    let out = p.process(now(), &[market(7, 1000, 0), low, api]);
    assert_eq!(quoted(&out).len(), 3);
}

#[test]
fn a_listing_seen_again_at_the_same_price_yields_nothing() {
    let mut p = Processor::new(CoreConfig::default());
    let title = "Charizard ex 199/165 Holo NM Pokemon 151";
    let first = p.process(now(), &[listing("v1|9|0", 7, title, 20_000, 0, 0)]);
    assert_eq!(quoted(&first).len(), 1, "{:?}", first.rejected);
    assert_eq!(quoted(&first)[0].series_id, "7/holofoil/nm/en");
    assert_eq!(quoted(&first)[0].listing_id.as_deref(), Some("v1|9|0"));
    let again = p.process(now(), &[listing("v1|9|0", 7, title, 20_000, 0, 3600)]);
    assert!(quoted(&again).is_empty());
    assert_eq!(again.stats.unchanged, 1);
    let cheaper = p.process(now(), &[listing("v1|9|0", 7, title, 18_000, 0, 7200)]);
    assert_eq!(
        quoted(&cheaper).len(),
        1,
        "a price change of the same item is a tick"
    );
    let replay = p.process(now(), &[listing("v1|9|0", 7, title, 18_000, 0, 7200)]);
    assert_eq!(replay.stats.duplicates, 1);
}

#[test]
fn streams_are_capped_with_least_recently_seen_eviction() {
    // Each market price has its series' fair value beside it: two streams per series.
    let cfg = CoreConfig {
        max_streams: 6,
        ..CoreConfig::default()
    };
    let mut p = Processor::new(cfg);
    p.process(
        now(),
        &[market(1, 100, 0), market(2, 100, 0), market(3, 100, 0)],
    );
    // Touch 1 so that 2 is the least recently seen.
    p.process(now(), &[market(1, 101, 10)]);
    let out = p.process(now(), &[market(4, 100, 20)]);
    assert_eq!(out.stats.evicted, 2);
    assert_eq!(p.streams_in_memory(), 6);
    // 1 and 3 are remembered (replays are duplicates); 2 was forgotten (its replay is new).
    let out = p.process(now(), &[market(1, 101, 10), market(3, 100, 0)]);
    assert_eq!(out.stats.duplicates, 2);
    let out = p.process(now(), &[market(2, 100, 0)]);
    assert_eq!(quoted(&out).len(), 1);
}

#[test]
fn snapshot_and_restore_continue_exactly() {
    let cfg = CoreConfig {
        heartbeat_secs: 600,
        ..CoreConfig::default()
    };
    let first: Vec<_> = (0..20)
        .map(|i| market(i % 4, 100 + i as i64 % 3, i as i64 * 100))
        .collect();
    let second: Vec<_> = (20..60)
        .map(|i| market(i % 4, 100 + i as i64 % 5, i as i64 * 100))
        .collect();

    let mut straight = Processor::new(cfg.clone());
    straight
        .upsert_rule(rule(
            1,
            2,
            RuleCondition::PriceAbove {
                threshold_usd: usd(102),
            },
            0,
        ))
        .unwrap();
    straight.process(now(), &first);
    let expected = straight.process(now(), &second);

    let mut before = Processor::new(cfg.clone());
    before
        .upsert_rule(rule(
            1,
            2,
            RuleCondition::PriceAbove {
                threshold_usd: usd(102),
            },
            0,
        ))
        .unwrap();
    before.process(now(), &first);
    let json = serde_json::to_string(&before.snapshot()).unwrap();
    let mut after = Processor::restore(cfg, serde_json::from_str(&json).unwrap()).unwrap();
    let got = after.process(now(), &second);
    assert_eq!(got, expected);
    assert!(!got.alerts.is_empty());
    assert_eq!(after.snapshot(), straight.snapshot());
}

#[test]
fn a_rejected_listing_is_not_reported_again_until_its_title_changes() {
    let mut p = Processor::new(CoreConfig::default());
    let lot = "Lot of 10 Pokemon cards Charizard ex 199/165";
    let first = p.process(now(), &[listing("v1|5|0", 7, lot, 5_000, 0, 0)]);
    assert_eq!(first.rejected.len(), 1);
    assert_eq!(first.rejected[0].reason, tcg_schemas::RejectReason::Lot);
    let repoll = p.process(now(), &[listing("v1|5|0", 7, lot, 4_500, 0, 3600)]);
    assert!(repoll.rejected.is_empty() && quoted(&repoll).is_empty());
    assert_eq!(repoll.stats.unchanged, 1);
    // The seller edits the listing into a single card: judged afresh.
    let single = "Charizard ex 199/165 Holo NM Pokemon 151";
    let edited = p.process(now(), &[listing("v1|5|0", 7, single, 4_500, 0, 7200)]);
    assert_eq!(quoted(&edited).len(), 1, "{:?}", edited.rejected);
    // A new price of a priced item reuses the classification and is a tick.
    let cheaper = p.process(now(), &[listing("v1|5|0", 7, single, 4_000, 0, 9000)]);
    assert_eq!(quoted(&cheaper).len(), 1);
    assert_eq!(quoted(&cheaper)[0].series_id, quoted(&edited)[0].series_id);
}
