//! Which of our products a Card Kingdom row is, and the quotes it makes.
//!
//! Identity (Magic, category 1): the Scryfall id of the row when some source taught the
//! [`IdBridge`] its TCGplayer product (`(Source::Scryfall, scryfall_id)`; never for etched rows,
//! whose TCGplayer product differs); else [`ProductIndex::find`] with the row's name, its
//! treatment in parentheses as TCGplayer names it (`variation` "Borderless" → "Name
//! (Borderless)", used only to break ties), the collector number from the `sku`
//! (`MH3-0123` → `0123`) and the set: Card Kingdom's `edition`, else the sku's set code (without
//! the `F`/`E`/`FE` prefix of foil and etched rows). Unmapped and ambiguous rows are listed.

use std::borrow::Cow;

use tcg_schemas::{
    CategoryId, Condition, Language, Mapping, MappingMethod, MarketRow, Money, PriceKind,
    ProductId, RawQuote, Source as QuoteSource, Subject, Timestamp,
};

use super::model::{Flag, Price, Row};
use crate::identity::{IdBridge, Lookup, Match, ProductIndex, UnmappedReason};

/// Card Kingdom's list is Magic only (its rows' paths are `mtg/<edition>/<card>`).
pub const MAGIC: CategoryId = CategoryId(1);

/// Card Kingdom's grades in our words: NM → Near Mint, EX → Lightly Played, VG → Moderately
/// Played, G → Heavily Played (the grades TCGplayer's series use; as MTGBAN maps them).
pub const GRADES: [Condition; 4] = [
    Condition::NearMint,
    Condition::LightlyPlayed,
    Condition::ModeratelyPlayed,
    Condition::HeavilyPlayed,
];

/// A mapped row's prices, ready to become quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub product_id: ProductId,
    /// Card Kingdom's product id.
    pub external_id: String,
    pub mapping: Mapping,
    /// "Foil" or "Normal" (TCGplayer's Magic printings).
    pub printing: &'static str,
    pub language: Option<Language>,
    /// Retail per grade of [`GRADES`].
    pub retail: [Option<Money>; 4],
    /// The buylist price (Near Mint) and the copies wanted.
    pub buy: Option<(Money, Option<u32>)>,
}

impl Priced {
    /// Its quotes: one `retail` per priced grade, one `buylist` (Near Mint).
    pub fn quotes(&self, observed_at: Timestamp, out: &mut Vec<RawQuote>) {
        let quote = |kind, price, condition: &Condition, quantity| RawQuote {
            source: QuoteSource::Cardkingdom,
            observed_at,
            kind,
            price,
            shipping: None,
            subject: Subject::Market(Box::new(MarketRow {
                category_id: MAGIC,
                product_id: self.product_id,
                external_id: self.external_id.clone(),
                mapping: self.mapping.clone(),
                printing: self.printing.to_owned(),
                condition: Some(condition.clone()),
                language: self.language.clone(),
                graded: None,
                quantity,
            })),
        };
        for (price, grade) in self.retail.iter().zip(&GRADES) {
            if let Some(price) = price {
                out.push(quote(PriceKind::Retail, *price, grade, None));
            }
        }
        if let Some((price, wanted)) = self.buy {
            out.push(quote(
                PriceKind::Buylist,
                price,
                &Condition::NearMint,
                wanted,
            ));
        }
    }

    pub fn quote_count(&self) -> usize {
        self.retail.iter().flatten().count() + usize::from(self.buy.is_some())
    }
}

/// A row of ours that maps to nothing or to several of our products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlisted {
    pub external_id: String,
    pub why: UnmappedReason,
    pub name: String,
    pub number: Option<String>,
    pub set: Option<String>,
    pub candidates: Vec<ProductId>,
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Priced(Priced),
    /// Mapped, but no positive price to quote (`detail` says which figures).
    NoPrices {
        product_id: ProductId,
        external_id: String,
        printing: &'static str,
        detail: String,
    },
    Unlisted(Unlisted),
    /// Not a row we can name (no id or name, an unreadable `is_foil`).
    Dropped(&'static str),
}

/// What a pass maps with.
#[derive(Debug, Clone, Copy)]
pub struct MapContext<'a> {
    pub index: &'a ProductIndex,
    /// The bridge, when it holds Scryfall ids at all.
    pub bridge: Option<&'a IdBridge>,
}

/// The row's fate: mapped and priced, mapped without prices, listed, or dropped. `unreadable`
/// counts the price figures that could not be read (left out, the rest quoted).
pub fn convert(row: &Row<'_>, ctx: MapContext<'_>, unreadable: &mut usize) -> RowOutcome {
    let (Some(id), Some(name)) = (text(&row.id), text(&row.name)) else {
        return RowOutcome::Dropped("a row without id or name");
    };
    let foil = match row.is_foil {
        Flag::Yes => true,
        Flag::No => false,
        Flag::Absent | Flag::Unreadable(_) => return RowOutcome::Dropped("is_foil unreadable"),
    };
    let variation = text(&row.variation).unwrap_or("");
    let described = Described::of(row, name, variation, foil);
    let found = identify(&described, row, variation, ctx);
    let printing = if foil { "Foil" } else { "Normal" };
    let (product_id, mapping) = match found {
        Match::Mapped {
            product_id,
            method,
            confidence,
        } => (product_id, Mapping { method, confidence }),
        Match::Ambiguous(ids) => return described.unlisted(id, UnmappedReason::Ambiguous, ids),
        Match::Unmapped => return described.unlisted(id, UnmappedReason::Unmapped, Vec::new()),
    };
    let (retail, buy, detail) = prices(row, unreadable);
    if retail.iter().all(Option::is_none) && buy.is_none() {
        return RowOutcome::NoPrices {
            product_id,
            external_id: id.to_owned(),
            printing,
            detail,
        };
    }
    RowOutcome::Priced(Priced {
        product_id,
        external_id: id.to_owned(),
        mapping,
        printing,
        language: language(variation),
        retail,
        buy,
    })
}

fn text<'r>(t: &'r Option<super::model::Text<'_>>) -> Option<&'r str> {
    t.as_ref()
        .map(|t| t.as_str().trim())
        .filter(|s| !s.is_empty())
}

/// Japanese printings say so in their variation ("JPN Alternate Art", "Japanese").
fn language(variation: &str) -> Option<Language> {
    let v = variation.to_ascii_lowercase();
    (v.contains("japanese") || v.split(|c: char| !c.is_alphanumeric()).any(|w| w == "jpn"))
        .then_some(Language::Japanese)
}

/// What the row says about its card, in the words of the lookup.
struct Described<'r> {
    /// The name with its treatment in parentheses.
    name: Cow<'r, str>,
    number: Option<&'r str>,
    /// Set names or codes to try, in order.
    sets: Vec<&'r str>,
    edition: Option<&'r str>,
}

impl<'r> Described<'r> {
    fn of(row: &'r Row<'_>, name: &'r str, variation: &'r str, foil: bool) -> Self {
        let (code, sku_number) = text(&row.sku).map_or((None, None), sku_parts);
        let variation_number = is_number(variation).then_some(variation);
        let name = if variation.is_empty() || variation_number.is_some() {
            Cow::Borrowed(name)
        } else {
            Cow::Owned(format!("{name} ({variation})"))
        };
        let edition = text(&row.edition);
        let etched = variation.to_ascii_lowercase().contains("etched");
        let mut sets: Vec<&str> = edition.into_iter().collect();
        if let Some(code) = code {
            sets.push(code);
            for (flag, prefix) in [(foil && etched, "FE"), (foil, "F"), (etched, "E")] {
                if flag && let Some(rest) = code.strip_prefix(prefix) {
                    sets.push(rest);
                }
            }
        }
        sets.retain(|s| !s.is_empty());
        sets.dedup();
        Described {
            name,
            number: sku_number.or(variation_number),
            sets,
            edition,
        }
    }

    fn unlisted(&self, id: &str, why: UnmappedReason, candidates: Vec<ProductId>) -> RowOutcome {
        RowOutcome::Unlisted(Unlisted {
            external_id: id.to_owned(),
            why,
            name: self.name.clone().into_owned(),
            number: self.number.map(str::to_owned),
            set: self.edition.map(str::to_owned),
            candidates,
        })
    }
}

/// `MH3-0123` → (`MH3`, `0123`); a tail without a digit is no collector number.
pub fn sku_parts(sku: &str) -> (Option<&str>, Option<&str>) {
    match sku.split_once('-') {
        Some((code, tail)) => (
            Some(code.trim()).filter(|c| !c.is_empty()),
            Some(tail.trim()).filter(|t| t.bytes().any(|b| b.is_ascii_digit())),
        ),
        None => (Some(sku.trim()).filter(|c| !c.is_empty()), None),
    }
}

/// A variation that is a collector number ("123", "#45a") rather than a treatment.
fn is_number(variation: &str) -> bool {
    let v = variation.trim().trim_start_matches('#');
    v.len() <= 8
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars().all(char::is_alphanumeric)
}

fn identify(d: &Described<'_>, row: &Row<'_>, variation: &str, ctx: MapContext<'_>) -> Match {
    let etched = variation.to_ascii_lowercase().contains("etched");
    if let (Some(bridge), Some(scryfall), false) = (ctx.bridge, text(&row.scryfall_id), etched)
        && let Some(product_id) = bridge.product(QuoteSource::Scryfall, scryfall)
        && ctx
            .index
            .get(product_id)
            .is_some_and(|e| e.category_id == MAGIC && !e.sealed)
    {
        return Match::Mapped {
            product_id,
            method: MappingMethod::ScryfallBridge,
            confidence: 100,
        };
    }
    for set in &d.sets {
        let found = ctx.index.find(&Lookup {
            category_id: MAGIC,
            name: &d.name,
            number: d.number,
            set: Some(set),
            sealed: false,
        });
        if found != Match::Unmapped {
            return found;
        }
    }
    Match::Unmapped
}

type Prices = ([Option<Money>; 4], Option<(Money, Option<u32>)>, String);

/// Retail per grade (Near Mint from `condition_values.nm_price`, else `price_retail`, which a
/// newly listed card has before its grades are filled), the buylist price and wanted copies,
/// and what was missing when nothing is priced.
fn prices(row: &Row<'_>, unreadable: &mut usize) -> Prices {
    let mut bad = Vec::new();
    let mut read = |field: &'static str, p: &Price| {
        if let Price::Unreadable(text) = p {
            *unreadable += 1;
            bad.push(format!("{field} {text:?} unreadable"));
        }
        p.positive()
    };
    let nm_retail = read("price_retail", &row.price_retail);
    let mut retail = [nm_retail, None, None, None];
    if let Some(cv) = &row.condition_values {
        retail = [
            read("nm_price", &cv.nm_price).or(nm_retail),
            read("ex_price", &cv.ex_price),
            read("vg_price", &cv.vg_price),
            read("g_price", &cv.g_price),
        ];
    }
    let buy = read("price_buy", &row.price_buy).map(|p| (p, row.qty_buying.0));
    let detail = if bad.is_empty() {
        "no positive retail or buylist price".to_owned()
    } else {
        format!("no positive retail or buylist price ({})", bad.join(", "))
    };
    (retail, buy, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::CatalogEntry;

    fn entry(id: u64, name: &str, number: &str, set: &str, code: &str) -> CatalogEntry {
        CatalogEntry {
            product_id: ProductId(id),
            category_id: MAGIC,
            name: name.into(),
            number: Some(number.into()),
            set_name: Some(set.into()),
            set_code: Some(code.into()),
            sealed: false,
        }
    }

    fn index() -> ProductIndex {
        ProductIndex::from_entries([
            entry(1, "Lightning Bolt", "0125", "Modern Horizons 3", "MH3"),
            entry(
                2,
                "Lightning Bolt (Borderless)",
                "0301",
                "Modern Horizons 3",
                "MH3",
            ),
            entry(
                3,
                "Lightning Bolt (Showcase)",
                "0302",
                "Modern Horizons 3",
                "MH3",
            ),
            entry(4, "Fatal Push", "0040", "Foundations", "FDN"),
        ])
    }

    fn row<'a>(
        id: &'a str,
        name: &'a str,
        variation: &'a str,
        edition: &'a str,
        sku: &'a str,
        foil: bool,
    ) -> Row<'a> {
        let t = |s: &'a str| Some(super::super::model::Text(Cow::Borrowed(s)));
        Row {
            id: t(id),
            sku: t(sku),
            name: t(name),
            variation: t(variation),
            edition: t(edition),
            is_foil: if foil { Flag::Yes } else { Flag::No },
            price_retail: Price::Usd(Money::usd_cents(299)),
            price_buy: Price::Usd(Money::usd_cents(120)),
            qty_buying: super::super::model::Qty(Some(8)),
            ..Row::default()
        }
    }

    fn outcome(r: &Row<'_>) -> RowOutcome {
        let index = index();
        convert(
            r,
            MapContext {
                index: &index,
                bridge: None,
            },
            &mut 0,
        )
    }

    fn product(o: &RowOutcome) -> Option<(u64, u8)> {
        match o {
            RowOutcome::Priced(p) => Some((p.product_id.0, p.mapping.confidence)),
            _ => None,
        }
    }

    #[test]
    fn name_number_and_edition_or_sku_code_map_a_row() {
        let plain = outcome(&row(
            "1",
            "Lightning Bolt",
            "",
            "Modern Horizons 3",
            "MH3-0125",
            false,
        ));
        assert_eq!(product(&plain), Some((1, 95)));
        // A variants edition of Card Kingdom's own is no set of ours: the sku's code is.
        let borderless = outcome(&row(
            "2",
            "Lightning Bolt",
            "Borderless",
            "Modern Horizons 3 Variants",
            "FMH3-0301",
            true,
        ));
        assert_eq!(product(&borderless), Some((2, 95)));
        let RowOutcome::Priced(p) = borderless else {
            unreachable!()
        };
        assert_eq!(p.printing, "Foil");
        // FDN's own F is kept for a non-foil row, stripped for a foil one.
        assert_eq!(
            product(&outcome(&row(
                "3",
                "Fatal Push",
                "",
                "Foundations Jumpstart",
                "FDN-040",
                false
            ))),
            Some((4, 95))
        );
        assert_eq!(
            product(&outcome(&row(
                "4",
                "Fatal Push",
                "",
                "Foundations Jumpstart",
                "FFDN-040",
                true
            ))),
            Some((4, 95))
        );
    }

    #[test]
    fn rows_without_a_number_use_the_treatment_to_break_ties_or_are_ambiguous() {
        let o = outcome(&row(
            "5",
            "Lightning Bolt",
            "Showcase",
            "Modern Horizons 3",
            "MH3-PRE",
            false,
        ));
        assert_eq!(product(&o), Some((3, 75)));
        let o = outcome(&row(
            "6",
            "Lightning Bolt",
            "Promo",
            "Modern Horizons 3",
            "MH3-PRE",
            false,
        ));
        let RowOutcome::Unlisted(u) = o else {
            panic!("{o:?}")
        };
        assert_eq!(u.why, UnmappedReason::Ambiguous);
        assert_eq!(u.candidates, vec![ProductId(1), ProductId(2), ProductId(3)]);
        assert_eq!(u.name, "Lightning Bolt (Promo)");
        let o = outcome(&row("7", "Black Lotus", "", "Alpha", "LEA-232", false));
        assert!(matches!(
            o,
            RowOutcome::Unlisted(Unlisted {
                why: UnmappedReason::Unmapped,
                ..
            })
        ));
    }

    #[test]
    fn grades_buylist_and_missing_prices() {
        let mut r = row(
            "1",
            "Lightning Bolt",
            "",
            "Modern Horizons 3",
            "MH3-0125",
            false,
        );
        r.condition_values = Some(super::super::model::ConditionValues {
            nm_price: Price::Usd(Money::usd_cents(0)),
            ex_price: Price::Usd(Money::usd_cents(239)),
            vg_price: Price::Unreadable("n/a".into()),
            g_price: Price::Usd(Money::usd_cents(150)),
            ..Default::default()
        });
        let index = index();
        let mut unreadable = 0;
        let RowOutcome::Priced(p) = convert(
            &r,
            MapContext {
                index: &index,
                bridge: None,
            },
            &mut unreadable,
        ) else {
            unreachable!()
        };
        assert_eq!(unreadable, 1);
        assert_eq!(
            p.retail,
            [
                Some(Money::usd_cents(299)),
                Some(Money::usd_cents(239)),
                None,
                Some(Money::usd_cents(150))
            ]
        );
        let mut quotes = Vec::new();
        p.quotes(Timestamp::from_secs(1_700_000_000), &mut quotes);
        assert_eq!(quotes.len(), p.quote_count());
        assert_eq!(quotes.len(), 4);
        let last = quotes.last().unwrap();
        assert_eq!(last.kind, PriceKind::Buylist);
        let Subject::Market(m) = &last.subject else {
            unreachable!()
        };
        assert_eq!(
            (m.quantity, m.condition.clone()),
            (Some(8), Some(Condition::NearMint))
        );
        r.price_retail = Price::Unreadable("x".into());
        r.price_buy = Price::Usd(Money::usd_cents(0));
        r.condition_values = None;
        let o = convert(
            &r,
            MapContext {
                index: &index,
                bridge: None,
            },
            &mut unreadable,
        );
        let RowOutcome::NoPrices { detail, .. } = o else {
            panic!("{o:?}")
        };
        assert!(detail.contains("price_retail \"x\" unreadable"), "{detail}");
    }

    #[test]
    fn the_bridge_maps_a_scryfall_id_but_not_an_etched_row() {
        let index = index();
        let bridge = IdBridge::default();
        bridge.learn(QuoteSource::Scryfall, "sf-1", ProductId(2));
        let ctx = MapContext {
            index: &index,
            bridge: Some(&bridge),
        };
        let mut r = row("9", "Lightning Bolt", "", "Somewhere", "XXX-1", false);
        r.scryfall_id = Some(super::super::model::Text(Cow::Borrowed("sf-1")));
        let RowOutcome::Priced(p) = convert(&r, ctx, &mut 0) else {
            unreachable!()
        };
        assert_eq!(
            (p.product_id, p.mapping.method, p.mapping.confidence),
            (ProductId(2), MappingMethod::ScryfallBridge, 100)
        );
        r.variation = Some(super::super::model::Text(Cow::Borrowed("Foil Etched")));
        assert!(matches!(convert(&r, ctx, &mut 0), RowOutcome::Unlisted(_)));
        assert_eq!(sku_parts("PLST-TAFR-1"), (Some("PLST"), Some("TAFR-1")));
        assert_eq!(language("JPN Alternate Art"), Some(Language::Japanese));
        assert_eq!(language("Borderless"), None);
        assert!(is_number("#045a") && !is_number("Borderless"));
    }

    #[test]
    fn rows_we_cannot_name_are_dropped() {
        let mut r = row(
            "1",
            "Lightning Bolt",
            "",
            "Modern Horizons 3",
            "MH3-0125",
            false,
        );
        r.is_foil = Flag::Unreadable("maybe".into());
        assert_eq!(outcome(&r), RowOutcome::Dropped("is_foil unreadable"));
        r.id = None;
        assert!(matches!(outcome(&r), RowOutcome::Dropped(_)));
    }
}
