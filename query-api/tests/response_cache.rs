//! The response cache of history, latest prices and movers, and HTTP caching: a new tick for a
//! series changes the next answer of every cached request covering it and of no other; `ETag`
//! with `304` on `If-None-Match`; `Cache-Control: private, max-age`; gzip and br on request.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // one scenario, top to bottom

mod common;

use std::{collections::BTreeMap, io::Read};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::*;
use http_body_util::BodyExt;
use tcg_schemas::{
    Condition, HoldingChange, Money, PortfolioEvent, PriceKind, Printing, Source, Timestamp,
};
use tcg_store::prelude::*;
use tower::ServiceExt;

/// The value of one counter line of `/metrics` (0 when absent).
fn counter(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

async fn metrics(c: &Ctx) -> String {
    c.call(Method::GET, "/metrics", None, None).await.text()
}

/// Every request, by name, and its answer's body and ETag.
async fn answers(c: &Ctx, requests: &[(&str, String)]) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for (name, uri) in requests {
        let r = c.call(Method::GET, uri, Some(&c.alice), None).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text());
        let etag = r.headers[header::ETAG].to_str().unwrap().to_owned();
        out.insert((*name).to_owned(), (r.text(), etag));
    }
    out
}

#[tokio::test]
async fn a_new_tick_changes_the_answers_covering_its_series_and_no_other() {
    let c = Ctx::new().await;
    let zard_nm = sku_series(1001, Printing::Holofoil, Condition::NearMint);
    let blast = sku_series(1002, Printing::Holofoil, Condition::NearMint);
    let requests = [
        (
            "zard history (NM)",
            "/v1/cards/1001/history?condition=NM".to_owned(),
        ),
        (
            "zard history (LP)",
            "/v1/cards/1001/history?condition=LP".to_owned(),
        ),
        (
            "zard history (tcgcsv)",
            "/v1/cards/1001/history?source=tcgcsv".to_owned(),
        ),
        ("blastoise history", "/v1/cards/1002/history".to_owned()),
        (
            "zard latest",
            format!("/v1/prices/latest?series={}", zard_nm.id()),
        ),
        (
            "blastoise latest",
            format!("/v1/prices/latest?series={}", blast.id()),
        ),
        ("movers", "/v1/movers?window=7d".to_owned()),
        ("magic movers", "/v1/movers?window=7d&game=magic".to_owned()),
    ];
    let first = answers(&c, &requests).await;
    let m = metrics(&c).await;
    let history = "{route=\"/v1/cards/{product_id}/history\"}";
    assert_eq!(
        counter(&m, &format!("tcg_api_cache_misses_total{history}")),
        4
    );
    assert_eq!(
        counter(&m, &format!("tcg_api_cache_hits_total{history}")),
        0
    );

    // A second round is served from the cache: the same answers, counted as hits.
    let second = answers(&c, &requests).await;
    assert_eq!(first, second);
    let m = metrics(&c).await;
    assert_eq!(
        counter(&m, &format!("tcg_api_cache_hits_total{history}")),
        4
    );
    assert_eq!(
        counter(&m, "tcg_api_cache_hits_total{route=\"/v1/movers\"}"),
        2
    );
    assert!(counter(&m, "tcg_api_cache_bytes") > 0, "{m}");

    // A tick written to the store but not told to the cache changes nothing yet: the answers
    // come from memory.
    let new = tick(
        &zard_nm,
        Source::Tcgplayer,
        PriceKind::Market,
        NOW - 60,
        77_777,
    );
    c.store
        .write_ticks(std::slice::from_ref(&new))
        .await
        .unwrap();
    assert_eq!(answers(&c, &requests).await, first);

    // Told, the cache drops exactly the answers covering Charizard NM / TCGplayer market.
    c.state.response_cache().ticks_written(&[new]);
    let third = answers(&c, &requests).await;
    let changed: Vec<&str> = requests
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| third[*name] != first[*name])
        .collect();
    assert_eq!(
        changed,
        vec!["zard history (NM)", "zard latest", "movers"],
        "the answers that changed"
    );
    for name in &changed {
        assert!(
            third[*name].0.contains("777.77"),
            "{name} shows the new price: {}",
            third[*name].0
        );
        assert_ne!(third[*name].1, first[*name].1, "{name}: a new ETag");
    }
    let m = metrics(&c).await;
    assert_eq!(counter(&m, "tcg_api_cache_invalidations_total"), 3, "{m}");
}

#[tokio::test]
async fn etags_answer_304_and_cached_routes_say_private_max_age() {
    let c = Ctx::new().await;
    let uri = "/v1/cards/1001/history?interval=1d";
    let first = c.call(Method::GET, uri, Some(&c.alice), None).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let control = first.headers[header::CACHE_CONTROL].to_str().unwrap();
    let age: u64 = control
        .strip_prefix("private, max-age=")
        .unwrap_or_else(|| panic!("Cache-Control: {control}"))
        .parse()
        .unwrap();
    assert!(age <= 15, "{control}");

    let again = |tag: String| {
        Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
            .header(header::IF_NONE_MATCH, tag)
            .body(Body::empty())
            .unwrap()
    };
    let not_modified = c.send(again(etag.clone())).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert!(not_modified.bytes.is_empty());
    assert_eq!(not_modified.headers[header::ETAG].to_str().unwrap(), etag);
    // a list naming it, the strong form of the same tag, and `*` match; another tag does not
    for tag in [
        format!("\"x\", {etag}"),
        etag.trim_start_matches("W/").to_owned(),
        "*".to_owned(),
    ] {
        assert_eq!(c.send(again(tag)).await.status, StatusCode::NOT_MODIFIED);
    }
    let other = c.send(again("W/\"0000\"".into())).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.bytes, first.bytes);

    // The caller's own data is still never stored by a cache.
    let own = c
        .call(Method::GET, "/v1/portfolios", Some(&c.alice), None)
        .await;
    assert_eq!(own.headers[header::CACHE_CONTROL], "no-store");
    let latest = c
        .call(
            Method::GET,
            &format!(
                "/v1/prices/latest?series={}",
                sku_series(1001, Printing::Holofoil, Condition::NearMint).id()
            ),
            Some(&c.alice),
            None,
        )
        .await;
    assert!(
        latest.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("private, max-age="),
        "{:?}",
        latest.headers
    );
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_asks() {
    let c = Ctx::new().await;
    let uri =
        "/v1/cards/1001/history?interval=1h&from=2024-03-01T00:00:00Z&to=2024-03-20T00:00:00Z";
    let plain = c.call(Method::GET, uri, Some(&c.alice), None).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    for encoding in ["gzip", "br"] {
        let req = Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
            .header(header::ACCEPT_ENCODING, encoding)
            .body(Body::empty())
            .unwrap();
        // compressed bytes are not the documented JSON: read without `send`'s check
        let r = c.app.clone().oneshot(req).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], encoding);
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let mut body = Vec::new();
        if encoding == "gzip" {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut body)
                .unwrap();
        } else {
            brotli::Decompressor::new(&bytes[..], 4096)
                .read_to_end(&mut body)
                .unwrap();
        }
        assert_eq!(body, plain.bytes, "{encoding} decodes to the same answer");
        assert!(
            bytes.len() * 4 < plain.bytes.len(),
            "{encoding}: {} of {} bytes",
            bytes.len(),
            plain.bytes.len()
        );
    }
}

#[tokio::test]
async fn a_portfolio_history_is_kept_until_a_holding_changes_or_a_held_series_ticks() {
    let c = Ctx::new().await;
    let zard_nm = sku_series(1001, Printing::Holofoil, Condition::NearMint);
    let blast = sku_series(1002, Printing::Holofoil, Condition::NearMint);
    let p = c
        .call(
            Method::POST,
            "/v1/portfolios",
            Some(&c.alice),
            Some(serde_json::json!({"name": "cached"})),
        )
        .await;
    let pid = p.json()["id"].as_str().unwrap().to_owned();
    let holding = c
        .call(
            Method::POST,
            &format!("/v1/portfolios/{pid}/holdings"),
            Some(&c.alice),
            Some(
                serde_json::json!({"product_id": 1001, "printing": "Holofoil",
                "condition": "Near Mint", "quantity": 3, "acquired_on": "2024-03-01",
                "cost_per_unit": {"amount": "10", "currency": "USD"}}),
            ),
        )
        .await;
    assert_eq!(holding.status, StatusCode::CREATED, "{}", holding.text());
    let hid = holding.json()["id"].as_str().unwrap().to_owned();
    let requests = [(
        "value history",
        format!("/v1/portfolios/{pid}/history?interval=1d"),
    )];
    let route = "{route=\"/v1/portfolios/{id}/history\"}";
    let first = answers(&c, &requests).await;
    let second = answers(&c, &requests).await;
    assert_eq!(first, second);
    let m = metrics(&c).await;
    assert_eq!(
        counter(&m, &format!("tcg_api_cache_misses_total{route}")),
        1
    );
    assert_eq!(counter(&m, &format!("tcg_api_cache_hits_total{route}")), 1);

    // A tick of a series the portfolio does not hold changes nothing.
    let other = tick(
        &blast,
        Source::Tcgplayer,
        PriceKind::Market,
        NOW - 60,
        55_555,
    );
    c.store
        .write_ticks(std::slice::from_ref(&other))
        .await
        .unwrap();
    c.state.response_cache().ticks_written(&[other]);
    assert_eq!(answers(&c, &requests).await, first);

    // A tick of the held series, of another kind than the valuation's, changes nothing either.
    let low = tick(&zard_nm, Source::Tcgplayer, PriceKind::Low, NOW - 60, 1);
    c.store
        .write_ticks(std::slice::from_ref(&low))
        .await
        .unwrap();
    c.state.response_cache().ticks_written(&[low]);
    assert_eq!(answers(&c, &requests).await, first);

    // A market tick of the held series does: 3 copies at $777.77.
    let new = tick(
        &zard_nm,
        Source::Tcgplayer,
        PriceKind::Market,
        NOW - 60,
        77_777,
    );
    c.store
        .write_ticks(std::slice::from_ref(&new))
        .await
        .unwrap();
    c.state.response_cache().ticks_written(&[new]);
    let ticked = answers(&c, &requests).await;
    assert_ne!(ticked, first);
    assert!(
        ticked["value history"].0.contains("2333.31"),
        "{}",
        ticked["value history"].0
    );

    // So does a sale, with no tick at all: the holdings are part of the key.
    let sale = c
        .call(
            Method::POST,
            &format!("/v1/portfolios/{pid}/holdings/{hid}/sales"),
            Some(&c.alice),
            Some(serde_json::json!({"quantity": 1,
                "price_per_unit": {"amount": "700", "currency": "USD"}})),
        )
        .await;
    assert!(sale.status.is_success(), "{}", sale.text());
    let sold = answers(&c, &requests).await;
    assert_ne!(sold, ticked);
    assert!(
        sold["value history"].0.contains("1555.54"),
        "{}",
        sold["value history"].0
    );

    // And so does a purchase written straight into the store by another process (another API
    // instance, an import tool): the store's revision of the portfolio changes, so the kept
    // answer is not served again. Two more copies at $10 each.
    let bought = PortfolioEvent {
        id: "00000000-0000-4000-8000-0000000000b1".parse().unwrap(),
        portfolio_id: pid.parse().unwrap(),
        holding_id: hid.parse().unwrap(),
        at: Timestamp::from_secs(NOW - 30),
        change: HoldingChange::Acquired {
            quantity: 2,
            cost_per_unit: Money::usd_cents(1000),
        },
    };
    c.store.append_portfolio_events(&[bought]).await.unwrap();
    let elsewhere = answers(&c, &requests).await;
    assert_ne!(elsewhere, sold);
    assert!(
        elsewhere["value history"].0.contains("3111.08"),
        "4 copies at $777.77: {}",
        elsewhere["value history"].0
    );
    // Unchanged since: served from the cache again.
    let m = metrics(&c).await;
    let hits = counter(&m, &format!("tcg_api_cache_hits_total{route}"));
    assert_eq!(answers(&c, &requests).await, elsewhere);
    let m = metrics(&c).await;
    assert_eq!(
        counter(&m, &format!("tcg_api_cache_hits_total{route}")),
        hits + 1
    );
}
