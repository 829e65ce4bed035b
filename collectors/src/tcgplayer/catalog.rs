//! The catalog a TCGplayer pass prices: each category's groups, their products, and every SKU
//! with its printing, condition and language. Each lookup degrades only what it feeds:
//!
//! - `printings` of a category fails → SKU printings are named from the product price rows of
//!   the same pass ([`learn_printings`]), else `printing {id}`; retried next pass;
//! - `groups` of a category fails → that category is not priced this pass; retried next pass;
//! - a page of a group's `products` fails → the group is priced with the pages read; the group
//!   is read again next pass.
//!
//! Only a refused token or an open breaker (nothing else could work either) fails the pass.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use tcg_schemas::{CategoryId, ProductId};
use tokio::time::Instant;

use super::{
    client::{SOURCE, TcgplayerClient},
    is_fatal,
    model::{ProductRow, SkuInfo},
};
use crate::{CollectorError, PassReport};

/// A product's printing ids (of its SKUs) and the `subTypeName`s of its price rows.
pub type PrintingEvidence = (BTreeSet<u32>, BTreeSet<String>);

/// The products of one group.
#[derive(Debug, Clone)]
pub(super) struct GroupCatalog {
    pub category_id: u32,
    pub group_id: u32,
    pub product_ids: Vec<u64>,
}

/// What a pass prices, and what is still to be read again.
#[derive(Debug)]
pub(super) struct Catalog {
    pub fetched_at: Instant,
    pub groups: Vec<GroupCatalog>,
    pub skus: HashMap<u64, SkuInfo>,
    /// SKUs whose printing has no name yet: sku → (category, printing id).
    unnamed: HashMap<u64, (u32, u32)>,
    /// Printing names by category: from `printings`, or learned from price rows.
    printings: HashMap<u32, HashMap<u32, String>>,
    /// Categories whose `printings` answered.
    printings_read: HashSet<u32>,
    /// Categories whose groups could not be listed.
    missing_categories: BTreeSet<u32>,
    /// Groups whose products could not all be read: (category, group).
    missing_groups: BTreeSet<(u32, u32)>,
}

impl Catalog {
    fn empty() -> Self {
        Catalog {
            fetched_at: Instant::now(),
            groups: Vec::new(),
            skus: HashMap::new(),
            unnamed: HashMap::new(),
            printings: HashMap::new(),
            printings_read: HashSet::new(),
            missing_categories: BTreeSet::new(),
            missing_groups: BTreeSet::new(),
        }
    }

    /// Reads the catalog of `categories` (only `only_groups` when not empty).
    pub async fn load(
        client: &TcgplayerClient,
        categories: &[u32],
        only_groups: &[u32],
        report: &mut PassReport,
    ) -> Result<Catalog, CollectorError> {
        let mut catalog = Catalog::empty();
        for &category_id in categories {
            catalog.read_printings(client, category_id, report).await?;
            catalog
                .read_category(client, category_id, only_groups, report)
                .await?;
        }
        Ok(catalog)
    }

    /// True when some lookup is to be tried again.
    pub fn needs_repair(&self, categories: &[u32]) -> bool {
        !self.missing_categories.is_empty()
            || !self.missing_groups.is_empty()
            || categories.iter().any(|c| !self.printings_read.contains(c))
    }

    /// Tries again what failed before: printings, the groups of a category, a group's products.
    pub async fn repair(
        &mut self,
        client: &TcgplayerClient,
        categories: &[u32],
        only_groups: &[u32],
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        for &category_id in categories {
            if !self.printings_read.contains(&category_id) {
                self.read_printings(client, category_id, report).await?;
            }
        }
        for category_id in std::mem::take(&mut self.missing_categories) {
            self.read_category(client, category_id, only_groups, report)
                .await?;
        }
        for (category_id, group_id) in std::mem::take(&mut self.missing_groups) {
            self.groups
                .retain(|g| !(g.category_id == category_id && g.group_id == group_id));
            self.read_group(client, category_id, group_id, report)
                .await?;
        }
        Ok(())
    }

    async fn read_printings(
        &mut self,
        client: &TcgplayerClient,
        category_id: u32,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        report.requests += 1;
        match client.printings(category_id).await {
            Ok(rows) => {
                let names = self.printings.entry(category_id).or_default();
                names.extend(rows.into_iter().map(|p| (p.printing_id, p.name)));
                self.printings_read.insert(category_id);
                self.rename();
                Ok(())
            }
            Err(e) if is_fatal(&e) => Err(e),
            Err(e) => {
                report.degrade(
                    SOURCE,
                    format!("printings of category {category_id}"),
                    "SKU printings named from the price rows, else `printing {id}`; retried next pass",
                    &e,
                );
                Ok(())
            }
        }
    }

    async fn read_category(
        &mut self,
        client: &TcgplayerClient,
        category_id: u32,
        only_groups: &[u32],
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        report.requests += 1;
        let groups = match client.groups(category_id).await {
            Ok(groups) => groups,
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                report.degrade(
                    SOURCE,
                    format!("groups of category {category_id}"),
                    "category not priced; retried next pass",
                    &e,
                );
                self.missing_categories.insert(category_id);
                return Ok(());
            }
        };
        for g in groups {
            if only_groups.is_empty() || only_groups.contains(&g.group_id) {
                self.read_group(client, category_id, g.group_id, report)
                    .await?;
            }
        }
        Ok(())
    }

    async fn read_group(
        &mut self,
        client: &TcgplayerClient,
        category_id: u32,
        group_id: u32,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        report.requests += 1;
        let (products, failed) = client.products_partial(category_id, group_id).await;
        if let Some(e) = failed {
            if is_fatal(&e) {
                return Err(e);
            }
            report.degrade(
                SOURCE,
                format!("products of group {group_id}"),
                &format!(
                    "{} products read before the failure are priced; group read again next pass",
                    products.len()
                ),
                &e,
            );
            self.missing_groups.insert((category_id, group_id));
        }
        self.add_products(category_id, group_id, &products);
        Ok(())
    }

    fn add_products(&mut self, category_id: u32, group_id: u32, products: &[ProductRow]) {
        for s in products.iter().flat_map(|p| &p.skus) {
            let printing = match self.printing_name(category_id, s.printing_id) {
                Some(name) => name.to_owned(),
                None => {
                    self.unnamed.insert(s.sku_id, (category_id, s.printing_id));
                    unnamed(s.printing_id)
                }
            };
            self.skus.insert(
                s.sku_id,
                SkuInfo {
                    category_id: CategoryId(category_id),
                    product_id: ProductId(s.product_id),
                    printing,
                    condition_id: s.condition_id,
                    language_id: s.language_id,
                },
            );
        }
        self.groups.push(GroupCatalog {
            category_id,
            group_id,
            product_ids: products.iter().map(|p| p.product_id).collect(),
        });
    }

    fn printing_name(&self, category_id: u32, printing_id: u32) -> Option<&str> {
        self.printings
            .get(&category_id)?
            .get(&printing_id)
            .map(String::as_str)
    }

    /// Names the unnamed SKUs whose printing now has a name.
    fn rename(&mut self) {
        let printings = &self.printings;
        let skus = &mut self.skus;
        self.unnamed.retain(|sku, (category_id, printing_id)| {
            let Some(name) = printings.get(category_id).and_then(|p| p.get(printing_id)) else {
                return true;
            };
            if let Some(info) = skus.get_mut(sku) {
                info.printing.clone_from(name);
            }
            false
        });
    }

    /// Products with unnamed SKUs: product → (category, their unnamed printing ids).
    pub fn unnamed_products(&self) -> HashMap<u64, (u32, BTreeSet<u32>)> {
        let mut out: HashMap<u64, (u32, BTreeSet<u32>)> = HashMap::new();
        for (sku, &(category_id, printing_id)) in &self.unnamed {
            if let Some(info) = self.skus.get(sku) {
                out.entry(info.product_id.0)
                    .or_insert_with(|| (category_id, BTreeSet::new()))
                    .1
                    .insert(printing_id);
            }
        }
        out
    }

    /// Learns printing names from what the price rows of the products with unnamed SKUs said
    /// (`seen`: product → its `subTypeName`s), then names those SKUs. Returns how many printing
    /// ids got a name.
    pub fn learn(&mut self, seen: &HashMap<u64, BTreeSet<String>>) -> usize {
        let mut by_category: BTreeMap<u32, Vec<PrintingEvidence>> = BTreeMap::new();
        for (product, (category_id, ids)) in self.unnamed_products() {
            if let Some(names) = seen.get(&product) {
                by_category
                    .entry(category_id)
                    .or_default()
                    .push((ids, names.clone()));
            }
        }
        let mut learned = 0;
        for (category_id, products) in by_category {
            let known = self.printings.entry(category_id).or_default();
            learned += learn_printings(known, &products);
        }
        if learned > 0 {
            self.rename();
        }
        learned
    }
}

/// The name of a printing whose name is unknown.
fn unnamed(printing_id: u32) -> String {
    format!("printing {printing_id}")
}

/// Learns printing names from products: each product's printing ids (of its SKUs) and the
/// `subTypeName`s of its price rows, which are the same printings. A product with exactly one
/// id and one name not explained by what is known names that id; repeated until nothing more is
/// learned (a product with Normal and Reverse Holofoil names its second id once the first is
/// known from a Normal-only product). Returns how many ids were learned.
pub fn learn_printings(known: &mut HashMap<u32, String>, products: &[PrintingEvidence]) -> usize {
    let mut learned = 0;
    loop {
        let before = learned;
        for (ids, names) in products {
            let known_names: HashSet<&str> = known.values().map(String::as_str).collect();
            let mut ids = ids.iter().filter(|id| !known.contains_key(id));
            let mut names = names.iter().filter(|n| !known_names.contains(n.as_str()));
            if let (Some(&id), None, Some(name), None) =
                (ids.next(), ids.next(), names.next(), names.next())
            {
                let name = name.clone();
                known.insert(id, name);
                learned += 1;
            }
        }
        if learned == before {
            return learned;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(ids: &[u32], names: &[&str]) -> PrintingEvidence {
        (
            ids.iter().copied().collect(),
            names.iter().map(|n| (*n).to_owned()).collect(),
        )
    }

    #[test]
    fn printings_are_learned_from_unambiguous_products_first() {
        let mut known = HashMap::new();
        let products = [
            // Needs the other two first.
            product(&[1, 2, 3], &["Normal", "Reverse Holofoil", "Holofoil"]),
            product(&[1, 3], &["Normal", "Reverse Holofoil"]),
            product(&[1], &["Normal"]),
            // Two unknown ids, two names: ambiguous on its own.
            product(&[7, 8], &["1st Edition", "Unlimited"]),
        ];
        assert_eq!(learn_printings(&mut known, &products), 3);
        assert_eq!(known[&1], "Normal");
        assert_eq!(known[&3], "Reverse Holofoil");
        assert_eq!(known[&2], "Holofoil");
        assert!(!known.contains_key(&7));
    }

    #[test]
    fn a_contradiction_learns_nothing_more() {
        let mut known = HashMap::from([(1, "Normal".to_owned())]);
        // Id 1 is Normal, so the name left ("Foil") goes with id 2.
        let products = [product(&[1, 2], &["Normal", "Foil"])];
        assert_eq!(learn_printings(&mut known, &products), 1);
        assert_eq!(known[&2], "Foil");
        assert_eq!(learn_printings(&mut known, &products), 0);
    }
}
