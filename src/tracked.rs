//! What eBay is searched for: every card that some user holds in a portfolio or watches with an
//! active alert rule (all users), plus an optional watch list. Used by `up` and by `collect`
//! (distributed mode, `--track-from-store`), which refresh it periodically.

use std::collections::{BTreeMap, BTreeSet};

use tcg_schemas::{Game, Product, ProductId, SeriesKey, TrackedCard, Wanted};
use tcg_store::{AppStore, PriceStore, StoreError};

/// What is searched for one card: its printing and language (TCGplayer's names), when known.
type Variant = (Option<String>, Option<String>);

/// The tracked cards the store knows of: one per card × printing × language that some user
/// holds (the holding's printing and language) or watches with an active rule (the rule's
/// printing and language; a rule that names no printing gets the card's only printing in the
/// catalog, when it has one). eBay listings of the card are then priced in that printing and
/// language, the series TCGplayer's prices of the same card land in. A card without a language
/// gets its game's (Japanese for Pokémon Japan, else English).
///
/// `watch_list` entries replace what the store says of the same card (they may say more, such
/// as the grade wanted). Products missing from the catalog are left out, since eBay cannot be
/// searched for a card without its name.
pub async fn tracked_cards(
    prices: &dyn PriceStore,
    app: &dyn AppStore,
    watch_list: &[TrackedCard],
) -> Result<Vec<TrackedCard>, StoreError> {
    let mut wanted: BTreeMap<ProductId, BTreeSet<Variant>> = BTreeMap::new();
    for rule in app.rules(None).await?.into_iter().filter(|r| !r.paused) {
        let variant = (
            rule.filter.printing.map(|p| p.as_str().to_owned()),
            rule.filter.language.map(|l| l.as_str().to_owned()),
        );
        wanted.entry(rule.product_id).or_default().insert(variant);
    }
    for user in app.users().await? {
        for portfolio in app.portfolios(&user.name).await? {
            for h in app.holdings(portfolio.id).await? {
                let variant = (
                    Some(h.printing.as_str().to_owned()),
                    Some(h.language.as_str().to_owned()),
                );
                wanted.entry(h.product_id).or_default().insert(variant);
            }
        }
    }
    let watched: BTreeSet<ProductId> = watch_list.iter().map(|c| c.product_id).collect();
    let mut out: BTreeMap<(ProductId, Variant), TrackedCard> = BTreeMap::new();
    if !wanted.is_empty() {
        let sets = prices.sets(None).await?;
        for (id, variants) in wanted {
            if watched.contains(&id) {
                continue;
            }
            let Some(p) = prices.product(id).await? else {
                continue;
            };
            let set = sets.iter().find(|s| s.group_id == p.group_id);
            let only_printing = only_printing(prices, id).await?;
            for (printing, language) in variants {
                let printing = printing.or_else(|| only_printing.clone());
                let language = language.unwrap_or_else(|| game_language(&p).to_owned());
                let card = TrackedCard {
                    product_id: p.product_id,
                    category_id: p.category_id,
                    name: p.name.clone(),
                    number: p.number.clone(),
                    set_name: set.map(|s| s.name.clone()),
                    set_code: set.and_then(|s| s.abbreviation.clone()),
                    printing: printing.clone(),
                    language: Some(language.clone()),
                    want: Wanted::Any,
                };
                out.insert((id, (printing, Some(language))), card);
            }
        }
    }
    for card in watch_list {
        let variant = (card.printing.clone(), card.language.clone());
        out.insert((card.product_id, variant), card.clone());
    }
    Ok(out.into_values().collect())
}

/// The card's printing when exactly one is known: its SKUs' (TCGplayer API's catalog), else
/// those of its price series (TCGCSV's price rows name the printing); none otherwise.
async fn only_printing(
    prices: &dyn PriceStore,
    id: ProductId,
) -> Result<Option<String>, StoreError> {
    let mut printings: BTreeSet<String> = prices
        .skus(id)
        .await?
        .into_iter()
        .map(|s| s.printing.as_str().to_owned())
        .collect();
    if printings.is_empty() {
        printings = prices
            .product_series(id)
            .await?
            .iter()
            .filter_map(|sid| match sid.parse::<SeriesKey>() {
                Ok(SeriesKey::Sku { printing, .. }) => Some(printing.as_str().to_owned()),
                _ => None,
            })
            .collect();
    }
    Ok(match printings.len() {
        1 => printings.into_iter().next(),
        _ => None,
    })
}

/// The language a card of this game is in unless said otherwise.
fn game_language(p: &Product) -> &'static str {
    if p.game == Game::PokemonJapan {
        "Japanese"
    } else {
        "English"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    #![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

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
        // The holding's printing and language are searched for.
        assert_eq!(cards[1].printing.as_deref(), Some("Normal"));
        assert_eq!(cards[1].language.as_deref(), Some("English"));
        assert_eq!(cards[2], watch);
    }

    /// A Holofoil-only card held as Holofoil and a 1st Edition holding of another: their eBay
    /// listings are priced in those printings (the series TCGplayer's prices land in); a rule
    /// without a printing gets the card's only printing; two printings held are two searches.
    #[tokio::test]
    async fn the_printing_and_language_come_from_the_holding_or_the_rule() {
        use tcg_schemas::{Sku, SkuId};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        store
            .upsert_products(&[product(10, "Charizard"), product(11, "Machamp")])
            .await
            .unwrap();
        let sku = |id: u64, product: u64, printing: &str| Sku {
            sku_id: SkuId(id),
            product_id: ProductId(product),
            printing: Printing::parse(printing),
            condition: Condition::NearMint,
            language: Language::English,
        };
        store
            .upsert_skus(&[
                sku(1, 10, "Holofoil"),
                sku(2, 11, "1st Edition"),
                sku(3, 11, "Unlimited"),
            ])
            .await
            .unwrap();
        let at = Timestamp::from_secs(1);
        store.ensure_user(&UserId("ann".into()), at).await.unwrap();
        let portfolio = Portfolio {
            id: PortfolioId(uuid::Uuid::new_v4()),
            owner: UserId("ann".into()),
            name: "binder".into(),
            created_at: at,
        };
        store.upsert_portfolio(&portfolio).await.unwrap();
        for (product, printing, language) in
            [(11, "1st Edition", "English"), (11, "Unlimited", "German")]
        {
            store
                .upsert_holding(&Holding {
                    id: HoldingId(uuid::Uuid::new_v4()),
                    portfolio_id: portfolio.id,
                    product_id: ProductId(product),
                    printing: Printing::parse(printing),
                    condition: Condition::NearMint,
                    language: Language::parse(language),
                    grading: None,
                    quantity: 1,
                    cost_per_unit: Money::usd_cents(100),
                    acquired_on: "2024-01-01".into(),
                    note: None,
                })
                .await
                .unwrap();
        }
        store.upsert_rule(&rule("ann", 10, false)).await.unwrap();

        let cards = tracked_cards(&store, &store, &[]).await.unwrap();
        let got: Vec<(u64, Option<&str>, Option<&str>)> = cards
            .iter()
            .map(|c| (c.product_id.0, c.printing.as_deref(), c.language.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (10, Some("Holofoil"), Some("English")),
                (11, Some("1st Edition"), Some("English")),
                (11, Some("Unlimited"), Some("German")),
            ]
        );
    }
}
