//! PriceCharting: golden payloads (the API's product, search and error answers, a CSV guide, the
//! page served instead of a guide), a source against a mock serving them, and the source against
//! the simulator (mapping, unmapped and ambiguous products, faults, the API fallback).
#![allow(clippy::unwrap_used, clippy::too_many_lines)] // a scenario reads best top to bottom

mod common;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use common::{mock, paused_http, start_sim};
use tcg_collectors::{
    CollectorError, MarketContext, PassReport, Source, VecSink,
    identity::{CatalogEntry, Identity, ProductIndex, UnmappedLog},
    pricecharting::{
        Card, Found, Game, PriceKey, PricechartingClient, PricechartingConfig, PricechartingSource,
        check_status, is_not_found, model::ApiProduct, parse_guide,
    },
};
use tcg_schemas::{
    CategoryId, Currency, Grader, MappingMethod, PriceKind, ProductId, RawQuote,
    Source as QuoteSource, Subject,
};
use tcg_simulator::{
    SimConfig,
    catalog::SimCatalog,
    market::market_cents,
    pricecharting::{self as pc, Planted},
};

fn golden(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/pricecharting/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn entry(id: u64, name: &str, number: Option<&str>, set: &str, code: &str) -> CatalogEntry {
    CatalogEntry {
        product_id: ProductId(id),
        category_id: CategoryId(3),
        name: name.into(),
        number: number.map(Into::into),
        set_name: Some(set.into()),
        set_code: Some(code.into()),
        sealed: number.is_none(),
    }
}

/// A few TCGplayer products the golden payloads name.
fn golden_index() -> ProductIndex {
    let mew = "SV: Scarlet & Violet 151";
    ProductIndex::from_entries([
        entry(42382, "Charizard - 4/102", Some("4/102"), "Base Set", "BS"),
        entry(42400, "Pikachu - 58/102", Some("58/102"), "Base Set", "BS"),
        entry(
            517045,
            "Charizard ex - 199/165",
            Some("199/165"),
            mew,
            "MEW",
        ),
        entry(517030, "Pikachu - 025/165", Some("025/165"), mew, "MEW"),
        entry(517001, "Bulbasaur - 001/165", Some("001/165"), mew, "MEW"),
        entry(517178, "Mew ex - 151/165", Some("151/165"), mew, "MEW"),
        entry(
            502000,
            "Scarlet & Violet 151 Booster Bundle",
            None,
            mew,
            "MEW",
        ),
    ])
}

fn market_of(index: ProductIndex) -> (MarketContext, Arc<UnmappedLog>) {
    let unmapped = Arc::new(UnmappedLog::default());
    (
        MarketContext {
            identity: Identity::fixed(index),
            unmapped: unmapped.clone(),
        },
        unmapped,
    )
}

fn config(base: &str, categories: Vec<u32>) -> PricechartingConfig {
    PricechartingConfig {
        base_url: base.to_owned(),
        token: pc::TOKEN.into(),
        categories,
        http: paused_http(),
        ..PricechartingConfig::default()
    }
}

fn row_of(q: &RawQuote) -> &tcg_schemas::MarketRow {
    match &q.subject {
        Subject::Market(row) => row,
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Golden payloads.

#[test]
fn golden_product_maps_by_its_tcgplayer_id_and_quotes_the_graders_tens() {
    let body = golden("product.json");
    check_status(&body).unwrap();
    let product: ApiProduct = serde_json::from_slice(&body).unwrap();
    let mut bad = 0;
    let row = product.into_row(&mut bad);
    assert_eq!(bad, 0);
    assert_eq!((row.id.as_str(), row.tcg_id), ("630417", Some(42382)));
    assert_eq!(row.prices.get(PriceKey::Loose), Some(29_662));
    assert_eq!(row.prices.get(PriceKey::ManualOnly), Some(2_964_313));
    // 0 is "no data".
    assert_eq!(row.prices.get(PriceKey::Condition19), None);

    let game = Game::of(3).unwrap();
    let card = Card::read(game, &row).unwrap();
    let index = golden_index();
    let Found::Mapped {
        product_id,
        mapping,
    } = card.find(&index)
    else {
        panic!("not mapped")
    };
    assert_eq!(product_id, ProductId(42382));
    assert_eq!(
        (mapping.method, mapping.confidence),
        (MappingMethod::TcgplayerId, 100)
    );
    let at = tcg_schemas::Timestamp::from_secs(1_700_000_000);
    let quotes = tcg_collectors::pricecharting::mapping::quotes(&card, product_id, &mapping, at);
    let seen: Vec<(Option<String>, i64)> = quotes
        .iter()
        .map(|q| {
            let r = row_of(q);
            let g = r
                .graded
                .as_ref()
                .map(|g| format!("{} {}", g.grader.as_str(), g.grade));
            (g, q.price.minor)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (None, 29_662),
            (Some("PSA 10".into()), 2_964_313),
            (Some("BGS 10 Pristine".into()), 3_853_600),
            (Some("CGC 10".into()), 718_173),
            (Some("SGC 10".into()), 1_778_600),
            (Some("BGS 10 Black Label".into()), 9_150_000),
        ]
    );
    for q in &quotes {
        assert_eq!(
            (q.source, q.kind, q.price.currency),
            (QuoteSource::Pricecharting, PriceKind::Sales, Currency::USD)
        );
        assert_eq!(row_of(q).printing, "Normal");
        assert!(row_of(q).condition.is_none());
    }
}

#[test]
fn golden_search_reads_ids_and_prices_as_numbers_or_text() {
    let body = golden("products.json");
    check_status(&body).unwrap();
    let found: tcg_collectors::pricecharting::model::ApiSearch =
        serde_json::from_slice(&body).unwrap();
    let mut bad = 0;
    let rows: Vec<_> = found
        .products
        .into_iter()
        .map(|p| p.into_row(&mut bad))
        .collect();
    assert_eq!(bad, 0);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[1].id.as_str(), rows[1].tcg_id),
        ("630421", Some(42382))
    );
    assert_eq!(rows[1].prices.get(PriceKey::ManualOnly), None);
    assert_eq!(rows[2].prices.get(PriceKey::Loose), Some(41_299));
    // The Japanese console is Pokémon Japan's, not Pokémon's.
    assert!(Card::read(Game::of(3).unwrap(), &rows[2]).is_none());
    assert!(Card::read(Game::of(85).unwrap(), &rows[2]).is_some());
}

#[test]
fn golden_errors_are_a_refused_token_a_missing_product_and_a_cut_answer() {
    let e = check_status(&golden("error-token.json")).unwrap_err();
    assert!(matches!(e, CollectorError::Auth { .. }), "{e:?}");
    assert!(e.to_string().contains("Unknown access token"), "{e}");
    let e = check_status(&golden("error-not-found.json")).unwrap_err();
    assert!(is_not_found(&e), "{e:?}");
    let e = check_status(&golden("truncated.json")).unwrap_err();
    assert!(matches!(e, CollectorError::Malformed { .. }), "{e:?}");
    let e = parse_guide(&golden("guide-refused.html")).unwrap_err();
    assert!(e.to_string().contains("HTML page"), "{e}");
    assert!(parse_guide(b"a,b\n1,2\n").is_err());
}

#[test]
fn golden_guide_reads_dollars_by_column_name() {
    let guide = parse_guide(&golden("guide-pokemon-cards.csv")).unwrap();
    assert_eq!(guide.rows.len(), 11);
    assert_eq!(guide.bad_cells, 1, "Mew ex's n/a");
    let charizard = &guide.rows[0];
    assert_eq!(charizard.prices.get(PriceKey::Loose), Some(29_662));
    assert_eq!(charizard.prices.get(PriceKey::ManualOnly), Some(2_964_313));
    assert_eq!(charizard.tcg_id, Some(42382));
    let bulbasaur = guide.rows.iter().find(|r| r.id == "5809600").unwrap();
    assert!(bulbasaur.prices.is_empty());
    let pikachu = guide.rows.iter().find(|r| r.id == "630500").unwrap();
    assert_eq!(pikachu.tcg_id, None);
}

/// A mock PriceCharting serving the golden guide, and products by id from `products`.
async fn golden_mock(
    guide_status: Arc<Mutex<u16>>,
    products: HashMap<String, String>,
) -> mock::Mock {
    let csv = String::from_utf8(golden("guide-pokemon-cards.csv")).unwrap();
    mock::serve(move |_, target| {
        if mock::param(target, "t") != Some(pc::TOKEN) {
            return (
                200,
                r#"{"status":"error","error-message":"Unknown access token"}"#.into(),
            );
        }
        match mock::path(target) {
            "/price-guide/download-custom" => {
                let status = *guide_status.lock().unwrap();
                (
                    status,
                    if status == 200 {
                        csv.clone()
                    } else {
                        "oops".into()
                    },
                )
            }
            "/api/product" => {
                let id = mock::param(target, "id").unwrap_or("");
                match products.get(id) {
                    Some(body) => (200, body.clone()),
                    None => (
                        200,
                        r#"{"status":"error","error-message":"No such product"}"#.into(),
                    ),
                }
            }
            _ => (404, "{}".into()),
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_guide_pass_quotes_mapped_cards_and_lists_the_others() {
    let mock = golden_mock(Arc::new(Mutex::new(200)), HashMap::new()).await;
    let (market, unmapped) = market_of(golden_index());
    let mut source = PricechartingSource::new(config(&mock.base_url, vec![3]), market).unwrap();
    assert_eq!(source.name(), "pricecharting");
    let sink = VecSink::new();
    let mut report = PassReport::default();
    source.collect_into(&sink, &mut report).await.unwrap();
    let quotes = sink.take();
    let by_external = |id: &str| -> Vec<&RawQuote> {
        quotes
            .iter()
            .filter(|q| row_of(q).external_id == id)
            .collect()
    };
    assert_eq!(
        by_external("630417").len(),
        5,
        "ungraded + PSA, BGS, CGC, SGC 10"
    );
    // 1st Edition: its printing's ungraded price only (a graded series has no printing).
    let first = by_external("630421");
    assert_eq!(first.len(), 1);
    assert_eq!(row_of(first[0]).printing, "1st Edition");
    assert_eq!(row_of(first[0]).product_id, ProductId(42382));
    // No tcg-id: name, number and set (our set name has TCGplayer's "SV: " prefix).
    let reverse = by_external("5809590");
    assert_eq!(reverse.len(), 1);
    let r = row_of(reverse[0]);
    assert_eq!(
        (r.product_id, r.printing.as_str(), r.mapping.method),
        (
            ProductId(517030),
            "Reverse Holofoil",
            MappingMethod::NameNumberSet
        )
    );
    assert_eq!(by_external("5809582").len(), 3);
    let mew = by_external("5809611");
    assert_eq!(mew.len(), 1, "n/a is no price; the PSA 10 stays");
    assert_eq!(row_of(mew[0]).graded.as_ref().unwrap().grader, Grader::Psa);
    assert_eq!(quotes.len(), 11);
    assert_eq!(report.quotes, 11);
    assert_eq!(report.requests, 1);
    assert_eq!(report.errors, 1, "the n/a cell");
    assert_eq!(report.rejected, 1, "Bulbasaur has no price");
    assert_eq!(report.rejections[0].product_id, Some(517001));
    // Unmapped: a version TCGplayer lists apart, a set we do not have. Not listed: the sealed
    // bundle, the Japanese and Chinese consoles (no catalog of ours is configured for them).
    let listed: HashSet<String> = unmapped
        .list(Some("pricecharting"), 100)
        .into_iter()
        .map(|u| u.external_id)
        .collect();
    assert_eq!(listed, HashSet::from(["630500".into(), "6099999".into()]));
    assert_eq!(mock.hits("/price-guide/download-custom"), 1);
    assert!(mock.requests.lock().unwrap()[0].contains("category=pokemon-cards"));
}

#[tokio::test(start_paused = true)]
async fn a_refused_guide_falls_back_to_the_api_for_known_products() {
    let guide_status = Arc::new(Mutex::new(200));
    let product = String::from_utf8(golden("product.json")).unwrap();
    let products = HashMap::from([("630417".to_owned(), product)]);
    let mock = golden_mock(guide_status.clone(), products).await;
    let (market, _) = market_of(golden_index());
    let mut cfg = config(&mock.base_url, vec![3]);
    cfg.api_fallback_per_pass = 3;
    let mut source = PricechartingSource::new(cfg, market).unwrap();
    let sink = VecSink::new();
    source
        .collect_into(&sink, &mut PassReport::default())
        .await
        .unwrap();
    assert_eq!(sink.take().len(), 11);
    assert_eq!(
        source.next_delay().as_secs(),
        86_400,
        "an n/a cell is no reason to download again"
    );

    *guide_status.lock().unwrap() = 403;
    let mut report = PassReport::default();
    source.collect_into(&sink, &mut report).await.unwrap();
    assert_eq!(report.degraded.len(), 1, "{:?}", report.degraded);
    assert_eq!(
        source.next_delay().as_secs(),
        3_600,
        "a degraded pass: retried soon"
    );
    let e = &report.degraded[0];
    assert!(e.what.contains("pokemon-cards"), "{e:?}");
    // Three of the six known products were read; only 630417 still exists.
    assert_eq!(mock.hits("/api/product?"), 3);
    let quotes = sink.take();
    assert_eq!(
        quotes.len(),
        6,
        "630417 from the API: ungraded + 5 graders' tens"
    );
    assert!(quotes.iter().all(|q| row_of(q).external_id == "630417"));
    assert_eq!(report.requests, 4);
    // The token never shows in what the pass reports.
    assert!(!format!("{:?}", report.degraded).contains(&format!("t={}", pc::TOKEN)));
}

#[tokio::test(start_paused = true)]
async fn a_bad_token_fails_the_pass_with_an_auth_error() {
    let mock = golden_mock(Arc::new(Mutex::new(200)), HashMap::new()).await;
    let client = PricechartingClient::new(&PricechartingConfig {
        token: "0000000000000000000000000000000000000000".into(),
        ..config(&mock.base_url, vec![3])
    })
    .unwrap();
    let e = client.product("630417").await.unwrap_err();
    assert!(matches!(e, CollectorError::Auth { .. }), "{e:?}");
    assert!(e.to_string().contains("Unknown access token"), "{e}");
    let e = client.search("charizard").await.unwrap_err();
    assert!(matches!(e, CollectorError::Auth { .. }), "{e:?}");
}

#[test]
fn config_reads_from_json_and_refuses_what_it_cannot_do() {
    let cfg: PricechartingConfig =
        serde_json::from_str(r#"{"token":"x","categories":[3,85],"daily_budget":50}"#).unwrap();
    assert_eq!(cfg.poll_interval_secs, 86_400);
    assert_eq!(cfg.http.min_interval_ms, 1_100);
    assert_eq!(cfg.base_url, "https://www.pricecharting.com");
    assert!(serde_json::from_str::<PricechartingConfig>(r#"{"bogus":1}"#).is_err());
    let (m, _) = market_of(ProductIndex::default());
    let no_token = PricechartingSource::new(PricechartingConfig::default(), m.clone());
    assert!(matches!(no_token, Err(CollectorError::Config(_))));
    let unknown = PricechartingSource::new(
        PricechartingConfig {
            token: "x".into(),
            categories: vec![999],
            ..PricechartingConfig::default()
        },
        m,
    );
    assert!(matches!(unknown, Err(CollectorError::Config(_))));
}

// ---------------------------------------------------------------------------------------------
// Against the simulator.

fn sim_config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        categories: vec![3, 1, 2, 68, 71],
        sets_per_game: 3,
        cards_per_set: 40,
        sealed_per_set: 1,
        // 2024-03-01T21:00:00Z
        fixed_time: Some(1_709_326_800),
        ..SimConfig::default()
    }
}

/// Our catalog as the simulator's TCGplayer has it.
fn sim_index(cat: &SimCatalog) -> ProductIndex {
    ProductIndex::from_entries(cat.products.iter().map(|p| CatalogEntry {
        product_id: ProductId(p.product_id),
        category_id: CategoryId(p.category_id),
        name: p.name.clone(),
        number: p.number.clone(),
        set_name: Some(p.set_name.clone()),
        set_code: Some(p.set_code.clone()),
        sealed: p.is_sealed(),
    }))
}

#[tokio::test(start_paused = true)]
async fn a_simulated_pass_maps_every_card_and_lists_the_planted_products() {
    let seed = 11;
    let sim = start_sim(sim_config(seed));
    let cat = sim.handle.catalog();
    let (market, unmapped) = market_of(sim_index(cat));
    let mut source =
        PricechartingSource::new(config(&sim.base_url, vec![3, 1, 2, 68, 71]), market).unwrap();
    let sink = VecSink::new();
    let mut report = PassReport::default();
    source.collect_into(&sink, &mut report).await.unwrap();
    assert_eq!(report.requests, 5, "one guide per game");
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(sim.handle.stats().pricecharting_requests, 5);
    let quotes = sink.take();
    let products = pc::products(cat, seed);
    let by_id: HashMap<String, &pc::PcProduct> =
        products.iter().map(|p| (p.id.to_string(), p)).collect();

    // Every card of the catalog is quoted, mapped to the card it is.
    let cards: HashSet<String> = products
        .iter()
        .filter(|p| matches!(p.planted, Planted::Card { .. }))
        .map(|p| p.id.to_string())
        .collect();
    let quoted: HashSet<String> = quotes
        .iter()
        .map(|q| row_of(q).external_id.clone())
        .collect();
    assert_eq!(quoted, cards);
    let now: i64 = 1_709_326_800;
    let mut ratios = Vec::new();
    for q in &quotes {
        let row = row_of(q);
        let p = by_id[&row.external_id];
        assert_eq!(row.product_id, ProductId(p.follows.0), "{p:?}");
        assert_eq!(
            (q.source, q.kind, q.price.currency),
            (QuoteSource::Pricecharting, PriceKind::Sales, Currency::USD)
        );
        // A version in brackets ("[Alternate Art]") is matched by name; a printing is not one.
        let versioned = ["[Reverse Holo]", "[Foil]", "[1st Edition]", "[Holo]"]
            .iter()
            .fold(p.product_name.clone(), |n, b| n.replace(b, ""))
            .contains('[');
        if p.tcg_id.is_some() && !versioned {
            assert_eq!(row.mapping.method, MappingMethod::TcgplayerId, "{p:?}");
        }
        if row.graded.is_none() {
            let sim_p = cat.product(p.follows.0).unwrap();
            let tcg = market_cents(seed, sim_p, p.follows.1, now.div_euclid(86_400) * 86_400);
            ratios.push(q.price.minor as f64 / tcg as f64);
        } else {
            assert_eq!(p.planted, Planted::Card { plain: true });
        }
    }
    // Ungraded prices follow TCGplayer's market with PriceCharting's own premium and noise.
    assert!(ratios.iter().all(|r| (0.8..1.15).contains(r)), "{ratios:?}");
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!((0.9..1.05).contains(&mean), "{mean}");
    // PSA 10 is several times the ungraded price.
    let ungraded: HashMap<(u64, &str), i64> = quotes
        .iter()
        .filter(|q| row_of(q).graded.is_none())
        .map(|q| {
            (
                (row_of(q).product_id.0, row_of(q).external_id.as_str()),
                q.price.minor,
            )
        })
        .collect();
    let psa: Vec<f64> = quotes
        .iter()
        .filter(|q| {
            row_of(q)
                .graded
                .as_ref()
                .is_some_and(|g| g.grader == Grader::Psa)
        })
        .filter_map(|q| {
            let r = row_of(q);
            ungraded
                .get(&(r.product_id.0, r.external_id.as_str()))
                .map(|u| q.price.minor as f64 / *u as f64)
        })
        .collect();
    assert!(psa.len() > 100 && psa.iter().all(|x| *x > 1.5), "{psa:?}");

    // The planted products are listed, with the right reason and candidates, and not quoted.
    let listed: HashMap<String, tcg_schemas::UnmappedProduct> = unmapped
        .list(Some("pricecharting"), 1_000)
        .into_iter()
        .map(|u| (u.external_id.clone(), u))
        .collect();
    let mut ambiguous = 0;
    for p in &products {
        let id = p.id.to_string();
        match &p.planted {
            Planted::Unmapped => assert_eq!(listed[&id].why, "unmapped", "{p:?}"),
            Planted::Ambiguous { candidates } => {
                ambiguous += 1;
                let u = &listed[&id];
                assert_eq!(u.why, "ambiguous");
                let ids: Vec<u64> = u.candidates.iter().map(|c| c.0).collect();
                assert_eq!(&ids, candidates);
            }
            Planted::Card { .. } | Planted::Sealed => assert!(!listed.contains_key(&id), "{p:?}"),
        }
    }
    assert!(ambiguous >= 1, "the simulator plants an ambiguous card");
    assert_eq!(listed.len(), 10 + ambiguous, "two unmapped per game");
    // Lorcana's foils are TCGplayer's "Cold Foil".
    assert!(quotes.iter().any(|q| row_of(q).printing == "Cold Foil"));
}

#[tokio::test(start_paused = true)]
async fn rate_limits_are_waited_out_and_bad_tokens_refused() {
    let mut sim_cfg = sim_config(3);
    sim_cfg.categories = vec![3];
    sim_cfg.sets_per_game = 1;
    sim_cfg.faults.first_429 = 2;
    sim_cfg.faults.retry_after_secs = 2;
    let sim = start_sim(sim_cfg);
    let (market, _) = market_of(sim_index(sim.handle.catalog()));
    let mut source = PricechartingSource::new(config(&sim.base_url, vec![3]), market).unwrap();
    let sink = VecSink::new();
    let mut report = PassReport::default();
    source.collect_into(&sink, &mut report).await.unwrap();
    assert!(!sink.is_empty());
    let stats = sim.handle.stats();
    assert_eq!((stats.faults_429, stats.pricecharting_requests), (2, 3));
    assert_eq!(source.next_delay().as_secs(), 86_400);

    // A wrong token: the guide is refused (403), the API says why, the pass fails.
    let (market, _) = market_of(sim_index(sim.handle.catalog()));
    let mut bad = PricechartingSource::new(
        PricechartingConfig {
            token: "wrong".into(),
            ..config(&sim.base_url, vec![3])
        },
        market,
    )
    .unwrap();
    let mut report = PassReport::default();
    let e = bad.collect_into(&sink, &mut report).await.unwrap_err();
    assert!(matches!(e, CollectorError::Auth { .. }), "{e:?}");
    assert!(e.to_string().contains("Unknown access token"), "{e}");
    assert!(!e.to_string().contains("wrong"), "the token stays out: {e}");
    assert_eq!(report.degraded.len(), 1, "the refused guide");
    assert_eq!(bad.next_delay().as_secs(), 3_600);
}

#[tokio::test(start_paused = true)]
async fn an_empty_catalog_skips_the_pass_and_a_spent_budget_stops_it() {
    let mut sim_cfg = sim_config(4);
    sim_cfg.categories = vec![3, 1];
    sim_cfg.sets_per_game = 1;
    let sim = start_sim(sim_cfg);
    let (empty, _) = market_of(ProductIndex::default());
    let mut source = PricechartingSource::new(config(&sim.base_url, vec![3]), empty).unwrap();
    let sink = VecSink::new();
    let mut report = PassReport::default();
    source.collect_into(&sink, &mut report).await.unwrap();
    assert!(report.skipped && sink.is_empty());
    assert_eq!(sim.handle.stats().pricecharting_requests, 0);
    assert_eq!(source.next_delay().as_secs(), 3_600);

    let (market, _) = market_of(sim_index(sim.handle.catalog()));
    let mut source = PricechartingSource::new(
        PricechartingConfig {
            daily_budget: 1,
            ..config(&sim.base_url, vec![3, 1])
        },
        market,
    )
    .unwrap();
    let e = source
        .collect_into(&sink, &mut PassReport::default())
        .await
        .unwrap_err();
    assert!(matches!(e, CollectorError::BudgetExhausted { .. }), "{e:?}");
    assert_eq!(source.client().budget_remaining(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_simulated_api_serves_products_search_and_errors() {
    let seed = 5;
    let mut sim_cfg = sim_config(seed);
    sim_cfg.categories = vec![3];
    sim_cfg.sets_per_game = 1;
    let sim = start_sim(sim_cfg);
    let client = PricechartingClient::new(&config(&sim.base_url, vec![3])).unwrap();
    let products = pc::products(sim.handle.catalog(), seed);
    let p = products
        .iter()
        .find(|p| p.planted == Planted::Card { plain: true } && p.tcg_id.is_some())
        .unwrap();
    let (row, bad) = client.product(&p.id.to_string()).await.unwrap();
    assert_eq!(bad, 0);
    assert_eq!(
        (row.product_name.as_str(), row.tcg_id),
        (p.product_name.as_str(), p.tcg_id)
    );
    assert!(row.prices.get(PriceKey::Loose).is_some());
    let e = client.product("1").await.unwrap_err();
    assert!(is_not_found(&e), "{e:?}");
    let name = p.product_name.split(" #").next().unwrap();
    let found = client.search(name).await.unwrap();
    assert!(!found.is_empty() && found.len() <= 20);
    assert!(found.iter().any(|r| r.id == p.id.to_string()));
    // The guide and the API agree.
    let guide = client.guide("pokemon-cards").await.unwrap();
    let same = guide.rows.iter().find(|r| r.id == row.id).unwrap();
    assert_eq!(same.prices, row.prices);
}
