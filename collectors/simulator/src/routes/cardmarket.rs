//! Cardmarket's downloads (`downloads.s3.cardmarket.com`): per game, the price guide
//! (`/productCatalog/priceGuide/price_guide_{game}.json`) and the product lists
//! (`/productCatalog/productList/products_singles_{game}.json`, `…/products_nonsingles_…`), as
//! [`crate::cardmarket`] makes them. A file that is not there answers as S3 does: 403 with an
//! `AccessDenied` XML body.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::{St, json_response, preflight::Gate};
use crate::{
    cardmarket::{
        CmProduct, base_blend, created_at, figures, game_category, guide_time, last_build,
        products, second_printing,
    },
    state::SimState,
    stats::Endpoint,
};

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let gate = Gate::new(state, Endpoint::Cardmarket).parsing::<Path<String>>();
    Router::new()
        .route("/productCatalog/priceGuide/{file}", gate.get(price_guide))
        .route("/productCatalog/productList/{file}", gate.get(product_list))
}

/// S3's answer for a key that is not public (or not there).
fn access_denied() -> Response {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>5Q8VJ1K0ZB3M2X7T</RequestId><HostId>sim</HostId></Error>";
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

/// The game of `{prefix}_{game}.json`, when the simulator has its category.
fn game_of(s: &SimState, file: &str, prefix: &str) -> Option<(u32, u32)> {
    let game: u32 = file
        .strip_prefix(prefix)?
        .strip_prefix('_')?
        .strip_suffix(".json")?
        .parse()
        .ok()?;
    let category = game_category(game)?;
    s.catalog.category(category).map(|_| (game, category))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductOut<'a> {
    id_product: u64,
    name: &'a str,
    id_category: u32,
    category_name: &'a str,
    id_expansion: u32,
    id_metacard: u64,
    date_added: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileOut<T: Serialize> {
    version: u32,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    products: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price_guides: Option<T>,
}

async fn product_list(State(s): St, Path(file): Path<String>) -> Response {
    let (sealed, (_, category)) = match (
        game_of(&s, &file, "products_singles"),
        game_of(&s, &file, "products_nonsingles"),
    ) {
        (Some(g), _) => (false, g),
        (_, Some(g)) => (true, g),
        _ => return access_denied(),
    };
    let all = products(&s.catalog, category);
    let rows: Vec<ProductOut<'_>> = all
        .iter()
        .filter(|p| p.sealed == sealed)
        .map(|p| ProductOut {
            id_product: p.id_product,
            name: &p.name,
            id_category: p.id_category,
            category_name: &p.category_name,
            id_expansion: p.id_expansion,
            id_metacard: p.id_metacard,
            date_added: &p.date_added,
        })
        .collect();
    json_response(&FileOut {
        version: 1,
        created_at: created_at(last_build(s.now_secs()) - 1_800),
        products: Some(rows),
        price_guides: None,
    })
}

#[derive(Serialize)]
struct GuideOut {
    #[serde(rename = "idProduct")]
    id_product: u64,
    #[serde(rename = "idCategory")]
    id_category: u32,
    avg: Option<f64>,
    low: Option<f64>,
    trend: Option<f64>,
    avg1: Option<f64>,
    avg7: Option<f64>,
    avg30: Option<f64>,
    /// `avg-foil` … (`-holo` for Pokémon).
    #[serde(flatten)]
    second: BTreeMap<String, Option<f64>>,
}

fn euros(cents: Option<i64>) -> Option<f64> {
    cents.map(|c| c as f64 / 100.0)
}

/// One product's row of the guide built at `t`.
fn guide_row(seed: u64, p: &CmProduct, t: i64) -> GuideOut {
    let q = &p.priced_as;
    let [avg, low, trend, avg1, avg7, avg30] = figures(seed, q, &base_blend(q), t);
    let suffix = match q.category_id {
        3 => Some("holo"),
        1 | 2 | 68 | 71 => Some("foil"),
        _ => None,
    };
    let mut second = BTreeMap::new();
    if let Some(suffix) = suffix {
        let blend: Vec<(usize, f64)> = second_printing(q).map(|i| (i, 1.0)).into_iter().collect();
        let f = figures(seed, q, &blend, t);
        for (name, cents) in ["avg", "low", "trend", "avg1", "avg7", "avg30"]
            .iter()
            .zip(f)
        {
            second.insert(format!("{name}-{suffix}"), euros(cents));
        }
        // Cardmarket's "no such printing": a trend of 0, everything else null.
        if blend.is_empty() && suffix == "foil" {
            second.insert("trend-foil".to_owned(), Some(0.0));
        }
    }
    GuideOut {
        id_product: p.id_product,
        id_category: p.id_category,
        avg: euros(avg),
        low: euros(low),
        trend: euros(trend),
        avg1: euros(avg1),
        avg7: euros(avg7),
        avg30: euros(avg30),
        second,
    }
}

async fn price_guide(State(s): St, Path(file): Path<String>) -> Response {
    let Some((_, category)) = game_of(&s, &file, "price_guide") else {
        return access_denied();
    };
    let build = last_build(s.now_secs());
    let t = guide_time(build, s.config.step_secs);
    let rows: Vec<GuideOut> = products(&s.catalog, category)
        .iter()
        .map(|p| guide_row(s.config.seed, p, t))
        .collect();
    json_response(&FileOut {
        version: 1,
        created_at: created_at(build),
        products: None,
        price_guides: Some(rows),
    })
}
