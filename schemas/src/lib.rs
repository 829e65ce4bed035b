//! The wire and domain types every tcgtracker component shares.
//!
//! No I/O and no async runtime: values, parsing, validation and the JSON Schemas of the Kafka
//! topics (generated from these types into `schemas/json/` and checked for drift by a test).

pub mod alert;
pub mod catalog;
mod de_str;
pub mod envelope;
pub mod fx;
pub mod game;
pub mod ids;
pub mod money;
pub mod portfolio;
pub mod quote;
pub mod reject;
pub mod rule;
pub mod series;
pub mod source_health;
pub mod tick;
pub mod time;
pub mod vocab;

pub use alert::{AlertEvent, Trigger};
pub use catalog::{CardSet, Product, Sku};
pub use envelope::{DeadLetter, Envelope, Origin, TopicPayload, topics};
pub use fx::FxRates;
pub use game::Game;
pub use ids::{
    AlertId, CategoryId, GroupId, HoldingId, ImportId, PortfolioEventId, PortfolioId, ProductId,
    RuleId, SkuId, UserId,
};
pub use money::{Currency, Money};
pub use portfolio::{Grading, Holding, HoldingChange, Portfolio, PortfolioEvent};
pub use quote::{
    EbayItem, GradedAs, Mapping, MappingMethod, MarketRow, PriceKind, RawQuote, Source, Subject,
    TrackedCard, Wanted,
};
pub use reject::{CardRejection, RejectReason, RejectionStage};
pub use rule::{AlertRule, Direction, RuleChange, RuleCondition, SeriesFilter};
pub use series::SeriesKey;
pub use source_health::{Degradation, HealthError, HealthStatus, SourceHealth, UnmappedProduct};
pub use tick::{Tick, TickKey};
pub use time::Timestamp;
pub use vocab::{Condition, Grade, GradeLabel, Grader, Language, Printing};

/// Everything that can go wrong turning outside data into these types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("{0:?} is not an ISO 4217 currency code")]
    InvalidCurrency(String),
    #[error("{0:?} is not a valid amount")]
    InvalidAmount(String),
    #[error("{amount} has more decimal places than {currency} allows")]
    TooPrecise { amount: String, currency: Currency },
    #[error("{0:?} is not a grade (1-10 in half steps)")]
    InvalidGrade(String),
    #[error("{0:?} is not a series id")]
    InvalidSeriesId(String),
    #[error("no exchange rate for {0}")]
    NoRate(Currency),
    #[error("cannot decode message: {0}")]
    Decode(String),
    #[error("cannot encode message: {0}")]
    Encode(String),
    #[error("message has schema {found:?}, expected {expected:?}")]
    WrongSchema {
        expected: &'static str,
        found: String,
    },
}
