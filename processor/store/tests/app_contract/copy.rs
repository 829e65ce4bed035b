//! Copying an installation's app data ([`copy_app_data`]): everything arrives as it was, a
//! second run copies nothing.

use std::collections::BTreeMap;

use tcg_schemas::{AlertEvent, Timestamp};
use tcg_store::*;

use crate::{
    accounts::{hook, key},
    alerts::{alert, rule},
    fixtures::*,
    portfolios::{event, holding, portfolio},
};

/// Alerts in the source: more than one page of the copy.
const ALERTS: i64 = 2100;

/// One of everything, and the states a copy could lose: a lone user, an admin and a revoked
/// key, a rotated secret, an endpoint disabled with a reason and one failing, portfolios with
/// holdings and events, rules, alerts (one still queued, one delivery pending).
pub async fn populate(store: &dyn AppStore, ids: Ids) {
    let (ann, ben) = (ids.user("ann"), ids.user("ben"));
    store
        .ensure_user(&ids.user("lone"), Timestamp::from_secs(5))
        .await
        .unwrap();
    let admin = ApiKeyRecord {
        admin: true,
        created_at: Timestamp::from_secs(10),
        ..key("k-ann", "pann", &ann)
    };
    let revoked = ApiKeyRecord {
        created_at: Timestamp::from_secs(20),
        revoked_at: Some(Timestamp::from_secs(25)),
        ..key("k-ben", "pben", &ben)
    };
    store.insert_api_key(&admin).await.unwrap();
    store.insert_api_key(&revoked).await.unwrap();
    for (n, id) in ["w1", "w2", "w3"].iter().enumerate() {
        store
            .insert_webhook(&hook(id, &ann, 30 + n as i64))
            .await
            .unwrap();
    }

    let r1 = rule(ids, 1, &ann, "cheap");
    let r2 = rule(ids, 2, &ben, "bens");
    store.upsert_rule(&r1).await.unwrap();
    store.upsert_rule(&r2).await.unwrap();
    store.write_alerts(&[alert(ids, &r1, 0)]).await.unwrap();
    store.fan_out(at(1), 10).await.unwrap();
    let due = store.claim_due(at(1), 10, at(60)).await.unwrap();
    let records: Vec<_> = due
        .iter()
        .map(|d| {
            let resolution = match d.webhook_id.as_str() {
                "w1" => AttemptResolution::Delivered,
                "w2" => AttemptResolution::RetryAt(at(90)),
                _ => AttemptResolution::DisableEndpoint("410 Gone".into()),
            };
            AttemptRecord {
                alert_id: d.alert_id.clone(),
                webhook_id: d.webhook_id.clone(),
                attempt: 1,
                attempted_at: at(2),
                latency_us: 10,
                outcome: "http_error".into(),
                status_code: Some(500),
                error: Some("boom".into()),
                response_body: None,
                resolution,
            }
        })
        .collect();
    let r = store.record_attempts(&records, i64::MAX).await.unwrap();
    assert_eq!(r.disabled.len(), 1);
    store
        .rotate_webhook_secret(&ann, "w2", "whsec_rotated", at(500), at(3))
        .await
        .unwrap();
    let alerts: Vec<AlertEvent> = (1..ALERTS)
        .map(|n| alert(ids, if n % 3 == 0 { &r2 } else { &r1 }, n))
        .collect();
    store.write_alerts(&alerts).await.unwrap();

    let pfs = [
        portfolio(ids, 10, &ann, "binder", 0),
        portfolio(ids, 11, &ann, "deck", 10),
        portfolio(ids, 12, &ben, "box", 20),
    ];
    for (i, p) in pfs.iter().enumerate() {
        store.upsert_portfolio(p).await.unwrap();
        for j in 0..=i as u128 {
            let h = holding(ids, 100 + 10 * i as u128 + j, p, 2);
            store.upsert_holding(&h).await.unwrap();
            let evs = [
                event(ids, 1000 + 100 * i as u128 + 2 * j, &h, 0),
                event(ids, 1001 + 100 * i as u128 + 2 * j, &h, 60),
            ];
            store.append_portfolio_events(&evs).await.unwrap();
        }
    }
}

/// Every alert of the store, by id.
async fn all_alerts(store: &dyn AppStore) -> Vec<AlertEvent> {
    let (mut all, mut after) = (Vec::new(), None);
    loop {
        let page = store.alerts_after(after, 500).await.unwrap();
        let Some(last) = page.last() else {
            return all;
        };
        after = Some(last.id);
        all.extend(page);
    }
}

/// Everything the two stores' reads give is the same.
pub async fn assert_same_app_data(from: &dyn AppStore, to: &dyn AppStore) {
    assert_eq!(from.users().await.unwrap(), to.users().await.unwrap());
    assert_eq!(
        from.api_keys(None).await.unwrap(),
        to.api_keys(None).await.unwrap()
    );
    assert_eq!(
        from.webhook_records().await.unwrap(),
        to.webhook_records().await.unwrap()
    );
    let pfs = from.all_portfolios().await.unwrap();
    assert_eq!(pfs, to.all_portfolios().await.unwrap());
    for p in &pfs {
        assert_eq!(
            from.portfolios(&p.owner).await.unwrap(),
            to.portfolios(&p.owner).await.unwrap()
        );
        assert_eq!(
            from.holdings(p.id).await.unwrap(),
            to.holdings(p.id).await.unwrap()
        );
        assert_eq!(
            from.portfolio_events(p.id).await.unwrap(),
            to.portfolio_events(p.id).await.unwrap()
        );
    }
    assert_eq!(
        from.rules(None).await.unwrap(),
        to.rules(None).await.unwrap()
    );
    let alerts = all_alerts(from).await;
    assert_eq!(alerts, all_alerts(to).await);
    let owners: std::collections::BTreeSet<_> = alerts.iter().map(|a| a.owner.clone()).collect();
    for o in owners {
        assert_eq!(
            from.alerts(&o, usize::MAX).await.unwrap(),
            to.alerts(&o, usize::MAX).await.unwrap()
        );
        let (f, t) = (
            from.webhook_health(&o, None).await.unwrap(),
            to.webhook_health(&o, None).await.unwrap(),
        );
        let strip = |h: Vec<WebhookHealth>| -> Vec<_> {
            h.into_iter()
                .map(|x| WebhookHealth {
                    pending_deliveries: 0,
                    ..x
                })
                .collect()
        };
        assert_eq!(strip(f), strip(t), "health but for the pending deliveries");
    }
}

/// Copies `from` (populated) into `to` (empty) twice: the first copies everything, the second
/// nothing; the target then reads like the source, with no delivery to make.
pub async fn copy_twice(from: &dyn AppStore, to: &dyn AppStore, ids: Ids) {
    populate(from, ids).await;
    let mut seen = BTreeMap::<String, Vec<u64>>::new();
    let first = copy_app_data(from, to, &mut |kind, n| {
        seen.entry(kind.to_owned()).or_default().push(n);
    })
    .await
    .unwrap();
    let want = [
        ("users", 3),
        ("api_keys", 2),
        ("webhooks", 3),
        ("portfolios", 3),
        ("holdings", 6),
        ("portfolio_events", 12),
        ("alert_rules", 2),
        ("alerts", ALERTS as u64),
    ];
    for ((kind, count), (want_kind, want_count)) in first.kinds().iter().zip(want) {
        assert_eq!(
            (*kind, count.copied, count.present),
            (want_kind, want_count, 0),
            "{first:?}"
        );
        assert_eq!(seen[*kind].last(), Some(&want_count), "progress of {kind}");
    }
    assert!(
        seen["alerts"].len() >= 3,
        "alerts in pages: {:?}",
        seen["alerts"]
    );
    assert_eq!(first.copied(), want.iter().map(|(_, n)| n).sum::<u64>());
    assert_same_app_data(from, to).await;
    assert_eq!(
        to.backlog().await.unwrap(),
        0,
        "copied alerts are not delivered again"
    );
    assert_eq!(to.next_due().await.unwrap(), None);
    assert!(from.backlog().await.unwrap() > 0);

    let text = first.to_string();
    assert!(
        text.starts_with("users: 3 copied, 0 already present\n"),
        "{text}"
    );
    assert!(text.ends_with(&format!(
        "total: {} copied, 0 already present",
        first.copied()
    )));

    let second = copy_app_data(from, to, &mut |_, _| {}).await.unwrap();
    assert_eq!(second.copied(), 0, "{second:?}");
    assert_eq!(second.present(), first.copied());
    for ((_, a), (_, b)) in first.kinds().iter().zip(second.kinds()) {
        assert_eq!(a.total(), b.total());
    }
    assert_same_app_data(from, to).await;
    assert_eq!(to.backlog().await.unwrap(), 0);
}
