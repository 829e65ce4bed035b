//! Scryfall: golden payloads (bulk-data lists of 2025 and 2026, card objects, error objects),
//! a pass against the simulator, and the faults that matter (429, a cut file, a bad line, an
//! unknown bulk type).
#![allow(clippy::unwrap_used, clippy::too_many_lines)] // a scenario reads best top to bottom

mod common;

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use common::markets::market;
use common::{mock, paused_http, start_sim};
use tcg_collectors::{
    CollectConfig, CollectorError, Feeds, MarketContext, Source, VecSink,
    identity::{CatalogEntry, IdBridge, Identity, ProductIndex, UnmappedLog},
    run_collectors,
    scryfall::{
        PassMapper, ScryfallClient, ScryfallConfig, ScryfallSource,
        bulk::{Next, read_cards},
        model::{self, parse_bulk_list, parse_error},
    },
};
use tcg_schemas::{
    CategoryId, Currency, Language, MappingMethod, MarketRow, Money, PriceKind, ProductId,
    RawQuote, Source as QuoteSource, Subject, Timestamp,
};
use tcg_simulator::{
    FaultConfig, SimConfig,
    market::{price_row, quote_time},
    scryfall::{self as sim_scryfall, CardOut, last_build},
};
use tokio::sync::watch;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scryfall");

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}")).unwrap()
}

fn row(q: &RawQuote) -> &MarketRow {
    match &q.subject {
        Subject::Market(row) => row,
        other => panic!("not a market row: {other:?}"),
    }
}

fn entry(id: u64, name: &str, number: &str, set: &str, code: &str) -> CatalogEntry {
    CatalogEntry {
        product_id: ProductId(id),
        category_id: CategoryId(1),
        name: name.into(),
        number: Some(number.into()),
        set_name: Some(set.into()),
        set_code: Some(code.into()),
        sealed: false,
    }
}

/// Our catalog for the golden cards.
fn golden_index() -> ProductIndex {
    ProductIndex::from_entries([
        entry(
            282800,
            "Sheoldred, the Apocalypse",
            "107",
            "Dominaria United",
            "DMU",
        ),
        entry(
            282801,
            "Liliana of the Veil (Showcase)",
            "300",
            "Dominaria United",
            "DMU",
        ),
        entry(
            282802,
            "Liliana of the Veil (Borderless)",
            "301",
            "Dominaria United",
            "DMU",
        ),
        entry(
            541280,
            "Emrakul, the World Anew (Foil Etched)",
            "496",
            "Modern Horizons 3",
            "MH3",
        ),
        entry(499999, "Sol Ring", "410", "Commander Masters", "CMM"),
        entry(
            500001,
            "Sol Ring (Foil Etched)",
            "410",
            "Commander Masters",
            "CMM",
        ),
        entry(
            239857,
            "Ragavan, Nimble Pilferer",
            "138",
            "Modern Horizons 2",
            "MH2",
        ),
    ])
}

// ---------------------------------------------------------------------------------------------
// Golden payloads.

#[test]
fn bulk_lists_of_both_generations_name_their_file() {
    let old = parse_bulk_list(&data("bulk_data_2025.json")).unwrap();
    assert_eq!(old.data.len(), 4);
    let default = old.data.iter().find(|i| i.kind == "default_cards").unwrap();
    assert_eq!(default.updated_at, "2025-01-16T22:39:59.251+00:00");
    assert_eq!(
        default.file_uri(),
        Some("https://data.scryfall.io/default-cards/default-cards-20250116223959.json")
    );
    assert_eq!(default.size, Some(484_181_553));

    let new = parse_bulk_list(&data("bulk_data_2026.json")).unwrap();
    let default = new.data.iter().find(|i| i.kind == "default_cards").unwrap();
    assert_eq!(default.download_uri, None);
    assert_eq!(
        default.file_uri(),
        Some("https://data.scryfall.io/default-cards/default-cards-20260806091027.jsonl.gz")
    );
    assert_eq!(default.compressed_size, Some(77_436_806));

    for bad in [
        &b"<html>oops</html>"[..],
        b"{\"object\":\"error\",\"code\":\"x\"}",
        b"{\"object\":\"card\",\"data\":[]}",
    ] {
        let err = parse_bulk_list(bad).unwrap_err();
        assert!(matches!(err, CollectorError::Malformed { .. }), "{err}");
    }
}

#[test]
fn error_objects_parse() {
    let e = parse_error(&data("error_not_found.json")).unwrap();
    assert_eq!((e.code.as_str(), e.status), ("not_found", 404));
    let e = parse_error(&data("error_bad_request.json")).unwrap();
    assert_eq!((e.code.as_str(), e.status), ("bad_request", 400));
    assert_eq!(e.warnings.map(|w| w.len()), Some(2));
    assert_eq!(e.details, "All of your terms were ignored.");
    let e = parse_error(&data("error_rate_limited.json")).unwrap();
    assert_eq!(e.status, 429);
    assert!(parse_error(b"Too Many Requests").is_err());
}

/// Maps the golden cards (English, paper) with a fresh mapper.
fn map_golden(body: &[u8], index: ProductIndex) -> (PassMapper, UnmappedLog, IdBridge, u64) {
    let at = Timestamp::from_secs(1_754_470_000);
    let mut mapper = PassMapper::new(Arc::new(index), at);
    let (unmapped, bridge) = (UnmappedLog::default(), IdBridge::default());
    let mut report = tcg_collectors::PassReport::default();
    read_cards(body, |card| {
        if !card.digital && model::language(&card.lang) == Some(Language::English) {
            mapper.card(card, Language::English, &unmapped, &mut report);
        }
        Next::Continue
    })
    .unwrap();
    mapper.finish(&bridge, &unmapped);
    (mapper, unmapped, bridge, report.rejected)
}

#[test]
fn golden_cards_map_by_the_ids_they_state() {
    let (mapper, unmapped, bridge, rejected) =
        map_golden(&data("default_cards_sample.jsonl"), golden_index());
    let got: HashSet<(u64, String, PriceKind, Money)> = mapper
        .pending
        .iter()
        .map(|q| {
            let r = row(q);
            assert_eq!(q.source, QuoteSource::Scryfall);
            assert_eq!(r.mapping.method, MappingMethod::TcgplayerId);
            assert_eq!(r.mapping.confidence, 100);
            assert_eq!(r.language, Some(Language::English));
            assert_eq!(r.condition, None);
            (r.product_id.0, r.printing.clone(), q.kind, q.price)
        })
        .collect();
    let (usd, eur) = (|c| Money::usd_cents(c), |c| Money::new(c, Currency::EUR));
    let want: HashSet<(u64, String, PriceKind, Money)> = [
        (282800, "Normal", PriceKind::Market, usd(7125)),
        (282800, "Foil", PriceKind::Market, usd(7890)),
        (282800, "Normal", PriceKind::Trend, eur(6400)),
        (282800, "Foil", PriceKind::Trend, eur(7015)),
        // Etched: the Foil of TCGplayer's "(Foil Etched)" product.
        (541280, "Foil", PriceKind::Market, usd(1042)),
        (499999, "Normal", PriceKind::Market, usd(149)),
        (500001, "Foil", PriceKind::Market, usd(499)),
        (499999, "Normal", PriceKind::Trend, eur(120)),
    ]
    .into_iter()
    .map(|(id, p, k, m)| (id, p.to_owned(), k, m))
    .collect();
    assert_eq!(got, want);
    assert_eq!(mapper.pending.len(), 8, "no duplicate series");
    assert_eq!(rejected, 1, "Ragavan maps but has no price");
    assert_eq!(
        mapper.counts.cards, 7,
        "the Japanese and the digital card are not read"
    );
    assert_eq!(mapper.counts.mapped, 4);

    // Listed: the cards of Dominaria United (covered) without a TCGplayer id; not the
    // promo of a set we do not have.
    let listed = unmapped.list(Some("scryfall"), 10);
    let by_name = |n: &str| listed.iter().find(|p| p.name == n);
    let plains = by_name("Plains").unwrap();
    assert_eq!(
        (plains.why.as_str(), plains.candidates.len()),
        ("unmapped", 0)
    );
    assert_eq!(plains.set.as_deref(), Some("Dominaria United"));
    let liliana = by_name("Liliana of the Veil").unwrap();
    assert_eq!(liliana.why, "ambiguous");
    assert_eq!(liliana.candidates, [ProductId(282801), ProductId(282802)]);
    assert!(
        by_name("Sheoldred, the Apocalypse").is_none(),
        "pdmu is not ours"
    );
    assert_eq!(listed.len(), 2);

    // Bridged: Cardmarket ids stated with a TCGplayer id.
    assert_eq!(
        bridge.product(QuoteSource::Cardmarket, "662253"),
        Some(ProductId(282800))
    );
    assert_eq!(
        bridge.product(QuoteSource::Cardmarket, "700001"),
        Some(ProductId(499999))
    );
    assert_eq!(
        bridge.product(QuoteSource::Cardmarket, "775001"),
        None,
        "no tcgplayer_id"
    );
    assert_eq!(bridge.len(QuoteSource::Cardmarket), 3);
    // And Scryfall's own ids, for Card Kingdom (never to an etched product).
    assert_eq!(
        bridge.product(
            QuoteSource::Scryfall,
            "d67be074-cdd4-41d9-ac89-0a0456c4e4b2"
        ),
        Some(ProductId(282800))
    );
    assert_eq!(
        bridge.product(
            QuoteSource::Scryfall,
            "2b5f6d7e-8c9a-4b1c-9d2e-3f4a5b6c7d8e"
        ),
        Some(ProductId(499999))
    );
    assert_eq!(
        bridge.product(
            QuoteSource::Scryfall,
            "5c2a9f2b-0b1e-4d8e-9c27-8f9f6e0b9a11"
        ),
        None
    );
    assert_eq!(bridge.len(QuoteSource::Scryfall), 3);
}

#[test]
fn golden_cards_read_as_a_json_array_too() {
    let lines = String::from_utf8(data("default_cards_sample.jsonl")).unwrap();
    let array = format!("[{}]", lines.trim_end().replace('\n', ",\n"));
    let (mapper, ..) = map_golden(array.as_bytes(), golden_index());
    assert_eq!(mapper.pending.len(), 8);
}

#[test]
fn an_empty_catalog_maps_nothing_and_lists_nothing() {
    let (mapper, unmapped, bridge, _) =
        map_golden(&data("default_cards_sample.jsonl"), ProductIndex::default());
    assert!(mapper.pending.is_empty());
    assert_eq!(unmapped.count("scryfall"), 0, "no set is ours");
    assert_eq!(
        bridge.len(QuoteSource::Cardmarket),
        3,
        "the ids are Scryfall's word"
    );
}

// ---------------------------------------------------------------------------------------------
// Against the simulator.

// 2024-03-01T21:00:00Z: the bulk files were built at 09:10.
const NOW: i64 = 1_709_326_800;

fn magic_sim(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        categories: vec![1, 3],
        sets_per_game: 2,
        cards_per_set: 40,
        sealed_per_set: 1,
        fixed_time: Some(NOW),
        ..SimConfig::default()
    }
}

fn config(base: &str) -> ScryfallConfig {
    ScryfallConfig {
        base_url: base.to_owned(),
        http: paused_http(),
        ..ScryfallConfig::default()
    }
}

/// Our catalog: the simulator's products (of `groups`, all when empty).
fn sim_index(sim: &common::SimThread, groups: &[u32]) -> ProductIndex {
    ProductIndex::from_entries(
        sim.handle
            .catalog()
            .products
            .iter()
            .filter(|p| groups.is_empty() || groups.contains(&p.group_id))
            .map(common::markets::catalog_entry),
    )
}

/// The simulator's bulk file now.
fn sim_cards(sim: &common::SimThread) -> Vec<CardOut> {
    let cfg = sim.handle.config();
    sim_scryfall::cards(
        cfg.seed,
        sim.handle.catalog(),
        last_build(NOW),
        cfg.step_secs,
    )
}

/// Quotes the simulator's cards give against `index`.
fn expected_quotes(cards: &[CardOut], index: &ProductIndex) -> usize {
    let known = |id: Option<u64>| id.is_some_and(|id| index.get(ProductId(id)).is_some());
    cards
        .iter()
        .filter(|c| c.lang == "en" && !c.digital)
        .map(|c| {
            let p = &c.prices;
            let regular = [&p.usd, &p.usd_foil, &p.eur, &p.eur_foil];
            let n = if known(c.tcgplayer_id) {
                regular.iter().filter(|v| v.is_some()).count()
            } else {
                0
            };
            n + usize::from(known(c.tcgplayer_etched_id) && p.usd_etched.is_some())
        })
        .sum()
}

#[tokio::test]
async fn a_pass_prices_mapped_cards_lists_the_rest_and_skips_an_unchanged_build() {
    let sim = start_sim(magic_sim(7));
    let index = sim_index(&sim, &[]);
    let cards = sim_cards(&sim);
    let ctx = market(index.clone());
    let mut source = ScryfallSource::new(config(&sim.base_url), ctx.clone()).unwrap();
    assert_eq!(source.name(), QuoteSource::Scryfall.as_str());
    let sink = VecSink::new();
    let first = source.collect(&sink).await.unwrap();
    let quotes = sink.take();
    assert_eq!(first.requests, 2, "the list and the file");
    assert_eq!(quotes.len(), expected_quotes(&cards, &index));
    assert_eq!(first.quotes, quotes.len() as u64);
    assert!(first.degraded.is_empty(), "{:?}", first.degraded);
    assert_eq!(
        source.last_seen(),
        Some(sim_scryfall::updated_at(last_build(NOW)).as_str())
    );

    // Series fields: our Magic products, TCGplayer's printings, USD market and EUR trend.
    let catalog = sim.handle.catalog();
    let t = quote_time(last_build(NOW), sim.handle.config().step_secs);
    let mut kinds = HashSet::new();
    for q in &quotes {
        let r = row(q);
        let p = catalog.product(r.product_id.0).unwrap();
        assert_eq!((p.category_id, r.category_id), (1, CategoryId(1)));
        assert!(
            r.printing == "Normal" || r.printing == "Foil",
            "{}",
            r.printing
        );
        assert_eq!(r.language, Some(Language::English));
        assert_eq!(r.mapping.confidence, 100);
        match q.kind {
            PriceKind::Market => {
                assert_eq!(q.price.currency, Currency::USD);
                // Scryfall copies TCGplayer's market price of the build.
                let i = usize::from(r.printing == "Foil");
                let m = price_row(7, p, i, t).market.unwrap();
                assert_eq!(q.price, Money::usd_cents(m));
            }
            PriceKind::Trend => assert_eq!(q.price.currency, Currency::EUR),
            other => panic!("kind {other:?}"),
        }
        kinds.insert(q.kind);
    }
    assert_eq!(kinds.len(), 2);
    // Etched-only printings are the Foil of their own product.
    let etched: Vec<u64> = cards.iter().filter_map(|c| c.tcgplayer_etched_id).collect();
    assert!(!etched.is_empty());
    assert!(
        quotes
            .iter()
            .any(|q| etched.contains(&row(q).product_id.0) && row(q).printing == "Foil")
    );

    // Listed: the first set's strays; not the Japanese, Alpha or digital cards.
    let listed = ctx.unmapped.list(Some("scryfall"), 100);
    let names: HashSet<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.contains("Mishra's Bauble") && names.contains("Island"),
        "{names:?}"
    );
    let ambiguous: Vec<_> = listed.iter().filter(|p| p.why == "ambiguous").collect();
    assert_eq!(ambiguous.len(), 1, "{listed:?}");
    assert!(ambiguous[0].candidates.len() >= 2);
    let skipped: Vec<&str> = cards
        .iter()
        .filter(|c| c.lang != "en" || c.digital || c.set == "lea")
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(skipped.len(), 3);
    assert!(
        listed
            .iter()
            .all(|p| !skipped.contains(&p.external_id.as_str()))
    );
    assert_eq!(listed.len(), 3);

    // Bridged: every Cardmarket id stated with a TCGplayer id.
    let bridge = &ctx.identity.bridge;
    let stated: Vec<(u64, u64)> = cards
        .iter()
        .filter(|c| c.lang == "en" && !c.digital)
        .filter_map(|c| Some((c.cardmarket_id?, c.tcgplayer_id?)))
        .collect();
    assert!(stated.len() > 40);
    for (cm, tp) in &stated {
        assert_eq!(
            bridge.product(QuoteSource::Cardmarket, &cm.to_string()),
            Some(ProductId(*tp))
        );
    }
    assert_eq!(sim_scryfall::cardmarket_id(stated[0].1), stated[0].0);
    // And Scryfall's ids, which the simulated Card Kingdom states.
    let pid = stated[0].1;
    assert_eq!(
        bridge.product(QuoteSource::Scryfall, &sim_scryfall::scryfall_id(7, pid)),
        Some(ProductId(pid))
    );

    // The same build again: only the list is read.
    let second = source.collect(&sink).await.unwrap();
    assert!(second.skipped);
    assert_eq!(second.requests, 1);
    assert!(sink.is_empty());
    let stats = sim.handle.stats();
    assert_eq!((stats.scryfall_requests, stats.scryfall_files), (2, 1));
    assert_eq!(source.next_delay(), Duration::from_secs(12 * 3600));
}

#[tokio::test]
async fn a_grown_catalog_reads_the_same_build_again() {
    let sim = start_sim(magic_sim(7));
    let first_set = sim.handle.catalog().groups_of(1).next().unwrap().group_id;
    let (tx, rx) = watch::channel(Arc::new(sim_index(&sim, &[first_set])));
    let ctx = MarketContext {
        identity: Identity {
            catalog: rx,
            bridge: Arc::new(IdBridge::default()),
        },
        unmapped: Arc::new(UnmappedLog::default()),
    };
    let mut source = ScryfallSource::new(config(&sim.base_url), ctx).unwrap();
    let sink = VecSink::new();
    let small = source.collect(&sink).await.unwrap();
    let full = Arc::new(sim_index(&sim, &[]));
    tx.send_replace(full.clone());
    let grown = source.collect(&sink).await.unwrap();
    assert!(!grown.skipped);
    assert!(
        grown.quotes > small.quotes,
        "{} > {}",
        grown.quotes,
        small.quotes
    );
    assert_eq!(
        grown.quotes as usize,
        expected_quotes(&sim_cards(&sim), &full)
    );
    assert_eq!(sim.handle.stats().scryfall_files, 2);
}

#[tokio::test]
async fn an_empty_catalog_skips_the_pass_without_a_request_and_retries_soon() {
    let sim = start_sim(magic_sim(7));
    let mut source =
        ScryfallSource::new(config(&sim.base_url), market(ProductIndex::default())).unwrap();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert!(report.skipped);
    assert_eq!(report.requests, 0);
    assert_eq!(sim.handle.stats().scryfall_requests, 0);
    assert_eq!(source.next_delay(), Duration::from_secs(1800));
}

#[tokio::test]
async fn a_catalog_without_magic_says_so() {
    let sim = start_sim(magic_sim(7));
    let pokemon: Vec<u32> = sim
        .handle
        .catalog()
        .groups_of(3)
        .map(|g| g.group_id)
        .collect();
    let mut source =
        ScryfallSource::new(config(&sim.base_url), market(sim_index(&sim, &pokemon))).unwrap();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert_eq!(report.quotes, 0);
    assert_eq!(report.degraded.len(), 1, "{:?}", report.degraded);
    assert!(
        report.degraded[0].message.contains("category 1"),
        "{:?}",
        report.degraded
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_is_waited_out() {
    let sim = start_sim(SimConfig {
        faults: FaultConfig {
            first_429: 1,
            first_503: 1,
            retry_after_secs: 30,
            ..FaultConfig::default()
        },
        ..magic_sim(7)
    });
    let index = sim_index(&sim, &[]);
    let mut source = ScryfallSource::new(config(&sim.base_url), market(index.clone())).unwrap();
    let started = tokio::time::Instant::now();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "two Retry-After: 30 waited out"
    );
    assert_eq!(
        report.quotes as usize,
        expected_quotes(&sim_cards(&sim), &index)
    );
    let stats = sim.handle.stats();
    assert_eq!((stats.faults_429, stats.faults_500), (1, 1));
    assert_eq!((stats.scryfall_requests, stats.scryfall_files), (3, 1));
}

#[tokio::test]
async fn an_unknown_bulk_type_is_a_clear_error_and_the_api_says_not_found() {
    let sim = start_sim(magic_sim(7));
    let mut cfg = config(&sim.base_url);
    cfg.bulk_type = "nope".into();
    let mut source = ScryfallSource::new(cfg, market(sim_index(&sim, &[]))).unwrap();
    let err = source.collect(&VecSink::new()).await.unwrap_err();
    assert!(err.to_string().contains("no nope file"), "{err}");
    assert_eq!(
        source.next_delay(),
        Duration::from_secs(1800),
        "a failed pass retries soon"
    );
    let answer = reqwest::Client::new()
        .get(format!("{}/bulk-data/nope", sim.base_url))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 404);
    let e = parse_error(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!((e.code.as_str(), e.status), ("not_found", 404));

    let mut wrong = config(&format!("{}/v2", sim.base_url));
    wrong.bulk_type = "default_cards".into();
    let mut source = ScryfallSource::new(wrong, market(sim_index(&sim, &[]))).unwrap();
    let err = source.collect(&VecSink::new()).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::Status { status: 404, .. }),
        "{err}"
    );
    assert!(
        ScryfallSource::new(
            ScryfallConfig {
                languages: vec!["qya".into()],
                ..ScryfallConfig::default()
            },
            market(ProductIndex::default())
        )
        .is_err()
    );
}

#[tokio::test]
async fn the_legacy_json_array_file_reads_the_same() {
    let sim = start_sim(magic_sim(7));
    let client = ScryfallClient::new(&config(&sim.base_url)).unwrap();
    let item = client.bulk_item("default_cards").await.unwrap();
    let legacy = item.download_uri.clone().unwrap();
    assert!(legacy.ends_with(".json"));
    let (mut jsonl, mut array) = (Vec::new(), Vec::new());
    let body = client.download(item.file_uri().unwrap()).await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip");
    read_cards(&body, |c| {
        jsonl.push(c);
        Next::Continue
    })
    .unwrap();
    let body = client.download(&legacy).await.unwrap();
    read_cards(&body, |c| {
        array.push(c);
        Next::Continue
    })
    .unwrap();
    assert_eq!(jsonl, array);
    assert_eq!(jsonl.len(), sim_cards(&sim).len());
}

// ---------------------------------------------------------------------------------------------
// Answers the simulator never gives: a file cut short, a bad line.

fn mock_list(base: &str, file: &str) -> String {
    format!(
        r#"{{"object":"list","has_more":false,"data":[{{"object":"bulk_data","id":"e2ef41e3-5778-4bc2-af3f-78eca4dd9c23","type":"default_cards","updated_at":"2025-01-16T22:39:59.251+00:00","uri":"{base}/bulk-data/e2ef","name":"Default Cards","download_uri":"{base}/{file}","content_type":"application/json","content_encoding":"gzip"}}]}}"#
    )
}

#[tokio::test]
async fn a_cut_file_fails_the_pass_after_its_whole_cards_and_is_read_again() {
    let lines = String::from_utf8(data("default_cards_sample.jsonl")).unwrap();
    let whole = format!("[{}]", lines.trim_end().replace('\n', ",\n"));
    // Cut inside the second card object.
    let second = whole.find(",\n{").unwrap();
    let cut = whole[..second + 60].to_owned();
    let healed = Arc::new(AtomicBool::new(false));
    let base = Arc::new(std::sync::Mutex::new(String::new()));
    let (h, b) = (healed.clone(), base.clone());
    let upstream = mock::serve(move |_, target| match mock::path(target) {
        "/bulk-data" => (200, mock_list(&b.lock().unwrap(), "default-cards.json")),
        "/default-cards.json" if h.load(Ordering::Relaxed) => (200, whole.clone()),
        "/default-cards.json" => (200, cut.clone()),
        _ => (
            404,
            r#"{"object":"error","code":"not_found","status":404,"details":"x"}"#.into(),
        ),
    })
    .await;
    *base.lock().unwrap() = upstream.base_url.clone();
    let mut source =
        ScryfallSource::new(config(&upstream.base_url), market(golden_index())).unwrap();
    let sink = VecSink::new();
    let mut report = tcg_collectors::PassReport::default();
    let err = source.collect_into(&sink, &mut report).await.unwrap_err();
    assert!(matches!(err, CollectorError::Malformed { .. }), "{err}");
    assert_eq!(
        report.quotes, 4,
        "Sheoldred's quotes, read before the cut, stand"
    );
    assert_eq!(source.last_seen(), None);
    healed.store(true, Ordering::Relaxed);
    let again = source.collect(&sink).await.unwrap();
    assert_eq!(again.quotes, 8);
    assert_eq!(upstream.hits("/default-cards.json"), 2);
}

#[tokio::test]
async fn a_bad_line_degrades_the_pass_and_the_rest_is_priced() {
    let lines = String::from_utf8(data("default_cards_sample.jsonl")).unwrap();
    let body = format!("{{\"object\":\"card\",\"id\":\n{lines}");
    let base = Arc::new(std::sync::Mutex::new(String::new()));
    let b = base.clone();
    let upstream = mock::serve(move |_, target| match mock::path(target) {
        "/bulk-data" => (200, mock_list(&b.lock().unwrap(), "cards.jsonl")),
        "/cards.jsonl" => (200, body.clone()),
        _ => (404, String::new()),
    })
    .await;
    *base.lock().unwrap() = upstream.base_url.clone();
    let mut source =
        ScryfallSource::new(config(&upstream.base_url), market(golden_index())).unwrap();
    let report = source.collect(&VecSink::new()).await.unwrap();
    assert_eq!(report.quotes, 8);
    assert_eq!(report.errors, 1);
    assert_eq!(report.degraded.len(), 1);
    assert_eq!(report.rejected, 1);
    assert_eq!(source.last_seen(), None, "read again next pass");
}

#[test]
fn the_configuration_reads_from_json() {
    let cfg: CollectConfig = serde_json::from_str(
        r#"{"scryfall":{"languages":["en","ja"],"poll_interval_secs":3600,"http":{"min_interval_ms":50}}}"#,
    )
    .unwrap();
    let s = cfg.scryfall.unwrap();
    assert_eq!(s.languages, ["en", "ja"]);
    assert_eq!(s.bulk_type, "default_cards");
    assert_eq!(s.base_url, "https://api.scryfall.com");
    assert_eq!((s.poll_interval_secs, s.http.min_interval_ms), (3600, 50));
    assert!(serde_json::from_str::<CollectConfig>(r#"{"scryfall":{"api_key":"x"}}"#).is_err());
    let default = ScryfallConfig::default();
    assert_eq!(default.poll_interval_secs, 12 * 3600);
    assert_eq!(default.http.min_interval_ms, 100);
    assert!(default.http.user_agent.starts_with("tcgtracker/"));
}

#[tokio::test]
async fn run_collectors_runs_the_configured_source() {
    let sim = start_sim(magic_sim(7));
    let index = sim_index(&sim, &[]);
    let cfg = CollectConfig::for_simulator(&sim.base_url);
    assert!(cfg.source_names().contains(&"scryfall"));
    let only = CollectConfig {
        scryfall: Some(ScryfallConfig {
            http: paused_http(),
            ..cfg.scryfall.unwrap()
        }),
        ..CollectConfig::default()
    };
    let (_tx, tracked) = watch::channel(Vec::new());
    let feeds = Feeds {
        tracked,
        identity: Identity::fixed(index.clone()),
    };
    let sink = Arc::new(VecSink::new());
    let summary = run_collectors(
        only,
        feeds,
        sink.clone(),
        None,
        Some(1),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(summary.sources.len(), 1);
    assert_eq!(summary.sources[0].0, "scryfall");
    assert_eq!(sink.len(), expected_quotes(&sim_cards(&sim), &index));
}
