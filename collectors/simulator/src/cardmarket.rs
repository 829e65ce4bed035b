//! Cardmarket as the simulator publishes it: each game's product lists (singles, non-singles)
//! and daily price guide, in EUR, driven by the market model.
//!
//! # Products
//!
//! Every product of the catalog is a Cardmarket product ([`id_product`]; its set is expansion
//! [`id_expansion`]), named as Cardmarket names it: One Piece cards carry their number
//! (`Nami (OP05-003)`), Magic's and One Piece's variants are `(V.2)`, sealed products drop the
//! set's series prefix and say `Booster` for a pack. Beside them, products our catalog cannot map:
//! each expansion has two cards of ours it lacks and a `(V.2)` twin of its first card (two
//! Cardmarket products for one of ours: ambiguous), and each game has one expansion of ours it
//! lacks ([`LACKING_EXPANSION`] + category) whose cards are partly named like ours.
//!
//! # Prices
//!
//! A printing's EUR price at `t` is the market model's USD price ÷ 1.085, times the game's
//! European premium or discount ([`premium`]: Magic 0.86, Yu-Gi-Oh! 0.72, Pokémon 0.92, One
//! Piece 1.10, Lorcana 0.95), a product's own lasting offset (±10 %) and a slow wobble (±5 %,
//! period 20 days). The guide built at `T` (daily at 01:45 UTC, `createdAt` 02:45+0100) gives
//! `avg1` = the day's price ±10 % (often null for cheap cards: nobody sold one), `avg7` and
//! `avg30` = means over 7 and 30 days, `trend` = a weighted mean of the last 7 days (smoother
//! than `avg1`), `avg` ±5 % around the day's price, `low` 0.45–0.85× (any condition). The first
//! figures price the card's first printing (Yu-Gi-Oh!: 3:1 1st Edition and Unlimited, as
//! Cardmarket pools editions; a Magic foil-only card has none), `-foil` its foil (Magic,
//! Lorcana; `trend-foil` 0 and the rest null when there is none), Pokémon's `-holo` its reverse
//! holo.

use chrono::{DateTime, Utc};

use crate::{
    catalog::{SimCatalog, SimProduct},
    market::{DAY, market_price, quote_time},
    rng::{hash, unit},
};

/// Cardmarket game id → TCGplayer category.
pub const GAMES: [(u32, u32); 5] = [(1, 1), (3, 2), (6, 3), (18, 68), (19, 71)];

/// Cardmarket's expansion ids of the expansions our catalog lacks: this + the category.
pub const LACKING_EXPANSION: u32 = 9_000;

/// The guide is built daily at this many seconds after midnight UTC.
pub const BUILD_OFFSET: i64 = 6_300;

const USD_PER_EUR: f64 = 1.085;

/// The category of a Cardmarket game.
pub fn game_category(game: u32) -> Option<u32> {
    GAMES.iter().find(|(g, _)| *g == game).map(|(_, c)| *c)
}

/// Cardmarket's `idProduct` of one of our products (the Scryfall simulator states the same as
/// `cardmarket_id`).
pub fn id_product(product_id: u64) -> u64 {
    product_id + 600_000
}

/// Cardmarket's `idExpansion` of one of our sets (groups).
pub fn id_expansion(group_id: u32) -> u32 {
    group_id + 4_000
}

/// Europe's price level over TCGplayer's, per category.
pub fn premium(category: u32) -> f64 {
    match category {
        1 => 0.86,
        2 => 0.72,
        3 => 0.92,
        68 => 1.10,
        _ => 0.95,
    }
}

/// One Cardmarket product.
#[derive(Debug, Clone)]
pub struct CmProduct {
    pub id_product: u64,
    pub name: String,
    pub id_category: u32,
    pub category_name: String,
    pub id_expansion: u32,
    pub id_metacard: u64,
    pub date_added: String,
    pub sealed: bool,
    /// Our product it is; `None` for one our catalog does not have.
    pub ours: Option<u64>,
    /// What it is priced as (ours, or a product of its own).
    pub priced_as: SimProduct,
}

/// Cards of each game our catalog never has.
fn lacking_names(category: u32) -> &'static [&'static str] {
    match category {
        1 => &["Llanowar Elves", "Birds of Paradise", "Dark Ritual"],
        2 => &["Pot of Greed", "Raigeki", "Monster Reborn"],
        3 => &["Unown [A]", "Castform", "Chansey"],
        68 => &["Jinbe", "Buggy", "Marco"],
        _ => &[
            "Pua - Potbellied Buddy",
            "Flounder - Voice of Reason",
            "Gaston - Arrogant Hunter",
        ],
    }
}

fn single_category(category: u32) -> (u32, &'static str) {
    match category {
        1 => (1, "Magic Single"),
        2 => (5, "Yu-Gi-Oh! Single"),
        3 => (51, "Pokémon Single"),
        68 => (1621, "One Piece Single"),
        _ => (1654, "Lorcana Single"),
    }
}

fn sealed_category(category: u32, name: &str) -> (u32, String) {
    let game = match category {
        1 => "Magic",
        2 => "Yu-Gi-Oh!",
        3 => "Pokémon",
        68 => "One Piece",
        _ => "Lorcana",
    };
    if name.contains("Elite Trainer") {
        (1659, format!("{game} Elite Trainer Boxes"))
    } else if name.contains("Box") || name.contains("Bundle") {
        (1658, format!("{game} Display"))
    } else {
        (1657, format!("{game} Booster"))
    }
}

/// The name without its parenthesised variant (`Nami (Parallel)` → `Nami`), and whether it had
/// one.
fn base_name(name: &str) -> (&str, bool) {
    match name.find(" (") {
        Some(i) => (&name[..i], true),
        None => (name, false),
    }
}

/// A card's name as Cardmarket writes it.
fn single_name(p: &SimProduct) -> String {
    let (base, variant) = base_name(&p.name);
    let v2 = if variant { " (V.2)" } else { "" };
    match (p.category_id, &p.number) {
        (68, Some(n)) => format!("{base} ({n}){v2}"),
        (1, _) => format!("{base}{v2}"),
        _ => p.name.clone(),
    }
}

/// A sealed product's name as Cardmarket writes it: `SV03: Obsidian Flames Booster Pack` →
/// `Obsidian Flames Booster`.
fn sealed_name(p: &SimProduct) -> String {
    let short = p.set_name.split(": ").last().unwrap_or(&p.set_name);
    let kind = p.name.strip_prefix(&p.set_name).unwrap_or(&p.name).trim();
    let kind = kind.strip_suffix(" Pack").unwrap_or(kind);
    format!("{short} {kind}")
}

fn metacard(name: &str) -> u64 {
    let h = name.bytes().fold(0u64, |acc, b| hash(&[acc, u64::from(b)]));
    100_000 + h % 500_000
}

/// A product our catalog does not have, priced like a card of `like`'s set.
fn lacking(like: &SimProduct, id_product: u64, name: &str, id_expansion: u32) -> CmProduct {
    let (id_category, category_name) = single_category(like.category_id);
    let base = 20 + (hash(&[id_product, 7]) % 2_000) as i64;
    CmProduct {
        id_product,
        name: name.to_owned(),
        id_category,
        category_name: category_name.to_owned(),
        id_expansion,
        id_metacard: metacard(name),
        date_added: "0000-00-00 00:00:00".to_owned(),
        sealed: false,
        ours: None,
        priced_as: SimProduct {
            product_id: id_product,
            name: name.to_owned(),
            printings: vec![0],
            base_cents: base,
            volatility: 0.8,
            ..like.clone()
        },
    }
}

fn ours(p: &SimProduct, id_expansion: u32, date_added: &str) -> CmProduct {
    let (name, (id_category, category_name)) = if p.is_sealed() {
        (sealed_name(p), sealed_category(p.category_id, &p.name))
    } else {
        let (c, n) = single_category(p.category_id);
        (single_name(p), (c, n.to_owned()))
    };
    CmProduct {
        id_product: id_product(p.product_id),
        id_metacard: metacard(base_name(&name).0),
        name,
        id_category,
        category_name,
        id_expansion,
        date_added: date_added.to_owned(),
        sealed: p.is_sealed(),
        ours: Some(p.product_id),
        priced_as: p.clone(),
    }
}

/// Every Cardmarket product of a category (see the module), singles and non-singles.
pub fn products(catalog: &SimCatalog, category: u32) -> Vec<CmProduct> {
    let mut out = Vec::new();
    let mut first_cards = Vec::new();
    for g in catalog.groups_of(category) {
        let exp = id_expansion(g.group_id);
        let added = g.published_on.replace('T', " ");
        let products = catalog.products_of(g);
        out.extend(products.iter().map(|p| ours(p, exp, &added)));
        let Some(first) = products.iter().find(|p| !p.is_sealed()) else {
            continue;
        };
        first_cards.push(first);
        let extra = 900_000 + u64::from(g.group_id) * 10;
        for (k, name) in lacking_names(category).iter().take(2).enumerate() {
            out.push(lacking(first, extra + k as u64, name, exp));
        }
        let mut twin = ours(first, exp, &added);
        twin.id_product = extra + 5;
        twin.ours = None;
        twin.name = match first.category_id {
            68 => format!("{} (V.2)", twin.name),
            _ => format!("{} (V.2)", base_name(&twin.name).0),
        };
        out.push(twin);
    }
    // An expansion of theirs we lack: a few of its cards are named like ours.
    let exp = LACKING_EXPANSION + category;
    let mut id = 950_000 + u64::from(category) * 100;
    if let Some(like) = first_cards.first() {
        for p in first_cards.iter().take(2) {
            let mut own = lacking(like, id, &single_name(p), exp);
            if category == 68 {
                own.name = format!("{} (OP01-{:03})", base_name(&p.name).0, id % 100);
            }
            out.push(own);
            id += 1;
        }
        for name in lacking_names(category) {
            out.push(lacking(like, id, name, exp));
            id += 1;
        }
    }
    out
}

/// Smooth noise in [-1, 1] over time (period `period` seconds), keyed by `key`.
fn smooth(key: u64, t: i64, period: i64) -> f64 {
    let x = t as f64 / period as f64 + unit(hash(&[key, 0x5EED]));
    let i = x.floor();
    let f = x - i;
    let s = f * f * (3.0 - 2.0 * f);
    let a = unit(hash(&[key, i as i64 as u64])) * 2.0 - 1.0;
    let b = unit(hash(&[key, (i as i64 + 1) as u64])) * 2.0 - 1.0;
    a + (b - a) * s
}

/// The EUR price (cents, unrounded) of a product's printing at `t`.
pub fn eur_price(seed: u64, p: &SimProduct, printing: usize, t: i64) -> f64 {
    let key = hash(&[seed, p.product_id, printing as u64, 0xC4]);
    let offset = 0.10 * (2.0 * unit(key) - 1.0);
    let wobble = 0.05 * smooth(key, t, 20 * DAY);
    market_price(seed, p, printing, t) / USD_PER_EUR
        * premium(p.category_id)
        * (offset + wobble).exp()
}

/// The figures of one printing in a guide built at `t`, in cents (`None`: null):
/// `[avg, low, trend, avg1, avg7, avg30]`.
pub fn figures(seed: u64, p: &SimProduct, blend: &[(usize, f64)], t: i64) -> [Option<i64>; 6] {
    if blend.is_empty() {
        return [None; 6];
    }
    let price = |t: i64| -> f64 {
        blend
            .iter()
            .map(|(i, w)| w * eur_price(seed, p, *i, t))
            .sum()
    };
    let day = t.div_euclid(DAY) as u64;
    let key = hash(&[
        seed,
        p.product_id,
        blend.first().map_or(0, |b| b.0 as u64),
        day,
    ]);
    let u = |k: u64| unit(hash(&[key, k]));
    let noise = |k: u64, amp: f64| (amp * (2.0 * u(k) - 1.0)).exp();
    let days: Vec<f64> = (0..30).map(|k| price(t - k * DAY)).collect();
    let now = days[0];
    let week: f64 = days[..7].iter().sum::<f64>() / 7.0;
    let month: f64 = days.iter().step_by(3).sum::<f64>() / 10.0;
    let trend: f64 = days[..7]
        .iter()
        .zip((1..=7).rev())
        .map(|(d, w)| d * f64::from(w))
        .sum::<f64>()
        / 28.0;
    let cents = |x: f64| Some((x.round() as i64).max(2));
    let avg1_null = if now < 100.0 { 0.45 } else { 0.12 };
    [
        cents(now * noise(1, 0.05)),
        (u(2) > 0.02).then(|| (now * (0.45 + 0.4 * u(3))).round().max(2.0) as i64),
        cents(trend),
        if u(4) < avg1_null {
            None
        } else {
            cents(now * noise(5, 0.10))
        },
        if u(6) < 0.04 {
            None
        } else {
            cents(week * noise(7, 0.04))
        },
        if u(8) < 0.01 {
            None
        } else {
            cents(month * noise(9, 0.02))
        },
    ]
}

/// What the first figures of a product price: its printings and their weights.
pub fn base_blend(p: &SimProduct) -> Vec<(usize, f64)> {
    let has = |i: usize| p.printings.contains(&i);
    match p.category_id {
        2 if has(0) && has(1) => vec![(0, 0.75), (1, 0.25)],
        2 => p
            .printings
            .first()
            .map(|&i| vec![(i, 1.0)])
            .unwrap_or_default(),
        3 => p
            .printings
            .iter()
            .find(|&&i| i < 2)
            .map(|&i| vec![(i, 1.0)])
            .unwrap_or_default(),
        _ if has(0) => vec![(0, 1.0)],
        _ => Vec::new(),
    }
}

/// The printing the second figures price (`-foil`, Pokémon's `-holo`), if the game has them
/// and the product that printing.
pub fn second_printing(p: &SimProduct) -> Option<usize> {
    let wanted = match p.category_id {
        3 => 2,
        1 | 71 => 1,
        _ => return None,
    };
    p.printings.contains(&wanted).then_some(wanted)
}

/// When the guide in force at `now` was built.
pub fn last_build(now: i64) -> i64 {
    (now - BUILD_OFFSET).div_euclid(DAY) * DAY + BUILD_OFFSET
}

/// A build instant as Cardmarket writes `createdAt` (Berlin time, `+0100`).
pub fn created_at(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs + 3_600, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S+0100")
        .to_string()
}

/// The instant the guide built at `build` prices (the model's step).
pub fn guide_time(build: i64, step_secs: u64) -> i64 {
    quote_time(build, step_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_include_lacking_and_twin_ones() {
        let cat = SimCatalog::generate(3, &[3, 68, 1], 2, 12, 1);
        for category in [3, 68, 1] {
            let ps = products(&cat, category);
            let ours = ps.iter().filter(|p| p.ours.is_some()).count();
            assert_eq!(ours, 2 * 13);
            assert_eq!(ps.len(), ours + 2 * 3 + 5);
            let mut ids: Vec<u64> = ps.iter().map(|p| p.id_product).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), ps.len(), "ids are unique");
        }
        let op = products(&cat, 68);
        assert!(op[0].name.contains("(OP05-001)"), "{}", op[0].name);
        let sealed = products(&cat, 3).into_iter().find(|p| p.sealed).unwrap();
        assert!(!sealed.name.contains("SV03:"), "{}", sealed.name);
    }

    #[test]
    fn figures_are_ordered_and_trend_is_smoother_than_avg1() {
        let cat = SimCatalog::generate(5, &[3], 1, 30, 0);
        let t0 = last_build(1_709_326_800);
        assert_eq!(created_at(t0), "2024-03-01T02:45:00+0100");
        let (mut d_trend, mut d_avg1) = (0.0, 0.0);
        for p in &cat.products {
            let blend = base_blend(p);
            for day in 0..20 {
                let t = t0 + day * DAY;
                let [avg, low, trend, avg1, _, _] = figures(5, p, &blend, t);
                let [_, _, trend2, avg1b, _, _] = figures(5, p, &blend, t + DAY);
                assert!(low.unwrap_or(0) <= avg.unwrap_or(i64::MAX));
                if let (Some(a), Some(b), Some(x), Some(y)) = (trend, trend2, avg1, avg1b) {
                    d_trend += ((b as f64) / (a as f64)).ln().abs();
                    d_avg1 += ((y as f64) / (x as f64)).ln().abs();
                }
            }
        }
        assert!(d_trend < d_avg1 / 2.0, "{d_trend} {d_avg1}");
    }
}
