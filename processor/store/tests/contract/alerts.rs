//! The [`AlertStore`] contract: rules and fired alerts. The checks live with the app-store
//! contract (`tests/app_contract/alerts.rs`); here they run on every [`Store`] (QuestDB too),
//! settled with `sync()` where QuestDB applies writes asynchronously.

use tcg_store::*;

use super::{app_alerts, fixtures::*};

pub async fn rules_and_alerts(store: &dyn Store, ids: Ids) {
    app_alerts::rules_and_alerts_settled(store, ids, async || store.sync().await.unwrap()).await;
}

/// What a copy of an installation reads: every owner's alerts in pages by id, every owner's
/// portfolios by id; imported alerts are stored like written ones.
pub async fn listings_for_copying(store: &dyn Store, ids: Ids) {
    let r = app_alerts::rule(ids, 7, &ids.user("hal"), "pages");
    let mut ours: Vec<_> = (0..5).map(|n| app_alerts::alert(ids, &r, n * 60)).collect();
    store.import_alerts(&ours).await.unwrap();
    let pfs = [
        crate::app_portfolios::portfolio(ids, 70, &ids.user("ida"), "a", 0),
        crate::app_portfolios::portfolio(ids, 71, &ids.user("jon"), "b", 0),
    ];
    for p in &pfs {
        store.upsert_portfolio(p).await.unwrap();
    }
    store.sync().await.unwrap();

    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page = store.alerts_after(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page);
    }
    let ids_seen: Vec<_> = seen.iter().map(|a| a.id.to_string()).collect();
    assert!(ids_seen.windows(2).all(|w| w[0] < w[1]), "by id, each once");
    ours.sort_by_key(|a| a.id.to_string());
    seen.retain(|a| a.rule_id == r.id);
    assert_eq!(seen, ours);

    let all = store.all_portfolios().await.unwrap();
    let all_ids: Vec<_> = all.iter().map(|p| p.id.to_string()).collect();
    assert!(all_ids.windows(2).all(|w| w[0] < w[1]), "by id");
    for p in &pfs {
        assert!(all.contains(p), "{p:?}");
    }
}
