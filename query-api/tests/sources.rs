//! `GET /v1/sources`, `GET /v1/cards/{id}/rejections` and the sources in `/readyz`, over a
//! [`SourceReports`] kept in memory (as `up` keeps its collectors' and processor's).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::http::Method;
use common::*;
use tcg_ports::SourceReports;
use tcg_schemas::{
    CardRejection, HealthError, HealthStatus, Money, ProductId, RejectionStage, SourceHealth,
    Timestamp, UnmappedProduct,
};

const GET: Method = Method::GET;

#[derive(Debug, Default)]
struct Reports {
    sources: Vec<SourceHealth>,
    rejections: Mutex<Vec<CardRejection>>,
    unmapped: Vec<UnmappedProduct>,
}

impl SourceReports for Reports {
    fn sources(&self) -> Vec<SourceHealth> {
        self.sources.clone()
    }

    fn rejections(&self, product: ProductId, limit: usize) -> Vec<CardRejection> {
        let all = self.rejections.lock().unwrap();
        all.iter()
            .rev()
            .filter(|r| r.product_id == Some(product))
            .take(limit)
            .cloned()
            .collect()
    }

    fn recent_rejections(&self, limit: usize) -> Vec<CardRejection> {
        let all = self.rejections.lock().unwrap();
        all.iter().rev().take(limit).cloned().collect()
    }

    fn unmapped(&self, source: Option<&str>, limit: usize) -> Vec<UnmappedProduct> {
        self.unmapped
            .iter()
            .filter(|p| source.is_none_or(|s| p.source == s))
            .take(limit)
            .cloned()
            .collect()
    }
}

fn degraded_tcgplayer() -> SourceHealth {
    let mut h = SourceHealth::starting("tcgplayer");
    h.status = HealthStatus::Degraded;
    h.up = true;
    h.passes = 1;
    h.quotes_last_pass = 40;
    h.last_error = Some(HealthError {
        at: Timestamp::from_secs(NOW),
        kind: "client_error".into(),
        message: "HTTP 404 from /catalog/categories/3/printings".into(),
        during: "printings of category 3".into(),
    });
    h.degraded.push(tcg_schemas::Degradation {
        what: "printings of category 3".into(),
        kind: "client_error".into(),
        message: "HTTP 404".into(),
        effect: "SKU printings named from price rows".into(),
    });
    h
}

fn listing_rejection(n: i64) -> CardRejection {
    CardRejection {
        at: Timestamp::from_secs(NOW - 100 + n),
        source: "ebay_browse".into(),
        stage: RejectionStage::Processor,
        product_id: Some(ProductId(1001)),
        group_id: None,
        reason: "not_genuine".into(),
        detail: "\"proxy\" in the title".into(),
        confidence: Some(12),
        title: Some(format!("Charizard 4/102 proxy card #{n}")),
        item_id: Some(format!("v1|{n}|0")),
        printing: None,
        price: Some(Money::usd_cents(999)),
    }
}

#[tokio::test]
async fn sources_and_rejections_are_served_from_the_reports() {
    let reports = Arc::new(Reports {
        sources: vec![SourceHealth::starting("ebay_browse"), degraded_tcgplayer()],
        ..Reports::default()
    });
    for n in 0..3 {
        reports
            .rejections
            .lock()
            .unwrap()
            .push(listing_rejection(n));
    }
    let c = Ctx::with(test_config(), {
        let reports = reports.clone();
        move |s| s.with_source_reports(reports)
    })
    .await;

    // A key is needed.
    assert_eq!(c.call(GET, "/v1/sources", None, None).await.status, 401);

    let r = c.call(GET, "/v1/sources", Some(&c.alice), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["monitored"], true);
    assert_eq!(body["items"][0]["source"], "ebay_browse");
    assert_eq!(body["items"][0]["status"], "starting");
    let tcgplayer = &body["items"][1];
    assert_eq!(tcgplayer["status"], "degraded");
    assert_eq!(tcgplayer["up"], true);
    assert_eq!(tcgplayer["last_error"]["during"], "printings of category 3");
    assert_eq!(
        tcgplayer["degraded"][0]["effect"],
        "SKU printings named from price rows"
    );

    // Readiness carries the same detail, and a degraded source does not make the API unready.
    let ready = c.call(GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["sources"][1]["status"], "degraded");

    let r = c
        .call(GET, "/v1/cards/1001/rejections", Some(&c.alice), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["title"], "Charizard 4/102 proxy card #2",
        "newest first"
    );
    assert_eq!(items[0]["reason"], "not_genuine");
    assert_eq!(items[0]["stage"], "processor");
    assert_eq!(items[0]["confidence"], 12);
    assert_eq!(items[0]["price"]["amount"], "9.99");

    let r = c
        .call(
            GET,
            "/v1/cards/1001/rejections?limit=1",
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    let r = c
        .call(
            GET,
            "/v1/cards/1001/rejections?limit=0",
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.problem_field(), "limit");
    let r = c
        .call(GET, "/v1/cards/987654/rejections", Some(&c.alice), None)
        .await;
    assert_eq!(r.status, 404, "an unknown card is not an empty list");
}

#[tokio::test]
async fn without_reports_the_lists_are_empty_and_say_so() {
    let c = Ctx::new().await;
    let r = c.call(GET, "/v1/sources", Some(&c.alice), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["monitored"], false);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    let r = c
        .call(GET, "/v1/cards/1001/rejections", Some(&c.alice), None)
        .await;
    assert_eq!(r.json()["monitored"], false);
    let ready = c.call(GET, "/readyz", None, None).await;
    assert!(ready.json().get("sources").is_none());
}

fn unmapped(source: &str, id: &str, candidates: Vec<u64>) -> UnmappedProduct {
    UnmappedProduct {
        source: source.into(),
        external_id: id.into(),
        why: if candidates.is_empty() {
            "unmapped"
        } else {
            "ambiguous"
        }
        .into(),
        name: "Charizard ex".into(),
        number: Some("199".into()),
        set: Some("151".into()),
        candidates: candidates.into_iter().map(ProductId).collect(),
        last_seen: Timestamp::from_secs(NOW),
    }
}

#[tokio::test]
async fn unmapped_products_of_other_markets_are_listed_by_source() {
    let reports = Arc::new(Reports {
        unmapped: vec![
            unmapped("cardmarket", "273576", vec![]),
            unmapped("cardkingdom", "9", vec![1001, 1002]),
        ],
        ..Reports::default()
    });
    let c = Ctx::with(test_config(), {
        let reports = reports.clone();
        move |s| s.with_source_reports(reports)
    })
    .await;
    assert_eq!(
        c.call(GET, "/v1/sources/unmapped", None, None).await.status,
        401
    );
    let r = c
        .call(GET, "/v1/sources/unmapped", Some(&c.alice), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["monitored"], true);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let r = c
        .call(
            GET,
            "/v1/sources/unmapped?source=cardkingdom",
            Some(&c.alice),
            None,
        )
        .await;
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["why"], "ambiguous");
    assert_eq!(items[0]["candidates"], serde_json::json!([1001, 1002]));
    let r = c
        .call(
            GET,
            "/v1/sources/unmapped?source=nowhere",
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.problem_field(), "source");
    let r = c
        .call(GET, "/v1/sources/unmapped?limit=1", Some(&c.alice), None)
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
}
