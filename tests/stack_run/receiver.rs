//! A local webhook receiver with three endpoints: `/hook` records every POST (headers and body)
//! and answers 200; `/fail` answers 500 (a failing endpoint: the dispatcher retries it);
//! `/gone` answers 410 (the dispatcher disables the endpoint).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use axum::{body::Bytes, http::HeaderMap, http::StatusCode, routing::post};

/// Every request `/hook` accepted so far.
pub type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// What the receiver saw.
#[derive(Debug, Clone, Default)]
pub struct Receiver {
    pub port: u16,
    pub accepted: Received,
    pub failed: Arc<AtomicUsize>,
    pub gone: Arc<AtomicUsize>,
}

impl Receiver {
    /// `http://127.0.0.1:PORT/PATH`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Requests answered 500 and 410 so far.
    pub fn refused(&self) -> (usize, usize) {
        (
            self.failed.load(Ordering::SeqCst),
            self.gone.load(Ordering::SeqCst),
        )
    }
}

/// Listens on a free loopback port.
pub async fn start() -> Receiver {
    let mut r = Receiver::default();
    let (accepted, failed, gone) = (r.accepted.clone(), r.failed.clone(), r.gone.clone());
    let app = axum::Router::new()
        .route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let accepted = accepted.clone();
                async move {
                    accepted.lock().expect("record").push((headers, body));
                    "ok"
                }
            }),
        )
        .route(
            "/fail",
            post(move || {
                failed.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::INTERNAL_SERVER_ERROR }
            }),
        )
        .route(
            "/gone",
            post(move || {
                gone.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::GONE }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    r.port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    r
}

/// A header's text ("" when absent).
pub fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
