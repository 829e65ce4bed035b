//! Ids one source learns about another market's products.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use tcg_schemas::{ProductId, Source};

/// (market, its product id) → our product id, learned by a source that states both (Scryfall
/// gives each Magic card's `cardmarket_id` and `tcgplayer_id`) and read by the market's own
/// collector. Later learning replaces earlier.
#[derive(Debug, Default)]
pub struct IdBridge {
    ids: Mutex<HashMap<(Source, String), ProductId>>,
}

impl IdBridge {
    fn ids(&self) -> MutexGuard<'_, HashMap<(Source, String), ProductId>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that `market`'s product `external_id` is our `product`.
    pub fn learn(&self, market: Source, external_id: impl Into<String>, product: ProductId) {
        self.ids().insert((market, external_id.into()), product);
    }

    /// Records many pairs at once (one lock).
    pub fn learn_all(&self, market: Source, pairs: impl IntoIterator<Item = (String, ProductId)>) {
        let mut ids = self.ids();
        for (external, product) in pairs {
            ids.insert((market, external), product);
        }
    }

    /// Our product for `market`'s `external_id`, if some source stated it.
    pub fn product(&self, market: Source, external_id: &str) -> Option<ProductId> {
        self.ids().get(&(market, external_id.to_owned())).copied()
    }

    /// How many of `market`'s products are bridged.
    pub fn len(&self, market: Source) -> usize {
        self.ids().keys().filter(|(m, _)| *m == market).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learned_ids_are_found_per_market() {
        let bridge = IdBridge::default();
        bridge.learn(Source::Cardmarket, "273576", ProductId(42));
        bridge.learn_all(Source::Cardmarket, [("1".to_owned(), ProductId(7))]);
        assert_eq!(
            bridge.product(Source::Cardmarket, "273576"),
            Some(ProductId(42))
        );
        assert_eq!(bridge.product(Source::Cardkingdom, "273576"), None);
        assert_eq!(bridge.len(Source::Cardmarket), 2);
        bridge.learn(Source::Cardmarket, "273576", ProductId(43));
        assert_eq!(
            bridge.product(Source::Cardmarket, "273576"),
            Some(ProductId(43))
        );
    }
}
