//! What the other markets' tests share: our catalog as the TCGplayer collectors would have filled
//! it from the simulator, and a market context over it.

use std::sync::Arc;

use tcg_collectors::{
    MarketContext,
    identity::{CatalogEntry, Identity, ProductIndex, UnmappedLog},
};
use tcg_schemas::{CategoryId, MarketRow, ProductId, RawQuote, Subject};
use tcg_simulator::catalog::SimProduct;

/// A simulator product as our catalog holds it.
pub fn catalog_entry(p: &SimProduct) -> CatalogEntry {
    CatalogEntry {
        product_id: ProductId(p.product_id),
        category_id: CategoryId(p.category_id),
        name: p.name.clone(),
        number: p.number.clone(),
        set_name: Some(p.set_name.clone()),
        set_code: Some(p.set_code.clone()),
        sealed: p.is_sealed(),
    }
}

/// The products of the simulator that pass `keep`, as our catalog.
pub fn index_where<'a>(
    products: impl IntoIterator<Item = &'a SimProduct>,
    keep: impl Fn(&SimProduct) -> bool,
) -> ProductIndex {
    ProductIndex::from_entries(products.into_iter().filter(|p| keep(p)).map(catalog_entry))
}

/// A market context over `index`, with an empty unmapped log.
pub fn market(index: ProductIndex) -> MarketContext {
    MarketContext {
        identity: Identity::fixed(index),
        unmapped: Arc::new(UnmappedLog::default()),
    }
}

/// The market row a quote prices.
pub fn market_row(q: &RawQuote) -> &MarketRow {
    match &q.subject {
        Subject::Market(row) => row,
        other => panic!("not a market row: {other:?}"),
    }
}
