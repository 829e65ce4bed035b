//! eBay Browse and Marketplace Insights against the simulator.

mod common;

use std::{collections::HashSet, sync::Arc, time::Duration};

use common::{paused_http, small_sim, start_sim};
use tcg_collectors::{
    CollectorError, Source, VecSink,
    ebay::{EbayConfig, EbaySource, InsightsConfig},
    run_source,
};
use tcg_schemas::{
    Grade, Grader, PriceKind, ProductId, Source as QuoteSource, Subject, TrackedCard, Wanted,
};

fn config(base: &str) -> EbayConfig {
    EbayConfig {
        base_url: base.to_owned(),
        client_id: "id".into(),
        client_secret: "secret".into(),
        page_size: 20,
        max_pages: 3,
        http: paused_http(),
        ..EbayConfig::default()
    }
}

fn tracked(sim: &common::SimThread, index: usize, want: Wanted) -> TrackedCard {
    let p = &sim.handle.catalog().products[index];
    TrackedCard {
        product_id: ProductId(p.product_id),
        category_id: tcg_schemas::CategoryId(p.category_id),
        name: p.name.clone(),
        number: p.number.clone(),
        set_name: Some(p.set_name.clone()),
        set_code: Some(p.set_code.clone()),
        printing: None,
        language: None,
        want,
    }
}

fn items(quotes: &[tcg_schemas::RawQuote]) -> Vec<&tcg_schemas::EbayItem> {
    quotes
        .iter()
        .filter_map(|q| match &q.subject {
            Subject::EbayItem(i) => Some(&**i),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn browse_finds_listings_for_tracked_cards_with_condition_filters() {
    let sim = start_sim(small_sim(4));
    let raw = tracked(&sim, 2, Wanted::Raw);
    let graded = tracked(
        &sim,
        2,
        Wanted::Graded {
            grader: Some(Grader::Psa),
            grade: Some(Grade::whole(10).unwrap()),
        },
    );
    let mut cfg = config(&sim.base_url);
    cfg.buying_options = vec!["FIXED_PRICE".into(), "AUCTION".into()];
    let mut source = EbaySource::browse(cfg, vec![raw.clone(), graded.clone()]).unwrap();
    let sink = VecSink::new();
    let first = source.collect(&sink).await.unwrap();
    let raw_quotes = sink.take();
    assert!(first.quotes > 0);
    assert!(
        raw_quotes
            .iter()
            .all(|q| q.source == QuoteSource::EbayBrowse && q.kind == PriceKind::Listing)
    );
    let raw_items = items(&raw_quotes);
    assert!(
        raw_items
            .iter()
            .all(|i| i.condition_id.as_deref() == Some("4000") && i.target == raw)
    );
    let ids: HashSet<&str> = raw_items.iter().map(|i| i.item_id.as_str()).collect();
    assert_eq!(ids.len(), raw_items.len(), "no item twice");
    assert!(raw_items.iter().all(|i| i.item_id.starts_with("v1|")));

    source.collect(&sink).await.unwrap();
    let graded_quotes = sink.take();
    let graded_items = items(&graded_quotes);
    assert!(
        graded_items
            .iter()
            .all(|i| i.condition_id.as_deref() == Some("2750") && i.target == graded)
    );
    assert_eq!(source.client().tokens_minted(), 1);
    let stats = sim.handle.stats();
    assert_eq!(stats.ebay_queries.len(), 2);
    assert!(stats.ebay_queries.keys().any(|q| q.ends_with("PSA 10")));

    // Same seed, same listings.
    let sim2 = start_sim(small_sim(4));
    let mut again = EbaySource::browse(
        EbayConfig {
            buying_options: vec!["FIXED_PRICE".into(), "AUCTION".into()],
            ..config(&sim2.base_url)
        },
        vec![raw],
    )
    .unwrap();
    again.collect(&sink).await.unwrap();
    let again_quotes = sink.take();
    let again_ids: HashSet<&str> = items(&again_quotes)
        .iter()
        .map(|i| i.item_id.as_str())
        .collect();
    assert_eq!(ids, again_ids);
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_once() {
    let sim = start_sim(small_sim(4));
    let mut source =
        EbaySource::browse(config(&sim.base_url), vec![tracked(&sim, 0, Wanted::Any)]).unwrap();
    let sink = VecSink::new();
    source.collect(&sink).await.unwrap();
    source.collect(&sink).await.unwrap();
    assert_eq!(source.client().tokens_minted(), 1);
    sim.handle.revoke_tokens();
    source.collect(&sink).await.unwrap();
    assert_eq!(source.client().tokens_minted(), 2);
    assert_eq!(sim.handle.stats().ebay_tokens, 2);
}

#[tokio::test(start_paused = true)]
async fn the_daily_budget_is_spent_evenly_and_fairly() {
    let sim = start_sim(small_sim(4));
    let cards: Vec<TrackedCard> = (0..3).map(|i| tracked(&sim, i * 3, Wanted::Any)).collect();
    let cfg = EbayConfig {
        daily_budget: 10,
        budget_window_secs: 1000,
        max_pages: 1,
        ..config(&sim.base_url)
    };
    let mut source = EbaySource::browse(cfg, cards).unwrap();
    assert_eq!(source.next_delay(), Duration::from_secs(100));
    let sink: Arc<VecSink> = Arc::new(VecSink::new());
    // 26 calls take 2,500 s of simulated time: one every 100 s, ten per 1,000 s window, so the
    // budget is never hit. (A timer as the shutdown signal would fire early: a paused clock
    // jumps to the next timer whenever the runtime waits on real sockets.)
    let start = tokio::time::Instant::now();
    let report = run_source(&mut source, sink.clone(), Some(26), std::future::pending()).await;
    assert_eq!(start.elapsed(), Duration::from_secs(2_500));
    assert_eq!(report.passes, 26);
    assert_eq!(report.failed_passes, 0);
    let stats = sim.handle.stats();
    assert_eq!(stats.ebay_browse, 26);
    let mut per_card: Vec<u64> = stats.ebay_queries.values().copied().collect();
    per_card.sort_unstable();
    assert_eq!(per_card, vec![8, 9, 9], "round robin");
    assert!(!sink.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_daily_budget_is_never_overspent() {
    let sim = start_sim(small_sim(4));
    let cfg = EbayConfig {
        daily_budget: 10,
        max_pages: 5,
        page_size: 2,
        ..config(&sim.base_url)
    };
    let mut source = EbaySource::browse(
        cfg,
        vec![tracked(&sim, 0, Wanted::Any), tracked(&sim, 1, Wanted::Any)],
    )
    .unwrap();
    let sink = VecSink::new();
    let mut refused = 0;
    for _ in 0..12 {
        match source.collect(&sink).await {
            Ok(_) => {}
            Err(CollectorError::BudgetExhausted { limit: 10, .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(sim.handle.stats().ebay_browse, 10);
    assert_eq!(source.budget_remaining(), 0);
    assert!(refused >= 2);
    // Extra pages never took the visits of the other card.
    assert_eq!(sim.handle.stats().ebay_queries.len(), 2);
    tokio::time::advance(Duration::from_secs(86_400)).await;
    assert_eq!(source.budget_remaining(), 10);
    source.collect(&sink).await.unwrap();
}

#[tokio::test]
async fn insights_is_off_unless_configured_and_gives_sold_quotes() {
    let sim = start_sim(small_sim(4));
    let card = tracked(&sim, 1, Wanted::Any);
    assert!(matches!(
        EbaySource::insights(config(&sim.base_url), vec![card.clone()]),
        Err(CollectorError::Config(_))
    ));
    let cfg = EbayConfig {
        insights: InsightsConfig {
            enabled: true,
            ..InsightsConfig::default()
        },
        ..config(&sim.base_url)
    };
    let mut source = EbaySource::insights(cfg, vec![card]).unwrap();
    let sink = VecSink::new();
    let report = source.collect(&sink).await.unwrap();
    let quotes = sink.take();
    assert!(report.quotes > 0);
    assert!(
        quotes
            .iter()
            .all(|q| q.source == QuoteSource::EbaySold && q.kind == PriceKind::Sold)
    );
    assert!(items(&quotes).iter().all(|i| i.quantity_sold.is_some()));
    assert_eq!(sim.handle.stats().ebay_insights, report.requests);
}

#[tokio::test]
async fn malformed_search_answers_are_errors() {
    let mut cfg = small_sim(4);
    cfg.faults.first_malformed = 1;
    let sim = start_sim(cfg);
    let mut source =
        EbaySource::browse(config(&sim.base_url), vec![tracked(&sim, 0, Wanted::Any)]).unwrap();
    let sink = VecSink::new();
    assert!(matches!(
        source.collect(&sink).await,
        Err(CollectorError::Malformed { .. })
    ));
    assert!(source.collect(&sink).await.is_ok());
}
