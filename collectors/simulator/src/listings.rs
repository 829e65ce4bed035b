//! eBay listings for a searched product: realistic, noisy titles (graded with grades, lots,
//! proxies, other languages, sealed, typos), prices around the market, shipping, buying options.

use crate::{
    catalog::SimProduct,
    rng::{SplitMix, hash, unit},
};

/// What a listing really is (the simulator knows; the collector has to guess from the title).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Raw,
    Graded { grader: &'static str, tenths: u8 },
    Lot(u8),
    Proxy,
    Foreign(&'static str),
    Sealed,
}

/// One generated listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub item_number: u64,
    pub title: String,
    pub variant: Variant,
    pub price_cents: i64,
    pub shipping_cents: Option<i64>,
    pub auction: bool,
    pub best_offer: bool,
    pub seller: String,
    pub feedback_score: u32,
    pub feedback_pct: &'static str,
    pub country: &'static str,
    /// Hours ago the listing was created (or, for sales, sold).
    pub age_hours: u64,
    pub quantity: u32,
}

impl Listing {
    pub fn graded(&self) -> bool {
        matches!(self.variant, Variant::Graded { .. })
    }
}

const GRADERS: &[&str] = &["PSA", "BGS", "CGC", "SGC", "TAG", "ACE"];
const SELLERS: &[&str] = &[
    "cardsbymike",
    "pokevault_usa",
    "tcg_treasures",
    "slabkingz",
    "mintcondition88",
    "the_card_attic",
    "japan_direct_tcg",
    "bulkbarn",
    "grailhunter",
    "nm_or_better",
];
const LANGS: &[&str] = &[
    "Japanese", "JPN", "Korean", "Chinese", "German", "French", "Italian",
];
const FLAIR: &[&str] = &[
    "NM",
    "Near Mint",
    "MINT",
    "Pack Fresh",
    "🔥",
    "RARE",
    "Free Shipping",
    "L@@K",
    "TCG",
];

fn typo(title: &str, rng: &mut SplitMix) -> String {
    let chars: Vec<char> = title.chars().collect();
    if chars.len() < 4 {
        return title.to_owned();
    }
    let i = 1 + rng.below(chars.len() as u64 - 2) as usize;
    let mut out = chars.clone();
    match rng.below(3) {
        0 => out.swap(i, i + 1),
        1 => {
            out.remove(i);
        }
        _ => out.insert(i, chars[i]),
    }
    out.into_iter().collect()
}

/// Listing `slot` for product `p` in generation `generation` (listings churn over time).
pub fn listing(
    seed: u64,
    p: &SimProduct,
    market_cents: i64,
    slot: u64,
    generation: u64,
    game: &str,
) -> Listing {
    // One generator, drawn in a fixed order: variant, title, price, then the rest.
    let mut rng = SplitMix::new(hash(&[seed, p.product_id, slot, generation, 0x11]));
    let variant = draw_variant(&mut rng, p);
    let title = draw_title(&mut rng, p, variant, game);
    // Drawn apart from the generator so the other fields stay what they were.
    let outlier = unit(hash(&[seed, p.product_id, slot, generation, 0x0D]));
    let price_cents = draw_price(&mut rng, p, variant, market_cents, outlier);
    let shipping_cents = match rng.below(5) {
        0 | 1 => Some(0),
        2 => Some(125),
        3 => Some(499),
        _ => None,
    };
    let auction = rng.below(7) == 0;
    let seller = rng.pick(SELLERS).copied().unwrap_or("seller").to_owned();
    Listing {
        item_number: 110_000_000_000
            + hash(&[seed, p.product_id, slot, generation]) % 289_999_999_999,
        title,
        variant,
        price_cents,
        shipping_cents,
        auction,
        best_offer: !auction && rng.below(5) == 0,
        seller,
        feedback_score: rng.below(25_000) as u32,
        feedback_pct: ["100.0", "99.9", "99.5", "98.7", "97.2"][rng.below(5) as usize],
        country: if matches!(variant, Variant::Foreign("Japanese" | "JPN")) {
            "JP"
        } else if rng.below(10) == 0 {
            "GB"
        } else {
            "US"
        },
        age_hours: rng.below(24 * 30),
        quantity: if matches!(variant, Variant::Lot(_)) {
            1
        } else {
            1 + (rng.below(10) / 8) as u32
        },
    }
}

fn draw_variant(rng: &mut SplitMix, p: &SimProduct) -> Variant {
    let r = rng.next_f64();
    if p.is_sealed() {
        if r < 0.15 {
            Variant::Lot(2 + rng.below(4) as u8)
        } else {
            Variant::Sealed
        }
    } else if r < 0.50 {
        Variant::Raw
    } else if r < 0.76 {
        let grader = *rng.pick(GRADERS).unwrap_or(&"PSA");
        let half = matches!(grader, "BGS" | "CGC") && rng.below(3) == 0;
        let whole = 6 + rng.below(5) as u8;
        let tenths = if half && whole < 10 {
            whole * 10 + 5
        } else {
            whole * 10
        };
        Variant::Graded { grader, tenths }
    } else if r < 0.82 {
        Variant::Lot([2, 3, 4, 10][rng.below(4) as usize])
    } else if r < 0.86 {
        Variant::Proxy
    } else if r < 0.93 {
        Variant::Foreign(rng.pick(LANGS).copied().unwrap_or("Japanese"))
    } else {
        Variant::Sealed
    }
}

/// The title: what the card is, what the listing is, some flair; now and then a typo or all caps;
/// at most 80 characters.
fn draw_title(rng: &mut SplitMix, p: &SimProduct, variant: Variant, game: &str) -> String {
    let mut parts = card_words(rng, p, variant, game);
    variant_words(rng, p, variant, &mut parts);
    if rng.below(3) == 0 {
        parts.push(rng.pick(FLAIR).copied().unwrap_or("NM").to_owned());
    }
    let mut title = parts.join(" ");
    if rng.below(10) == 0 {
        title = typo(&title, rng);
    }
    if rng.below(12) == 0 {
        title = title.to_uppercase();
    }
    title.truncate(title.char_indices().nth(80).map_or(title.len(), |(i, _)| i));
    title
}

/// A lot's count, the game, the card's name, number, set and rarity (each maybe).
fn card_words(rng: &mut SplitMix, p: &SimProduct, variant: Variant, game: &str) -> Vec<String> {
    let number = p.number.clone().unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    match variant {
        Variant::Lot(n) if rng.below(2) == 0 => parts.push(format!("Lot of {n}")),
        Variant::Lot(n) => parts.push(format!("{n}x")),
        _ => {}
    }
    if rng.below(3) == 0 {
        parts.push(game.to_owned());
    }
    parts.push(p.name.clone());
    if !number.is_empty() && rng.below(5) > 0 {
        parts.push(if rng.below(4) == 0 {
            format!("#{number}")
        } else {
            number.clone()
        });
    }
    match rng.below(3) {
        0 => parts.push(p.set_name.clone()),
        1 => parts.push(p.set_code.clone()),
        _ => {}
    }
    if let Some(r) = &p.rarity
        && rng.below(3) == 0
    {
        parts.push(r.clone());
    }
    parts
}

/// The words that say what the listing is: a grade, "Proxy", a language, "Sealed", "NM" …
fn variant_words(rng: &mut SplitMix, p: &SimProduct, variant: Variant, parts: &mut Vec<String>) {
    match variant {
        Variant::Graded { grader, tenths } => {
            let grade = if tenths % 10 == 0 {
                format!("{}", tenths / 10)
            } else {
                format!("{}.5", tenths / 10)
            };
            let label = match (grader, tenths) {
                ("BGS", 100) if rng.below(3) == 0 => " Black Label".to_owned(),
                ("CGC", 100) if rng.below(2) == 0 => " Pristine".to_owned(),
                ("PSA", 100) if rng.below(2) == 0 => " GEM MINT".to_owned(),
                _ => String::new(),
            };
            if rng.below(3) == 0 {
                parts.push(format!("{grader}{grade}{label}"));
            } else {
                parts.push(format!("{grader} {grade}{label}"));
            }
        }
        Variant::Proxy => parts.push(
            ["Proxy", "Custom Orica", "Replica", "Fan Art Custom"][rng.below(4) as usize]
                .to_owned(),
        ),
        Variant::Foreign(lang) => parts.insert(0, lang.to_owned()),
        Variant::Sealed if !p.is_sealed() => parts
            .push(["Booster Pack", "Sealed Tin", "Booster Box"][rng.below(3) as usize].to_owned()),
        Variant::Sealed => {
            parts.push(["Factory Sealed", "New Sealed", "SEALED"][rng.below(3) as usize].to_owned())
        }
        Variant::Raw | Variant::Lot(_) => {
            if rng.below(2) == 0 {
                parts.push(
                    ["NM", "LP", "Near Mint", "Ungraded", "Raw"][rng.below(5) as usize].to_owned(),
                );
            }
        }
    }
}

/// The asking price: the market times what the variant is worth, with noise (within ±25 %), now
/// and then a deal (`outlier` < 0.04: ×0.55–0.75) or an overpriced one (> 0.96: ×1.4–2), ending
/// in .99, .95 or .00 like real ones.
fn draw_price(
    rng: &mut SplitMix,
    p: &SimProduct,
    variant: Variant,
    market_cents: i64,
    outlier: f64,
) -> i64 {
    let mult = match variant {
        Variant::Raw => 1.0,
        Variant::Graded { tenths, .. } => match tenths {
            100 => 3.0 + 5.0 * rng.next_f64(),
            95 => 2.0 + rng.next_f64(),
            90 => 1.4 + 0.5 * rng.next_f64(),
            _ => 0.9 + 0.4 * rng.next_f64(),
        },
        Variant::Lot(n) => f64::from(n) * 0.85,
        Variant::Proxy => 0.05 + 0.1 * rng.next_f64(),
        Variant::Foreign(_) => 0.6 + 0.4 * rng.next_f64(),
        Variant::Sealed => {
            if p.is_sealed() {
                1.0
            } else {
                0.5 + 3.0 * rng.next_f64()
            }
        }
    };
    let noise = (0.25 * (rng.next_f64() + rng.next_f64() - 1.0)).exp();
    let odd = if outlier < 0.04 {
        0.55 + 5.0 * outlier
    } else if outlier > 0.96 {
        1.4 + 15.0 * (outlier - 0.96)
    } else {
        1.0
    };
    let price_cents = ((market_cents as f64 * mult * noise * odd).round() as i64).max(99);
    match rng.below(3) {
        0 => (price_cents / 100) * 100 + 99,
        1 => (price_cents / 100) * 100 + 95,
        _ => ((price_cents + 50) / 100).max(1) * 100,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::SimCatalog;

    #[test]
    fn titles_are_noisy_but_deterministic() {
        let cat = SimCatalog::generate(5, &[3], 1, 10, 1);
        let p = &cat.products[0];
        let all: Vec<Listing> = (0..400)
            .map(|i| listing(5, p, 1000, i, 0, "Pokemon"))
            .collect();
        assert_eq!(all[7], listing(5, p, 1000, 7, 0, "Pokemon"));
        let graded = all.iter().filter(|l| l.graded()).count();
        assert!(graded > 50 && graded < 160, "{graded}");
        assert!(all.iter().any(|l| l.title.contains("PSA")));
        assert!(all.iter().any(|l| matches!(l.variant, Variant::Proxy)));
        assert!(all.iter().any(|l| matches!(l.variant, Variant::Lot(_))));
        assert!(
            all.iter()
                .all(|l| l.price_cents > 0 && l.title.chars().count() <= 80)
        );
    }

    #[test]
    fn raw_prices_scatter_around_the_market_with_a_few_outliers() {
        let cat = SimCatalog::generate(5, &[3], 1, 10, 1);
        let p = &cat.products[0];
        let market = 10_000;
        let raw: Vec<f64> = (0..4_000)
            .map(|i| listing(5, p, market, i, 3, "Pokemon"))
            .filter(|l| l.variant == Variant::Raw)
            .map(|l| l.price_cents as f64 / market as f64)
            .collect();
        let near = raw.iter().filter(|r| (0.75..=1.25).contains(*r)).count();
        let deals = raw.iter().filter(|r| **r < 0.7).count();
        let high = raw.iter().filter(|r| **r > 1.4).count();
        let n = raw.len();
        assert!(near * 100 >= n * 85, "{near} of {n} within ±25 %");
        assert!(
            deals * 100 >= n && deals * 100 <= n * 8,
            "{deals} deals of {n}"
        );
        assert!(
            high * 100 >= n && high * 100 <= n * 8,
            "{high} overpriced of {n}"
        );
    }
}
