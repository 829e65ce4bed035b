//! JustTCG's answers as sent (`https://justtcg.com/docs`, the `justtcg-js` SDK's raw types) and
//! their conversion to quotes.
//!
//! Every answer is `{"data": [...], "meta": {...}, "_metadata": {...}}` (`meta` only on the
//! paginated GETs); an error is `{"error": "...", "code": "INVALID_API_KEY"}`, with an HTTP error
//! status or, for some request errors, inside an otherwise normal answer.

use std::{collections::HashMap, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use tcg_schemas::{
    CategoryId, Condition, Currency, Language, Mapping, MappingMethod, MarketRow, Money, PriceKind,
    ProductId, RawQuote, SchemaError, Source as QuoteSource, Subject, Timestamp,
};

use crate::{CollectorError, identity::ProductIndex};

/// An answer: its rows, its paging (GET `/cards` and `/sets`) and the plan's usage.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub meta: Option<Meta>,
    #[serde(rename = "_metadata", default)]
    pub usage: Option<Usage>,
    /// A request error (`code` says which) in an answer that is otherwise normal.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

/// Paging of a GET listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub has_more: Option<bool>,
}

/// The plan's allowance as of this answer (`_metadata`, on every successful answer). Every field
/// is optional: answers have been seen with only some of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub api_plan: Option<String>,
    /// Requests a billing cycle (month).
    pub api_request_limit: Option<u64>,
    /// Requests a day (the day resets at 00:00 UTC).
    pub api_daily_limit: Option<u64>,
    /// Requests a minute.
    pub api_rate_limit: Option<u64>,
    pub api_requests_used: Option<u64>,
    pub api_daily_requests_used: Option<u64>,
    pub api_requests_remaining: Option<i64>,
    pub api_daily_requests_remaining: Option<i64>,
}

impl Usage {
    /// Whether the plan's daily or monthly allowance is spent (the next request would be a 429
    /// `DAILY_LIMIT_EXCEEDED` or `REQUEST_LIMIT_EXCEEDED`).
    pub fn spent(&self) -> bool {
        self.api_daily_requests_remaining.is_some_and(|r| r <= 0)
            || self.api_requests_remaining.is_some_and(|r| r <= 0)
    }
}

/// A JustTCG error answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    pub error: String,
    #[serde(default)]
    pub code: Option<String>,
}

/// JustTCG's documented error codes (`https://justtcg.com/docs/errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    MissingApiKey,
    InvalidApiKey,
    InvalidRequest,
    /// The per-minute limit.
    RateLimitExceeded,
    /// The daily limit (resets 00:00 UTC).
    DailyLimitExceeded,
    /// The monthly limit (resets with the billing cycle).
    RequestLimitExceeded,
    Other(String),
}

impl ErrorCode {
    pub fn parse(code: &str) -> ErrorCode {
        match code {
            "MISSING_API_KEY" => ErrorCode::MissingApiKey,
            "INVALID_API_KEY" => ErrorCode::InvalidApiKey,
            "INVALID_REQUEST" => ErrorCode::InvalidRequest,
            "RATE_LIMIT_EXCEEDED" => ErrorCode::RateLimitExceeded,
            "DAILY_LIMIT_EXCEEDED" => ErrorCode::DailyLimitExceeded,
            "REQUEST_LIMIT_EXCEEDED" => ErrorCode::RequestLimitExceeded,
            other => ErrorCode::Other(other.to_owned()),
        }
    }

    /// Whether the plan's allowance is the cause (waiting, not retrying, helps).
    pub fn is_quota(&self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimitExceeded
                | ErrorCode::DailyLimitExceeded
                | ErrorCode::RequestLimitExceeded
        )
    }

    /// Whether the API key is the cause.
    pub fn is_auth(&self) -> bool {
        matches!(self, ErrorCode::MissingApiKey | ErrorCode::InvalidApiKey)
    }
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::parse(self.code.as_deref().unwrap_or(""))
    }

    /// The error as the collectors report it (`upstream reported failure: ["CODE: message"]`).
    pub fn into_error(self, source_name: &'static str) -> CollectorError {
        let text = match &self.code {
            Some(code) => format!("{code}: {}", self.error),
            None => self.error,
        };
        CollectorError::Upstream {
            source_name,
            errors: vec![text],
        }
    }
}

/// Reads an error answer's body (of any status); `None` when it is not JustTCG's error shape.
pub fn parse_error(body: &[u8]) -> Option<ApiError> {
    serde_json::from_slice(body).ok()
}

/// Parses an answer; an `error` inside it is an `Upstream` error naming the code.
pub fn parse_envelope<T: DeserializeOwned>(
    source_name: &'static str,
    body: &[u8],
) -> Result<Envelope<T>, CollectorError> {
    let env: Envelope<T> =
        serde_json::from_slice(body).map_err(|e| CollectorError::malformed(source_name, e))?;
    if let Some(error) = env.error.clone() {
        return Err(ApiError {
            error,
            code: env.code.clone(),
        }
        .into_error(source_name));
    }
    Ok(env)
}

/// An id JustTCG sends as a string (`"tcgplayerId": "219042"`), accepted as a number too.
fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdText {
        Text(String),
        Number(u64),
    }
    Ok(Option::<IdText>::deserialize(d)?.and_then(|v| match v {
        IdText::Text(s) if s.trim().is_empty() => None,
        IdText::Text(s) => Some(s.trim().to_owned()),
        IdText::Number(n) => Some(n.to_string()),
    }))
}

/// A card (a TCGplayer product) and its variants.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    /// JustTCG's card id, a slug (`pokemon-base-set-charizard-holo-rare`).
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub game: Option<String>,
    /// The set's id (`base-set-pokemon`).
    #[serde(default)]
    pub set: Option<String>,
    #[serde(default, rename = "set_name")]
    pub set_name: Option<String>,
    /// The collector number; `N/A` (or absent) for sealed products.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub rarity: Option<String>,
    /// The TCGplayer product id, as a string; `null` when JustTCG does not know it.
    #[serde(default, deserialize_with = "id_text")]
    pub tcgplayer_id: Option<String>,
    #[serde(default)]
    pub variants: Vec<Variant>,
}

impl Card {
    /// The collector number, `N/A` meaning none.
    pub fn number(&self) -> Option<&str> {
        self.number
            .as_deref()
            .filter(|n| !n.trim().is_empty() && !n.eq_ignore_ascii_case("N/A"))
    }

    /// The TCGplayer product id, when it is a number.
    pub fn product_id(&self) -> Option<ProductId> {
        self.tcgplayer_id
            .as_deref()
            .and_then(|t| t.parse().ok())
            .map(ProductId)
    }
}

/// One variant: a TCGplayer SKU (condition × printing × language) and its price.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    /// JustTCG's variant id (`…_near-mint_holofoil`).
    pub id: String,
    /// "Near Mint", "Lightly Played", "Moderately Played", "Heavily Played", "Damaged", "Sealed".
    #[serde(default)]
    pub condition: Option<String>,
    /// TCGplayer's printing: "Normal", "Foil", "Holofoil", "Reverse Holofoil", "1st Edition" …
    #[serde(default)]
    pub printing: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    pub tcgplayer_sku_id: Option<String>,
    /// USD; `null` when JustTCG has no reliable price.
    #[serde(default)]
    pub price: Option<f64>,
    /// When JustTCG last priced it (Unix seconds).
    #[serde(default)]
    pub last_updated: Option<i64>,
    #[serde(default)]
    pub price_change_24hr: Option<f64>,
    #[serde(default)]
    pub price_change_7d: Option<f64>,
    /// With `include_price_history=true`: the points of `priceHistoryDuration`.
    #[serde(default)]
    pub price_history: Option<Vec<PricePoint>>,
}

/// One point of a price history: `t` Unix seconds, `p` USD.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct PricePoint {
    pub t: i64,
    #[serde(default)]
    pub p: Option<f64>,
}

/// A set (`GET /sets?game=`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SetRow {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub release_date: Option<String>,
}

/// A game (`GET /games`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GameRow {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub cards_count: Option<u64>,
    #[serde(default)]
    pub last_updated: Option<i64>,
}

/// JustTCG's game id of a TCGplayer category (the `game` parameter).
pub fn game_of(category_id: u32) -> Option<&'static str> {
    Some(match category_id {
        1 => "magic-the-gathering",
        2 => "yugioh",
        3 => "pokemon",
        68 => "one-piece-card-game",
        71 => "disney-lorcana",
        85 => "pokemon-japan",
        _ => return None,
    })
}

/// USD dollars as JustTCG sends them (`4.99`), rounded half-to-even to the cent.
pub fn usd(dollars: f64) -> Result<Money, SchemaError> {
    let text = dollars.to_string();
    let d = Decimal::from_str(&text).map_err(|_| SchemaError::InvalidAmount(text))?;
    Money::from_decimal(d, Currency::USD)
}

/// What a card of an answer is to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Its `tcgplayerId` is one of our products, claimed by no other card of the answer.
    Mapped {
        product_id: ProductId,
        category_id: CategoryId,
    },
    /// No `tcgplayerId`, or one our catalog does not have.
    Unmapped,
    /// Another card of the same answer claims the same product: which one is ours is not known.
    Ambiguous(ProductId),
}

/// The claim of each card of an answer (by position). A card listed twice under one id claims
/// once.
pub fn claims(cards: &[Card], index: &ProductIndex) -> Vec<Claim> {
    let mut by_product: HashMap<ProductId, Vec<&str>> = HashMap::new();
    for card in cards {
        if let Some(p) = card.product_id() {
            let ids = by_product.entry(p).or_default();
            if !ids.contains(&card.id.as_str()) {
                ids.push(&card.id);
            }
        }
    }
    cards
        .iter()
        .map(|card| {
            let Some(product_id) = card.product_id() else {
                return Claim::Unmapped;
            };
            let Some(entry) = index.get(product_id) else {
                return Claim::Unmapped;
            };
            if by_product.get(&product_id).is_some_and(|ids| ids.len() > 1) {
                return Claim::Ambiguous(product_id);
            }
            Claim::Mapped {
                product_id,
                category_id: entry.category_id,
            }
        })
        .collect()
}

/// Why a variant gave no quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// No price (null, zero or negative): nothing to store.
    NoPrice(String),
    /// The variant cannot be read as a series (no printing, an amount out of range).
    Unreadable(String),
}

/// The quote of one variant of a mapped card at `observed_at` with price `dollars`.
pub fn variant_quote(
    variant: &Variant,
    product_id: ProductId,
    category_id: CategoryId,
    dollars: Option<f64>,
    observed_at: Timestamp,
) -> Result<RawQuote, Skip> {
    let printing = variant
        .printing
        .as_deref()
        .map(tidy)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Skip::Unreadable(format!("variant {} has no printing", variant.id)))?;
    let Some(dollars) = dollars else {
        return Err(Skip::NoPrice(format!(
            "variant {} has no price",
            variant.id
        )));
    };
    let price =
        usd(dollars).map_err(|e| Skip::Unreadable(format!("variant {}: {e}", variant.id)))?;
    if !price.is_positive() {
        return Err(Skip::NoPrice(format!(
            "variant {} is priced {dollars}",
            variant.id
        )));
    }
    Ok(RawQuote {
        source: QuoteSource::Justtcg,
        observed_at,
        kind: PriceKind::Market,
        price,
        shipping: None,
        subject: Subject::Market(Box::new(MarketRow {
            category_id,
            product_id,
            external_id: variant.id.clone(),
            mapping: Mapping {
                method: MappingMethod::TcgplayerId,
                confidence: 100,
            },
            printing,
            condition: variant.condition.as_deref().map(Condition::parse),
            language: variant
                .language
                .as_deref()
                .filter(|l| !l.trim().is_empty())
                .map(Language::parse),
            graded: None,
            quantity: None,
        })),
    })
}

/// Trims and collapses white space.
fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::CatalogEntry;

    fn card(id: &str, tcgplayer_id: Option<&str>) -> Card {
        Card {
            id: id.into(),
            name: "Charizard".into(),
            game: Some("Pokemon".into()),
            set: Some("base-set-pokemon".into()),
            set_name: Some("Base Set".into()),
            number: Some("4/102".into()),
            rarity: Some("Holo Rare".into()),
            tcgplayer_id: tcgplayer_id.map(Into::into),
            variants: Vec::new(),
        }
    }

    fn index() -> ProductIndex {
        ProductIndex::from_entries([1u64, 2].map(|id| CatalogEntry {
            product_id: ProductId(id),
            category_id: CategoryId(3),
            name: format!("Card {id}"),
            number: Some(id.to_string()),
            set_name: None,
            set_code: None,
            sealed: false,
        }))
    }

    #[test]
    fn claims_map_stated_ids_list_the_rest_and_never_pick_between_two() {
        let cards = [
            card("a", Some("1")),
            card("b", Some("2")),
            card("c", Some("2")),
            card("d", Some("99")),
            card("e", None),
            card("a", Some("1")),
        ];
        assert_eq!(
            claims(&cards, &index()),
            [
                Claim::Mapped {
                    product_id: ProductId(1),
                    category_id: CategoryId(3)
                },
                Claim::Ambiguous(ProductId(2)),
                Claim::Ambiguous(ProductId(2)),
                Claim::Unmapped,
                Claim::Unmapped,
                Claim::Mapped {
                    product_id: ProductId(1),
                    category_id: CategoryId(3)
                },
            ]
        );
    }

    #[test]
    fn dollars_round_to_the_cent() {
        assert_eq!(usd(4.99).unwrap(), Money::usd_cents(499));
        assert_eq!(usd(0.125).unwrap(), Money::usd_cents(12));
        assert_eq!(usd(1234.5).unwrap(), Money::usd_cents(123_450));
        assert_eq!(usd(1e-9).unwrap(), Money::usd_cents(0));
    }

    #[test]
    fn numbers_and_ids_are_read_as_sent() {
        let c: Card = serde_json::from_str(
            r#"{"id":"x","name":"Booster Box","number":"N/A","tcgplayerId":12345,"variants":[]}"#,
        )
        .unwrap();
        assert_eq!(c.number(), None);
        assert_eq!(c.product_id(), Some(ProductId(12345)));
        let c: Card =
            serde_json::from_str(r#"{"id":"x","name":"X","tcgplayerId":"","variants":[]}"#)
                .unwrap();
        assert_eq!(c.product_id(), None);
        assert_eq!(game_of(3), Some("pokemon"));
        assert_eq!(game_of(999), None);
    }
}
