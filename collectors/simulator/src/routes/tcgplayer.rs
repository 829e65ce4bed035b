//! The TCGplayer API: `POST /token`, then the catalog and pricing routes, under `/v1.39.0` and
//! unversioned.

// Helpers return `Err(Response)` to answer early; boxing a response the handler returns at once
// would buy nothing.
#![allow(clippy::result_large_err)]

use std::{collections::HashMap, sync::Arc};

use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::{
    Params, St, fail_env, ok_env,
    preflight::{Gate, issue_token},
    shapes::{
        MODIFIED, PriceOut, ProductOut, SkuOut, SkuPriceOut, category_out, group_out, price_rows,
        product_out, sku_out, sku_price_out,
    },
    status,
};
use crate::{market::dollars, market::sku_row, state::SimState, stats::Endpoint};

/// The prefix of the tokens `POST /token` issues.
const TOKEN_PREFIX: &str = "tp";

type Answer = Result<Response, Response>;

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let gate = Gate::new(state, Endpoint::Tcgplayer).bearer(TOKEN_PREFIX);
    let data = Router::new()
        .route("/catalog/categories", gate.get(categories))
        .route(
            "/catalog/categories/{cat}/{what}",
            gate.parsing::<Path<(u32, String)>>().get(category_listing),
        )
        .route("/catalog/products", gate.get(products))
        .route(
            "/catalog/products/{ids}",
            gate.parsing::<Path<String>>().get(products_by_id),
        )
        .route(
            "/catalog/products/{id}/skus",
            gate.parsing::<Path<u64>>().get(product_skus),
        )
        .route(
            "/catalog/skus/{ids}",
            gate.parsing::<Path<String>>().get(skus),
        )
        .route(
            "/pricing/group/{group}",
            gate.parsing::<Path<u32>>().get(group_prices),
        )
        .route(
            "/pricing/product/{ids}",
            gate.parsing::<Path<String>>().get(product_prices),
        )
        .route(
            "/pricing/sku/{ids}",
            gate.parsing::<Path<String>>().get(sku_prices),
        )
        .route(
            "/pricing/marketprices/{sku}",
            gate.parsing::<Path<u64>>().get(market_prices),
        );
    Router::new()
        .route("/token", post(token))
        .nest("/v1.39.0", data.clone())
        .merge(data)
}

async fn token(State(s): St, Form(form): Form<HashMap<String, String>>) -> Response {
    s.stats.hit(Endpoint::TcgplayerToken);
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").is_some_and(|v| !v.is_empty())
        && form.get("client_secret").is_some_and(|v| !v.is_empty());
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let ttl = s.config.tcgplayer_token_ttl_secs;
    let token = issue_token(&s, TOKEN_PREFIX, ttl, 0);
    let issued = DateTime::<Utc>::from_timestamp(s.now_secs(), 0).unwrap_or_default();
    let expires = issued + chrono::Duration::seconds(ttl as i64);
    let fmt = "%a, %d %b %Y %H:%M:%S GMT";
    axum::Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ttl,
        "userName": form.get("client_id"),
        ".issued": issued.format(fmt).to_string(),
        ".expires": expires.format(fmt).to_string(),
    }))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Request parameters.

fn now_quote(s: &SimState) -> i64 {
    s.quote_at(s.now_secs())
}

fn parse_ids(text: &str) -> Option<Vec<u64>> {
    text.split(',').map(|t| t.trim().parse().ok()).collect()
}

/// `{ids}` of a path: comma-separated, at most `max` of them.
fn ids_param(text: &str, what: &str, max: Option<usize>) -> Result<Vec<u64>, Response> {
    let Some(ids) = parse_ids(text) else {
        return Err(fail_env(
            StatusCode::BAD_REQUEST,
            &format!("bad {what} ids"),
        ));
    };
    if max.is_some_and(|m| ids.len() > m) {
        return Err(fail_env(
            StatusCode::BAD_REQUEST,
            "At most 250 ids may be requested.",
        ));
    }
    Ok(ids)
}

fn limit_offset(q: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        _ => {
            return Err(fail_env(
                StatusCode::BAD_REQUEST,
                "limit must be between 1 and 100",
            ));
        }
    };
    let offset = match q.get("offset").map(|o| o.parse::<usize>()) {
        None => 0,
        Some(Ok(o)) => o,
        Some(Err(_)) => return Err(fail_env(StatusCode::BAD_REQUEST, "bad offset")),
    };
    Ok((limit, offset))
}

fn page<T: Serialize>(all: Vec<T>, limit: usize, offset: usize) -> Response {
    let total = all.len();
    let results: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    ok_env(results, Some(total))
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `results` when there are any, else TCGplayer's "nothing found" (`success:false`, HTTP 200).
fn found<T: Serialize>(results: Vec<T>, none: &str) -> Response {
    if results.is_empty() {
        fail_env(StatusCode::OK, none)
    } else {
        ok_env(results, None)
    }
}

// ---------------------------------------------------------------------------------------------
// Catalog.

async fn categories(State(s): St, Query(q): Params) -> Answer {
    let (limit, offset) = limit_offset(&q)?;
    Ok(page(category_out(&s), limit, offset))
}

async fn category_listing(
    State(s): St,
    Path((cat, what)): Path<(u32, String)>,
    Query(q): Params,
) -> Answer {
    let Some(category) = s.catalog.category(cat) else {
        return Err(fail_env(StatusCode::NOT_FOUND, "No category was found."));
    };
    Ok(match what.as_str() {
        "groups" => {
            let (limit, offset) = limit_offset(&q)?;
            page(s.catalog.groups_of(cat).map(group_out).collect(), limit, offset)
        }
        "printings" => ok_env(
            category.printings.iter().enumerate().map(|(i, (id, name))| json!({"printingId": id, "name": name, "displayOrder": i + 1, "modifiedOn": MODIFIED})).collect::<Vec<_>>(),
            None,
        ),
        "conditions" => ok_env(
            ["Near Mint", "Lightly Played", "Moderately Played", "Heavily Played", "Damaged", "Unopened"].iter().zip(["NM", "LP", "MP", "HP", "DMG", "U"]).enumerate()
                .map(|(i, (name, abbr))| json!({"conditionId": i + 1, "name": name, "abbreviation": abbr, "displayOrder": i + 1})).collect::<Vec<_>>(),
            None,
        ),
        "languages" => ok_env(
            ["English", "Chinese (S)", "Chinese (T)", "French", "German", "Italian", "Japanese", "Korean", "Portuguese (BR)", "Russian", "Spanish"].iter().zip(["EN", "CS", "CT", "FR", "DE", "IT", "JP", "KO", "PT", "RU", "ES"]).enumerate()
                .map(|(i, (name, abbr))| json!({"languageId": i + 1, "name": name, "abbr": abbr})).collect::<Vec<_>>(),
            None,
        ),
        "rarities" => {
            let mut names: Vec<&str> = s.catalog.products.iter().filter(|p| p.category_id == cat).filter_map(|p| p.rarity.as_deref()).collect();
            names.sort_unstable();
            names.dedup();
            ok_env(names.iter().enumerate().map(|(i, n)| json!({"rarityId": i + 1, "displayText": n, "dbValue": n})).collect::<Vec<_>>(), None)
        }
        _ => status(StatusCode::NOT_FOUND, "not found"),
    })
}

async fn products(State(s): St, Query(q): Params) -> Answer {
    let (limit, offset) = limit_offset(&q)?;
    let cat: Option<u32> = q.get("categoryId").and_then(|v| v.parse().ok());
    let group: Option<u32> = q.get("groupId").and_then(|v| v.parse().ok());
    let (ext, skus) = (flag(&q, "getExtendedFields"), flag(&q, "includeSkus"));
    let all: Vec<ProductOut> = s
        .catalog
        .products
        .iter()
        .filter(|p| cat.is_none_or(|c| c == p.category_id) && group.is_none_or(|g| g == p.group_id))
        .map(|p| product_out(&s, p, ext, skus))
        .collect();
    Ok(page(all, limit, offset))
}

async fn products_by_id(State(s): St, Path(ids): Path<String>, Query(q): Params) -> Answer {
    let ids = ids_param(&ids, "product", None)?;
    let (ext, skus) = (flag(&q, "getExtendedFields"), flag(&q, "includeSkus"));
    let products: Vec<ProductOut> = ids
        .iter()
        .filter_map(|id| s.catalog.product(*id))
        .map(|p| product_out(&s, p, ext, skus))
        .collect();
    Ok(found(products, "No products were found."))
}

async fn product_skus(State(s): St, Path(id): Path<u64>) -> Response {
    let Some(p) = s.catalog.product(id) else {
        return fail_env(StatusCode::OK, "No products were found.");
    };
    let skus: Vec<SkuOut> = s
        .catalog
        .skus(p)
        .iter()
        .map(|k| sku_out(&s, p, k))
        .collect();
    ok_env(skus, None)
}

async fn skus(State(s): St, Path(ids): Path<String>) -> Answer {
    let ids = ids_param(&ids, "sku", None)?;
    let skus: Vec<SkuOut> = ids
        .iter()
        .filter_map(|id| s.catalog.sku(*id))
        .map(|(k, p)| sku_out(&s, p, &k))
        .collect();
    Ok(found(skus, "No SKUs were found."))
}

// ---------------------------------------------------------------------------------------------
// Pricing.

async fn group_prices(State(s): St, Path(group): Path<u32>) -> Response {
    let Some(g) = s.catalog.group(group) else {
        return fail_env(StatusCode::OK, "No products were found.");
    };
    let t = now_quote(&s);
    let rows: Vec<PriceOut> = s
        .catalog
        .products_of(g)
        .iter()
        .flat_map(|p| price_rows(&s, p, t))
        .collect();
    ok_env(rows, None)
}

async fn product_prices(State(s): St, Path(ids): Path<String>) -> Answer {
    let ids = ids_param(&ids, "product", Some(250))?;
    let t = now_quote(&s);
    let rows: Vec<PriceOut> = ids
        .iter()
        .filter_map(|id| s.catalog.product(*id))
        .flat_map(|p| price_rows(&s, p, t))
        .collect();
    Ok(found(rows, "No products were found."))
}

async fn sku_prices(State(s): St, Path(ids): Path<String>) -> Answer {
    let ids = ids_param(&ids, "sku", Some(250))?;
    let t = now_quote(&s);
    let rows: Vec<SkuPriceOut> = ids
        .iter()
        .filter_map(|id| s.catalog.sku(*id))
        .map(|(k, p)| sku_price_out(&s, &k, p, t))
        .collect();
    Ok(found(rows, "No SKUs were found."))
}

async fn market_prices(State(s): St, Path(sku): Path<u64>) -> Response {
    let Some((k, p)) = s.catalog.sku(sku) else {
        return fail_env(StatusCode::OK, "No SKUs were found.");
    };
    let m = sku_row(s.config.seed, p, &k, now_quote(&s))[3].unwrap_or(1);
    ok_env(
        vec![
            json!({"productConditionId": sku, "price": dollars(m), "lowestRange": dollars((m * 8 / 10).max(1)), "highestRange": dollars(m * 13 / 10)}),
        ],
        None,
    )
}
