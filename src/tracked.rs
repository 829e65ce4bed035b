//! What eBay is searched for: every card that some user holds in a portfolio or watches with an
//! active alert rule (all users), plus an optional watch list. Used by `up` and by `collect`
//! (distributed mode, `--track-from-store`), which refresh it periodically.

use std::collections::{BTreeMap, BTreeSet};

use tcg_schemas::{ProductId, TrackedCard, Wanted};
use tcg_store::{AppStore, PriceStore, StoreError};

/// The tracked cards the store knows of, merged with `watch_list` (whose entries win: they may
/// say more, such as the printing or the grade wanted). Products missing from the catalog are
/// left out, since eBay cannot be searched for a card without its name.
pub async fn tracked_cards(
    prices: &dyn PriceStore,
    app: &dyn AppStore,
    watch_list: &[TrackedCard],
) -> Result<Vec<TrackedCard>, StoreError> {
    let mut ids: BTreeSet<ProductId> = app
        .rules(None)
        .await?
        .into_iter()
        .filter(|r| !r.paused)
        .map(|r| r.product_id)
        .collect();
    for user in app.users().await? {
        for portfolio in app.portfolios(&user.name).await? {
            for holding in app.holdings(portfolio.id).await? {
                ids.insert(holding.product_id);
            }
        }
    }
    let mut out: BTreeMap<ProductId, TrackedCard> = BTreeMap::new();
    if !ids.is_empty() {
        let sets = prices.sets(None).await?;
        for id in ids {
            let Some(p) = prices.product(id).await? else {
                continue;
            };
            let set = sets.iter().find(|s| s.group_id == p.group_id);
            out.insert(
                id,
                TrackedCard {
                    product_id: p.product_id,
                    category_id: p.category_id,
                    name: p.name.clone(),
                    number: p.number.clone(),
                    set_name: set.map(|s| s.name.clone()),
                    set_code: set.and_then(|s| s.abbreviation.clone()),
                    printing: None,
                    language: None,
                    want: Wanted::Any,
                },
            );
        }
    }
    for card in watch_list {
        out.insert(card.product_id, card.clone());
    }
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tcg_schemas::{
        AlertRule, CardSet, CategoryId, Condition, Game, GroupId, Holding, HoldingId, Language,
        Money, Portfolio, PortfolioId, Printing, Product, RuleCondition, RuleId, SeriesFilter,
        Timestamp, UserId,
    };
    use tcg_store::SqliteStore;

    use super::*;
    use tcg_store::prelude::*;

    fn product(id: u64, name: &str) -> Product {
        Product {
            product_id: ProductId(id),
            category_id: CategoryId(3),
            group_id: GroupId(10),
            game: Game::from_category(CategoryId(3)),
            name: name.into(),
            clean_name: None,
            number: Some(format!("{id}/100")),
            rarity: Some("Rare".into()),
            image_url: None,
            url: None,
        }
    }

    fn rule(owner: &str, product: u64, paused: bool) -> AlertRule {
        AlertRule {
            id: RuleId(uuid::Uuid::new_v4()),
            owner: UserId(owner.into()),
            name: "r".into(),
            product_id: ProductId(product),
            filter: SeriesFilter::default(),
            condition: RuleCondition::PriceAbove {
                threshold_usd: Money::usd_cents(100),
            },
            cooldown_secs: 0,
            paused,
            created_at: Timestamp::from_secs(1),
            updated_at: Timestamp::from_secs(1),
        }
    }

    #[tokio::test]
    async fn every_users_holdings_and_active_rules_are_tracked() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        store
            .upsert_sets(&[CardSet {
                group_id: GroupId(10),
                category_id: CategoryId(3),
                game: Game::from_category(CategoryId(3)),
                name: "Base Set".into(),
                abbreviation: Some("BS".into()),
                published_on: None,
            }])
            .await
            .unwrap();
        store
            .upsert_products(&[
                product(1, "Alakazam"),
                product(2, "Blastoise"),
                product(3, "Chansey"),
                product(4, "Dragonair"),
            ])
            .await
            .unwrap();
        let at = Timestamp::from_secs(1);
        for user in ["ann", "bob"] {
            store.ensure_user(&UserId(user.into()), at).await.unwrap();
        }
        // bob holds 2; ann watches 1 (active) and 3 (paused); 99 is not in the catalog.
        let portfolio = Portfolio {
            id: PortfolioId(uuid::Uuid::new_v4()),
            owner: UserId("bob".into()),
            name: "binder".into(),
            created_at: at,
        };
        store.upsert_portfolio(&portfolio).await.unwrap();
        store
            .upsert_holding(&Holding {
                id: HoldingId(uuid::Uuid::new_v4()),
                portfolio_id: portfolio.id,
                product_id: ProductId(2),
                printing: Printing::parse("Normal"),
                condition: Condition::parse("Near Mint"),
                language: Language::parse("English"),
                grading: None,
                quantity: 1,
                cost_per_unit: Money::usd_cents(100),
                acquired_on: "2024-01-01".into(),
                note: None,
            })
            .await
            .unwrap();
        for r in [
            rule("ann", 1, false),
            rule("ann", 3, true),
            rule("ann", 99, false),
        ] {
            store.upsert_rule(&r).await.unwrap();
        }
        let watch = TrackedCard {
            want: Wanted::Raw,
            ..TrackedCard {
                product_id: ProductId(4),
                category_id: CategoryId(3),
                name: "Dragonair".into(),
                number: None,
                set_name: None,
                set_code: None,
                printing: Some("Holofoil".into()),
                language: None,
                want: Wanted::Any,
            }
        };

        let cards = tracked_cards(&store, &store, std::slice::from_ref(&watch))
            .await
            .unwrap();
        let ids: Vec<u64> = cards.iter().map(|c| c.product_id.0).collect();
        assert_eq!(ids, vec![1, 2, 4]);
        assert_eq!(cards[0].name, "Alakazam");
        assert_eq!(cards[0].set_code.as_deref(), Some("BS"));
        assert_eq!(cards[0].number.as_deref(), Some("1/100"));
        assert_eq!(cards[2], watch);
    }
}
