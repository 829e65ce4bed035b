//! Delivery safety against local receivers: redirects are not followed, response bodies are
//! read only up to the cap, and internal targets are refused at delivery time (names resolved
//! then, DNS rebinding; literal cloud-metadata addresses).
//!
//! Time: where the retry schedule matters the dispatcher runs on a manual clock
//! ([`Dispatcher::with_clock`]) that the test advances, so the real schedule (5 s, 5 min) is
//! checked exactly without waiting for it. `tokio::time::pause` is not used: the receivers are
//! real sockets and the store runs on blocking threads, and a paused clock auto-advances while
//! they are pending, firing the HTTP timeouts.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    http::{StatusCode, Uri, header},
};
use common::*;
use tcg_schemas::Timestamp;
use tcg_store::{AccountStore, DeliveryAttempt};
use tcg_webhooks::{Dispatcher, DispatcherConfig, RetrySchedule};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

async fn attempts(env: &Env, hook: &str) -> Vec<DeliveryAttempt> {
    let mut log = env
        .store
        .webhook_attempts(&env.owner, hook, 100, None)
        .await
        .unwrap()
        .unwrap();
    log.reverse(); // oldest first
    log
}

async fn all_have(env: &Env, hooks: &[String], n: usize) -> bool {
    for h in hooks {
        if attempts(env, h).await.len() < n {
            return false;
        }
    }
    true
}

/// A receiver that answers `/<code>` with that 3xx status and `Location: <to>`.
async fn redirector(to: String) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let app = Router::new().fallback(move |uri: Uri| {
        let (s, to) = (s.clone(), to.clone());
        async move {
            s.lock().unwrap().push(uri.path().to_owned());
            let code: u16 = uri.path().trim_start_matches('/').parse().unwrap();
            (
                StatusCode::from_u16(code).unwrap(),
                [(header::LOCATION, to)],
                "moved",
            )
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed_and_count_as_failures_retried_on_the_schedule() {
    let env = Env::new();
    // The redirect target: an allowed local receiver that would accept anything.
    let (target, target_addr, _t) = receiver().await;
    let (addr, seen) = redirector(format!("http://{target_addr}/stolen")).await;
    let codes = [301u16, 302, 303, 307, 308];
    let mut hooks = Vec::new();
    for code in codes {
        hooks.push(env.webhook(&format!("http://{addr}/{code}")).await);
    }
    env.alerts(0, 1).await;

    // The default schedule (0 s, 5 s, 5 min, …) on a clock only the test moves.
    let t0 = Timestamp::from(chrono::Utc::now()).as_micros();
    let clock = Arc::new(AtomicI64::new(t0));
    let c = clock.clone();
    let config = DispatcherConfig {
        retry_schedule: RetrySchedule::default().delays().to_vec(),
        ..config()
    };
    let d = Dispatcher::new(env.store.clone(), config)
        .unwrap()
        .with_clock(move || Timestamp::from_micros(c.load(Ordering::SeqCst)));
    let running = start(d);

    assert!(eventually(20, async || all_have(&env, &hooks, 1).await).await);
    for h in &hooks {
        let first = &attempts(&env, h).await[0];
        assert_eq!(first.outcome, "http_error", "{first:?}");
    }
    assert_eq!(target.requests(), 0, "a redirect was followed");
    // Not retried before it is due: 1 µs short of 5 s, a few polls later, still one attempt.
    clock.fetch_add(4_999_999, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    for h in &hooks {
        assert_eq!(attempts(&env, h).await.len(), 1);
    }
    clock.fetch_add(1, Ordering::SeqCst);
    assert!(eventually(20, async || all_have(&env, &hooks, 2).await).await);
    clock.fetch_add(300_000_000, Ordering::SeqCst);
    assert!(eventually(20, async || all_have(&env, &hooks, 3).await).await);
    running.stop().await;

    for (code, hook) in codes.iter().zip(&hooks) {
        let log = attempts(&env, hook).await;
        assert_eq!(log.len(), 3, "{code}: {log:?}");
        for (i, a) in log.iter().enumerate() {
            assert_eq!(a.attempt as usize, i + 1);
            assert_eq!(a.outcome, "http_error", "{code}: {a:?}");
            assert_eq!(a.status_code, Some(*code), "{a:?}");
            assert_eq!(a.error.as_deref(), Some(format!("HTTP {code}").as_str()));
            assert_eq!(a.response_body.as_deref(), Some("moved"));
        }
        let at: Vec<i64> = log.iter().map(|a| a.attempted_at.as_micros()).collect();
        assert_eq!(at, vec![t0, t0 + 5_000_000, t0 + 305_000_000], "{code}");
        let health = env
            .store
            .webhook_health(&env.owner, Some(hook))
            .await
            .unwrap();
        assert_eq!(health[0].pending_deliveries, 1, "still being retried");
        assert!(health[0].failing_since.is_some());
    }
    // Each redirecting endpoint was asked three times; the target of the redirect never.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), codes.len() * 3, "{seen:?}");
    assert_eq!(target.requests(), 0, "a redirect was followed");
}

const CAP: usize = 1001;
/// 1 TiB: announced by the receiver, never sent.
const HUGE: u64 = 1 << 40;

#[derive(Debug, Clone, Copy)]
enum Answer {
    /// 200, chunked, an endless stream of `x`.
    Endless,
    /// 200 with `content-length: 1 TiB`: 64 KiB of invalid UTF-8 (0xff), then nothing more.
    HugeThenStall,
}

#[derive(Debug, Default)]
struct RawStats {
    /// Body bytes the receiver managed to write.
    written: AtomicU64,
    /// The client closed the connection.
    hung_up: AtomicBool,
}

/// Reads one request (head and `content-length` body).
async fn read_request(sock: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + len {
                return true;
            }
        }
        match sock.read(&mut tmp).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

async fn answer(mut sock: TcpStream, how: Answer, stats: Arc<RawStats>) {
    if !read_request(&mut sock).await {
        return;
    }
    match how {
        Answer::Endless => {
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut chunk = format!("{:x}\r\n", 16 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b'x', 16 * 1024));
            chunk.extend_from_slice(b"\r\n");
            while sock.write_all(&chunk).await.is_ok() {
                stats.written.fetch_add(16 * 1024, Ordering::SeqCst);
            }
        }
        Answer::HugeThenStall => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {HUGE}\r\n\r\n");
            if sock.write_all(head.as_bytes()).await.is_err()
                || sock.write_all(&[0xffu8; 64 * 1024]).await.is_err()
            {
                return;
            }
            stats.written.fetch_add(64 * 1024, Ordering::SeqCst);
            // Nothing more; wait for the client to go away.
            let mut tmp = [0u8; 64];
            while let Ok(n) = sock.read(&mut tmp).await
                && n > 0
            {}
        }
    }
    stats.hung_up.store(true, Ordering::SeqCst);
}

async fn raw_receiver(how: Answer) -> (std::net::SocketAddr, Arc<RawStats>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stats = Arc::new(RawStats::default());
    let s = stats.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(answer(sock, how, s.clone()));
        }
    });
    (addr, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_bodies_are_read_only_up_to_the_cap() {
    let env = Env::new();
    let (endless_addr, endless) = raw_receiver(Answer::Endless).await;
    let (huge_addr, huge) = raw_receiver(Answer::HugeThenStall).await;
    let endless_hook = env.webhook(&format!("http://{endless_addr}/endless")).await;
    let huge_hook = env.webhook(&format!("http://{huge_addr}/huge")).await;
    env.alerts(0, 1).await;
    // A long timeout: a dispatcher that read to the end of the body would only stop at it.
    let timeout = Duration::from_secs(30);
    let config = DispatcherConfig {
        max_response_body: CAP,
        timeout,
        claim_lease: timeout * 2 + Duration::from_secs(1),
        ..config()
    };
    let running = start(Dispatcher::new(env.store.clone(), config).unwrap());
    let hooks = [endless_hook.clone(), huge_hook.clone()];
    assert!(eventually(60, async || all_have(&env, &hooks, 1).await).await);
    // Both receivers see the client hang up: it stopped reading instead of draining.
    assert!(eventually(20, async || endless.hung_up.load(Ordering::SeqCst)).await);
    assert!(eventually(20, async || huge.hung_up.load(Ordering::SeqCst)).await);
    running.stop().await;

    for hook in &hooks {
        let log = attempts(&env, hook).await;
        assert_eq!(log.len(), 1, "{log:?}");
        let a = &log[0];
        // The status decides (2xx within the timeout), whatever the body does afterwards.
        assert_eq!(
            (a.outcome.as_str(), a.status_code),
            ("delivered", Some(200))
        );
        // It did not wait for the rest of the body (which would end only at the timeout).
        assert!(
            a.latency_us < i64::try_from(timeout.as_micros()).unwrap(),
            "{a:?}"
        );
        let body = a.response_body.as_deref().unwrap();
        assert!(body.len() <= CAP, "kept {} bytes", body.len());
    }
    let endless_body = attempts(&env, &endless_hook).await[0]
        .response_body
        .clone()
        .unwrap();
    assert_eq!(endless_body, "x".repeat(CAP));
    // Invalid UTF-8 is kept lossily, and still within the cap in bytes.
    let huge_body = attempts(&env, &huge_hook).await[0]
        .response_body
        .clone()
        .unwrap();
    assert!(!huge_body.is_empty() && huge_body.chars().all(|c| c == '\u{fffd}'));
    // What the endless receiver wrote is what the socket buffers held, not a drained stream.
    let written = endless.written.load(Ordering::SeqCst);
    assert!(written < 64 << 20, "the receiver wrote {written} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_targets_stored_directly_are_refused_at_delivery() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    // Inserted straight into the store: no creation-time check ran on these.
    let targets = [
        (
            format!("http://localhost:{}/named", addr.port()),
            "loopback",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "169.254.169.254 (cloud metadata)",
        ),
        // The same address written as a decimal integer and IPv4-mapped IPv6.
        (
            "http://2852039166/latest/meta-data/".to_owned(),
            "169.254.169.254 (cloud metadata)",
        ),
        (
            "http://[::ffff:169.254.169.254]/latest/".to_owned(),
            "(cloud metadata)",
        ),
        (
            "http://[fd00:ec2::254]/latest/".to_owned(),
            "fd00:ec2::254 (cloud metadata)",
        ),
    ];
    let mut hooks = Vec::new();
    for (url, _) in &targets {
        hooks.push(env.webhook(url).await);
    }
    env.alerts(0, 1).await;
    let config = DispatcherConfig {
        allow_private: false,
        allow_cidrs: Vec::new(),
        retry_schedule: vec![Duration::ZERO, Duration::from_millis(50)],
        ..config()
    };
    let running = start(Dispatcher::new(env.store.clone(), config).unwrap());
    assert!(eventually(20, async || all_have(&env, &hooks, 2).await).await);
    running.stop().await;

    for ((url, why), hook) in targets.iter().zip(&hooks) {
        let log = attempts(&env, hook).await;
        assert_eq!(log.len(), 2, "{url}: {log:?}");
        for a in &log {
            assert_eq!(a.outcome, "refused", "{url}: {a:?}");
            assert_eq!(a.status_code, None);
            let err = a.error.as_deref().unwrap();
            assert!(
                err.contains("refused by the webhook address guard") && err.contains(why),
                "{url}: {err}"
            );
        }
        let health = env
            .store
            .webhook_health(&env.owner, Some(hook))
            .await
            .unwrap();
        assert_eq!(health[0].pending_deliveries, 0, "schedule exhausted");
    }
    assert_eq!(recv.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_rebound_to_an_internal_address_is_refused_when_delivering() {
    let env = Env::new();
    // The receiver closes every connection, so each delivery resolves the name again.
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let app = Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            (StatusCode::NO_CONTENT, [(header::CONNECTION, "close")])
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // What the name resolves to, changed by the test (DNS rebinding).
    let answer: Arc<Mutex<Vec<IpAddr>>> = Arc::new(Mutex::new(vec!["127.0.0.1".parse().unwrap()]));
    let lookups = Arc::new(AtomicU64::new(0));
    let (a, l) = (answer.clone(), lookups.clone());
    let lookup: tcg_webhooks::guard::Lookup = Arc::new(move |host: &str| {
        assert_eq!(host, "hooks.rebind.test");
        l.fetch_add(1, Ordering::SeqCst);
        Ok(a.lock().unwrap().clone())
    });
    let hook = env
        .webhook(&format!("http://hooks.rebind.test:{port}/hook"))
        .await;
    // Only the receiver's own address is allowed.
    let config = DispatcherConfig {
        allow_cidrs: vec!["127.0.0.1/32".into()],
        retry_schedule: vec![Duration::ZERO],
        ..config()
    };
    let d = Dispatcher::new(env.store.clone(), config)
        .unwrap()
        .with_dns_lookup(lookup)
        .unwrap();
    let notifier = d.notifier();
    let running = start(d);

    // While it resolves to the allowed address: delivered.
    env.alerts(0, 1).await;
    notifier.notify();
    assert!(eventually(20, async || attempts(&env, &hook).await.len() == 1).await);
    assert_eq!(attempts(&env, &hook).await[0].outcome, "delivered");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // Rebound to internal addresses: refused at delivery, nothing sent.
    let rebinds = [
        (vec!["169.254.169.254"], "169.254.169.254 (cloud metadata)"),
        (vec!["10.0.0.5"], "10.0.0.5 (private)"),
        (
            vec!["127.0.0.2", "::1"],
            "127.0.0.2 (loopback), ::1 (loopback)",
        ),
    ];
    for (i, (ips, why)) in rebinds.iter().enumerate() {
        *answer.lock().unwrap() = ips.iter().map(|s| s.parse().unwrap()).collect();
        env.alerts(10 + i as u64, 1).await;
        notifier.notify();
        assert!(eventually(20, async || attempts(&env, &hook).await.len() == i + 2).await);
        let log = attempts(&env, &hook).await;
        let last = log.last().unwrap();
        assert_eq!(last.outcome, "refused", "{last:?}");
        let err = last.error.as_deref().unwrap();
        assert!(
            err.contains("hooks.rebind.test resolves to") && err.contains(why),
            "{err}"
        );
    }
    running.stop().await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a refused address was connected to"
    );
    assert!(lookups.load(Ordering::SeqCst) >= 4);
}
