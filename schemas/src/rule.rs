//! Users' alert rules.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    ids::{ProductId, RuleId, UserId},
    money::Money,
    quote::{PriceKind, Source},
    series::SeriesKey,
    time::Timestamp,
    vocab::{Condition, Grade, Grader, Language, Printing},
};

/// An alert rule: when `condition` holds for a series of `product_id` that passes `filter`,
/// an alert fires (at most once per `cooldown_secs` per series).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub id: RuleId,
    pub owner: UserId,
    pub name: String,
    pub product_id: ProductId,
    #[serde(default)]
    pub filter: SeriesFilter,
    pub condition: RuleCondition,
    /// Minimum time between two alerts of this rule for one series.
    pub cooldown_secs: u64,
    #[serde(default)]
    pub paused: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which series, sources and kinds of a product a rule looks at. Empty fields match anything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printing: Option<Printing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// `true`: graded series only; `false`: raw series only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grader: Option<Grader>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Price kind; when absent, TCGplayer `market` prices and eBay listings/sales are watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PriceKind>,
}

impl SeriesFilter {
    /// Whether a tick of `series` from `source` of `kind` is watched.
    pub fn matches(&self, series: &SeriesKey, source: Source, kind: PriceKind) -> bool {
        if self.source.is_some_and(|s| s != source) {
            return false;
        }
        match self.kind {
            Some(k) if k != kind => return false,
            None if !matches!(
                kind,
                PriceKind::Market | PriceKind::Listing | PriceKind::Sold
            ) =>
            {
                return false;
            }
            _ => {}
        }
        match series {
            SeriesKey::Sku {
                printing,
                condition,
                language,
                ..
            } => {
                self.graded != Some(true)
                    && self.grader.is_none()
                    && self.grade.is_none()
                    && self.printing.as_ref().is_none_or(|p| p == printing)
                    && self.condition.as_ref().is_none_or(|c| c == condition)
                    && self.language.as_ref().is_none_or(|l| l == language)
            }
            SeriesKey::Graded { grader, grade, .. } => {
                self.graded != Some(false)
                    && self.printing.is_none()
                    && self.condition.is_none()
                    && self.language.is_none()
                    && self.grader.as_ref().is_none_or(|g| g == grader)
                    && self.grade.as_ref().is_none_or(|g| g == grade)
            }
        }
    }
}

/// Up, down or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
    Either,
}

/// When a rule fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleCondition {
    /// The price crosses above the threshold (fires again only after it has fallen back).
    PriceAbove { threshold_usd: Money },
    /// The price crosses below the threshold (fires again only after it has risen back).
    PriceBelow { threshold_usd: Money },
    /// The price moved by at least `percent` against the oldest price within `window_secs`.
    PercentChange {
        #[schemars(with = "String")]
        #[serde(with = "rust_decimal::serde::str")]
        percent: Decimal,
        window_secs: u64,
        direction: Direction,
        /// Fire only when at least this many independent sources confirm the move (the watched
        /// one included): each moved the same way over the window by at least half as much
        /// (TCGplayer's API and TCGCSV are one source; market prices and sales count). Absent:
        /// fire on the watched price alone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_confirming_sources: Option<u8>,
    },
    /// The price is below every price of the previous `days` days.
    NewLow { days: u16 },
    /// The price is above every price of the previous `days` days.
    NewHigh { days: u16 },
    /// A listing (or sale) priced at least `percent` under the market price of the same series.
    Deal {
        #[schemars(with = "String")]
        #[serde(with = "rust_decimal::serde::str")]
        percent: Decimal,
    },
    /// A shop's buylist price (what it pays for a copy) is at least `percent` of the TCGplayer
    /// market price of the same series: a good moment to sell to it. A shop that wants no copies
    /// quotes no buylist price (`not_buying`), so this never fires while it is not buying.
    BuylistAbove {
        #[schemars(with = "String")]
        #[serde(with = "rust_decimal::serde::str")]
        percent: Decimal,
    },
}

impl RuleCondition {
    /// A short name: `price_above`, `percent_change`, ….
    pub fn kind_name(&self) -> &'static str {
        match self {
            RuleCondition::PriceAbove { .. } => "price_above",
            RuleCondition::PriceBelow { .. } => "price_below",
            RuleCondition::PercentChange { .. } => "percent_change",
            RuleCondition::NewLow { .. } => "new_low",
            RuleCondition::NewHigh { .. } => "new_high",
            RuleCondition::Deal { .. } => "deal",
            RuleCondition::BuylistAbove { .. } => "buylist_above",
        }
    }
}

/// A change to the rule set, as carried on `tcg.alert-rules.v1` (key = rule id, compacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleChange {
    /// Create or replace the rule with this id.
    Upsert { rule: AlertRule },
    /// Remove the rule.
    Delete { rule_id: RuleId, owner: UserId },
}

impl RuleChange {
    pub fn rule_id(&self) -> RuleId {
        match self {
            RuleChange::Upsert { rule } => rule.id,
            RuleChange::Delete { rule_id, .. } => *rule_id,
        }
    }
}
