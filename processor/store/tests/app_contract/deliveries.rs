//! The [`DeliveryStore`] contract: the outbox, fan-out, claims with leases, attempts and their
//! consequences, endpoint health; and several stores sharing one database.

use std::collections::HashSet;

use tcg_schemas::{AlertEvent, AlertRule, Timestamp, UserId};
use tcg_store::*;

use crate::{accounts::hook, alerts::*, fixtures::*};

/// An owner with endpoints `h1`, `h2` (enabled, created in that order) and `h3` (disabled), a
/// rule, and another owner with none.
pub struct Setup {
    pub owner: UserId,
    pub rule: AlertRule,
    pub lonely: AlertRule,
}

pub async fn setup(store: &dyn AppStore, ids: Ids) -> Setup {
    let owner = ids.user("dan");
    for (n, id) in ["h1", "h2"].iter().enumerate() {
        store
            .insert_webhook(&hook(id, &owner, n as i64))
            .await
            .unwrap();
    }
    let off = Webhook {
        enabled: false,
        ..hook("h3", &owner, 3)
    };
    store.insert_webhook(&off).await.unwrap();
    Setup {
        rule: rule(ids, 1, &owner, "watch"),
        lonely: rule(ids, 2, &ids.user("nobody"), "unheard"),
        owner,
    }
}

fn attempt(d: &DueDelivery, n: u32, secs: i64, resolution: AttemptResolution) -> AttemptRecord {
    let ok = resolution == AttemptResolution::Delivered;
    AttemptRecord {
        alert_id: d.alert_id.clone(),
        webhook_id: d.webhook_id.clone(),
        attempt: n,
        attempted_at: at(secs),
        latency_us: 1234,
        outcome: if ok { "delivered" } else { "http_error" }.into(),
        status_code: Some(if ok { 204 } else { 500 }),
        error: (!ok).then(|| format!("boom {n}")),
        response_body: Some("body".into()),
        resolution,
    }
}

fn keys(ds: &[DueDelivery]) -> HashSet<(String, String)> {
    ds.iter()
        .map(|d| (d.alert_id.clone(), d.webhook_id.clone()))
        .collect()
}

fn pending(h: &[WebhookHealth], id: &str) -> u64 {
    h.iter()
        .find(|x| x.webhook_id == id)
        .unwrap()
        .pending_deliveries
}

/// Fan-out per enabled endpoint, idempotent; claims oldest due first, leased, handed out again
/// once the lease ends; `next_due` and `backlog` along the way.
pub async fn fan_out_and_claims_with_leases(store: &dyn AppStore, ids: Ids) {
    let s = setup(store, ids).await;
    assert_eq!(store.backlog().await.unwrap(), 0);
    assert_eq!(store.next_due().await.unwrap(), None);
    assert_eq!(store.fan_out(at(0), 10).await.unwrap(), FanOut::default());

    let alerts: Vec<AlertEvent> = (0..3).map(|n| alert(ids, &s.rule, n * 60)).collect();
    store.write_alerts(&alerts).await.unwrap();
    assert_eq!(store.backlog().await.unwrap(), 3);
    assert_eq!(
        store.next_due().await.unwrap(),
        Some(Timestamp::from_micros(i64::MIN))
    );
    let f = store.fan_out(at(100), 2).await.unwrap();
    assert_eq!((f.alerts, f.deliveries), (2, 4));
    assert_eq!(store.backlog().await.unwrap(), 5);
    let f = store.fan_out(at(100), 0).await.unwrap();
    assert_eq!((f.alerts, f.deliveries), (1, 2), "a limit of 0 takes one");
    assert_eq!(store.next_due().await.unwrap(), Some(at(100)));
    assert_eq!(store.fan_out(at(100), 10).await.unwrap(), FanOut::default());
    // A replayed alert is not queued again; an owner without endpoints gets no delivery.
    store.write_alerts(&alerts).await.unwrap();
    store
        .write_alerts(&[alert(ids, &s.lonely, 0)])
        .await
        .unwrap();
    let f = store.fan_out(at(100), 10).await.unwrap();
    assert_eq!((f.alerts, f.deliveries), (1, 0));
    assert_eq!(store.backlog().await.unwrap(), 6);

    assert!(
        store
            .claim_due(at(99), 10, at(160))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_due(at(100), 0, at(160))
            .await
            .unwrap()
            .is_empty()
    );
    let first = store.claim_due(at(100), 4, at(160)).await.unwrap();
    assert_eq!(first.len(), 4);
    for d in &first {
        assert_eq!(d.attempts, 0);
        assert_eq!(d.url, format!("https://example.test/{}", d.webhook_id));
        assert_eq!(d.secret, format!("whsec_{}", d.webhook_id));
        assert_eq!(
            (d.previous_secret.as_ref(), d.previous_secret_until),
            (None, None)
        );
        let a: AlertEvent = serde_json::from_str(&d.alert_json).unwrap();
        assert!(alerts.contains(&a));
        assert_eq!(a.id.to_string(), d.alert_id);
        assert!(d.webhook_id == "h1" || d.webhook_id == "h2");
    }
    let rest = store.claim_due(at(100), 10, at(160)).await.unwrap();
    assert_eq!(rest.len(), 2);
    assert!(keys(&first).is_disjoint(&keys(&rest)));
    assert!(
        store
            .claim_due(at(159), 10, at(200))
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    assert_eq!(store.next_due().await.unwrap(), Some(at(160)));
    assert_eq!(store.backlog().await.unwrap(), 6, "leased ones are pending");
    let again = store.claim_due(at(160), 10, at(220)).await.unwrap();
    assert_eq!(keys(&again), &keys(&first) | &keys(&rest));
    let health = store.webhook_health(&s.owner, None).await.unwrap();
    assert_eq!(
        (
            pending(&health, "h1"),
            pending(&health, "h2"),
            pending(&health, "h3")
        ),
        (3, 3, 0)
    );
}

/// Delivered ends a delivery for good; RetryAt makes it due then; a failure streak older than
/// the limit disables the endpoint and abandons what is pending for it; the attempt log pages.
pub async fn attempts_retries_and_failure_streaks(store: &dyn AppStore, ids: Ids) {
    let s = setup(store, ids).await;
    let (a0, a1) = (alert(ids, &s.rule, 0), alert(ids, &s.rule, 60));
    store.write_alerts(&[a0.clone(), a1.clone()]).await.unwrap();
    store.fan_out(at(100), 10).await.unwrap();
    let due = store.claim_due(at(100), 10, at(160)).await.unwrap();
    assert_eq!(due.len(), 4);
    let h1: Vec<_> = due.iter().filter(|d| d.webhook_id == "h1").collect();
    let h2: Vec<_> = due.iter().filter(|d| d.webhook_id == "h2").collect();
    const HOUR_US: i64 = 3_600_000_000;

    let r = store
        .record_attempts(
            &[
                attempt(h1[0], 1, 101, AttemptResolution::Delivered),
                attempt(h2[0], 1, 102, AttemptResolution::RetryAt(at(130))),
            ],
            HOUR_US,
        )
        .await
        .unwrap();
    assert_eq!(
        r,
        RecordReport {
            recorded: 2,
            disabled: vec![]
        }
    );
    let health = store.webhook_health(&s.owner, None).await.unwrap();
    assert_eq!((pending(&health, "h1"), pending(&health, "h2")), (1, 2));
    let h2h = health.iter().find(|x| x.webhook_id == "h2").unwrap();
    assert_eq!(h2h.failing_since, Some(at(102)));
    // A delivered one is never recorded (nor sent) again.
    let r = store
        .record_attempts(
            &[attempt(h1[0], 2, 103, AttemptResolution::RetryAt(at(200)))],
            HOUR_US,
        )
        .await
        .unwrap();
    assert_eq!(r.recorded, 0);
    // Nor is an attempt of a delivery that does not exist.
    let ghost = DueDelivery {
        alert_id: "no-such-alert".into(),
        ..h1[0].clone()
    };
    let r = store
        .record_attempts(
            &[attempt(&ghost, 1, 103, AttemptResolution::Delivered)],
            HOUR_US,
        )
        .await
        .unwrap();
    assert_eq!(r.recorded, 0);
    assert!(
        store
            .claim_due(at(129), 10, at(300))
            .await
            .unwrap()
            .is_empty(),
        "the retry is due at 130 and the others are leased until 160"
    );
    let retry = store.claim_due(at(130), 10, at(190)).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(
        (
            retry[0].alert_id.as_str(),
            retry[0].webhook_id.as_str(),
            retry[0].attempts
        ),
        (h2[0].alert_id.as_str(), "h2", 1)
    );

    // A success of another delivery ends h2's streak; the next failure starts a new one.
    store
        .record_attempts(
            &[attempt(h2[1], 1, 140, AttemptResolution::Delivered)],
            HOUR_US,
        )
        .await
        .unwrap();
    let health = store.webhook_health(&s.owner, Some("h2")).await.unwrap();
    assert_eq!(health[0].failing_since, None);
    let r = store
        .record_attempts(
            &[attempt(
                &retry[0],
                2,
                150,
                AttemptResolution::RetryAt(at(4000)),
            )],
            HOUR_US,
        )
        .await
        .unwrap();
    assert!(r.disabled.is_empty());
    let r = store
        .record_attempts(
            &[attempt(
                &retry[0],
                3,
                3_750,
                AttemptResolution::RetryAt(at(8000)),
            )],
            HOUR_US,
        )
        .await
        .unwrap();
    assert_eq!(r.recorded, 1);
    assert_eq!(r.disabled.len(), 1);
    assert_eq!(r.disabled[0].webhook_id, "h2");
    assert!(
        r.disabled[0]
            .reason
            .starts_with("failing continuously since")
            && r.disabled[0].reason.contains("boom 3"),
        "{}",
        r.disabled[0].reason
    );
    let h = store.webhook(&s.owner, "h2").await.unwrap().unwrap();
    assert!(!h.enabled);
    let health = store.webhook_health(&s.owner, Some("h2")).await.unwrap();
    assert_eq!(
        health[0].disabled_reason.as_deref(),
        Some(r.disabled[0].reason.as_str())
    );
    assert_eq!(health[0].disabled_at, Some(at(3_750)));
    assert_eq!(health[0].failing_since, Some(at(150)));
    assert_eq!(health[0].pending_deliveries, 0, "abandoned");
    assert!(
        store
            .claim_due(at(9000), 10, at(9100))
            .await
            .unwrap()
            .iter()
            .all(|d| d.webhook_id == "h1")
    );

    // The log: newest first, paged by attempt id.
    let log = store
        .webhook_attempts(&s.owner, "h2", 10, None)
        .await
        .unwrap()
        .unwrap();
    let nums: Vec<_> = log.iter().map(|a| a.attempt).collect();
    assert_eq!(nums, [3, 2, 1, 1]);
    assert!(log.windows(2).all(|w| w[0].attempt_id > w[1].attempt_id));
    let last = &log[0];
    assert_eq!(
        (
            last.alert_id.as_str(),
            last.attempted_at,
            last.latency_us,
            last.outcome.as_str(),
            last.status_code,
            last.error.as_deref(),
            last.response_body.as_deref()
        ),
        (
            h2[0].alert_id.as_str(),
            at(3_750),
            1234,
            "http_error",
            Some(500),
            Some("boom 3"),
            Some("body")
        )
    );
    let page = store
        .webhook_attempts(&s.owner, "h2", 2, Some(log[1].attempt_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page, log[2..4].to_vec());
    let one = store
        .webhook_attempts(&s.owner, "h2", 0, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one, log[..1].to_vec(), "a limit of 0 gives one");
    let fired = [a0.id.to_string(), a1.id.to_string()];
    assert!(log.iter().all(|x| fired.contains(&x.alert_id)));
}

/// GiveUp fails a delivery; DisableEndpoint disables at once with its reason; enabling clears
/// the health; the owner disabling abandons what is pending.
pub async fn give_up_disable_and_enable(store: &dyn AppStore, ids: Ids) {
    let s = setup(store, ids).await;
    store
        .write_alerts(&[alert(ids, &s.rule, 0), alert(ids, &s.rule, 60)])
        .await
        .unwrap();
    store.fan_out(at(100), 10).await.unwrap();
    let due = store.claim_due(at(100), 10, at(160)).await.unwrap();
    let h1: Vec<_> = due.iter().filter(|d| d.webhook_id == "h1").collect();
    let h2: Vec<_> = due.iter().filter(|d| d.webhook_id == "h2").collect();
    let r = store
        .record_attempts(
            &[attempt(h1[0], 5, 101, AttemptResolution::GiveUp)],
            i64::MAX,
        )
        .await
        .unwrap();
    assert_eq!(
        r,
        RecordReport {
            recorded: 1,
            disabled: vec![]
        }
    );
    assert_eq!(store.backlog().await.unwrap(), 3);
    let gone = AttemptResolution::DisableEndpoint("410 Gone".into());
    let r = store
        .record_attempts(&[attempt(h2[0], 1, 102, gone.clone())], i64::MAX)
        .await
        .unwrap();
    assert_eq!(
        r.disabled,
        vec![DisabledEndpoint {
            webhook_id: "h2".into(),
            reason: "410 Gone".into()
        }]
    );
    assert_eq!(
        store.backlog().await.unwrap(),
        1,
        "h2's other delivery abandoned"
    );
    // Disabled already: a second disabling attempt reports nothing new.
    let r = store
        .record_attempts(&[attempt(h2[1], 1, 103, gone)], i64::MAX)
        .await
        .unwrap();
    assert!(r.disabled.is_empty());

    let on = WebhookPatch {
        enabled: Some(true),
        ..WebhookPatch::default()
    };
    let h = store
        .update_webhook(&s.owner, "h2", &on, at(200))
        .await
        .unwrap()
        .unwrap();
    assert!(h.enabled);
    let health = store.webhook_health(&s.owner, Some("h2")).await.unwrap();
    assert_eq!(
        (
            health[0].disabled_reason.as_ref(),
            health[0].disabled_at,
            health[0].failing_since,
            health[0].pending_deliveries
        ),
        (None, None, None, 0),
        "enabled again: health cleared, abandoned deliveries stay abandoned"
    );

    let off = WebhookPatch {
        enabled: Some(false),
        ..WebhookPatch::default()
    };
    store
        .update_webhook(&s.owner, "h1", &off, at(201))
        .await
        .unwrap();
    assert_eq!(store.backlog().await.unwrap(), 0);
    let health = store.webhook_health(&s.owner, Some("h1")).await.unwrap();
    assert_eq!(health[0].disabled_reason, None, "disabled by its owner");
    assert!(
        store
            .claim_due(at(1000), 10, at(1100))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Deleting an endpoint deletes its deliveries and attempts; a rotated secret is handed out
/// with the previous one while it is honoured.
pub async fn delete_and_rotation_reach_the_outbox(store: &dyn AppStore, ids: Ids) {
    let s = setup(store, ids).await;
    store.write_alerts(&[alert(ids, &s.rule, 0)]).await.unwrap();
    store.fan_out(at(100), 10).await.unwrap();
    store
        .rotate_webhook_secret(&s.owner, "h1", "whsec_new", at(500), at(100))
        .await
        .unwrap()
        .unwrap();
    let due = store.claim_due(at(100), 10, at(160)).await.unwrap();
    let d1 = due.iter().find(|d| d.webhook_id == "h1").unwrap();
    assert_eq!(
        (
            d1.secret.as_str(),
            d1.previous_secret.as_deref(),
            d1.previous_secret_until
        ),
        ("whsec_new", Some("whsec_h1"), Some(at(500)))
    );
    let d2 = due.iter().find(|d| d.webhook_id == "h2").unwrap();
    store
        .record_attempts(
            &[attempt(d2, 1, 101, AttemptResolution::RetryAt(at(120)))],
            i64::MAX,
        )
        .await
        .unwrap();
    assert_eq!(store.backlog().await.unwrap(), 2);
    assert!(store.delete_webhook(&s.owner, "h2").await.unwrap());
    assert_eq!(store.backlog().await.unwrap(), 1);
    assert_eq!(store.next_due().await.unwrap(), Some(at(160)));
    assert!(
        store
            .webhook_attempts(&s.owner, "h2", 10, None)
            .await
            .unwrap()
            .is_none()
    );
    store
        .insert_webhook(&hook("h2", &s.owner, 9))
        .await
        .unwrap();
    let log = store
        .webhook_attempts(&s.owner, "h2", 10, None)
        .await
        .unwrap();
    assert_eq!(log, Some(vec![]), "the old attempts went with the endpoint");
}

/// Two stores on one database claim at the same time: every delivery is handed to exactly
/// one of them; fan-out by both at once takes every alert once.
pub async fn two_stores_share_the_outbox(a: &dyn AppStore, b: &dyn AppStore, ids: Ids) {
    let s = setup(a, ids).await;
    let alerts: Vec<_> = (0..60).map(|n| alert(ids, &s.rule, n)).collect();
    a.write_alerts(&alerts).await.unwrap();
    let fan = async |st: &dyn AppStore| {
        let (mut alerts, mut deliveries) = (0, 0);
        loop {
            let f = st.fan_out(at(100), 7).await.unwrap();
            if f.alerts == 0 {
                return (alerts, deliveries);
            }
            alerts += f.alerts;
            deliveries += f.deliveries;
        }
    };
    let ((aa, ad), (ba, bd)) = tokio::join!(fan(a), fan(b));
    assert_eq!(
        (aa + ba, ad + bd),
        (60, 120),
        "{aa}+{ba} alerts, {ad}+{bd} deliveries"
    );

    let claim = async |st: &dyn AppStore| {
        let mut got = Vec::new();
        loop {
            let batch = st.claim_due(at(100), 5, at(10_000)).await.unwrap();
            if batch.is_empty() {
                return got;
            }
            got.extend(batch);
        }
    };
    let (ga, gb) = tokio::join!(claim(a), claim(b));
    let (ka, kb) = (keys(&ga), keys(&gb));
    assert_eq!(
        ka.len() + kb.len(),
        ga.len() + gb.len(),
        "no delivery twice to one store"
    );
    assert!(ka.is_disjoint(&kb), "a delivery handed to both stores");
    assert_eq!(ka.len() + kb.len(), 120);

    let record = async |st: &dyn AppStore, got: &[DueDelivery]| {
        let records: Vec<_> = got
            .iter()
            .map(|d| attempt(d, 1, 101, AttemptResolution::Delivered))
            .collect();
        for chunk in records.chunks(9) {
            st.record_attempts(chunk, i64::MAX).await.unwrap();
        }
    };
    tokio::join!(record(a, &ga), record(b, &gb));
    assert_eq!(a.backlog().await.unwrap(), 0);
    assert_eq!(b.next_due().await.unwrap(), None);
    let log = a
        .webhook_attempts(&s.owner, "h1", 1000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(log.len(), 60);
}
