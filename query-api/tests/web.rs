//! The built-in web page (`/`, `/assets/{file}`: no key, nothing external) and the
//! `?access_token=` alternative to `Authorization` that only the stream routes accept.

#![allow(clippy::unwrap_used)]

mod common;

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use common::*;
use tower::ServiceExt;

#[tokio::test]
async fn the_page_and_its_assets_need_no_key_and_load_nothing_external() {
    let c = Ctx::new().await;
    let r = c.call(Method::GET, "/", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/html"));
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
    let html = r.text();
    for asset in ["/assets/app.js", "/assets/app.css", "/assets/favicon.svg"] {
        assert!(html.contains(asset), "{asset}");
    }
    for (file, media) in [
        ("app.js", "text/javascript"),
        ("api.js", "text/javascript"),
        ("chart.js", "text/javascript"),
        ("app.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let r = c
            .call(Method::GET, &format!("/assets/{file}"), None, None)
            .await;
        assert_eq!(r.status, 200, "{file}");
        assert!(
            r.content_type.starts_with(media),
            "{file}: {}",
            r.content_type
        );
        // The SVG namespace is a name, not a place to load from.
        let text = r.text().replace("http://www.w3.org/2000/svg", "");
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{file} refers to another origin"
        );
    }
    let r = c.call(Method::GET, "/assets/nope.js", None, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["status"], 404);
}

async fn status_of(c: &Ctx, uri: &str) -> (u16, String) {
    let resp = c
        .app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), ct)
}

#[tokio::test]
async fn access_token_works_on_the_stream_routes_only() {
    let c = Ctx::new().await;
    let key = c.alice.clone();
    for uri in [
        format!("/v1/stream/ticks?access_token={key}"),
        format!("/v1/stream/ticks?product_id=1001&access_token={key}"),
        format!("/v1/stream/alerts?access_token={key}"),
    ] {
        let (status, ct) = status_of(&c, &uri).await;
        assert_eq!(status, 200, "{uri}");
        assert!(ct.starts_with("text/event-stream"), "{uri}: {ct}");
    }
    // A wrong token is refused; elsewhere the parameter is no key at all.
    let (status, _) = status_of(&c, "/v1/stream/alerts?access_token=tcg_nope").await;
    assert_eq!(status, 401);
    let (status, _) = status_of(&c, &format!("/v1/cards?access_token={key}")).await;
    assert_eq!(status, 401);
    let (status, _) = status_of(&c, &format!("/v1/alerts?access_token={key}")).await;
    assert_eq!(status, 401);
    // Other query parameters of the alert stream are still refused.
    let (status, _) = status_of(&c, &format!("/v1/stream/alerts?access_token={key}&x=1")).await;
    assert_eq!(status, 400);
}
