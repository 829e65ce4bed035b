//! The [`PortfolioStore`] contract of the app stores. `app_data_reads_its_own_writes` is also
//! run by the store contract (`tests/contract`, on QuestDB too).

use tcg_schemas::{
    Condition, Holding, HoldingChange, HoldingId, ImportId, Language, Money, Portfolio,
    PortfolioEvent, PortfolioEventId, PortfolioId, Printing, UserId,
};
use tcg_store::*;

use crate::fixtures::*;

pub fn portfolio(ids: Ids, n: u128, owner: &UserId, name: &str, secs: i64) -> Portfolio {
    Portfolio {
        id: PortfolioId(ids.uuid(n)),
        owner: owner.clone(),
        name: name.into(),
        created_at: at(secs),
    }
}

pub fn holding(ids: Ids, n: u128, pf: &Portfolio, quantity: u32) -> Holding {
    Holding {
        id: HoldingId(ids.uuid(n)),
        portfolio_id: pf.id,
        product_id: ids.product(300),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
        grading: None,
        quantity,
        cost_per_unit: Money::usd_cents(500),
        acquired_on: "2024-03-01".into(),
        note: None,
    }
}

pub fn event(ids: Ids, n: u128, h: &Holding, secs: i64) -> PortfolioEvent {
    PortfolioEvent {
        id: PortfolioEventId(ids.uuid(n)),
        portfolio_id: h.portfolio_id,
        holding_id: h.id,
        at: at(secs),
        change: HoldingChange::Acquired {
            quantity: 1,
            cost_per_unit: Money::usd_cents(500),
        },
    }
}

/// The app's own data is read back by the very next request, without `sync()`: the API creates
/// a portfolio and adds a holding to it in two requests.
pub async fn app_data_reads_its_own_writes(store: &dyn PortfolioStore, ids: Ids) {
    let owner = ids.user("dave");
    let pf = Portfolio {
        id: PortfolioId(ids.uuid(300)),
        owner: owner.clone(),
        name: "fresh".into(),
        created_at: at(0),
    };
    store.upsert_portfolio(&pf).await.unwrap();
    let listed = store.portfolios(&owner).await.unwrap();
    assert_eq!(
        listed,
        vec![pf.clone()],
        "a new portfolio is listed at once"
    );
    let h = Holding {
        id: HoldingId(ids.uuid(301)),
        portfolio_id: pf.id,
        product_id: ids.product(300),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
        grading: None,
        quantity: 1,
        cost_per_unit: Money::usd_cents(500),
        acquired_on: "2024-03-01".into(),
        note: None,
    };
    store.upsert_holding(&h).await.unwrap();
    assert_eq!(store.holdings(pf.id).await.unwrap(), vec![h.clone()]);
    store.delete_holding(pf.id, h.id).await.unwrap();
    assert!(
        store.holdings(pf.id).await.unwrap().is_empty(),
        "a deleted holding is gone at once"
    );
    store.delete_portfolio(&pf).await.unwrap();
    assert!(store.portfolios(&owner).await.unwrap().is_empty());
}

/// Upserts (last write wins), orders (portfolios by creation then id, holdings by id, events by
/// time then id), idempotent events, and deleting a portfolio with what it holds.
pub async fn portfolios_holdings_and_events(store: &dyn AppStore, ids: Ids) {
    let (ann, ben) = (ids.user("ann"), ids.user("ben"));
    let late = portfolio(ids, 10, &ann, "late", 100);
    let early = portfolio(ids, 11, &ann, "early", 0);
    let tie = portfolio(ids, 9, &ann, "tie", 100);
    let other = portfolio(ids, 12, &ben, "other", 0);
    for p in [&late, &early, &tie, &other] {
        store.upsert_portfolio(p).await.unwrap();
    }
    assert_eq!(
        store.portfolios(&ann).await.unwrap(),
        vec![early.clone(), tie.clone(), late.clone()]
    );
    let renamed = Portfolio {
        name: "renamed".into(),
        ..late.clone()
    };
    store.upsert_portfolio(&renamed).await.unwrap();
    assert_eq!(store.portfolios(&ann).await.unwrap()[2], renamed);
    let mut every = vec![renamed.clone(), early.clone(), tie.clone(), other.clone()];
    every.sort_by_key(|p| p.id.to_string());
    assert_eq!(store.all_portfolios().await.unwrap(), every);

    let hs: Vec<_> = (0..3).map(|n| holding(ids, 30 - n, &renamed, 1)).collect();
    for h in &hs {
        store.upsert_holding(h).await.unwrap();
    }
    let more = Holding {
        quantity: 5,
        note: Some("more".into()),
        ..hs[0].clone()
    };
    store.upsert_holding(&more).await.unwrap();
    let mut want = vec![more.clone(), hs[1].clone(), hs[2].clone()];
    want.sort_by_key(|h| h.id.to_string());
    assert_eq!(store.holdings(renamed.id).await.unwrap(), want);

    let evs = vec![
        event(ids, 42, &hs[0], 60),
        event(ids, 41, &hs[1], 60),
        event(ids, 43, &hs[0], 0),
    ];
    let w = store.append_portfolio_events(&evs).await.unwrap();
    assert_eq!((w.rows, w.new_rows), (3, Some(3)));
    let w = store
        .append_portfolio_events(&[evs[0].clone(), event(ids, 44, &hs[2], 120)])
        .await
        .unwrap();
    assert_eq!((w.rows, w.new_rows), (2, Some(1)));
    let got = store.portfolio_events(renamed.id).await.unwrap();
    let order: Vec<_> = got.iter().map(|e| e.id).collect();
    let mut same_minute = [evs[0].id, evs[1].id];
    same_minute.sort_by_key(ToString::to_string);
    assert_eq!(
        order,
        vec![
            evs[2].id,
            same_minute[0],
            same_minute[1],
            PortfolioEventId(ids.uuid(44))
        ]
    );

    // A holding is deleted by its id; a portfolio with its holdings and events.
    store.delete_holding(early.id, hs[2].id).await.unwrap();
    assert_eq!(store.holdings(renamed.id).await.unwrap().len(), 2);
    store.delete_portfolio(&renamed).await.unwrap();
    assert!(store.holdings(renamed.id).await.unwrap().is_empty());
    assert!(store.portfolio_events(renamed.id).await.unwrap().is_empty());
    assert_eq!(
        store.portfolios(&ann).await.unwrap(),
        vec![early.clone(), tie.clone()]
    );
    assert_eq!(store.portfolios(&ben).await.unwrap(), vec![other]);
}

/// An import is undone as a whole: its holdings and their events go, the portfolio's other
/// holdings stay; an unknown import, another portfolio's, or one already undone is `None`;
/// deleting a portfolio forgets its imports.
pub async fn imports_are_undone_as_a_whole(store: &dyn AppStore, ids: Ids) {
    let ann = ids.user("ann");
    let pf = portfolio(ids, 1, &ann, "binder", 0);
    let other = portfolio(ids, 2, &ann, "deck", 0);
    for p in [&pf, &other] {
        store.upsert_portfolio(p).await.unwrap();
    }
    let mine = holding(ids, 10, &pf, 1);
    let imported: Vec<_> = (11..14).map(|n| holding(ids, n, &pf, 2)).collect();
    let events: Vec<_> = [
        &mine,
        &imported[0],
        &imported[1],
        &imported[2],
        &imported[2],
    ]
    .iter()
    .enumerate()
    .map(|(i, h)| event(ids, 100 + i as u128, h, 60))
    .collect();
    store.append_portfolio_events(&events).await.unwrap();
    for h in std::iter::once(&mine).chain(&imported) {
        store.upsert_holding(h).await.unwrap();
    }
    let import = ImportId(ids.uuid(50));
    let held: Vec<HoldingId> = imported.iter().map(|h| h.id).collect();
    store.record_import(pf.id, import, &held).await.unwrap();
    // Recording again changes nothing.
    store
        .record_import(pf.id, import, &held[..1])
        .await
        .unwrap();

    assert_eq!(store.undo_import(other.id, import).await.unwrap(), None);
    assert_eq!(
        store
            .undo_import(pf.id, ImportId(ids.uuid(51)))
            .await
            .unwrap(),
        None
    );
    let mut want = held.clone();
    want.sort_by_key(ToString::to_string);
    assert_eq!(store.undo_import(pf.id, import).await.unwrap(), Some(want));
    assert_eq!(store.holdings(pf.id).await.unwrap(), vec![mine.clone()]);
    let left = store.portfolio_events(pf.id).await.unwrap();
    assert_eq!(left, vec![events[0].clone()]);
    assert_eq!(store.undo_import(pf.id, import).await.unwrap(), None);

    let again = ImportId(ids.uuid(52));
    store.record_import(pf.id, again, &[mine.id]).await.unwrap();
    store.delete_portfolio(&pf).await.unwrap();
    assert_eq!(store.undo_import(pf.id, again).await.unwrap(), None);
}

/// The portfolio's revision rises with every write to its holdings and events (each kind of
/// write, an import's undo included), stays on reads, on writes of the portfolio itself and on
/// writes to another portfolio, and a moved holding raises both portfolios'.
pub async fn revision_follows_holdings_and_events(store: &dyn AppStore, ids: Ids) {
    let ann = ids.user("ann");
    let pf = portfolio(ids, 1, &ann, "binder", 0);
    let other = portfolio(ids, 2, &ann, "deck", 0);
    assert_eq!(store.portfolio_revision(pf.id).await.unwrap(), None);
    for p in [&pf, &other] {
        store.upsert_portfolio(p).await.unwrap();
    }
    let rev = |id: PortfolioId| async move { store.portfolio_revision(id).await.unwrap().unwrap() };
    let last = std::cell::Cell::new(rev(pf.id).await);
    let other_rev = rev(other.id).await;
    // Each step must raise the binder's revision.
    let rose = |now: u64, step: &str| {
        assert!(
            now > last.get(),
            "{step}: revision {now} after {}",
            last.get()
        );
        last.set(now);
    };

    let h = holding(ids, 10, &pf, 1);
    store.upsert_holding(&h).await.unwrap();
    rose(rev(pf.id).await, "holding added");
    store
        .upsert_holding(&Holding {
            quantity: 3,
            ..h.clone()
        })
        .await
        .unwrap();
    rose(rev(pf.id).await, "holding edited");
    let e = event(ids, 100, &h, 60);
    store
        .append_portfolio_events(std::slice::from_ref(&e))
        .await
        .unwrap();
    rose(rev(pf.id).await, "event appended");

    // Reads, a repeated event, and renaming the portfolio change nothing.
    store.holdings(pf.id).await.unwrap();
    store.portfolio_events(pf.id).await.unwrap();
    store.append_portfolio_events(&[e]).await.unwrap();
    store
        .upsert_portfolio(&Portfolio {
            name: "renamed".into(),
            ..pf.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        rev(pf.id).await,
        last.get(),
        "no write to the holdings or events"
    );
    assert_eq!(rev(other.id).await, other_rev, "another portfolio's writes");

    // Moving a holding raises both.
    store
        .upsert_holding(&Holding {
            portfolio_id: other.id,
            ..h.clone()
        })
        .await
        .unwrap();
    rose(rev(pf.id).await, "holding moved away");
    assert!(rev(other.id).await > other_rev, "holding moved in");
    store.upsert_holding(&h).await.unwrap();
    rose(rev(pf.id).await, "holding moved back");
    store.delete_holding(pf.id, h.id).await.unwrap();
    rose(rev(pf.id).await, "holding deleted");

    let imported = holding(ids, 11, &pf, 2);
    store.upsert_holding(&imported).await.unwrap();
    let import = ImportId(ids.uuid(50));
    store
        .record_import(pf.id, import, &[imported.id])
        .await
        .unwrap();
    rose(rev(pf.id).await, "import");
    store.undo_import(pf.id, import).await.unwrap();
    rose(rev(pf.id).await, "import undone");

    store.delete_portfolio(&pf).await.unwrap();
    assert_eq!(store.portfolio_revision(pf.id).await.unwrap(), None);
}
