//! Card Kingdom's price list of the simulated Magic cards, in its real shape (`meta` + `data`
//! rows with string prices, `is_foil` as `"true"`/`"false"`, and per-grade retail in
//! `condition_values`).
//!
//! A shop's prices around TCGplayer's: the Near Mint retail is the printing's market price
//! ([`market_cents`], what TCGplayer's routes quote) × 1.10–1.35, rounded the way Card Kingdom
//! prices (`x.49`/`x.99` from a dollar, 5-cent steps below), its premium drawn per day; lower
//! grades are fixed ratios of it (EX/VG/G 0.85/0.75/0.65 from $25, else 0.8/0.7/0.5). The buylist
//! pays 0.45–0.65 × the market (a cent or a few for bulk), and about a fifth of the rows want no
//! copies (`qty_buying` 0). Treatments are split off the name into `variation`, whose rows sit
//! in a `"<set> Variants"` edition (so only the sku's set code maps them); foil skus carry an
//! `F` prefix. Besides the cards: rows no catalog of ours has (Alpha, Unlimited, a token, a
//! number the set lacks) and, per set, a promo row without a collector number naming a card the
//! set holds several of (ambiguous).

use chrono::DateTime;
use serde::Serialize;

use crate::{
    catalog::{SimCatalog, SimProduct},
    market::{DAY, market_cents},
    rng::{hash, unit},
};

/// The category Card Kingdom's list covers (Magic).
pub const MAGIC: u32 = 1;

/// The list as served.
#[derive(Debug, Clone, Serialize)]
pub struct PriceList {
    pub meta: Meta,
    pub data: Vec<Row>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub created_at: String,
    pub base_url: String,
}

/// One row, as Card Kingdom writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: u64,
    pub sku: String,
    pub scryfall_id: Option<String>,
    pub url: String,
    pub name: String,
    pub variation: String,
    pub edition: String,
    pub is_foil: String,
    pub price_retail: String,
    pub qty_retail: u32,
    pub price_buy: String,
    pub qty_buying: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_values: Option<ConditionValues>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConditionValues {
    pub nm_price: String,
    pub nm_qty: u32,
    pub ex_price: String,
    pub ex_qty: u32,
    pub vg_price: String,
    pub vg_qty: u32,
    pub g_price: String,
    pub g_qty: u32,
}

/// What a row is meant to map to (for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The product and the printing's index in its category.
    Maps {
        product_id: u64,
        printing: usize,
    },
    Unmapped,
    /// The products it names equally well, ascending.
    Ambiguous(Vec<u64>),
}

/// A row and what it is meant to map to.
#[derive(Debug, Clone)]
pub struct SimRow {
    pub row: Row,
    pub expect: Expect,
}

/// The prices of a row, in cents: Near Mint, EX, VG, G retail and the buylist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CkPrices {
    pub retail: [i64; 4],
    pub buy: i64,
    pub qty_buying: u32,
    pub stock: [u32; 4],
}

/// `"1.49"`.
pub fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Card Kingdom's price steps: `x.49`/`x.99` from a dollar, 5 cents below (25 ¢ at least).
fn ck_round(cents: f64) -> i64 {
    if cents < 100.0 {
        (((cents / 5.0).round() as i64) * 5).max(25)
    } else {
        ((cents / 50.0).ceil() as i64) * 50 - 1
    }
}

/// Card Kingdom's prices of a product's printing at `t`.
pub fn ck_prices(seed: u64, p: &SimProduct, printing: usize, t: i64) -> CkPrices {
    let market = market_cents(seed, p, printing, t) as f64;
    let day = t.div_euclid(DAY) as u64;
    let key = |salt: u64| hash(&[seed, p.product_id, printing as u64, salt, day]);
    let nm = ck_round(market * (1.10 + 0.25 * unit(key(0xC4))));
    let ratios = if nm >= 2_500 {
        [0.85, 0.75, 0.65]
    } else {
        [0.8, 0.7, 0.5]
    };
    let grade = |r: f64| ((nm as f64 * r).round() as i64).max(1);
    let buy = if market < 50.0 {
        1 + (key(0xB0) % 5) as i64
    } else {
        let raw = market * (0.45 + 0.2 * unit(key(0xB0)));
        ((raw / 5.0).floor() as i64 * 5).max(5)
    };
    let wants = key(0xB1);
    let qty_buying = if unit(wants) < 0.2 {
        0
    } else {
        1 + (wants % 20) as u32
    };
    let stock = key(0x57);
    CkPrices {
        retail: [nm, grade(ratios[0]), grade(ratios[1]), grade(ratios[2])],
        buy: buy.min(nm - 1).max(1),
        qty_buying,
        stock: [
            (stock % 9) as u32,
            ((stock >> 8) % 4) as u32,
            ((stock >> 16) % 3) as u32,
            ((stock >> 24) % 2) as u32,
        ],
    }
}

/// "Lightning Bolt (Borderless)" → ("Lightning Bolt", "Borderless").
pub fn split_treatment(name: &str) -> (&str, &str) {
    match name.strip_suffix(')').and_then(|n| n.rsplit_once(" (")) {
        Some((base, treatment)) => (base, treatment),
        None => (name, ""),
    }
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn scryfall_id(seed: u64, product_id: u64) -> String {
    let h = hash(&[seed, product_id, 0x5CF]);
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

/// One row from its names, sku and prices (with or without the v2 grades).
#[allow(clippy::too_many_arguments)]
fn row(
    id: u64,
    sku: String,
    scryfall: Option<String>,
    name: &str,
    variation: &str,
    edition: &str,
    foil: bool,
    c: &CkPrices,
    grades: bool,
) -> Row {
    let card = if variation.is_empty() {
        name.to_owned()
    } else {
        format!("{name} {variation}")
    };
    Row {
        id,
        sku,
        scryfall_id: scryfall,
        url: format!(
            "mtg/{}/{}{}",
            slug(edition),
            slug(&card),
            if foil { "-foil" } else { "" }
        ),
        name: name.to_owned(),
        variation: variation.to_owned(),
        edition: edition.to_owned(),
        is_foil: foil.to_string(),
        price_retail: dollars(c.retail[0]),
        qty_retail: c.stock.iter().sum(),
        price_buy: dollars(c.buy),
        qty_buying: c.qty_buying,
        condition_values: grades.then(|| ConditionValues {
            nm_price: dollars(c.retail[0]),
            nm_qty: c.stock[0],
            ex_price: dollars(c.retail[1]),
            ex_qty: c.stock[1],
            vg_price: dollars(c.retail[2]),
            vg_qty: c.stock[2],
            g_price: dollars(c.retail[3]),
            g_qty: c.stock[3],
        }),
    }
}

/// Every row of the list at `t` (see the module doc), `grades` for the v2 list.
pub fn rows(catalog: &SimCatalog, seed: u64, t: i64, grades: bool) -> Vec<SimRow> {
    let mut out = Vec::new();
    let Some(category) = catalog.category(MAGIC) else {
        out.extend(foreign_rows(None, seed, t, grades));
        return out;
    };
    for p in catalog
        .products
        .iter()
        .filter(|p| p.category_id == MAGIC && !p.is_sealed())
    {
        let (name, variation) = split_treatment(&p.name);
        let edition = if variation.is_empty() {
            p.set_name.clone()
        } else {
            format!("{} Variants", p.set_name)
        };
        for &printing in &p.printings {
            let foil = category
                .printings
                .get(printing)
                .is_some_and(|(_, n)| *n == "Foil");
            let number = p.number.as_deref().unwrap_or("0");
            let sku = format!("{}{}-{number}", if foil { "F" } else { "" }, p.set_code);
            let prices = ck_prices(seed, p, printing, t);
            out.push(SimRow {
                row: row(
                    p.product_id * 2 + u64::from(foil),
                    sku,
                    Some(scryfall_id(seed, p.product_id)),
                    name,
                    variation,
                    &edition,
                    foil,
                    &prices,
                    grades,
                ),
                expect: Expect::Maps {
                    product_id: p.product_id,
                    printing,
                },
            });
        }
    }
    out.extend(ambiguous_rows(catalog, seed, t, grades));
    let first = catalog
        .products
        .iter()
        .find(|p| p.category_id == MAGIC && !p.is_sealed());
    out.extend(foreign_rows(first, seed, t, grades));
    out
}

/// Per Magic set, a promo row without a collector number naming a card the set has several of.
fn ambiguous_rows(catalog: &SimCatalog, seed: u64, t: i64, grades: bool) -> Vec<SimRow> {
    let mut out = Vec::new();
    for (i, g) in catalog.groups_of(MAGIC).enumerate() {
        let cards: Vec<&SimProduct> = catalog
            .products_of(g)
            .iter()
            .filter(|p| !p.is_sealed())
            .collect();
        let twice = cards.iter().find_map(|p| {
            let base = split_treatment(&p.name).0;
            let same: Vec<u64> = cards
                .iter()
                .filter(|q| split_treatment(&q.name).0 == base)
                .map(|q| q.product_id)
                .collect();
            (same.len() > 1).then_some((*p, base, same))
        });
        let Some((p, base, mut same)) = twice else {
            continue;
        };
        same.sort_unstable();
        let prices = ck_prices(seed, p, 0, t);
        out.push(SimRow {
            row: row(
                900_000 + i as u64,
                format!("P{}-PROMO", g.abbreviation),
                None,
                base,
                "Promo",
                &g.name,
                true,
                &prices,
                grades,
            ),
            expect: Expect::Ambiguous(same),
        });
    }
    out
}

/// Rows no catalog of ours holds: Alpha's and Unlimited's power, a token of a set we have, and
/// one of our cards at a number its set does not have.
fn foreign_rows(ours: Option<&SimProduct>, seed: u64, t: i64, grades: bool) -> Vec<SimRow> {
    let fixed = |cents: i64| CkPrices {
        retail: [cents, cents * 85 / 100, cents * 75 / 100, cents * 65 / 100],
        buy: cents * 6 / 10,
        qty_buying: 1 + (hash(&[seed, cents as u64, t.div_euclid(DAY) as u64]) % 3) as u32,
        stock: [0, 1, 0, 1],
    };
    let mut out = vec![
        row(
            10_232,
            "LEA-232".into(),
            None,
            "Black Lotus",
            "",
            "Alpha",
            false,
            &fixed(3_999_999),
            grades,
        ),
        row(
            13_265,
            "2ED-265".into(),
            None,
            "Mox Sapphire",
            "",
            "Unlimited",
            false,
            &fixed(899_999),
            grades,
        ),
    ];
    if let Some(p) = ours {
        let (name, _) = split_treatment(&p.name);
        let tokens = format!("{} Tokens", p.set_name);
        let code = &p.set_code;
        out.push(row(
            950_011,
            format!("T{code}-0011"),
            None,
            "Goblin Token",
            "",
            &tokens,
            false,
            &fixed(49),
            grades,
        ));
        out.push(row(
            950_999,
            format!("{code}-9999"),
            Some(scryfall_id(seed, 9_999)),
            name,
            "Prerelease",
            &p.set_name,
            true,
            &fixed(1_299),
            grades,
        ));
    }
    out.into_iter()
        .map(|row| SimRow {
            row,
            expect: Expect::Unmapped,
        })
        .collect()
}

/// The list at `t` (quote time), `grades` for the v2 list.
pub fn price_list(catalog: &SimCatalog, seed: u64, t: i64, grades: bool) -> PriceList {
    let created_at = DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    PriceList {
        meta: Meta {
            created_at,
            base_url: "https://www.cardkingdom.com/".into(),
        },
        data: rows(catalog, seed, t, grades)
            .into_iter()
            .map(|r| r.row)
            .collect(),
    }
}

/// Whether the answer at `t` comes wrapped in `<html><head></head><body>` (Card Kingdom does
/// this now and then): one quote time in six.
pub fn html_wrapped(seed: u64, t: i64) -> bool {
    hash(&[seed, t as u64, 0x47]).is_multiple_of(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_sells_above_the_market_and_buys_well_below() {
        let cat = SimCatalog::generate(7, &[1], 2, 30, 1);
        let t = 1_709_326_800;
        let rows = rows(&cat, 7, t, true);
        let mut not_buying = 0;
        for r in &rows {
            let Expect::Maps {
                product_id,
                printing,
            } = r.expect
            else {
                continue;
            };
            let p = cat.product(product_id).unwrap();
            let c = ck_prices(7, p, printing, t);
            let m = market_cents(7, p, printing, t);
            assert!(
                c.retail[0] as f64 >= m as f64 * 1.05 || c.retail[0] <= 25,
                "{c:?} {m}"
            );
            assert!(
                c.retail[0] > c.retail[1] && c.retail[1] > c.retail[2] && c.retail[2] > c.retail[3]
            );
            assert!(
                c.buy < c.retail[0] && (c.buy as f64) <= m as f64 * 0.66 + 5.0,
                "{c:?} {m}"
            );
            not_buying += usize::from(c.qty_buying == 0);
            assert_eq!(r.row.qty_retail, c.stock.iter().sum::<u32>());
        }
        assert!(not_buying > 0);
        assert!(
            rows.iter()
                .any(|r| matches!(r.expect, Expect::Ambiguous(_)))
        );
        assert_eq!(
            rows.iter().filter(|r| r.expect == Expect::Unmapped).count(),
            4
        );
        assert_eq!(ck_round(1234.0), 1249);
        assert_eq!(ck_round(12.0), 25);
        assert_eq!(dollars(6999), "69.99");
        assert_eq!(
            split_treatment("Grief (Extended Art)"),
            ("Grief", "Extended Art")
        );
        let json = serde_json::to_string(&price_list(&cat, 7, t, false)).unwrap();
        assert!(json.contains("\"created_at\":\"2024-03-01 21:00:00\""));
        assert!(!json.contains("condition_values"));
    }
}
