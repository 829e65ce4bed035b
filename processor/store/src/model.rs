//! The query and result types of the store boundary. Backend-independent.

use serde::{Deserialize, Serialize};
use tcg_schemas::{
    Condition, Game, Grade, Grader, GroupId, HoldingId, Language, Money, PriceKind, Printing,
    ProductId, Source, Timestamp,
};

use crate::{StoreError, interval::Interval};

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WriteReport {
    /// Rows handed to the backend.
    pub rows: usize,
    /// Rows that were new (the others were replays). `None` when the backend cannot tell
    /// (QuestDB deduplicates on the server, after the write returns).
    pub new_rows: Option<usize>,
}

/// Restricts reads to some sources and price kinds. Empty means any.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PriceFilter {
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub kinds: Vec<PriceKind>,
}

impl PriceFilter {
    pub fn any() -> Self {
        Self::default()
    }

    pub fn only(source: Source, kind: PriceKind) -> Self {
        Self {
            sources: vec![source],
            kinds: vec![kind],
        }
    }

    pub fn matches(&self, source: Source, kind: PriceKind) -> bool {
        (self.sources.is_empty() || self.sources.contains(&source))
            && (self.kinds.is_empty() || self.kinds.contains(&kind))
    }
}

/// The latest price of one (series, source, kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestPrice {
    pub series_id: String,
    pub source: Source,
    pub kind: PriceKind,
    pub observed_at: Timestamp,
    pub price_usd: Money,
    pub original: Money,
    /// Empty when the tick priced no single listing.
    pub listing_id: String,
    /// The tick's confidence (an eBay match's; a fair value's).
    pub confidence: Option<u8>,
    /// The sources agreeing with a fair value.
    pub agreeing: Vec<Source>,
}

/// Which series of a product a read covers: `None` fields match anything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeriesSelection {
    pub printing: Option<Printing>,
    pub condition: Option<Condition>,
    pub language: Option<Language>,
    /// `Some(true)`: graded series only; `Some(false)`: raw only.
    pub graded: Option<bool>,
    pub grader: Option<Grader>,
    pub grade: Option<Grade>,
}

impl SeriesSelection {
    pub fn matches(&self, key: &tcg_schemas::SeriesKey) -> bool {
        match key {
            tcg_schemas::SeriesKey::Sku {
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
            tcg_schemas::SeriesKey::Graded { grader, grade, .. } => {
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

/// The series a candle read covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesTarget {
    /// One series by id.
    Series(String),
    /// The series of a product that pass the selection.
    Product {
        product_id: ProductId,
        selection: SeriesSelection,
    },
}

/// What an empty bucket becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillMode {
    /// Open = high = low = close = the previous close (also from before `from`); `filled` is set.
    #[default]
    PreviousClose,
    /// No prices, count 0.
    Empty,
}

/// OHLC candles of some series over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandleQuery {
    pub target: SeriesTarget,
    pub prices: PriceFilter,
    pub interval: Interval,
    pub from: Timestamp,
    pub to: Timestamp,
    pub fill: FillMode,
}

/// One bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    /// Bucket start (inclusive).
    pub start: Timestamp,
    pub open: Option<Money>,
    pub high: Option<Money>,
    pub low: Option<Money>,
    pub close: Option<Money>,
    /// Ticks in the bucket (0 for an empty bucket, filled or not).
    pub count: u64,
    /// True when the prices were carried from the previous close.
    pub filled: bool,
}

/// The candles of one (series, source, kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesCandles {
    pub series_id: String,
    pub source: Source,
    pub kind: PriceKind,
    pub candles: Vec<Candle>,
}

/// Top gainers and losers: last price at `as_of` against the last price at `since`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoversQuery {
    pub since: Timestamp,
    pub as_of: Timestamp,
    pub game: Option<Game>,
    pub group_id: Option<GroupId>,
    pub prices: PriceFilter,
    /// How many gainers and how many losers.
    pub limit: usize,
    /// Series whose start price is below this are ignored (noise of penny cards). 0 = none.
    pub min_start_cents: i64,
    /// The start price is the last tick in `(since − start_lookback_secs, since]`: a series not
    /// priced in that span has no start price and is not a mover (a stale price is not "the price
    /// at the window start"). Bounding it keeps the read a range scan.
    pub start_lookback_secs: i64,
}

/// One mover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mover {
    pub series_id: String,
    pub product_id: ProductId,
    pub source: Source,
    pub kind: PriceKind,
    pub start_usd: Money,
    pub start_at: Timestamp,
    pub end_usd: Money,
    pub end_at: Timestamp,
    /// Change in basis points (1/100 of a percent), rounded towards zero.
    pub change_bps: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Movers {
    /// Biggest relative rise first.
    pub gainers: Vec<Mover>,
    /// Biggest relative fall first.
    pub losers: Vec<Mover>,
}

/// Which price values a holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuationPrice {
    pub prices: PriceFilter,
}

impl Default for ValuationPrice {
    fn default() -> Self {
        Self {
            prices: PriceFilter {
                sources: vec![],
                kinds: vec![PriceKind::Market],
            },
        }
    }
}

/// One holding's figures at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingValue {
    pub holding_id: HoldingId,
    pub series_id: String,
    pub quantity: u32,
    /// Last price at or before the instant (`None`: never priced).
    pub unit_price_usd: Option<Money>,
    pub priced_at: Option<Timestamp>,
    pub market_value_usd: Money,
    /// Average cost of the copies still held.
    pub cost_basis_usd: Money,
    pub realized_pnl_usd: Money,
    pub unrealized_pnl_usd: Money,
}

/// A portfolio's figures at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioValuation {
    pub at: Timestamp,
    pub market_value_usd: Money,
    pub cost_basis_usd: Money,
    pub realized_pnl_usd: Money,
    /// Market value − cost basis of the priced holdings.
    pub unrealized_pnl_usd: Money,
    pub holdings: Vec<HoldingValue>,
    /// Holdings whose costs are not in USD are left out of the totals (no FX here).
    pub non_usd_holdings: Vec<HoldingId>,
    /// Holdings (in USD, with copies held) that have no price at the instant: left out of market
    /// value, cost basis and unrealized P&L (their realized P&L still counts).
    pub unpriced_holdings: Vec<HoldingId>,
}

/// One point of a portfolio's history (totals only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuationPoint {
    /// The bucket start; values are as of the bucket end (exclusive), i.e. the last price before it.
    pub start: Timestamp,
    pub market_value_usd: Money,
    pub cost_basis_usd: Money,
    pub realized_pnl_usd: Money,
    pub unrealized_pnl_usd: Money,
}

/// Catalog search. All given fields must match.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CatalogQuery {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    /// Card number: exact ("139/195") or its part before the slash ("139").
    pub number: Option<String>,
    pub group_id: Option<GroupId>,
    pub game: Option<Game>,
    pub limit: usize,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One page of products ordered by name (case-insensitive), then id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogPage {
    pub items: Vec<tcg_schemas::Product>,
    pub next_cursor: Option<String>,
}

/// Keyset cursor for catalog pages: (lower-cased name, product id).
pub(crate) fn encode_cursor(name: &str, id: ProductId) -> String {
    format!("{}:{}", id.0, name)
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(String, u64), StoreError> {
    let (id, name) = cursor
        .split_once(':')
        .ok_or_else(|| StoreError::InvalidQuery(format!("bad cursor {cursor:?}")))?;
    let id = id
        .parse::<u64>()
        .map_err(|_| StoreError::InvalidQuery(format!("bad cursor {cursor:?}")))?;
    Ok((name.to_owned(), id))
}
