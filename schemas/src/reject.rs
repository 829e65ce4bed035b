//! Why a quote was not turned into a tick.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
