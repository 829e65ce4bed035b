//! Delivery against local receivers on 127.0.0.1 (allowed explicitly by the test config).
#![allow(clippy::unwrap_used)]

mod common;

use std::{sync::atomic::Ordering, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tcg_schemas::Timestamp;
use tcg_store::AccountStore;
use tcg_webhooks::{Dispatcher, DispatcherConfig, RunReport, WebhookHeaders, verify};

fn independent_signature(secret: &str, id: &str, ts: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_verifies_with_a_standard_hmac_and_notify_is_immediate() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    env.webhook(&format!("http://{addr}/hook")).await;
    // A long poll interval: only the notifier can make the delivery quick.
    let config = DispatcherConfig {
        poll_interval: Duration::from_secs(30),
        ..config()
    };
    let d = Dispatcher::new(env.store.clone(), config).unwrap();
    let notifier = d.notifier();
    let running = start(d);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let ids = env.alerts(0, 1).await;
    notifier.notify();
    assert!(eventually(5, async || recv.delivered_total() == 1).await);
    let fast = started.elapsed();
    assert!(fast < Duration::from_secs(2), "fast path took {fast:?}");

    let (headers, body) = recv.last();
    assert_eq!(headers["webhook-id"], ids[0]);
    assert_eq!(headers["content-type"], "application/json");
    let ts = &headers["webhook-timestamp"];
    let now = chrono::Utc::now().timestamp();
    assert!((now - ts.parse::<i64>().unwrap()).abs() < 60);
    assert_eq!(
        headers["webhook-signature"],
        independent_signature(SECRET, &ids[0], ts, &body)
    );
    let parsed =
        WebhookHeaders::from_pairs(headers.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
    verify(
        &[SECRET],
        &parsed,
        &body,
        now,
        Some(Duration::from_secs(300)),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["type"], "alert.fired");
    assert_eq!(json["data"]["id"], ids[0]);
    let report = running.stop().await;
    assert_eq!((report.attempts, report.delivered), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_then_back_gets_each_alert_once_per_endpoint_across_a_restart() {
    let env = Env::new();
    // A port with nothing listening yet.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let a = env.webhook(&format!("http://127.0.0.1:{port}/a")).await;
    let b = env.webhook(&format!("http://127.0.0.1:{port}/b")).await;
    let ids = env.alerts(0, 20).await;

    let first = start(Dispatcher::new(env.store.clone(), config()).unwrap());
    // Attempts fail (connection refused) and are recorded.
    assert!(
        eventually(10, async || {
            let log = env
                .store
                .webhook_attempts(&env.owner, &a, 1000, None)
                .await
                .unwrap()
                .unwrap();
            log.len() >= 60 && log.iter().all(|x| x.outcome == "network")
        })
        .await
    );
    let report = first.stop().await;
    assert_eq!(report.delivered, 0);
    assert!(report.attempts >= 60);

    // The receiver comes back; a new dispatcher on the same file (a restarted process).
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let recv = Receiver::default();
    let _stop = serve_on(listener, recv.clone());
    let second = start(Dispatcher::new(env.reopen(), config()).unwrap());
    assert!(eventually(20, async || recv.delivered_total() == 40).await);
    // Nothing more arrives: every delivery is recorded as delivered.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let report = second.stop().await;
    assert_eq!(report.delivered, 40);
    let counts = recv.counts();
    assert_eq!(counts.len(), 40);
    for id in &ids {
        for path in ["/a", "/b"] {
            assert_eq!(counts[&(path.to_owned(), id.clone())], 1, "{path} {id}");
        }
    }
    assert_eq!(recv.requests(), 40);
    // A third start sends nothing again.
    let third = start(Dispatcher::new(env.reopen(), config()).unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(third.stop().await.attempts, 0);
    let health = env
        .store
        .webhook_health(&env.owner, Some(&b))
        .await
        .unwrap();
    assert_eq!(health[0].pending_deliveries, 0);
    assert_eq!(health[0].failing_since, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_times_out_and_is_retried_with_the_same_id() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    recv.0.slow.store(1, Ordering::SeqCst);
    recv.0.delay_ms.store(2000, Ordering::SeqCst);
    let hook = env.webhook(&format!("http://{addr}/slow")).await;
    let ids = env.alerts(0, 1).await;
    let config = DispatcherConfig {
        timeout: Duration::from_millis(300),
        claim_lease: Duration::from_secs(1),
        ..config()
    };
    let running = start(Dispatcher::new(env.store.clone(), config).unwrap());
    assert!(eventually(10, async || recv.delivered_total() >= 1).await);
    running.stop().await;
    let log = env
        .store
        .webhook_attempts(&env.owner, &hook, 10, None)
        .await
        .unwrap()
        .unwrap();
    // Newest first.
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!((log[1].attempt, log[1].outcome.as_str()), (1, "timeout"));
    assert!(log[1].latency_us >= 290_000 && log[1].latency_us < 1_500_000);
    assert_eq!((log[0].attempt, log[0].outcome.as_str()), (2, "delivered"));
    assert_eq!(log[0].status_code, Some(204));
    assert!(log.iter().all(|a| a.alert_id == ids[0]));
    // The retry carried the same id.
    assert_eq!(recv.last().0["webhook-id"], ids[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_endpoint_with_a_visible_reason() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    recv.0.status.store(410, Ordering::SeqCst);
    let hook = env.webhook(&format!("http://{addr}/gone")).await;
    env.alerts(0, 3).await;
    let running = start(Dispatcher::new(env.store.clone(), config()).unwrap());
    assert!(
        eventually(10, async || {
            !env.store
                .webhook(&env.owner, &hook)
                .await
                .unwrap()
                .unwrap()
                .enabled
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.alerts(10, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = running.stop().await;
    assert_eq!(report.endpoints_disabled, 1);
    let health = env
        .store
        .webhook_health(&env.owner, Some(&hook))
        .await
        .unwrap();
    assert!(
        health[0]
            .disabled_reason
            .as_deref()
            .unwrap()
            .contains("410"),
        "{health:?}"
    );
    assert_eq!(health[0].pending_deliveries, 0);
    // At most the first page in flight reached it; nothing after the disable.
    assert!(recv.requests() <= 3, "{}", recv.requests());
    let log = env
        .store
        .webhook_attempts(&env.owner, &hook, 10, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        log.iter()
            .all(|a| a.outcome == "gone" && a.status_code == Some(410))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_streak_longer_than_the_limit_disables() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    recv.0.status.store(500, Ordering::SeqCst);
    let hook = env.webhook(&format!("http://{addr}/err")).await;
    env.alerts(0, 1).await;
    let config = DispatcherConfig {
        disable_after: Duration::from_millis(400),
        ..config()
    };
    let running = start(Dispatcher::new(env.store.clone(), config).unwrap());
    assert!(
        eventually(10, async || {
            !env.store
                .webhook(&env.owner, &hook)
                .await
                .unwrap()
                .unwrap()
                .enabled
        })
        .await
    );
    running.stop().await;
    let health = env
        .store
        .webhook_health(&env.owner, Some(&hook))
        .await
        .unwrap();
    let reason = health[0].disabled_reason.clone().unwrap();
    assert!(reason.contains("failing continuously since"), "{reason}");
    assert!(reason.contains("HTTP 500"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_refused_by_default_and_accepted_when_allowed() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    let literal = env.webhook(&format!("http://{addr}/literal")).await;
    let named = env
        .webhook(&format!("http://localhost:{}/named", addr.port()))
        .await;
    env.alerts(0, 1).await;
    let refusing = DispatcherConfig {
        allow_cidrs: Vec::new(),
        retry_schedule: vec![Duration::ZERO],
        ..config()
    };
    let running = start(Dispatcher::new(env.store.clone(), refusing).unwrap());
    for hook in [&literal, &named] {
        assert!(
            eventually(10, async || {
                env.store
                    .webhook_attempts(&env.owner, hook, 10, None)
                    .await
                    .unwrap()
                    .unwrap()
                    .len()
                    == 1
            })
            .await
        );
        let log = env
            .store
            .webhook_attempts(&env.owner, hook, 10, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(log[0].outcome, "refused", "{log:?}");
        assert!(
            log[0].error.as_deref().unwrap().contains("loopback"),
            "{log:?}"
        );
    }
    running.stop().await;
    assert_eq!(recv.requests(), 0);

    // Allowed explicitly: delivered.
    env.alerts(100, 1).await;
    let allowing = DispatcherConfig {
        allow_cidrs: vec!["127.0.0.0/8".into(), "::1/128".into()],
        ..config()
    };
    let running = start(Dispatcher::new(env.store.clone(), allowing).unwrap());
    assert!(eventually(10, async || recv.delivered_total() == 2).await);
    running.stop().await;
    let paths: Vec<String> = recv.counts().into_keys().map(|(p, _)| p).collect();
    assert!(paths.contains(&"/literal".to_owned()) && paths.contains(&"/named".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_sends_both_signatures_during_the_grace_period() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    let hook = env.webhook(&format!("http://{addr}/rot")).await;
    let new_secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=";
    let now = Timestamp::from(chrono::Utc::now());
    env.store
        .rotate_webhook_secret(&env.owner, &hook, new_secret, now.plus_secs(3600), now)
        .await
        .unwrap()
        .unwrap();
    let ids = env.alerts(0, 1).await;
    let running = start(Dispatcher::new(env.store.clone(), config()).unwrap());
    assert!(eventually(10, async || recv.delivered_total() == 1).await);
    let (headers, body) = recv.last();
    let ts = &headers["webhook-timestamp"];
    let sigs: Vec<&str> = headers["webhook-signature"].split(' ').collect();
    assert_eq!(
        sigs,
        vec![
            independent_signature(new_secret, &ids[0], ts, &body).as_str(),
            independent_signature(SECRET, &ids[0], ts, &body).as_str(),
        ]
    );
    let parsed =
        WebhookHeaders::from_pairs(headers.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
    let t = ts.parse().unwrap();
    assert_eq!(verify(&[SECRET], &parsed, &body, t, None).unwrap(), 0);
    assert_eq!(verify(&[new_secret], &parsed, &body, t, None).unwrap(), 0);

    // After the grace period only the new secret signs.
    let now = Timestamp::from(chrono::Utc::now());
    env.store
        .rotate_webhook_secret(&env.owner, &hook, new_secret, now.minus_secs(1), now)
        .await
        .unwrap()
        .unwrap();
    env.alerts(1, 1).await;
    assert!(eventually(10, async || recv.delivered_total() == 2).await);
    running.stop().await;
    let (headers, _) = recv.last();
    assert_eq!(headers["webhook-signature"].split(' ').count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_10000_is_delivered_with_bounded_concurrency_and_memory() {
    const N: u64 = 10_000;
    const CONCURRENCY: usize = 8;
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    // Each request takes a moment, so the limit is actually reached.
    recv.0.slow.store(u32::MAX, Ordering::SeqCst);
    recv.0.delay_ms.store(1, Ordering::SeqCst);
    env.webhook(&format!("http://{addr}/burst")).await;
    env.alerts(0, N).await;
    let config = DispatcherConfig {
        concurrency: CONCURRENCY,
        page_size: 256,
        timeout: Duration::from_secs(5),
        claim_lease: Duration::from_secs(30),
        record_batch: 64,
        ..config()
    };
    let (claimed_bound, unrecorded_bound) = (
        RunReport::claimed_bound(&config),
        RunReport::unrecorded_bound(&config),
    );
    let started = std::time::Instant::now();
    let running = start(Dispatcher::new(env.store.clone(), config).unwrap());
    assert!(eventually(300, async || recv.delivered_total() == N as usize).await);
    let elapsed = started.elapsed();
    let report = running.stop().await;
    let rate = N as f64 / elapsed.as_secs_f64();
    eprintln!(
        "THROUGHPUT: {N} alerts to one endpoint in {:.2} s = {rate:.0} alerts/s \
         (concurrency {CONCURRENCY}, receiver max in flight {}, 1 ms receiver delay, {} build)",
        elapsed.as_secs_f64(),
        recv.max_in_flight(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert_eq!(report.delivered, N);
    assert_eq!(recv.requests(), N);
    assert!(recv.counts().values().all(|c| *c == 1));
    let max = recv.max_in_flight();
    assert!(max <= CONCURRENCY as i64, "saw {max} in flight");
    assert!(max >= 2, "concurrency was not used: {max}");
    // Memory: the deliveries held in memory (claimed and queued, or being POSTed) and the
    // finished attempts on their way to the store stay within bounds set by the configuration
    // (16 and 8 + 64 + 64 here), never near the 10,000 of the backlog.
    assert_eq!((claimed_bound, unrecorded_bound), (16, 136));
    assert!(
        report.peak_claimed <= claimed_bound,
        "held {} deliveries",
        report.peak_claimed
    );
    assert!(report.peak_claimed >= CONCURRENCY as u64, "{report:?}");
    assert!(
        report.peak_unrecorded <= unrecorded_bound,
        "{} attempts awaited recording",
        report.peak_unrecorded
    );
    assert!(report.peak_unrecorded >= 1, "{report:?}");
}
