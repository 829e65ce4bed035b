//! Names served with the data: history, latest prices, movers, valuations and rules carry the
//! card's name, set and number, so a client never looks them up one card at a time; and an
//! unpriced holding stays out of value, cost and P&L instead of counting as $0.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};

const GET: Method = Method::GET;

fn charizard(card: &Value) {
    assert_eq!(card["name"], "Charizard", "{card}");
    assert_eq!(card["set"], "Base Set", "{card}");
    assert_eq!(card["number"], "4/102", "{card}");
    assert_eq!(card["game"], "pokemon", "{card}");
}

#[tokio::test]
async fn history_latest_and_movers_name_their_cards() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let h = c
        .call(GET, "/v1/cards/1001/history?interval=1d", k, None)
        .await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text());
    charizard(&h.json()["card"]);

    let l = c
        .call(
            GET,
            "/v1/prices/latest?series=1001/holofoil/nm/en,1002/holofoil/nm/en",
            k,
            None,
        )
        .await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text());
    let items = l.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    for item in &items {
        let name = item["card"]["name"].as_str().unwrap();
        match item["product_id"].as_u64().unwrap() {
            1001 => charizard(&item["card"]),
            1002 => assert_eq!(name, "Blastoise"),
            other => panic!("unexpected product {other}"),
        }
    }

    let m = c.call(GET, "/v1/movers?window=30d", k, None).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text());
    let all: Vec<Value> = ["gainers", "losers"]
        .iter()
        .flat_map(|side| m.json()[side].as_array().unwrap().clone())
        .collect();
    assert!(!all.is_empty());
    for mv in all {
        assert_eq!(mv["card"]["name"], mv["name"], "{mv}");
        assert_eq!(mv["card"]["set"], "Base Set", "{mv}");
    }
}

#[tokio::test]
async fn valuations_name_holdings_and_keep_unpriced_ones_out_of_the_totals() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    // A Normal Charizard: the seeded store prices only its Holofoil printing.
    let (pid, unpriced) = portfolio_with_holding(&c).await;
    let priced = c
        .call(
            Method::POST,
            &format!("/v1/portfolios/{pid}/holdings"),
            k,
            Some(
                json!({"product_id": 1002, "printing": "Holofoil", "quantity": 2,
                        "cost_per_unit": {"amount": "50", "currency": "USD"}}),
            ),
        )
        .await;
    assert_eq!(priced.status, StatusCode::CREATED, "{}", priced.text());
    let v = c
        .call(GET, &format!("/v1/portfolios/{pid}/valuation"), k, None)
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let v = v.json();
    assert_eq!(v["unpriced_holdings"], json!([unpriced]), "{v}");
    let cents = |m: &Value| {
        tcg_schemas::Money::parse_decimal(m["amount"].as_str().unwrap(), tcg_schemas::Currency::USD)
            .unwrap()
            .minor
    };
    // Blastoise's last seeded market price is $140.00 (20000 − 30 × 200 cents).
    assert_eq!(cents(&v["market_value_usd"]), 2 * 14_000, "{v}");
    assert_eq!(
        cents(&v["cost_basis_usd"]),
        2 * 5_000,
        "the unpriced cost is left out: {v}"
    );
    assert_eq!(
        cents(&v["market_value_usd"]) - cents(&v["cost_basis_usd"]),
        cents(&v["unrealized_pnl_usd"]),
        "value − cost = unrealized: {v}"
    );
    let holdings = v["holdings"].as_array().unwrap();
    assert_eq!(holdings.len(), 2);
    for h in holdings {
        let name = h["card"]["name"].as_str().unwrap();
        assert!(name == "Charizard" || name == "Blastoise", "{h}");
        assert_eq!(h["card"]["set"], "Base Set");
    }
}

#[tokio::test]
async fn rules_name_their_cards() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let r = c
        .call(
            Method::POST,
            "/v1/alert-rules",
            k,
            Some(json!({"name": "zard", "product_id": 1001,
                        "condition": {"type": "price_above",
                                      "threshold_usd": {"amount": "1.00", "currency": "USD"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let list = c.call(GET, "/v1/alert-rules", k, None).await;
    assert_eq!(list.status, StatusCode::OK);
    charizard(&list.json()["items"][0]["card"]);
    assert_eq!(list.json()["items"][0]["name"], "zard");
}

#[tokio::test]
async fn an_import_preview_shows_every_row_before_anything_is_written() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let (pid, _) = portfolio_with_holding(&c).await;
    let csv = "product_id,quantity,printing,condition,cost_per_unit\n\
               1001,2,Holofoil,Near Mint,12.50\n\
               999999,1,Normal,Near Mint,1.00\n\
               1002,1,Holofoil,Lightly Played,\n";
    let req = axum::http::Request::post(format!(
        "/v1/portfolios/{pid}/import?format=generic&dry_run=true"
    ))
    .header("authorization", format!("Bearer {}", c.alice))
    .header("content-type", "text/csv")
    .body(axum::body::Body::from(csv))
    .unwrap();
    let r = c.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = r.json();
    let preview = report["preview"].as_array().unwrap();
    assert_eq!(preview.len(), 2, "{report}");
    assert_eq!(preview[0]["row"], 1);
    charizard(&preview[0]["card"]);
    assert_eq!(preview[0]["printing"], "Holofoil");
    assert_eq!(preview[0]["quantity"], 2);
    assert_eq!(preview[0]["cost_per_unit"]["amount"], "12.50");
    assert_eq!(preview[1]["row"], 3);
    assert_eq!(preview[1]["card"]["name"], "Blastoise");
    assert!(
        preview[1].get("cost_per_unit").is_none(),
        "a missing cost is shown as missing: {report}"
    );
    assert_eq!(report["missing_cost"], json!([3]));
    assert_eq!(report["unmatched"][0]["row"], 2);
    let held = c
        .call(GET, &format!("/v1/portfolios/{pid}/holdings"), k, None)
        .await;
    assert_eq!(
        held.json()["items"].as_array().unwrap().len(),
        1,
        "a dry run writes nothing"
    );
}
