//! eBay Browse and Marketplace Insights shapes, the search query built for a tracked card, and
//! the pure conversion of answers into quotes.

use serde::Deserialize;
use tcg_schemas::{
    Currency, EbayItem, Grader, Money, PriceKind, RawQuote, Source, Subject, Timestamp,
    TrackedCard, Wanted,
};

use crate::CollectorError;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Amount {
    pub value: String,
    pub currency: String,
}

impl Amount {
    pub fn to_money(&self) -> Option<Money> {
        let currency = Currency::parse(&self.currency).ok()?;
        Money::parse_decimal(&self.value, currency).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOption {
    #[serde(default)]
    pub shipping_cost_type: Option<String>,
    #[serde(default)]
    pub shipping_cost: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seller {
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemLocation {
    #[serde(default)]
    pub country: Option<String>,
}

/// One `itemSummaries[]` entry (fields we use).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSummary {
    pub item_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub price: Option<Amount>,
    #[serde(default)]
    pub current_bid_price: Option<Amount>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub condition_id: Option<String>,
    #[serde(default)]
    pub shipping_options: Vec<ShippingOption>,
    #[serde(default)]
    pub buying_options: Vec<String>,
    #[serde(default)]
    pub seller: Option<Seller>,
    #[serde(default)]
    pub item_web_url: Option<String>,
    #[serde(default)]
    pub item_location: Option<ItemLocation>,
}

/// The Browse search answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub limit: u64,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub item_summaries: Vec<ItemSummary>,
}

/// One Marketplace Insights `itemSales[]` row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSale {
    pub item_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub last_sold_date: Option<String>,
    #[serde(default)]
    pub last_sold_price: Option<Amount>,
    #[serde(default)]
    pub total_sold_quantity: Option<u32>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub condition_id: Option<String>,
    #[serde(default)]
    pub item_web_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesPage {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub item_sales: Vec<ItemSale>,
}

pub fn parse_search(source: &'static str, body: &[u8]) -> Result<SearchPage, CollectorError> {
    serde_json::from_slice(body).map_err(|e| CollectorError::malformed(source, e))
}

pub fn parse_sales(source: &'static str, body: &[u8]) -> Result<SalesPage, CollectorError> {
    serde_json::from_slice(body).map_err(|e| CollectorError::malformed(source, e))
}

pub use super::query::search_query;

/// Search filters for the `filter` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSpec {
    pub buying_options: Vec<String>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub currency: String,
    pub item_location_country: Option<String>,
}

/// The Browse `filter` value: buying options, condition (2750 graded, 4000 ungraded) from what
/// the card wants, price range and location.
pub fn search_filter(spec: &FilterSpec, want: &Wanted) -> String {
    let mut parts = Vec::new();
    if !spec.buying_options.is_empty() {
        parts.push(format!(
            "buyingOptions:{{{}}}",
            spec.buying_options.join("|")
        ));
    }
    match want {
        Wanted::Raw => parts.push("conditionIds:{4000}".into()),
        Wanted::Graded { .. } => parts.push("conditionIds:{2750}".into()),
        Wanted::Any => {}
    }
    if spec.min_price.is_some() || spec.max_price.is_some() {
        parts.push(format!(
            "price:[{}..{}]",
            spec.min_price.as_deref().unwrap_or(""),
            spec.max_price.as_deref().unwrap_or("")
        ));
        parts.push(format!("priceCurrency:{}", spec.currency));
    }
    if let Some(c) = &spec.item_location_country {
        parts.push(format!("itemLocationCountry:{c}"));
    }
    parts.join(",")
}

/// Item summaries → listing quotes (price plus the first shipping cost given). Items without a
/// readable price are dropped and counted.
pub fn listing_quotes(
    items: &[ItemSummary],
    target: &TrackedCard,
    observed_at: Timestamp,
) -> (Vec<RawQuote>, usize) {
    let mut quotes = Vec::with_capacity(items.len());
    let mut dropped = 0;
    for item in items {
        let price = item
            .price
            .as_ref()
            .or(item.current_bid_price.as_ref())
            .and_then(Amount::to_money);
        let Some(price) = price else {
            dropped += 1;
            continue;
        };
        let shipping = item
            .shipping_options
            .iter()
            .find_map(|o| o.shipping_cost.as_ref())
            .and_then(Amount::to_money);
        quotes.push(RawQuote {
            source: Source::EbayBrowse,
            observed_at,
            kind: PriceKind::Listing,
            price,
            shipping,
            subject: Subject::EbayItem(Box::new(EbayItem {
                item_id: item.item_id.clone(),
                title: item.title.clone(),
                condition_id: item.condition_id.clone(),
                condition: item.condition.clone(),
                buying_options: item.buying_options.clone(),
                seller: item.seller.as_ref().and_then(|s| s.username.clone()),
                url: item.item_web_url.clone(),
                item_country: item.item_location.as_ref().and_then(|l| l.country.clone()),
                quantity_sold: None,
                target: target.clone(),
            })),
        });
    }
    (quotes, dropped)
}

/// Item sales → sold quotes.
pub fn sold_quotes(
    sales: &[ItemSale],
    target: &TrackedCard,
    observed_at: Timestamp,
) -> (Vec<RawQuote>, usize) {
    let mut quotes = Vec::with_capacity(sales.len());
    let mut dropped = 0;
    for sale in sales {
        let Some(price) = sale.last_sold_price.as_ref().and_then(Amount::to_money) else {
            dropped += 1;
            continue;
        };
        quotes.push(RawQuote {
            source: Source::EbaySold,
            observed_at,
            kind: PriceKind::Sold,
            price,
            shipping: None,
            subject: Subject::EbayItem(Box::new(EbayItem {
                item_id: sale.item_id.clone(),
                title: sale.title.clone(),
                condition_id: sale.condition_id.clone(),
                condition: sale.condition.clone(),
                buying_options: Vec::new(),
                seller: None,
                url: sale.item_web_url.clone(),
                item_country: None,
                quantity_sold: sale.total_sold_quantity,
                target: target.clone(),
            })),
        });
    }
    (quotes, dropped)
}

/// Graders named in the query for display (used by the simulator to echo a graded search).
pub fn grader_of(text: &str) -> Option<Grader> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(Grader::parse)
        .find(|g| !g.is_other())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::{CategoryId, Grade, ProductId};

    fn card(want: Wanted) -> TrackedCard {
        TrackedCard {
            product_id: ProductId(1),
            category_id: CategoryId(3),
            name: "Charizard ex".into(),
            number: Some("199/165".into()),
            set_name: None,
            set_code: None,
            printing: None,
            language: None,
            want,
        }
    }

    #[test]
    fn queries_and_filters() {
        assert_eq!(search_query(&card(Wanted::Any)), "Charizard ex 199/165");
        let graded = Wanted::Graded {
            grader: Some(Grader::Psa),
            grade: Some(Grade::whole(10).unwrap()),
        };
        assert_eq!(
            search_query(&card(graded.clone())),
            "Charizard ex 199/165 PSA 10"
        );
        let spec = FilterSpec {
            buying_options: vec!["FIXED_PRICE".into()],
            min_price: Some("10".into()),
            max_price: Some("50".into()),
            currency: "USD".into(),
            item_location_country: Some("US".into()),
        };
        assert_eq!(
            search_filter(&spec, &graded),
            "buyingOptions:{FIXED_PRICE},conditionIds:{2750},price:[10..50],priceCurrency:USD,itemLocationCountry:US"
        );
        assert_eq!(
            search_filter(&FilterSpec::default(), &Wanted::Raw),
            "conditionIds:{4000}"
        );
    }

    #[test]
    fn items_become_listing_quotes_with_shipping() {
        let body = br#"{"href":"h","total":2,"limit":50,"offset":0,"itemSummaries":[
            {"itemId":"v1|334691749565|0","legacyItemId":"334691749565","title":"Charizard ex 199/165 PSA 10","price":{"value":"189.99","currency":"USD"},"condition":"Graded","conditionId":"2750","shippingOptions":[{"shippingCostType":"FIXED","shippingCost":{"value":"4.99","currency":"USD"}}],"buyingOptions":["FIXED_PRICE"],"seller":{"username":"bob","feedbackPercentage":"99.1","feedbackScore":10},"itemWebUrl":"u","itemLocation":{"country":"US"}},
            {"itemId":"v1|2|0","title":"no price"},
            {"itemId":"v1|3|0","title":"auction","currentBidPrice":{"value":"12.00","currency":"USD"},"buyingOptions":["AUCTION"]}]}"#;
        let page = parse_search("t", body).unwrap();
        let (quotes, dropped) = listing_quotes(
            &page.item_summaries,
            &card(Wanted::Any),
            Timestamp::from_secs(0),
        );
        assert_eq!(dropped, 1);
        assert_eq!(quotes.len(), 2);
        assert_eq!(quotes[0].price, Money::usd_cents(18999));
        assert_eq!(quotes[0].shipping, Some(Money::usd_cents(499)));
        assert_eq!(quotes[1].price, Money::usd_cents(1200));
        assert!(parse_search("t", b"{\"itemSummaries\":[{\"title\":1}]}").is_err());
    }

    #[test]
    fn sales_become_sold_quotes() {
        let body = br#"{"total":1,"itemSales":[{"itemId":"v1|9|0","title":"t","lastSoldDate":"2024-05-01T00:00:00.000Z","lastSoldPrice":{"value":"1000","currency":"JPY"},"totalSoldQuantity":2,"conditionId":"4000"}]}"#;
        let page = parse_sales("t", body).unwrap();
        let (q, d) = sold_quotes(
            &page.item_sales,
            &card(Wanted::Raw),
            Timestamp::from_secs(0),
        );
        assert_eq!(d, 0);
        assert_eq!(q[0].price, Money::new(1000, Currency::JPY));
        assert_eq!(q[0].kind, PriceKind::Sold);
    }
}
