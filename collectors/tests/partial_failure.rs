//! Partial failure is partial, against upstreams in TCGplayer's and TCGCSV's documented shapes
//! (`{"success", "errors", "results", "totalItems"}` envelopes, the token answer, product rows
//! with `extendedData` and `skus`), served by a mock that fails one auxiliary lookup: a 404 on
//! `/catalog/categories/{id}/printings`, a `success:false` price batch, a page of products, a
//! group's price file. Each failure degrades what it feeds and is named (health, rejections,
//! metrics); the other prices are still published.

#![allow(clippy::unwrap_used, clippy::too_many_lines)] // a scenario reads best top to bottom

mod common;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use common::mock::{self, Mock, param, path};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::{Value, json};
use tcg_collectors::{
    CollectorMonitor, CollectorRejectReason, HealthStatus, Source, VecSink, internal_events,
    run_source_monitored,
    tcgcsv::{TcgcsvConfig, TcgcsvSource},
    tcgplayer::{TcgplayerConfig, TcgplayerSource},
};
use tcg_schemas::{GroupId, ProductId, Subject};

const TOKEN: &str = r#"{"access_token":"abc.def","token_type":"bearer","expires_in":1209599,"userName":"3b1f0c2e-public-key",".issued":"Mon, 04 Mar 2024 10:00:00 GMT",".expires":"Mon, 18 Mar 2024 10:00:00 GMT"}"#;

fn envelope(results: &Value) -> String {
    let n = results.as_array().map_or(0, Vec::len);
    json!({"totalItems": n, "success": true, "errors": [], "results": results}).to_string()
}

fn refused(error: &str) -> String {
    json!({"success": false, "errors": [error], "results": []}).to_string()
}

fn group(id: u32, name: &str, abbreviation: &str) -> Value {
    json!({"groupId": id, "name": name, "abbreviation": abbreviation, "isSupplemental": false,
           "publishedOn": "2023-09-22T00:00:00", "modifiedOn": "2024-02-29T14:18:07.837",
           "categoryId": 3})
}

/// A product row as `catalog/products?getExtendedFields=true&includeSkus=true` answers it;
/// `skus` are (sku id, printing id, condition id).
fn product(id: u64, group: u32, name: &str, number: &str, skus: &[(u64, u32, u32)]) -> Value {
    json!({"productId": id, "name": name, "cleanName": name.replace(" - ", " "),
           "imageUrl": format!("https://tcgplayer-cdn.tcgplayer.com/product/{id}_200w.jpg"),
           "categoryId": 3, "groupId": group,
           "url": format!("https://www.tcgplayer.com/product/{id}"),
           "modifiedOn": "2024-02-29T14:18:07.837", "imageCount": 1,
           "presaleInfo": {"isPresale": false, "releasedOn": null, "note": null},
           "extendedData": [{"name": "Number", "displayName": "Card Number", "value": number},
                            {"name": "Rarity", "displayName": "Rarity", "value": "Rare"}],
           "skus": skus.iter().map(|&(sku, printing, condition)| json!({
               "skuId": sku, "productId": id, "languageId": 1, "printingId": printing,
               "conditionId": condition})).collect::<Vec<_>>()})
}

fn price(product: u64, sub_type: &str, market: Option<f64>) -> Value {
    json!({"productId": product, "lowPrice": market, "midPrice": market, "highPrice": market,
           "marketPrice": market, "directLowPrice": null, "subTypeName": sub_type})
}

/// SV 151 (priced, one code card without prices) and Surging Sparks (its price batch answered
/// `success:false`). Printings: 1 Normal, 2 Holofoil, 3 Reverse Holofoil — never told, since
/// `printings` answers 404 while `printings_down` is set.
fn tcgplayer_upstream(printings_down: Arc<AtomicBool>) -> impl Fn(&str, &str) -> (u16, String) {
    move |method, target| {
        let p = path(target);
        match (method, p) {
            ("POST", "/token") => (200, TOKEN.to_owned()),
            (_, "/v1.39.0/catalog/categories/3/printings") => {
                if printings_down.load(Ordering::SeqCst) {
                    (404, refused("No printings were found."))
                } else {
                    let names = [(1, "Normal"), (2, "Holofoil"), (3, "Reverse Holofoil")];
                    let rows: Vec<Value> = names
                        .iter()
                        .map(|(id, name)| json!({"printingId": id, "name": name, "displayOrder": id, "modifiedOn": "2020-01-01T00:00:00"}))
                        .collect();
                    (200, envelope(&json!(rows)))
                }
            }
            (_, "/v1.39.0/catalog/categories/3/groups") => (
                200,
                envelope(&json!([
                    group(23237, "SV: Scarlet & Violet 151", "MEW"),
                    group(23651, "SV08: Surging Sparks", "SSP")
                ])),
            ),
            (_, "/v1.39.0/catalog/products") => match param(target, "groupId") {
                Some("23237") => (
                    200,
                    envelope(&json!([
                        product(
                            517045,
                            23237,
                            "Charizard ex - 199/165",
                            "199/165",
                            &[(7001, 2, 1), (7002, 2, 2)]
                        ),
                        product(
                            502549,
                            23237,
                            "Bulbasaur - 001/165",
                            "001/165",
                            &[(7101, 1, 1), (7102, 3, 1)]
                        ),
                        product(
                            503313,
                            23237,
                            "Charmander - 004/165",
                            "004/165",
                            &[(7201, 1, 1)]
                        ),
                        product(523960, 23237, "Code Card - Scarlet & Violet 151", "", &[]),
                    ])),
                ),
                _ => (
                    200,
                    envelope(&json!([
                        product(
                            565606,
                            23651,
                            "Pikachu ex - 238/191",
                            "238/191",
                            &[(8001, 2, 1)]
                        ),
                        product(
                            565607,
                            23651,
                            "Latias ex - 239/191",
                            "239/191",
                            &[(8002, 2, 1)]
                        ),
                    ])),
                ),
            },
            (_, p) if p.starts_with("/v1.39.0/pricing/product/565606") => {
                (200, refused("No products were found."))
            }
            (_, p) if p.starts_with("/v1.39.0/pricing/product/") => (
                200,
                envelope(&json!([
                    price(517045, "Holofoil", Some(312.5)),
                    price(502549, "Normal", Some(0.25)),
                    price(502549, "Reverse Holofoil", Some(1.1)),
                    price(503313, "Normal", Some(0.4)),
                    price(523960, "Normal", None),
                ])),
            ),
            (_, p) if p.starts_with("/v1.39.0/pricing/sku/") => {
                let ids = p.trim_start_matches("/v1.39.0/pricing/sku/");
                let rows: Vec<Value> = ids
                    .split(',')
                    .filter_map(|id| id.parse::<u64>().ok())
                    .map(|sku| {
                        json!({"skuId": sku, "lowPrice": 1.5, "lowestShipping": 0.99,
                                      "lowestListingPrice": 1.49, "marketPrice": 2.25,
                                      "directLowPrice": null})
                    })
                    .collect();
                (200, envelope(&json!(rows)))
            }
            _ => (404, refused("Not found.")),
        }
    }
}

fn tcgplayer_config(base: &str) -> TcgplayerConfig {
    TcgplayerConfig {
        base_url: base.to_owned(),
        client_id: "id".into(),
        client_secret: "secret".into(),
        categories: vec![3],
        http: quick_http(),
        ..TcgplayerConfig::default()
    }
}

fn quick_http() -> tcg_collectors::http::HttpConfig {
    let mut http = common::fast_http();
    http.retry.max_retries = 0;
    http
}

/// Counter values by (name, source, reason or kind); gauges by (name, source, "").
fn metrics_of(snapshotter: &Snapshotter) -> HashMap<(String, String, String), f64> {
    let mut out = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let k = key.key();
        let label = |name: &str| {
            k.labels()
                .find(|l| l.key() == name)
                .map(|l| l.value().to_owned())
                .unwrap_or_default()
        };
        let detail = format!("{}{}", label("reason"), label("kind"));
        let v = match value {
            DebugValue::Counter(n) => n as f64,
            DebugValue::Gauge(g) => g.into_inner(),
            DebugValue::Histogram(_) => continue,
        };
        *out.entry((k.name().to_owned(), label("source"), detail))
            .or_default() += v;
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_404_on_printings_still_prices_everything_and_names_what_failed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let printings_down = Arc::new(AtomicBool::new(true));
    let monitor = CollectorMonitor::new();
    let sink = Arc::new(VecSink::new());
    let rt = runtime();
    let mock: Mock = rt.block_on(mock::serve(tcgplayer_upstream(printings_down.clone())));
    let mut source = TcgplayerSource::new(tcgplayer_config(&mock.base_url)).unwrap();
    let run = metrics::with_local_recorder(&recorder, || {
        rt.block_on(run_source_monitored(
            &mut source,
            sink.clone(),
            Some(1),
            std::future::pending(),
            &monitor,
        ))
    });
    assert_eq!(run.failed_passes, 0, "{run:?}");
    let quotes = sink.take();
    // Product prices: 4 values for each of the 4 priced rows; SKU prices: 4 for each of 6 SKUs.
    let products = quotes
        .iter()
        .filter(|q| matches!(q.subject, Subject::TcgProduct { .. }))
        .count();
    assert_eq!(products, 16);
    let printings: BTreeMap<u64, String> = quotes
        .iter()
        .filter_map(|q| match &q.subject {
            Subject::TcgSku {
                sku_id, printing, ..
            } => Some((sku_id.0, printing.clone())),
            _ => None,
        })
        .collect();
    // Without `printings`, the names come from the price rows: Charmander (Normal only) names
    // printing 1, and then Bulbasaur's other printing is its Reverse Holofoil.
    assert_eq!(
        printings,
        BTreeMap::from([
            (7001, "Holofoil".to_owned()),
            (7002, "Holofoil".to_owned()),
            (7101, "Normal".to_owned()),
            (7102, "Reverse Holofoil".to_owned()),
            (7201, "Normal".to_owned()),
            (8001, "Holofoil".to_owned()),
            (8002, "Holofoil".to_owned()),
        ])
    );

    let health = monitor.health.get("tcgplayer").unwrap();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert!(health.up);
    assert_eq!(health.quotes_last_pass, quotes.len() as u64);
    assert_eq!(health.degraded.len(), 1, "{:?}", health.degraded);
    assert_eq!(health.degraded[0].what, "printings of category 3");
    assert_eq!(health.degraded[0].kind, "client_error");
    assert!(health.degraded[0].message.contains("404"));
    assert_eq!(health.rejected_last_pass, 3);

    // Named rejections: the code card's null row, and both products of the refused batch.
    let code_card = monitor.rejections.for_product(ProductId(523960));
    assert_eq!(code_card.len(), 1);
    assert_eq!(code_card[0].reason, "no_prices");
    assert_eq!(code_card[0].group_id, Some(GroupId(23237)));
    assert_eq!(code_card[0].printing.as_deref(), Some("Normal"));
    for id in [565606, 565607] {
        let r = monitor.rejections.for_product(ProductId(id));
        assert_eq!(r.len(), 1, "{id}");
        assert_eq!(r[0].reason, "upstream_failure");
        assert_eq!(r[0].group_id, Some(GroupId(23651)));
        assert!(
            r[0].detail.contains("No products were found."),
            "{}",
            r[0].detail
        );
    }

    let m = metrics_of(&snapshotter);
    let get = |name: &str, source: &str, detail: &str| {
        m.get(&(name.to_owned(), source.to_owned(), detail.to_owned()))
            .copied()
            .unwrap_or(0.0)
    };
    assert_eq!(get(internal_events::SOURCE_UP, "tcgplayer", ""), 1.0);
    assert_eq!(
        get(internal_events::SOURCE_ERRORS, "tcgplayer", "client_error"),
        1.0
    );
    assert_eq!(
        get(internal_events::SOURCE_ERRORS, "tcgplayer", "upstream"),
        1.0
    );
    assert_eq!(
        get(internal_events::QUOTES_REJECTED, "tcgplayer", "no_prices"),
        1.0
    );
    assert_eq!(
        get(
            internal_events::QUOTES_REJECTED,
            "tcgplayer",
            "upstream_failure"
        ),
        2.0
    );

    // Next pass: printings answer again; only they are read again, not the whole catalog.
    printings_down.store(false, Ordering::SeqCst);
    let report = rt.block_on(source.collect(sink.as_ref())).unwrap();
    assert!(report.degraded.is_empty(), "{:?}", report.degraded);
    assert_eq!(mock.hits("/catalog/categories/3/printings"), 2);
    assert_eq!(mock.hits("/catalog/categories/3/groups"), 1);
    assert_eq!(mock.hits("/catalog/products"), 2);
}

#[test]
fn a_failed_page_of_products_prices_the_pages_read() {
    let rt = runtime();
    let mock = rt.block_on(mock::serve(|method, target| {
        let p = path(target);
        match (method, p) {
            ("POST", "/token") => (200, TOKEN.to_owned()),
            (_, "/v1.39.0/catalog/categories/3/printings") => (
                200,
                envelope(&json!([{"printingId": 1, "name": "Normal", "displayOrder": 1, "modifiedOn": "2020-01-01T00:00:00"}])),
            ),
            (_, "/v1.39.0/catalog/categories/3/groups") => (
                200,
                envelope(&json!([group(23237, "SV: Scarlet & Violet 151", "MEW")])),
            ),
            (_, "/v1.39.0/catalog/products") if param(target, "offset") == Some("0") => {
                let page = json!([
                    product(503313, 23237, "Charmander - 004/165", "004/165", &[(7201, 1, 1)]),
                    product(502549, 23237, "Bulbasaur - 001/165", "001/165", &[(7101, 1, 1)]),
                ]);
                let body = json!({"totalItems": 4, "success": true, "errors": [], "results": page});
                (200, body.to_string())
            }
            (_, "/v1.39.0/catalog/products") => (500, r#"{"Message":"An error has occurred."}"#.to_owned()),
            (_, p) if p.starts_with("/v1.39.0/pricing/product/") => (
                200,
                envelope(&json!([price(503313, "Normal", Some(0.4)), price(502549, "Normal", Some(0.25))])),
            ),
            (_, p) if p.starts_with("/v1.39.0/pricing/sku/") => (200, envelope(&json!([]))),
            _ => (404, refused("Not found.")),
        }
    }));
    let mut config = tcgplayer_config(&mock.base_url);
    config.page_size = 2;
    let mut source = TcgplayerSource::new(config).unwrap();
    let sink = VecSink::new();
    let report = rt.block_on(source.collect(&sink)).unwrap();
    assert_eq!(report.quotes, 8, "{report:?}");
    assert_eq!(report.degraded.len(), 1);
    assert_eq!(report.degraded[0].what, "products of group 23237");
    assert_eq!(report.degraded[0].kind, "server_error");
    // The group is read again next pass (the first page again, then the failing one).
    let _ = rt.block_on(source.collect(&sink));
    assert_eq!(mock.hits("/catalog/products"), 4);
    assert_eq!(mock.hits("/catalog/categories/3/groups"), 1);
}

/// TCGCSV's shapes: `last-updated.txt`, then per group the same envelopes as TCGplayer's.
fn tcgcsv_upstream(method: &str, target: &str) -> (u16, String) {
    let _ = method;
    match path(target) {
        "/last-updated.txt" => (200, "2024-03-01T20:06:42+0000".to_owned()),
        "/tcgplayer/3/groups" => (
            200,
            envelope(&json!([
                group(23237, "SV: Scarlet & Violet 151", "MEW"),
                group(23651, "SV08: Surging Sparks", "SSP"),
                group(23700, "SV: Prismatic Evolutions", "PRE")
            ])),
        ),
        "/tcgplayer/3/23237/prices" => (
            200,
            envelope(&json!([
                price(517045, "Holofoil", Some(312.5)),
                price(523960, "Normal", None)
            ])),
        ),
        "/tcgplayer/3/23651/prices" => (200, refused("No prices were found.")),
        "/tcgplayer/3/23651/products" => (
            200,
            envelope(&json!([product(
                565606,
                23651,
                "Pikachu ex - 238/191",
                "238/191",
                &[]
            )])),
        ),
        "/tcgplayer/3/23700/prices" => (500, "<html>Bad gateway</html>".to_owned()),
        _ => (404, "<html>Not Found</html>".to_owned()),
    }
}

#[test]
fn tcgcsv_goes_on_past_a_refused_and_a_failed_group() {
    let rt = runtime();
    let mock = rt.block_on(mock::serve(tcgcsv_upstream));
    let config = TcgcsvConfig {
        base_url: mock.base_url.clone(),
        categories: vec![3],
        http: quick_http(),
        ..TcgcsvConfig::default()
    };
    let mut source = TcgcsvSource::new(config).unwrap();
    let sink = VecSink::new();
    let report = rt.block_on(source.collect(&sink)).unwrap();
    assert_eq!(report.quotes, 4);
    assert_eq!(report.rejected, 2);
    let reasons: Vec<(Option<u64>, CollectorRejectReason)> = report
        .rejections
        .iter()
        .map(|r| (r.product_id, r.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (Some(523960), CollectorRejectReason::NoPrices),
            (Some(565606), CollectorRejectReason::UpstreamFailure),
        ]
    );
    assert_eq!(report.degraded.len(), 1);
    assert_eq!(report.degraded[0].what, "prices of group 23700");
    // Not a complete day: read again next pass.
    assert_eq!(source.last_seen(), None);
}
