//! The card a price belongs to, in words: name, set, number and image, served with history,
//! latest prices, the tick stream, alerts and portfolio valuations so a client never looks names
//! up one card at a time.
//!
//! Names come from the catalog through a bounded in-process cache (products and set names change
//! rarely; an entry lives [`TTL`]). A product the catalog does not know is cached as unknown for
//! the same time, so a stream of ticks of an uncatalogued product costs one read per TTL.

use std::{collections::HashMap, sync::Arc, time::Duration};

use moka::sync::Cache;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tcg_schemas::{Game, GroupId, ProductId};
use tcg_store::PriceStore;

use crate::error::ApiResult;

/// How long a name (or its absence) is kept.
pub const TTL: Duration = Duration::from_secs(600);
const MAX_PRODUCTS: u64 = 100_000;

/// A card as a collector reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CardRef {
    pub name: String,
    pub game: Game,
    /// The set's name, when the catalog has the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// The number within the set ("139/195"); absent for sealed products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

/// Cached product → [`CardRef`] lookups.
#[derive(Debug)]
pub struct CardNames {
    products: Cache<u64, Option<Arc<CardRef>>>,
    sets: Cache<u32, Option<Arc<str>>>,
}

impl Default for CardNames {
    fn default() -> Self {
        Self {
            products: Cache::builder()
                .max_capacity(MAX_PRODUCTS)
                .time_to_live(TTL)
                .build(),
            sets: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl CardNames {
    /// The card of `id`, or `None` when the catalog does not know it.
    pub async fn get(
        &self,
        store: &dyn PriceStore,
        id: ProductId,
    ) -> ApiResult<Option<Arc<CardRef>>> {
        if let Some(hit) = self.products.get(&id.0) {
            return Ok(hit);
        }
        let card = match store.product(id).await? {
            Some(p) => Some(Arc::new(CardRef {
                set: self
                    .set_name(store, p.group_id)
                    .await?
                    .map(|s| s.to_string()),
                name: p.name,
                game: p.game,
                number: p.number,
                image_url: p.image_url,
            })),
            None => None,
        };
        self.products.insert(id.0, card.clone());
        Ok(card)
    }

    /// The cards of `ids` that the catalog knows (each id read once).
    pub async fn many(
        &self,
        store: &dyn PriceStore,
        ids: impl IntoIterator<Item = ProductId>,
    ) -> ApiResult<HashMap<ProductId, Arc<CardRef>>> {
        let mut out = HashMap::new();
        for id in ids {
            if out.contains_key(&id) {
                continue;
            }
            if let Some(card) = self.get(store, id).await? {
                out.insert(id, card);
            }
        }
        Ok(out)
    }

    /// A set's name; every set is read again when one is missing (sets are few).
    async fn set_name(
        &self,
        store: &dyn PriceStore,
        group: GroupId,
    ) -> ApiResult<Option<Arc<str>>> {
        if let Some(hit) = self.sets.get(&group.0) {
            return Ok(hit);
        }
        for s in store.sets(None).await? {
            self.sets
                .insert(s.group_id.0, Some(Arc::from(s.name.as_str())));
        }
        let found = self.sets.get(&group.0).flatten();
        if found.is_none() {
            self.sets.insert(group.0, None);
        }
        Ok(found)
    }
}
