//! Cardmarket: golden payloads of the published files, a pass against the simulator (mapped
//! quotes, unmapped and ambiguous products listed), and the faults the downloads have.
#![allow(clippy::unwrap_used, clippy::too_many_lines)] // a scenario reads best top to bottom

mod common;

use std::{collections::HashSet, sync::Arc};

use common::markets::market;
use common::{mock, paused_http, start_sim};
use tcg_collectors::{
    CollectorError, MarketContext, Source, VecSink,
    cardmarket::{
        CardmarketConfig, CardmarketSource, Game,
        client::parse_file,
        model::{PriceGuideFile, ProductListFile, Row, number_in_name},
    },
    identity::{Identity, ProductIndex},
};
use tcg_schemas::{
    Currency, MappingMethod, PriceKind, ProductId, RawQuote, Source as QuoteSource, Subject,
};
use tcg_simulator::{SimConfig, cardmarket as sim_cm, catalog::SimCatalog};

fn golden(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/cardmarket/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

/// 2024-03-01T21:00:00Z: the guide in force was built at 01:45 UTC that day.
const NOW: i64 = 1_709_326_800;

fn sim_config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        categories: vec![3, 68, 1, 2],
        sets_per_game: 2,
        cards_per_set: 12,
        sealed_per_set: 1,
        fixed_time: Some(NOW),
        ..SimConfig::default()
    }
}

fn config(base: &str, games: Vec<u32>) -> CardmarketConfig {
    CardmarketConfig {
        base_url: base.to_owned(),
        games,
        http: paused_http(),
        ..CardmarketConfig::default()
    }
}

/// Our catalog as the store would index it.
fn index_of(cat: &SimCatalog, categories: &[u32]) -> ProductIndex {
    ProductIndex::from_entries(
        cat.products
            .iter()
            .filter(|p| categories.contains(&p.category_id))
            .map(common::markets::catalog_entry),
    )
}

fn row_of(q: &RawQuote) -> &tcg_schemas::MarketRow {
    match &q.subject {
        Subject::Market(row) => row,
        other => panic!("{other:?}"),
    }
}

#[test]
fn golden_price_guides_parse() {
    let pokemon: PriceGuideFile = parse_file("pg6", &golden("price_guide_6.json")).unwrap();
    assert_eq!(pokemon.version, 1);
    assert_eq!(pokemon.created_at, "2026-09-27T02:45:12+0200");
    assert_eq!(pokemon.price_guides.len(), 4);
    assert!(
        matches!(pokemon.price_guides[2], Row::Bad(_)),
        "a bad row is kept aside"
    );
    let Row::Good(froakie) = &pokemon.price_guides[0] else {
        panic!()
    };
    assert_eq!(froakie.id_product, 725_136);
    assert_eq!(froakie.holo.trend, Some(0.13));
    let game = Game::by_id(6).unwrap();
    let (holo, printing) = game.second_printing(froakie).unwrap();
    assert_eq!(printing, "Reverse Holofoil");
    let priced = holo.priced();
    assert_eq!(priced.prices.len(), 5, "avg1-holo is null");
    assert!(
        priced
            .prices
            .iter()
            .all(|(_, m)| m.currency == Currency::EUR)
    );

    let magic: PriceGuideFile = parse_file("pg1", &golden("price_guide_1.json")).unwrap();
    let Row::Good(token) = &magic.price_guides[0] else {
        panic!()
    };
    let (foil, printing) = Game::by_id(1).unwrap().second_printing(token).unwrap();
    assert_eq!(printing, "Foil");
    assert_eq!(foil.trend, Some(0.0));
    assert!(foil.priced().prices.is_empty(), "trend-foil 0 is no foil");
    let Row::Good(big) = &magic.price_guides[2] else {
        panic!()
    };
    let base = big.base.priced();
    assert!(base.prices.contains(&(
        PriceKind::Low,
        tcg_schemas::Money::new(100_000, Currency::EUR)
    )));
    assert!(base.prices.contains(&(
        PriceKind::Avg7,
        tcg_schemas::Money::new(97_450, Currency::EUR)
    )));
}

#[test]
fn golden_product_lists_parse() {
    let singles: ProductListFile = parse_file("p6", &golden("products_singles_6.json")).unwrap();
    let Row::Good(weedle) = &singles.products[0] else {
        panic!()
    };
    assert_eq!(weedle.name, "Weedle [Multiply]");
    assert_eq!(weedle.id_expansion, Some(1585));
    assert_eq!(weedle.date_added.as_deref(), Some("0000-00-00 00:00:00"));
    let sealed: ProductListFile = parse_file("n6", &golden("products_nonsingles_6.json")).unwrap();
    assert_eq!(sealed.products.len(), 2);
    let op: ProductListFile = parse_file("p18", &golden("products_singles_18.json")).unwrap();
    let names: Vec<&str> = op
        .products
        .iter()
        .filter_map(|r| match r {
            Row::Good(p) => number_in_name(&p.name),
            Row::Bad(_) => None,
        })
        .collect();
    assert_eq!(names, ["OP01-001", "OP01-001"]);
    let magic: ProductListFile = parse_file("p1", &golden("products_singles_1.json")).unwrap();
    assert!(
        magic
            .products
            .iter()
            .all(|r| matches!(r, Row::Good(p) if number_in_name(&p.name).is_none()))
    );
}

#[test]
fn error_bodies_and_cut_files_are_malformed() {
    for name in [
        "access_denied.xml",
        "slow_down.xml",
        "no_such_key.xml",
        "price_guide_truncated.json",
    ] {
        let err = parse_file::<PriceGuideFile>(name, &golden(name)).unwrap_err();
        assert!(
            matches!(err, CollectorError::Malformed { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "the file is named: {err}");
    }
    assert!(parse_file::<ProductListFile>("x", br#"{"version":1,"createdAt":"x"}"#).is_err());
}

#[test]
fn config_reads_from_json_and_rejects_unknown_games() {
    let cfg: CardmarketConfig =
        serde_json::from_str(r#"{"games":[6],"expansions":{"5773":"SV08: Surging Sparks"}}"#)
            .unwrap();
    assert_eq!(cfg.base_url, "https://downloads.s3.cardmarket.com");
    assert_eq!(
        cfg.expansions.get(&5773).map(String::as_str),
        Some("SV08: Surging Sparks")
    );
    assert!(serde_json::from_str::<CardmarketConfig>(r#"{"bogus":1}"#).is_err());
    assert_eq!(
        CardmarketConfig::games_for_categories(&[3, 1, 85]),
        vec![6, 1]
    );
    let bad = CardmarketConfig {
        games: vec![6, 99],
        ..CardmarketConfig::default()
    };
    assert!(matches!(
        CardmarketSource::new(bad, market(ProductIndex::default())),
        Err(CollectorError::Config(_))
    ));
}

#[tokio::test]
async fn a_pass_quotes_mapped_products_lists_the_others_and_skips_an_unchanged_guide() {
    let sim = start_sim(sim_config(7));
    let cat = sim.handle.catalog();
    let ctx = market(index_of(cat, &[1, 2, 3, 68]));
    // Scryfall bridged a few Magic cards.
    let magic: Vec<u64> = cat
        .products
        .iter()
        .filter(|p| p.category_id == 1 && !p.is_sealed())
        .take(5)
        .map(|p| p.product_id)
        .collect();
    for id in &magic {
        ctx.identity.bridge.learn(
            QuoteSource::Cardmarket,
            sim_cm::id_product(*id).to_string(),
            ProductId(*id),
        );
    }
    let log = ctx.unmapped.clone();
    let mut source = CardmarketSource::new(config(&sim.base_url, vec![6, 18, 1, 3]), ctx).unwrap();
    assert_eq!(source.name(), QuoteSource::Cardmarket.as_str());
    let sink = VecSink::new();
    let first = source.collect(&sink).await.unwrap();
    assert_eq!(first.requests, 4 * 3, "a guide and two lists per game");
    assert_eq!(sim.handle.stats().cardmarket_requests, 12);
    let quotes = sink.take();
    assert_eq!(first.quotes, quotes.len() as u64);
    let allowed = [
        PriceKind::Trend,
        PriceKind::Avg,
        PriceKind::Avg1,
        PriceKind::Avg7,
        PriceKind::Avg30,
        PriceKind::Low,
    ];
    let mut categories = HashSet::new();
    for q in &quotes {
        let row = row_of(q);
        assert_eq!(q.source, QuoteSource::Cardmarket);
        assert!(allowed.contains(&q.kind), "{:?}", q.kind);
        assert_eq!(q.price.currency, Currency::EUR);
        assert!(q.price.minor > 0);
        assert!(row.condition.is_none() && row.language.is_none() && row.graded.is_none());
        let ours = cat.product(row.product_id.0).expect("a product of ours");
        assert_eq!(row.category_id.0, ours.category_id);
        categories.insert(ours.category_id);
        let printings: &[&str] = match ours.category_id {
            1 => &["Normal", "Foil"],
            2 => &["1st Edition"],
            3 => &["Normal", "Holofoil", "Reverse Holofoil"],
            _ => &["Normal"],
        };
        assert!(printings.contains(&row.printing.as_str()), "{row:?}");
        match row.mapping.method {
            MappingMethod::ScryfallBridge => {
                assert_eq!(row.mapping.confidence, 100);
                assert!(magic.contains(&row.product_id.0));
            }
            _ => assert!((65..=95).contains(&row.mapping.confidence), "{row:?}"),
        }
        assert_eq!(
            row.external_id,
            sim_cm::id_product(row.product_id.0).to_string(),
            "only the product's own Cardmarket id maps to it"
        );
    }
    assert_eq!(
        categories,
        HashSet::from([1, 2, 3, 68]),
        "every game maps some"
    );
    assert!(
        quotes
            .iter()
            .any(|q| row_of(q).mapping.method == MappingMethod::ScryfallBridge)
    );
    assert!(
        quotes
            .iter()
            .any(|q| row_of(q).printing == "Reverse Holofoil")
    );
    assert!(quotes.iter().any(|q| row_of(q).printing == "Foil"));

    // Unmapped and ambiguous products are listed, and none of them is quoted.
    let listed = log.list(Some("cardmarket"), 1_000);
    let quoted: HashSet<&str> = quotes
        .iter()
        .map(|q| row_of(q).external_id.as_str())
        .collect();
    assert!(
        listed
            .iter()
            .all(|p| !quoted.contains(p.external_id.as_str()))
    );
    assert!(
        listed
            .iter()
            .any(|p| p.why == "unmapped" && p.name == "Unown [A]")
    );
    assert!(
        listed
            .iter()
            .any(|p| p.why == "ambiguous" && p.name.ends_with("(V.2)"))
    );
    let lacking = listed
        .iter()
        .find(|p| p.set.as_deref() == Some("expansion 9003") && !p.candidates.is_empty())
        .expect("a card of an expansion we lack, named like ours, is listed with candidates");
    assert_eq!(lacking.why, "unmapped");

    // The same edition, the same catalog: nothing is read but the guides.
    let second = source.collect(&sink).await.unwrap();
    assert!(second.skipped);
    assert!(sink.is_empty());
    assert_eq!(second.requests, 4);
    assert_eq!(source.last_seen(6), Some("2024-03-01T02:45:00+0100"));
}

#[tokio::test]
async fn european_prices_follow_the_market_with_their_own_level() {
    let sim = start_sim(sim_config(11));
    let cat = sim.handle.catalog();
    let mut source = CardmarketSource::new(
        config(&sim.base_url, vec![6, 18]),
        market(index_of(cat, &[3, 68])),
    )
    .unwrap();
    let sink = VecSink::new();
    source.collect(&sink).await.unwrap();
    let t = sim_cm::guide_time(sim_cm::last_build(NOW), 60);
    let ratios: Vec<(u32, f64)> = sink
        .take()
        .iter()
        .filter(|q| q.kind == PriceKind::Trend && row_of(q).printing != "Reverse Holofoil")
        .filter_map(|q| {
            let p = cat.product(row_of(q).product_id.0)?;
            let usd = tcg_simulator::market::market_price(11, p, p.printings[0], t);
            (usd > 100.0).then(|| (p.category_id, q.price.minor as f64 / usd))
        })
        .collect();
    let median = |c: u32| {
        let mut r: Vec<f64> = ratios.iter().filter(|x| x.0 == c).map(|x| x.1).collect();
        assert!(r.len() >= 3, "category {c}: {}", r.len());
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    // EUR per USD of the same card: Europe's level (÷1.085 × premium), never the same number.
    let (pokemon, one_piece) = (median(3), median(68));
    assert!((0.65..1.05).contains(&pokemon), "{pokemon}");
    assert!((0.8..1.25).contains(&one_piece), "{one_piece}");
    assert!(pokemon < one_piece, "One Piece is dearer in Europe");
}

#[tokio::test]
async fn an_empty_catalog_maps_nothing_and_a_grown_one_quotes_only_the_new_products() {
    let sim = start_sim(sim_config(3));
    let cat = sim.handle.catalog();
    let (tx, rx) = tokio::sync::watch::channel(Arc::new(ProductIndex::default()));
    let ctx = MarketContext {
        identity: Identity {
            catalog: rx,
            bridge: Arc::default(),
        },
        unmapped: Arc::default(),
    };
    let mut source = CardmarketSource::new(config(&sim.base_url, vec![6, 18]), ctx).unwrap();
    let sink = VecSink::new();
    let empty = source.collect(&sink).await.unwrap();
    assert!(empty.skipped && empty.requests == 0);
    tx.send_replace(Arc::new(index_of(cat, &[3])));
    let first = source.collect(&sink).await.unwrap();
    let pokemon = sink.take();
    assert!(!pokemon.is_empty() && pokemon.iter().all(|q| row_of(q).category_id.0 == 3));
    assert!(first.quotes > 0);
    tx.send_replace(Arc::new(index_of(cat, &[3, 68])));
    let grown = source.collect(&sink).await.unwrap();
    let more = sink.take();
    assert!(!grown.skipped);
    assert!(!more.is_empty(), "One Piece maps now");
    assert!(
        more.iter().all(|q| row_of(q).category_id.0 == 68),
        "Pokémon is not quoted twice"
    );
}

#[tokio::test]
async fn a_game_cardmarket_does_not_publish_degrades_the_pass() {
    // The simulator has no Lorcana: S3 answers 403 AccessDenied for its files.
    let sim = start_sim(sim_config(4));
    let cat = sim.handle.catalog();
    let mut source = CardmarketSource::new(
        config(&sim.base_url, vec![19, 6]),
        market(index_of(cat, &[3])),
    )
    .unwrap();
    let sink = VecSink::new();
    let report = source.collect(&sink).await.unwrap();
    assert_eq!(report.errors, 1);
    assert_eq!(report.degraded.len(), 1);
    assert!(
        report.degraded[0].what.contains("Lorcana"),
        "{:?}",
        report.degraded
    );
    assert!(!sink.is_empty(), "Pokémon is priced all the same");

    // Only that game: the pass fails with the 403.
    let mut alone =
        CardmarketSource::new(config(&sim.base_url, vec![19]), market(index_of(cat, &[3])))
            .unwrap();
    let err = alone.collect(&sink).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::Status { status: 403, .. }),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_is_waited_out_and_a_cut_guide_is_read_again() {
    let mut cfg = sim_config(5);
    cfg.faults.first_429 = 1;
    cfg.faults.first_503 = 1;
    cfg.faults.first_malformed = 1;
    cfg.faults.retry_after_secs = 2;
    let sim = start_sim(cfg);
    let cat = sim.handle.catalog();
    let mut source =
        CardmarketSource::new(config(&sim.base_url, vec![6]), market(index_of(cat, &[3]))).unwrap();
    let sink = VecSink::new();
    // 429 and 503 (with Retry-After) are retried; the third answer is cut in half.
    let err = source.collect(&sink).await.unwrap_err();
    assert!(matches!(err, CollectorError::Malformed { .. }), "{err}");
    assert!(sink.is_empty());
    assert_eq!(source.last_seen(6), None);
    let again = source.collect(&sink).await.unwrap();
    assert!(again.quotes > 0 && !again.skipped);
    assert_eq!(sim.handle.stats().faults_429, 1);
}

#[tokio::test]
async fn s3_refusals_are_clear_errors() {
    let denied = String::from_utf8(golden("access_denied.xml")).unwrap();
    let slow = String::from_utf8(golden("slow_down.xml")).unwrap();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let up = mock::serve(move |_, target| {
        let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if mock::path(target).contains("price_guide_6") && n == 0 {
            (503, slow.clone())
        } else if mock::path(target).contains("price_guide_6") {
            (
                200,
                String::from_utf8(golden("price_guide_6.json")).unwrap(),
            )
        } else if mock::path(target).contains("_6.json") {
            let name = mock::path(target).rsplit('/').next().unwrap_or("");
            (200, String::from_utf8(golden(name)).unwrap())
        } else {
            (403, denied.clone())
        }
    })
    .await;
    let cat = SimCatalog::generate(1, &[3], 1, 5, 0);
    let mut source =
        CardmarketSource::new(config(&up.base_url, vec![6]), market(index_of(&cat, &[3]))).unwrap();
    let sink = VecSink::new();
    let report = source.collect(&sink).await.unwrap();
    assert_eq!(up.hits("price_guide_6"), 2, "503 SlowDown is retried");
    assert_eq!(report.errors, 1, "the bad row of the guide is counted");
    let mut denied_source =
        CardmarketSource::new(config(&up.base_url, vec![1]), market(index_of(&cat, &[3]))).unwrap();
    let err = denied_source.collect(&sink).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::Status { status: 403, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("price_guide_1.json"), "{err}");
}
