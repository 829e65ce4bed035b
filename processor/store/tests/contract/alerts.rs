//! The [`AlertStore`] contract: rules and fired alerts.

use tcg_schemas::{
    AlertEvent, AlertId, AlertRule, Condition, Money, PriceKind, RuleChange, RuleCondition, RuleId,
    Source, Trigger, UserId,
};
use tcg_store::*;

use super::fixtures::*;

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

pub async fn rules_and_alerts(store: &dyn Store, ids: Ids) {
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
    store.sync().await.unwrap();
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
    store.sync().await.unwrap();
    assert!(store.rules(Some(&alice)).await.unwrap().is_empty());
    assert_eq!(store.rules(Some(&bob)).await.unwrap(), vec![r2.clone()]);

    let s = sku(ids.product(1), Condition::NearMint);
    let alert = |secs: i64| AlertEvent {
        id: AlertId::derive(
            r2.id,
            &s.id(),
            at(secs),
            Source::Tcgplayer,
            PriceKind::Market,
            None,
        ),
        rule_id: r2.id,
        owner: bob.clone(),
        rule_name: r2.name.clone(),
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
    };
    let batch = vec![alert(0), alert(60)];
    store.write_alerts(&batch).await.unwrap();
    let again = store.write_alerts(&batch).await.unwrap();
    if let Some(n) = again.new_rows {
        assert_eq!(n, 0);
    }
    store.sync().await.unwrap();
    let got = store.alerts(&bob, 10).await.unwrap();
    assert_eq!(got, vec![alert(60), alert(0)]);
    assert_eq!(store.alerts(&bob, 1).await.unwrap().len(), 1);
    assert!(store.alerts(&alice, 10).await.unwrap().is_empty());
}
