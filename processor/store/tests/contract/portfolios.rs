//! The [`PortfolioStore`] contract and the [`Valuer`] over both stores.

use tcg_schemas::{
    Condition, Holding, HoldingChange, HoldingId, Language, Money, Portfolio, PortfolioEvent,
    PortfolioEventId, PortfolioId, Printing,
};
use tcg_store::*;

use super::fixtures::*;

pub async fn portfolio_valuation(store: &dyn Store, ids: Ids) {
    let owner = ids.user("carol");
    let pf = Portfolio {
        id: PortfolioId(ids.uuid(100)),
        owner: owner.clone(),
        name: "binder".into(),
        created_at: at(0),
    };
    store.upsert_portfolio(&pf).await.unwrap();
    let p = ids.product(200);
    let s = sku(p, Condition::NearMint);
    let h = Holding {
        id: HoldingId(ids.uuid(101)),
        portfolio_id: pf.id,
        product_id: p,
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
        grading: None,
        quantity: 2,
        cost_per_unit: Money::usd_cents(1000),
        acquired_on: "2024-03-01".into(),
        note: None,
    };
    // A second holding without events: acquired on its date at its cost.
    let h2 = Holding {
        id: HoldingId(ids.uuid(102)),
        quantity: 1,
        cost_per_unit: Money::usd_cents(300),
        acquired_on: "2024-03-02".into(),
        ..h.clone()
    };
    store.upsert_holding(&h).await.unwrap();
    store.upsert_holding(&h2).await.unwrap();
    let ev = |n: u128, secs: i64, change: HoldingChange| PortfolioEvent {
        id: PortfolioEventId(ids.uuid(n)),
        portfolio_id: pf.id,
        holding_id: h.id,
        at: at(secs),
        change,
    };
    let events = vec![
        ev(
            110,
            0,
            HoldingChange::Acquired {
                quantity: 3,
                cost_per_unit: Money::usd_cents(1000),
            },
        ),
        ev(
            111,
            2 * DAY,
            HoldingChange::Sold {
                quantity: 1,
                price_per_unit: Money::usd_cents(1500),
                fees: Some(Money::usd_cents(100)),
            },
        ),
    ];
    store.append_portfolio_events(&events).await.unwrap();
    let replay = store.append_portfolio_events(&events).await.unwrap();
    if let Some(n) = replay.new_rows {
        assert_eq!(n, 0);
    }
    store
        .write_ticks(&[
            market(&s, 3600, 1100),
            market(&s, DAY + 3600, 1200),
            market(&s, 3 * DAY, 1300),
        ])
        .await
        .unwrap();
    store.sync().await.unwrap();
    assert_eq!(store.portfolios(&owner).await.unwrap(), vec![pf.clone()]);
    assert_eq!(store.holdings(pf.id).await.unwrap().len(), 2);
    assert_eq!(store.portfolio_events(pf.id).await.unwrap(), events);

    let valuer = Valuer::new(store, store);
    let v = valuer
        .value(pf.id, at(4 * DAY), &ValuationPrice::default())
        .await
        .unwrap();
    // h: 3 bought at $10, 1 sold at $15 − $1 fee: realized $4; 2 left valued at $13.
    // h2: 1 at $3, valued at $13.
    assert_eq!(v.market_value_usd, Money::usd_cents(2 * 1300 + 1300));
    assert_eq!(v.cost_basis_usd, Money::usd_cents(2000 + 300));
    assert_eq!(v.realized_pnl_usd, Money::usd_cents(400));
    assert_eq!(v.unrealized_pnl_usd, Money::usd_cents(3900 - 2300));
    let hv = v.holdings.iter().find(|x| x.holding_id == h.id).unwrap();
    assert_eq!(
        (hv.quantity, hv.unit_price_usd, hv.priced_at),
        (2, Some(Money::usd_cents(1300)), Some(at(3 * DAY)))
    );

    let hist = valuer
        .history(
            pf.id,
            at(0),
            at(4 * DAY),
            Interval::DAY,
            &ValuationPrice::default(),
        )
        .await
        .unwrap();
    assert_eq!(hist.len(), 4);
    // End of day 0: 3 × $11 (h2 not yet acquired).
    assert_eq!(
        (hist[0].market_value_usd, hist[0].cost_basis_usd),
        (Money::usd_cents(3300), Money::usd_cents(3000))
    );
    // End of day 1: 3 × $12 + 1 × $12.
    assert_eq!(hist[1].market_value_usd, Money::usd_cents(4800));
    // End of day 2: the sale happened; 2 × $12 + $12.
    assert_eq!(
        (hist[2].market_value_usd, hist[2].realized_pnl_usd),
        (Money::usd_cents(3600), Money::usd_cents(400))
    );
    assert_eq!(hist[3].market_value_usd, Money::usd_cents(3900));

    store.delete_holding(pf.id, h2.id).await.unwrap();
    store.sync().await.unwrap();
    assert_eq!(store.holdings(pf.id).await.unwrap(), vec![h.clone()]);
    store.delete_portfolio(&pf).await.unwrap();
    store.sync().await.unwrap();
    assert!(store.portfolios(&owner).await.unwrap().is_empty());
}
