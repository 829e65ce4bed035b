//! Scryfall's bulk data for the simulator's Magic cards: one card object per card of category 1,
//! rebuilt every 12 hours (at 09:10 and 21:10 UTC), whose prices come from the market model.
//!
//! - `usd` / `usd_foil`: the TCGplayer market of the product's Normal / Foil printing at the
//!   build (what Scryfall copies from TCGplayer), null when TCGplayer's row has none.
//! - Etched: about one foil-only card in three is an etched-only printing, stated as
//!   `tcgplayer_etched_id` with `tcgplayer_id` null and priced in `usd_etched`, as TCGplayer's
//!   "(Foil Etched)" products are.
//! - `eur*`: a Cardmarket-like figure, the market converted at 1.085 USD per EUR times a
//!   premium of the product's own (×0.6–1.05: Europe is mostly cheaper) wandering ±6 % over ten
//!   days, with ±3 % of daily noise; null for about 4 % of cards.
//! - `cardmarket_id`: the simulated Cardmarket's `idProduct` of the product ([`cardmarket_id`]),
//!   null for about 3 % of cards.
//!
//! Besides, the first Magic set gets cards our catalog cannot map: a promo without a
//! `tcgplayer_id` named like several cards of the set (ambiguous), a reprint whose
//! `tcgplayer_id` is unknown, a basic land without one, a Japanese-only promo; and there are a
//! card of a set we do not have (Alpha) and a digital-only one.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{
    catalog::{SimCatalog, SimGroup, SimProduct},
    market::{dollars, market_price, price_row},
    rng::{hash, unit},
};

/// Seconds between builds of the bulk files.
pub const BUILD_EVERY: i64 = 12 * 3600;
/// Builds happen at 09:10 and 21:10 UTC.
const BUILD_OFFSET: i64 = 9 * 3600 + 600;
/// USD per EUR the Cardmarket figures are converted at.
const USD_PER_EUR: f64 = 1.085;

/// The last build at or before `now`.
pub fn last_build(now: i64) -> i64 {
    (now - BUILD_OFFSET).div_euclid(BUILD_EVERY) * BUILD_EVERY + BUILD_OFFSET
}

fn datetime(secs: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default()
}

/// A build's `updated_at` (`2024-03-01T21:10:00.000+00:00`).
pub fn updated_at(build: i64) -> String {
    datetime(build)
        .format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        .to_string()
}

/// A build's stamp in file names (`20240301211000`).
pub fn stamp(build: i64) -> String {
    datetime(build).format("%Y%m%d%H%M%S").to_string()
}

/// The simulator's Cardmarket `idProduct` of our product `product_id`: the one its Cardmarket
/// price guide uses, so that the id bridge maps Cardmarket's Magic rows.
pub fn cardmarket_id(product_id: u64) -> u64 {
    crate::cardmarket::id_product(product_id)
}

/// A UUID-shaped id from a hash.
fn uuid(h: u64) -> String {
    let l = hash(&[h, 1]);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xFFFF,
        h & 0xFFF,
        l >> 52,
        l & 0xFFFF_FFFF_FFFF
    )
}

/// Scryfall's id of the card of our product `product_id` (the one the simulated Card Kingdom
/// states as `scryfall_id`).
pub fn scryfall_id(seed: u64, product_id: u64) -> String {
    uuid(hash(&[seed, product_id, 0x5CF]))
}

/// A card object of a bulk file: the fields Scryfall sends that a price reader may use, plus a
/// few it does not (so readers must skip what they do not know).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardOut {
    pub object: &'static str,
    pub id: String,
    pub oracle_id: String,
    pub tcgplayer_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcgplayer_etched_id: Option<u64>,
    pub cardmarket_id: Option<u64>,
    pub name: String,
    pub lang: &'static str,
    pub released_at: String,
    pub uri: String,
    pub layout: &'static str,
    pub digital: bool,
    pub finishes: Vec<&'static str>,
    pub set: String,
    pub set_name: String,
    pub set_type: &'static str,
    pub collector_number: String,
    pub rarity: String,
    pub prices: PricesOut,
}

/// A card's prices, as decimal strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PricesOut {
    pub usd: Option<String>,
    pub usd_foil: Option<String>,
    pub usd_etched: Option<String>,
    pub eur: Option<String>,
    pub eur_foil: Option<String>,
    pub tix: Option<String>,
}

fn money(cents: i64) -> String {
    format!("{:.2}", dollars(cents))
}

/// Scryfall's name of a product: without TCGplayer's treatment in brackets.
fn scryfall_name(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name)
}

/// Cardmarket's figure for a printing whose TCGplayer market is `usd_cents`, in euro cents.
fn euro_cents(seed: u64, p: &SimProduct, printing: usize, usd_cents: f64, t: i64) -> Option<i64> {
    let key = hash(&[seed, p.product_id, printing as u64, 0xE0]);
    if unit(hash(&[key, 1])) < 0.04 {
        return None;
    }
    let premium = (0.6f64.ln() + (1.05f64 / 0.6).ln() * unit(hash(&[key, 2]))).exp();
    let phase = unit(hash(&[key, 3])) * std::f64::consts::TAU;
    let wobble = 0.06 * (t as f64 / (10.0 * 86_400.0) * std::f64::consts::TAU + phase).sin();
    let day = t.div_euclid(86_400) as u64;
    let noise = 0.06 * (unit(hash(&[key, 4, day])) - 0.5);
    let cents = usd_cents / USD_PER_EUR * premium * (wobble + noise).exp();
    Some((cents.round() as i64).max(2))
}

/// Whether a foil-only product is an etched-only printing here.
fn is_etched(seed: u64, p: &SimProduct) -> bool {
    p.printings == [1] && unit(hash(&[seed, p.product_id, 0xE7C4])) < 0.34
}

/// The card object of one of our Magic cards at build `t`.
pub fn card_of(seed: u64, g: &SimGroup, p: &SimProduct, t: i64) -> CardOut {
    let h = hash(&[seed, p.product_id, 0x5CF]);
    let id = scryfall_id(seed, p.product_id);
    let etched = is_etched(seed, p);
    let market = |i: usize| {
        p.printings
            .contains(&i)
            .then(|| price_row(seed, p, i, t).market)
            .flatten()
    };
    let eur = |i: usize| {
        p.printings
            .contains(&i)
            .then(|| euro_cents(seed, p, i, market_price(seed, p, i, t), t))
            .flatten()
    };
    let mut prices = PricesOut::default();
    let mut finishes = Vec::new();
    if etched {
        finishes.push("etched");
        prices.usd_etched = market(1).map(money);
    } else {
        if p.printings.contains(&0) {
            finishes.push("nonfoil");
        }
        if p.printings.contains(&1) {
            finishes.push("foil");
        }
        prices.usd = market(0).map(money);
        prices.usd_foil = market(1).map(money);
        prices.eur = eur(0).map(money);
        prices.eur_foil = eur(1).map(money);
    }
    let number = p.number.as_deref().unwrap_or("0");
    CardOut {
        object: "card",
        uri: format!("https://api.scryfall.com/cards/{id}"),
        id,
        oracle_id: uuid(hash(&[seed, hash_str(scryfall_name(&p.name))])),
        tcgplayer_id: (!etched).then_some(p.product_id),
        tcgplayer_etched_id: etched.then_some(p.product_id),
        cardmarket_id: (unit(hash(&[h, 7])) >= 0.03).then(|| cardmarket_id(p.product_id)),
        name: scryfall_name(&p.name).to_owned(),
        lang: "en",
        released_at: g.published_on.chars().take(10).collect(),
        layout: "normal",
        digital: false,
        finishes,
        set: g.abbreviation.to_lowercase(),
        set_name: g.name.clone(),
        set_type: "expansion",
        collector_number: number.trim_start_matches('0').to_owned(),
        rarity: p.rarity.clone().unwrap_or_default().to_lowercase(),
        prices,
    }
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A card of our catalog's set `g` that our catalog has no product for.
fn stray(seed: u64, g: &SimGroup, k: u64, name: &str, number: String) -> CardOut {
    let h = hash(&[seed, u64::from(g.group_id), k, 0x57A4]);
    CardOut {
        object: "card",
        id: uuid(h),
        oracle_id: uuid(hash(&[seed, hash_str(name)])),
        tcgplayer_id: None,
        tcgplayer_etched_id: None,
        cardmarket_id: None,
        name: name.to_owned(),
        lang: "en",
        released_at: g.published_on.chars().take(10).collect(),
        uri: format!("https://api.scryfall.com/cards/{}", uuid(h)),
        layout: "normal",
        digital: false,
        finishes: vec!["nonfoil"],
        set: g.abbreviation.to_lowercase(),
        set_name: g.name.clone(),
        set_type: "expansion",
        collector_number: number,
        rarity: "rare".into(),
        prices: PricesOut {
            eur: Some(money(150 + (h % 900) as i64)),
            ..PricesOut::default()
        },
    }
}

/// The cards our catalog cannot map, for the first Magic set `g` (see the module docs).
fn strays(seed: u64, cat: &SimCatalog, g: &SimGroup) -> Vec<CardOut> {
    let products = cat.products_of(g);
    let total = products.len();
    let mut out = Vec::new();
    // A name of several cards of the set, none or several of them without a treatment: the
    // name alone cannot tell them apart.
    let cards = || products.iter().filter(|p| !p.is_sealed());
    let twice = cards().map(|p| scryfall_name(&p.name)).find(|n| {
        cards().filter(|p| scryfall_name(&p.name) == *n).count() >= 2
            && cards().filter(|p| p.name == *n).count() != 1
    });
    if let Some(name) = twice {
        out.push(stray(seed, g, 1, name, "1p".into()));
    }
    let mut unknown = stray(seed, g, 2, "Mishra's Bauble", format!("{}", total + 1));
    unknown.tcgplayer_id = Some(9_000_000 + u64::from(g.group_id));
    unknown.prices.usd = Some(money(450));
    out.push(unknown);
    out.push(stray(seed, g, 3, "Island", format!("{}", total + 2)));
    let mut japanese = stray(seed, g, 4, "Lightning Bolt", format!("{}", total + 3));
    japanese.lang = "ja";
    out.push(japanese);
    out
}

/// Cards of sets we do not have, and digital ones: every reader skips them.
fn elsewhere(seed: u64) -> Vec<CardOut> {
    let alpha = SimGroup {
        group_id: 1,
        category_id: 1,
        name: "Limited Edition Alpha".into(),
        abbreviation: "LEA".into(),
        published_on: "1993-08-05T00:00:00".into(),
        products: 0..0,
    };
    let mut lotus = stray(seed, &alpha, 1, "Black Lotus", "232".into());
    lotus.tcgplayer_id = Some(1_042);
    lotus.prices.usd = Some(money(3_500_000));
    let arena = SimGroup {
        name: "Alchemy: Modern Horizons 3".into(),
        abbreviation: "YMH3".into(),
        ..alpha
    };
    let mut digital = stray(seed, &arena, 2, "Emrakul, the World Anew", "A-6".into());
    digital.digital = true;
    vec![lotus, digital]
}

/// Every card object of the bulk file built at `build` (`default_cards`: English, or the only
/// printed language).
pub fn cards(seed: u64, cat: &SimCatalog, build: i64, step_secs: u64) -> Vec<CardOut> {
    let t = crate::market::quote_time(build, step_secs);
    let mut out = Vec::new();
    for (i, g) in cat.groups_of(1).enumerate() {
        out.extend(
            cat.products_of(g)
                .iter()
                .filter(|p| !p.is_sealed())
                .map(|p| card_of(seed, g, p, t)),
        );
        if i == 0 {
            out.extend(strays(seed, cat, g));
        }
    }
    if !out.is_empty() {
        out.extend(elsewhere(seed));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_twelve_hours() {
        // 2024-03-01T21:00:00Z → the 09:10 build; 21:10 on → the 21:10 build.
        let t = 1_709_326_800;
        assert_eq!(updated_at(last_build(t)), "2024-03-01T09:10:00.000+00:00");
        assert_eq!(stamp(last_build(t + 600)), "20240301211000");
        assert_eq!(last_build(t + 600), last_build(t + 600 + BUILD_EVERY - 1));
    }

    #[test]
    fn cards_follow_the_catalog_and_the_market() {
        let cat = SimCatalog::generate(3, &[1, 3], 2, 40, 1);
        let build = last_build(1_709_326_800);
        let cards = cards(3, &cat, build, 60);
        let magic = cat
            .products
            .iter()
            .filter(|p| p.category_id == 1 && !p.is_sealed())
            .count();
        assert!(
            cards.len() > magic,
            "{} cards, {magic} products",
            cards.len()
        );
        let t = crate::market::quote_time(build, 60);
        for c in cards
            .iter()
            .filter(|c| c.tcgplayer_id.is_some_and(|id| id < 9_000_000))
        {
            let Some(p) = c.tcgplayer_id.and_then(|id| cat.product(id)) else {
                continue;
            };
            if let (Some(usd), Some(m)) = (&c.prices.usd, price_row(3, p, 0, t).market) {
                assert_eq!(usd, &money(m));
            }
            if let (Some(usd), Some(eur)) = (&c.prices.usd, &c.prices.eur) {
                let (u, e): (f64, f64) = (usd.parse().unwrap(), eur.parse().unwrap());
                let ratio = e * USD_PER_EUR / u;
                assert!(
                    (0.5..1.25).contains(&ratio) || u < 0.5,
                    "{ratio} {usd} {eur}"
                );
            }
        }
        assert!(cards.iter().any(|c| c.tcgplayer_etched_id.is_some()));
        assert!(cards.iter().any(|c| c.lang == "ja"));
        assert!(cards.iter().any(|c| c.digital));
    }
}
