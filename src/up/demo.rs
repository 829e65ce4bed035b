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
pub const PICKS: usize = 5;

/// Whether the demo can be set up with `priced` cards: five, or (once every source has
/// finished a pass, so that no more are coming soon) as many as there are, if any.
pub fn enough(priced: usize, sources_settled: bool) -> bool {
    priced >= PICKS || (sources_settled && priced > 0)
}

/// What a try found: the demo was created (with so many holdings), or so many cards are priced
/// (fewer than needed: try again later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoTry {
    Created(usize),
    Waiting(usize),
}

/// Creates the demo portfolio and rules when [`enough`] cards have a market price.
pub async fn create_demo(
    store: &SqliteStore,
    catalog: &[Product],
    rules: &mpsc::Sender<RuleChange>,
    sources_settled: bool,
) -> Result<DemoTry> {
    let owner = UserId("demo".into());
    let at = tcg_pipeline::kafka::producer::now();
    let picks = priced_series(store, catalog).await?;
    if !enough(picks.len(), sources_settled) {
        return Ok(DemoTry::Waiting(picks.len()));
    }
    create_portfolio(store, &owner, at, &picks).await?;
    let (first, cents) = &picks[0];
    let name = catalog
        .iter()
        .find(|p| p.product_id == first.product_id())
        .map_or_else(
            || format!("card {}", first.product_id()),
            |p| p.name.clone(),
        );
    for rule in demo_rules(&owner, at, first, &name, *cents)? {
        store.upsert_rule(&rule).await?;
        rules.send(RuleChange::Upsert { rule }).await?;
    }
    // The user may exist already (the demo key created it); either way it is there now.
    let _ = store.ensure_user(&owner, at).await;
    Ok(DemoTry::Created(picks.len()))
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
/// Each is named for what it does ("Charizard NM market above $10.11").
fn demo_rules(
    owner: &UserId,
    at: Timestamp,
    series: &SeriesKey,
    card: &str,
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
    let threshold = Money::usd_cents(cents + cents / 100 + 1);
    let short = condition.code().to_uppercase();
    Ok(vec![
        rule(
            &format!(
                "Demo: {card} {short} market above ${}",
                threshold.to_decimal()
            ),
            RuleCondition::PriceAbove {
                threshold_usd: threshold,
            },
        ),
        rule(
            &format!("Demo: {card} {short} market moves 1% within an hour"),
            RuleCondition::PercentChange {
                percent: "1".parse()?,
                window_secs: 3600,
                direction: tcg_schemas::Direction::Either,
                min_confirming_sources: None,
            },
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_catalog_gets_a_demo_once_its_sources_have_passed() {
        assert!(!enough(0, false));
        assert!(!enough(0, true), "nothing priced: nothing to hold");
        assert!(!enough(2, false), "more may come with the first passes");
        assert!(
            enough(2, true),
            "two priced cards after every first pass: a demo of two"
        );
        assert!(enough(5, false));
    }

    #[tokio::test]
    async fn a_demo_of_two_priced_cards_holds_both() {
        use tcg_schemas::{CategoryId, Currency, Game, GroupId, ProductId, Tick};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let product = |id: u64| Product {
            product_id: ProductId(id),
            category_id: CategoryId(3),
            group_id: GroupId(1),
            game: Game::Pokemon,
            name: format!("Card {id}"),
            clean_name: None,
            number: Some(format!("{id}/100")),
            rarity: Some("Rare".into()),
            image_url: None,
            url: None,
        };
        let catalog = vec![product(1), product(2), product(3)];
        store.upsert_products(&catalog).await.unwrap();
        let ticks: Vec<Tick> = [1_i64, 2]
            .into_iter()
            .map(|id| {
                let series: SeriesKey = format!("{id}/holofoil/nm/en").parse().unwrap();
                Tick {
                    series_id: series.id(),
                    series,
                    game: Game::Pokemon,
                    source: Source::Tcgcsv,
                    kind: PriceKind::Market,
                    observed_at: Timestamp::from_secs(1_700_000_000),
                    price_usd: Money::usd_cents(500 * id),
                    original: Money::new(500 * id, Currency::USD),
                    shipping: None,
                    listing_id: None,
                    confidence: None,
                    agreeing: Vec::new(),
                    heartbeat: false,
                }
            })
            .collect();
        store.write_ticks(&ticks).await.unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let waiting = create_demo(&store, &catalog, &tx, false).await.unwrap();
        assert_eq!(waiting, DemoTry::Waiting(2));
        let created = create_demo(&store, &catalog, &tx, true).await.unwrap();
        assert_eq!(created, DemoTry::Created(2));
        let owner = UserId("demo".into());
        let portfolios = store.portfolios(&owner).await.unwrap();
        assert_eq!(portfolios.len(), 1);
        let held = store.holdings(portfolios[0].id).await.unwrap();
        assert_eq!(held.len(), 2);
        assert!(matches!(rx.try_recv(), Ok(RuleChange::Upsert { .. })));
    }

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

        let rules = demo_rules(
            &UserId("demo".into()),
            Timestamp::from_secs(0),
            &key,
            "Pikachu",
            1_000,
        )
        .unwrap();
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
