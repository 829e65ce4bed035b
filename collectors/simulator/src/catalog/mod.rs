//! The simulator's generated catalog: games, sets, cards and sealed products with realistic names,
//! card numbers, rarities, printings and SKUs, all a pure function of the seed and the config.

use std::collections::HashMap;

use crate::rng::{SplitMix, hash};
use games::{GAMES, GameDef, Numbering};

mod games;

/// A printing of a category: (TCGplayer printing id, name). Printing ids are per category.
pub type PrintingDef = (u32, &'static str);

/// Categories the simulator knows how to generate.
pub fn known_categories() -> Vec<u32> {
    GAMES.iter().map(|g| g.category_id).collect()
}

#[derive(Debug, Clone)]
pub struct SimCategory {
    pub category_id: u32,
    pub name: &'static str,
    pub display_name: &'static str,
    pub printings: &'static [PrintingDef],
}

#[derive(Debug, Clone)]
pub struct SimGroup {
    pub group_id: u32,
    pub category_id: u32,
    pub name: String,
    pub abbreviation: String,
    pub published_on: String,
    /// Indices into `SimCatalog::products`.
    pub products: std::ops::Range<usize>,
}

#[derive(Debug, Clone)]
pub struct SimProduct {
    pub product_id: u64,
    pub category_id: u32,
    pub group_id: u32,
    pub name: String,
    pub set_name: String,
    pub set_code: String,
    pub number: Option<String>,
    pub rarity: Option<String>,
    /// The rarity's rung on its game's ladder (0 = the commonest; 0 for sealed products).
    pub tier: u8,
    /// Indices into the category's printings.
    pub printings: Vec<usize>,
    /// Languages (TCGplayer ids) the product has SKUs in.
    pub languages: Vec<u32>,
    /// Near-mint market price around which the walk moves, in cents.
    pub base_cents: i64,
    /// How wild the walk is: a multiplier of the market model's daily amplitudes (1.0 typical).
    /// Cards: `(0.6 + 0.8 × rank) × (0.8–1.2)` where rank = tier ÷ top tier (0 for commons, 1 for
    /// the top rarity), so chase cards move more in % than commons; sealed: 0.3–0.5.
    pub volatility: f64,
}

impl SimProduct {
    pub fn is_sealed(&self) -> bool {
        self.number.is_none()
    }
}

/// What a SKU id means: the product, printing index, language and condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkuParts {
    pub product_id: u64,
    pub printing: usize,
    pub language_id: u32,
    pub condition_id: u32,
}

impl SkuParts {
    /// `product × 1000 + printing × 100 + language slot × 10 + condition`.
    pub fn id(&self) -> u64 {
        let lang_slot = if self.language_id == 1 { 0 } else { 1 };
        self.product_id * 1000
            + self.printing as u64 * 100
            + lang_slot * 10
            + u64::from(self.condition_id)
    }

    pub fn from_id(id: u64) -> SkuParts {
        let lang_slot = (id / 10) % 10;
        SkuParts {
            product_id: id / 1000,
            printing: ((id / 100) % 10) as usize,
            language_id: if lang_slot == 0 { 1 } else { 7 },
            condition_id: (id % 10) as u32,
        }
    }
}

/// The whole generated catalog.
#[derive(Debug, Clone)]
pub struct SimCatalog {
    pub categories: Vec<SimCategory>,
    pub groups: Vec<SimGroup>,
    pub products: Vec<SimProduct>,
    by_id: HashMap<u64, usize>,
    groups_by_id: HashMap<u32, usize>,
}

fn card_number(n: Numbering, code: &str, i: u32, total: u32) -> String {
    match n {
        Numbering::OfTotal => format!("{:03}/{:03}", i, total),
        Numbering::Plain => format!("{:04}", i),
        Numbering::SetCodeEn => format!("{code}-EN{:03}", i),
        Numbering::SetCodeDash => format!("{code}-{:03}", i),
    }
}

/// The set being generated.
struct SetDef {
    game: &'static GameDef,
    group_id: u32,
    name: &'static str,
    code: &'static str,
}

impl SetDef {
    fn product(&self, product_id: u64, name: String) -> SimProduct {
        SimProduct {
            product_id,
            category_id: self.game.category_id,
            group_id: self.group_id,
            name,
            set_name: self.name.to_owned(),
            set_code: self.code.to_owned(),
            number: None,
            rarity: None,
            tier: 0,
            printings: vec![0],
            languages: vec![1],
            base_cents: 0,
            volatility: 0.0,
        }
    }
}

/// Card `i` of a set whose printed total is `printed_total` (cards past it are secret rares).
fn card(
    rng: &mut SplitMix,
    set: &SetDef,
    product_id: u64,
    i: u32,
    printed_total: u32,
) -> SimProduct {
    let game = set.game;
    let base = game.cards[rng.below(game.cards.len() as u64) as usize];
    let suffix = game.suffixes[rng.below(game.suffixes.len() as u64) as usize];
    // Rarity skews towards the common end; secret numbers get the top rarities.
    let r = rng.next_f64();
    let mut tier = ((r * r) * game.rarities.len() as f64) as usize;
    if i > printed_total {
        tier = game.rarities.len() - 1 - rng.below(2.min(game.rarities.len() as u64)) as usize;
    }
    let tier = tier.min(game.rarities.len() - 1);
    let printings: Vec<usize> = match game.printings.len() {
        1 => vec![0],
        2 => {
            if tier == 0 || rng.below(3) > 0 {
                vec![0, 1]
            } else {
                vec![1]
            }
        }
        _ => {
            if tier <= 1 {
                vec![0, 2]
            } else if tier <= 3 {
                vec![1, 2]
            } else {
                vec![1]
            }
        }
    };
    let rank = tier as f64 / (game.rarities.len().max(2) - 1) as f64;
    let base_cents = ((10.0 * 3f64.powi(tier as i32)) * (0.4 + 1.8 * rng.next_f64()))
        .round()
        .max(5.0) as i64;
    SimProduct {
        number: Some(card_number(game.numbering, set.code, i, printed_total)),
        rarity: Some(game.rarities[tier].to_owned()),
        printings,
        languages: if game.category_id == 3 {
            vec![1, 7]
        } else {
            vec![1]
        },
        base_cents,
        tier: tier as u8,
        volatility: (0.6 + 0.8 * rank) * (0.8 + 0.4 * rng.next_f64()),
        ..set.product(product_id, format!("{base}{suffix}"))
    }
}

/// A sealed product of a set (`kind`: "Booster Box", "Elite Trainer Box" …).
fn sealed(rng: &mut SplitMix, set: &SetDef, product_id: u64, kind: &str) -> SimProduct {
    let base_cents = if kind.contains("Box") {
        9_000 + rng.below(20_000) as i64
    } else {
        300 + rng.below(1_500) as i64
    };
    SimProduct {
        base_cents,
        volatility: 0.3 + 0.2 * rng.next_f64(),
        ..set.product(product_id, format!("{} {kind}", set.name))
    }
}

impl SimCatalog {
    /// Generates the catalog of `categories` (unknown ones are ignored).
    pub fn generate(
        seed: u64,
        categories: &[u32],
        sets_per_game: u32,
        cards_per_set: u32,
        sealed_per_set: u32,
    ) -> SimCatalog {
        let mut cat = SimCatalog {
            categories: Vec::new(),
            groups: Vec::new(),
            products: Vec::new(),
            by_id: HashMap::new(),
            groups_by_id: HashMap::new(),
        };
        let mut next_product: u64 = 100_000;
        for &category_id in categories {
            let Some(game) = GAMES.iter().find(|g| g.category_id == category_id) else {
                continue;
            };
            cat.categories.push(SimCategory {
                category_id,
                name: game.name,
                display_name: game.display,
                printings: game.printings,
            });
            let sets = (sets_per_game as usize).min(game.sets.len());
            for (s, &(name, code, published)) in game.sets.iter().take(sets).enumerate() {
                let set = SetDef {
                    game,
                    group_id: 1000 + category_id * 100 + s as u32,
                    name,
                    code,
                };
                let start = cat.products.len();
                let mut rng = SplitMix::new(hash(&[seed, u64::from(set.group_id)]));
                let printed_total = cards_per_set.saturating_sub(cards_per_set / 8).max(1);
                for i in 1..=cards_per_set {
                    cat.push_product(card(&mut rng, &set, next_product, i, printed_total));
                    next_product += 1;
                }
                for &kind in game.sealed.iter().take(sealed_per_set as usize) {
                    cat.push_product(sealed(&mut rng, &set, next_product, kind));
                    next_product += 1;
                }
                cat.groups_by_id.insert(set.group_id, cat.groups.len());
                cat.groups.push(SimGroup {
                    group_id: set.group_id,
                    category_id,
                    name: name.to_owned(),
                    abbreviation: code.to_owned(),
                    published_on: format!("{published}T00:00:00"),
                    products: start..cat.products.len(),
                });
            }
        }
        cat
    }

    fn push_product(&mut self, product: SimProduct) {
        self.by_id.insert(product.product_id, self.products.len());
        self.products.push(product);
    }

    pub fn product(&self, id: u64) -> Option<&SimProduct> {
        self.by_id.get(&id).map(|&i| &self.products[i])
    }

    pub fn group(&self, id: u32) -> Option<&SimGroup> {
        self.groups_by_id.get(&id).map(|&i| &self.groups[i])
    }

    pub fn category(&self, id: u32) -> Option<&SimCategory> {
        self.categories.iter().find(|c| c.category_id == id)
    }

    pub fn groups_of(&self, category_id: u32) -> impl Iterator<Item = &SimGroup> {
        self.groups
            .iter()
            .filter(move |g| g.category_id == category_id)
    }

    pub fn products_of(&self, group: &SimGroup) -> &[SimProduct] {
        &self.products[group.products.clone()]
    }

    /// Every SKU of a product: printings × languages × conditions (sealed: Unopened only).
    pub fn skus(&self, p: &SimProduct) -> Vec<SkuParts> {
        let conditions: &[u32] = if p.is_sealed() {
            &[6]
        } else {
            &[1, 2, 3, 4, 5]
        };
        let mut out = Vec::new();
        for &printing in &p.printings {
            for &language_id in &p.languages {
                for &condition_id in conditions {
                    out.push(SkuParts {
                        product_id: p.product_id,
                        printing,
                        language_id,
                        condition_id,
                    });
                }
            }
        }
        out
    }

    /// Resolves a SKU id to its parts if it is one of the catalog's SKUs.
    pub fn sku(&self, id: u64) -> Option<(SkuParts, &SimProduct)> {
        let parts = SkuParts::from_id(id);
        let p = self.product(parts.product_id)?;
        let valid = p.printings.contains(&parts.printing)
            && p.languages.contains(&parts.language_id)
            && if p.is_sealed() {
                parts.condition_id == 6
            } else {
                (1..=5).contains(&parts.condition_id)
            };
        valid.then_some((parts, p))
    }

    /// The product an eBay query is about: the longest product name contained in the query,
    /// preferring one whose card number also appears.
    pub fn match_query(&self, q: &str) -> Option<&SimProduct> {
        let ql = q.to_lowercase();
        self.products
            .iter()
            .filter(|p| ql.contains(&p.name.to_lowercase()))
            .max_by_key(|p| {
                let num = p
                    .number
                    .as_deref()
                    .is_some_and(|n| ql.contains(&n.to_lowercase()));
                (num, p.name.len(), std::cmp::Reverse(p.product_id))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_shaped() {
        let a = SimCatalog::generate(7, &[3, 1, 999], 2, 10, 2);
        let b = SimCatalog::generate(7, &[3, 1, 999], 2, 10, 2);
        assert_eq!(a.products.len(), 2 * 2 * 12);
        assert_eq!(a.groups.len(), 4);
        assert_eq!(
            a.products.iter().map(|p| &p.name).collect::<Vec<_>>(),
            b.products.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        let c = SimCatalog::generate(8, &[3, 1], 2, 10, 2);
        assert_ne!(
            a.products.iter().map(|p| &p.name).collect::<Vec<_>>(),
            c.products.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        let p = &a.products[0];
        assert_eq!(p.number.as_deref(), Some("001/009"));
        for p in &a.products {
            for s in a.skus(p) {
                assert_eq!(SkuParts::from_id(s.id()), s);
                assert!(a.sku(s.id()).is_some());
            }
        }
        assert!(a.sku(p.product_id * 1000 + 99).is_none());
    }

    #[test]
    fn queries_match_products() {
        let cat = SimCatalog::generate(1, &[3], 1, 30, 1);
        let p = &cat.products[5];
        let q = format!("{} {}", p.name, p.number.clone().unwrap());
        assert_eq!(cat.match_query(&q).unwrap().product_id, p.product_id);
        assert!(cat.match_query("zzz").is_none());
    }
}
