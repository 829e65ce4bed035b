//! JustTCG: golden payloads in the real shapes (`tests/data/justtcg/`), and the source and its
//! history read against the simulator.
#![allow(clippy::unwrap_used, clippy::too_many_lines)] // a scenario reads best top to bottom

mod common;
#[path = "justtcg/golden.rs"]
mod golden;

use std::collections::HashMap;

use common::markets::market;
use common::{SimThread, paused_http, small_sim, start_sim};
use tcg_collectors::{
    CollectorError, PassReport, Source, VecSink,
    identity::ProductIndex,
    justtcg::{
        HistoryDuration, JusttcgClient, JusttcgConfig, JusttcgSource,
        model::{Card, ErrorCode, GameRow, SetRow, parse_envelope, parse_error},
        read_history,
    },
};
use tcg_schemas::{
    CategoryId, Money, PriceKind, ProductId, RawQuote, Source as QuoteSource, Subject, Timestamp,
};
use tcg_simulator::{
    FaultConfig, SimConfig,
    catalog::SimCatalog,
    justtcg::{Extra, JtData, last_updated, price_cents, variants},
    market::{market_price, sku_ratio},
};

fn golden(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/justtcg/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn market_row(q: &RawQuote) -> &tcg_schemas::MarketRow {
    match &q.subject {
        Subject::Market(row) => row,
        other => panic!("not a market row: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Against the simulator.

/// Our catalog: every product of the simulator's.
fn index_of(catalog: &SimCatalog) -> ProductIndex {
    ProductIndex::from_entries(catalog.products.iter().map(common::markets::catalog_entry))
}

fn config(sim: &SimThread, key: &str) -> JusttcgConfig {
    JusttcgConfig {
        base_url: format!("{}/v1", sim.base_url),
        api_key: key.into(),
        categories: vec![3, 68],
        batch_size: 20,
        requests_per_pass: 0,
        discover_requests_per_pass: 0,
        daily_budget: 1_000,
        http: paused_http(),
        ..JusttcgConfig::default()
    }
}

/// The quotes a lookup of every catalog product gives: the variants with a price of the products
/// exactly one JustTCG card claims; and the products two cards claim.
fn expected(sim: &SimThread) -> (HashMap<String, i64>, Vec<u64>) {
    let (catalog, seed) = (sim.handle.catalog(), sim.handle.config().seed);
    let now = sim.handle.config().fixed_time.unwrap();
    let data = JtData::build(catalog);
    let mut prices = HashMap::new();
    let mut ambiguous = Vec::new();
    for p in &catalog.products {
        match data.by_tcgplayer(p.product_id) {
            [one] => {
                let card = &data.cards[*one];
                let t = last_updated(card.game, now);
                for v in variants(catalog, card) {
                    if let Some(c) = price_cents(seed, catalog, card, &v, t) {
                        prices.insert(v.id, c);
                    }
                }
            }
            [] => {}
            _ => ambiguous.push(p.product_id),
        }
    }
    (prices, ambiguous)
}

#[tokio::test]
async fn a_pass_prices_the_catalog_by_id_and_lists_what_it_cannot_map() {
    let sim = start_sim(small_sim(7));
    let catalog = sim.handle.catalog();
    let index = index_of(catalog);
    let ctx = market(index_of(catalog));
    let mut cfg = config(&sim, "tcg_test");
    cfg.discover_requests_per_pass = 6;
    let mut source = JusttcgSource::new(cfg, ctx.clone()).unwrap();
    assert_eq!(source.name(), "justtcg");
    let sink = VecSink::new();
    let report = source.collect(&sink).await.unwrap();
    let quotes = sink.take();
    let (prices, ambiguous) = expected(&sim);
    let batches = catalog.products.len().div_ceil(20) as u64;
    // 2 games × (1 list of sets + 2 sets of one page each).
    assert_eq!(report.requests, batches + 6);
    assert_eq!(report.errors, 0, "{:?}", report.degraded);
    assert_eq!(quotes.len(), prices.len());
    assert!(report.rejected > 0, "null prices are rejected, named");
    for q in &quotes {
        assert_eq!(
            (q.source, q.kind),
            (QuoteSource::Justtcg, PriceKind::Market)
        );
        assert_eq!(q.price.currency, tcg_schemas::Currency::USD);
        let row = market_row(q);
        assert_eq!(
            prices.get(&row.external_id),
            Some(&q.price.minor),
            "{}",
            row.external_id
        );
        let entry = index.get(row.product_id).unwrap();
        assert_eq!(row.category_id, entry.category_id);
        assert_eq!(row.mapping.confidence, 100);
        assert!(!row.condition.as_ref().unwrap().is_other());
        let printings = catalog.category(entry.category_id.0).unwrap().printings;
        assert!(
            printings.iter().any(|(_, name)| *name == row.printing),
            "{}",
            row.printing
        );
        assert!(!ambiguous.contains(&row.product_id.0));
    }
    // JustTCG follows TCGplayer's SKU market: within its own noise and a few hours' lag.
    let seed = sim.handle.config().seed;
    let t = sim.handle.config().fixed_time.unwrap();
    let data = JtData::build(catalog);
    for q in quotes.iter().take(200) {
        let row = market_row(q);
        let card = &data.cards[data.card_of_variant(&row.external_id).unwrap()];
        if card.extra != Extra::No {
            continue;
        }
        let v = variants(catalog, card)
            .into_iter()
            .find(|v| v.id == row.external_id)
            .unwrap();
        let p = catalog.product(row.product_id.0).unwrap();
        let tcg = market_price(seed, p, v.parts.printing, t) * sku_ratio(seed, &v.parts, t);
        let ratio = q.price.minor as f64 / tcg;
        assert!(
            (0.9..1.1).contains(&ratio) || tcg < 50.0,
            "{ratio}: {row:?}"
        );
    }
    // Unmapped: JustTCG's own cards (a TCGplayer id we do not have, none at all); ambiguous: two
    // cards claiming one product, neither quoted.
    let listed = ctx.unmapped.list(Some("justtcg"), 100);
    let names = |why: &str| -> Vec<String> {
        let mut n: Vec<String> = listed
            .iter()
            .filter(|u| u.why == why)
            .map(|u| u.name.clone())
            .collect();
        n.sort();
        n
    };
    let unmapped = names("unmapped");
    assert_eq!(unmapped.len(), 4, "{unmapped:?}");
    assert!(
        unmapped
            .iter()
            .all(|n| n.ends_with("(Staff Promo)") || n.ends_with("(Oversized)"))
    );
    let amb: Vec<_> = listed.iter().filter(|u| u.why == "ambiguous").collect();
    assert_eq!(amb.len(), 2 * ambiguous.len());
    assert!(amb.iter().all(|u| ambiguous.contains(&u.candidates[0].0)));
    assert!(
        !ambiguous.is_empty(),
        "seed 7 keeps a prerelease card's product"
    );
    let extras = data
        .cards
        .iter()
        .filter(|c| c.extra == Extra::Prerelease)
        .count();
    assert_eq!(extras, 2);
}

#[tokio::test]
async fn unchanged_variants_are_skipped_and_the_sweep_goes_round() {
    let sim = start_sim(small_sim(3));
    let catalog = sim.handle.catalog();
    let mut cfg = config(&sim, "tcg_test");
    cfg.requests_per_pass = 2;
    let mut source = JusttcgSource::new(cfg, market(index_of(catalog))).unwrap();
    let sink = VecSink::new();
    let mut ids: Vec<u64> = catalog.products.iter().map(|p| p.product_id).collect();
    ids.sort_unstable();
    assert!(
        ids.len() > 40 && ids.len() <= 80,
        "two passes round the catalog"
    );
    let first = source.collect(&sink).await.unwrap();
    assert_eq!(first.requests, 2);
    assert_eq!(source.cursor(), ids[39]);
    let second = source.collect(&sink).await.unwrap();
    assert_eq!(second.requests, 2);
    // The second pass went round to the start again; what it priced twice, it published once.
    let quotes = sink.take();
    assert_eq!(quotes.len(), expected(&sim).0.len());
    assert_eq!(quotes.len() as u64, first.quotes + second.quotes);
    for _ in 0..2 {
        let again = source.collect(&sink).await.unwrap();
        assert_eq!(
            (again.requests, again.quotes),
            (2, 0),
            "JustTCG has not repriced"
        );
    }
    assert_eq!(sim.handle.stats().justtcg_requests, 8);
}

#[tokio::test]
async fn a_bad_or_missing_key_fails_the_pass_clearly() {
    let sim = start_sim(small_sim(1));
    let catalog = sim.handle.catalog();
    let mut source = JusttcgSource::new(config(&sim, "wrong"), market(index_of(catalog))).unwrap();
    let e = source.collect(&VecSink::new()).await.unwrap_err();
    let refused = |e: &CollectorError| match e {
        CollectorError::Auth { source, .. } => {
            matches!(**source, CollectorError::Status { status: 401, .. })
        }
        _ => false,
    };
    assert!(refused(&e), "{e}");
    assert!(e.to_string().contains("API key"), "{e}");
    let client = JusttcgClient::new(&JusttcgConfig {
        api_key: String::new(),
        ..config(&sim, "")
    })
    .unwrap();
    assert_eq!(client.games().await.unwrap_err().kind(), "auth");
    assert!(JusttcgSource::new(config(&sim, " "), market(index_of(catalog))).is_err());
}

#[tokio::test]
async fn the_free_plan_limits_cards_and_requests() {
    let sim = start_sim(small_sim(1));
    let catalog = sim.handle.catalog();
    // More cards a request than the plan allows: refused (403), the pass fails clearly.
    let mut cfg = config(&sim, "tcg_free_demo");
    cfg.batch_size = 50;
    let mut source = JusttcgSource::new(cfg, market(index_of(catalog))).unwrap();
    let e = source.collect(&VecSink::new()).await.unwrap_err();
    assert!(e.to_string().contains("plan"), "{e}");
    // Ten requests a minute: the eleventh is refused (429) after its retries; the pass keeps
    // what it priced, says why it stopped, and the cursor waits there.
    let mut cfg = config(&sim, "tcg_free_other");
    cfg.batch_size = 5;
    cfg.http.retry.max_retries = 1;
    cfg.http.retry.base_delay_ms = 10;
    let mut source = JusttcgSource::new(cfg, market(index_of(catalog))).unwrap();
    let sink = VecSink::new();
    let mut report = PassReport::default();
    source.collect_into(&sink, &mut report).await.unwrap();
    assert_eq!(report.requests, 11);
    assert_eq!(report.degraded.len(), 1, "{:?}", report.degraded);
    assert!(report.degraded[0].effect.contains("rate limited"));
    assert!(!sink.take().is_empty());
    let mut ids: Vec<u64> = catalog.products.iter().map(|p| p.product_id).collect();
    ids.sort_unstable();
    assert_eq!(source.cursor(), ids[49]);
    let usage = source.client().usage().unwrap();
    assert_eq!(usage.api_plan.as_deref(), Some("Free Tier"));
    assert_eq!(usage.api_daily_requests_remaining, Some(90));
}

#[tokio::test]
async fn the_daily_budget_stops_a_pass_then_refuses_the_next() {
    let sim = start_sim(small_sim(2));
    let mut cfg = config(&sim, "tcg_test");
    cfg.daily_budget = 2;
    let mut source = JusttcgSource::new(cfg, market(index_of(sim.handle.catalog()))).unwrap();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert_eq!(report.requests, 2);
    assert_eq!(source.budget_remaining(), 0);
    let e = source.collect(&VecSink::new()).await.unwrap_err();
    assert!(
        matches!(e, CollectorError::BudgetExhausted { limit: 2, .. }),
        "{e}"
    );
}

#[tokio::test]
async fn an_empty_catalog_skips_the_pass_and_tries_again_soon() {
    let sim = start_sim(small_sim(2));
    let mut source =
        JusttcgSource::new(config(&sim, "tcg_test"), market(ProductIndex::default())).unwrap();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert_eq!((report.requests, report.quotes), (0, 0));
    assert!(report.skipped && report.degraded.is_empty(), "{report:?}");
    assert_eq!(sim.handle.stats().justtcg_requests, 0);
    assert!(
        source.next_delay() <= std::time::Duration::from_secs(30),
        "tried again soon, not a poll interval later"
    );
}

#[tokio::test]
async fn faults_degrade_and_the_pass_goes_on() {
    // The first answer is cut, then two requests answer 429 (with Retry-After): the cut batch is
    // skipped, the rate limit stops the pass; the next pass goes on.
    let sim = start_sim(SimConfig {
        faults: FaultConfig {
            first_malformed: 1,
            ..FaultConfig::default()
        },
        ..small_sim(4)
    });
    let catalog = sim.handle.catalog();
    let mut source =
        JusttcgSource::new(config(&sim, "tcg_test"), market(index_of(catalog))).unwrap();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert_eq!(report.degraded.len(), 1, "{:?}", report.degraded);
    assert_eq!(report.requests, catalog.products.len().div_ceil(20) as u64);
    assert!(report.quotes > 0);

    let sim = start_sim(SimConfig {
        faults: FaultConfig {
            first_429: 4,
            retry_after_secs: 0,
            ..FaultConfig::default()
        },
        ..small_sim(4)
    });
    let mut source =
        JusttcgSource::new(config(&sim, "tcg_test"), market(index_of(catalog))).unwrap();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert_eq!((report.requests, report.quotes), (1, 0));
    assert!(report.degraded[0].effect.contains("rate limited"));
    assert_eq!(source.cursor(), 0, "the batch is tried again");
    let next = source.collect(&VecSink::new()).await.unwrap();
    assert!(next.quotes > 0 && next.errors == 0);
}

#[tokio::test]
async fn the_history_read_gives_quotes_at_their_points_times() {
    let sim = start_sim(small_sim(9));
    let (catalog, seed) = (sim.handle.catalog(), sim.handle.config().seed);
    let now = sim.handle.config().fixed_time.unwrap();
    let client = JusttcgClient::new(&config(&sim, "tcg_test")).unwrap();
    let data = JtData::build(catalog);
    let card = data
        .cards
        .iter()
        .find(|c| {
            c.extra == Extra::No && c.number.is_some() && data.by_tcgplayer(c.product).len() == 1
        })
        .unwrap();
    let product = ProductId(card.product);
    let category = CategoryId(card.game.category_id);
    let read = client
        .history(product, category, HistoryDuration::Month)
        .await
        .unwrap();
    let vars = variants(catalog, card);
    assert!(!read.ambiguous && !read.not_found);
    assert_eq!(
        read.quotes.len() + read.dropped,
        vars.len() * 120,
        "every 6 hours for 30 days"
    );
    let last = last_updated(card.game, now);
    let first = read.quotes.first().unwrap().observed_at;
    assert_eq!(first, Timestamp::from_secs(last - 119 * 21_600));
    assert_eq!(
        read.quotes.last().unwrap().observed_at,
        Timestamp::from_secs(last)
    );
    for q in &read.quotes {
        let row = market_row(q);
        let v = vars.iter().find(|v| v.id == row.external_id).unwrap();
        let cents = price_cents(seed, catalog, card, v, q.observed_at.as_secs()).unwrap();
        assert_eq!(q.price, Money::usd_cents(cents));
        assert_eq!(row.product_id, product);
    }
    let missing = client
        .history(ProductId(1), category, HistoryDuration::Week)
        .await
        .unwrap();
    assert!(missing.not_found);
    // Through our catalog: the category is ours; a product we do not have is refused.
    let index = index_of(catalog);
    let week = read_history(&client, &index, product, HistoryDuration::Week)
        .await
        .unwrap();
    assert_eq!(week.quotes.len() + week.dropped, vars.len() * 28);
    let e = read_history(&client, &index, ProductId(1), HistoryDuration::Week)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "config");
}

#[tokio::test]
async fn the_simulator_answers_in_justtcgs_shapes() {
    let sim = start_sim(small_sim(1));
    let http = reqwest::Client::new();
    let base = format!("{}/v1", sim.base_url);
    let ask = |path: &str, key: Option<&str>| {
        let mut r = http.get(format!("{base}/{path}"));
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        r.send()
    };
    let answer = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        (status, r.bytes().await.unwrap())
    };
    let (status, body) = answer(ask("games", None).await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(parse_error(&body).unwrap().code(), ErrorCode::MissingApiKey);
    let (status, body) = answer(ask("games", Some("abc")).await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(parse_error(&body).unwrap().code(), ErrorCode::InvalidApiKey);
    let (status, body) = answer(ask("sets", Some("tcg_x")).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(
        parse_error(&body).unwrap().error,
        "Required query parameter \"game\" is missing"
    );
    let (status, body) = answer(ask("sets?game=chess", Some("tcg_x")).await.unwrap()).await;
    assert_eq!(status, 400);
    let e = parse_error(&body).unwrap();
    assert_eq!(e.code(), ErrorCode::InvalidRequest);
    assert!(
        e.error
            .starts_with("Invalid game parameter. Must be one of: ")
    );
    // Games and sets of the simulated categories; a set's listing is paged.
    let (status, body) = answer(ask("games", Some("tcg_x")).await.unwrap()).await;
    assert_eq!(status, 200);
    let games = parse_envelope::<GameRow>("justtcg", &body).unwrap();
    let mut ids: Vec<&str> = games.data.iter().map(|g| g.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["one-piece-card-game", "pokemon"]);
    let (_, body) = answer(ask("sets?game=pokemon", Some("tcg_x")).await.unwrap()).await;
    let sets = parse_envelope::<SetRow>("justtcg", &body).unwrap();
    assert_eq!(sets.data.len(), 2);
    let path = format!(
        "cards?game=pokemon&set={}&limit=5&offset=5",
        sets.data[0].id
    );
    let (_, body) = answer(ask(&path, Some("tcg_x")).await.unwrap()).await;
    let page = parse_envelope::<Card>("justtcg", &body).unwrap();
    let meta = page.meta.unwrap();
    assert_eq!(
        (page.data.len(), meta.offset, meta.has_more),
        (5, Some(5), Some(true))
    );
    // Lookups by SKU and by variant name one variant; a batch names cards by id.
    let sku = page.data[0].variants[0].tcgplayer_sku_id.clone().unwrap();
    let (_, body) = answer(
        ask(&format!("cards?tcgplayerSkuId={sku}"), Some("tcg_x"))
            .await
            .unwrap(),
    )
    .await;
    let one = parse_envelope::<Card>("justtcg", &body).unwrap();
    assert_eq!(one.data[0].variants.len(), 1);
    assert_eq!(
        one.data[0].variants[0].tcgplayer_sku_id.as_deref(),
        Some(sku.as_str())
    );
    let wanted = page.data[1].tcgplayer_id.clone().unwrap();
    let r = http
        .post(format!("{base}/cards"))
        .header("x-api-key", "tcg_x")
        .json(
            &serde_json::json!([{"tcgplayerId": wanted, "condition": "NM"}, {"tcgplayerId": "1"}]),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = answer(r).await;
    assert_eq!(status, 200);
    let batch = parse_envelope::<Card>("justtcg", &body).unwrap();
    assert!(batch.meta.is_none());
    assert_eq!(batch.data.len(), 1);
    assert!(
        batch.data[0]
            .variants
            .iter()
            .all(|v| v.condition.as_deref() == Some("Near Mint"))
    );
    assert_eq!(batch.usage.unwrap().api_plan.as_deref(), Some("Enterprise"));
    // The Free plan: 20 cards a request (403 beyond), 10 requests a minute (429 beyond).
    let (status, _) = answer(ask("cards?limit=21", Some("tcg_free_x")).await.unwrap()).await;
    assert_eq!(status, 403);
    let mut last = (0, bytes::Bytes::new());
    for _ in 0..10 {
        last = answer(ask("cards?limit=1", Some("tcg_free_x")).await.unwrap()).await;
    }
    assert_eq!(last.0, 429, "the 403 counted too");
    assert_eq!(
        parse_error(&last.1).unwrap().code(),
        ErrorCode::RateLimitExceeded
    );
}
