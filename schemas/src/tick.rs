//! `Tick`: a normalized price observation of one series.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    game::Game,
    money::Money,
    quote::{PriceKind, Source},
    series::SeriesKey,
    time::Timestamp,
};

/// One normalized price point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tick {
    /// The series id (`SeriesKey::id`), the storage key.
    pub series_id: String,
    pub series: SeriesKey,
    pub game: Game,
    pub source: Source,
    pub kind: PriceKind,
    /// When the collector observed the price (the designated timestamp downstream).
    pub observed_at: Timestamp,
    /// The price in USD, shipping included for listings and sales.
    pub price_usd: Money,
    /// The price as quoted, in its own currency (shipping not included).
    pub original: Money,
    /// Shipping as quoted, in its own currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Money>,
    /// The source's id of the single item priced (eBay item id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
    /// Match confidence 0–100 for eBay items; for a `fair` tick, the fair value's confidence
    /// (0–100: how many independent sources agree with it, how fresh and how strong they are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// For a `fair` tick, the sources whose prices agree with it (within ±15 %), sorted; empty
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreeing: Vec<Source>,
    /// True when the price did not change and this tick only says it is still current.
    #[serde(default)]
    pub heartbeat: bool,
}

/// The stable identity of a tick: the store's dedup key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TickKey<'a> {
    pub observed_at: Timestamp,
    pub series_id: &'a str,
    pub source: Source,
    pub kind: PriceKind,
    pub listing_id: &'a str,
}

impl Tick {
    /// The identity the stores deduplicate on: (observed_at, series, source, kind, listing).
    pub fn key(&self) -> TickKey<'_> {
        TickKey {
            observed_at: self.observed_at,
            series_id: &self.series_id,
            source: self.source,
            kind: self.kind,
            listing_id: self.listing_id.as_deref().unwrap_or(""),
        }
    }
}
