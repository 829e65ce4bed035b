//! Finding the catalog card a row means, or saying why not.
//!
//! - A product id matches directly.
//! - Otherwise the catalog is searched by name (a substring, case-insensitive), card number and
//!   the row's game; among what it finds an exact name (or clean name) wins over a longer one.
//! - The row's set narrows it: a set code names the catalog set with that abbreviation (within
//!   the row's game); when the catalog has no set with that abbreviation, the set name the row
//!   also carries is used; a set code alone that no set has leaves the row unmatched.
//! - A SKU id (the TCGplayer seller export's): the catalog keeps SKUs by product
//!   ([`tcg_store::CatalogStore::skus`]) and cannot look one up by its id, so the card is found
//!   by name, set and number as above. The SKU id then picks among several candidates the one
//!   that has it, and when the matched card has it, its printing, condition and language are
//!   taken; when the card has SKUs but not that one, a warning says so and the row's own words
//!   stay.
//! - More than one candidate left is reported as ambiguous, never guessed.

use std::collections::HashMap;

use tcg_schemas::{CardSet, Condition, GroupId, Language, Printing, Product, Sku};
use tcg_store::{CatalogQuery, PriceStore};

use super::ImportRow;

/// Candidates whose SKUs are looked at to settle an ambiguous name, at most.
const SKU_PROBES: usize = 20;

/// The catalog's sets, by group id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    sets: HashMap<u32, CardSet>,
}

/// A row's card, and what the row's holding is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub product: Product,
    pub printing: Printing,
    pub condition: Condition,
    pub language: Language,
    /// Worth knowing, not worth refusing the row for.
    pub warnings: Vec<String>,
}

impl Catalog {
    pub fn new(sets: impl IntoIterator<Item = CardSet>) -> Self {
        Self {
            sets: sets.into_iter().map(|s| (s.group_id.0, s)).collect(),
        }
    }

    /// The sets by group id's name.
    pub fn names(&self) -> HashMap<u32, String> {
        self.sets
            .iter()
            .map(|(g, s)| (*g, s.name.clone()))
            .collect()
    }

    /// The groups the row's set names, `None` when it names none.
    fn groups(&self, row: &ImportRow) -> Result<Option<Vec<GroupId>>, String> {
        let of_game = |s: &&CardSet| row.game.is_none_or(|g| g == s.game);
        let pick = |f: &dyn Fn(&CardSet) -> bool| -> Vec<GroupId> {
            let mut g: Vec<GroupId> = self
                .sets
                .values()
                .filter(of_game)
                .filter(|s| f(s))
                .map(|s| s.group_id)
                .collect();
            g.sort_unstable_by_key(|g| g.0);
            g
        };
        if let Some(code) = row.set_code.as_deref() {
            let by_code = pick(&|s| {
                s.abbreviation
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(code))
            });
            if !by_code.is_empty() {
                return Ok(Some(by_code));
            }
            if row.set.is_none() {
                return Err(format!(
                    "no set with the code {code:?} in the catalog (and the row names no set)"
                ));
            }
        }
        Ok(row
            .set
            .as_deref()
            .map(|name| pick(&|s| s.name.eq_ignore_ascii_case(name.trim()))))
    }
}

/// Finds the catalog card a row means, or says why not.
pub async fn match_row(
    store: &dyn PriceStore,
    catalog: &Catalog,
    row: &ImportRow,
) -> Result<Matched, String> {
    let product = match row.product_id {
        Some(id) => store
            .product(id)
            .await
            .map_err(|e| format!("catalog lookup failed: {e}"))?
            .ok_or_else(|| format!("no card with product id {id} in the catalog"))?,
        None => by_name(store, catalog, row).await?,
    };
    let mut matched = Matched {
        printing: row.printing.clone(),
        condition: row.condition.clone(),
        language: row.language.clone(),
        warnings: Vec::new(),
        product,
    };
    if let Some(sku) = row.sku_id {
        let skus = skus(store, &matched.product).await?;
        match skus.iter().find(|s| s.sku_id == sku) {
            Some(s) => {
                matched.printing = s.printing.clone();
                matched.condition = s.condition.clone();
                matched.language = s.language.clone();
            }
            None if !skus.is_empty() => matched.warnings.push(format!(
                "SKU {} is not one of the catalog's SKUs of product {} ({}); printing, \
                 condition and language are the row's",
                sku.0, matched.product.product_id, matched.product.name
            )),
            None => {}
        }
    }
    Ok(matched)
}

async fn skus(store: &dyn PriceStore, p: &Product) -> Result<Vec<Sku>, String> {
    store
        .skus(p.product_id)
        .await
        .map_err(|e| format!("catalog lookup failed: {e}"))
}

/// The card of a row without a product id: by name, set, number and game.
async fn by_name(
    store: &dyn PriceStore,
    catalog: &Catalog,
    row: &ImportRow,
) -> Result<Product, String> {
    let name = row.name.as_deref().unwrap_or("").trim();
    if name.is_empty() {
        return Err("the row names no card".into());
    }
    let number = row
        .number
        .as_deref()
        .map(|n| n.trim_start_matches('#').to_owned());
    let groups = catalog.groups(row)?;
    let page = store
        .search_catalog(&CatalogQuery {
            name: Some(name.to_owned()),
            number: number.clone(),
            group_id: match groups.as_deref() {
                Some([one]) => Some(*one),
                _ => None,
            },
            game: row.game,
            limit: 200,
            cursor: None,
        })
        .await
        .map_err(|e| format!("catalog lookup failed: {e}"))?;
    let mut candidates: Vec<&Product> = page
        .items
        .iter()
        .filter(|p| groups.as_ref().is_none_or(|g| g.contains(&p.group_id)))
        .collect();
    if candidates.len() > 1 {
        let exact: Vec<&Product> = candidates
            .iter()
            .copied()
            .filter(|p| {
                p.name.eq_ignore_ascii_case(name)
                    || p.clean_name
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(name))
            })
            .collect();
        if !exact.is_empty() {
            candidates = exact;
        }
    }
    if let (Some(sku), 2..=SKU_PROBES) = (row.sku_id, candidates.len()) {
        let mut having = Vec::new();
        for p in &candidates {
            if skus(store, p).await?.iter().any(|s| s.sku_id == sku) {
                having.push(*p);
            }
        }
        if having.len() == 1 {
            candidates = having;
        }
    }
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(not_found(name, row, number.as_deref())),
        many => Err(format!(
            "{} cards match {name:?}; add the set and card number, or the product id",
            many.len()
        )),
    }
}

fn not_found(name: &str, row: &ImportRow, number: Option<&str>) -> String {
    let set = match (row.set.as_deref(), row.set_code.as_deref()) {
        (Some(s), Some(c)) => format!(" in set {s:?} ({c})"),
        (Some(s), None) => format!(" in set {s:?}"),
        (None, Some(c)) => format!(" in set {c}"),
        (None, None) => String::new(),
    };
    let number = number
        .map(|n| format!(" with number {n:?}"))
        .unwrap_or_default();
    format!("no card named {name:?}{set}{number} in the catalog")
}
