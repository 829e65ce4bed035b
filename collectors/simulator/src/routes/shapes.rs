//! TCGplayer's JSON shapes (TCGCSV mirrors them): categories, groups, products, SKUs, prices.

use serde::Serialize;

use super::SimState;
use crate::{
    catalog::{SimGroup, SimProduct, SkuParts},
    market::{dollars, price_row, sku_row},
};

/// The `modifiedOn` of everything.
pub(super) const MODIFIED: &str = "2024-01-01T00:00:00";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CategoryOut {
    category_id: u32,
    name: &'static str,
    display_name: &'static str,
    modified_on: &'static str,
    popularity: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupOut<'a> {
    group_id: u32,
    name: &'a str,
    abbreviation: &'a str,
    is_supplemental: bool,
    published_on: &'a str,
    modified_on: &'static str,
    category_id: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ExtendedOut<'a> {
    name: &'static str,
    display_name: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PresaleOut {
    is_presale: bool,
    released_on: Option<String>,
    note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SkuOut {
    sku_id: u64,
    product_id: u64,
    language_id: u32,
    printing_id: u32,
    condition_id: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProductOut<'a> {
    product_id: u64,
    name: &'a str,
    clean_name: String,
    image_url: String,
    category_id: u32,
    group_id: u32,
    url: String,
    modified_on: &'static str,
    image_count: u32,
    presale_info: PresaleOut,
    extended_data: Vec<ExtendedOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skus: Option<Vec<SkuOut>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PriceOut<'a> {
    product_id: u64,
    low_price: Option<f64>,
    mid_price: Option<f64>,
    high_price: Option<f64>,
    market_price: Option<f64>,
    direct_low_price: Option<f64>,
    sub_type_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SkuPriceOut {
    sku_id: u64,
    low_price: Option<f64>,
    lowest_shipping: Option<f64>,
    lowest_listing_price: Option<f64>,
    market_price: Option<f64>,
    direct_low_price: Option<f64>,
}

pub(super) fn category_out(s: &SimState) -> Vec<CategoryOut> {
    s.catalog
        .categories
        .iter()
        .map(|c| CategoryOut {
            category_id: c.category_id,
            name: c.name,
            display_name: c.display_name,
            modified_on: MODIFIED,
            popularity: 1000 - c.category_id,
        })
        .collect()
}

pub(super) fn group_out(g: &SimGroup) -> GroupOut<'_> {
    GroupOut {
        group_id: g.group_id,
        name: &g.name,
        abbreviation: &g.abbreviation,
        is_supplemental: false,
        published_on: &g.published_on,
        modified_on: MODIFIED,
        category_id: g.category_id,
    }
}

fn clean(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '-')
        .collect()
}

pub(super) fn sku_out(s: &SimState, p: &SimProduct, k: &SkuParts) -> SkuOut {
    let printing_id = s
        .catalog
        .category(p.category_id)
        .and_then(|c| c.printings.get(k.printing))
        .map_or(0, |x| x.0);
    SkuOut {
        sku_id: k.id(),
        product_id: p.product_id,
        language_id: k.language_id,
        printing_id,
        condition_id: k.condition_id,
    }
}

pub(super) fn product_out<'a>(
    s: &SimState,
    p: &'a SimProduct,
    extended: bool,
    skus: bool,
) -> ProductOut<'a> {
    let mut ext = Vec::new();
    if extended {
        if let Some(n) = &p.number {
            ext.push(ExtendedOut {
                name: "Number",
                display_name: "Card Number",
                value: n,
            });
        }
        if let Some(r) = &p.rarity {
            ext.push(ExtendedOut {
                name: "Rarity",
                display_name: "Rarity",
                value: r,
            });
        }
    }
    let slug = clean(&p.name).to_lowercase().replace(' ', "-");
    ProductOut {
        product_id: p.product_id,
        name: &p.name,
        clean_name: clean(&p.name),
        image_url: format!(
            "https://tcgplayer-cdn.tcgplayer.com/product/{}_200w.jpg",
            p.product_id
        ),
        category_id: p.category_id,
        group_id: p.group_id,
        url: format!("https://www.tcgplayer.com/product/{}/{slug}", p.product_id),
        modified_on: MODIFIED,
        image_count: 1,
        presale_info: PresaleOut {
            is_presale: false,
            released_on: None,
            note: None,
        },
        extended_data: ext,
        skus: skus.then(|| s.catalog.skus(p).iter().map(|k| sku_out(s, p, k)).collect()),
    }
}

pub(super) fn price_rows<'a>(
    s: &'a SimState,
    p: &'a SimProduct,
    t: i64,
) -> impl Iterator<Item = PriceOut<'a>> + 'a {
    let printings = s
        .catalog
        .category(p.category_id)
        .map_or(&[][..], |c| c.printings);
    p.printings.iter().map(move |&i| {
        let r = price_row(s.config.seed, p, i, t);
        PriceOut {
            product_id: p.product_id,
            low_price: r.low.map(dollars),
            mid_price: r.mid.map(dollars),
            high_price: r.high.map(dollars),
            market_price: r.market.map(dollars),
            direct_low_price: r.direct_low.map(dollars),
            sub_type_name: printings.get(i).map_or("Normal", |x| x.1),
        }
    })
}

pub(super) fn sku_price_out(s: &SimState, k: &SkuParts, p: &SimProduct, t: i64) -> SkuPriceOut {
    let [low, ship, listing, market, direct] = sku_row(s.config.seed, p, k, t);
    SkuPriceOut {
        sku_id: k.id(),
        low_price: low.map(dollars),
        lowest_shipping: ship.map(dollars),
        lowest_listing_price: listing.map(dollars),
        market_price: market.map(dollars),
        direct_low_price: direct.map(dollars),
    }
}
