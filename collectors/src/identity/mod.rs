//! Identity across markets: which of our products (TCGplayer product ids) another market's
//! product is.
//!
//! - [`ProductIndex`]: our catalog, searchable by id and by name + number + set.
//! - [`IdBridge`]: ids one source learns about another's (Scryfall's `cardmarket_id` ↔
//!   `tcgplayer_id` pairs, which map Cardmarket's Magic products).
//! - [`PrintingSink`]: a market's rows moved to the printing TCGplayer prices of the product
//!   when the market names one the product does not have.
//! - [`UnmappedLog`]: the products a source could not map, or could map to several of ours,
//!   listed for the API and counted in `tcg_products_unmapped_total{source,why}`; never guessed
//!   into a series.
//!
//! A source gets the index and the bridge through [`Identity`], kept current by its caller (in
//! `up`, from the store's catalog as the TCGplayer collectors fill it).

mod bridge;
mod index;
mod printings;
mod unmapped;

use std::sync::Arc;

use tokio::sync::watch;

pub use bridge::IdBridge;
pub use index::{CatalogEntry, Lookup, Match, ProductIndex, fold_name, fold_number};
pub use printings::{PrintingSink, settle_printings};
pub use unmapped::{UnmappedLog, UnmappedReason};

/// What a source needs to map another market's rows to our products: the catalog (kept current
/// by the caller through the watch channel) and the shared id bridge.
#[derive(Debug, Clone)]
pub struct Identity {
    pub catalog: watch::Receiver<Arc<ProductIndex>>,
    pub bridge: Arc<IdBridge>,
}

impl Identity {
    /// An identity over a fixed catalog (tests, one-shot runs).
    pub fn fixed(index: ProductIndex) -> Identity {
        let (tx, catalog) = watch::channel(Arc::new(index));
        // The sender may go: a receiver keeps the last value.
        drop(tx);
        Identity {
            catalog,
            bridge: Arc::new(IdBridge::default()),
        }
    }

    /// The catalog as it is now.
    pub fn index(&self) -> Arc<ProductIndex> {
        self.catalog.borrow().clone()
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity::fixed(ProductIndex::default())
    }
}
