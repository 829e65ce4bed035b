//! The per-endpoint delivery cap: a flooded endpoint gets at most `per_endpoint_per_minute`
//! POSTs in any minute, the deliveries beyond wait (none is dropped, none is recorded as a failed
//! attempt), and another endpoint is not held up behind the flood.
//!
//! Time: the dispatcher runs on a manual clock ([`Dispatcher::with_clock`]) that the test
//! advances a minute at a time; the cap's window, the leases and the due times all read that
//! clock, so the minutes pass at once. (`tokio::time::pause` is not used: the receiver is a real
//! socket and the store runs on blocking threads; a paused clock would auto-advance while they
//! are pending and fire the HTTP timeouts.)
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use common::*;
use tcg_schemas::{AlertEvent, Timestamp, UserId};
use tcg_store::{AccountStore, Webhook, prelude::*};
use tcg_webhooks::{Dispatcher, DispatcherConfig};

const CAP: u32 = 10;
const FLOOD: u64 = 45;
const MINUTE_US: i64 = 60_000_000;

/// POSTs the receiver answered on `path`.
fn on(recv: &Receiver, path: &str) -> usize {
    recv.counts().keys().filter(|(p, _)| p == path).count()
}

/// Another user's endpoint with five alerts of its own.
async fn quiet_endpoint(env: &Env, url: &str, now: Timestamp) {
    let other = UserId("bo".into());
    env.store
        .insert_webhook(&Webhook {
            id: uuid::Uuid::new_v4().to_string(),
            owner: other.clone(),
            url: url.to_owned(),
            description: None,
            enabled: true,
            secret: SECRET.into(),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let quiet: Vec<AlertEvent> = (1000..1005).map(|n| alert(&other, n)).collect();
    env.store.write_alerts(&quiet).await.unwrap();
}

/// Waits a few polls and checks nothing more arrived on `path` than `n`.
async fn holds_at(recv: &Receiver, path: &str, n: usize) {
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(on(recv, path), n, "more than the cap reached {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_endpoint_gets_its_cap_per_minute_and_every_delivery_in_the_end() {
    let env = Env::new();
    let (recv, addr, _stop) = receiver().await;
    let flooded = env.webhook(&format!("http://{addr}/flooded")).await;
    // Another user's endpoint, with a few alerts stored after the flood.
    let now = Timestamp::from(chrono::Utc::now());
    let ids = env.alerts(0, FLOOD).await;
    quiet_endpoint(&env, &format!("http://{addr}/quiet"), now).await;
    let t0 = now.as_micros();
    let clock = Arc::new(AtomicI64::new(t0));
    let c = clock.clone();
    let config = DispatcherConfig {
        per_endpoint_per_minute: CAP,
        ..config()
    };
    let d = Dispatcher::new(env.store.clone(), config)
        .unwrap()
        .with_clock(move || Timestamp::from_micros(c.load(Ordering::SeqCst)));
    let running = start(d);

    // The first minute: the cap on the flooded endpoint, every alert on the quiet one.
    assert!(eventually(20, async || on(&recv, "/quiet") == 5).await);
    assert!(eventually(20, async || on(&recv, "/flooded") == CAP as usize).await);
    holds_at(&recv, "/flooded", CAP as usize).await;
    // Half a minute on: the leases of the waiting deliveries ended (they are claimed again),
    // but the minute has not: still the cap.
    clock.fetch_add(MINUTE_US / 2, Ordering::SeqCst);
    holds_at(&recv, "/flooded", CAP as usize).await;
    // Each further minute lets exactly the cap through, until every alert is delivered.
    let mut expected = CAP as usize;
    let mut minutes = 1;
    while expected < FLOOD as usize {
        clock.store(t0 + minutes * MINUTE_US, Ordering::SeqCst);
        expected = (expected + CAP as usize).min(FLOOD as usize);
        assert!(
            eventually(20, async || on(&recv, "/flooded") == expected).await,
            "minute {minutes}: {} delivered, {expected} expected",
            on(&recv, "/flooded")
        );
        holds_at(&recv, "/flooded", expected).await;
        minutes += 1;
    }
    let report = running.stop().await;
    assert_eq!(minutes, 5, "45 deliveries at 10 a minute take 5 minutes");
    assert!(report.deferred > 0, "{report:?}");

    // Each alert once; no deferral was recorded as an attempt.
    let counts = recv.counts();
    for id in &ids {
        assert_eq!(counts[&("/flooded".to_owned(), id.clone())], 1, "{id}");
    }
    assert_eq!(recv.requests(), FLOOD + 5);
    let log = env
        .store
        .webhook_attempts(&env.owner, &flooded, 1000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(log.len(), FLOOD as usize);
    assert!(
        log.iter()
            .all(|a| a.attempt == 1 && a.outcome == "delivered")
    );
    // In no minute did the endpoint get more than the cap.
    let mut starts: Vec<i64> = log.iter().map(|a| a.attempted_at.as_micros()).collect();
    starts.sort_unstable();
    for (i, t) in starts.iter().enumerate() {
        let in_minute = starts[i..]
            .iter()
            .take_while(|s| **s < t + MINUTE_US)
            .count();
        assert!(
            in_minute <= CAP as usize,
            "{in_minute} POSTs in the minute from {t}"
        );
    }
}
