//! Handler tests through `oneshot`: every endpoint, its error cases, and every answer checked
//! against the OpenAPI document.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{collections::BTreeSet, sync::Arc};
use tcg_store::prelude::*;

use async_trait::async_trait;
use axum::{
    body::Body,
    http::{Method, Request, header},
};
use common::*;
use http_body_util::BodyExt;
use serde_json::json;
use tcg_query_api::{
    ApiConfig, ChannelRulePublisher, PublishError, RulePublisher, openapi, revoke_key, route_table,
};
use tcg_schemas::{
    AlertEvent, AlertId, Money, PriceKind, ProductId, RuleChange, RuleId, Source, Timestamp,
    Trigger, UserId,
};
use tower::ServiceExt;

const GET: Method = Method::GET;
const POST: Method = Method::POST;

#[tokio::test]
async fn every_route_is_in_the_spec_and_every_spec_operation_is_routed() {
    let spec = openapi::spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let routed: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let missing: Vec<_> = routed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the spec: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        extra.is_empty(),
        "spec operations without a route: {extra:?}"
    );
    // The app serves every documented operation (not with its fallbacks), and no other method
    // on a documented path.
    let c = Ctx::new().await;
    let nil = "00000000-0000-0000-0000-000000000000";
    for (path, item) in spec["paths"].as_object().unwrap() {
        let uri = path
            .replace("{product_id}", "1001")
            .replace("{file}", "app.js")
            .replace("{id}", nil)
            .replace("{holding_id}", nil)
            .replace("{import_id}", nil);
        for method in ["get", "put", "post", "patch", "delete"] {
            let req = Request::builder()
                .method(method.to_ascii_uppercase().as_str())
                .uri(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
                .body(Body::empty())
                .unwrap();
            let resp = c.app.clone().oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            if item.get(method).is_none() {
                assert_eq!(status, 405, "{method} {path} is served but not documented");
                continue;
            }
            assert_ne!(status, 405, "{method} {path} is documented but not served");
            if status == 404 {
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                let detail = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                assert!(
                    !detail.starts_with("no such endpoint"),
                    "{method} {path} is documented but not served"
                );
            }
        }
    }
    // Every schema reference resolves: compile a validator for every component.
    for name in spec["components"]["schemas"].as_object().unwrap().keys() {
        compile(&json!({"$ref": format!("#/components/schemas/{name}")}));
    }
    let text = serde_json::to_string(spec).unwrap();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap();
        let name = target.trim_start_matches("#/components/schemas/");
        assert!(
            !spec["components"]["schemas"][name].is_null(),
            "dangling reference {target}"
        );
    }
}

#[tokio::test]
async fn ops_endpoints() {
    let c = Ctx::new().await;
    let r = c.call(GET, "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    let r = c.call(GET, "/readyz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["store"], "sqlite");
    let r = c.call(GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["openapi"], "3.1.0");
    let r = c.call(GET, "/docs", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("/openapi.json"));
    assert!(
        !r.text().contains("https://"),
        "the docs page loads nothing external"
    );
    c.call(GET, "/v1/cards/1001", Some(&c.alice), None).await;
    c.call(GET, "/v1/cards/999", Some(&c.alice), None).await;
    let r = c.call(GET, "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    let m = r.text();
    assert!(
        m.contains(
            r#"tcg_api_requests_total{method="GET",route="/v1/cards/{product_id}",status="200"} 1"#
        ),
        "{m}"
    );
    assert!(m.contains(r#"status="404""#));
    assert!(m.contains("tcg_api_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn auth_is_required_and_keys_are_checked() {
    let c = Ctx::new().await;
    let r = c.call(GET, "/v1/cards", None, None).await;
    assert_eq!(r.status, 401);
    assert!(r.content_type.starts_with("application/problem+json"));
    assert!(r.headers.get(header::WWW_AUTHENTICATE).is_some());
    let r = c
        .call(GET, "/v1/cards", Some("tcg_000000000000_00"), None)
        .await;
    assert_eq!(r.status, 401);
    let wrong = format!("{}0", &c.alice[..c.alice.len() - 1]);
    let wrong = if wrong == c.alice {
        format!("{}1", &c.alice[..c.alice.len() - 1])
    } else {
        wrong
    };
    let r = c.call(GET, "/v1/cards", Some(&wrong), None).await;
    assert_eq!(r.status, 401);
    let req = Request::get("/v1/cards")
        .header(header::AUTHORIZATION, format!("Basic {}", c.alice))
        .body(Body::empty())
        .unwrap();
    assert_eq!(c.send(req).await.status, 401);
    assert_eq!(
        c.call(GET, "/v1/cards", Some(&c.alice), None).await.status,
        200
    );
    // Admin endpoints.
    assert_eq!(
        c.call(GET, "/v1/admin/users", Some(&c.alice), None)
            .await
            .status,
        403
    );
    let r = c.call(GET, "/v1/admin/users", Some(&c.admin), None).await;
    assert_eq!(r.status, 200);
    let users = r.json();
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob", "root"]);
    let r = c
        .call(GET, "/v1/admin/keys?user=alice", Some(&c.admin), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    assert!(!r.text().contains(&c.alice), "keys are never shown again");
    assert_eq!(
        c.call(Method::DELETE, "/v1/admin/keys/nope", Some(&c.admin), None)
            .await
            .status,
        404
    );
    // Revocation (library function used by `tcgtracker keys revoke`).
    revoke_key(&c.store, &c.bob).await.unwrap();
    assert_eq!(
        c.call(GET, "/v1/cards", Some(&c.bob), None).await.status,
        401
    );
    let prefix = c.alice.split('_').nth(1).unwrap().to_owned();
    let r = c
        .call(
            Method::DELETE,
            &format!("/v1/admin/keys/{prefix}"),
            Some(&c.admin),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        c.call(GET, "/v1/cards", Some(&c.alice), None).await.status,
        401
    );
}

#[tokio::test]
async fn card_search_and_detail() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let r = c.call(GET, "/v1/cards?q=char", k, None).await;
    assert_eq!(r.status, 200);
    let names: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Charizard", "Charizard Jumbo"]);
    // Pagination.
    let r = c.call(GET, "/v1/cards?game=pokemon&limit=2", k, None).await;
    let page1 = r.json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap().to_owned();
    let r = c
        .call(
            GET,
            &format!(
                "/v1/cards?game=pokemon&limit=2&cursor={}",
                urlencode(&cursor)
            ),
            k,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let page2 = r.json();
    assert_eq!(page2["items"].as_array().unwrap().len(), 2);
    assert_ne!(page1["items"][0], page2["items"][0]);
    let r = c.call(GET, "/v1/cards?set=200", k, None).await;
    assert_eq!(r.json()["items"][0]["name"], "Black Lotus");
    let r = c.call(GET, "/v1/cards?number=4", k, None).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
    let r = c.call(GET, "/v1/cards?number=4/102J", k, None).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    // Bad parameters name the parameter.
    for (uri, field) in [
        ("/v1/cards?limit=0", "limit"),
        ("/v1/cards?limit=abc", "limit"),
        ("/v1/cards?game=chess", "game"),
        ("/v1/cards?set=x", "set"),
        ("/v1/cards?cursor=zzz", "cursor"),
        ("/v1/cards?colour=red", "colour"),
    ] {
        let r = c.call(GET, uri, k, None).await;
        assert_eq!(r.status, 400, "{uri}");
        assert_eq!(r.problem_field(), field, "{uri}: {}", r.text());
    }
    let r = c.call(GET, "/v1/sets?game=pokemon", k, None).await;
    assert_eq!(r.json()["items"][0]["name"], "Base Set");
    // One card.
    let r = c.call(GET, "/v1/cards/1001", k, None).await;
    assert_eq!(r.status, 200);
    let card = r.json();
    assert_eq!(card["card"]["name"], "Charizard");
    assert_eq!(card["set"]["name"], "Base Set");
    assert_eq!(card["skus"].as_array().unwrap().len(), 2);
    let nm = &card["raw"][0];
    assert_eq!(nm["series_id"], "1001/holofoil/nm/en");
    assert_eq!(nm["sku_id"], 5001);
    assert_eq!(nm["prices"][0]["source"], "tcgplayer");
    assert_eq!(nm["prices"][0]["price_usd"]["amount"], "130.00");
    assert_eq!(card["raw"][1]["prices"].as_array().unwrap().len(), 0);
    assert_eq!(card["graded"][0]["series_id"], "1001/psa/10");
    assert_eq!(card["graded"][0]["prices"][0]["source"], "ebay_sold");
    assert_eq!(c.call(GET, "/v1/cards/999", k, None).await.status, 404);
    assert_eq!(c.call(GET, "/v1/cards/abc", k, None).await.status, 404);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn card_history() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let from = "2024-03-01T00:00:00Z";
    let to = "2024-03-11T00:00:00Z";
    let r = c
        .call(GET, &format!("/v1/cards/1001/history?interval=1d&from={from}&to={to}&source=tcgplayer&condition=NM&printing=Holofoil"), k, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let h = r.json();
    assert_eq!(h["series"].as_array().unwrap().len(), 1);
    // Compact: the currency once, then column by column.
    assert_eq!(h["series"][0]["currency"], "USD");
    let candles = &h["series"][0]["candles"];
    assert_eq!(candles["start"].as_array().unwrap().len(), 10);
    assert_eq!(candles["start"][0], 1_709_251_200);
    assert_eq!(candles["close"][0], "100.00");
    assert_eq!(candles["close"][9], "109.00");
    assert_eq!(candles["count"][0], 1);
    // Graded series only.
    let r = c
        .call(GET, &format!("/v1/cards/1001/history?interval=1w&from={from}&to=2024-04-01T00:00:00Z&graded=true&grader=PSA&grade=10"), k, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["series"][0]["series_id"], "1001/psa/10");
    // Month and hour buckets, defaults, fill=empty.
    assert_eq!(
        c.call(
            GET,
            "/v1/cards/1001/history?interval=1M&from=2024-01-01T00:00:00Z&to=2024-04-01T00:00:00Z",
            k,
            None
        )
        .await
        .json()["series"][0]["candles"]["start"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let r = c.call(GET, "/v1/cards/1001/history?interval=1h&from=2024-03-02T00:00:00Z&to=2024-03-02T06:00:00Z&fill=empty&series=1001/holofoil/nm/en", k, None).await;
    assert_eq!(r.status, 200);
    let candles = r.json()["series"][0]["candles"].clone();
    assert_eq!(candles["start"].as_array().unwrap().len(), 6);
    assert_eq!(candles["count"][1], 1);
    assert!(candles["close"][0].is_null());
    assert_eq!(
        c.call(GET, "/v1/cards/1001/history", k, None).await.status,
        200
    );
    for (uri, field) in [
        ("/v1/cards/1001/history?interval=2d", "interval"),
        ("/v1/cards/1001/history?from=yesterday", "from"),
        ("/v1/cards/1001/history?source=amazon", "source"),
        ("/v1/cards/1001/history?grade=11", "grade"),
        ("/v1/cards/1001/history?fill=zero", "fill"),
    ] {
        let r = c.call(GET, uri, k, None).await;
        assert_eq!(r.status, 400, "{uri}");
        assert_eq!(r.problem_field(), field, "{uri}");
    }
    // Parameters valid one by one that do not fit together: 422 (tests/agreement.rs).
    for (uri, field) in [
        (
            "/v1/cards/1001/history?from=2024-03-02T00:00:00Z&to=2024-03-01T00:00:00Z",
            "from",
        ),
        (
            "/v1/cards/1001/history?interval=1h&from=2000-01-01T00:00:00Z&to=2024-03-01T00:00:00Z",
            "from",
        ),
        (
            "/v1/cards/1001/history?series=1002/holofoil/nm/en",
            "series",
        ),
    ] {
        let r = c.call(GET, uri, k, None).await;
        assert_eq!(r.status, 422, "{uri}");
        assert_eq!(r.problem_field(), field, "{uri}");
    }
    assert_eq!(
        c.call(GET, "/v1/cards/999/history", k, None).await.status,
        404
    );
}

#[tokio::test]
async fn latest_and_movers() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let r = c
        .call(
            GET,
            "/v1/prices/latest?series=1001/holofoil/nm/en,1001/psa/10,1003/normal/nm/en",
            k,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let l = r.json();
    assert_eq!(l["items"].as_array().unwrap().len(), 2);
    assert_eq!(l["missing"], json!(["1003/normal/nm/en"]));
    let r = c
        .call(
            GET,
            "/v1/prices/latest?series=1001/psa/10&source=tcgplayer",
            k,
            None,
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    for uri in [
        "/v1/prices/latest",
        "/v1/prices/latest?series=nonsense",
        "/v1/prices/latest?series=1/psa/10&kind=cheap",
    ] {
        let r = c.call(GET, uri, k, None).await;
        assert_eq!(r.status, 400, "{uri}");
    }
    let many: Vec<String> = (0..201).map(|i| format!("{i}/psa/10")).collect();
    let r = c
        .call(
            GET,
            &format!("/v1/prices/latest?series={}", many.join(",")),
            k,
            None,
        )
        .await;
    assert_eq!(r.status, 400);

    let r = c
        .call(GET, "/v1/movers?window=7d&game=pokemon", k, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let m = r.json();
    assert_eq!(m["gainers"][0]["series_id"], "1001/holofoil/nm/en");
    assert_eq!(m["gainers"][0]["name"], "Charizard");
    assert_eq!(m["losers"][0]["series_id"], "1002/holofoil/nm/en");
    assert!(m["gainers"][0]["change_bps"].as_i64().unwrap() > 0);
    let r = c
        .call(
            GET,
            "/v1/movers?window=24h&direction=up&set=100&limit=5",
            k,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["losers"].as_array().unwrap().is_empty());
    let r = c
        .call(GET, "/v1/movers?window=30d&direction=down", k, None)
        .await;
    assert!(r.json()["gainers"].as_array().unwrap().is_empty());
    for (uri, field) in [
        ("/v1/movers?window=1y", "window"),
        ("/v1/movers?direction=sideways", "direction"),
        ("/v1/movers?limit=1000", "limit"),
        ("/v1/movers?min_price_cents=-1", "min_price_cents"),
    ] {
        let r = c.call(GET, uri, k, None).await;
        assert_eq!(r.status, 400, "{uri}");
        assert_eq!(r.problem_field(), field);
    }
}

async fn new_portfolio(c: &Ctx, key: &str, name: &str) -> String {
    let r = c
        .call(
            POST,
            "/v1/portfolios",
            Some(key),
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn portfolios_holdings_sales_and_valuation() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let id = new_portfolio(&c, &c.alice, "Binder").await;
    let base = format!("/v1/portfolios/{id}");
    // Client mistakes.
    let req = Request::post("/v1/portfolios")
        .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_eq!(c.send(req).await.status, 400);
    let req = Request::post("/v1/portfolios")
        .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
        .body(Body::from(r#"{"name":"x"}"#))
        .unwrap();
    assert_eq!(c.send(req).await.status, 415);
    let r = c
        .call(POST, "/v1/portfolios", k, Some(json!({"name": 5})))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.problem_field(), "name");
    let r = c
        .call(POST, "/v1/portfolios", k, Some(json!({"name": "  "})))
        .await;
    assert_eq!(r.status, 422);
    let r = c
        .call(
            POST,
            "/v1/portfolios",
            k,
            Some(json!({"name": "a", "extra": 1})),
        )
        .await;
    assert_eq!(r.status, 422);
    // Read, rename, ownership.
    assert_eq!(
        c.call(GET, "/v1/portfolios", k, None).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(c.call(GET, &base, k, None).await.json()["name"], "Binder");
    let r = c
        .call(Method::PATCH, &base, k, Some(json!({"name": "Main"})))
        .await;
    assert_eq!(r.json()["name"], "Main");
    assert_eq!(c.call(GET, &base, Some(&c.bob), None).await.status, 404);
    assert_eq!(
        c.call(
            Method::PATCH,
            &base,
            Some(&c.bob),
            Some(json!({"name": "mine"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        c.call(GET, &format!("{base}/holdings"), Some(&c.bob), None)
            .await
            .status,
        404
    );
    assert_eq!(
        c.call(GET, "/v1/portfolios/not-a-uuid", k, None)
            .await
            .status,
        404
    );
    assert_eq!(
        c.call(
            GET,
            &format!("/v1/portfolios/{}", uuid::Uuid::new_v4()),
            k,
            None
        )
        .await
        .status,
        404
    );
    // Holdings.
    let holding = json!({"product_id": 1001, "printing": "Holofoil", "condition": "Near Mint",
        "quantity": 4, "cost_per_unit": {"amount": "100.00", "currency": "USD"}, "acquired_on": "2024-03-05"});
    let r = c
        .call(POST, &format!("{base}/holdings"), k, Some(holding.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let hid = r.json()["id"].as_str().unwrap().to_owned();
    let mut bad = holding.clone();
    bad["product_id"] = json!(999);
    let r = c
        .call(POST, &format!("{base}/holdings"), k, Some(bad))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.problem_field()),
        (422, "product_id".into())
    );
    // Every field off the document is named at once.
    let mut bad = holding.clone();
    bad["quantity"] = json!(0);
    bad["acquired_on"] = json!("2099-02-30");
    let r = c
        .call(POST, &format!("{base}/holdings"), k, Some(bad))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["errors"].as_array().unwrap().len(),
        2,
        "{}",
        r.text()
    );
    let mut bad = holding.clone();
    bad["acquired_on"] = json!("2099-01-01");
    let r = c
        .call(POST, &format!("{base}/holdings"), k, Some(bad))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.problem_field()),
        (422, "acquired_on".into()),
        "not in the future"
    );
    let mut bad = holding.clone();
    bad["cost_per_unit"] = json!({"amount": "1.005", "currency": "USD"});
    let r = c
        .call(POST, &format!("{base}/holdings"), k, Some(bad))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.problem_field()),
        (422, "cost_per_unit".into())
    );
    let hpath = format!("{base}/holdings/{hid}");
    assert_eq!(c.call(GET, &hpath, k, None).await.json()["quantity"], 4);
    assert_eq!(c.call(GET, &hpath, Some(&c.bob), None).await.status, 404);
    assert_eq!(
        c.call(
            GET,
            &format!("{base}/holdings/{}", uuid::Uuid::new_v4()),
            k,
            None
        )
        .await
        .status,
        404
    );
    // A sale, then valuation: 4 bought at 100; sold 1 at 150 with 5 fees; price now 130.
    let sale = json!({"quantity": 1, "price_per_unit": {"amount": "150", "currency": "USD"},
        "fees": {"amount": "5", "currency": "USD"}, "at": "2024-03-20T00:00:00Z"});
    let r = c.call(POST, &format!("{hpath}/sales"), k, Some(sale)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["change"]["type"], "sold");
    let r = c
        .call(
            POST,
            &format!("{hpath}/sales"),
            k,
            Some(json!({"quantity": 9, "price_per_unit": {"amount": "1", "currency": "USD"}})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.problem_field()),
        (422, "quantity".into())
    );
    let r = c.call(POST, &format!("{hpath}/sales"), k, Some(json!({"quantity": 1, "price_per_unit": {"amount": "1", "currency": "USD"}, "at": "2099-01-01T00:00:00Z"}))).await;
    assert_eq!((r.status.as_u16(), r.problem_field()), (422, "at".into()));
    assert_eq!(c.call(GET, &hpath, k, None).await.json()["quantity"], 3);
    let v = c
        .call(GET, &format!("{base}/valuation"), k, None)
        .await
        .json();
    assert_eq!(v["market_value_usd"]["amount"], "390.00");
    assert_eq!(v["cost_basis_usd"]["amount"], "300.00");
    assert_eq!(v["unrealized_pnl_usd"]["amount"], "90.00");
    assert_eq!(v["realized_pnl_usd"]["amount"], "45.00");
    assert_eq!(
        c.call(GET, &format!("{base}/valuation?kind=nope"), k, None)
            .await
            .status,
        400
    );
    let r = c
        .call(
            GET,
            &format!(
                "{base}/history?interval=1w&from=2024-03-01T00:00:00Z&to=2024-03-31T00:00:00Z"
            ),
            k,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let points = r.json()["points"].as_array().unwrap().clone();
    assert_eq!(points.len(), 5);
    assert_eq!(points[0]["market_value_usd"]["amount"], "0.00");
    assert_eq!(
        c.call(GET, &format!("{base}/history?interval=5m"), k, None)
            .await
            .status,
        400
    );
    let ev = c.call(GET, &format!("{base}/events"), k, None).await.json();
    assert_eq!(ev["items"].as_array().unwrap().len(), 2);
    // Quantity change and note.
    let r = c
        .call(
            Method::PATCH,
            &hpath,
            k,
            Some(json!({"quantity": 5, "note": "binder page 3"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["quantity"], 5);
    let r = c
        .call(
            Method::PATCH,
            &hpath,
            k,
            Some(json!({"note": null, "quantity": 2})),
        )
        .await;
    assert!(r.json().get("note").is_none());
    assert_eq!(
        c.call(GET, &format!("{base}/events"), k, None).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // Export, then delete.
    let r = c.call(GET, &format!("{base}/export"), k, None).await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/csv"));
    let csv = r.text();
    assert!(csv.starts_with("holding_id,product_id,name,set,number"));
    assert!(csv.contains(
        "Charizard,Base Set,4/102,pokemon,Holofoil,Near Mint,English,,,2,100.00,USD,2024-03-05"
    ));
    assert_eq!(
        c.call(Method::DELETE, &hpath, Some(&c.bob), None)
            .await
            .status,
        404
    );
    assert_eq!(c.call(Method::DELETE, &hpath, k, None).await.status, 204);
    assert_eq!(c.call(GET, &hpath, k, None).await.status, 404);
    assert_eq!(
        c.call(Method::DELETE, &base, Some(&c.bob), None)
            .await
            .status,
        404
    );
    assert_eq!(c.call(Method::DELETE, &base, k, None).await.status, 204);
    assert_eq!(c.call(GET, &base, k, None).await.status, 404);
}

async fn import(c: &Ctx, path: &str, body: &str) -> Resp {
    let req = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(body.to_owned()))
        .unwrap();
    c.send(req).await
}

#[tokio::test]
async fn csv_import_reports_unmatched_rows_and_export_round_trips() {
    let c = Ctx::new().await;
    let id = new_portfolio(&c, &c.alice, "Imports").await;
    let base = format!("/v1/portfolios/{id}/import");
    let collectr = "Portfolio Name,Category,Set,Product Name,Card Number,Rarity,Variance,Grade,Card Condition,Average Cost Paid,Quantity,Market Price (As of 2024-03-30),Price Override,Watchlist,Date Added,Notes\n\
Main,Pokemon,Base Set,Charizard,4/102,Holo Rare,Holofoil,PSA 10,Near Mint,\"$2,000.00\",1,2600,,false,2024-03-02,slab\n\
Main,Pokemon,Base Set,Blastoise,2/102,Holo Rare,Holofoil,Ungraded,Near Mint,150.50,2,150,,false,2024-03-03,\n\
Main,Pokemon,Jungle,Pikachu,60/64,Common,Normal,Ungraded,Near Mint,1,1,1,,false,2024-03-03,\n\
Main,Pokemon,Base Set,Venusaur,15/102,Holo Rare,Holofoil,Ungraded,Near Mint,10,none,1,,false,,\n";
    let r = import(
        &c,
        &format!("{base}?format=collectr&dry_run=true"),
        collectr,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rep = r.json();
    assert_eq!(rep["rows"], 4);
    assert_eq!(rep["imported"], 0);
    let r = import(&c, &format!("{base}?format=collectr"), collectr).await;
    let rep = r.json();
    assert_eq!(rep["imported"], 2, "{rep}");
    let unmatched = rep["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 2);
    assert_eq!(unmatched[0]["row"], 3);
    assert!(unmatched[0]["reason"].as_str().unwrap().contains("Pikachu"));
    assert_eq!(unmatched[1]["row"], 4);
    assert!(
        unmatched[1]["reason"]
            .as_str()
            .unwrap()
            .contains("quantity")
    );
    let holdings = c
        .call(
            GET,
            &format!("/v1/portfolios/{id}/holdings"),
            Some(&c.alice),
            None,
        )
        .await
        .json();
    let slab = holdings["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["grading"].is_object())
        .unwrap()
        .clone();
    assert_eq!(slab["grading"]["grader"], "PSA");
    assert_eq!(slab["cost_per_unit"]["amount"], "2000.00");

    let tcgplayer = "Quantity,Name,Simple Name,Set,Card Number,Set Code,Printing,Condition,Language,Rarity,Product ID,SKU\n\
3,Black Lotus,Black Lotus,Alpha,232,LEA,Normal,Lightly Played,English,Rare,2001,1\n\
1,Ghost,Ghost,Nowhere,1,X,Normal,Near Mint,English,Rare,424242,2\n\
1,Charizard,Charizard,Base Set,4/102,BS,Holofoil,Near Mint Foil,English,Holo Rare,,\n";
    let r = import(&c, &format!("{base}?format=tcgplayer"), tcgplayer).await;
    let rep = r.json();
    assert_eq!(rep["imported"], 2, "{rep}");
    assert_eq!(rep["unmatched"][0]["row"], 2);
    assert!(
        rep["unmatched"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("424242")
    );

    // Ambiguous names are reported, not guessed.
    let generic = "quantity,name,cost_per_unit\n1,Charizard Jumbo,5\n1,Char,1\n1,,1\n";
    let r = import(&c, &format!("{base}?format=generic"), generic).await;
    let rep = r.json();
    assert_eq!(rep["imported"], 1, "{rep}");
    assert_eq!(rep["unmatched"].as_array().unwrap().len(), 2);

    // Export round-trips through the generic importer.
    let csv = c
        .call(
            GET,
            &format!("/v1/portfolios/{id}/export"),
            Some(&c.alice),
            None,
        )
        .await
        .text();
    let other = new_portfolio(&c, &c.alice, "Copy").await;
    let r = import(
        &c,
        &format!("/v1/portfolios/{other}/import?format=generic"),
        &csv,
    )
    .await;
    assert_eq!(r.json()["imported"], 5, "{}", r.text());
    assert!(r.json()["unmatched"].as_array().unwrap().is_empty());

    // File-level errors.
    let r = import(&c, &format!("{base}?format=generic"), "name,set\nx,y\n").await;
    assert_eq!(r.status, 422);
    let r = import(&c, &format!("{base}?format=excel"), generic).await;
    assert_eq!(
        (r.status.as_u16(), r.problem_field()),
        (400, "format".into())
    );
    // Without a format the header decides.
    let r = import(&c, &format!("{base}?dry_run=true"), generic).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["format"].clone()),
        (200, "generic".into())
    );
    assert_eq!(r.json()["detected"], true);
    let r = import(
        &c,
        &format!(
            "/v1/portfolios/{}/import?format=generic",
            uuid::Uuid::new_v4()
        ),
        generic,
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn import_body_limit() {
    let config = ApiConfig {
        import_body_limit: 1024,
        ..test_config()
    };
    let c = Ctx::with(config, |s| s).await;
    let id = new_portfolio(&c, &c.alice, "P").await;
    let big = format!("quantity,product_id\n{}", "1,1001\n".repeat(400));
    let r = import(
        &c,
        &format!("/v1/portfolios/{id}/import?format=generic"),
        &big,
    )
    .await;
    assert_eq!(r.status, 413);
    assert!(r.content_type.starts_with("application/problem+json"));
}

#[derive(Debug)]
struct FailingPublisher;

#[async_trait]
impl RulePublisher for FailingPublisher {
    async fn publish(&self, _change: RuleChange) -> Result<(), PublishError> {
        Err(PublishError("broker down".into()))
    }
}

#[tokio::test]
async fn alert_rules_are_validated_stored_and_published() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let c = Ctx::with(test_config(), |s| {
        s.with_rule_publisher(Arc::new(ChannelRulePublisher(tx)))
    })
    .await;
    let k = Some(c.alice.as_str());
    let rule = json!({"name": "Zard under 120", "product_id": 1001,
        "filter": {"condition": "Near Mint"},
        "condition": {"type": "price_below", "threshold_usd": {"amount": "120", "currency": "USD"}},
        "cooldown_secs": 600});
    let r = c.call(POST, "/v1/alert-rules", k, Some(rule.clone())).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["owner"], "alice");
    match rx.try_recv().unwrap() {
        RuleChange::Upsert { rule } => assert_eq!(rule.id.to_string(), id),
        other => panic!("{other:?}"),
    }
    // Validation of every field, with the field named.
    for (body, field) in [
        (
            json!({"name": "", "product_id": 1001, "condition": {"type": "new_low", "days": 7}}),
            "name",
        ),
        (
            json!({"name": "x", "product_id": 999, "condition": {"type": "new_low", "days": 7}}),
            "product_id",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "new_low", "days": 0}}),
            "condition.days",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "percent_change", "percent": "0", "window_secs": 3600, "direction": "up"}}),
            "condition.percent",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "percent_change", "percent": "5", "window_secs": 10, "direction": "up"}}),
            "condition.window_secs",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "price_above", "threshold_usd": {"amount": "5", "currency": "EUR"}}}),
            "condition.threshold_usd.currency",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "deal", "percent": "20"}, "filter": {"kind": "market"}}),
            "filter.kind",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "new_low", "days": 7}, "cooldown_secs": 99999999}),
            "cooldown_secs",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "teleport"}}),
            "condition.type",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "new_low", "days": 7}, "filter": {"grade": "11"}}),
            "filter.grade",
        ),
        (
            json!({"name": "x", "product_id": 1001, "condition": {"type": "new_low", "days": 7}, "filter": {"source": "amazon"}}),
            "filter.source",
        ),
    ] {
        let r = c.call(POST, "/v1/alert-rules", k, Some(body.clone())).await;
        assert_eq!(r.status, 422, "{body}");
        assert_eq!(r.problem_field(), field, "{body}: {}", r.text());
    }
    assert!(rx.try_recv().is_err(), "invalid rules are not published");
    let path = format!("/v1/alert-rules/{id}");
    assert_eq!(
        c.call(GET, &path, k, None).await.json()["name"],
        "Zard under 120"
    );
    assert_eq!(c.call(GET, &path, Some(&c.bob), None).await.status, 404);
    assert_eq!(
        c.call(GET, "/v1/alert-rules/123", k, None).await.status,
        404
    );
    assert_eq!(
        c.call(GET, "/v1/alert-rules", Some(&c.bob), None)
            .await
            .json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        c.call(GET, "/v1/alert-rules", k, None).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Pause / resume / patch / put.
    let r = c.call(POST, &format!("{path}/pause"), k, None).await;
    assert_eq!(r.json()["paused"], true);
    let r = c.call(POST, &format!("{path}/resume"), k, None).await;
    assert_eq!(r.json()["paused"], false);
    let r = c
        .call(
            Method::PATCH,
            &path,
            k,
            Some(json!({"paused": true, "cooldown_secs": 60})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["cooldown_secs"], 60);
    let r = c
        .call(
            Method::PATCH,
            &path,
            k,
            Some(json!({"condition": {"type": "new_high", "days": 0}})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.problem_field()),
        (422, "condition.days".into())
    );
    let r = c
        .call(
            Method::PATCH,
            &path,
            Some(&c.bob),
            Some(json!({"paused": false})),
        )
        .await;
    assert_eq!(r.status, 404);
    let mut put = rule.clone();
    put["name"] = json!("renamed");
    let r = c.call(Method::PUT, &path, k, Some(put)).await;
    assert_eq!(r.json()["name"], "renamed");
    assert_eq!(r.json()["paused"], false);
    let mut published = 0;
    while rx.try_recv().is_ok() {
        published += 1;
    }
    assert_eq!(published, 4);
    assert_eq!(
        c.call(Method::DELETE, &path, Some(&c.bob), None)
            .await
            .status,
        404
    );
    assert_eq!(c.call(Method::DELETE, &path, k, None).await.status, 204);
    assert!(matches!(rx.try_recv().unwrap(), RuleChange::Delete { .. }));
    assert_eq!(c.call(GET, &path, k, None).await.status, 404);
}

#[tokio::test]
async fn a_failed_publish_changes_nothing() {
    let c = Ctx::with(test_config(), |s| {
        s.with_rule_publisher(Arc::new(FailingPublisher))
    })
    .await;
    let rule =
        json!({"name": "x", "product_id": 1001, "condition": {"type": "new_low", "days": 7}});
    let r = c
        .call(POST, "/v1/alert-rules", Some(&c.alice), Some(rule))
        .await;
    assert_eq!(r.status, 503);
    assert!(
        c.store
            .rules(Some(&UserId("alice".into())))
            .await
            .unwrap()
            .is_empty()
    );
}

fn alert(owner: &str, rule: RuleId, at: i64) -> AlertEvent {
    let series: tcg_schemas::SeriesKey = "1001/holofoil/nm/en".parse().unwrap();
    AlertEvent {
        id: AlertId::derive(
            rule,
            &series.id(),
            Timestamp::from_secs(at),
            Source::Tcgplayer,
            PriceKind::Market,
            None,
        ),
        rule_id: rule,
        owner: UserId(owner.into()),
        rule_name: "r".into(),
        product_id: ProductId(1001),
        series_id: series.id(),
        series,
        source: Source::Tcgplayer,
        kind: PriceKind::Market,
        observed_at: Timestamp::from_secs(at),
        price_usd: Money::usd_cents(100),
        listing_id: None,
        trigger: Trigger::PriceBelow {
            threshold_usd: Money::usd_cents(200),
        },
        message: "below".into(),
    }
}

#[tokio::test]
async fn fired_alerts_are_the_callers_own() {
    let c = Ctx::new().await;
    let r1 = RuleId(uuid::Uuid::from_u128(1));
    let r2 = RuleId(uuid::Uuid::from_u128(2));
    c.store
        .write_alerts(&[
            alert("alice", r1, T0),
            alert("alice", r2, T0 + 10),
            alert("bob", r1, T0 + 5),
        ])
        .await
        .unwrap();
    let r = c.call(GET, "/v1/alerts", Some(&c.alice), None).await;
    assert_eq!(r.status, 200);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["rule_id"], r2.to_string());
    let r = c
        .call(
            GET,
            &format!("/v1/alerts?rule_id={r1}&limit=5"),
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        c.call(GET, "/v1/alerts?limit=0", Some(&c.alice), None)
            .await
            .status,
        400
    );
    assert_eq!(
        c.call(GET, "/v1/alerts?rule_id=x", Some(&c.alice), None)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn internal_webhook_targets_are_accepted_when_allowed() {
    let allowed = ApiConfig {
        webhook_guard: tcg_address_guard::AddressGuard::new(false, &["127.0.0.0/8".into()])
            .unwrap(),
        ..test_config()
    };
    let c = Ctx::with(allowed, |s| s).await;
    let k = Some(c.alice.as_str());
    let r = c
        .call(
            POST,
            "/v1/webhooks",
            k,
            Some(json!({"url": "http://127.0.0.1:9/x"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c
        .call(
            POST,
            "/v1/webhooks",
            k,
            Some(json!({"url": "http://10.0.0.1/x"})),
        )
        .await;
    assert_eq!(r.status, 422, "only the allowed network: {}", r.text());
    let all = ApiConfig {
        webhook_guard: tcg_address_guard::AddressGuard::new(true, &[]).unwrap(),
        ..test_config()
    };
    let c = Ctx::with(all, |s| s).await;
    let r = c
        .call(
            POST,
            "/v1/webhooks",
            Some(c.alice.as_str()),
            Some(json!({"url": "http://10.0.0.1/x"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

#[tokio::test]
async fn webhooks_crud_and_secret_shown_once() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let r = c
        .call(
            POST,
            "/v1/webhooks",
            k,
            Some(json!({"url": "https://hooks.example.test/tcg", "description": "phone"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = r.json()["webhook"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/webhooks/{id}");
    let list = c.call(GET, "/v1/webhooks", k, None).await;
    assert!(!list.text().contains(&secret));
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
    assert!(!c.call(GET, &path, k, None).await.text().contains(&secret));
    assert_eq!(c.call(GET, &path, Some(&c.bob), None).await.status, 404);
    assert_eq!(c.call(GET, "/v1/webhooks/xyz", k, None).await.status, 404);
    for url in [
        "ftp://x.test/",
        "not a url",
        "https://user:pw@x.test/",
        "/relative",
        "",
    ] {
        let r = c
            .call(POST, "/v1/webhooks", k, Some(json!({"url": url})))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.problem_field()),
            (422, "url".into()),
            "{url}"
        );
    }
    // Internal targets are refused at creation and on change, literal or by name.
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://10.1.2.3/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let r = c
            .call(POST, "/v1/webhooks", k, Some(json!({ "url": url })))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.problem_field()),
            (422, "url".into()),
            "{url}: {}",
            r.text()
        );
        assert!(r.text().contains("allow_private"), "{}", r.text());
    }
    // A host that is a number but not a dotted address (getaddrinfo reads 2130706433 as
    // 127.0.0.1) is no host name: refused by its form.
    let r = c
        .call(
            POST,
            "/v1/webhooks",
            k,
            Some(json!({"url": "http://2130706433/x"})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.problem_field()), (422, "url".into()));
    let r = c
        .call(
            Method::PATCH,
            &path,
            k,
            Some(json!({"url": "http://127.0.0.1:9/x"})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.problem_field()), (422, "url".into()));
    let r = c
        .call(
            Method::PATCH,
            &path,
            k,
            Some(json!({"enabled": false, "description": null})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["enabled"], false);
    assert!(r.json().get("description").is_none());
    let r = c
        .call(Method::PATCH, &path, k, Some(json!({"url": "gopher://x"})))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        c.call(
            Method::PATCH,
            &path,
            Some(&c.bob),
            Some(json!({"enabled": true}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        c.call(Method::DELETE, &path, Some(&c.bob), None)
            .await
            .status,
        404
    );
    assert_eq!(c.call(Method::DELETE, &path, k, None).await.status, 204);
    assert_eq!(c.call(Method::DELETE, &path, k, None).await.status, 404);
}

#[tokio::test]
async fn limits_and_unknown_routes_answer_problems() {
    let config = ApiConfig {
        rate_per_sec: std::num::NonZeroU32::new(1).unwrap(),
        rate_burst: std::num::NonZeroU32::new(2).unwrap(),
        json_body_limit: 1024,
        ..test_config()
    };
    let c = Ctx::with(config, |s| s).await;
    let k = Some(c.alice.as_str());
    assert_eq!(c.call(GET, "/v1/sets", k, None).await.status, 200);
    assert_eq!(c.call(GET, "/v1/sets", k, None).await.status, 200);
    let r = c.call(GET, "/v1/sets", k, None).await;
    assert_eq!(r.status, 429);
    let retry: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry));
    assert_eq!(r.json()["retry_after"], retry);
    // Another key has its own budget.
    assert_eq!(
        c.call(GET, "/v1/sets", Some(&c.bob), None).await.status,
        200
    );
    // Oversized JSON body.
    let big = json!({"name": "x".repeat(5000)});
    let r = c
        .call(POST, "/v1/portfolios", Some(&c.bob), Some(big))
        .await;
    assert_eq!(r.status, 413);
    assert!(r.content_type.starts_with("application/problem+json"));
    // Unknown path and method.
    let r = c.call(GET, "/v1/nothing-here", Some(&c.admin), None).await;
    assert_eq!(r.status, 404);
    assert!(r.content_type.starts_with("application/problem+json"));
    let r = c
        .call(Method::DELETE, "/v1/cards", Some(&c.admin), None)
        .await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn webhook_deliveries_disabled_reason_and_secret_rotation() {
    use tcg_store::{AttemptRecord, AttemptResolution, DeliveryStore};
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let r = c
        .call(
            POST,
            "/v1/webhooks",
            k,
            Some(json!({"url": "https://hooks.example.test/tcg"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let first_secret = r.json()["secret"].as_str().unwrap().to_owned();
    let id = r.json()["webhook"]["id"].as_str().unwrap().to_owned();

    // Rotation: a new secret, shown once; the old one signs during the grace period.
    let rotate = format!("/v1/webhooks/{id}/rotate-secret");
    let r = c
        .call(POST, &format!("{rotate}?grace_secs=3600"), k, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret != first_secret);
    let until = Timestamp::from_secs(NOW + 3600).to_string();
    assert_eq!(r.json()["previous_secret_valid_until"], until.as_str());
    assert_eq!(
        r.json()["webhook"]["previous_secret_valid_until"],
        until.as_str()
    );
    let one = c.call(GET, &format!("/v1/webhooks/{id}"), k, None).await;
    assert!(!one.text().contains(&secret));
    assert_eq!(
        c.call(POST, &format!("{rotate}?grace_secs=-1"), k, None)
            .await
            .status,
        400
    );
    assert_eq!(c.call(POST, &rotate, Some(&c.bob), None).await.status, 404);

    // Deliveries: empty, then what the dispatcher recorded.
    let deliveries = format!("/v1/webhooks/{id}/deliveries");
    let r = c.call(GET, &deliveries, k, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        c.call(GET, &deliveries, Some(&c.bob), None).await.status,
        404
    );
    assert_eq!(
        c.call(GET, &format!("{deliveries}?limit=0"), k, None)
            .await
            .status,
        400
    );
    let a = alert("alice", RuleId(uuid::Uuid::from_u128(77)), NOW);
    c.store
        .write_alerts(std::slice::from_ref(&a))
        .await
        .unwrap();
    let now = Timestamp::from_secs(NOW);
    assert_eq!(c.store.fan_out(now, 10).await.unwrap().deliveries, 1);
    let due = c.store.claim_due(now, 10, now.plus_secs(60)).await.unwrap();
    assert_eq!(due.len(), 1);
    let record = |attempt: u32, code: u16, resolution| AttemptRecord {
        alert_id: a.id.to_string(),
        webhook_id: id.clone(),
        attempt,
        attempted_at: now,
        latency_us: 12_500,
        outcome: if code == 410 { "gone" } else { "http_error" }.into(),
        status_code: Some(code),
        error: Some(format!("HTTP {code}")),
        response_body: Some("nope".into()),
        resolution,
    };
    let report = c
        .store
        .record_attempts(
            &[
                record(1, 500, AttemptResolution::RetryAt(now.plus_secs(5))),
                record(
                    2,
                    410,
                    AttemptResolution::DisableEndpoint("410 Gone".into()),
                ),
            ],
            i64::MAX,
        )
        .await
        .unwrap();
    assert_eq!(report.disabled.len(), 1);
    let r = c.call(GET, &format!("{deliveries}?limit=1"), k, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["attempt"], 2);
    assert_eq!(items[0]["status_code"], 410);
    assert_eq!(items[0]["latency_ms"], 12.5);
    let before = r.json()["next_before"].as_i64().unwrap();
    let r = c
        .call(GET, &format!("{deliveries}?before={before}"), k, None)
        .await;
    assert_eq!(r.json()["items"][0]["attempt"], 1);
    assert!(r.json().get("next_before").is_none());
    let one = c.call(GET, &format!("/v1/webhooks/{id}"), k, None).await;
    assert_eq!(one.json()["enabled"], false);
    assert_eq!(one.json()["disabled_reason"], "410 Gone");
    let list = c.call(GET, "/v1/webhooks", k, None).await;
    assert_eq!(list.json()["items"][0]["disabled_reason"], "410 Gone");
    // Enabling it again clears the reason.
    let r = c
        .call(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            k,
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("disabled_reason").is_none());
}

/// A patch valid on its own that does not fit the stored rule is 409, not 422: a `deal`
/// condition onto a rule whose stored filter watches `low` prices. Sent with a fitting filter, it
/// is taken.
#[tokio::test]
async fn a_patch_that_does_not_fit_the_stored_rule_is_a_conflict() {
    let c = Ctx::new().await;
    let k = Some(c.alice.as_str());
    let made = c
        .call(
            Method::POST,
            "/v1/alert-rules",
            k,
            Some(
                json!({"name": "low watch", "product_id": 1001, "filter": {"kind": "low"},
                        "condition": {"type": "price_below",
                                      "threshold_usd": {"amount": "5.00", "currency": "USD"}}}),
            ),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let uri = format!("/v1/alert-rules/{id}");
    let deal = json!({"type": "deal", "percent": "20"});
    let r = c
        .call(Method::PATCH, &uri, k, Some(json!({"condition": deal})))
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("send the `filter`"), "{}", r.text());
    let r = c
        .call(
            Method::PATCH,
            &uri,
            k,
            Some(json!({"condition": deal, "filter": {"kind": "listing"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["condition"]["type"], "deal");
    // The reverse: a filter that does not fit the stored deal condition.
    let r = c
        .call(
            Method::PATCH,
            &uri,
            k,
            Some(json!({"filter": {"kind": "market"}})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    // A buylist condition onto a rule that watches listings; then with its filter.
    let buylist = json!({"type": "buylist_above", "percent": "70"});
    let r = c
        .call(Method::PATCH, &uri, k, Some(json!({"condition": buylist})))
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("buylist"), "{}", r.text());
    let r = c
        .call(
            Method::PATCH,
            &uri,
            k,
            Some(json!({"condition": buylist, "filter": {"kind": "buylist"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["condition"]["type"], "buylist_above");
    // Both sent and not fitting: the document says so (schema), and the API refuses it.
    let r = c
        .call(
            Method::PATCH,
            &uri,
            k,
            Some(json!({"condition": buylist, "filter": {"kind": "high"}})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
}
