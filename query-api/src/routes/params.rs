//! The types of query parameters shared by several routes, and how each domain type reads from
//! a query string (what the message of a bad value says it expects).

use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    Game, Grade, GroupId, PriceKind, ProductId, RuleId, SeriesKey, Source, Timestamp,
};
use tcg_store::FillMode;

use crate::{
    csv_import::CsvFormat,
    openapi::api_schema,
    query::{QueryValue, query_value},
};

query_value! {
    Game => "a game slug or category id", Game::parse;
    GroupId => "a set (group) id", |s: &str| s.parse().ok().map(GroupId);
    ProductId => "a product id", |s: &str| s.parse().ok().map(ProductId);
    Source => "a source", Source::parse;
    PriceKind => "a price kind", PriceKind::parse;
    Timestamp => "an RFC 3339 instant", |s: &str| Timestamp::parse(s).ok();
    Grade => "a grade (1-10 in half steps)", |s: &str| Grade::parse(s).ok();
    RuleId => "a rule id (UUID)", |s: &str| s.parse().ok();
    SeriesKey => "a series id", |s: &str| s.parse().ok();
    CsvFormat => "collectr, tcgplayer or generic", CsvFormat::parse;
}

/// Bucket width: `1h`, `1d`, `1w` (Monday-aligned) or `1M`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum Interval {
    #[serde(rename = "1h")]
    Hour,
    #[default]
    #[serde(rename = "1d")]
    Day,
    #[serde(rename = "1w")]
    Week,
    #[serde(rename = "1M")]
    Month,
}

impl Interval {
    /// The store's bucketing.
    pub fn buckets(self) -> tcg_store::Interval {
        match self {
            Interval::Hour => tcg_store::Interval::HOUR,
            Interval::Day => tcg_store::Interval::DAY,
            Interval::Week => tcg_store::Interval::Week,
            Interval::Month => tcg_store::Interval::Month,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Hour => "1h",
            Interval::Day => "1d",
            Interval::Week => "1w",
            Interval::Month => "1M",
        }
    }
}

/// Empty buckets: `previous` (carry the previous close) or `empty`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    #[default]
    Previous,
    Empty,
}

impl From<Fill> for FillMode {
    fn from(f: Fill) -> Self {
        match f {
            Fill::Previous => FillMode::PreviousClose,
            Fill::Empty => FillMode::Empty,
        }
    }
}

/// The window of movers: `24h`, `7d` or `30d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum MoversWindow {
    #[serde(rename = "24h")]
    Day,
    #[default]
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

impl MoversWindow {
    /// (window, how far before its start the start price may be), seconds.
    pub fn secs(self) -> (i64, i64) {
        match self {
            MoversWindow::Day => (86_400, 2 * 86_400),
            MoversWindow::Week => (7 * 86_400, 7 * 86_400),
            MoversWindow::Month => (30 * 86_400, 14 * 86_400),
        }
    }
}

/// Which movers: `up`, `down` or `both`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MoversDirection {
    Up,
    Down,
    #[default]
    Both,
}

query_value! {
    Interval => "1h, 1d, 1w or 1M", |s: &str| match s {
        "1h" => Some(Interval::Hour),
        "1d" => Some(Interval::Day),
        "1w" => Some(Interval::Week),
        "1M" => Some(Interval::Month),
        _ => None,
    };
    Fill => "previous or empty", |s: &str| match s {
        "previous" => Some(Fill::Previous),
        "empty" => Some(Fill::Empty),
        _ => None,
    };
    MoversWindow => "24h, 7d or 30d", |s: &str| match s {
        "24h" => Some(MoversWindow::Day),
        "7d" => Some(MoversWindow::Week),
        "30d" => Some(MoversWindow::Month),
        _ => None,
    };
    MoversDirection => "up, down or both", |s: &str| match s {
        "up" => Some(MoversDirection::Up),
        "down" => Some(MoversDirection::Down),
        "both" => Some(MoversDirection::Both),
        _ => None,
    };
}

api_schema!(Interval, Fill, MoversWindow, MoversDirection);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Interval>();
    g.subschema_for::<Fill>();
    g.subschema_for::<MoversWindow>();
    g.subschema_for::<MoversDirection>();
}

/// Comma-separated series ids, as sent (trimmed, blanks skipped): one or more, every one a
/// valid id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesIds(pub Vec<String>);

impl QueryValue for SeriesIds {
    const EXPECTED: &'static str = "comma-separated series ids";

    fn parse(text: &str) -> Option<Self> {
        let ids: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        (!ids.is_empty() && ids.iter().all(|s| s.parse::<SeriesKey>().is_ok()))
            .then_some(SeriesIds(ids))
    }

    fn invalid(text: &str) -> String {
        match text
            .split(',')
            .map(str::trim)
            .find(|s| !s.is_empty() && s.parse::<SeriesKey>().is_err())
        {
            Some(bad) => format!("{bad:?} is not a series id"),
            None => format!("{text:?} is not {}", Self::EXPECTED),
        }
    }
}
