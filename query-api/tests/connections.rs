//! Connection hygiene of `tcg_query_api::serve` on 127.0.0.1: the header-read timeout (with
//! `/healthz` answering meanwhile), the idle timeout (a client that stops reading its stream),
//! the connection cap (503 problem+json),
//! request heads over the limits (414, 431 as problem+json), and shutdown. Real sockets and
//! short real timeouts; no assertion on how long anything took.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::*;
use tcg_query_api::{ApiConfig, ServeLimits};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tower::ServiceExt;

async fn serve_with(c: &Ctx, limits: ServeLimits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(tcg_query_api::serve(
        listener,
        c.app.clone(),
        limits,
        std::future::pending(),
    ));
    addr
}

/// Sends `GET path` on a new connection and reads the whole answer (`Connection: close`).
async fn raw_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until the server closes the connection (end of stream or a reset); false if it is
/// still open after 30 s.
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let wait = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .is_ok()
}

fn limits(config: &ApiConfig) -> ServeLimits {
    ServeLimits::from_config(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_heads_are_closed_after_the_header_timeout_while_healthz_answers() {
    let config = ApiConfig {
        header_read_timeout: Duration::from_millis(500),
        ..test_config()
    };
    let c = Ctx::with(config.clone(), |s| s).await;
    let addr = serve_with(&c, limits(&config)).await;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Half: ")
            .await
            .unwrap();
        slow.push(s);
    }
    // Another connection is served meanwhile.
    let answer = raw_get(addr, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for s in &mut slow {
        assert!(closed_by_server(s).await, "a half-sent head was kept open");
    }
    let answer = raw_get(addr, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_its_stream_is_closed_after_the_idle_timeout() {
    let config = ApiConfig {
        header_read_timeout: Duration::from_secs(3600),
        idle_timeout: Duration::from_millis(300),
        ..test_config()
    };
    let c = Ctx::with(config.clone(), |s| s).await;
    let addr = serve_with(&c, limits(&config)).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET /v1/stream/ticks HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\r\n",
        c.alice
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // Wait for the answer's head, then stop reading while ticks pour in.
    let mut first = [0u8; 12];
    s.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let series = sku_series(
        1001,
        tcg_schemas::Printing::Holofoil,
        tcg_schemas::Condition::NearMint,
    );
    let tx = c.state.tick_sender();
    for i in 0..20_000 {
        let t = tick(
            &series,
            tcg_schemas::Source::Tcgplayer,
            tcg_schemas::PriceKind::Market,
            T0 + i,
            100 + i,
        );
        let _ = tx.send(t);
        if i % 1000 == 0 {
            tokio::task::yield_now().await;
        }
    }
    // Nothing is read for longer than the idle timeout...
    tokio::time::sleep(Duration::from_secs(1)).await;
    // ...so the server has closed the connection: what is left reads to its end.
    assert!(
        closed_by_server(&mut s).await,
        "a stalled reader was kept open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_answered_503_problem_json() {
    let config = ApiConfig {
        max_connections: 4,
        ..test_config()
    };
    let c = Ctx::with(config.clone(), |s| s).await;
    let addr = serve_with(&c, c.state.serve_limits()).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let answer = raw_get(addr, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("content-type: application/problem+json"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["type"], "urn:tcgtracker:problem:overloaded");
    assert_eq!(problem["status"], 503);
    // One leaves: a slot frees up.
    drop(held.pop());
    let mut answered = false;
    for _ in 0..100 {
        if raw_get(addr, "/healthz").await.starts_with("HTTP/1.1 200") {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(answered);
    let metrics = c.state.render_metrics();
    assert!(
        metrics.contains("tcg_api_connections_refused_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn long_targets_and_large_heads_answer_414_and_431_as_problem_json() {
    let c = Ctx::new().await;
    let long = format!("/v1/cards?q={}", "a".repeat(9 * 1024));
    let r = c
        .send(
            Request::get(long.as_str())
                .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::URI_TOO_LONG);
    assert!(r.content_type.starts_with("application/problem+json"));
    assert_eq!(r.json()["type"], "urn:tcgtracker:problem:uri-too-long");
    let mut many = Request::get("/healthz");
    for i in 0..120 {
        many = many.header(format!("x-h{i}"), "1");
    }
    let r = c.send(many.body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(r.json()["type"], "urn:tcgtracker:problem:headers-too-large");
    let big = Request::get("/healthz")
        .header("x-big", "b".repeat(20 * 1024))
        .body(Body::empty())
        .unwrap();
    let resp = c.app.clone().oneshot(big).await.unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_wire_heads_between_the_apps_and_hypers_limits_are_problem_json() {
    let c = Ctx::new().await;
    let addr = serve_with(&c, c.state.serve_limits()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(20 * 1024)
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_on_shutdown() {
    let c = Ctx::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tcg_query_api::serve(
        listener,
        c.app.clone(),
        c.state.serve_limits(),
        async {
            let _ = stopped.await;
        },
    ));
    assert!(raw_get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
