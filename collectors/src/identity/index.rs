//! Our catalog, searchable by product id and by name + number + set.

use std::collections::HashMap;

use tcg_schemas::{CardSet, CategoryId, GroupId, MappingMethod, Product, ProductId};

/// One product of our catalog, with its set's name and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub product_id: ProductId,
    pub category_id: CategoryId,
    pub name: String,
    pub number: Option<String>,
    pub set_name: Option<String>,
    pub set_code: Option<String>,
    pub sealed: bool,
}

/// What another market says about one of its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup<'a> {
    pub category_id: CategoryId,
    pub name: &'a str,
    /// The collector number as the market writes it ("199/165", "004", "OP05-119").
    pub number: Option<&'a str>,
    /// The set's name or code as the market writes it.
    pub set: Option<&'a str>,
    /// Whether the market's product is sealed (never matched to a single card, nor back).
    pub sealed: bool,
}

/// The answer of [`ProductIndex::find`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Exactly one of our products fits.
    Mapped {
        product_id: ProductId,
        method: MappingMethod,
        /// 0–99: how much of name, number and set agreed.
        confidence: u8,
    },
    /// Several of ours fit equally well: listed, never guessed.
    Ambiguous(Vec<ProductId>),
    /// None of ours fits.
    Unmapped,
}

/// Our catalog. Cheap to share behind an `Arc`; rebuilt, not mutated, when the catalog grows.
#[derive(Debug, Clone, Default)]
pub struct ProductIndex {
    by_id: HashMap<ProductId, CatalogEntry>,
    /// (category, base name) → products.
    by_name: HashMap<(CategoryId, String), Vec<ProductId>>,
    /// The printings TCGplayer prices of each product, in its words.
    printings: HashMap<ProductId, Vec<String>>,
}

/// Printings that are a card's second, foil-like version: never taken for another printing.
const SECOND_PRINTINGS: [&str; 5] = [
    "Reverse Holofoil",
    "Foil",
    "Cold Foil",
    "Etched Foil",
    "Foil Etched",
];

/// A name as compared across markets: lower-case alphanumerics of the name without TCGplayer's
/// " - 199/165" number suffix and without parenthesised parts ("Monkey.D.Luffy (119) (Alternate
/// Art)" → "monkeydluffy"; the parts then only break ties).
pub fn fold_name(name: &str) -> String {
    let base = without_number_suffix(name);
    let mut out = String::with_capacity(base.len());
    let mut depth = 0u32;
    for c in base.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// The name without TCGplayer's " - 199/165" suffix.
fn without_number_suffix(name: &str) -> &str {
    match name.rfind(" - ") {
        Some(i) if name[i + 3..].bytes().any(|b| b.is_ascii_digit()) => &name[..i],
        _ => name,
    }
}

/// The name folded with its parenthesised parts (not its number suffix), for tie-breaks.
fn fold_variant(name: &str) -> String {
    fold_full(without_number_suffix(name))
}

/// Lower-case alphanumerics.
fn fold_full(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A collector number as compared across markets: the part before a `/`, lower-case
/// alphanumerics, leading zeros dropped ("004/198" → "4", "OP05-119" → "op05119", "TG07/TG30" →
/// "tg07").
pub fn fold_number(number: &str) -> String {
    let head = number.split('/').next().unwrap_or(number);
    let folded: String = head
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let trimmed = folded.trim_start_matches('0');
    if trimmed.is_empty() {
        folded
    } else {
        trimmed.to_owned()
    }
}

impl ProductIndex {
    /// The index of `products`, with the names and codes of `sets`.
    pub fn new(sets: &[CardSet], products: &[Product]) -> ProductIndex {
        let sets: HashMap<GroupId, &CardSet> = sets.iter().map(|s| (s.group_id, s)).collect();
        let entries = products.iter().map(|p| {
            let set = sets.get(&p.group_id);
            CatalogEntry {
                product_id: p.product_id,
                category_id: p.category_id,
                name: p.name.clone(),
                number: p.number.clone(),
                set_name: set.map(|s| s.name.clone()),
                set_code: set.and_then(|s| s.abbreviation.clone()),
                sealed: p.is_sealed(),
            }
        });
        ProductIndex::from_entries(entries)
    }

    pub fn from_entries(entries: impl IntoIterator<Item = CatalogEntry>) -> ProductIndex {
        let mut index = ProductIndex::default();
        for e in entries {
            let key = (e.category_id, fold_name(&e.name));
            let ids = index.by_name.entry(key).or_default();
            if !ids.contains(&e.product_id) {
                ids.push(e.product_id);
            }
            index.by_id.insert(e.product_id, e);
        }
        index
    }

    /// The index, knowing which printings TCGplayer prices of each product.
    #[must_use]
    pub fn with_printings(
        mut self,
        printings: impl IntoIterator<Item = (ProductId, String)>,
    ) -> Self {
        for (id, printing) in printings {
            let known = self.printings.entry(id).or_default();
            if !known.contains(&printing) {
                known.push(printing);
            }
        }
        self
    }

    /// Whether any product's printings are known.
    pub fn has_printings(&self) -> bool {
        !self.printings.is_empty()
    }

    /// The printings TCGplayer prices of `id` (empty when none is known).
    pub fn printings(&self, id: ProductId) -> &[String] {
        self.printings.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The printing of `id` that a market's row naming `wanted` prices: `wanted` when TCGplayer
    /// prices it or nothing is known; otherwise, when `wanted` is not a foil-like second printing
    /// and TCGplayer prices one printing of the product besides its foil-like ones, that one (a
    /// holo-only Pokémon card's plain figure is its Holofoil, a common's is its Normal beside its
    /// Reverse Holofoil, a Yu-Gi-Oh! card sold only as Unlimited is that). `None` means keep
    /// `wanted`.
    pub fn settled_printing(&self, id: ProductId, wanted: &str) -> Option<&str> {
        let known = self.printings(id);
        let same = |p: &String| crate::identity::fold_name(p) == crate::identity::fold_name(wanted);
        if known.is_empty() || known.iter().any(same) {
            return None;
        }
        let second = |p: &str| SECOND_PRINTINGS.iter().any(|s| s.eq_ignore_ascii_case(p));
        if second(wanted) {
            return None;
        }
        let mut firsts = known.iter().filter(|p| !second(p));
        match (firsts.next(), firsts.next()) {
            (Some(only), None) => Some(only.as_str()),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: ProductId) -> Option<&CatalogEntry> {
        self.by_id.get(&id)
    }

    /// Every product of the catalog, in no particular order (JustTCG looks ours up by id).
    pub fn entries(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.by_id.values()
    }

    /// Our product for `lookup`: the products of its category with the same name (see
    /// [`fold_name`]), narrowed by the number and the set when given; exactly one left is a
    /// match (95 with name, number and set; 85 with two of them agreeing and the third not
    /// given; 75 on the name alone), several are ambiguous unless exactly one also has the
    /// whole name (parenthesised parts included, number suffix not) the same (then 10 less).
    pub fn find(&self, lookup: &Lookup<'_>) -> Match {
        let key = (lookup.category_id, fold_name(lookup.name));
        let Some(ids) = self.by_name.get(&key) else {
            return Match::Unmapped;
        };
        let number = lookup.number.map(fold_number).filter(|n| !n.is_empty());
        let set = lookup.set.map(fold_full).filter(|s| !s.is_empty());
        let fits: Vec<&CatalogEntry> = ids
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .filter(|e| e.sealed == lookup.sealed)
            .filter(|e| {
                number
                    .as_ref()
                    .is_none_or(|n| e.number.as_deref().is_some_and(|en| fold_number(en) == *n))
            })
            .filter(|e| set.as_ref().is_none_or(|s| set_fits(e, s)))
            .collect();
        let confidence = 75 + 10 * u8::from(number.is_some()) + 10 * u8::from(set.is_some());
        match fits.as_slice() {
            [] => Match::Unmapped,
            [one] => mapped(one.product_id, confidence),
            many => {
                let full = fold_variant(lookup.name);
                let same: Vec<_> = many
                    .iter()
                    .filter(|e| fold_variant(&e.name) == full)
                    .collect();
                match same.as_slice() {
                    [one] => mapped(one.product_id, confidence - 10),
                    _ => {
                        let mut ids: Vec<ProductId> = many.iter().map(|e| e.product_id).collect();
                        ids.sort();
                        Match::Ambiguous(ids)
                    }
                }
            }
        }
    }
}

fn mapped(product_id: ProductId, confidence: u8) -> Match {
    Match::Mapped {
        product_id,
        method: MappingMethod::NameNumberSet,
        confidence,
    }
}

/// Whether the set named `set` (folded) is the entry's: its name or its code, folded.
fn set_fits(e: &CatalogEntry, set: &str) -> bool {
    e.set_name.as_deref().is_some_and(|n| fold_full(n) == set)
        || e.set_code.as_deref().is_some_and(|c| fold_full(c) == set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, name: &str, number: Option<&str>, set: &str, code: &str) -> CatalogEntry {
        CatalogEntry {
            product_id: ProductId(id),
            category_id: CategoryId(3),
            name: name.into(),
            number: number.map(Into::into),
            set_name: Some(set.into()),
            set_code: Some(code.into()),
            sealed: number.is_none(),
        }
    }

    fn index() -> ProductIndex {
        ProductIndex::from_entries([
            entry(
                1,
                "Charizard ex - 199/165",
                Some("199/165"),
                "SV: Scarlet & Violet 151",
                "MEW",
            ),
            entry(
                2,
                "Charizard ex",
                Some("006/165"),
                "SV: Scarlet & Violet 151",
                "MEW",
            ),
            entry(
                3,
                "Pikachu",
                Some("025/165"),
                "SV: Scarlet & Violet 151",
                "MEW",
            ),
            entry(4, "Pikachu", Some("025/102"), "Base Set", "BS"),
            entry(
                5,
                "Monkey.D.Luffy (119)",
                Some("OP05-119"),
                "Awakening of the New Era",
                "OP05",
            ),
            entry(
                6,
                "Monkey.D.Luffy (119) (Alternate Art)",
                Some("OP05-119"),
                "Awakening of the New Era",
                "OP05",
            ),
            entry(
                7,
                "Scarlet & Violet 151 Booster Bundle",
                None,
                "SV: Scarlet & Violet 151",
                "MEW",
            ),
        ])
    }

    fn find(name: &str, number: Option<&str>, set: Option<&str>) -> Match {
        index().find(&Lookup {
            category_id: CategoryId(3),
            name,
            number,
            set,
            sealed: false,
        })
    }

    #[test]
    fn names_and_numbers_fold_across_markets() {
        assert_eq!(fold_name("Charizard ex - 199/165"), "charizardex");
        assert_eq!(
            fold_name("Monkey.D.Luffy (119) (Alternate Art)"),
            "monkeydluffy"
        );
        assert_eq!(fold_name("Farewell - Ready? (Borderless)"), "farewellready");
        assert_eq!(fold_number("004/198"), "4");
        assert_eq!(fold_number("OP05-119"), "op05119");
        assert_eq!(fold_number("000"), "000");
    }

    #[test]
    fn name_number_and_set_map_one_product() {
        let m = find("Charizard ex", Some("199"), Some("MEW"));
        assert_eq!(
            m,
            Match::Mapped {
                product_id: ProductId(1),
                method: MappingMethod::NameNumberSet,
                confidence: 95
            }
        );
        let m = find("Pikachu", Some("25"), Some("Base Set"));
        assert!(
            matches!(
                m,
                Match::Mapped {
                    product_id: ProductId(4),
                    confidence: 95,
                    ..
                }
            ),
            "{m:?}"
        );
        let m = find("Pikachu", None, Some("base set"));
        assert!(
            matches!(
                m,
                Match::Mapped {
                    product_id: ProductId(4),
                    confidence: 85,
                    ..
                }
            ),
            "{m:?}"
        );
    }

    #[test]
    fn several_fits_are_ambiguous_never_guessed() {
        assert_eq!(
            find("Pikachu", None, None),
            Match::Ambiguous(vec![ProductId(3), ProductId(4)])
        );
        assert_eq!(
            find("Charizard ex", None, Some("MEW")),
            Match::Ambiguous(vec![ProductId(1), ProductId(2)])
        );
        // The whole name breaks the tie between a card and its alternate art.
        let m = find(
            "Monkey.D.Luffy (119) (Alternate Art)",
            Some("OP05-119"),
            None,
        );
        assert!(
            matches!(
                m,
                Match::Mapped {
                    product_id: ProductId(6),
                    confidence: 75,
                    ..
                }
            ),
            "{m:?}"
        );
        assert!(matches!(
            find("Monkey.D.Luffy", Some("OP05-119"), None),
            Match::Ambiguous(_)
        ));
    }

    #[test]
    fn a_plain_printing_follows_the_one_tcgplayer_prices() {
        let index = index().with_printings([
            (ProductId(1), "Holofoil".to_owned()),
            (ProductId(3), "Normal".to_owned()),
            (ProductId(3), "Reverse Holofoil".to_owned()),
            (ProductId(4), "1st Edition".to_owned()),
            (ProductId(4), "Unlimited".to_owned()),
        ]);
        // A holo-only card: the plain figure is its Holofoil, a reverse one stays (and fits no
        // series TCGplayer prices, as such a figure should not exist).
        assert_eq!(
            index.settled_printing(ProductId(1), "Normal"),
            Some("Holofoil")
        );
        assert_eq!(index.settled_printing(ProductId(1), "Holofoil"), None);
        assert_eq!(
            index.settled_printing(ProductId(1), "Reverse Holofoil"),
            None
        );
        // A common priced Normal and Reverse Holofoil: a guessed Holofoil is its Normal.
        assert_eq!(index.settled_printing(ProductId(3), "normal"), None);
        assert_eq!(
            index.settled_printing(ProductId(3), "Holofoil"),
            Some("Normal")
        );
        // Two plain printings, or none known: kept.
        assert_eq!(index.settled_printing(ProductId(4), "Normal"), None);
        assert_eq!(index.settled_printing(ProductId(5), "Normal"), None);
        assert_eq!(index.printings(ProductId(3)).len(), 2);
    }

    #[test]
    fn unknown_names_numbers_sets_and_sealed_do_not_map() {
        assert_eq!(find("Mewtwo", None, None), Match::Unmapped);
        assert_eq!(find("Pikachu", Some("58"), None), Match::Unmapped);
        assert_eq!(find("Pikachu", Some("25"), Some("Jungle")), Match::Unmapped);
        let sealed = index().find(&Lookup {
            category_id: CategoryId(3),
            name: "Scarlet & Violet 151 Booster Bundle",
            number: None,
            set: None,
            sealed: true,
        });
        assert!(matches!(
            sealed,
            Match::Mapped {
                product_id: ProductId(7),
                ..
            }
        ));
        assert_eq!(
            find("Scarlet & Violet 151 Booster Bundle", None, None),
            Match::Unmapped
        );
    }
}
