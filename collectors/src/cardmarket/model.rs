//! Cardmarket's published files, as serde shapes, and what their figures mean to us.
//!
//! - `productCatalog/priceGuide/price_guide_{game}.json`:
//!   `{"version":1,"createdAt":"2025-09-05T02:45:12+0200","priceGuides":[{"idProduct":…,
//!   "idCategory":…,"avg":…,"low":…,"trend":…,"avg1":…,"avg7":…,"avg30":…,"avg-foil":…, …}]}`.
//!   Every game but Pokémon suffixes its second printing's figures `-foil`; Pokémon's guide
//!   suffixes them `-holo`, and they are the reverse holo's (Cardmarket's product is the card;
//!   "reverse holo" is an attribute of an offer). A `trend-foil` of exactly `0` with the other
//!   foil figures null is Cardmarket's "no such printing": figures ≤ 0 are absent.
//! - `productCatalog/productList/products_singles_{game}.json` and
//!   `products_nonsingles_{game}.json`: `{"version":1,"createdAt":…,"products":[{"idProduct":…,
//!   "name":…,"idCategory":…,"categoryName":…,"idExpansion":…,"idMetacard":…,"dateAdded":…}]}`.
//!   No collector number and no expansion name: only the expansion's id.

use serde::Deserialize;
use tcg_schemas::{Currency, Money, PriceKind};

use crate::identity::CatalogEntry;

/// A list whose rows are read one by one: a row that does not fit its shape is kept aside
/// (counted), never the end of the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Row<T> {
    Good(T),
    Bad(serde_json::Value),
}

/// `price_guide_{game}.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceGuideFile {
    #[serde(default)]
    pub version: u32,
    /// When Cardmarket built the file (`2025-09-05T02:45:12+0200`); the day's edition.
    pub created_at: String,
    pub price_guides: Vec<Row<PriceGuideRow>>,
}

/// One product's figures, in EUR. `None` (or ≤ 0) is absent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PriceGuideRow {
    #[serde(rename = "idProduct")]
    pub id_product: u64,
    #[serde(rename = "idCategory", default)]
    pub id_category: Option<u32>,
    #[serde(flatten)]
    pub base: Figures,
    #[serde(flatten)]
    pub foil: FoilFigures,
    #[serde(flatten)]
    pub holo: HoloFigures,
}

/// The six figures of the product's first printing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct Figures {
    /// Average sell price.
    #[serde(default)]
    pub avg: Option<f64>,
    /// Lowest price offered (any condition, any language).
    #[serde(default)]
    pub low: Option<f64>,
    /// Cardmarket's price trend.
    #[serde(default)]
    pub trend: Option<f64>,
    /// Average sell price over the last day.
    #[serde(default)]
    pub avg1: Option<f64>,
    /// … the last 7 days.
    #[serde(default)]
    pub avg7: Option<f64>,
    /// … the last 30 days.
    #[serde(default)]
    pub avg30: Option<f64>,
}

/// The same figures for the foil (`-foil`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct FoilFigures {
    #[serde(rename = "avg-foil", default)]
    pub avg: Option<f64>,
    #[serde(rename = "low-foil", default)]
    pub low: Option<f64>,
    #[serde(rename = "trend-foil", default)]
    pub trend: Option<f64>,
    #[serde(rename = "avg1-foil", default)]
    pub avg1: Option<f64>,
    #[serde(rename = "avg7-foil", default)]
    pub avg7: Option<f64>,
    #[serde(rename = "avg30-foil", default)]
    pub avg30: Option<f64>,
}

/// The same figures for Pokémon's reverse holo (`-holo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct HoloFigures {
    #[serde(rename = "avg-holo", default)]
    pub avg: Option<f64>,
    #[serde(rename = "low-holo", default)]
    pub low: Option<f64>,
    #[serde(rename = "trend-holo", default)]
    pub trend: Option<f64>,
    #[serde(rename = "avg1-holo", default)]
    pub avg1: Option<f64>,
    #[serde(rename = "avg7-holo", default)]
    pub avg7: Option<f64>,
    #[serde(rename = "avg30-holo", default)]
    pub avg30: Option<f64>,
}

impl From<FoilFigures> for Figures {
    fn from(f: FoilFigures) -> Self {
        Figures {
            avg: f.avg,
            low: f.low,
            trend: f.trend,
            avg1: f.avg1,
            avg7: f.avg7,
            avg30: f.avg30,
        }
    }
}

impl From<HoloFigures> for Figures {
    fn from(f: HoloFigures) -> Self {
        Figures {
            avg: f.avg,
            low: f.low,
            trend: f.trend,
            avg1: f.avg1,
            avg7: f.avg7,
            avg30: f.avg30,
        }
    }
}

/// What became of a printing's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Priced {
    /// (kind, EUR) for every present figure.
    pub prices: Vec<(PriceKind, Money)>,
    /// Figures present but not convertible (more than two decimals, absurd).
    pub dropped: usize,
}

impl Figures {
    /// Kind by kind: trend, avg, avg1, avg7, avg30, low.
    pub fn by_kind(&self) -> [(PriceKind, Option<f64>); 6] {
        [
            (PriceKind::Trend, self.trend),
            (PriceKind::Avg, self.avg),
            (PriceKind::Avg1, self.avg1),
            (PriceKind::Avg7, self.avg7),
            (PriceKind::Avg30, self.avg30),
            (PriceKind::Low, self.low),
        ]
    }

    /// The present figures in EUR cents (≤ 0 is Cardmarket's "none").
    pub fn priced(&self) -> Priced {
        let mut out = Priced::default();
        for (kind, value) in self.by_kind() {
            let Some(v) = value.filter(|v| !v.is_nan() && *v > 0.0) else {
                continue;
            };
            match Money::from_json_number(v, Currency::EUR) {
                Ok(m) if m.is_positive() => out.prices.push((kind, m)),
                _ => out.dropped += 1,
            }
        }
        out
    }
}

/// `products_singles_{game}.json` or `products_nonsingles_{game}.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductListFile {
    #[serde(default)]
    pub version: u32,
    pub created_at: String,
    pub products: Vec<Row<ProductRow>>,
}

/// One Cardmarket product.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRow {
    pub id_product: u64,
    pub name: String,
    #[serde(default)]
    pub id_category: Option<u32>,
    #[serde(default)]
    pub category_name: Option<String>,
    /// The expansion (set); Cardmarket publishes no list naming them.
    #[serde(default)]
    pub id_expansion: Option<u32>,
    /// The card across its printings.
    #[serde(default)]
    pub id_metacard: Option<u64>,
    /// `2025-04-25 16:25:10`, or `0000-00-00 00:00:00` when unknown.
    #[serde(default)]
    pub date_added: Option<String>,
}

/// The collector number a Cardmarket name carries, if any: One Piece writes it in parentheses
/// (`Roronoa Zoro (OP01-001)`). Only a parenthesised word with a dash and a digit and no space
/// counts (`(V.2)` and `(Red 2/1)` do not).
pub fn number_in_name(name: &str) -> Option<&str> {
    let mut rest = name;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let close = after.find(')')?;
        let inner = after[..close].trim();
        let looks_like_number = inner.contains('-')
            && inner.bytes().any(|b| b.is_ascii_digit())
            && !inner.contains(char::is_whitespace)
            && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if looks_like_number {
            return Some(inner);
        }
        rest = &after[close + 1..];
    }
    None
}

/// The printing Cardmarket's first figures are for, in TCGplayer's words, for a Pokémon card
/// (Cardmarket's product is the card; its reverse holo is the `-holo` figures): "Holofoil" when
/// the card can only be a holo (an ex/EX/GX/V/VMAX/VSTAR card, a secret rare numbered beyond its
/// set, a lettered subset such as TG or GG), else "Normal". A holo rare without those marks is
/// named "Normal" here and settled to its Holofoil on the way out (`identity::PrintingSink`).
pub fn pokemon_base_printing(entry: &CatalogEntry) -> &'static str {
    const HOLO_ONLY: [&str; 9] = [
        "ex", "EX", "GX", "V", "VMAX", "VSTAR", "V-UNION", "BREAK", "LV.X",
    ];
    if entry.sealed {
        return "Normal";
    }
    let base = entry.name.split(" - ").next().unwrap_or(&entry.name);
    let marked = base
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .any(|w| HOLO_ONLY.contains(&w));
    let beyond = entry.number.as_deref().is_some_and(|n| {
        let mut parts = n.split('/');
        let head = parts.next().unwrap_or("");
        let lettered = head.starts_with(|c: char| c.is_ascii_alphabetic());
        let secret = match (head.parse::<u32>(), parts.next().map(str::parse::<u32>)) {
            (Ok(a), Some(Ok(total))) => a > total,
            _ => false,
        };
        lettered || secret
    });
    if marked || beyond {
        "Holofoil"
    } else {
        "Normal"
    }
}

/// How a game's first figures are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Fixed(&'static str),
    /// [`pokemon_base_printing`].
    Pokemon,
}

/// Which suffix a game's second figures carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suffix {
    Foil,
    Holo,
}

/// A Cardmarket game: its id in the file names, our category, and its printings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Game {
    pub id: u32,
    pub category: u32,
    pub name: &'static str,
    base: Base,
    second: Option<(Suffix, &'static str)>,
}

/// The games we know (Cardmarket id → TCGplayer category). Yu-Gi-Oh!'s figures pool every
/// edition and are taken for "1st Edition"; its and One Piece's `-foil` figures name no
/// TCGplayer printing and are not read.
pub const GAMES: [Game; 5] = [
    Game {
        id: 1,
        category: 1,
        name: "Magic",
        base: Base::Fixed("Normal"),
        second: Some((Suffix::Foil, "Foil")),
    },
    Game {
        id: 3,
        category: 2,
        name: "Yu-Gi-Oh!",
        base: Base::Fixed("1st Edition"),
        second: None,
    },
    Game {
        id: 6,
        category: 3,
        name: "Pokémon",
        base: Base::Pokemon,
        second: Some((Suffix::Holo, "Reverse Holofoil")),
    },
    Game {
        id: 18,
        category: 68,
        name: "One Piece",
        base: Base::Fixed("Normal"),
        second: None,
    },
    Game {
        id: 19,
        category: 71,
        name: "Lorcana",
        base: Base::Fixed("Normal"),
        second: Some((Suffix::Foil, "Cold Foil")),
    },
];

impl Game {
    pub fn by_id(id: u32) -> Option<&'static Game> {
        GAMES.iter().find(|g| g.id == id)
    }

    pub fn by_category(category: u32) -> Option<&'static Game> {
        GAMES.iter().find(|g| g.category == category)
    }

    /// The printing the unsuffixed figures are for, in TCGplayer's words.
    pub fn base_printing(&self, entry: Option<&CatalogEntry>) -> &'static str {
        match (self.base, entry) {
            (Base::Fixed(p), _) => p,
            (Base::Pokemon, Some(e)) => pokemon_base_printing(e),
            (Base::Pokemon, None) => "Normal",
        }
    }

    /// The second printing's figures and its name in TCGplayer's words, when the game has one.
    pub fn second_printing(&self, row: &PriceGuideRow) -> Option<(Figures, &'static str)> {
        self.second.map(|(suffix, printing)| match suffix {
            Suffix::Foil => (row.foil.into(), printing),
            Suffix::Holo => (row.holo.into(), printing),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::{CategoryId, ProductId};

    #[test]
    fn numbers_are_read_from_one_piece_names_only() {
        assert_eq!(number_in_name("Roronoa Zoro (OP01-001)"), Some("OP01-001"));
        assert_eq!(
            number_in_name("Nami (OP05-003) (V.2)"),
            Some("OP05-003"),
            "the first numbered part"
        );
        assert_eq!(number_in_name("Ancient Tomb (V.1)"), None);
        assert_eq!(number_in_name("Ragavan Token (Red 2/1)"), None);
        assert_eq!(number_in_name("Weedle [Multiply]"), None);
        assert_eq!(number_in_name("Broken (OP01-001"), None);
    }

    #[test]
    fn zero_and_null_figures_are_absent() {
        let f = Figures {
            trend: Some(0.0),
            avg: Some(1862.5),
            low: Some(1000.0),
            avg1: None,
            avg7: Some(-1.0),
            avg30: Some(0.123),
        };
        let p = f.priced();
        assert_eq!(
            p.prices,
            vec![
                (PriceKind::Avg, Money::new(186_250, Currency::EUR)),
                (PriceKind::Low, Money::new(100_000, Currency::EUR)),
            ]
        );
        assert_eq!(p.dropped, 1, "three decimals are not a price");
    }

    fn entry(name: &str, number: Option<&str>) -> CatalogEntry {
        CatalogEntry {
            product_id: ProductId(1),
            category_id: CategoryId(3),
            name: name.into(),
            number: number.map(Into::into),
            set_name: None,
            set_code: None,
            sealed: number.is_none(),
        }
    }

    #[test]
    fn pokemon_base_printings() {
        let p = |n: &str, num: &str| pokemon_base_printing(&entry(n, Some(num)));
        assert_eq!(p("Charizard ex - 199/165", "199/165"), "Holofoil");
        assert_eq!(p("Charizard ex", "006/165"), "Holofoil");
        assert_eq!(
            p("Umbreon VMAX (Alternate Art Secret)", "215/203"),
            "Holofoil"
        );
        assert_eq!(p("Pikachu", "025/165"), "Normal");
        assert_eq!(p("Pikachu", "TG05/TG30"), "Holofoil");
        assert_eq!(p("Professor's Research", "189/198"), "Normal");
        assert_eq!(
            pokemon_base_printing(&entry("Obsidian Flames Booster Box", None)),
            "Normal"
        );
    }
}
