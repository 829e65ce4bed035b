//! Which of our products a PriceCharting product is, and the quotes it makes.
//!
//! - The game and set: `console-name` is the set with the game in front ("Pokemon Obsidian
//!   Flames", "Pokemon Japanese Shiny Treasure ex", "Magic Modern Horizons 3", "YuGiOh Phantom
//!   Nightmare", "One Piece Awakening of the New Era", "Lorcana The First Chapter"). Other
//!   languages' consoles ("Pokemon Chinese …", "One Piece Japanese …") are no catalog of ours.
//! - The stated id: `tcg-id`, when it is a product of our catalog in the same category, with the
//!   same collector number (when both have one), and the product name names no version beyond
//!   a printing (variants share their card's `tcg-id`, and the column has known errors).
//! - Otherwise name + number + set through [`ProductIndex::find`]: the set as PriceCharting
//!   names it, or, when that fits none, a set of ours whose name without TCGplayer's code
//!   prefix ("SV03: ") is PriceCharting's. Versions go in the name as TCGplayer writes them
//!   ("Pikachu (Alternate Art)") and must be in our product's name too.

use tcg_schemas::{
    CategoryId, GradedAs, Mapping, MappingMethod, MarketRow, Money, PriceKind, ProductId, RawQuote,
    Source as QuoteSource, Subject, Timestamp,
};

use super::model::{GuideRow, ParsedName, PriceKey, parse_product_name};
use crate::identity::{CatalogEntry, Lookup, Match, ProductIndex, fold_number};

/// A PriceCharting card category and the catalogs of ours it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Game {
    /// Our category (TCGplayer's).
    pub category_id: u32,
    /// PriceCharting's category of the CSV guide.
    pub slug: &'static str,
    /// The game's prefix of `console-name`, with its space.
    pub prefix: &'static str,
    /// The language word after the prefix ("Japanese "), for a language's own catalog.
    pub language: Option<&'static str>,
    /// The printing of a product whose name names none.
    pub plain_printing: &'static str,
}

/// The games PriceCharting prices that we have catalogs of.
pub const GAMES: [Game; 6] = [
    Game {
        category_id: 3,
        slug: "pokemon-cards",
        prefix: "Pokemon ",
        language: None,
        plain_printing: "Normal",
    },
    Game {
        category_id: 85,
        slug: "pokemon-cards",
        prefix: "Pokemon ",
        language: Some("Japanese "),
        plain_printing: "Normal",
    },
    Game {
        category_id: 1,
        slug: "magic-cards",
        prefix: "Magic ",
        language: None,
        plain_printing: "Normal",
    },
    Game {
        category_id: 2,
        slug: "yugioh-cards",
        prefix: "YuGiOh ",
        language: None,
        // Yu-Gi-Oh! names its 1st Editions; the others are Unlimited.
        plain_printing: "Unlimited",
    },
    Game {
        category_id: 68,
        slug: "one-piece-cards",
        prefix: "One Piece ",
        language: None,
        plain_printing: "Normal",
    },
    Game {
        category_id: 71,
        slug: "lorcana-cards",
        prefix: "Lorcana ",
        language: None,
        plain_printing: "Normal",
    },
];

/// Language words of consoles that are another language's catalog.
const LANGUAGES: [&str; 3] = ["Japanese ", "Chinese ", "Korean "];

impl Game {
    pub fn of(category_id: u32) -> Option<Game> {
        GAMES.into_iter().find(|g| g.category_id == category_id)
    }

    /// The set a console names, if the console is this game's (and language's).
    pub fn set_of<'a>(&self, console: &'a str) -> Option<&'a str> {
        let rest = console.strip_prefix(self.prefix)?;
        let set = match self.language {
            Some(lang) => rest.strip_prefix(lang)?,
            None if LANGUAGES.iter().any(|l| rest.starts_with(l)) => return None,
            None => rest,
        };
        Some(set.trim()).filter(|s| !s.is_empty())
    }
}

/// What a guide row was found to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Mapped {
        product_id: ProductId,
        mapping: Mapping,
    },
    Ambiguous(Vec<ProductId>),
    Unmapped,
}

/// A guide row of a game, read.
#[derive(Debug, Clone)]
pub struct Card<'a> {
    pub game: Game,
    pub set: &'a str,
    pub parsed: ParsedName,
    pub row: &'a GuideRow,
}

impl<'a> Card<'a> {
    /// The row as a card of `game`, if its console is the game's and it is a single card (it
    /// has a collector number, or its genre says card); sealed products are not priced.
    pub fn read(game: Game, row: &'a GuideRow) -> Option<Card<'a>> {
        let set = game.set_of(&row.console_name)?;
        let parsed = parse_product_name(&row.product_name);
        let card_genre = row
            .genre
            .as_deref()
            .is_some_and(|g| g.trim_end().ends_with("Card"));
        if parsed.name.is_empty() || (parsed.number.is_none() && !card_genre) {
            return None;
        }
        Some(Card {
            game,
            set,
            parsed,
            row,
        })
    }

    /// The printing priced, in TCGplayer's words.
    pub fn printing(&self) -> &'static str {
        match self.parsed.printing {
            // Lorcana's foils are TCGplayer's "Cold Foil".
            Some("Foil") if self.game.category_id == 71 => "Cold Foil",
            Some(p) => p,
            None => self.game.plain_printing,
        }
    }

    /// Whether the row is the card itself: no printing and no version named. Only its graded
    /// prices are quoted, as a graded series has no printing.
    pub fn is_plain(&self) -> bool {
        self.parsed.printing.is_none() && self.parsed.variants.is_empty()
    }

    /// The name as TCGplayer would write it: versions in parentheses.
    fn lookup_name(&self) -> String {
        let mut name = self.parsed.name.clone();
        for v in &self.parsed.variants {
            name.push_str(" (");
            name.push_str(v);
            name.push(')');
        }
        name
    }

    /// Our product for this card (see the module's rules).
    pub fn find(&self, index: &ProductIndex) -> Found {
        let category = CategoryId(self.game.category_id);
        if let Some(id) = self.row.tcg_id.map(ProductId)
            && self.parsed.variants.is_empty()
            && index.get(id).is_some_and(|e| self.agrees(e, category))
        {
            return Found::Mapped {
                product_id: id,
                mapping: Mapping {
                    method: MappingMethod::TcgplayerId,
                    confidence: 100,
                },
            };
        }
        let name = self.lookup_name();
        let lookup = |set| Lookup {
            category_id: category,
            name: &name,
            number: self.parsed.number.as_deref(),
            set,
            sealed: false,
        };
        let found = match index.find(&lookup(Some(self.set))) {
            Match::Unmapped => self.without_set(index, index.find(&lookup(None))),
            other => from_match(other),
        };
        match found {
            Found::Mapped { product_id, .. }
                if !self.parsed.variants.is_empty()
                    && index
                        .get(product_id)
                        .is_none_or(|e| fold_full(&e.name) != fold_full(&name)) =>
            {
                Found::Unmapped
            }
            other => other,
        }
    }

    /// Whether our product `e` is this card: the same category, a single, and the same number
    /// when both have one.
    fn agrees(&self, e: &CatalogEntry, category: CategoryId) -> bool {
        let numbers_agree = match (self.parsed.number.as_deref(), e.number.as_deref()) {
            (Some(a), Some(b)) => fold_number(a) == fold_number(b),
            _ => true,
        };
        e.category_id == category && !e.sealed && numbers_agree
    }

    /// A match made without the set, kept when our product's set is PriceCharting's set.
    fn without_set(&self, index: &ProductIndex, m: Match) -> Found {
        let fits = |id: &ProductId| {
            index
                .get(*id)
                .and_then(|e| e.set_name.as_deref())
                .is_some_and(|s| set_names_agree(s, self.set))
        };
        match m {
            Match::Mapped { product_id, .. } if fits(&product_id) => mapped_by_name(product_id, 90),
            Match::Ambiguous(ids) => {
                let ids: Vec<ProductId> = ids.into_iter().filter(fits).collect();
                match ids.as_slice() {
                    [] => Found::Unmapped,
                    [one] => mapped_by_name(*one, 90),
                    _ => Found::Ambiguous(ids),
                }
            }
            _ => Found::Unmapped,
        }
    }
}

fn mapped_by_name(product_id: ProductId, confidence: u8) -> Found {
    Found::Mapped {
        product_id,
        mapping: Mapping {
            method: MappingMethod::NameNumberSet,
            confidence,
        },
    }
}

fn from_match(m: Match) -> Found {
    match m {
        Match::Mapped {
            product_id,
            method,
            confidence,
        } => Found::Mapped {
            product_id,
            mapping: Mapping { method, confidence },
        },
        Match::Ambiguous(ids) => Found::Ambiguous(ids),
        Match::Unmapped => Found::Unmapped,
    }
}

/// Lower-case alphanumerics of a name without TCGplayer's " - 199/165" number suffix.
fn fold_full(name: &str) -> String {
    let base = match name.rfind(" - ") {
        Some(i) if name[i + 3..].bytes().any(|b| b.is_ascii_digit()) => &name[..i],
        _ => name,
    };
    base.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether our set name is PriceCharting's: the same, or the same once TCGplayer's code prefix
/// ("SV03: Obsidian Flames", "SWSH07: Evolving Skies") is dropped.
pub fn set_names_agree(ours: &str, theirs: &str) -> bool {
    let theirs = fold_full(theirs);
    fold_full(ours) == theirs
        || ours
            .split_once(": ")
            .is_some_and(|(_, rest)| fold_full(rest) == theirs)
}

/// A quote's series within one pass, to find two PriceCharting products pricing one series.
pub fn series_key(q: &RawQuote) -> String {
    match &q.subject {
        Subject::Market(row) => match &row.graded {
            Some(g) => format!(
                "{}/{}/{}",
                row.product_id.0,
                g.grader.code(),
                g.grade.code()
            ),
            None => format!("{}/{}", row.product_id.0, row.printing),
        },
        other => format!("{}", other.product_id().0),
    }
}

/// The quotes of a mapped card: its ungraded price in its printing, and, for the card itself
/// (not a printing or version of it), the prices of the keys that name a grader.
pub fn quotes(
    card: &Card<'_>,
    product_id: ProductId,
    mapping: &Mapping,
    at: Timestamp,
) -> Vec<RawQuote> {
    let quote = |cents: i64, graded: Option<GradedAs>| RawQuote {
        source: QuoteSource::Pricecharting,
        observed_at: at,
        kind: PriceKind::Sales,
        price: Money::usd_cents(cents),
        shipping: None,
        subject: Subject::Market(Box::new(MarketRow {
            category_id: CategoryId(card.game.category_id),
            product_id,
            external_id: card.row.id.clone(),
            mapping: mapping.clone(),
            printing: card.printing().to_owned(),
            condition: None,
            language: None,
            graded,
            quantity: None,
        })),
    };
    let mut out = Vec::new();
    if let Some(cents) = card.row.prices.get(PriceKey::Loose) {
        out.push(quote(cents, None));
    }
    if card.is_plain() {
        for key in PriceKey::ALL {
            if let (Some((grader, grade)), Some(cents)) = (key.graded(), card.row.prices.get(key)) {
                out.push(quote(cents, Some(GradedAs { grader, grade })));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consoles_name_a_game_language_and_set() {
        let pokemon = Game::of(3).unwrap();
        let japan = Game::of(85).unwrap();
        assert_eq!(pokemon.set_of("Pokemon Base Set"), Some("Base Set"));
        assert_eq!(pokemon.set_of("Pokemon Japanese Inferno X"), None);
        assert_eq!(
            japan.set_of("Pokemon Japanese Inferno X"),
            Some("Inferno X")
        );
        assert_eq!(japan.set_of("Pokemon Base Set"), None);
        assert_eq!(pokemon.set_of("Pokemon Chinese Gem Pack"), None);
        assert_eq!(pokemon.set_of("Super Nintendo"), None);
        let one_piece = Game::of(68).unwrap();
        assert_eq!(
            one_piece.set_of("One Piece Awakening of the New Era"),
            Some("Awakening of the New Era")
        );
    }

    #[test]
    fn set_names_agree_without_tcgplayers_code_prefix() {
        assert!(set_names_agree("SV03: Obsidian Flames", "Obsidian Flames"));
        assert!(set_names_agree("Base Set", "Base Set"));
        assert!(set_names_agree(
            "SV: Scarlet & Violet 151",
            "Scarlet & Violet 151"
        ));
        assert!(!set_names_agree("SV03: Obsidian Flames", "Paldea Evolved"));
    }
}
