//! The catalog: sets (TCGplayer groups), products and SKUs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    game::Game,
    ids::{CategoryId, GroupId, ProductId, SkuId},
    vocab::{Condition, Language, Printing},
};

/// A set or expansion (TCGplayer group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CardSet {
    pub group_id: GroupId,
    pub category_id: CategoryId,
    pub game: Game,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abbreviation: Option<String>,
    /// Release date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<String>,
}

/// A product: a single card or a sealed product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Product {
    pub product_id: ProductId,
    pub category_id: CategoryId,
    pub group_id: GroupId,
    pub game: Game,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clean_name: Option<String>,
    /// Card number within the set ("139/195"); absent for sealed products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rarity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Product {
    /// Sealed products carry neither a number nor a rarity.
    pub fn is_sealed(&self) -> bool {
        self.number.is_none() && self.rarity.is_none()
    }
}

/// A SKU: product × printing × condition × language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Sku {
    pub sku_id: SkuId,
    pub product_id: ProductId,
    pub printing: Printing,
    pub condition: Condition,
    pub language: Language,
}
