//! Identifiers of the sources' own records and of ours.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

numeric_id!(
    /// TCGplayer category id (one per game).
    CategoryId(u32)
);
numeric_id!(
    /// TCGplayer group id (a set or expansion).
    GroupId(u32)
);
numeric_id!(
    /// TCGplayer product id: a card, or a sealed product.
    ProductId(u64)
);
numeric_id!(
    /// TCGplayer SKU id: product × printing × condition × language.
    SkuId(u64)
);

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map($name)
            }
        }
    };
}

uuid_id!(
    /// An alert rule.
    RuleId
);
uuid_id!(
    /// A fired alert; derived deterministically from what fired it, so replays give the same id.
    AlertId
);
uuid_id!(
    /// A user's portfolio.
    PortfolioId
);
uuid_id!(
    /// A holding inside a portfolio.
    HoldingId
);
uuid_id!(
    /// A portfolio event (acquisition, sale, removal).
    PortfolioEventId
);
uuid_id!(
    /// One CSV import into a portfolio: the holdings it created can be removed together.
    ImportId
);

/// A user, by name (the name given to `tcgtracker keys create --user NAME`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct UserId(pub String);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
