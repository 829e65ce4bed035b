//! Each rule kind through the processor, with cooldown and window edges.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use tcg_processor_core::{CoreConfig, Processor};
use tcg_schemas::{Direction, PriceKind, RawQuote, RuleCondition, SeriesFilter, Source, Trigger};

fn core_with(rule: tcg_schemas::AlertRule) -> Processor {
    let mut p = Processor::new(CoreConfig::default());
    p.upsert_rule(rule).unwrap();
    p
}

/// Feeds quotes one batch each and returns the number of alerts after each.
fn fire_counts(p: &mut Processor, quotes: Vec<RawQuote>) -> Vec<usize> {
    quotes
        .into_iter()
        .map(|q| p.process(now(), &[q]).alerts.len())
        .collect()
}

#[test]
fn price_above_fires_on_crossing_only() {
    let mut p = core_with(rule(
        1,
        7,
        RuleCondition::PriceAbove {
            threshold_usd: usd(1000),
        },
        0,
    ));
    let fired = fire_counts(
        &mut p,
        vec![
            market(7, 900, 0),
            market(7, 1001, 60),  // crosses: fires
            market(7, 1100, 120), // still above: quiet
            market(7, 1000, 180), // at threshold: not above
            market(7, 1050, 240), // crosses again: fires
        ],
    );
    assert_eq!(fired, vec![0, 1, 0, 0, 1]);
}

#[test]
fn price_above_fires_when_first_seen_above() {
    let mut p = core_with(rule(
        1,
        7,
        RuleCondition::PriceAbove {
            threshold_usd: usd(1000),
        },
        0,
    ));
    let out = p.process(now(), &[market(7, 1500, 0)]);
    assert_eq!(out.alerts.len(), 1);
    let alert = &out.alerts[0];
    assert_eq!(
        alert.trigger,
        Trigger::PriceAbove {
            threshold_usd: usd(1000)
        }
    );
    assert_eq!(alert.price_usd, usd(1500));
    assert_eq!(alert.series_id, "7/holofoil/nm/en");
    assert!(
        alert.message.contains("rose above $10.00"),
        "{}",
        alert.message
    );
}

#[test]
fn price_below_with_cooldown_suppresses_flapping() {
    let mut p = core_with(rule(
        1,
        7,
        RuleCondition::PriceBelow {
            threshold_usd: usd(500),
        },
        3600,
    ));
    let fired = fire_counts(
        &mut p,
        vec![
            market(7, 600, 0),
            market(7, 499, 100),  // fires
            market(7, 501, 200),  // back above
            market(7, 480, 300),  // crosses again within cooldown: suppressed
            market(7, 520, 3000), // above
            market(7, 470, 3700), // crosses, cooldown over (3700 - 100 ≥ 3600): fires
        ],
    );
    assert_eq!(fired, vec![0, 1, 0, 0, 0, 1]);
}

#[test]
fn a_stored_cooldown_below_the_minimum_is_read_as_the_minimum() {
    use tcg_processor_core::rules::MIN_COOLDOWN_SECS;
    assert_eq!(MIN_COOLDOWN_SECS, 60);
    let below = |cooldown| {
        core_with(rule(
            1,
            7,
            RuleCondition::PriceBelow {
                threshold_usd: usd(500),
            },
            cooldown,
        ))
    };
    for cooldown in [0, 1, 59] {
        let fired = fire_counts(
            &mut below(cooldown),
            vec![
                market(7, 400, 0), // fires
                market(7, 600, 10),
                market(7, 400, 20), // crosses again 20 s later: suppressed
                market(7, 600, 30),
                market(7, 400, 60), // a minute later: fires
            ],
        );
        assert_eq!(fired, vec![1, 0, 0, 0, 1], "cooldown {cooldown}");
        let fired = fire_counts(
            &mut below(cooldown),
            vec![market(7, 400, 0), market(7, 600, 10), market(7, 400, 59)],
        );
        assert_eq!(fired, vec![1, 0, 0], "cooldown {cooldown}: 59 s later");
    }
    // Every eBay listing is news, but not more than once a minute per series either.
    let mut p = below(0);
    let title = "Charizard ex 199/165 Holo NM Pokemon 151";
    let fired: Vec<usize> = (0..5)
        .map(|i| {
            let q = listing(&format!("v1|{i}|0"), 7, title, 300, 0, i * 20);
            p.process(now(), &[q]).alerts.len()
        })
        .collect();
    assert_eq!(
        fired,
        vec![1, 0, 0, 1, 0],
        "listings at 0, 20, 40, 60, 80 s"
    );
}

#[test]
fn cooldown_edge_is_inclusive() {
    let mut p = core_with(rule(
        1,
        7,
        RuleCondition::PriceBelow {
            threshold_usd: usd(500),
        },
        100,
    ));
    let fired = fire_counts(
        &mut p,
        vec![
            market(7, 400, 0), // fires
            market(7, 600, 50),
            market(7, 400, 99), // 99 s after: suppressed
            market(7, 600, 100),
            market(7, 400, 101), // 101 s after: fires
        ],
    );
    assert_eq!(fired, vec![1, 0, 0, 0, 1]);
    let mut p = core_with(rule(
        1,
        7,
        RuleCondition::PriceBelow {
            threshold_usd: usd(500),
        },
        100,
    ));
    let fired = fire_counts(
        &mut p,
        vec![market(7, 400, 0), market(7, 600, 50), market(7, 400, 100)],
    );
    assert_eq!(
        fired,
        vec![1, 0, 1],
        "exactly cooldown later may fire again"
    );
}

#[test]
fn percent_change_up_within_window() {
    let cond = RuleCondition::PercentChange {
        percent: "10".parse().unwrap(),
        window_secs: 3600,
        direction: Direction::Up,
        min_confirming_sources: None,
    };
    let mut p = core_with(rule(1, 7, cond, 0));
    let out = fire_counts(
        &mut p,
        vec![
            market(7, 1000, 0),
            market(7, 1099, 1800), // +9.9%: quiet
            market(7, 1100, 3600), // +10% against the price exactly one window ago: fires
        ],
    );
    assert_eq!(out, vec![0, 0, 1]);
}

#[test]
fn percent_change_window_edge_excludes_older_points() {
    let cond = RuleCondition::PercentChange {
        percent: "10".parse().unwrap(),
        window_secs: 3600,
        direction: Direction::Either,
        min_confirming_sources: None,
    };
    let mut p = core_with(rule(1, 7, cond, 0));
    // The 1000 point is 3601 s old when 1100 arrives: outside the window; the reference is
    // 1090, exactly 3600 s old (inside), and +0.9% does not fire.
    let out = fire_counts(
        &mut p,
        vec![
            market(7, 1000, 0),
            market(7, 1090, 1),
            market(7, 1100, 3601),
        ],
    );
    assert_eq!(out, vec![0, 0, 0]);
    // At 3602 the oldest point inside the window is 1100 (t = 3601).
    let out = p.process(now(), &[market(7, 900, 3602)]);
    assert_eq!(out.alerts.len(), 1);
    match &out.alerts[0].trigger {
        Trigger::PercentChange {
            from_usd,
            change_percent,
            since,
            confirmed_by,
            sources_priced,
        } => {
            assert_eq!(*from_usd, usd(1100));
            assert_eq!(*since, at(3601));
            assert_eq!(change_percent.to_string(), "-18.18");
            // TCGCSV alone prices the series: a single-source move.
            assert_eq!((*confirmed_by, *sources_priced), (Some(1), Some(1)));
        }
        other => panic!("unexpected trigger {other:?}"),
    }
}

#[test]
fn percent_change_direction_down_ignores_rises() {
    let cond = RuleCondition::PercentChange {
        percent: "20".parse().unwrap(),
        window_secs: 86_400,
        direction: Direction::Down,
        min_confirming_sources: None,
    };
    let mut p = core_with(rule(1, 7, cond, 0));
    let out = fire_counts(
        &mut p,
        vec![market(7, 1000, 0), market(7, 1500, 10), market(7, 800, 20)],
    );
    assert_eq!(out, vec![0, 0, 1]);
}

#[test]
fn new_low_and_new_high_over_days() {
    let day = 86_400;
    let mut p = core_with(rule(1, 7, RuleCondition::NewLow { days: 7 }, 0));
    p.upsert_rule(rule(2, 7, RuleCondition::NewHigh { days: 7 }, 0))
        .unwrap();
    let quotes = vec![
        market(7, 1000, 0),
        market(7, 900, day), // 2nd observation: needs 2 before it may fire: quiet
        market(7, 950, 2 * day), // between: quiet
        market(7, 899, 3 * day), // new 7-day low
        market(7, 1001, 4 * day), // new 7-day high
        market(7, 1000, 6 * day), // neither
        market(7, 990, 12 * day), // days 5..=12 hold only 1000 → new low (900 on day 1 is too old)
        market(7, 995, 20 * day), // nothing observed in days 13..=20 → no claim either way
    ];
    let alerts: Vec<Vec<&'static str>> = quotes
        .into_iter()
        .map(|q| {
            p.process(now(), &[q])
                .alerts
                .iter()
                .map(|a| match a.trigger {
                    Trigger::NewLow { .. } => "low",
                    Trigger::NewHigh { .. } => "high",
                    _ => "other",
                })
                .collect()
        })
        .collect();
    assert_eq!(
        alerts,
        vec![
            vec![],
            vec![],
            vec![],
            vec!["low"],
            vec!["high"],
            vec![],
            vec!["low"],
            vec![]
        ]
    );
}

#[test]
fn deal_compares_listing_plus_shipping_with_market_of_the_same_series() {
    let mut deal = rule(
        1,
        7,
        RuleCondition::Deal {
            percent: "20".parse().unwrap(),
        },
        0,
    );
    deal.filter = SeriesFilter {
        kind: Some(PriceKind::Listing),
        ..SeriesFilter::default()
    };
    let mut p = core_with(deal);
    p.process(now(), &[market(7, 10_000, 0)]);
    let title = "Charizard ex 199/165 Holo NM Pokemon Scarlet Violet 151";
    // 7500 + 500 shipping = 8000: exactly 20% under market → fires
    let out = p.process(now(), &[listing("v1|1|0", 7, title, 7500, 500, 10)]);
    assert_eq!(quoted(&out).len(), 1, "{:?}", out.rejected);
    assert_eq!(quoted(&out)[0].series_id, "7/holofoil/nm/en");
    assert_eq!(out.alerts.len(), 1);
    assert!(
        matches!(out.alerts[0].trigger, Trigger::Deal { market_usd, .. } if market_usd == usd(10_000))
    );
    // 8001 is not 20% under
    let out = p.process(now(), &[listing("v1|2|0", 7, title, 7501, 500, 20)]);
    assert!(out.alerts.is_empty());
}

#[test]
fn a_listing_without_a_stated_condition_is_a_deal_against_the_near_mint_market() {
    let mut deal = rule(
        1,
        7,
        RuleCondition::Deal {
            percent: "20".parse().unwrap(),
        },
        3600,
    );
    deal.filter = SeriesFilter {
        kind: Some(PriceKind::Listing),
        ..SeriesFilter::default()
    };
    let mut p = core_with(deal);
    p.process(now(), &[market(7, 10_000, 0)]);
    // No condition in the title and eBay's "Ungraded": its own series, compared with the Near
    // Mint market of the same printing and language.
    let title = "Charizard ex 199/165 Pokemon Scarlet Violet 151 Holo";
    let out = p.process(now(), &[listing("v1|1|0", 7, title, 6500, 500, 10)]);
    assert_eq!(quoted(&out).len(), 1, "{:?}", out.rejected);
    assert_eq!(quoted(&out)[0].series_id, "7/holofoil/~Ungraded/en");
    assert_eq!(out.alerts.len(), 1);
    assert!(matches!(
        out.alerts[0].trigger,
        Trigger::Deal { market_usd, .. } if market_usd == usd(10_000)
    ));
    // The same listing polled again changes nothing: no second alert.
    let out = p.process(now(), &[listing("v1|1|0", 7, title, 6500, 500, 70)]);
    assert!(out.alerts.is_empty(), "{:?}", out.alerts);
}

/// A Card Kingdom buylist price of `product`'s Near Mint Holofoil, wanting `quantity` copies.
fn buylist(product: u64, cents: i64, quantity: u32, t: i64) -> RawQuote {
    RawQuote {
        source: Source::Cardkingdom,
        kind: PriceKind::Buylist,
        price: tcg_schemas::Money::usd_cents(cents),
        subject: tcg_schemas::Subject::Market(Box::new(tcg_schemas::MarketRow {
            category_id: tcg_schemas::CategoryId(3),
            product_id: tcg_schemas::ProductId(product),
            external_id: format!("ck-{product}"),
            mapping: tcg_schemas::Mapping {
                method: tcg_schemas::MappingMethod::NameNumberSet,
                confidence: 95,
            },
            printing: "Holofoil".into(),
            condition: None,
            language: None,
            graded: None,
            quantity: Some(quantity),
        })),
        ..market(product, cents, t)
    }
}

#[test]
fn buylist_above_fires_when_a_buying_shop_pays_the_share_of_market() {
    let mut r = rule(
        1,
        7,
        RuleCondition::BuylistAbove {
            percent: "70".parse().unwrap(),
        },
        60,
    );
    r.filter = SeriesFilter {
        kind: Some(PriceKind::Buylist),
        ..SeriesFilter::default()
    };
    let mut p = core_with(r);
    p.process(now(), &[market(7, 10_000, 0)]);
    // 69.99 % of market: no alert; a shop not buying: rejected, no alert, whatever its price.
    let out = p.process(now(), &[buylist(7, 6_999, 5, 10)]);
    assert_eq!(quoted(&out).len(), 1);
    assert!(out.alerts.is_empty());
    let out = p.process(now(), &[buylist(7, 9_000, 0, 20)]);
    assert!(out.alerts.is_empty());
    assert_eq!(out.rejected[0].reason, tcg_schemas::RejectReason::NotBuying);
    // Exactly 70 %: fires once, saying the share and the market.
    let out = p.process(now(), &[buylist(7, 7_000, 5, 30)]);
    assert_eq!(quoted(&out)[0].series_id, "7/holofoil/nm/en");
    assert_eq!(out.alerts.len(), 1, "{:?}", out.rejected);
    assert!(matches!(
        &out.alerts[0].trigger,
        Trigger::BuylistAbove { market_usd, share_percent }
            if *market_usd == usd(10_000) && share_percent.to_string() == "70.00"
    ));
    // Still above: an aggregate fires when the condition starts to hold, not on every poll.
    let out = p.process(now(), &[buylist(7, 7_100, 5, 200)]);
    assert!(out.alerts.is_empty());
}

#[test]
fn buylist_rules_are_validated() {
    let config = CoreConfig::default();
    let mut r = rule(
        1,
        7,
        RuleCondition::BuylistAbove {
            percent: "0".parse().unwrap(),
        },
        60,
    );
    assert!(tcg_processor_core::rules::validate(&r, &config).is_err());
    r.condition = RuleCondition::BuylistAbove {
        percent: "80".parse().unwrap(),
    };
    assert!(tcg_processor_core::rules::validate(&r, &config).is_ok());
    r.filter.kind = Some(PriceKind::Market);
    let e = tcg_processor_core::rules::validate(&r, &config).unwrap_err();
    assert!(e.to_string().contains("filter.kind"), "{e}");
}

#[test]
fn filters_and_pause_are_respected() {
    let mut r = rule(
        1,
        7,
        RuleCondition::PriceAbove {
            threshold_usd: usd(100),
        },
        0,
    );
    r.filter.source = Some(Source::Tcgplayer);
    let mut p = core_with(r.clone());
    assert!(
        p.process(now(), &[market(7, 500, 0)]).alerts.is_empty(),
        "tcgcsv is filtered out"
    );
    r.filter.source = None;
    r.paused = true;
    r.updated_at = at(1);
    p.upsert_rule(r.clone()).unwrap();
    assert!(
        p.process(now(), &[market(7, 600, 10)]).alerts.is_empty(),
        "paused"
    );
    r.paused = false;
    r.updated_at = at(2);
    p.upsert_rule(r).unwrap();
    assert_eq!(p.process(now(), &[market(7, 700, 20)]).alerts.len(), 1);
    // other product: no rule
    assert!(p.process(now(), &[market(8, 700, 20)]).alerts.is_empty());
}

#[test]
fn low_and_mid_kinds_are_not_watched_unless_asked() {
    let mut p = core_with(rule(
        1,
        7,
        RuleCondition::PriceAbove {
            threshold_usd: usd(100),
        },
        0,
    ));
    let mut q = market(7, 500, 0);
    q.kind = PriceKind::Mid;
    assert!(p.process(now(), &[q]).alerts.is_empty());
}

#[test]
fn deleted_rules_stop_firing_and_alert_ids_are_stable() {
    let r = rule(
        1,
        7,
        RuleCondition::PriceAbove {
            threshold_usd: usd(100),
        },
        0,
    );
    let mut a = core_with(r.clone());
    let mut b = core_with(r.clone());
    let ida = a.process(now(), &[market(7, 500, 0)]).alerts[0].id;
    let idb = b.process(now(), &[market(7, 500, 0)]).alerts[0].id;
    assert_eq!(ida, idb);
    a.apply_rule_change(tcg_schemas::RuleChange::Delete {
        rule_id: r.id,
        owner: r.owner.clone(),
    })
    .unwrap();
    assert!(a.rules().is_empty());
    assert!(
        a.process(now(), &[market(7, 50, 10), market(7, 500, 20)])
            .alerts
            .is_empty()
    );
}

#[test]
fn invalid_rules_are_refused_with_the_field() {
    let mut p = Processor::new(CoreConfig::default());
    let bad = rule(
        1,
        7,
        RuleCondition::PercentChange {
            percent: "0".parse().unwrap(),
            window_secs: 3600,
            direction: Direction::Up,
            min_confirming_sources: None,
        },
        0,
    );
    assert_eq!(p.upsert_rule(bad).unwrap_err().field, "condition.percent");
    let bad = rule(1, 7, RuleCondition::NewLow { days: 0 }, 0);
    assert_eq!(p.upsert_rule(bad).unwrap_err().field, "condition.days");
    let bad = rule(
        1,
        7,
        RuleCondition::PriceAbove {
            threshold_usd: usd(-5),
        },
        0,
    );
    assert_eq!(
        p.upsert_rule(bad).unwrap_err().field,
        "condition.threshold_usd.amount"
    );
    let bad = rule(
        1,
        7,
        RuleCondition::PercentChange {
            percent: "5".parse().unwrap(),
            window_secs: 10,
            direction: Direction::Up,
            min_confirming_sources: None,
        },
        0,
    );
    assert_eq!(
        p.upsert_rule(bad).unwrap_err().field,
        "condition.window_secs"
    );
    assert!(p.rules().is_empty());
}
