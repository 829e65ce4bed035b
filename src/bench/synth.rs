//! A synthetic market for benchmarks: TCGplayer product and SKU rows and eBay listings with noisy
//! titles, as successive polls (so prices repeat, change, and listings are seen again).

use rand::{Rng, SeedableRng, rngs::StdRng};
use tcg_schemas::{
    CategoryId, EbayItem, GroupId, Money, PriceKind, ProductId, RawQuote, SkuId, Source, Subject,
    Timestamp, TrackedCard, Wanted,
};

const NAMES: &[&str] = &[
    "Charizard ex",
    "Pikachu",
    "Mewtwo V",
    "Umbreon VMAX",
    "Black Lotus",
    "Lightning Bolt",
    "Dark Magician",
    "Blue-Eyes White Dragon",
    "Monkey.D.Luffy",
    "Elsa - Spirit of Winter",
];
const SETS: &[(&str, &str)] = &[
    ("Scarlet & Violet 151", "MEW"),
    ("Evolving Skies", "EVS"),
    ("Silver Tempest", "SIT"),
    ("Alpha", "LEA"),
    ("Legend of Blue Eyes", "LOB"),
    ("Romance Dawn", "OP01"),
];
const PRINTINGS: &[&str] = &["Normal", "Holofoil", "Reverse Holofoil"];
const NOISE: &[&str] = &[
    "",
    " NM",
    " Near Mint",
    " PSA 10",
    " PSA 9",
    " BGS 9.5",
    " CGC 10",
    " LP",
    " Lot of 4",
    " Proxy",
    " Japanese",
    " Booster Pack",
    " Holo Rare",
    " Free Shipping!!",
];

/// One card of the synthetic catalog.
struct Card {
    product: u64,
    category: u32,
    name: &'static str,
    number: String,
    set: (&'static str, &'static str),
}

/// `polls` rounds over `products` cards; each round emits product rows (market/low/mid), SKU rows
/// and a few eBay listings per card. Deterministic under `seed`.
pub fn market(seed: u64, products: u64, quotes: usize) -> Vec<RawQuote> {
    let mut rng = StdRng::seed_from_u64(seed);
    let cards = catalog(products);
    // The random draws keep their order (starting prices, then per poll and card: the move, then
    // each listing's price and shipping), so a seed gives the same market as it always has.
    let mut prices: Vec<i64> = cards.iter().map(|_| rng.random_range(25..50_000)).collect();
    let mut out = Vec::with_capacity(quotes);
    let start = 1_714_521_600i64;
    let mut round = 0i64;
    while out.len() < quotes {
        let t = Timestamp::from_secs(start + round * 3600);
        for (i, card) in cards.iter().enumerate() {
            if out.len() >= quotes {
                break;
            }
            let p = move_price(&mut rng, &mut prices[i]);
            let printing = PRINTINGS[i % PRINTINGS.len()];
            out.extend(product_rows(card, i, printing, p, t));
            out.extend(sku_rows(card, printing, p, t));
            for l in 0..3u64 {
                out.push(listing(&mut rng, card, l, printing, p, t));
            }
        }
        round += 1;
    }
    out.truncate(quotes);
    out
}

/// The synthetic catalog: `products` cards spread over categories, names and sets.
fn catalog(products: u64) -> Vec<Card> {
    (0..products)
        .map(|i| {
            let set = SETS[(i as usize) % SETS.len()];
            Card {
                product: 100_000 + i,
                category: [3, 1, 2, 68, 71][(i % 5) as usize],
                name: NAMES[(i as usize * 7) % NAMES.len()],
                number: format!("{}/{}", 1 + i % 200, 165 + (i % 3)),
                set,
            }
        })
        .collect()
}

/// A card's price at the next poll: about a third of the prices move between polls, by up to 5%.
fn move_price(rng: &mut StdRng, price: &mut i64) -> i64 {
    if rng.random_bool(0.33) {
        let step = (*price / 20).max(1);
        *price = (*price + rng.random_range(-step..=step)).max(1);
    }
    *price
}

/// TCGCSV's product rows of one card: market, low and mid.
fn product_rows(card: &Card, i: usize, printing: &str, p: i64, t: Timestamp) -> [RawQuote; 3] {
    [
        (PriceKind::Market, p),
        (PriceKind::Low, p * 9 / 10),
        (PriceKind::Mid, p * 11 / 10),
    ]
    .map(|(kind, cents)| RawQuote {
        source: Source::Tcgcsv,
        observed_at: t,
        kind,
        price: Money::usd_cents(cents.max(1)),
        shipping: None,
        subject: Subject::TcgProduct {
            category_id: CategoryId(card.category),
            group_id: Some(GroupId(3000 + (i as u32 % 50))),
            product_id: ProductId(card.product),
            sub_type_name: printing.to_owned(),
        },
    })
}

/// TCGplayer's lowest listings of one card's SKUs, in two conditions.
fn sku_rows(card: &Card, printing: &str, p: i64, t: Timestamp) -> [RawQuote; 2] {
    [1u32, 2].map(|condition| RawQuote {
        source: Source::Tcgplayer,
        observed_at: t,
        kind: PriceKind::LowestListing,
        price: Money::usd_cents((p * (6 - i64::from(condition)) / 5).max(1)),
        shipping: Some(Money::usd_cents(99)),
        subject: Subject::TcgSku {
            category_id: CategoryId(card.category),
            product_id: ProductId(card.product),
            sku_id: SkuId(card.product * 10 + u64::from(condition)),
            printing: printing.to_owned(),
            condition_id: condition,
            language_id: 1,
        },
    })
}

/// The card's eBay listing number `l`, with a noisy title and a price around the card's.
fn listing(
    rng: &mut StdRng,
    card: &Card,
    l: u64,
    printing: &str,
    p: i64,
    t: Timestamp,
) -> RawQuote {
    // A listing keeps its title from poll to poll, as real listings do.
    let noise = NOISE[((card.product * 31 + l * 7) % NOISE.len() as u64) as usize];
    let title = format!(
        "{} {} {} {}{}",
        card.name, card.number, card.set.0, card.set.1, noise
    );
    let graded = noise.contains("PSA") || noise.contains("BGS") || noise.contains("CGC");
    let item = card.product * 10 + l;
    // Price first, then shipping: the order of the draws.
    let price = Money::usd_cents((p * rng.random_range(80..130) / 100).max(1));
    let shipping = Money::usd_cents(rng.random_range(0..600));
    RawQuote {
        source: Source::EbayBrowse,
        observed_at: t,
        kind: PriceKind::Listing,
        price,
        shipping: Some(shipping),
        subject: Subject::EbayItem(Box::new(EbayItem {
            item_id: format!("v1|{item}|0"),
            title,
            condition_id: Some(if graded { "2750" } else { "4000" }.to_owned()),
            condition: None,
            buying_options: vec!["FIXED_PRICE".to_owned()],
            seller: Some("cardshop".to_owned()),
            url: None,
            item_country: Some("US".to_owned()),
            quantity_sold: None,
            target: TrackedCard {
                product_id: ProductId(card.product),
                category_id: CategoryId(card.category),
                name: card.name.to_owned(),
                number: Some(card.number.clone()),
                set_name: Some(card.set.0.to_owned()),
                set_code: Some(card.set.1.to_owned()),
                printing: Some(printing.to_owned()),
                language: None,
                want: Wanted::Any,
            },
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FNV-1a over the quotes' JSON: stable across Rust releases (unlike `DefaultHasher`).
    fn fingerprint(quotes: &[RawQuote]) -> u64 {
        let bytes = serde_json::to_vec(quotes).unwrap();
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    #[test]
    fn the_same_seed_gives_the_same_market() {
        // Pinned: benchmarks compare runs over time only if the market they replay is the same.
        let quotes = market(7, 40, 1_000);
        assert_eq!(quotes.len(), 1_000);
        assert_eq!(fingerprint(&quotes), 10_792_533_706_923_029_729);
        let cents = |q: &RawQuote| (q.price.minor, q.shipping.map(|s| s.minor));
        assert_eq!(cents(&quotes[0]), (1566, None));
        assert_eq!(cents(&quotes[5]), (1346, Some(580)));
        assert_eq!(cents(&quotes[7]), (1472, Some(242)));
        assert_eq!(cents(&quotes[999]), (11589, Some(571)));
        assert_eq!(quotes[999].source, Source::EbayBrowse);
        assert_eq!(market(7, 40, 1_000), quotes);
        assert_ne!(fingerprint(&market(8, 40, 1_000)), fingerprint(&quotes));
    }
}
