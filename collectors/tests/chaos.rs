//! Every collector against the simulator with every fault switched on: the run goes on and
//! says what happened in metrics.

#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{collections::HashMap, sync::Arc};

use common::start_sim;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tcg_collectors::{
    CollectConfig, VecSink,
    http::{BreakerConfig, HttpConfig, RetryConfig},
    run_collectors, telemetry,
};
use tcg_schemas::{CategoryId, FxRates, ProductId, TrackedCard, Wanted};
use tcg_simulator::{FaultConfig, SimConfig};
use tokio::sync::watch;

#[test]
fn a_run_with_every_fault_keeps_going_and_reports_in_metrics() {
    let sim = start_sim(SimConfig {
        seed: 99,
        categories: vec![3],
        sets_per_game: 2,
        cards_per_set: 20,
        faults: FaultConfig {
            rate_429: 0.08,
            rate_500: 0.08,
            rate_hang: 0.04,
            rate_malformed: 0.08,
            rate_expired_token: 0.08,
            retry_after_secs: 1,
            hang_ms: 600,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let http = HttpConfig {
        min_interval_ms: 0,
        request_timeout_ms: 300,
        retry: RetryConfig {
            max_retries: 2,
            base_delay_ms: 20,
            max_delay_ms: 200,
            max_retry_after_ms: 500, // 429s (Retry-After: 1) go back to the source: quick test
        },
        breaker: BreakerConfig {
            failure_threshold: 20,
            cool_down_ms: 300,
        },
        ..HttpConfig::default()
    };
    let mut config = CollectConfig::for_simulator(&sim.base_url);
    if let Some(t) = config.tcgplayer.as_mut() {
        t.http = http.clone();
        t.poll_interval_secs = 0;
        t.page_size = 10;
        t.pricing_batch = 20;
    }
    if let Some(t) = config.tcgcsv.as_mut() {
        t.http = http.clone();
        t.poll_interval_secs = 0;
    }
    if let Some(e) = config.ebay.as_mut() {
        e.http = http.clone();
        e.daily_budget = 1000;
        e.budget_window_secs = 50; // one call every 50 ms
    }
    if let Some(e) = config.ecb.as_mut() {
        e.http = http.clone();
    }
    // The other markets have their own fault tests (and, with no catalog here, would only
    // wait for one between their passes).
    config.cardmarket = None;
    config.scryfall = None;
    config.cardkingdom = None;
    config.pricecharting = None;
    config.justtcg = None;
    let card = |i: usize| {
        let p = &sim.handle.catalog().products[i];
        TrackedCard {
            product_id: ProductId(p.product_id),
            category_id: CategoryId(p.category_id),
            name: p.name.clone(),
            number: p.number.clone(),
            set_name: None,
            set_code: None,
            printing: None,
            language: None,
            want: Wanted::Any,
        }
    };
    let (_tx, tracked) = watch::channel(vec![card(0), card(5), card(9)]);
    let (fx_tx, fx_rx) = watch::channel(FxRates::default());
    let sink = Arc::new(VecSink::new());

    let summary = metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run_collectors(
                config,
                tracked.into(),
                sink.clone(),
                Some(fx_tx),
                Some(4),
                std::future::pending(),
            ))
    })
    .unwrap();

    let by_source: HashMap<&str, u64> = summary
        .sources
        .iter()
        .map(|(n, r)| (*n, r.totals.quotes))
        .collect();
    for name in ["tcgplayer", "tcgcsv", "ebay_browse"] {
        assert!(
            by_source.get(name).copied().unwrap_or(0) > 0,
            "{name}: {summary:?}"
        );
    }
    assert_eq!(sink.len() as u64, summary.quotes());
    // (A snapshot drains the debugging recorder's counters: take one.)
    let snapshot = snapshotter.snapshot().into_vec();
    // ECB rates arrive unless every try in this short run met a fault; either way it is counted.
    let ecb_errors = snapshot.iter().any(|(k, _, _, _)| {
        k.key().name() == telemetry::ERRORS && k.key().labels().any(|l| l.value() == "ecb")
    });
    assert!(!fx_rx.borrow().as_of.is_empty() || ecb_errors);

    let mut counters: HashMap<(String, String), u64> = HashMap::new();
    for (key, _, _, value) in snapshot {
        if let DebugValue::Counter(n) = value {
            let k = key.key();
            let label = k
                .labels()
                .filter(|l| l.key() == "kind" || l.key() == "source")
                .map(|l| l.value().to_owned())
                .collect::<Vec<_>>()
                .join("/");
            *counters.entry((k.name().to_owned(), label)).or_default() += n;
        }
    }
    let total = |name: &str| {
        counters
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    assert_eq!(total(telemetry::QUOTES), summary.quotes());
    assert!(total(telemetry::REQUESTS) > 20);
    assert!(total(telemetry::RETRIES) > 0);
    let error_kinds: Vec<&String> = counters
        .keys()
        .filter(|(n, _)| n == telemetry::ERRORS)
        .map(|(_, l)| l)
        .collect();
    assert!(error_kinds.len() >= 3, "{error_kinds:?}");
    let stats = sim.handle.stats();
    let kinds = [
        stats.faults_429,
        stats.faults_500,
        stats.faults_hang,
        stats.faults_malformed,
        stats.faults_expired_token,
    ];
    assert!(kinds.iter().filter(|&&n| n > 0).count() >= 3, "{stats:?}");
}
