//! `RawQuote`: one observation of one price at one source, as the collector saw it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    ids::{CategoryId, GroupId, ProductId, SkuId},
    money::Money,
    time::Timestamp,
    vocab::{Condition, Grade, Grader, Language},
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
    /// Cardmarket's daily price guide (EUR; the European market).
    Cardmarket,
    /// Scryfall's bulk data (Magic): TCGplayer's USD and Cardmarket's EUR prices per card.
    Scryfall,
    /// PriceCharting's prices from recent sales, ungraded and per grade.
    Pricecharting,
    /// JustTCG's prices per TCGplayer SKU.
    Justtcg,
    /// Card Kingdom's price list: its retail and buylist prices.
    Cardkingdom,
}

impl Source {
    pub const ALL: [Source; 10] = [
        Source::Tcgplayer,
        Source::Tcgcsv,
        Source::EbayBrowse,
        Source::EbaySold,
        Source::Tcgtracker,
        Source::Cardmarket,
        Source::Scryfall,
        Source::Pricecharting,
        Source::Justtcg,
        Source::Cardkingdom,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Tcgplayer => "tcgplayer",
            Source::Tcgcsv => "tcgcsv",
            Source::EbayBrowse => "ebay_browse",
            Source::EbaySold => "ebay_sold",
            Source::Tcgtracker => "tcgtracker",
            Source::Cardmarket => "cardmarket",
            Source::Scryfall => "scryfall",
            Source::Pricecharting => "pricecharting",
            Source::Justtcg => "justtcg",
            Source::Cardkingdom => "cardkingdom",
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

    /// The markets beyond TCGplayer and eBay, whose rows the collectors map to our products
    /// ([`Subject::Market`]).
    pub fn is_other_market(&self) -> bool {
        matches!(
            self,
            Source::Cardmarket
                | Source::Scryfall
                | Source::Pricecharting
                | Source::Justtcg
                | Source::Cardkingdom
        )
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
    /// Cardmarket's price trend: its own smoothing of recent sales.
    Trend,
    /// The average sell price (Cardmarket `avg`).
    Avg,
    /// The average sell price over the last day (Cardmarket `avg1`).
    Avg1,
    /// The average sell price over the last 7 days (Cardmarket `avg7`).
    Avg7,
    /// The average sell price over the last 30 days (Cardmarket `avg30`).
    Avg30,
    /// A price guide's figure from the series' recent sales (PriceCharting), ungraded or per
    /// grade.
    Sales,
    /// A shop's own sell price (Card Kingdom retail).
    Retail,
    /// What a shop pays for a copy (Card Kingdom buylist); quoted with the quantity it wants,
    /// and rejected (`not_buying`) while that quantity is 0.
    Buylist,
}

impl PriceKind {
    pub const ALL: [PriceKind; 17] = [
        PriceKind::Market,
        PriceKind::Low,
        PriceKind::Mid,
        PriceKind::High,
        PriceKind::DirectLow,
        PriceKind::LowestListing,
        PriceKind::Listing,
        PriceKind::Sold,
        PriceKind::Fair,
        PriceKind::Trend,
        PriceKind::Avg,
        PriceKind::Avg1,
        PriceKind::Avg7,
        PriceKind::Avg30,
        PriceKind::Sales,
        PriceKind::Retail,
        PriceKind::Buylist,
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
            PriceKind::Trend => "trend",
            PriceKind::Avg => "avg",
            PriceKind::Avg1 => "avg1",
            PriceKind::Avg7 => "avg7",
            PriceKind::Avg30 => "avg30",
            PriceKind::Sales => "sales",
            PriceKind::Retail => "retail",
            PriceKind::Buylist => "buylist",
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
    /// A row of another market (Cardmarket, Scryfall, PriceCharting, JustTCG, Card Kingdom),
    /// mapped by the collector to one of our products.
    Market(Box<MarketRow>),
}

impl Subject {
    pub fn product_id(&self) -> ProductId {
        match self {
            Subject::TcgProduct { product_id, .. } | Subject::TcgSku { product_id, .. } => {
                *product_id
            }
            Subject::EbayItem(item) => item.target.product_id,
            Subject::Market(row) => row.product_id,
        }
    }

    pub fn category_id(&self) -> CategoryId {
        match self {
            Subject::TcgProduct { category_id, .. } | Subject::TcgSku { category_id, .. } => {
                *category_id
            }
            Subject::EbayItem(item) => item.target.category_id,
            Subject::Market(row) => row.category_id,
        }
    }
}

/// A price row of another market, in its own ids, with the product of ours the collector mapped
/// it to. Unmapped and ambiguous rows are never quoted: the collector lists them instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketRow {
    pub category_id: CategoryId,
    pub product_id: ProductId,
    /// The source's own id of what it priced: Cardmarket's `idProduct`, a Scryfall card id, a
    /// PriceCharting id, a JustTCG variant id, a Card Kingdom id.
    pub external_id: String,
    /// How the collector found our product for it.
    pub mapping: Mapping,
    /// The printing priced, in TCGplayer's words ("Normal", "Foil", "Holofoil", "Reverse
    /// Holofoil", "1st Edition" …).
    pub printing: String,
    /// The condition priced; absent when the source does not split by condition (the price is
    /// then the series' Near Mint one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// The language priced; absent means the game's default (English; Japanese for Pokémon
    /// Japan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// A graded price: the grader and grade it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graded: Option<GradedAs>,
    /// Copies the buyer wants at this price (buylists); 0 while it is not buying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
}

/// A grader and grade a market prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GradedAs {
    pub grader: Grader,
    pub grade: Grade,
}

/// How a collector mapped another market's product to ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub method: MappingMethod,
    /// 0–100: 100 for an id the source states, less for a match by name, number and set.
    pub confidence: u8,
}

/// The ways a product of another market is mapped to ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MappingMethod {
    /// The source states the TCGplayer product id (Scryfall `tcgplayer_id`, JustTCG
    /// `tcgplayerId`).
    TcgplayerId,
    /// Scryfall's `cardmarket_id` ↔ `tcgplayer_id` pair bridges a Cardmarket product (Magic).
    ScryfallBridge,
    /// The same name, collector number and set in our catalog, and no other product like it.
    NameNumberSet,
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
