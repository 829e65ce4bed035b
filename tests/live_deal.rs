//! `tcgtracker up --upstream live` against upstreams in the real services' shapes (TCGCSV's
//! catalog and price files, eBay Browse's token and `item_summary/search`, the ECB's daily XML),
//! served from loopback: the demo portfolio holds the one priced card in its printing, eBay is
//! searched for that printing, a raw listing that states no condition lands in the card's
//! Holofoil series, and a `deal` rule on it (listing + shipping 30 % under the TCGplayer market)
//! fires exactly once however often the listing is seen again.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use common::{BIN, Killed, free_port};
use serde_json::{Value, json};

const CHARIZARD: u64 = 517_045;

/// What the fake upstreams have been asked, and whether eBay has the listing yet.
#[derive(Debug, Default)]
struct Upstreams {
    listing_up: AtomicBool,
    searches: AtomicUsize,
}

fn envelope(results: &Value) -> String {
    let n = results.as_array().map_or(0, Vec::len);
    json!({"totalItems": n, "success": true, "errors": [], "results": results}).to_string()
}

/// TCGCSV `tcgplayer/3/groups`, `…/23237/products`, `…/23237/prices` and `last-updated.txt`;
/// eBay `identity/v1/oauth2/token` and `buy/browse/v1/item_summary/search`; the ECB's
/// `eurofxref-daily.xml`. Shapes as the services answer (TCGCSV mirrors TCGplayer's API).
fn upstream_app(state: Arc<Upstreams>) -> Router {
    let groups = envelope(&json!([{
        "groupId": 23237, "name": "SV: Scarlet & Violet 151", "abbreviation": "MEW",
        "isSupplemental": false, "publishedOn": "2023-09-22T00:00:00",
        "modifiedOn": "2024-02-29T14:18:07.837", "categoryId": 3
    }]));
    let product = |id: u64, name: &str, number: &str, rarity: &str| {
        json!({"productId": id, "name": name, "cleanName": name.replace(" - ", " "),
               "imageUrl": format!("https://tcgplayer-cdn.tcgplayer.com/product/{id}_200w.jpg"),
               "categoryId": 3, "groupId": 23237,
               "url": format!("https://www.tcgplayer.com/product/{id}"),
               "modifiedOn": "2024-02-29T14:18:07.837", "imageCount": 1,
               "presaleInfo": {"isPresale": false, "releasedOn": null, "note": null},
               "extendedData": [{"name": "Number", "displayName": "Card Number", "value": number},
                                {"name": "Rarity", "displayName": "Rarity", "value": rarity}]})
    };
    let products = envelope(&json!([
        product(
            CHARIZARD,
            "Charizard ex - 199/165",
            "199/165",
            "Special Illustration Rare"
        ),
        product(502_549, "Bulbasaur - 001/165", "001/165", "Common"),
    ]));
    // Charizard is sold as Holofoil only; Bulbasaur has no price at all (every price null).
    let prices = envelope(&json!([
        {"productId": CHARIZARD, "lowPrice": 289.99, "midPrice": 318.0, "highPrice": 999.0,
         "marketPrice": 312.5, "directLowPrice": null, "subTypeName": "Holofoil"},
        {"productId": 502_549, "lowPrice": null, "midPrice": null, "highPrice": null,
         "marketPrice": null, "directLowPrice": null, "subTypeName": "Normal"}
    ]));
    let ecb = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
	<Cube>
		<Cube time='2026-12-04'>
			<Cube currency='USD' rate='1.0512'/>
			<Cube currency='JPY' rate='157.93'/>
			<Cube currency='GBP' rate='0.83505'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;
    let token = json!({
        "access_token": "test-token",
        "expires_in": 7200,
        "token_type": "Application Access Token"
    })
    .to_string();
    let search = {
        let state = state.clone();
        move |query: axum::extract::RawQuery| {
            let state = state.clone();
            async move {
                state.searches.fetch_add(1, Ordering::SeqCst);
                let q = query.0.unwrap_or_default();
                let items = if state.listing_up.load(Ordering::SeqCst) {
                    // 208.75 + 10.00 shipping = 218.75: 30 % under the 312.50 market.
                    vec![json!({
                        "itemId": "v1|285123456789|0",
                        "title": "Charizard ex 199/165 Pokemon 151 Holo Rare",
                        "leafCategoryIds": ["183454"],
                        "categories": [{"categoryId": "183454", "categoryName": "CCG Individual Cards"}],
                        "image": {"imageUrl": "https://i.ebayimg.com/images/g/abc/s-l225.jpg"},
                        "price": {"value": "208.75", "currency": "USD"},
                        "itemHref": "https://api.ebay.com/buy/browse/v1/item/v1%7C285123456789%7C0",
                        "seller": {"username": "cardshop", "feedbackPercentage": "99.8", "feedbackScore": 5120},
                        "condition": "Ungraded",
                        "conditionId": "4000",
                        "shippingOptions": [{"shippingCostType": "FIXED",
                                             "shippingCost": {"value": "10.00", "currency": "USD"}}],
                        "buyingOptions": ["FIXED_PRICE"],
                        "itemWebUrl": "https://www.ebay.com/itm/285123456789",
                        "itemLocation": {"postalCode": "945**", "country": "US"},
                        "adultOnly": false,
                        "legacyItemId": "285123456789",
                        "itemCreationDate": "2026-12-01T10:00:00.000Z",
                        "listingMarketplaceId": "EBAY_US"
                    })]
                } else {
                    Vec::new()
                };
                let mut page = json!({
                    "href": format!("https://api.ebay.com/buy/browse/v1/item_summary/search?{q}"),
                    "total": items.len(), "limit": 50, "offset": 0
                });
                if !items.is_empty() {
                    page["itemSummaries"] = json!(items);
                }
                let mut headers = HeaderMap::new();
                headers.insert("content-type", "application/json".parse().unwrap());
                (StatusCode::OK, headers, page.to_string())
            }
        }
    };
    Router::new()
        .route(
            "/last-updated.txt",
            get(|| async { "2026-12-06T20:06:42+0000" }),
        )
        .route("/tcgplayer/3/groups", get(move || async move { groups }))
        .route(
            "/tcgplayer/3/23237/products",
            get(move || async move { products }),
        )
        .route(
            "/tcgplayer/3/23237/prices",
            get(move || async move { prices }),
        )
        .route(
            "/stats/eurofxref/eurofxref-daily.xml",
            get(move || async move { ecb }),
        )
        .route(
            "/identity/v1/oauth2/token",
            post(move || async move { token }),
        )
        .route("/buy/browse/v1/item_summary/search", get(search))
}

async fn wait_until<F, Fut>(what: &str, secs: u64, log: &Path, mut f: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_on_live_shapes_fires_once() {
    let state = Arc::new(Upstreams::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, upstream_app(state.clone())).into_future());

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tcgtracker.toml");
    std::fs::write(
        &config,
        format!(
            "upstream = \"live\"\ncategories = [3]\n\
             [tcgcsv]\nbase_url = \"{upstream}\"\n\
             [ebay]\nbase_url = \"{upstream}\"\ndaily_budget = 86400\n\
             [ecb]\nbase_url = \"{upstream}\"\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.path().join("up.log");
    let out = std::fs::File::create(&log).unwrap();
    let _up = Killed(
        Command::new(BIN)
            .args(["up", "--plain", "--poll-secs", "2", "--history-days", "0"])
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("EBAY_CLIENT_ID", "test-client")
            .env("EBAY_CLIENT_SECRET", "test-secret")
            .env_remove("TCGPLAYER_CLIENT_ID")
            .env_remove("TCGPLAYER_CLIENT_SECRET")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap(),
    );
    let key_file = dir.path().join("data/demo-key.txt");
    let key = wait_until("the demo key", 60, &log, || {
        let f = key_file.clone();
        async move {
            std::fs::read_to_string(f)
                .ok()
                .map(|k| Value::String(k.trim().to_owned()))
        }
    })
    .await;
    let key = key.as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, key, base) = (http.clone(), key.clone(), base.clone());
        async move {
            let r = http
                .get(format!("{base}{path}"))
                .bearer_auth(key)
                .send()
                .await
                .ok()?;
            if !r.status().is_success() {
                return None;
            }
            r.json::<Value>().await.ok()
        }
    };

    // One priced card in the catalog: the demo holds it, in its printing, once every source
    // has passed.
    let holdings = wait_until("the demo portfolio", 90, &log, || async move {
        let list = get("/v1/portfolios".into()).await?;
        let id = list["items"][0]["id"].as_str()?.to_owned();
        get(format!("/v1/portfolios/{id}/holdings"))
            .await
            .filter(|h| h["items"].as_array().is_some_and(|i| !i.is_empty()))
    })
    .await;
    let held = &holdings["items"][0];
    assert_eq!(held["product_id"], CHARIZARD, "{holdings}");
    assert_eq!(held["printing"], "Holofoil", "{holdings}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("demo portfolio: 1 priced cards"), "{text}");
    assert!(text.contains("sources after their first pass:"), "{text}");

    // The null-price row is a named rejection of its card.
    let rejected = get("/v1/cards/502549/rejections".into()).await.unwrap();
    assert_eq!(rejected["items"][0]["reason"], "no_prices", "{rejected}");
    assert_eq!(rejected["items"][0]["stage"], "collector", "{rejected}");

    // A deal rule: a listing (with shipping) at least 20 % under the market of its series.
    let rule: Value = http
        .post(format!("{base}/v1/alert-rules"))
        .bearer_auth(&key)
        .json(&json!({
            "name": "Charizard deals",
            "product_id": CHARIZARD,
            "filter": { "kind": "listing" },
            "condition": { "type": "deal", "percent": "20" },
            "cooldown_secs": 3600
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rule_id = rule["id"].as_str().expect("rule created").to_owned();
    state.listing_up.store(true, Ordering::SeqCst);

    let deals = |rule_id: String| async move {
        let alerts = get("/v1/alerts?limit=200".into()).await?;
        let mine: Vec<Value> = alerts["items"]
            .as_array()?
            .iter()
            .filter(|a| a["rule_id"] == rule_id.as_str())
            .cloned()
            .collect();
        (!mine.is_empty()).then_some(Value::Array(mine))
    };
    let fired = wait_until("the deal alert", 120, &log, || deals(rule_id.clone())).await;
    let alert = &fired[0];
    assert_eq!(alert["trigger"]["type"], "deal", "{alert}");
    assert_eq!(
        alert["trigger"]["market_usd"]["amount"], "312.50",
        "{alert}"
    );
    assert_eq!(
        alert["series_id"], "517045/holofoil/~Ungraded/en",
        "{alert}"
    );

    // The listing is seen again and again: still one alert.
    let seen = state.searches.load(Ordering::SeqCst);
    wait_until("three more eBay searches", 60, &log, || {
        let state = state.clone();
        async move { (state.searches.load(Ordering::SeqCst) >= seen + 3).then_some(Value::Null) }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = deals(rule_id.clone()).await.unwrap();
    assert_eq!(again.as_array().unwrap().len(), 1, "{again}");

    // The card page shows the eBay listing under the card's own printing.
    let card = get(format!("/v1/cards/{CHARIZARD}")).await.unwrap();
    let raw = card["raw"].as_array().unwrap();
    let ebay = raw
        .iter()
        .find(|s| {
            s["series"]["printing"] == "Holofoil"
                && s["prices"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|x| x["source"] == "ebay_browse"))
        })
        .unwrap_or_else(|| panic!("an eBay price under Holofoil: {card}"));
    assert_eq!(ebay["series"]["condition"], "Ungraded", "{ebay}");

    // Every source worked.
    let sources = get("/v1/sources".into()).await.unwrap();
    for s in sources["items"].as_array().unwrap() {
        assert!(s["up"].as_bool().unwrap(), "{s}");
    }
}
