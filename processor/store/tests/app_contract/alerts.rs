//! The [`AlertStore`] contract: rules and fired alerts. Also run by the store contract
//! (`tests/contract`, on QuestDB too), which settles its writes between steps.

use tcg_schemas::{
    AlertEvent, AlertId, AlertRule, Condition, Money, PriceKind, RuleChange, RuleCondition, RuleId,
    Source, Trigger, UserId,
};
use tcg_store::*;

use crate::fixtures::*;

pub fn rule(ids: Ids, n: u128, owner: &UserId, name: &str) -> AlertRule {
    AlertRule {
        id: RuleId(ids.uuid(n)),
        owner: owner.clone(),
        name: name.into(),
        product_id: ids.product(1),
        filter: Default::default(),
        condition: RuleCondition::PriceBelow {
            threshold_usd: Money::usd_cents(500),
        },
        cooldown_secs: 3600,
        paused: false,
        created_at: at(0),
        updated_at: at(0),
    }
}

/// An alert of `rule` on the NM series of product 1, observed `secs` after T0.
pub fn alert(ids: Ids, rule: &AlertRule, secs: i64) -> AlertEvent {
    let s = sku(ids.product(1), Condition::NearMint);
    AlertEvent {
        id: AlertId::derive(
            rule.id,
            &s.id(),
            at(secs),
            Source::Tcgplayer,
            PriceKind::Market,
            None,
        ),
        rule_id: rule.id,
        owner: rule.owner.clone(),
        rule_name: rule.name.clone(),
        product_id: ids.product(1),
        series_id: s.id(),
        series: s.clone(),
        source: Source::Tcgplayer,
        kind: PriceKind::Market,
        observed_at: at(secs),
        price_usd: Money::usd_cents(400),
        listing_id: None,
        trigger: Trigger::PriceBelow {
            threshold_usd: Money::usd_cents(500),
        },
        message: "below $5".into(),
    }
}

/// Rules are upserts, deletes by id; alerts idempotent by id, newest first per owner.
pub async fn rules_and_alerts(store: &dyn AlertStore, ids: Ids) {
    rules_and_alerts_settled(store, ids, async || {}).await;
}

/// [`rules_and_alerts`], with `settle` between a write and the reads that must see it (a
/// QuestDB `sync()`; nothing for the app stores, whose writes are visible on return).
pub async fn rules_and_alerts_settled(store: &dyn AlertStore, ids: Ids, settle: impl AsyncFn()) {
    let alice = ids.user("alice");
    let bob = ids.user("bob");
    let r1 = rule(ids, 1, &alice, "cheap");
    let r2 = rule(ids, 2, &bob, "bob's");
    store.upsert_rule(&r1).await.unwrap();
    store
        .apply_rule_change(&RuleChange::Upsert { rule: r2.clone() })
        .await
        .unwrap();
    let mut r1b = r1.clone();
    r1b.name = "cheaper".into();
    r1b.updated_at = at(10);
    store.upsert_rule(&r1b).await.unwrap();
    settle().await;
    assert_eq!(store.rules(Some(&alice)).await.unwrap(), vec![r1b.clone()]);
    let all = store.rules(None).await.unwrap();
    assert!(all.contains(&r1b) && all.contains(&r2));
    store
        .apply_rule_change(&RuleChange::Delete {
            rule_id: r1.id,
            owner: alice.clone(),
        })
        .await
        .unwrap();
    settle().await;
    assert!(store.rules(Some(&alice)).await.unwrap().is_empty());
    assert_eq!(store.rules(Some(&bob)).await.unwrap(), vec![r2.clone()]);

    let batch = vec![alert(ids, &r2, 0), alert(ids, &r2, 60)];
    store.write_alerts(&batch).await.unwrap();
    let again = store.write_alerts(&batch).await.unwrap();
    if let Some(n) = again.new_rows {
        assert_eq!(n, 0);
    }
    settle().await;
    let got = store.alerts(&bob, 10).await.unwrap();
    assert_eq!(got, vec![alert(ids, &r2, 60), alert(ids, &r2, 0)]);
    assert_eq!(store.alerts(&bob, 1).await.unwrap().len(), 1);
    assert!(store.alerts(&alice, 10).await.unwrap().is_empty());
}

/// Rules are listed by id; alerts of one owner newest first with ties by id; new-row counts.
pub async fn rule_order_and_alert_counts(store: &dyn AppStore, ids: Ids) {
    let owner = ids.user("erin");
    let rules: Vec<_> = (0..5).map(|n| rule(ids, 50 - n, &owner, "r")).collect();
    for r in &rules {
        store.upsert_rule(r).await.unwrap();
    }
    let mut by_id = rules.clone();
    by_id.sort_by_key(|r| r.id.to_string());
    assert_eq!(store.rules(Some(&owner)).await.unwrap(), by_id);
    assert_eq!(store.rules(None).await.unwrap(), by_id);
    // Deleting names the rule by id alone.
    store
        .delete_rule(rules[0].id, &ids.user("someone-else"))
        .await
        .unwrap();
    assert_eq!(store.rules(None).await.unwrap().len(), 4);

    // Two rules firing at the same instant: ordered by alert id after time.
    let (a, b) = (alert(ids, &rules[1], 30), alert(ids, &rules[2], 30));
    let older = alert(ids, &rules[1], 0);
    let w = store
        .write_alerts(&[older.clone(), a.clone(), b.clone(), a.clone()])
        .await
        .unwrap();
    assert_eq!((w.rows, w.new_rows), (4, Some(3)));
    let mut same_time = vec![a.clone(), b.clone()];
    same_time.sort_by_key(|x| x.id.to_string());
    same_time.push(older);
    assert_eq!(store.alerts(&owner, 10).await.unwrap(), same_time);
    assert!(store.alerts(&owner, 0).await.unwrap().is_empty());
}

/// Every owner's alerts in pages by id; imported alerts are stored as history (idempotent by
/// id) and never queued for delivery, while written ones are.
pub async fn alert_pages_and_import(store: &dyn AppStore, ids: Ids) {
    let r1 = rule(ids, 1, &ids.user("fay"), "one");
    let r2 = rule(ids, 2, &ids.user("gus"), "two");
    let mut all: Vec<_> = (0..7)
        .map(|n| alert(ids, if n % 2 == 0 { &r1 } else { &r2 }, n * 60))
        .collect();
    let w = store.import_alerts(&all).await.unwrap();
    assert_eq!((w.rows, w.new_rows), (7, Some(7)));
    assert_eq!(
        store.backlog().await.unwrap(),
        0,
        "imported alerts are not queued"
    );
    assert_eq!(store.next_due().await.unwrap(), None);
    let w = store.import_alerts(&all).await.unwrap();
    assert_eq!(w.new_rows, Some(0));

    all.sort_by_key(|a| a.id.to_string());
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.alerts_after(after, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        paged.extend(page);
    }
    assert_eq!(paged, all);
    assert_eq!(store.alerts_after(None, 0).await.unwrap().len(), 1);

    // A written alert is queued; writing an imported one again queues nothing.
    let fresh = alert(ids, &r1, 3600);
    let w = store.write_alerts(&[fresh, all[0].clone()]).await.unwrap();
    assert_eq!(w.new_rows, Some(1));
    assert_eq!(store.backlog().await.unwrap(), 1);
    // Importing an alert that was written keeps it queued.
    store.import_alerts(&[alert(ids, &r1, 3600)]).await.unwrap();
    assert_eq!(store.backlog().await.unwrap(), 1);
}
