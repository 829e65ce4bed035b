//! The TCGplayer API source against the simulator.

mod common;

use std::{collections::HashSet, sync::Arc, time::Duration};

use common::{paused_http, small_sim, start_sim};
use tcg_collectors::{
    CollectorError, Source, VecSink,
    tcgplayer::{TcgplayerClient, TcgplayerConfig, TcgplayerSource},
};
use tcg_schemas::{PriceKind, Source as QuoteSource, Subject};
use tcg_simulator::market::{price_row, quote_time, sku_row};

fn config(base: &str) -> TcgplayerConfig {
    TcgplayerConfig {
        base_url: base.to_owned(),
        client_id: "id".into(),
        client_secret: "secret".into(),
        categories: vec![3, 68],
        page_size: 5, // forces paging through the catalog
        http: paused_http(),
        ..TcgplayerConfig::default()
    }
}

#[tokio::test]
async fn one_pass_gives_every_price_of_the_known_catalog() {
    let sim = start_sim(small_sim(7));
    let cfg = small_sim(7);
    let t = quote_time(cfg.fixed_time.unwrap(), cfg.step_secs);
    let catalog = sim.handle.catalog();
    let mut expected_product = 0;
    let mut expected_sku = 0;
    for p in &catalog.products {
        for &i in &p.printings {
            let r = price_row(7, p, i, t);
            expected_product += [r.market, r.low, r.mid, r.high, r.direct_low]
                .iter()
                .flatten()
                .count();
        }
        for k in catalog.skus(p) {
            let [low, _ship, listing, market, direct] = sku_row(7, p, &k, t);
            expected_sku += [listing, market, low, direct].iter().flatten().count();
        }
    }

    let mut source = TcgplayerSource::new(config(&sim.base_url)).unwrap();
    let sink = VecSink::new();
    let report = source.collect(&sink).await.unwrap();
    let quotes = sink.take();
    assert_eq!(report.errors, 0);
    assert_eq!(quotes.len(), expected_product + expected_sku);
    assert_eq!(report.quotes as usize, quotes.len());
    let products = quotes
        .iter()
        .filter(|q| matches!(q.subject, Subject::TcgProduct { .. }))
        .count();
    assert_eq!(products, expected_product);
    assert!(
        quotes
            .iter()
            .all(|q| q.source == QuoteSource::Tcgplayer && q.price.minor > 0)
    );
    // SKU rows carry resolved printing names, and lowest listings their shipping.
    let printings: HashSet<String> = quotes
        .iter()
        .filter_map(|q| match &q.subject {
            Subject::TcgSku { printing, .. } => Some(printing.clone()),
            _ => None,
        })
        .collect();
    assert!(
        printings.contains("Reverse Holofoil") || printings.contains("Holofoil"),
        "{printings:?}"
    );
    assert!(
        quotes
            .iter()
            .any(|q| q.kind == PriceKind::LowestListing && q.shipping.is_some())
    );
    assert_eq!(source.client().tokens_minted(), 1);

    // Same seed, same quotes (but for the fetch time).
    let sim2 = start_sim(small_sim(7));
    let mut again = TcgplayerSource::new(config(&sim2.base_url)).unwrap();
    let sink2 = VecSink::new();
    again.collect(&sink2).await.unwrap();
    let strip = |v: Vec<tcg_schemas::RawQuote>| {
        v.into_iter()
            .map(|q| (q.kind, q.price, q.subject))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(quotes), strip(sink2.take()));
}

#[tokio::test]
async fn unversioned_paths_work_too() {
    let sim = start_sim(small_sim(1));
    let client = TcgplayerClient::new(&TcgplayerConfig {
        api_version: String::new(),
        ..config(&sim.base_url)
    })
    .unwrap();
    let cats = client.categories().await.unwrap();
    assert_eq!(
        cats.iter().map(|c| c.category_id).collect::<Vec<_>>(),
        vec![3, 68]
    );
    let groups = client.groups(3).await.unwrap();
    assert_eq!(groups.len(), 2);
    let products = client.products(3, groups[0].group_id).await.unwrap();
    assert_eq!(products.len(), 13);
    assert!(products.iter().all(|p| !p.skus.is_empty()));
    assert_eq!(
        products
            .iter()
            .filter(|p| p.to_product().is_sealed())
            .count(),
        1
    );
}

#[tokio::test]
async fn more_than_250_ids_is_success_false_and_an_error() {
    let sim = start_sim(small_sim(1));
    let client = TcgplayerClient::new(&config(&sim.base_url)).unwrap();
    let ids: Vec<u64> = (0..251).collect();
    let err = client.product_prices(&ids).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::Status { status: 400, .. }),
        "{err}"
    );
    // success:false with HTTP 200 ("No products were found.") is an error too.
    let err = client.product_prices(&[1, 2]).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::Upstream { ref errors, .. } if errors[0].contains("No products")),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn token_is_cached_and_refreshed_before_expiry() {
    let mut sim_cfg = small_sim(3);
    sim_cfg.fixed_time = None; // real expiry on the server side
    sim_cfg.tcgplayer_token_ttl_secs = 1000;
    let sim = start_sim(sim_cfg);
    let client = TcgplayerClient::new(&config(&sim.base_url)).unwrap();
    for _ in 0..3 {
        client.categories().await.unwrap();
    }
    assert_eq!(client.tokens_minted(), 1);
    // Refreshed a tenth of its life early: at 900 s of a 1000 s token.
    tokio::time::advance(Duration::from_secs(899)).await;
    client.categories().await.unwrap();
    assert_eq!(client.tokens_minted(), 1);
    tokio::time::advance(Duration::from_secs(2)).await;
    client.categories().await.unwrap();
    assert_eq!(client.tokens_minted(), 2);
    assert_eq!(sim.handle.stats().tcgplayer_tokens, 2);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once() {
    let sim = start_sim(small_sim(3));
    let client = TcgplayerClient::new(&config(&sim.base_url)).unwrap();
    client.categories().await.unwrap();
    sim.handle.revoke_tokens();
    client.categories().await.unwrap();
    assert_eq!(client.tokens_minted(), 2);
    let stats = sim.handle.stats();
    assert_eq!(stats.tcgplayer_tokens, 2);
    assert_eq!(
        stats.tcgplayer_requests, 3,
        "one refused call, retried once"
    );
}

#[tokio::test]
async fn bad_credentials_are_an_auth_error() {
    let sim = start_sim(small_sim(3));
    let client = TcgplayerClient::new(&TcgplayerConfig {
        client_secret: String::new(),
        ..config(&sim.base_url)
    })
    .unwrap();
    assert!(matches!(
        client.categories().await,
        Err(CollectorError::Auth { .. })
    ));
}

#[tokio::test]
async fn malformed_answers_are_errors_not_panics() {
    let mut cfg = small_sim(3);
    cfg.faults.first_malformed = 2;
    let sim = start_sim(cfg);
    let client = TcgplayerClient::new(&config(&sim.base_url)).unwrap();
    for _ in 0..2 {
        let err = client.categories().await.unwrap_err();
        assert!(matches!(err, CollectorError::Malformed { .. }), "{err}");
    }
    assert_eq!(client.categories().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_pass_goes_on_past_a_malformed_group() {
    let mut cfg = small_sim(3);
    // Requests: printings, groups(paged), products … : make a later pricing call malformed.
    cfg.faults.rate_malformed = 0.15;
    cfg.seed = 11;
    let sim = start_sim(cfg);
    let mut source = TcgplayerSource::new(TcgplayerConfig {
        categories: vec![3],
        ..config(&sim.base_url)
    })
    .unwrap();
    let sink = Arc::new(VecSink::new());
    let mut good = 0;
    for _ in 0..4 {
        if let Ok(r) = source.collect(sink.as_ref()).await {
            good += 1;
            assert!(r.quotes > 0 || r.errors > 0);
        }
    }
    assert!(good > 0);
    assert!(sim.handle.stats().faults_malformed > 0);
    assert!(!sink.is_empty());
}
