//! Which of our products a Cardmarket product is.
//!
//! 1. Magic: the id bridge (Scryfall states each card's `cardmarket_id` and `tcgplayer_id`):
//!    method `scryfall_bridge`, confidence 100.
//! 2. Otherwise by name (+ number when the name carries one, as One Piece's do) + set through
//!    [`ProductIndex::find`]. Cardmarket publishes no list naming its expansions, so an
//!    expansion's set is the one the operator pins (`expansions` in the configuration: id → our
//!    set's name or code) or the one its cards name: the set of ours that holds a product of the
//!    same name for at least 80 % of the expansion's singles that any set of ours holds (those
//!    being at least half of its singles, and at least two), and no other set as many.
//! 3. A name alone never maps (with a partial catalog, the one product of ours with that name may
//!    be another set's printing): a product whose expansion is not known and whose name carries
//!    no number is listed as unmapped, with the products of ours of that name as candidates.
//! 4. Two Cardmarket products that map by name to the same product of ours (a card and its
//!    "(V.2)" variant) are both listed as ambiguous, never both quoted.

use std::collections::{BTreeMap, HashMap, HashSet};

use tcg_schemas::{CategoryId, MappingMethod, ProductId, Source as QuoteSource};

use super::model::{ProductRow, number_in_name};
use crate::identity::{IdBridge, Lookup, Match, ProductIndex, UnmappedReason};

/// A product of Cardmarket's lists, and which list it came from.
#[derive(Debug, Clone)]
pub struct Known {
    pub row: ProductRow,
    pub sealed: bool,
}

/// The answer for one Cardmarket product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ours: quote it.
    Mapped {
        product_id: ProductId,
        method: MappingMethod,
        confidence: u8,
    },
    /// Listed, not quoted.
    Listed {
        why: UnmappedReason,
        candidates: Vec<ProductId>,
        /// What was looked up with (the set: ours when the expansion is known, else
        /// `expansion {id}`).
        number: Option<String>,
        set: Option<String>,
    },
}

/// Our set of each Cardmarket expansion that is known.
#[derive(Debug, Clone, Default)]
pub struct Expansions {
    sets: HashMap<u32, String>,
}

impl Expansions {
    pub fn set(&self, id_expansion: u32) -> Option<&str> {
        self.sets.get(&id_expansion).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

/// Maps one game's products.
#[derive(Debug)]
pub struct Mapper<'a> {
    pub category: CategoryId,
    pub index: &'a ProductIndex,
    pub bridge: &'a IdBridge,
}

/// A set's name as lookups name it (its code when it has no name).
fn set_label(index: &ProductIndex, id: ProductId) -> Option<String> {
    let e = index.get(id)?;
    e.set_name.clone().or_else(|| e.set_code.clone())
}

impl Mapper<'_> {
    fn bridged(&self, id_product: u64) -> Option<ProductId> {
        self.bridge
            .product(QuoteSource::Cardmarket, &id_product.to_string())
    }

    /// The products of ours a name (and its number, if any) fits, whatever the set.
    fn candidates(&self, name: &str, sealed: bool) -> Vec<ProductId> {
        let lookup = Lookup {
            category_id: self.category,
            name,
            number: number_in_name(name),
            set: None,
            sealed,
        };
        match self.index.find(&lookup) {
            Match::Mapped { product_id, .. } => vec![product_id],
            Match::Ambiguous(ids) => ids,
            Match::Unmapped => Vec::new(),
        }
    }

    /// Our set of each expansion: pinned by the operator, else named by its singles' votes.
    pub fn expansions(&self, products: &[Known], pinned: &BTreeMap<u32, String>) -> Expansions {
        let mut singles: HashMap<u32, Vec<&ProductRow>> = HashMap::new();
        for k in products.iter().filter(|k| !k.sealed) {
            if let Some(e) = k.row.id_expansion {
                singles.entry(e).or_default().push(&k.row);
            }
        }
        let mut sets: HashMap<u32, String> =
            pinned.iter().map(|(id, set)| (*id, set.clone())).collect();
        for (expansion, rows) in singles {
            if sets.contains_key(&expansion) {
                continue;
            }
            if let Some(set) = self.vote(&rows) {
                sets.insert(expansion, set);
            }
        }
        Expansions { sets }
    }

    /// The set most of `rows` name, if they agree well enough (see the module).
    fn vote(&self, rows: &[&ProductRow]) -> Option<String> {
        let mut votes: HashMap<String, usize> = HashMap::new();
        let mut voters = 0usize;
        for row in rows {
            let ids = match self.bridged(row.id_product) {
                Some(id) => vec![id],
                None => self.candidates(&row.name, false),
            };
            let named: HashSet<String> = ids
                .into_iter()
                .filter_map(|id| set_label(self.index, id))
                .collect();
            if named.is_empty() {
                continue;
            }
            voters += 1;
            for set in named {
                *votes.entry(set).or_default() += 1;
            }
        }
        if voters < 2 || voters * 2 < rows.len() {
            return None;
        }
        let mut ranked: Vec<(String, usize)> = votes.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let (top, n) = ranked.first()?;
        let runner_up = ranked.get(1).map_or(0, |r| r.1);
        (*n * 5 >= voters * 4 && *n > runner_up).then(|| top.clone())
    }

    /// The outcome for one priced Cardmarket product (`known` when its lists name it).
    pub fn map(&self, id_product: u64, known: Option<&Known>, expansions: &Expansions) -> Outcome {
        if let Some(product_id) = self.bridged(id_product) {
            return Outcome::Mapped {
                product_id,
                method: MappingMethod::ScryfallBridge,
                confidence: 100,
            };
        }
        let Some(k) = known else {
            return Outcome::Listed {
                why: UnmappedReason::Unmapped,
                candidates: Vec::new(),
                number: None,
                set: None,
            };
        };
        let name = k.row.name.as_str();
        let number = number_in_name(name);
        let set = k.row.id_expansion.and_then(|e| expansions.set(e));
        let listed_set = set
            .map(str::to_owned)
            .or_else(|| k.row.id_expansion.map(|e| format!("expansion {e}")));
        if set.is_none() && number.is_none() {
            return Outcome::Listed {
                why: UnmappedReason::Unmapped,
                candidates: self.candidates(name, k.sealed),
                number: None,
                set: listed_set,
            };
        }
        let lookup = Lookup {
            category_id: self.category,
            name,
            number,
            set,
            sealed: k.sealed,
        };
        let listed = |why, candidates| Outcome::Listed {
            why,
            candidates,
            number: number.map(str::to_owned),
            set: listed_set.clone(),
        };
        match self.index.find(&lookup) {
            Match::Mapped {
                product_id,
                method,
                confidence,
            } => Outcome::Mapped {
                product_id,
                method,
                confidence,
            },
            Match::Ambiguous(ids) => listed(UnmappedReason::Ambiguous, ids),
            Match::Unmapped => listed(UnmappedReason::Unmapped, Vec::new()),
        }
    }
}

/// Rule 4 of the module: products mapped by name onto the same product of ours, or onto one the
/// bridge already gives another Cardmarket product, become ambiguous (the bridge's ids are the
/// source's own word and stay).
pub fn demote_collisions(outcomes: &mut [(u64, Outcome)]) {
    let mut by_name: HashMap<ProductId, usize> = HashMap::new();
    let mut bridged: HashSet<ProductId> = HashSet::new();
    for (_, o) in outcomes.iter() {
        if let Outcome::Mapped {
            product_id, method, ..
        } = o
        {
            if *method == MappingMethod::NameNumberSet {
                *by_name.entry(*product_id).or_default() += 1;
            } else {
                bridged.insert(*product_id);
            }
        }
    }
    for (_, o) in outcomes.iter_mut() {
        if let Outcome::Mapped {
            product_id,
            method: MappingMethod::NameNumberSet,
            ..
        } = o
            && (bridged.contains(product_id) || by_name.get(product_id).is_some_and(|n| *n > 1))
        {
            *o = Outcome::Listed {
                why: UnmappedReason::Ambiguous,
                candidates: vec![*product_id],
                number: None,
                set: None,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::CatalogEntry;

    fn entry(id: u64, name: &str, number: &str, set: &str) -> CatalogEntry {
        CatalogEntry {
            product_id: ProductId(id),
            category_id: CategoryId(3),
            name: name.into(),
            number: Some(number.into()),
            set_name: Some(set.into()),
            set_code: None,
            sealed: false,
        }
    }

    fn index() -> ProductIndex {
        ProductIndex::from_entries([
            entry(1, "Pikachu", "025/197", "Obsidian Flames"),
            entry(2, "Charizard ex", "125/197", "Obsidian Flames"),
            entry(3, "Gengar", "066/197", "Obsidian Flames"),
            entry(4, "Pikachu", "063/193", "Paldea Evolved"),
            entry(5, "Mewtwo", "058/193", "Paldea Evolved"),
        ])
    }

    fn known(id: u64, name: &str, expansion: u32) -> Known {
        Known {
            row: ProductRow {
                id_product: id,
                name: name.into(),
                id_category: Some(51),
                category_name: Some("Pokémon Single".into()),
                id_expansion: Some(expansion),
                id_metacard: None,
                date_added: None,
            },
            sealed: false,
        }
    }

    #[test]
    fn expansions_are_named_by_their_cards_and_names_alone_never_map() {
        let (index, bridge) = (index(), IdBridge::default());
        let m = Mapper {
            category: CategoryId(3),
            index: &index,
            bridge: &bridge,
        };
        let products = vec![
            known(10, "Pikachu", 500),
            known(11, "Charizard ex", 500),
            known(12, "Gengar", 500),
            known(13, "Unown [A]", 500),
            // An expansion we do not have: its one known name is no evidence.
            known(20, "Mewtwo", 600),
            known(21, "Alakazam", 600),
            known(22, "Chansey", 600),
        ];
        let exp = m.expansions(&products, &BTreeMap::new());
        assert_eq!(exp.set(500), Some("Obsidian Flames"));
        assert_eq!(exp.set(600), None);
        let mapped = m.map(10, Some(&products[0]), &exp);
        assert_eq!(
            mapped,
            Outcome::Mapped {
                product_id: ProductId(1),
                method: MappingMethod::NameNumberSet,
                confidence: 85
            }
        );
        match m.map(20, Some(&products[4]), &exp) {
            Outcome::Listed {
                why: UnmappedReason::Unmapped,
                candidates,
                set,
                ..
            } => {
                assert_eq!(candidates, vec![ProductId(5)], "named, not guessed");
                assert_eq!(set.as_deref(), Some("expansion 600"));
            }
            other => panic!("{other:?}"),
        }
        let pinned = BTreeMap::from([(600, "Paldea Evolved".to_owned())]);
        let exp = m.expansions(&products, &pinned);
        assert!(matches!(
            m.map(20, Some(&products[4]), &exp),
            Outcome::Mapped {
                product_id: ProductId(5),
                ..
            }
        ));
    }

    #[test]
    fn the_bridge_comes_first_and_collisions_are_ambiguous() {
        let (index, bridge) = (index(), IdBridge::default());
        bridge.learn(QuoteSource::Cardmarket, "99", ProductId(3));
        let m = Mapper {
            category: CategoryId(3),
            index: &index,
            bridge: &bridge,
        };
        assert_eq!(
            m.map(99, None, &Expansions::default()),
            Outcome::Mapped {
                product_id: ProductId(3),
                method: MappingMethod::ScryfallBridge,
                confidence: 100
            }
        );
        assert!(matches!(
            m.map(98, None, &Expansions::default()),
            Outcome::Listed {
                why: UnmappedReason::Unmapped,
                ..
            }
        ));
        let mapped = |id| Outcome::Mapped {
            product_id: ProductId(id),
            method: MappingMethod::NameNumberSet,
            confidence: 85,
        };
        let bridged = Outcome::Mapped {
            product_id: ProductId(3),
            method: MappingMethod::ScryfallBridge,
            confidence: 100,
        };
        let mut outcomes = vec![
            (1, mapped(1)),
            (2, mapped(1)),
            (3, mapped(2)),
            (4, bridged.clone()),
            (5, mapped(3)),
        ];
        demote_collisions(&mut outcomes);
        assert_eq!(outcomes[3].1, bridged);
        assert!(matches!(outcomes[4].1, Outcome::Listed { .. }));
        assert!(matches!(
            outcomes[0].1,
            Outcome::Listed {
                why: UnmappedReason::Ambiguous,
                ..
            }
        ));
        assert!(matches!(outcomes[1].1, Outcome::Listed { .. }));
        assert_eq!(outcomes[2].1, mapped(2));
    }
}
