//! JustTCG's price history of a product, for back-fill: `GET /cards?tcgplayerId=…&
//! include_price_history=true&priceHistoryDuration=…`, each point of each variant a `market`
//! quote observed at the point's time.

use std::fmt;

use serde::Deserialize;
use tcg_schemas::{CategoryId, ProductId, RawQuote, Timestamp};

use super::{
    client::JusttcgClient,
    model::{Card, Claim, Skip, claims, variant_quote},
};
use crate::{CollectorError, identity::ProductIndex};

/// How far back a history reaches (`priceHistoryDuration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum HistoryDuration {
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "90d")]
    Quarter,
    #[serde(rename = "180d")]
    HalfYear,
    #[serde(rename = "1y")]
    Year,
}

impl HistoryDuration {
    pub const ALL: [HistoryDuration; 5] = [
        HistoryDuration::Week,
        HistoryDuration::Month,
        HistoryDuration::Quarter,
        HistoryDuration::HalfYear,
        HistoryDuration::Year,
    ];

    /// The parameter's value.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryDuration::Week => "7d",
            HistoryDuration::Month => "30d",
            HistoryDuration::Quarter => "90d",
            HistoryDuration::HalfYear => "180d",
            HistoryDuration::Year => "1y",
        }
    }

    pub fn parse(text: &str) -> Option<HistoryDuration> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }

    /// Its length in days.
    pub fn days(self) -> u32 {
        match self {
            HistoryDuration::Week => 7,
            HistoryDuration::Month => 30,
            HistoryDuration::Quarter => 90,
            HistoryDuration::HalfYear => 180,
            HistoryDuration::Year => 365,
        }
    }
}

impl fmt::Display for HistoryDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product's history as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryRead {
    /// One quote per point and variant, `observed_at` the point's time.
    pub quotes: Vec<RawQuote>,
    /// Points without a usable price (null, zero), or variants without a printing.
    pub dropped: usize,
    /// JustTCG answered with no card of the product.
    pub not_found: bool,
    /// Several JustTCG cards claim the product: none is read (never guessed).
    pub ambiguous: bool,
}

/// The history quotes of `product` in an answer `cards` (the product's category `category_id`).
/// Cards of other products are ignored.
pub fn history_quotes(cards: &[Card], product: ProductId, category_id: CategoryId) -> HistoryRead {
    let mut read = HistoryRead::default();
    let of_product: Vec<Card> = cards
        .iter()
        .filter(|c| c.product_id() == Some(product))
        .cloned()
        .collect();
    // The product need not be in a catalog: its id is stated, and the caller names its category.
    let index = ProductIndex::from_entries([crate::identity::CatalogEntry {
        product_id: product,
        category_id,
        name: String::new(),
        number: None,
        set_name: None,
        set_code: None,
        sealed: false,
    }]);
    let claimed = claims(&of_product, &index);
    if claimed.is_empty() {
        read.not_found = true;
        return read;
    }
    if claimed.iter().any(|c| matches!(c, Claim::Ambiguous(_))) {
        read.ambiguous = true;
        return read;
    }
    for card in of_product.iter().take(1) {
        for variant in &card.variants {
            for point in variant.price_history.iter().flatten() {
                let at = Timestamp::from_secs(point.t);
                match variant_quote(variant, product, category_id, point.p, at) {
                    Ok(q) => read.quotes.push(q),
                    Err(Skip::NoPrice(_) | Skip::Unreadable(_)) => read.dropped += 1,
                }
            }
        }
    }
    read.quotes.sort_by_key(|q| q.observed_at);
    read
}

impl JusttcgClient {
    /// The price history of `product` (of category `category_id`) over `duration`: one request.
    pub async fn history(
        &self,
        product: ProductId,
        category_id: CategoryId,
        duration: HistoryDuration,
    ) -> Result<HistoryRead, CollectorError> {
        let answer = self
            .cards(&[
                ("tcgplayerId", product.0.to_string()),
                ("include_price_history", "true".to_owned()),
                ("priceHistoryDuration", duration.as_str().to_owned()),
            ])
            .await?;
        Ok(history_quotes(&answer.data, product, category_id))
    }
}

/// The history of one of our products over `duration` (its category from our catalog), for
/// back-fill: one request. A product our catalog does not have is a configuration error.
pub async fn read_history(
    client: &JusttcgClient,
    index: &ProductIndex,
    product: ProductId,
    duration: HistoryDuration,
) -> Result<HistoryRead, CollectorError> {
    let entry = index.get(product).ok_or_else(|| {
        CollectorError::Config(format!(
            "justtcg history: product {} is not in our catalog",
            product.0
        ))
    })?;
    client.history(product, entry.category_id, duration).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_say_their_parameter() {
        for d in HistoryDuration::ALL {
            assert_eq!(HistoryDuration::parse(d.as_str()), Some(d));
            let json = format!("\"{d}\"");
            assert_eq!(serde_json::from_str::<HistoryDuration>(&json).unwrap(), d);
        }
        assert_eq!(HistoryDuration::parse("2y"), None);
        assert_eq!(HistoryDuration::Year.days(), 365);
    }
}
