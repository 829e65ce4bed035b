//! The TCGplayer JSON shapes (also served by TCGCSV) and their pure conversion into quotes.

use std::collections::HashMap;

use serde::{Deserialize, de::DeserializeOwned};
use tcg_schemas::{
    CardSet, CategoryId, Currency, Game, GroupId, Money, PriceKind, Product, ProductId, RawQuote,
    SkuId, Source, Subject, Timestamp,
};

use crate::CollectorError;

/// `{"success":true,"errors":[],"results":[…],"totalItems":N}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<T> {
    #[serde(default = "yes")]
    success: bool,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
    #[serde(default = "Vec::new")]
    results: Vec<T>,
    #[serde(default)]
    total_items: Option<u64>,
}

fn yes() -> bool {
    true
}

/// One page of results, and the total the upstream reported (catalog answers).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub results: Vec<T>,
    pub total_items: Option<u64>,
}

/// Parses an envelope. `success:false` is an error even with HTTP 200; so is any JSON that does
/// not have the expected shape.
pub fn parse_envelope<T: DeserializeOwned>(
    source: &'static str,
    body: &[u8],
) -> Result<Page<T>, CollectorError> {
    let env: Envelope<T> =
        serde_json::from_slice(body).map_err(|e| CollectorError::malformed(source, e))?;
    if !env.success {
        let errors = env
            .errors
            .iter()
            .map(|e| match e {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        return Err(CollectorError::Upstream {
            source_name: source,
            errors,
        });
    }
    Ok(Page {
        results: env.results,
        total_items: env.total_items,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRow {
    pub category_id: u32,
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    pub group_id: u32,
    pub name: String,
    #[serde(default)]
    pub abbreviation: Option<String>,
    #[serde(default)]
    pub is_supplemental: Option<bool>,
    #[serde(default)]
    pub published_on: Option<String>,
    #[serde(default)]
    pub modified_on: Option<String>,
    pub category_id: u32,
}

impl GroupRow {
    pub fn to_card_set(&self) -> CardSet {
        CardSet {
            group_id: GroupId(self.group_id),
            category_id: CategoryId(self.category_id),
            game: Game::from_category(CategoryId(self.category_id)),
            name: self.name.clone(),
            abbreviation: self.abbreviation.clone().filter(|a| !a.is_empty()),
            published_on: self
                .published_on
                .as_deref()
                .and_then(|d| d.get(..10))
                .map(str::to_owned),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedField {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuRow {
    pub sku_id: u64,
    pub product_id: u64,
    #[serde(default)]
    pub language_id: u32,
    #[serde(default)]
    pub printing_id: u32,
    #[serde(default)]
    pub condition_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRow {
    pub product_id: u64,
    pub name: String,
    #[serde(default)]
    pub clean_name: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    pub category_id: u32,
    pub group_id: u32,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub modified_on: Option<String>,
    #[serde(default)]
    pub extended_data: Vec<ExtendedField>,
    #[serde(default)]
    pub skus: Vec<SkuRow>,
}

impl ProductRow {
    fn extended(&self, name: &str) -> Option<String> {
        self.extended_data
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .and_then(|f| f.value.clone())
            .filter(|v| !v.trim().is_empty())
    }

    /// The catalog product: card number and rarity come from `extendedData`.
    pub fn to_product(&self) -> Product {
        Product {
            product_id: ProductId(self.product_id),
            category_id: CategoryId(self.category_id),
            group_id: GroupId(self.group_id),
            game: Game::from_category(CategoryId(self.category_id)),
            name: self.name.clone(),
            clean_name: self.clean_name.clone(),
            number: self.extended("Number"),
            rarity: self.extended("Rarity"),
            image_url: self.image_url.clone(),
            url: self.url.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrintingRow {
    pub printing_id: u32,
    pub name: String,
}

/// A product price row; any price may be null.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPriceRow {
    pub product_id: u64,
    #[serde(default)]
    pub low_price: Option<f64>,
    #[serde(default)]
    pub mid_price: Option<f64>,
    #[serde(default)]
    pub high_price: Option<f64>,
    #[serde(default)]
    pub market_price: Option<f64>,
    #[serde(default)]
    pub direct_low_price: Option<f64>,
    pub sub_type_name: String,
}

/// A SKU price row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuPriceRow {
    pub sku_id: u64,
    #[serde(default)]
    pub low_price: Option<f64>,
    #[serde(default)]
    pub lowest_shipping: Option<f64>,
    #[serde(default)]
    pub lowest_listing_price: Option<f64>,
    #[serde(default)]
    pub market_price: Option<f64>,
    #[serde(default)]
    pub direct_low_price: Option<f64>,
}

/// What a SKU is, resolved from the catalog (printing ids are per category).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuInfo {
    pub category_id: CategoryId,
    pub product_id: ProductId,
    pub printing: String,
    pub condition_id: u32,
    pub language_id: u32,
}

/// Quotes converted from some rows, how many values could not be converted, and the rows that
/// had no price at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Converted {
    pub quotes: Vec<RawQuote>,
    pub dropped: usize,
    /// Product price rows whose prices are all null: (product id, `subTypeName`).
    pub no_prices: Vec<(u64, String)>,
}

fn usd(value: f64) -> Option<Money> {
    Money::from_json_number(value, Currency::USD).ok()
}

/// Product price rows → one quote per non-null price (market, low, mid, high, direct low); a
/// row whose prices are all null is listed in `no_prices`.
pub fn product_price_quotes(
    source: Source,
    category_id: CategoryId,
    group_id: Option<GroupId>,
    rows: &[ProductPriceRow],
    observed_at: Timestamp,
) -> Converted {
    let mut out = Converted::default();
    for row in rows {
        let subject = Subject::TcgProduct {
            category_id,
            group_id,
            product_id: ProductId(row.product_id),
            sub_type_name: row.sub_type_name.clone(),
        };
        let prices = [
            (PriceKind::Market, row.market_price),
            (PriceKind::Low, row.low_price),
            (PriceKind::Mid, row.mid_price),
            (PriceKind::High, row.high_price),
            (PriceKind::DirectLow, row.direct_low_price),
        ];
        if prices.iter().all(|(_, v)| v.is_none()) {
            out.no_prices
                .push((row.product_id, row.sub_type_name.clone()));
            continue;
        }
        for (kind, value) in prices {
            let Some(value) = value else { continue };
            match usd(value) {
                Some(price) => out.quotes.push(RawQuote {
                    source,
                    observed_at,
                    kind,
                    price,
                    shipping: None,
                    subject: subject.clone(),
                }),
                None => out.dropped += 1,
            }
        }
    }
    out
}

/// SKU price rows → quotes (lowest listing with its shipping, market, low, direct low). Rows of
/// SKUs missing from `skus` are dropped: their printing, condition and language are unknown.
pub fn sku_price_quotes(
    source: Source,
    rows: &[SkuPriceRow],
    skus: &HashMap<u64, SkuInfo>,
    observed_at: Timestamp,
) -> Converted {
    let mut out = Converted::default();
    for row in rows {
        let Some(info) = skus.get(&row.sku_id) else {
            out.dropped += 1;
            continue;
        };
        let subject = Subject::TcgSku {
            category_id: info.category_id,
            product_id: info.product_id,
            sku_id: SkuId(row.sku_id),
            printing: info.printing.clone(),
            condition_id: info.condition_id,
            language_id: info.language_id,
        };
        let shipping = row.lowest_shipping.and_then(usd);
        for (kind, value) in [
            (PriceKind::LowestListing, row.lowest_listing_price),
            (PriceKind::Market, row.market_price),
            (PriceKind::Low, row.low_price),
            (PriceKind::DirectLow, row.direct_low_price),
        ] {
            let Some(value) = value else { continue };
            match usd(value) {
                Some(price) => out.quotes.push(RawQuote {
                    source,
                    observed_at,
                    kind,
                    price,
                    shipping: if kind == PriceKind::LowestListing {
                        shipping
                    } else {
                        None
                    },
                    subject: subject.clone(),
                }),
                None => out.dropped += 1,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_price_row() {
        let body = br#"{"success":true,"errors":[],"results":[{"productId":451784,"lowPrice":0.35,"midPrice":0.7,"highPrice":2.99,"marketPrice":0.74,"directLowPrice":null,"subTypeName":"Reverse Holofoil"}]}"#;
        let page: Page<ProductPriceRow> = parse_envelope("t", body).unwrap();
        let c = product_price_quotes(
            Source::Tcgplayer,
            CategoryId(3),
            None,
            &page.results,
            Timestamp::from_secs(0),
        );
        assert_eq!(c.dropped, 0);
        let got: Vec<(PriceKind, i64)> = c.quotes.iter().map(|q| (q.kind, q.price.minor)).collect();
        assert_eq!(
            got,
            vec![
                (PriceKind::Market, 74),
                (PriceKind::Low, 35),
                (PriceKind::Mid, 70),
                (PriceKind::High, 299)
            ]
        );
    }

    #[test]
    fn a_row_without_any_price_is_named_not_skipped() {
        let body = br#"{"success":true,"errors":[],"results":[{"productId":523960,"lowPrice":null,"midPrice":null,"highPrice":null,"marketPrice":null,"directLowPrice":null,"subTypeName":"Normal"},{"productId":7,"lowPrice":null,"midPrice":null,"highPrice":null,"marketPrice":1.25,"directLowPrice":null,"subTypeName":"Holofoil"}]}"#;
        let page: Page<ProductPriceRow> = parse_envelope("t", body).unwrap();
        let c = product_price_quotes(
            Source::Tcgcsv,
            CategoryId(3),
            Some(GroupId(23237)),
            &page.results,
            Timestamp::from_secs(0),
        );
        assert_eq!(c.quotes.len(), 1);
        assert_eq!(c.no_prices, vec![(523960, "Normal".to_owned())]);
        assert_eq!(c.dropped, 0);
    }

    #[test]
    fn success_false_is_an_error_even_with_results() {
        let body = br#"{"success":false,"errors":["No products were found."],"results":[]}"#;
        let err = parse_envelope::<ProductPriceRow>("t", body).unwrap_err();
        assert!(
            matches!(err, CollectorError::Upstream { ref errors, .. } if errors == &["No products were found."])
        );
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        for body in [
            &b"{\"success\":true,\"results\":[{\"productId\":1,"[..],
            b"<html>",
            b"",
            br#"{"success":true,"results":[{"productId":"x","subTypeName":"Normal"}]}"#,
            br#"{"success":true,"results":{}}"#,
        ] {
            let err = parse_envelope::<ProductPriceRow>("t", body).unwrap_err();
            assert!(matches!(err, CollectorError::Malformed { .. }), "{err}");
        }
    }

    #[test]
    fn too_precise_prices_are_dropped_not_rounded() {
        let rows = vec![ProductPriceRow {
            product_id: 1,
            low_price: Some(2.675),
            mid_price: None,
            high_price: None,
            market_price: Some(1.5),
            direct_low_price: None,
            sub_type_name: "Normal".into(),
        }];
        let c = product_price_quotes(
            Source::Tcgcsv,
            CategoryId(3),
            Some(GroupId(1)),
            &rows,
            Timestamp::from_secs(0),
        );
        assert_eq!(c.quotes.len(), 1);
        assert_eq!(c.dropped, 1);
    }

    #[test]
    fn sku_rows_resolve_through_the_catalog() {
        let mut skus = HashMap::new();
        skus.insert(
            1010,
            SkuInfo {
                category_id: CategoryId(3),
                product_id: ProductId(7),
                printing: "Holofoil".into(),
                condition_id: 1,
                language_id: 1,
            },
        );
        let body = br#"{"success":true,"errors":[],"results":[{"skuId":1010,"lowPrice":1.5,"lowestShipping":0.99,"lowestListingPrice":1.49,"marketPrice":2.25,"directLowPrice":1.75},{"skuId":99,"lowPrice":1}]}"#;
        let page: Page<SkuPriceRow> = parse_envelope("t", body).unwrap();
        let c = sku_price_quotes(
            Source::Tcgplayer,
            &page.results,
            &skus,
            Timestamp::from_secs(0),
        );
        assert_eq!(c.quotes.len(), 4);
        assert_eq!(c.dropped, 1);
        assert_eq!(c.quotes[0].kind, PriceKind::LowestListing);
        assert_eq!(c.quotes[0].shipping, Some(Money::usd_cents(99)));
        assert_eq!(c.quotes[1].shipping, None);
    }

    #[test]
    fn products_carry_number_and_rarity() {
        let body = br#"{"success":true,"errors":[],"totalItems":1,"results":[{"productId":5,"name":"Charizard ex","cleanName":"Charizard ex","imageUrl":"x","categoryId":3,"groupId":3170,"url":"u","modifiedOn":"2024-01-01T00:00:00","imageCount":1,"presaleInfo":{"isPresale":false,"releasedOn":null,"note":null},"extendedData":[{"name":"Number","displayName":"Card Number","value":"199/165"},{"name":"Rarity","displayName":"Rarity","value":"Special Illustration Rare"}]}]}"#;
        let page: Page<ProductRow> = parse_envelope("t", body).unwrap();
        assert_eq!(page.total_items, Some(1));
        let p = page.results[0].to_product();
        assert_eq!(p.number.as_deref(), Some("199/165"));
        assert_eq!(p.rarity.as_deref(), Some("Special Illustration Rare"));
        assert!(!p.is_sealed());
    }
}
