//! `RawQuote`: one observation of one price at one source, as the collector saw it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    ids::{CategoryId, GroupId, ProductId, SkuId},
    money::Money,
    time::Timestamp,
    vocab::{Grade, Grader},
};

/// Where a quote came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The TCGplayer API.
    Tcgplayer,
    /// The TCGCSV daily mirror of TCGplayer.
    Tcgcsv,
    /// eBay Browse API (active listings).
    EbayBrowse,
    /// eBay Marketplace Insights (sold items).
    EbaySold,
    /// tcgtracker itself: prices the processor core computes from the other sources (the `fair`
    /// value), never a market. No collector may quote it.
    Tcgtracker,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Tcgplayer,
        Source::Tcgcsv,
        Source::EbayBrowse,
        Source::EbaySold,
        Source::Tcgtracker,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Tcgplayer => "tcgplayer",
            Source::Tcgcsv => "tcgcsv",
            Source::EbayBrowse => "ebay_browse",
            Source::EbaySold => "ebay_sold",
            Source::Tcgtracker => "tcgtracker",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// TCGplayer's aggregates (market, low, mid …) as opposed to single eBay items.
    pub fn is_tcgplayer(&self) -> bool {
        matches!(self, Source::Tcgplayer | Source::Tcgcsv)
    }

    /// Whether the source is tcgtracker's own computation rather than a market.
    pub fn is_computed(&self) -> bool {
        matches!(self, Source::Tcgtracker)
    }
}

/// What a price means.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PriceKind {
    /// TCGplayer market price (follows recent sales).
    Market,
    /// Lowest listed price.
    Low,
    /// Median listed price.
    Mid,
    /// Highest listed price (distorted by parked listings).
    High,
    /// Lowest TCGplayer Direct price.
    DirectLow,
    /// SKU lowest listing price; shipping (`lowestShipping`) is added like a listing's.
    LowestListing,
    /// One active listing (eBay Browse); shipping is added.
    Listing,
    /// One sold item (eBay Marketplace Insights); shipping is added when known.
    Sold,
    /// tcgtracker's fair value of the series (source `tcgtracker`): a weighted median of the
    /// sources that price it (market prices, recent sales, listings), outliers outside 0.1×–10×
    /// of the series' last fair value left out, TCGplayer `high` never used. The tick's
    /// `confidence` (0–100) says how many independent sources agree with it and how fresh they
    /// are. The README's "Fair value" section gives the rule.
    Fair,
}

impl PriceKind {
    pub const ALL: [PriceKind; 9] = [
        PriceKind::Market,
        PriceKind::Low,
        PriceKind::Mid,
        PriceKind::High,
        PriceKind::DirectLow,
        PriceKind::LowestListing,
        PriceKind::Listing,
        PriceKind::Sold,
        PriceKind::Fair,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            PriceKind::Market => "market",
            PriceKind::Low => "low",
            PriceKind::Mid => "mid",
            PriceKind::High => "high",
            PriceKind::DirectLow => "direct_low",
            PriceKind::LowestListing => "lowest_listing",
            PriceKind::Listing => "listing",
            PriceKind::Sold => "sold",
            PriceKind::Fair => "fair",
        }
    }

    pub fn parse(text: &str) -> Option<PriceKind> {
        PriceKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Kinds whose price is what a buyer pays, so shipping is added to it.
    pub fn includes_shipping(&self) -> bool {
        matches!(
            self,
            PriceKind::Listing | PriceKind::Sold | PriceKind::LowestListing
        )
    }
}

/// One observed price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQuote {
    pub source: Source,
    /// When the collector fetched it; set once by the collector, never at write time.
    pub observed_at: Timestamp,
    pub kind: PriceKind,
    /// The price as quoted, in the quoted currency.
    pub price: Money,
    /// Shipping as quoted, when the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Money>,
    /// What was priced, in the source's own ids and words.
    pub subject: Subject,
}

/// What a quote prices, in the source's own terms.
// The eBay item is boxed: unboxed, every quote would be 448 bytes, moved several times while it
// is decoded, where one allocation for the eBay ones costs less.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Subject {
    /// A TCGplayer product price row: key (productId, subTypeName). Product-level prices are
    /// TCGplayer's Near Mint, English figures.
    TcgProduct {
        category_id: CategoryId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group_id: Option<GroupId>,
        product_id: ProductId,
        /// TCGplayer `subTypeName`, e.g. "Reverse Holofoil".
        sub_type_name: String,
    },
    /// A TCGplayer SKU price row, with the SKU's catalog fields resolved by the collector.
    TcgSku {
        category_id: CategoryId,
        product_id: ProductId,
        sku_id: SkuId,
        /// The printing's name (printing ids are per category, so the collector resolves them).
        printing: String,
        /// TCGplayer condition id (1 Near Mint … 6 Unopened).
        condition_id: u32,
        /// TCGplayer language id (1 English … 11 Spanish).
        language_id: u32,
    },
    /// One eBay item (active listing or sold), found by searching for `target`.
    EbayItem(Box<EbayItem>),
}

impl Subject {
    pub fn product_id(&self) -> ProductId {
        match self {
            Subject::TcgProduct { product_id, .. } | Subject::TcgSku { product_id, .. } => {
                *product_id
            }
            Subject::EbayItem(item) => item.target.product_id,
        }
    }

    pub fn category_id(&self) -> CategoryId {
        match self {
            Subject::TcgProduct { category_id, .. } | Subject::TcgSku { category_id, .. } => {
                *category_id
            }
            Subject::EbayItem(item) => item.target.category_id,
        }
    }
}

/// An eBay item summary (Browse) or item sale (Marketplace Insights), as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EbayItem {
    /// eBay `itemId`, e.g. "v1|334691749565|0".
    pub item_id: String,
    pub title: String,
    /// eBay `conditionId`: "2750" graded, "4000" ungraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_id: Option<String>,
    /// eBay `condition` text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// FIXED_PRICE, AUCTION, BEST_OFFER.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buying_options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_country: Option<String>,
    /// Units sold (Marketplace Insights `totalSoldQuantity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_sold: Option<u32>,
    /// What the collector searched for when it found this item.
    pub target: TrackedCard,
}

/// A card a user tracks, as the eBay collector searched for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackedCard {
    pub product_id: ProductId,
    pub category_id: CategoryId,
    /// Card name, e.g. "Charizard ex".
    pub name: String,
    /// Card number within the set, e.g. "199/165" or "OP05-119".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_name: Option<String>,
    /// Set abbreviation, e.g. "SWSH12".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_code: Option<String>,
    /// Printing searched for; raw listings are priced in this printing (Normal when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printing: Option<String>,
    /// Language of the tracked card ("English" when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Raw, graded (any or one grade), or either.
    #[serde(default)]
    pub want: Wanted,
}

/// What kind of copy the search wants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Wanted {
    /// Raw and graded listings both count, each in its own series.
    #[default]
    Any,
    /// Only ungraded copies: graded listings are rejected.
    Raw,
    /// Only graded copies; when `grader`/`grade` are set, only those.
    Graded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grader: Option<Grader>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grade: Option<Grade>,
    },
}
