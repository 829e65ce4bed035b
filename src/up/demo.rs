//! The demo user's portfolio (five priced cards) and two alert rules, created on the first
//! start once market prices exist.

use anyhow::Result;
use tcg_schemas::{
    AlertRule, Condition, Holding, HoldingChange, HoldingId, Money, Portfolio, PortfolioEvent,
    PortfolioEventId, PortfolioId, PriceKind, Product, RuleChange, RuleCondition, RuleId,
    SeriesFilter, SeriesKey, Source, Timestamp, UserId,
};
use tcg_store::{AccountStore, PriceFilter, SqliteStore, prelude::*};
use tokio::sync::mpsc;

/// Holdings in the demo portfolio.
const PICKS: usize = 5;

/// Creates the demo portfolio and rules; `false` while fewer than five cards have a market
/// price (try again later).
pub async fn create_demo(
    store: &SqliteStore,
    catalog: &[Product],
    rules: &mpsc::Sender<RuleChange>,
) -> Result<bool> {
    let owner = UserId("demo".into());
    let at = tcg_pipeline::kafka::producer::now();
    let picks = priced_series(store, catalog).await?;
    if picks.len() < PICKS {
        return Ok(false);
    }
    create_portfolio(store, &owner, at, &picks).await?;
    let (first, cents) = &picks[0];
    for rule in demo_rules(&owner, at, first, *cents)? {
        store.upsert_rule(&rule).await?;
        rules.send(RuleChange::Upsert { rule }).await?;
    }
    // The user may exist already (the demo key created it); either way it is there now.
    let _ = store.ensure_user(&owner, at).await;
    Ok(true)
}

/// The first five ungraded card series with a TCGCSV market price, and that price in cents.
async fn priced_series(store: &SqliteStore, catalog: &[Product]) -> Result<Vec<(SeriesKey, i64)>> {
    let filter = PriceFilter {
        sources: vec![Source::Tcgcsv],
        kinds: vec![PriceKind::Market],
    };
    let mut picks = Vec::new();
    for product in catalog.iter().filter(|p| !p.is_sealed()) {
        let series = store.product_series(product.product_id).await?;
        let latest = store.latest_prices(&series, &filter).await?;
        if let Some(l) = latest.first()
            && let Ok(key) = l.series_id.parse::<SeriesKey>()
            && !key.is_graded()
            && matches!(key, SeriesKey::Sku { .. })
        {
            picks.push((key, l.price_usd.minor));
        }
        if picks.len() == PICKS {
            break;
        }
    }
    Ok(picks)
}

/// "Demo binder": one holding per pick, bought below today's price.
async fn create_portfolio(
    store: &SqliteStore,
    owner: &UserId,
    at: Timestamp,
    picks: &[(SeriesKey, i64)],
) -> Result<()> {
    let portfolio = Portfolio {
        id: PortfolioId(uuid::Uuid::new_v4()),
        owner: owner.clone(),
        name: "Demo binder".into(),
        created_at: at,
    };
    store.upsert_portfolio(&portfolio).await?;
    let mut events = Vec::new();
    for (i, (series, cents)) in picks.iter().enumerate() {
        let Some(holding) = demo_holding(portfolio.id, i, series, *cents) else {
            continue;
        };
        store.upsert_holding(&holding).await?;
        events.push(PortfolioEvent {
            id: PortfolioEventId(uuid::Uuid::new_v4()),
            portfolio_id: portfolio.id,
            holding_id: holding.id,
            at: Timestamp::from_secs(1_714_521_600),
            change: HoldingChange::Acquired {
                quantity: holding.quantity,
                cost_per_unit: holding.cost_per_unit,
            },
        });
    }
    store.append_portfolio_events(&events).await?;
    Ok(())
}

/// The `i`-th holding: 1-3 copies at 70 %, 80 %, … of `cents`.
fn demo_holding(
    portfolio_id: PortfolioId,
    i: usize,
    series: &SeriesKey,
    cents: i64,
) -> Option<Holding> {
    let SeriesKey::Sku {
        product_id,
        printing,
        condition,
        language,
    } = series
    else {
        return None;
    };
    let i = i as i64;
    Some(Holding {
        id: HoldingId(uuid::Uuid::new_v4()),
        portfolio_id,
        product_id: *product_id,
        printing: printing.clone(),
        condition: if condition.is_other() {
            Condition::NearMint
        } else {
            condition.clone()
        },
        language: language.clone(),
        grading: None,
        quantity: 1 + (i % 3) as u32,
        cost_per_unit: Money::usd_cents((cents * (70 + 10 * i) / 100).max(1)),
        acquired_on: "2024-05-01".into(),
        note: Some("demo".into()),
    })
}

/// Two rules on the very series whose price set the threshold (not the card's other
/// printings), as TCGCSV market prices: one alert per real move, not one per eBay listing.
fn demo_rules(
    owner: &UserId,
    at: Timestamp,
    series: &SeriesKey,
    cents: i64,
) -> Result<Vec<AlertRule>> {
    let SeriesKey::Sku {
        printing,
        condition,
        language,
        ..
    } = series
    else {
        return Ok(Vec::new());
    };
    let filter = SeriesFilter {
        printing: Some(printing.clone()),
        condition: Some(condition.clone()),
        language: Some(language.clone()),
        graded: Some(false),
        source: Some(Source::Tcgcsv),
        kind: Some(PriceKind::Market),
        ..SeriesFilter::default()
    };
    let rule = |name: &str, condition| AlertRule {
        id: RuleId(uuid::Uuid::new_v4()),
        owner: owner.clone(),
        name: name.into(),
        product_id: series.product_id(),
        filter: filter.clone(),
        condition,
        cooldown_secs: 3600,
        paused: false,
        created_at: at,
        updated_at: at,
    };
    Ok(vec![
        rule(
            "Demo: first card up 1%",
            RuleCondition::PriceAbove {
                threshold_usd: Money::usd_cents(cents + cents / 100 + 1),
            },
        ),
        rule(
            "Demo: first card moves 1% in an hour",
            RuleCondition::PercentChange {
                percent: "1".parse()?,
                window_secs: 3600,
                direction: tcg_schemas::Direction::Either,
            },
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdings_cost_less_than_the_price_and_rules_watch_the_first_series() {
        let key: SeriesKey = "451784/holofoil/nm/en".parse().unwrap();
        let pid = PortfolioId(uuid::Uuid::from_u128(1));
        let h0 = demo_holding(pid, 0, &key, 1_000).unwrap();
        let h4 = demo_holding(pid, 4, &key, 1_000).unwrap();
        assert_eq!((h0.quantity, h0.cost_per_unit), (1, Money::usd_cents(700)));
        assert_eq!(
            (h4.quantity, h4.cost_per_unit),
            (2, Money::usd_cents(1_100))
        );
        let graded: SeriesKey = "451784/psa/10".parse().unwrap();
        assert!(demo_holding(pid, 0, &graded, 1_000).is_none());

        let rules =
            demo_rules(&UserId("demo".into()), Timestamp::from_secs(0), &key, 1_000).unwrap();
        assert_eq!(rules.len(), 2);
        assert!(matches!(
            rules[0].condition,
            RuleCondition::PriceAbove { threshold_usd } if threshold_usd == Money::usd_cents(1_011)
        ));
        assert!(rules.iter().all(|r| r.product_id == key.product_id()
            && r.filter.source == Some(Source::Tcgcsv)
            && r.filter.graded == Some(false)));
    }
}
