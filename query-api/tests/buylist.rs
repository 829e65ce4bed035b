//! A shop's buylist price served with its spread to the TCGplayer market of the same series, by
//! latest prices (also when only buylist prices are asked for) and by the card.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::Value;
use tcg_schemas::{Condition, Currency, Money, PriceKind, Printing, Source};
use tcg_store::prelude::*;

const GET: Method = Method::GET;

fn cents(m: &Value) -> i64 {
    Money::parse_decimal(m["amount"].as_str().unwrap(), Currency::USD)
        .unwrap()
        .minor
}

#[tokio::test]
async fn buylist_prices_carry_their_spread_to_market() {
    let c = Ctx::new().await;
    let zard = sku_series(1001, Printing::Holofoil, Condition::NearMint);
    let buy = tick(
        &zard,
        Source::Cardkingdom,
        PriceKind::Buylist,
        T0 + 30 * DAY + 100,
        9_100,
    );
    c.store.write_ticks(&[buy]).await.unwrap();
    let k = Some(c.alice.as_str());
    let series = "1001/holofoil/nm/en";

    let r = c
        .call(
            GET,
            &format!("/v1/prices/latest?series={series}&kind=market"),
            k,
            None,
        )
        .await;
    let markets = r.json()["items"].as_array().unwrap().clone();
    let market = markets
        .iter()
        .max_by_key(|m| m["observed_at"].as_str().unwrap().to_owned())
        .map(|m| cents(&m["price_usd"]))
        .unwrap();

    // Only the buylist asked for: the market is read for the spread all the same.
    let r = c
        .call(
            GET,
            &format!("/v1/prices/latest?series={series}&kind=buylist"),
            k,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["source"], "cardkingdom");
    let spread = &items[0]["spread"];
    assert_eq!(cents(&spread["market_usd"]), market);
    assert_eq!(cents(&spread["spread_usd"]), market - 9_100);
    let share = format!("{:.2}", (9_100 * 10_000 / market) as f64 / 100.0);
    assert_eq!(spread["share_percent"], share.as_str());
    check_against_spec(&GET, "/v1/prices/latest", &r);

    // Every kind: the market of the answer is used; other kinds carry no spread.
    let r = c
        .call(GET, &format!("/v1/prices/latest?series={series}"), k, None)
        .await;
    let items = r.json()["items"].as_array().unwrap().clone();
    for i in &items {
        assert_eq!(i["spread"].is_object(), i["kind"] == "buylist", "{i}");
    }

    // The card lists it with the same spread.
    let r = c.call(GET, "/v1/cards/1001", k, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let detail = r.json();
    let nm = detail["raw"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["series_id"] == series)
        .unwrap();
    let buy = nm["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "buylist")
        .unwrap();
    assert_eq!(cents(&buy["spread"]["market_usd"]), market);
}
