//! Why a quote was not turned into a tick.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{GroupId, Money, ProductId, Timestamp};

/// A rejection reason, stable as a machine-readable code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The message could not be decoded as the topic's envelope.
    Undecodable,
    /// The envelope names another schema or version.
    WrongSchema,
    /// Zero, negative or absurdly large price.
    ImplausiblePrice,
    /// Observed in the future (beyond the allowed clock skew).
    FutureObservation,
    /// No exchange rate for the quoted currency.
    NoExchangeRate,
    /// A price kind that this source does not produce (e.g. `market` from eBay).
    KindNotForSource,
    /// Shipping in another currency than the price.
    ShippingCurrencyMismatch,
    /// A lot, bundle, playset or complete set rather than one card.
    Lot,
    /// A proxy, custom, replica, fake or digital card.
    NotGenuine,
    /// Sealed product, pack, box, tin, empty slab.
    Sealed,
    /// Another language than the tracked card's.
    WrongLanguage,
    /// A card number that is not the tracked card's.
    WrongNumber,
    /// The title does not name the tracked card.
    NameMismatch,
    /// Graded, but not the grader/grade that was searched for.
    WrongGrade,
    /// A graded listing where raw copies were searched for.
    GradedForRaw,
    /// A raw listing where graded copies were searched for.
    RawForGraded,
    /// "You pick", "choose your card" listings.
    MultipleChoice,
    /// A match below the confidence threshold.
    LowConfidence,
    /// A buylist price while the buyer wants no copies (quantity 0): not an offer.
    NotBuying,
}

impl RejectReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectReason::Undecodable => "undecodable",
            RejectReason::WrongSchema => "wrong_schema",
            RejectReason::ImplausiblePrice => "implausible_price",
            RejectReason::FutureObservation => "future_observation",
            RejectReason::NoExchangeRate => "no_exchange_rate",
            RejectReason::KindNotForSource => "kind_not_for_source",
            RejectReason::ShippingCurrencyMismatch => "shipping_currency_mismatch",
            RejectReason::Lot => "lot",
            RejectReason::NotGenuine => "not_genuine",
            RejectReason::Sealed => "sealed",
            RejectReason::WrongLanguage => "wrong_language",
            RejectReason::WrongNumber => "wrong_number",
            RejectReason::NameMismatch => "name_mismatch",
            RejectReason::WrongGrade => "wrong_grade",
            RejectReason::GradedForRaw => "graded_for_raw",
            RejectReason::RawForGraded => "raw_for_graded",
            RejectReason::MultipleChoice => "multiple_choice",
            RejectReason::LowConfidence => "low_confidence",
            RejectReason::NotBuying => "not_buying",
        }
    }

    /// Reasons that mean the message itself is broken (dead-letter), as opposed to a listing
    /// that is simply not a price of the tracked card (kept for review).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            RejectReason::Undecodable
                | RejectReason::WrongSchema
                | RejectReason::ImplausiblePrice
                | RejectReason::FutureObservation
                | RejectReason::NoExchangeRate
                | RejectReason::KindNotForSource
                | RejectReason::ShippingCurrencyMismatch
        )
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a quote was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectionStage {
    /// The collector could not turn an upstream row into a quote (every price null, the
    /// upstream refused the product's price request).
    Collector,
    /// The processor refused the quote ([`RejectReason`]): not believable, or not a price of
    /// the tracked card.
    Processor,
}

/// A quote (or upstream row) that was not turned into a price, named: the card, the listing,
/// why and when. `GET /v1/cards/{product_id}/rejections` serves the recent ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CardRejection {
    /// When it was rejected.
    pub at: Timestamp,
    /// `tcgplayer`, `tcgcsv`, `ebay_browse`, `ebay_sold`.
    pub source: String,
    pub stage: RejectionStage,
    /// The card; `None` only when the upstream failed for a whole group whose products are not
    /// known.
    pub product_id: Option<ProductId>,
    /// The TCGplayer group (set) of a collector's rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// A [`RejectReason`] code, or the collector's `no_prices` / `upstream_failure`.
    pub reason: String,
    /// What exactly was wrong: the words that matched, the prices that were missing, what the
    /// upstream said.
    pub detail: String,
    /// The title classifier's confidence (0–100) for an eBay listing, when it computed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// The eBay listing's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The eBay item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// TCGplayer's printing (`subTypeName`) of a price row or SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printing: Option<String>,
    /// The quoted price, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
}
