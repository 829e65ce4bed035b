//! PriceCharting as the simulator serves it: one product per card printing of the catalog (the
//! card itself plain, other printings and versions in brackets, as "Charizard ex [Reverse Holo]
//! #199"), a sealed product per set, and a few products our catalog cannot map (a set we do not
//! have, a `tcg-id` we do not know) or cannot tell apart (a card named without its number in a set
//! where several cards have that name).
//!
//! Prices are PriceCharting's figures from recent sales, recomputed once a day: the ungraded
//! price follows TCGplayer's market price of the printing with a premium or discount of the
//! product's own (0.90–1.05×) and a daily noise of ±4 %; the graded ladder climbs from it (grade
//! 7 < 8 < 9 < 9.5 < PSA 10, PSA 10 several times the ungraded price), with the other graders'
//! 10s around the PSA 10 and not every grade priced (PriceCharting's 0).

use std::collections::{HashMap, HashSet};

use crate::{
    catalog::{SimCatalog, SimGroup, SimProduct},
    market::{DAY, market_cents, quote_time},
    rng::{hash, unit},
};

/// The token the simulator accepts (`t=`), besides PriceCharting's public demo token.
pub const TOKEN: &str = "sim";
/// The demo token of PriceCharting's documentation.
pub const DEMO_TOKEN: &str = "c0b53bce27c1bdab90b1605249e600dc43dfd1d5";

/// Whether `t` is a token the simulator accepts.
pub fn token_ok(t: &str) -> bool {
    t == TOKEN || t == DEMO_TOKEN
}

/// The price keys, in the order of [`prices`].
pub const KEYS: [&str; 13] = [
    "loose-price",
    "cib-price",
    "new-price",
    "graded-price",
    "box-only-price",
    "manual-only-price",
    "bgs-10-price",
    "condition-17-price",
    "condition-18-price",
    "condition-19-price",
    "condition-20-price",
    "condition-21-price",
    "condition-22-price",
];

/// A game PriceCharting prices: (our category, PriceCharting category, console prefix, genre).
pub const GAMES: [(u32, &str, &str, &str); 5] = [
    (3, "pokemon-cards", "Pokemon", "Pokemon Card"),
    (1, "magic-cards", "Magic", "Magic Card"),
    (2, "yugioh-cards", "YuGiOh", "YuGiOh Card"),
    (68, "one-piece-cards", "One Piece", "One Piece Card"),
    (71, "lorcana-cards", "Lorcana", "Lorcana Card"),
];

/// What a simulated product is, for the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planted {
    /// A card of the catalog in one printing; `plain` when it is the card itself.
    Card { plain: bool },
    /// A sealed product of the catalog.
    Sealed,
    /// A product none of ours is.
    Unmapped,
    /// A card several of ours could be.
    Ambiguous { candidates: Vec<u64> },
}

/// One PriceCharting product.
#[derive(Debug, Clone)]
pub struct PcProduct {
    pub id: u64,
    pub category_id: u32,
    /// PriceCharting's category of its CSV guide.
    pub slug: &'static str,
    pub console_name: String,
    pub product_name: String,
    pub genre: String,
    pub tcg_id: Option<u64>,
    pub release_date: String,
    /// The catalog product and printing (index) whose market the prices follow.
    pub follows: (u64, usize),
    pub planted: Planted,
}

/// The set as PriceCharting names it: without TCGplayer's code prefix ("SV03: ").
fn pc_set(name: &str) -> &str {
    name.split_once(": ").map_or(name, |(_, rest)| rest)
}

/// A card name's base and its parenthesised version ("Charizard ex (Alternate Art)").
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.rfind(" (") {
        Some(i) if name.ends_with(')') => (&name[..i], Some(&name[i + 2..name.len() - 1])),
        _ => (name, None),
    }
}

/// The number PriceCharting writes after `#`: "139/195" → "139", "0123" → "123", codes as is.
fn pc_number(number: &str) -> String {
    let head = number.split('/').next().unwrap_or(number);
    if head.bytes().all(|b| b.is_ascii_digit()) {
        let t = head.trim_start_matches('0');
        if t.is_empty() { "0" } else { t }.to_owned()
    } else {
        head.to_owned()
    }
}

/// The bracket of a printing (None: the card itself).
fn printing_bracket(category_id: u32, printing: usize, first: bool) -> Option<&'static str> {
    match (category_id, printing) {
        (2, 0) => Some("1st Edition"),
        (1 | 71, 1) => Some("Foil"),
        (3, 2) => Some("Reverse Holo"),
        (3, 1) if !first => Some("Holo"),
        _ => None,
    }
}

/// Lower-case alphanumerics (a name as the collectors compare it).
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every PriceCharting product of the catalog's games, by id.
pub fn products(catalog: &SimCatalog, seed: u64) -> Vec<PcProduct> {
    let mut out = Vec::new();
    for &(category_id, slug, prefix, genre) in &GAMES {
        let groups: Vec<&SimGroup> = catalog.groups_of(category_id).collect();
        if groups.is_empty() {
            continue;
        }
        let mut ambiguous_keys = Vec::new();
        let names = sets_of_names(catalog, category_id);
        for g in &groups {
            let console = format!("{prefix} {}", pc_set(&g.name));
            let base = PcProduct {
                id: 0,
                category_id,
                slug,
                console_name: console,
                product_name: String::new(),
                genre: genre.to_owned(),
                tcg_id: None,
                release_date: g.published_on.chars().take(10).collect(),
                follows: (0, 0),
                planted: Planted::Unmapped,
            };
            for p in catalog.products_of(g) {
                out.extend(of_product(p, &base, seed));
            }
            ambiguous_keys.extend(ambiguous(catalog, g, &names, &base));
        }
        out.extend(ambiguous_keys);
        out.extend(planted_unmapped(
            catalog,
            &groups,
            prefix,
            genre,
            slug,
            category_id,
        ));
    }
    out.sort_by_key(|p| p.id);
    out
}

/// The products of one catalog product: one per printing (a sealed product once).
fn of_product(p: &SimProduct, base: &PcProduct, seed: u64) -> Vec<PcProduct> {
    let tcg_id = (unit(hash(&[seed, p.product_id, 0x7C6])) < 0.8).then_some(p.product_id);
    let Some(number) = p.number.as_deref() else {
        return vec![PcProduct {
            id: 2_000_000 + p.product_id * 4,
            product_name: pc_set(&p.name).to_owned(),
            genre: "Sealed Product".into(),
            tcg_id,
            follows: (p.product_id, 0),
            planted: Planted::Sealed,
            ..base.clone()
        }];
    };
    let (name, version) = split_version(&p.name);
    let mut out = Vec::new();
    let mut plain_done = false;
    for (i, &printing) in p.printings.iter().enumerate() {
        let bracket = printing_bracket(p.category_id, printing, i == 0);
        if bracket.is_none() {
            if plain_done {
                continue;
            }
            plain_done = true;
        }
        let mut product_name = name.to_owned();
        for b in version.into_iter().chain(bracket) {
            product_name.push_str(&format!(" [{b}]"));
        }
        product_name.push_str(&format!(" #{}", pc_number(number)));
        out.push(PcProduct {
            id: 2_000_000 + p.product_id * 4 + printing as u64,
            product_name,
            tcg_id,
            follows: (p.product_id, printing),
            planted: Planted::Card {
                plain: bracket.is_none() && version.is_none(),
            },
            ..base.clone()
        });
    }
    out
}

/// A card named without its number where several cards of the set (and of no other set) have
/// that name and none of them is exactly it: which one is meant cannot be told. `groups_of_key`
/// counts the sets of the category each name (folded, without its version) appears in.
fn ambiguous(
    catalog: &SimCatalog,
    g: &SimGroup,
    groups_of_key: &HashMap<String, HashSet<u32>>,
    base: &PcProduct,
) -> Option<PcProduct> {
    let mut by_key: Vec<(String, Vec<&SimProduct>)> = Vec::new();
    for p in catalog.products_of(g).iter().filter(|p| !p.is_sealed()) {
        let key = fold(split_version(&p.name).0);
        match by_key.iter_mut().find(|(k, _)| *k == key) {
            Some((_, same)) => same.push(p),
            None => by_key.push((key, vec![p])),
        }
    }
    let (_, same) = by_key.into_iter().find(|(key, same)| {
        let exact = same.iter().filter(|p| fold(&p.name) == *key).count();
        let sets = groups_of_key.get(key).map_or(0, HashSet::len);
        same.len() >= 2 && exact != 1 && sets == 1
    })?;
    let first = same[0];
    let mut candidates: Vec<u64> = same.iter().map(|p| p.product_id).collect();
    candidates.sort_unstable();
    Some(PcProduct {
        id: 2_000_000 + first.product_id * 4 + 3,
        product_name: split_version(&first.name).0.to_owned(),
        follows: (first.product_id, first.printings[0]),
        planted: Planted::Ambiguous { candidates },
        ..base.clone()
    })
}

/// The sets of a category each card name (folded, without its version) appears in.
fn sets_of_names(catalog: &SimCatalog, category_id: u32) -> HashMap<String, HashSet<u32>> {
    let mut out: HashMap<String, HashSet<u32>> = HashMap::new();
    for p in catalog
        .products
        .iter()
        .filter(|p| p.category_id == category_id && !p.is_sealed())
    {
        out.entry(fold(split_version(&p.name).0))
            .or_default()
            .insert(p.group_id);
    }
    out
}

/// Two products of a game none of ours is: a card of a set we do not have, and one whose
/// `tcg-id` is no product of ours.
fn planted_unmapped(
    catalog: &SimCatalog,
    groups: &[&SimGroup],
    prefix: &str,
    genre: &str,
    slug: &'static str,
    category_id: u32,
) -> Vec<PcProduct> {
    let Some(card) = groups
        .iter()
        .flat_map(|g| catalog.products_of(g))
        .find(|p| !p.is_sealed())
    else {
        return Vec::new();
    };
    let base = PcProduct {
        id: 0,
        category_id,
        slug,
        console_name: format!("{prefix} Promo"),
        product_name: format!("Mystery {} #999", split_version(&card.name).0),
        genre: genre.to_owned(),
        tcg_id: None,
        release_date: "2020-01-01".into(),
        follows: (card.product_id, card.printings[0]),
        planted: Planted::Unmapped,
    };
    let id = 9_000_000 + u64::from(category_id) * 10;
    vec![
        PcProduct { id, ..base.clone() },
        PcProduct {
            id: id + 1,
            console_name: format!("{prefix} {}", pc_set(&groups[0].name)),
            product_name: format!("Phantom {} #777", split_version(&card.name).0),
            tcg_id: Some(99_999_999),
            ..base
        },
    ]
}

/// A product's prices in cents per [`KEYS`] at `now` (recomputed once a day); `None` is no data
/// (the API's 0, the CSV's empty cell).
pub fn prices(catalog: &SimCatalog, seed: u64, pc: &PcProduct, now: i64) -> [Option<i64>; 13] {
    let mut out: [Option<f64>; 13] = [None; 13];
    let Some(p) = catalog.product(pc.follows.0) else {
        return [None; 13];
    };
    let t = quote_time(now, DAY as u64);
    let day = t.div_euclid(DAY) as u64;
    let u = |k: u64| unit(hash(&[seed, pc.id, k]));
    let daily = |k: u64| 1.0 + 0.08 * (unit(hash(&[seed, pc.id, day, k])) - 0.5);
    let market = market_cents(seed, p, pc.follows.1, t) as f64;
    let raw = market * (0.90 + 0.15 * u(1)) * daily(1);
    out[0] = Some(raw);
    if !p.is_sealed() {
        let g9 = (raw * (1.4 + 0.8 * u(2))).max(800.0);
        let g8 = g9 * (0.65 + 0.15 * u(3));
        let g7 = g8 * (0.7 + 0.15 * u(4));
        let g95 = g9 * (1.3 + 0.4 * u(5));
        let psa10 = g95 * (1.8 + 2.5 * u(6));
        // (key index, price, share of products PriceCharting has sales for)
        let ladder = [
            (1, g7, 0.9),
            (2, g8, 0.9),
            (3, g9, 0.95),
            (4, g95, 0.9),
            (5, psa10, 0.97),
            (6, psa10 * (1.1 + 0.5 * u(7)), 0.6),
            (7, psa10 * (0.45 + 0.3 * u(8)), 0.8),
            (8, psa10 * (0.5 + 0.25 * u(9)), 0.6),
            (9, psa10 * (0.8 + 0.4 * u(10)), 0.3),
            (10, psa10 * (2.0 + 2.0 * u(11)), 0.2),
            (11, psa10 * (0.45 + 0.3 * u(12)), 0.4),
            (12, psa10 * (0.3 + 0.2 * u(13)), 0.2),
        ];
        for (i, price, share) in ladder {
            if u(100 + i as u64) < share {
                out[i] = Some(price * daily(20 + i as u64));
            }
        }
    }
    out.map(|c| c.map(|c| (c.round() as i64).max(1)))
}

/// Dollars as the CSV guide writes them: `$1,234.56`.
pub fn csv_dollars(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("${grouped}.{:02}", cents % 100)
}

/// The sales a year PriceCharting counts (a stable number per product).
pub fn sales_volume(seed: u64, pc: &PcProduct) -> u64 {
    (unit(hash(&[seed, pc.id, 0x5A1E])) * 400.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_name_printings_versions_and_planted_rows() {
        let cat = SimCatalog::generate(7, &[3, 2], 2, 30, 1);
        let all = products(&cat, 7);
        assert!(
            all.iter()
                .any(|p| p.product_name.contains("[Reverse Holo] #"))
        );
        assert!(
            all.iter()
                .any(|p| p.product_name.contains("[1st Edition] #"))
        );
        assert!(all.iter().any(|p| p.planted == Planted::Sealed));
        let unmapped = all
            .iter()
            .filter(|p| p.planted == Planted::Unmapped)
            .count();
        assert_eq!(unmapped, 4);
        let t = 1_709_326_800;
        for p in &all {
            let pr = prices(&cat, 7, p, t);
            assert!(pr[0].is_some(), "{p:?}");
            if let (Some(g9), Some(psa10)) = (pr[3], pr[5]) {
                assert!(g9 < psa10 && pr[0] < Some(psa10));
            }
            assert_eq!(pr, prices(&cat, 7, p, t + 3_600));
        }
        assert_eq!(csv_dollars(123_456), "$1,234.56");
        assert_eq!(csv_dollars(5), "$0.05");
        assert_eq!(pc_number("004/102"), "4");
        assert_eq!(pc_number("PHNI-EN045"), "PHNI-EN045");
    }
}
