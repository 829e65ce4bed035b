//! Server-Sent Events (with paused time for the keep-alive) and one test against a real
//! listening server on 127.0.0.1:0.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, header},
};
use common::*;
use http_body_util::BodyExt;
use tcg_schemas::{
    AlertEvent, AlertId, Condition, Money, PriceKind, Printing, ProductId, RuleId, Source,
    Timestamp, Trigger, UserId,
};
use tower::ServiceExt;

async fn next_text(body: &mut Body) -> String {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), body.frame())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            return String::from_utf8(data.to_vec()).unwrap();
        }
    }
}

fn alert(owner: &str) -> AlertEvent {
    let series: tcg_schemas::SeriesKey = "1001/holofoil/nm/en".parse().unwrap();
    let rule = RuleId(uuid::Uuid::from_u128(7));
    AlertEvent {
        id: AlertId::derive(
            rule,
            &series.id(),
            Timestamp::from_secs(T0),
            Source::Tcgplayer,
            PriceKind::Market,
            None,
        ),
        rule_id: rule,
        owner: UserId(owner.into()),
        rule_name: format!("{owner}'s rule"),
        product_id: ProductId(1001),
        series_id: series.id(),
        series,
        source: Source::Tcgplayer,
        kind: PriceKind::Market,
        observed_at: Timestamp::from_secs(T0),
        price_usd: Money::usd_cents(100),
        listing_id: None,
        trigger: Trigger::PriceBelow {
            threshold_usd: Money::usd_cents(200),
        },
        message: "below".into(),
    }
}

#[tokio::test]
async fn tick_stream_filters_by_product_and_series() {
    let c = Ctx::new().await;
    let req = Request::get("/v1/stream/ticks?product_id=1002")
        .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
        .body(Body::empty())
        .unwrap();
    let resp = c.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = resp.into_body();
    let tx = c.state.tick_sender();
    let other = sku_series(1001, Printing::Holofoil, Condition::NearMint);
    let mine = sku_series(1002, Printing::Holofoil, Condition::NearMint);
    tx.send(tick(&other, Source::Tcgplayer, PriceKind::Market, T0, 1))
        .unwrap();
    tx.send(tick(&mine, Source::Tcgplayer, PriceKind::Market, T0, 2))
        .unwrap();
    let text = next_text(&mut body).await;
    assert!(text.starts_with("event: tick\n"), "{text}");
    assert!(
        text.contains("\"series_id\":\"1002/holofoil/nm/en\""),
        "{text}"
    );
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let event: serde_json::Value = serde_json::from_str(data).unwrap();
    validate(
        &serde_json::json!({"$ref": "#/components/schemas/TickEvent"}),
        &event,
        "tick event",
    );
    // The card comes with the tick: no name lookup per card id.
    assert_eq!(event["card"]["name"], "Blastoise", "{event}");
    assert_eq!(event["card"]["set"], "Base Set", "{event}");

    let req = Request::get("/v1/stream/ticks?series=1001/holofoil/nm/en")
        .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
        .body(Body::empty())
        .unwrap();
    let mut body = c.app.clone().oneshot(req).await.unwrap().into_body();
    tx.send(tick(&mine, Source::Tcgplayer, PriceKind::Market, T0, 3))
        .unwrap();
    tx.send(tick(&other, Source::Tcgplayer, PriceKind::Market, T0, 4))
        .unwrap();
    assert!(next_text(&mut body).await.contains("1001/holofoil/nm/en"));

    for uri in [
        "/v1/stream/ticks?product_id=x",
        "/v1/stream/ticks?series=bad",
        "/v1/stream/ticks?foo=1",
    ] {
        let r = c
            .call(axum::http::Method::GET, uri, Some(&c.alice), None)
            .await;
        assert_eq!(r.status, 400, "{uri}");
    }
    let r = c
        .call(axum::http::Method::GET, "/v1/stream/ticks", None, None)
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn alert_stream_carries_only_the_callers_alerts_and_keeps_alive() {
    let c = Ctx::new().await;
    let req = Request::get("/v1/stream/alerts")
        .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
        .body(Body::empty())
        .unwrap();
    let resp = c.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    let tx = c.state.alert_sender();
    tx.send(alert("bob")).unwrap();
    tx.send(alert("alice")).unwrap();
    let text = next_text(&mut body).await;
    assert!(text.starts_with("event: alert\n"), "{text}");
    assert!(text.contains("alice's rule"));
    assert!(!text.contains("bob"));
    assert!(text.contains("\"card\":{\"name\":\"Charizard\""), "{text}");
    // Keep-alive: with the clock paused, 15 s pass at once.
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(16)).await;
    let text = next_text(&mut body).await;
    assert!(
        text.starts_with(':'),
        "keep-alive comment expected, got {text:?}"
    );
    tokio::time::resume();
    drop(UserId("x".into()));
}

#[tokio::test]
async fn lagging_clients_are_told() {
    let config = tcg_query_api::ApiConfig {
        broadcast_capacity: 2,
        ..test_config()
    };
    let c = Ctx::with(config, |s| s).await;
    let req = Request::get("/v1/stream/alerts")
        .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
        .body(Body::empty())
        .unwrap();
    let mut body = c.app.clone().oneshot(req).await.unwrap().into_body();
    let tx = c.state.alert_sender();
    for _ in 0..5 {
        tx.send(alert("alice")).unwrap();
    }
    let text = next_text(&mut body).await;
    assert!(text.starts_with("event: lagged\n"), "{text}");
    assert!(text.contains("\"skipped\":3"), "{text}");
    // A reader that fell behind is dropped, not buffered for: the stream ends.
    tokio::time::pause();
    assert!(ended(&mut body).await, "the lagging stream went on");
    tokio::time::resume();
}

/// True when the body ends (before 60 s, at once with paused time) after at most a few frames.
async fn ended(body: &mut Body) -> bool {
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(60), body.frame()).await {
            Ok(None) => return true,
            Ok(Some(_)) => {}
            Err(_) => return false,
        }
    }
    false
}

fn stream_req(uri: &str, key: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn open_streams_are_capped_per_key_and_in_all_with_429() {
    let config = tcg_query_api::ApiConfig {
        max_streams_per_key: 2,
        max_streams: 3,
        ..test_config()
    };
    let c = Ctx::with(config, |s| s).await;
    let mut open = Vec::new();
    for uri in ["/v1/stream/ticks", "/v1/stream/alerts"] {
        let resp = c
            .app
            .clone()
            .oneshot(stream_req(uri, &c.alice))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        open.push(resp.into_body());
    }
    // The key's third stream.
    let r = c.send(stream_req("/v1/stream/ticks", &c.alice)).await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.content_type.starts_with("application/problem+json"));
    assert_eq!(r.json()["type"], "urn:tcgtracker:problem:too-many-streams");
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    // Another key may open one: three in all, the server's cap.
    let resp = c
        .app
        .clone()
        .oneshot(stream_req("/v1/stream/ticks", &c.bob))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    open.push(resp.into_body());
    let r = c.send(stream_req("/v1/stream/ticks", &c.admin)).await;
    assert_eq!(r.status, 429);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("most open streams")
    );
    // A stream that ends frees its slot.
    drop(open.remove(0));
    let resp = c
        .app
        .clone()
        .oneshot(stream_req("/v1/stream/alerts", &c.alice))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let metrics = c.state.render_metrics();
    assert!(
        metrics.contains("tcg_api_streams_refused_total{scope=\"key\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tcg_api_streams_refused_total{scope=\"all\"} 1"));
}

#[tokio::test(start_paused = true)]
async fn a_revoked_keys_stream_is_told_and_ends_within_seconds() {
    let c = Ctx::new().await;
    let resp = c
        .app
        .clone()
        .oneshot(stream_req("/v1/stream/alerts", &c.alice))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    tcg_query_api::revoke_key(&c.store, &c.alice).await.unwrap();
    // The stream checks its key every second (`stream_key_recheck`).
    let text = next_text(&mut body).await;
    assert!(text.starts_with("event: revoked\n"), "{text}");
    assert!(ended(&mut body).await, "the revoked key's stream went on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_keys_stream_ends_once_the_auth_cache_forgets_the_key() {
    let config = tcg_query_api::ApiConfig {
        auth_cache_ttl: Duration::from_millis(300),
        stream_key_recheck: Duration::from_millis(100),
        ..test_config()
    };
    let c = Ctx::with(config, |s| s).await;
    let resp = c
        .app
        .clone()
        .oneshot(stream_req("/v1/stream/ticks", &c.bob))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    // Revoked in the store (as another instance's `keys revoke` would): this instance still has
    // the key cached, for at most the cache's time-to-live.
    tcg_query_api::revoke_key(&c.store, &c.bob).await.unwrap();
    let text = next_text(&mut body).await;
    assert!(text.starts_with("event: revoked\n"), "{text}");
    assert!(ended(&mut body).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_listening_server_answers() {
    let c = Ctx::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = c.app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let r = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{base}/v1/cards/1001"))
        .bearer_auth(&c.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["card"]["name"], "Charizard");
    let r = client
        .get(format!("{base}/v1/cards/1001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = client
        .post(format!("{base}/v1/portfolios"))
        .bearer_auth(&c.alice)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    server.abort();
}
