//! Card Kingdom's price list: golden payloads, a pass against the simulator (mapped rows quoted,
//! unmapped and ambiguous ones listed), and the faults that matter (429 with Retry-After, a cut
//! list, a block page, a moved list, an empty catalog).
#![allow(clippy::unwrap_used, clippy::too_many_lines)] // a scenario reads best top to bottom

mod common;

use std::{collections::HashMap, sync::Arc};

use common::markets::market;
use common::{mock, paused_http, start_sim};
use tcg_collectors::{
    CollectConfig, CollectOptions, CollectorError, MarketContext, PassReport, Source, VecSink,
    cardkingdom::{
        CardkingdomConfig, CardkingdomSource,
        map::{self, MapContext, RowOutcome},
        model::{self, ListError},
    },
    identity::{CatalogEntry, Identity, ProductIndex, UnmappedLog},
};
use tcg_schemas::{
    CategoryId, Condition, Currency, MappingMethod, MarketRow, Money, PriceKind, ProductId,
    RawQuote, Source as QuoteSource, Subject,
};
use tcg_simulator::{
    SimConfig,
    cardkingdom::{Expect, ck_prices, html_wrapped, rows},
    catalog::SimCatalog,
    market::quote_time,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cardkingdom/");

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).unwrap()
}

/// 2024-03-01T21:00:00Z, a quote time of its own.
const T: i64 = 1_709_326_800;

fn sim_config(seed: u64, fixed_time: i64) -> SimConfig {
    SimConfig {
        seed,
        categories: vec![1, 3],
        sets_per_game: 2,
        cards_per_set: 24,
        sealed_per_set: 1,
        fixed_time: Some(fixed_time),
        ..SimConfig::default()
    }
}

/// Our catalog as the TCGplayer collectors would have filled it from the simulator.
fn index_of(cat: &SimCatalog) -> ProductIndex {
    ProductIndex::from_entries(cat.products.iter().map(common::markets::catalog_entry))
}

fn source(base_url: &str, market: MarketContext) -> CardkingdomSource {
    let config = CardkingdomConfig {
        base_url: base_url.to_owned(),
        http: paused_http(),
        ..CardkingdomConfig::default()
    };
    CardkingdomSource::new(config, market).unwrap()
}

async fn pass(src: &mut CardkingdomSource, sink: &VecSink) -> Result<PassReport, CollectorError> {
    let mut report = PassReport::default();
    src.collect_into(sink, &mut report).await.map(|()| report)
}

fn row_of(q: &RawQuote) -> &MarketRow {
    match &q.subject {
        Subject::Market(row) => row,
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Golden payloads.

fn golden_index() -> ProductIndex {
    let e = |id: u64, name: &str, number: &str, set: &str, code: &str| CatalogEntry {
        product_id: ProductId(id),
        category_id: CategoryId(1),
        name: name.into(),
        number: Some(number.into()),
        set_name: Some(set.into()),
        set_code: Some(code.into()),
        sealed: false,
    };
    ProductIndex::from_entries([
        e(
            1,
            "Pang Tong, \"Young Phoenix\"",
            "14",
            "Portal Three Kingdoms",
            "PTK",
        ),
        e(2, "Counterspell", "55", "Unlimited Edition", "2ED"),
        e(3, "Relic Barrier", "292", "Legends", "LEG"),
        e(4, "Angelic Favor", "1", "Nemesis", "NEM"),
        e(5, "Air Elemental", "59", "Fourth Edition", "4ED"),
        e(6, "Blood Lust", "178", "Fourth Edition", "4ED"),
    ])
}

fn golden_outcomes(doc: &[u8]) -> (model::ListHead, Vec<RowOutcome>) {
    let index = golden_index();
    let ctx = MapContext {
        index: &index,
        bridge: None,
    };
    let mut out = Vec::new();
    let json = model::unwrap_html(doc).unwrap();
    let head = model::read_list(json, |row| out.push(map::convert(&row, ctx, &mut 0))).unwrap();
    (head, out)
}

fn priced(o: &RowOutcome) -> &map::Priced {
    match o {
        RowOutcome::Priced(p) => p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn golden_v2_rows_map_and_price_per_grade() {
    let (head, rows) = golden_outcomes(&golden("pricelist_v2.json"));
    assert_eq!(head.rows, 7);
    assert_eq!(head.meta.created_at.as_deref(), Some("2026-10-02 05:05:11"));
    // "Portal 3K" is not our set's name: the sku's code is.
    let pang = priced(&rows[0]);
    assert_eq!(
        (pang.product_id, pang.mapping.confidence),
        (ProductId(1), 95)
    );
    let usd = Money::usd_cents;
    assert_eq!(
        pang.retail,
        [
            Some(usd(6999)),
            Some(usd(5949)),
            Some(usd(5249)),
            Some(usd(4549))
        ]
    );
    assert_eq!(pang.buy, Some((usd(3200), Some(2))));
    assert_eq!(pang.printing, "Normal");
    // Not buying: the price stands, with the quantity 0 the processor rejects as not_buying.
    assert_eq!(priced(&rows[2]).buy, Some((usd(525), Some(0))));
    let favor = priced(&rows[3]);
    assert_eq!((favor.product_id, favor.printing), (ProductId(4), "Foil"));
    // No NM grade price yet: the row's retail price is the Near Mint one.
    assert_eq!(priced(&rows[4]).retail[0], Some(usd(35)));
    assert!(matches!(
        &rows[5],
        RowOutcome::NoPrices {
            product_id: ProductId(6),
            ..
        }
    ));
    let RowOutcome::Unlisted(tutor) = &rows[6] else {
        panic!("{:?}", rows[6]);
    };
    assert_eq!(tutor.name, "Enlightened Tutor (Commander's Bundle Promo)");
    assert_eq!(tutor.set.as_deref(), Some("Promotional"));
    let mut quotes = Vec::new();
    pang.quotes(tcg_schemas::Timestamp::from_secs(T), &mut quotes);
    let kinds: Vec<_> = quotes
        .iter()
        .map(|q| (q.kind, row_of(q).condition.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (PriceKind::Retail, Some(Condition::NearMint)),
            (PriceKind::Retail, Some(Condition::LightlyPlayed)),
            (PriceKind::Retail, Some(Condition::ModeratelyPlayed)),
            (PriceKind::Retail, Some(Condition::HeavilyPlayed)),
            (PriceKind::Buylist, Some(Condition::NearMint)),
        ]
    );
    assert!(quotes.iter().all(|q| q.source == QuoteSource::Cardkingdom
        && q.price.currency == Currency::USD
        && row_of(q).external_id == "65155"));
}

#[test]
fn golden_v1_rows_have_near_mint_retail_only() {
    let (head, rows) = golden_outcomes(&golden("pricelist_v1.json"));
    assert_eq!(head.rows, 2);
    assert!(
        matches!(rows[0], RowOutcome::Unlisted(_)),
        "Abomination is not ours"
    );
    let air = priced(&rows[1]);
    assert_eq!(air.retail, [Some(Money::usd_cents(25)), None, None, None]);
    assert_eq!(air.buy, Some((Money::usd_cents(5), Some(0))));
}

#[test]
fn golden_html_wrapped_list_is_read() {
    let (head, rows) = golden_outcomes(&golden("html_wrapped.txt"));
    assert_eq!(head.rows, 1);
    assert_eq!(priced(&rows[0]).product_id, ProductId(3));
}

#[test]
fn golden_error_bodies_are_errors() {
    let cut = golden("truncated.json");
    assert!(matches!(
        model::read_list(&cut, |_| {}),
        Err(ListError::Json(_))
    ));
    let limited = golden("rate_limited.json");
    let err = model::read_list(&limited, |_| {}).unwrap_err();
    assert!(err.to_string().contains("Too Many Attempts."), "{err}");
    let missing = golden("not_found.json");
    assert!(matches!(
        model::read_list(&missing, |_| {}),
        Err(ListError::NoData { .. })
    ));
    assert!(matches!(
        model::unwrap_html(&golden("blocked.html")),
        Err(ListError::Html)
    ));
}

// ---------------------------------------------------------------------------------------------
// Against the simulator.

#[tokio::test]
async fn a_pass_quotes_mapped_rows_and_lists_the_others() {
    let cfg = sim_config(11, T);
    let sim = start_sim(cfg.clone());
    let cat = sim.handle.catalog();
    let t = quote_time(T, cfg.step_secs);
    let expected = rows(cat, cfg.seed, t, true);
    let m = market(index_of(cat));
    let unmapped = m.unmapped.clone();
    let mut src = source(&sim.base_url, m);
    let sink = VecSink::new();
    let report = pass(&mut src, &sink).await.unwrap();
    let quotes = sink.take();

    let mut by_id: HashMap<String, &Expect> = HashMap::new();
    for r in &expected {
        by_id.insert(r.row.id.to_string(), &r.expect);
    }
    let mapped = expected
        .iter()
        .filter(|r| matches!(r.expect, Expect::Maps { .. }))
        .count();
    assert!(mapped > 40, "{mapped}");
    assert_eq!(quotes.len(), mapped * 5, "4 grades and a buylist per row");
    assert_eq!(
        (
            report.quotes,
            report.requests,
            report.errors,
            report.rejected
        ),
        (quotes.len() as u64, 1, 0, 0)
    );
    let grades = [
        Condition::NearMint,
        Condition::LightlyPlayed,
        Condition::ModeratelyPlayed,
        Condition::HeavilyPlayed,
    ];
    let mut not_buying = 0;
    for q in &quotes {
        let row = row_of(q);
        assert_eq!(
            (q.source, q.price.currency, row.category_id),
            (QuoteSource::Cardkingdom, Currency::USD, CategoryId(1))
        );
        let Some(Expect::Maps {
            product_id,
            printing,
        }) = by_id.get(&row.external_id)
        else {
            panic!("{} quoted", row.external_id);
        };
        assert_eq!(row.product_id, ProductId(*product_id));
        assert_eq!(row.printing, if *printing == 1 { "Foil" } else { "Normal" });
        assert_eq!(row.mapping.method, MappingMethod::NameNumberSet);
        assert_eq!(row.mapping.confidence, 95);
        let c = ck_prices(cfg.seed, cat.product(*product_id).unwrap(), *printing, t);
        let condition = row.condition.clone().unwrap();
        match q.kind {
            PriceKind::Retail => {
                let grade = grades.iter().position(|g| *g == condition).unwrap();
                assert_eq!(q.price, Money::usd_cents(c.retail[grade]));
                assert_eq!(row.quantity, None);
            }
            PriceKind::Buylist => {
                assert_eq!(
                    (q.price, condition),
                    (Money::usd_cents(c.buy), Condition::NearMint)
                );
                assert_eq!(row.quantity, Some(c.qty_buying));
                not_buying += usize::from(c.qty_buying == 0);
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(not_buying > 0, "some rows want no copies");

    let listed = unmapped.list(Some("cardkingdom"), 100);
    let ambiguous: Vec<_> = expected
        .iter()
        .filter(|r| matches!(r.expect, Expect::Ambiguous(_)))
        .collect();
    assert!(!ambiguous.is_empty());
    assert_eq!(listed.len(), 4 + ambiguous.len());
    for r in &ambiguous {
        let Expect::Ambiguous(ids) = &r.expect else {
            unreachable!()
        };
        let entry = listed
            .iter()
            .find(|u| u.external_id == r.row.id.to_string())
            .unwrap();
        assert_eq!(entry.why, "ambiguous");
        assert_eq!(
            entry.candidates,
            ids.iter().map(|&i| ProductId(i)).collect::<Vec<_>>()
        );
    }
    assert_eq!(listed.iter().filter(|u| u.why == "unmapped").count(), 4);
    assert!(
        listed
            .iter()
            .any(|u| u.name == "Black Lotus" && u.set.as_deref() == Some("Alpha"))
    );
    assert_eq!(sim.handle.stats().cardkingdom_requests, 1);
    assert_eq!(src.next_delay(), std::time::Duration::from_secs(4 * 3600));

    // The same list again, with the same catalog: nothing new to publish.
    let again = pass(&mut src, &sink).await.unwrap();
    assert!(again.skipped && again.quotes == 0 && again.requests == 1);
    assert!(sink.is_empty());
}

#[tokio::test]
async fn an_empty_catalog_skips_without_a_request() {
    let sim = start_sim(sim_config(3, T));
    let mut src = source(&sim.base_url, market(ProductIndex::default()));
    let sink = VecSink::new();
    let report = pass(&mut src, &sink).await.unwrap();
    assert!(report.skipped && report.requests == 0);
    assert_eq!(sim.handle.stats().cardkingdom_requests, 0);
    assert_eq!(
        src.next_delay(),
        std::time::Duration::from_secs(900),
        "try again soon"
    );
}

#[tokio::test]
async fn a_list_wrapped_in_html_is_read() {
    let seed = 5;
    let t = (0..500)
        .map(|i| T + 60 * i)
        .find(|&t| html_wrapped(seed, t))
        .unwrap();
    let sim = start_sim(sim_config(seed, t));
    let mut src = source(&sim.base_url, market(index_of(sim.handle.catalog())));
    let sink = VecSink::new();
    let report = pass(&mut src, &sink).await.unwrap();
    assert!(report.quotes > 0 && report.errors == 0);
}

#[tokio::test]
async fn scryfall_ids_bridged_by_another_source_map_with_certainty() {
    let cfg = sim_config(8, T);
    let sim = start_sim(cfg.clone());
    let cat = sim.handle.catalog();
    let first = rows(cat, cfg.seed, quote_time(T, cfg.step_secs), true).remove(0);
    let Expect::Maps { product_id, .. } = first.expect else {
        unreachable!()
    };
    let m = market(index_of(cat));
    let scryfall = first.row.scryfall_id.clone().unwrap();
    m.identity
        .bridge
        .learn(QuoteSource::Scryfall, scryfall, ProductId(product_id));
    let mut src = source(&sim.base_url, m);
    let sink = VecSink::new();
    pass(&mut src, &sink).await.unwrap();
    let quotes = sink.take();
    let mine: Vec<_> = quotes
        .iter()
        .map(row_of)
        .filter(|r| r.external_id == first.row.id.to_string())
        .collect();
    assert_eq!(mine.len(), 5);
    assert!(
        mine.iter()
            .all(|r| r.mapping.method == MappingMethod::ScryfallBridge
                && r.mapping.confidence == 100)
    );
}

#[tokio::test]
async fn rows_that_map_once_the_catalog_grows_leave_the_unmapped_list() {
    let sim = start_sim(sim_config(9, T));
    let cat = sim.handle.catalog();
    let full = index_of(cat);
    // At first our catalog holds only the Pokémon cards and one Magic card.
    let magic = cat
        .products
        .iter()
        .find(|p| p.category_id == 1 && !p.is_sealed())
        .unwrap();
    let partial = ProductIndex::from_entries(
        cat.products
            .iter()
            .filter(|p| p.category_id != 1 || p.product_id == magic.product_id)
            .map(common::markets::catalog_entry),
    );
    let (tx, rx) = tokio::sync::watch::channel(Arc::new(partial));
    let unmapped = Arc::new(UnmappedLog::default());
    let m = MarketContext {
        identity: Identity {
            catalog: rx,
            bridge: Arc::default(),
        },
        unmapped: unmapped.clone(),
    };
    let mut src = source(&sim.base_url, m);
    let sink = VecSink::new();
    let first = pass(&mut src, &sink).await.unwrap();
    assert!(first.quotes > 0);
    let listed_before = unmapped.count("cardkingdom");
    assert!(listed_before > 20, "{listed_before}");
    // The catalog grows: the same list is read again and its rows map now.
    tx.send_replace(Arc::new(full));
    let second = pass(&mut src, &sink).await.unwrap();
    assert!(!second.skipped && second.quotes > first.quotes);
    let left = unmapped.list(Some("cardkingdom"), 100);
    let ambiguous = left.iter().filter(|u| u.why == "ambiguous").count();
    assert_eq!(
        left.len(),
        4 + ambiguous,
        "only the rows no catalog has are left"
    );
}

// ---------------------------------------------------------------------------------------------
// Faults.

#[tokio::test(start_paused = true)]
async fn rate_limits_are_waited_out() {
    let mut cfg = sim_config(4, T);
    cfg.faults.first_429 = 2;
    cfg.faults.retry_after_secs = 30;
    let sim = start_sim(cfg);
    let mut src = source(&sim.base_url, market(index_of(sim.handle.catalog())));
    let sink = VecSink::new();
    let started = tokio::time::Instant::now();
    let report = pass(&mut src, &sink).await.unwrap();
    assert!(report.quotes > 0);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(60),
        "Retry-After honoured twice"
    );
    let stats = sim.handle.stats();
    assert_eq!((stats.faults_429, stats.cardkingdom_requests), (2, 3));
}

#[tokio::test]
async fn a_cut_list_fails_the_pass_and_publishes_nothing() {
    let mut cfg = sim_config(6, T);
    cfg.faults.first_malformed = 1;
    let sim = start_sim(cfg);
    let m = market(index_of(sim.handle.catalog()));
    let unmapped = m.unmapped.clone();
    let mut src = source(&sim.base_url, m);
    let sink = VecSink::new();
    let err = pass(&mut src, &sink).await.unwrap_err();
    assert!(matches!(err, CollectorError::Malformed { .. }), "{err}");
    assert!(sink.is_empty() && unmapped.count("cardkingdom") == 0);
    assert_eq!(src.next_delay(), std::time::Duration::from_secs(900));
    let report = pass(&mut src, &sink).await.unwrap();
    assert!(report.quotes > 0 && !report.skipped);
}

#[tokio::test]
async fn block_pages_and_moved_lists_are_clear_errors_not_retried() {
    let blocked = String::from_utf8(golden("blocked.html")).unwrap();
    let missing = String::from_utf8(golden("not_found.json")).unwrap();
    let limited = String::from_utf8(golden("rate_limited.json")).unwrap();
    let upstream = mock::serve(move |_, target| match mock::path(target) {
        "/blocked/api/v2/pricelist" => (403, blocked.clone()),
        "/moved/api/v2/pricelist" => (404, missing.clone()),
        "/page/api/v2/pricelist" => (200, blocked.clone()),
        _ => (200, limited.clone()),
    })
    .await;
    let index = golden_index();
    let sink = VecSink::new();
    for (base, status) in [("blocked", 403), ("moved", 404)] {
        let mut src = source(
            &format!("{}/{base}", upstream.base_url),
            market(index.clone()),
        );
        match pass(&mut src, &sink).await {
            Err(CollectorError::Status { status: s, .. }) if s == status => {}
            other => panic!("{base}: {other:?}"),
        }
        assert_eq!(upstream.hits(base), 1, "{base} is not retried");
    }
    // A 200 that is not the list: an HTML page, a JSON message.
    for base in ["page", "message"] {
        let mut src = source(
            &format!("{}/{base}", upstream.base_url),
            market(index.clone()),
        );
        let err = pass(&mut src, &sink).await.unwrap_err();
        assert!(matches!(err, CollectorError::Malformed { .. }), "{err}");
    }
    assert!(sink.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Wiring.

#[test]
fn configuration_and_wiring() {
    let sim = CollectConfig::for_simulator("http://127.0.0.1:9");
    let ck = sim.cardkingdom.as_ref().unwrap();
    assert_eq!(ck.base_url, "http://127.0.0.1:9");
    assert!(sim.source_names().contains(&"cardkingdom"));
    let d = CardkingdomConfig::default();
    assert_eq!(d.base_url, "https://api.cardkingdom.com");
    assert_eq!(
        (d.poll_interval_secs, d.http.request_timeout_ms),
        (14_400, 300_000)
    );
    let cfg: CollectConfig =
        serde_json::from_str(r#"{"cardkingdom":{"poll_interval_secs":7200}}"#).unwrap();
    assert_eq!(cfg.cardkingdom.unwrap().poll_interval_secs, 7200);
    assert!(serde_json::from_str::<CollectConfig>(r#"{"cardkingdom":{"api_key":"x"}}"#).is_err());
    let options = CollectOptions {
        sources: vec!["cardkingdom".into()],
        ..CollectOptions::default()
    };
    let cfg = options.to_config();
    assert!(cfg.cardkingdom.is_some() && cfg.tcgcsv.is_none());
    assert!(
        CollectOptions::default().to_config().cardkingdom.is_none(),
        "off unless asked for"
    );
}
