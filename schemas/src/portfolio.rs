//! Portfolios, holdings and the events that change them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    ids::{HoldingId, PortfolioEventId, PortfolioId, ProductId, UserId},
    money::Money,
    series::SeriesKey,
    time::Timestamp,
    vocab::{Condition, Grade, Grader, Language, Printing},
};

/// A named collection of holdings owned by one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Portfolio {
    pub id: PortfolioId,
    pub owner: UserId,
    pub name: String,
    pub created_at: Timestamp,
}

/// A grader and grade, for graded holdings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Grading {
    pub grader: Grader,
    pub grade: Grade,
}

/// Copies of one card in a portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Holding {
    pub id: HoldingId,
    pub portfolio_id: PortfolioId,
    pub product_id: ProductId,
    pub printing: Printing,
    pub condition: Condition,
    pub language: Language,
    /// Set for slabs: the holding is then valued by its graded series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<Grading>,
    /// Copies still held.
    pub quantity: u32,
    pub cost_per_unit: Money,
    /// `YYYY-MM-DD`.
    pub acquired_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Holding {
    /// The price series that values this holding.
    pub fn series(&self) -> SeriesKey {
        match &self.grading {
            Some(g) => SeriesKey::Graded {
                product_id: self.product_id,
                grader: g.grader.clone(),
                grade: g.grade,
            },
            None => SeriesKey::Sku {
                product_id: self.product_id,
                printing: self.printing.clone(),
                condition: self.condition.clone(),
                language: self.language.clone(),
            },
        }
    }
}

/// Something that happened to a holding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct PortfolioEvent {
    pub id: PortfolioEventId,
    pub portfolio_id: PortfolioId,
    pub holding_id: HoldingId,
    pub at: Timestamp,
    pub change: HoldingChange,
}

/// The change itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum HoldingChange {
    /// Copies added at a cost.
    Acquired { quantity: u32, cost_per_unit: Money },
    /// Copies sold: realized P&L is proceeds − fees − cost basis of the copies sold.
    Sold {
        quantity: u32,
        price_per_unit: Money,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fees: Option<Money>,
    },
    /// Copies removed without a sale (gift, loss): no realized P&L.
    Removed { quantity: u32 },
}
