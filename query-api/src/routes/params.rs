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
    // As the document writes grades (`9.5`, `10 Pristine`), not every spelling `Grade::parse`
    // reads in titles.
    Grade => "a grade (1-10 in half steps; 10 Pristine, 10 Black Label)",
        |s: &str| Grade::parse(s).ok().filter(|g| g.to_string() == s);
    RuleId => "a rule id (UUID)", |s: &str| s.parse().ok();
    SeriesKey => "a series id", |s: &str| s.parse().ok();
    CsvFormat => "collectr, tcgplayer, tcgplayer_seller, manabox, moxfield, deckbox, \
        dragon_shield, archidekt, delver_lens or generic", CsvFormat::parse;
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

/// What values a portfolio's holdings: `market` (the price `source` and `kind` name, the
/// default) or `fair` (tcgtracker's fair value, that price while a holding has none yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pricing {
    #[default]
    Market,
    Fair,
}

query_value! {
    Pricing => "market or fair", |s: &str| match s {
        "market" => Some(Pricing::Market),
        "fair" => Some(Pricing::Fair),
        _ => None,
    };
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

api_schema!(Pricing, Interval, Fill, MoversWindow, MoversDirection);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Pricing>();
    g.subschema_for::<Interval>();
    g.subschema_for::<Fill>();
    g.subschema_for::<MoversWindow>();
    g.subschema_for::<MoversDirection>();
}

/// Comma-separated series ids, as sent: one or more, every one a valid id (no blanks around
/// them, no empty item), as the document's pattern says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesIds(pub Vec<String>);

impl QueryValue for SeriesIds {
    const EXPECTED: &'static str = "comma-separated series ids";

    fn parse(text: &str) -> Option<Self> {
        let ids: Vec<String> = text.split(',').map(str::to_owned).collect();
        (!ids.is_empty() && ids.iter().all(|s| s.parse::<SeriesKey>().is_ok()))
            .then_some(SeriesIds(ids))
    }

    fn invalid(text: &str) -> String {
        match text.split(',').find(|s| s.parse::<SeriesKey>().is_err()) {
            Some(bad) => format!("{bad:?} is not a series id"),
            None => format!("{text:?} is not {}", Self::EXPECTED),
        }
    }
}

/// `text` with the characters that mean something in a regular expression escaped.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `(a|b|…|~text)`: the known codes of a vocabulary, or `~` and percent-encoded ASCII (what a value
/// outside the vocabulary is coded as).
fn codes<'a>(known: impl Iterator<Item = std::borrow::Cow<'a, str>>) -> String {
    let mut alternatives: Vec<String> = known.map(|c| regex_escape(&c)).collect();
    alternatives.push("~([A-Za-z0-9.-]|%[0-7][0-9A-F])*".to_owned());
    format!("({})", alternatives.join("|"))
}

/// One series id, unanchored: `<product id>/<printing>/<condition>/<language>` or
/// `<product id>/<grader>/<grade>`, each part one of the server's codes. Every id that matches
/// is one the server reads (the server reads a few more spellings).
pub fn series_id_regex() -> String {
    use tcg_schemas::{Condition, Grader, Language, Printing};
    let printing = codes(Printing::KNOWN.iter().map(Printing::code));
    let condition = codes(Condition::KNOWN.iter().map(Condition::code));
    let language = codes(Language::KNOWN.iter().map(Language::code));
    let grader = codes(Grader::KNOWN.iter().map(Grader::code));
    let grade = r"([1-9](\.5)?|10|10-pristine|10-black-label)";
    format!("[0-9]{{1,19}}/({printing}/{condition}/{language}|{grader}/{grade})")
}

/// The pattern of a `series` parameter holding one id.
pub fn series_id_pattern() -> String {
    format!("^{}$", series_id_regex())
}

/// The pattern of a `series` parameter holding comma-separated ids.
pub fn series_list_pattern() -> String {
    let one = series_id_regex();
    format!("^{one}(,{one})*$")
}

/// The pattern of a `game` parameter: a TCGplayer category id, `category-<id>`, or a known slug.
pub fn game_pattern() -> String {
    let slugs: Vec<String> = Game::known().map(|g| regex_escape(&g.slug())).collect();
    format!("^([0-9]{{1,9}}|category-[0-9]{{1,9}}|{})$", slugs.join("|"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tcg_schemas::{Condition, Grader, Language, Printing};

    fn matches(pattern: &str, text: &str) -> bool {
        let v =
            jsonschema::validator_for(&serde_json::json!({"type": "string", "pattern": pattern}))
                .unwrap();
        v.is_valid(&serde_json::json!(text))
    }

    #[test]
    fn the_documented_patterns_match_what_the_server_reads() {
        let id = series_id_pattern();
        let mut ids = Vec::new();
        for p in Printing::KNOWN {
            for c in Condition::KNOWN {
                ids.push(SeriesKey::Sku {
                    product_id: ProductId(451_784),
                    printing: p.clone(),
                    condition: c.clone(),
                    language: Language::English,
                });
            }
        }
        for g in Grader::KNOWN
            .iter()
            .chain([&Grader::Other("Beckett X".into())])
        {
            for grade in ["10", "9.5", "1", "10 Pristine", "10 Black Label"] {
                ids.push(SeriesKey::Graded {
                    product_id: ProductId(1),
                    grader: g.clone(),
                    grade: Grade::parse(grade).unwrap(),
                });
            }
        }
        for key in &ids {
            let text = key.id();
            assert!(matches(&id, &text), "{text} does not match {id}");
            assert!(text.parse::<SeriesKey>().is_ok(), "{text}");
        }
        let list = series_list_pattern();
        assert!(matches(&list, &format!("{},{}", ids[0].id(), ids[1].id())));
        for bad in ["1/x/y", "abc", "1/holofoil/nm", "1//", ""] {
            assert!(!matches(&id, bad), "{bad} matches");
        }
        let game = game_pattern();
        for g in Game::known() {
            assert!(matches(&game, &g.slug()), "{}", g.slug());
            assert!(Game::parse(&g.slug()).is_some());
        }
        assert!(matches(&game, "3") && matches(&game, "category-68"));
        assert!(!matches(&game, "nope"));
    }
}
