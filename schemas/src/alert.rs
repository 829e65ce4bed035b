//! Fired alerts.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    ids::{AlertId, ProductId, RuleId, UserId},
    money::Money,
    quote::{PriceKind, Source},
    series::SeriesKey,
    time::Timestamp,
};

/// Namespace of alert ids (UUID v5 over what fired them).
const ALERT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x5c1c_8f0e_51d4_4a57_9a43_3a0e_7d1f_2b6e);

/// One alert: a rule fired on one tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertEvent {
    /// Deterministic: the same rule firing on the same tick always has the same id, so a replay
    /// can be recognised by every receiver.
    pub id: AlertId,
    pub rule_id: RuleId,
    pub owner: UserId,
    pub rule_name: String,
    pub product_id: ProductId,
    pub series_id: String,
    pub series: SeriesKey,
    pub source: Source,
    pub kind: PriceKind,
    /// The observation time of the tick that fired the rule.
    pub observed_at: Timestamp,
    pub price_usd: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
    pub trigger: Trigger,
    /// A one-line human summary.
    pub message: String,
}

/// Why the rule fired, with the figures it compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    PriceAbove {
        threshold_usd: Money,
    },
    PriceBelow {
        threshold_usd: Money,
    },
    PercentChange {
        from_usd: Money,
        since: Timestamp,
        #[schemars(with = "String")]
        #[serde(with = "rust_decimal::serde::str")]
        change_percent: Decimal,
        /// Independent sources that moved the same way by at least half as much over the window
        /// (the watched one included): "confirmed by 2 of 3 sources". Absent in alerts fired
        /// before confirmation was counted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confirmed_by: Option<u8>,
        /// Independent sources with a price of the series at both ends of the window.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sources_priced: Option<u8>,
    },
    NewLow {
        days: u16,
        previous_low_usd: Money,
    },
    NewHigh {
        days: u16,
        previous_high_usd: Money,
    },
    Deal {
        market_usd: Money,
        #[schemars(with = "String")]
        #[serde(with = "rust_decimal::serde::str")]
        discount_percent: Decimal,
    },
    /// A shop's buylist price reached the share of the market price the rule asks for.
    BuylistAbove {
        market_usd: Money,
        /// The buylist price as a percentage of the market price.
        #[schemars(with = "String")]
        #[serde(with = "rust_decimal::serde::str")]
        share_percent: Decimal,
    },
}

impl AlertId {
    /// The id of `rule` firing on the tick identified by the remaining arguments.
    pub fn derive(
        rule: RuleId,
        series_id: &str,
        observed_at: Timestamp,
        source: Source,
        kind: PriceKind,
        listing_id: Option<&str>,
    ) -> AlertId {
        let name = format!(
            "{rule}\u{1f}{series_id}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            observed_at.as_micros(),
            source.as_str(),
            kind.as_str(),
            listing_id.unwrap_or("")
        );
        AlertId(uuid::Uuid::new_v5(&ALERT_NAMESPACE, name.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_ids_are_deterministic_and_distinct() {
        let rule = RuleId(uuid::Uuid::from_u128(1));
        let t = Timestamp::from_secs(1_700_000_000);
        let a = AlertId::derive(
            rule,
            "1/psa/10",
            t,
            Source::EbayBrowse,
            PriceKind::Listing,
            Some("v1|1|0"),
        );
        let b = AlertId::derive(
            rule,
            "1/psa/10",
            t,
            Source::EbayBrowse,
            PriceKind::Listing,
            Some("v1|1|0"),
        );
        let c = AlertId::derive(
            rule,
            "1/psa/10",
            t,
            Source::EbayBrowse,
            PriceKind::Listing,
            Some("v1|2|0"),
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
