//! tcgtracker's fair value through the API: served as any price kind by latest prices, history
//! and movers; portfolios valued at it with `?price=fair` (market where a holding has none yet);
//! movers saying how many sources confirm them; rules requiring confirmation. Every answer is
//! checked against the OpenAPI document.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};
use tcg_query_api::ChannelRulePublisher;
use tcg_schemas::{Condition, Money, PriceKind, Printing, Source};
use tcg_store::prelude::*;

const GET: Method = Method::GET;
const POST: Method = Method::POST;

fn cents(m: &Value) -> i64 {
    Money::parse_decimal(m["amount"].as_str().unwrap(), tcg_schemas::Currency::USD)
        .unwrap()
        .minor
}

/// Charizard's fair value (the seed prices its TCGplayer market at 100.00 + 1.00 a day): from
/// day 22 on, 0.50 above the market.
async fn with_fair_values(c: &Ctx) {
    let zard = sku_series(1001, Printing::Holofoil, Condition::NearMint);
    let mut ticks: Vec<_> = (22..=30)
        .map(|d| {
            let mut t = tick(
                &zard,
                Source::Tcgtracker,
                PriceKind::Fair,
                T0 + d * DAY + 3_601,
                10_050 + d * 100,
            );
            t.confidence = Some(80);
            t.agreeing = vec![Source::EbaySold, Source::Tcgplayer];
            t
        })
        .collect();
    // eBay sales of it, up more than the market over the week.
    ticks.push(tick(
        &zard,
        Source::EbaySold,
        PriceKind::Sold,
        T0 + 22 * DAY,
        12_200,
    ));
    ticks.push(tick(
        &zard,
        Source::EbaySold,
        PriceKind::Sold,
        T0 + 29 * DAY,
        14_000,
    ));
    c.store.write_ticks(&ticks).await.unwrap();
}

#[tokio::test]
async fn the_fair_value_is_served_by_latest_prices_history_and_movers() {
    let c = Ctx::new().await;
    with_fair_values(&c).await;
    let k = Some(c.alice.as_str());
    let r = c
        .call(
            GET,
            "/v1/prices/latest?series=1001/holofoil/nm/en&kind=fair",
            k,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["source"], "tcgtracker");
    assert_eq!(items[0]["confidence"], 80, "{items:?}");
    assert_eq!(items[0]["agreeing"], json!(["ebay_sold", "tcgplayer"]));
    assert_eq!(items[0]["kind"], "fair");
    assert_eq!(cents(&items[0]["price_usd"]), 13_050);

    let r = c
        .call(
            GET,
            "/v1/cards/1001/history?interval=1d&from=2024-03-20T00:00:00Z&to=2024-03-31T00:00:00Z&kind=fair",
            k,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let h = r.json();
    assert_eq!(h["series"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h["series"][0]["source"], "tcgtracker", "{h}");
    assert_eq!(h["series"][0]["kind"], "fair", "{h}");

    let r = c.call(GET, "/v1/movers?window=7d&kind=fair", k, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    let zard = &m["gainers"][0];
    assert_eq!(zard["series_id"], "1001/holofoil/nm/en", "{m}");
    assert_eq!(
        (&zard["source"], &zard["kind"]),
        (&json!("tcgtracker"), &json!("fair"))
    );
    // TCGplayer's market and eBay's sales both rose at least half as much.
    assert_eq!(
        (&zard["confirmed_by"], &zard["sources_priced"]),
        (&json!(2), &json!(2)),
        "{zard}"
    );
    assert_eq!(zard["single_source"], false);
}

#[tokio::test]
async fn movers_say_how_many_sources_confirm_them() {
    let c = Ctx::new().await;
    with_fair_values(&c).await;
    let r = c
        .call(GET, "/v1/movers?window=7d", Some(&c.alice), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    let find = |pid: u64| -> Value {
        ["gainers", "losers"]
            .iter()
            .flat_map(|s| m[s].as_array().unwrap().clone())
            .find(|x| x["product_id"] == pid)
            .unwrap_or_else(|| panic!("{pid} among the movers: {m}"))
    };
    // Charizard's market rose 5.7 %, its sales 14.8 %: confirmed by 2 of 2 sources.
    let zard = find(1001);
    assert_eq!(zard["source"], "tcgplayer");
    assert_eq!(
        (&zard["confirmed_by"], &zard["sources_priced"]),
        (&json!(2), &json!(2)),
        "{zard}"
    );
    assert_eq!(zard["single_source"], false);
    // Blastoise's market fell and nothing else prices it: a single-source move.
    let blast = find(1002);
    assert_eq!(
        (&blast["confirmed_by"], &blast["sources_priced"]),
        (&json!(1), &json!(1)),
        "{blast}"
    );
    assert_eq!(blast["single_source"], true);
}

#[tokio::test]
async fn a_portfolio_valued_at_fair_value_falls_back_to_market_per_holding() {
    let c = Ctx::new().await;
    with_fair_values(&c).await;
    let k = Some(c.alice.as_str());
    let p = c
        .call(POST, "/v1/portfolios", k, Some(json!({"name": "fair"})))
        .await;
    let pid = p.json()["id"].as_str().unwrap().to_owned();
    for product in [1001, 1002] {
        let h = c
            .call(
                POST,
                &format!("/v1/portfolios/{pid}/holdings"),
                k,
                Some(
                    json!({"product_id": product, "printing": "Holofoil", "condition": "Near Mint",
                            "quantity": 2, "cost_per_unit": {"amount": "50", "currency": "USD"},
                            "acquired_on": "2024-03-01"}),
                ),
            )
            .await;
        assert_eq!(h.status, StatusCode::CREATED, "{}", h.text());
    }
    let unit = |v: &Value, product: u64| -> i64 {
        let h = v["holdings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["product_id"] == product)
            .unwrap();
        cents(&h["unit_price_usd"])
    };
    let base = format!("/v1/portfolios/{pid}");
    let market = c
        .call(GET, &format!("{base}/valuation"), k, None)
        .await
        .json();
    let fair = c
        .call(GET, &format!("{base}/valuation?price=fair"), k, None)
        .await;
    assert_eq!(fair.status, StatusCode::OK, "{}", fair.text());
    let fair = fair.json();
    // Charizard: its fair value, 130.50 (market 130.00); Blastoise has no fair value: its
    // market price, 140.00.
    assert_eq!(unit(&market, 1001), 13_000);
    assert_eq!(unit(&fair, 1001), 13_050);
    assert_eq!(unit(&market, 1002), 14_000);
    assert_eq!(unit(&fair, 1002), 14_000, "{fair}");
    assert_eq!(cents(&fair["market_value_usd"]), 2 * 13_050 + 2 * 14_000);
    // The fair value's own history: before day 22 Charizard is valued at its market price.
    let h = c
        .call(
            GET,
            &format!("{base}/history?interval=1d&from=2024-03-20T00:00:00Z&to=2024-03-24T00:00:00Z&price=fair"),
            k,
            None,
        )
        .await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text());
    let points = h.json()["points"].as_array().unwrap().clone();
    assert_eq!(points.len(), 4);
    // Buckets of days 19 to 22, each valued at its end: Charizard at its market price on day
    // 21 (121.00), at its fair value on day 22 (122.50); Blastoise at its market throughout.
    assert_eq!(
        cents(&points[2]["market_value_usd"]),
        2 * 12_100 + 2 * 15_800
    );
    assert_eq!(
        cents(&points[3]["market_value_usd"]),
        2 * 12_250 + 2 * 15_600
    );
    let bad = c
        .call(GET, &format!("{base}/valuation?price=cheapest"), k, None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.problem_field(), "price");
}

#[tokio::test]
async fn a_rule_may_require_confirming_sources() {
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    let c = Ctx::with(test_config(), |s| {
        s.with_rule_publisher(Arc::new(ChannelRulePublisher(tx)))
    })
    .await;
    let k = Some(c.alice.as_str());
    let rule = |min: Value| {
        json!({"name": "Zard moves", "product_id": 1001,
            "condition": {"type": "percent_change", "percent": "20", "window_secs": 86400,
                          "direction": "either", "min_confirming_sources": min}})
    };
    let r = c
        .call(POST, "/v1/alert-rules", k, Some(rule(json!(2))))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["condition"]["min_confirming_sources"], 2);
    for bad in [json!(0), json!(11)] {
        let r = c
            .call(POST, "/v1/alert-rules", k, Some(rule(bad.clone())))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text()
        );
        assert_eq!(r.problem_field(), "condition.min_confirming_sources");
    }
}
