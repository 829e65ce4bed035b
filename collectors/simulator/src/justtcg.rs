//! JustTCG's view of the simulated market: its games, sets and cards (one per TCGplayer product it
//! carries, a variant per SKU) and its prices, which follow TCGplayer's SKU market prices.
//!
//! How JustTCG differs from TCGplayer here, as it does in the real market:
//! - it reprices each game every six hours ([`REPRICE_SECS`], a per-game offset): a variant's
//!   price and `lastUpdated` hold between repricings, so its price lags TCGplayer's by up to six
//!   hours, and carries its own noise (±2 % a repricing);
//! - it does not carry every product ([`carried`]: about 1 in 29 is missing);
//! - some Damaged variants have a `null` price (no reliable market);
//! - the first set of each game holds three cards of JustTCG's own: a "(Prerelease)" card that
//!   states the same `tcgplayerId` as the set's first card (two cards claim one product: an
//!   ambiguous claim), a "(Staff Promo)" card with a TCGplayer id no catalog of ours has, and an
//!   "(Oversized)" card with `tcgplayerId: null` (both unmapped).

use std::collections::HashMap;

use crate::{
    catalog::{SimCatalog, SimProduct, SkuParts},
    market::{market_price, sku_ratio},
    rng::{hash, unit},
};

/// JustTCG reprices a game every six hours.
pub const REPRICE_SECS: i64 = 21_600;

/// The TCGplayer ids of JustTCG's "(Staff Promo)" cards start here (no catalog has them).
pub const UNLISTED_BASE: u64 = 9_000_000;

/// A JustTCG game and the TCGplayer category it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JtGame {
    pub id: &'static str,
    pub name: &'static str,
    pub category_id: u32,
    /// When in the six-hour cycle the game is repriced.
    pub offset_secs: i64,
}

/// JustTCG's games of the TCGplayer categories the simulator knows.
pub const GAMES: [JtGame; 6] = [
    JtGame {
        id: "magic-the-gathering",
        name: "Magic: The Gathering",
        category_id: 1,
        offset_secs: 0,
    },
    JtGame {
        id: "yugioh",
        name: "YuGiOh",
        category_id: 2,
        offset_secs: 1_800,
    },
    JtGame {
        id: "pokemon",
        name: "Pokemon",
        category_id: 3,
        offset_secs: 3_600,
    },
    JtGame {
        id: "one-piece-card-game",
        name: "One Piece Card Game",
        category_id: 68,
        offset_secs: 5_400,
    },
    JtGame {
        id: "disney-lorcana",
        name: "Disney Lorcana",
        category_id: 71,
        offset_secs: 7_200,
    },
    JtGame {
        id: "pokemon-japan",
        name: "Pokemon Japan",
        category_id: 85,
        offset_secs: 9_000,
    },
];

/// The game of a `game` parameter (its id, or `mtg`).
pub fn game(id: &str) -> Option<&'static JtGame> {
    let id = if id.eq_ignore_ascii_case("mtg") {
        "magic-the-gathering"
    } else {
        id
    };
    GAMES.iter().find(|g| g.id.eq_ignore_ascii_case(id))
}

pub fn game_of(category_id: u32) -> Option<&'static JtGame> {
    GAMES.iter().find(|g| g.category_id == category_id)
}

/// Whether JustTCG carries the product (about 28 in 29 are).
pub fn carried(product_id: u64) -> bool {
    !hash(&[product_id, 0x7C6]).is_multiple_of(29)
}

/// What a card is beyond the product it prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// The product itself.
    No,
    /// Claims the same product as another card (ambiguous).
    Prerelease,
    /// States a TCGplayer id no catalog of ours has (unmapped).
    StaffPromo,
    /// States no TCGplayer id (unmapped).
    Oversized,
}

impl Extra {
    /// Its price relative to the product it follows.
    fn premium(self) -> f64 {
        match self {
            Extra::No => 1.0,
            Extra::Prerelease => 1.3,
            Extra::StaffPromo => 2.5,
            Extra::Oversized => 0.4,
        }
    }
}

/// One JustTCG card.
#[derive(Debug, Clone)]
pub struct JtCard {
    pub id: String,
    pub name: String,
    pub game: &'static JtGame,
    /// Index into [`JtData::sets`].
    pub set: usize,
    /// `None` for sealed products (sent as `N/A`).
    pub number: Option<String>,
    pub rarity: Option<String>,
    pub tcgplayer_id: Option<u64>,
    /// The simulated product whose prices it follows.
    pub product: u64,
    pub extra: Extra,
}

/// One JustTCG set.
#[derive(Debug, Clone)]
pub struct JtSet {
    pub id: String,
    pub name: String,
    pub game: &'static JtGame,
    pub release_date: String,
    /// Indices into [`JtData::cards`].
    pub cards: Vec<usize>,
}

/// One variant of a card: a SKU of its product.
#[derive(Debug, Clone)]
pub struct JtVariant {
    pub id: String,
    pub condition: &'static str,
    pub printing: &'static str,
    pub language: &'static str,
    /// The TCGplayer SKU (none for JustTCG's own cards).
    pub sku: Option<u64>,
    pub parts: SkuParts,
}

/// Lower-case alphanumerics joined by single dashes.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// JustTCG's cards and sets of a simulated catalog.
#[derive(Debug, Clone)]
pub struct JtData {
    pub cards: Vec<JtCard>,
    pub sets: Vec<JtSet>,
    by_tcgplayer: HashMap<u64, Vec<usize>>,
    by_id: HashMap<String, usize>,
}

impl JtData {
    pub fn build(catalog: &SimCatalog) -> JtData {
        let mut data = JtData {
            cards: Vec::new(),
            sets: Vec::new(),
            by_tcgplayer: HashMap::new(),
            by_id: HashMap::new(),
        };
        for g in &catalog.groups {
            let Some(game) = game_of(g.category_id) else {
                continue;
            };
            let first_of_game = !data.sets.iter().any(|s| s.game.id == game.id);
            let set = data.sets.len();
            data.sets.push(JtSet {
                id: slug(&format!("{} {}", g.name, game.id)),
                name: g.name.clone(),
                game,
                release_date: g.published_on.get(..10).unwrap_or("").to_owned(),
                cards: Vec::new(),
            });
            let products = catalog.products_of(g);
            for p in products.iter().filter(|p| carried(p.product_id)) {
                data.push(card_of(game, set, &data.sets[set].name, p, Extra::No));
            }
            if first_of_game {
                let singles: Vec<&SimProduct> =
                    products.iter().filter(|p| !p.is_sealed()).collect();
                let extras = [Extra::Prerelease, Extra::StaffPromo, Extra::Oversized];
                for (p, extra) in singles.iter().zip(extras) {
                    data.push(card_of(game, set, &data.sets[set].name, p, extra));
                }
            }
        }
        data
    }

    fn push(&mut self, card: JtCard) {
        let i = self.cards.len();
        if let Some(t) = card.tcgplayer_id {
            self.by_tcgplayer.entry(t).or_default().push(i);
        }
        self.by_id.insert(card.id.clone(), i);
        self.sets[card.set].cards.push(i);
        self.cards.push(card);
    }

    /// The cards stating a TCGplayer id.
    pub fn by_tcgplayer(&self, id: u64) -> &[usize] {
        self.by_tcgplayer.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn card(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The card of a variant id (`{card id}_{condition}_{printing}[_{language}]`).
    pub fn card_of_variant(&self, variant_id: &str) -> Option<usize> {
        self.card(variant_id.split('_').next().unwrap_or(""))
    }

    /// The card of a TCGplayer SKU id.
    pub fn card_of_sku(&self, sku: u64) -> Option<usize> {
        self.by_tcgplayer(SkuParts::from_id(sku).product_id)
            .iter()
            .copied()
            .find(|&i| self.cards[i].extra == Extra::No)
    }

    pub fn set(&self, id: &str) -> Option<&JtSet> {
        self.sets.iter().find(|s| s.id == id)
    }
}

fn card_of(
    game: &'static JtGame,
    set: usize,
    set_name: &str,
    p: &SimProduct,
    extra: Extra,
) -> JtCard {
    let suffix = match extra {
        Extra::No => "",
        Extra::Prerelease => " (Prerelease)",
        Extra::StaffPromo => " (Staff Promo)",
        Extra::Oversized => " (Oversized)",
    };
    let name = format!("{}{suffix}", p.name);
    let id = slug(&format!(
        "{} {set_name} {name} {} {}",
        game.id,
        p.number.as_deref().unwrap_or(""),
        p.rarity.as_deref().unwrap_or("")
    ));
    JtCard {
        id,
        name,
        game,
        set,
        number: p.number.clone(),
        rarity: p.rarity.clone(),
        tcgplayer_id: match extra {
            Extra::No | Extra::Prerelease => Some(p.product_id),
            Extra::StaffPromo => Some(UNLISTED_BASE + p.product_id),
            Extra::Oversized => None,
        },
        product: p.product_id,
        extra,
    }
}

fn condition_name(condition_id: u32) -> &'static str {
    match condition_id {
        1 => "Near Mint",
        2 => "Lightly Played",
        3 => "Moderately Played",
        4 => "Heavily Played",
        5 => "Damaged",
        _ => "Sealed",
    }
}

/// The variants of a card: one per SKU of its product.
pub fn variants(catalog: &SimCatalog, card: &JtCard) -> Vec<JtVariant> {
    let Some(p) = catalog.product(card.product) else {
        return Vec::new();
    };
    let printings = catalog
        .category(p.category_id)
        .map_or(&[][..], |c| c.printings);
    catalog
        .skus(p)
        .into_iter()
        .map(|parts| {
            let condition = condition_name(parts.condition_id);
            let printing = printings.get(parts.printing).map_or("Normal", |p| p.1);
            let language = if parts.language_id == 1 {
                "English"
            } else {
                "Japanese"
            };
            let mut id = format!("{}_{}_{}", card.id, slug(condition), slug(printing));
            if parts.language_id != 1 {
                id.push('_');
                id.push_str(&slug(language));
            }
            JtVariant {
                id,
                condition,
                printing,
                language,
                sku: (card.extra == Extra::No).then(|| parts.id()),
                parts,
            }
        })
        .collect()
}

/// When JustTCG last repriced `game` at or before `now`.
pub fn last_updated(game: &JtGame, now: i64) -> i64 {
    (now - game.offset_secs).div_euclid(REPRICE_SECS) * REPRICE_SECS + game.offset_secs
}

/// JustTCG's price of a variant as repriced at `t` (a repricing instant), in cents; `None` (a
/// `null` price) for the Damaged variants of about one product in ten.
pub fn price_cents(
    seed: u64,
    catalog: &SimCatalog,
    card: &JtCard,
    v: &JtVariant,
    t: i64,
) -> Option<i64> {
    let p = catalog.product(card.product)?;
    if v.parts.condition_id == 5 && unit(hash(&[seed, p.product_id, 0xDEAD])) < 0.1 {
        return None;
    }
    let tcgplayer = market_price(seed, p, v.parts.printing, t) * sku_ratio(seed, &v.parts, t);
    let noise = 1.0 + 0.04 * (unit(hash(&[seed, v.parts.id(), card.extra as u64, t as u64])) - 0.5);
    Some(((tcgplayer * card.extra.premium() * noise).round() as i64).max(1))
}

/// Points of a price history over `days` days up to `now`: every repricing for a month or less,
/// one a day beyond.
pub fn history_times(game: &JtGame, now: i64, days: i64) -> Vec<i64> {
    let last = last_updated(game, now);
    let step = if days <= 30 { REPRICE_SECS } else { 86_400 };
    let n = days * 86_400 / step;
    (0..n).rev().map(|k| last - k * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn justtcg_carries_most_products_and_adds_its_own_cards() {
        let cat = SimCatalog::generate(5, &[3, 1], 2, 30, 1);
        let data = JtData::build(&cat);
        assert_eq!(data.sets.len(), 4);
        let carried_n = cat
            .products
            .iter()
            .filter(|p| carried(p.product_id))
            .count();
        assert!(carried_n < cat.products.len() && carried_n > cat.products.len() * 9 / 10);
        assert_eq!(data.cards.len(), carried_n + 2 * 3);
        let prerelease = data
            .cards
            .iter()
            .find(|c| c.extra == Extra::Prerelease)
            .unwrap();
        let claimants = data.by_tcgplayer(prerelease.tcgplayer_id.unwrap());
        assert_eq!(
            claimants.len(),
            1 + usize::from(carried(prerelease.product))
        );
        let ids: std::collections::HashSet<&str> =
            data.cards.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), data.cards.len(), "card ids are unique");
        for card in data.cards.iter().filter(|c| c.extra == Extra::No).take(20) {
            for v in variants(&cat, card) {
                assert_eq!(data.card_of_variant(&v.id), data.card(&card.id));
                assert_eq!(data.card_of_sku(v.sku.unwrap()), data.card(&card.id));
            }
        }
        assert_eq!(
            slug("SV03: Obsidian Flames pokemon"),
            "sv03-obsidian-flames-pokemon"
        );
        assert_eq!(game("mtg").map(|g| g.category_id), Some(1));
    }

    #[test]
    fn prices_hold_between_repricings_and_follow_tcgplayer() {
        let cat = SimCatalog::generate(5, &[3], 1, 20, 1);
        let data = JtData::build(&cat);
        let g = game_of(3).unwrap();
        let now = 1_709_326_800;
        let t = last_updated(g, now);
        assert!(t <= now && now - t < REPRICE_SECS);
        assert_eq!(last_updated(g, t + REPRICE_SECS - 1), t);
        for card in data.cards.iter().filter(|c| c.extra == Extra::No) {
            let p = cat.product(card.product).unwrap();
            for v in variants(&cat, card) {
                let Some(c) = price_cents(5, &cat, card, &v, t) else {
                    continue;
                };
                let tcg = market_price(5, p, v.parts.printing, t) * sku_ratio(5, &v.parts, t);
                assert!((c as f64 - tcg).abs() <= tcg * 0.021 + 1.0, "{c} vs {tcg}");
            }
        }
        assert_eq!(history_times(g, now, 7).len(), 28);
        assert_eq!(history_times(g, now, 90).len(), 90);
        assert_eq!(*history_times(g, now, 7).last().unwrap(), t);
    }
}
