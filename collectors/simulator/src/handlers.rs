//! The simulator's HTTP handlers, one group per upstream shape.

// Helpers return `Err(Response)` to answer early; boxing a response the handler returns at once
// would buy nothing.
#![allow(clippy::result_large_err)]

use std::{collections::HashMap, sync::Arc, sync::atomic::Ordering, time::Duration};

use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::{
    Endpoint, Fault, SimState,
    catalog::{SimGroup, SimProduct, SkuParts},
    fx::{business_days_back, ecb_document},
    listings::{Listing, listing},
    market::{dollars, market_cents, price_row, sku_row},
};
use crate::{SimError, archive::write_ppmd_archive, rng};

type St = State<Arc<SimState>>;
type Params = Query<HashMap<String, String>>;

pub(crate) fn router(state: Arc<SimState>) -> Router {
    let tcgplayer = Router::new()
        .route("/catalog/categories", get(tp_categories))
        .route("/catalog/categories/{cat}/{what}", get(tp_category_listing))
        .route("/catalog/products", get(tp_products))
        .route("/catalog/products/{ids}", get(tp_products_by_id))
        .route("/catalog/products/{id}/skus", get(tp_product_skus))
        .route("/catalog/skus/{ids}", get(tp_skus))
        .route("/pricing/group/{group}", get(tp_group_prices))
        .route("/pricing/product/{ids}", get(tp_product_prices))
        .route("/pricing/sku/{ids}", get(tp_sku_prices))
        .route("/pricing/marketprices/{sku}", get(tp_market_prices));
    Router::new()
        .route("/token", post(tp_token))
        .nest("/v1.39.0", tcgplayer.clone())
        .merge(tcgplayer)
        .route("/tcgplayer/categories", get(csv_categories))
        .route("/tcgplayer/{cat}/groups", get(csv_groups))
        .route("/tcgplayer/{cat}/{group}/{what}", get(csv_group_file))
        .route("/last-updated.txt", get(csv_last_updated))
        .route("/archive/tcgplayer/{file}", get(csv_archive))
        .route("/identity/v1/oauth2/token", post(ebay_token))
        .route("/buy/browse/v1/item_summary/search", get(ebay_browse))
        .route(
            "/buy/marketplace_insights/v1_beta/item_sales/search",
            get(ebay_insights),
        )
        .route("/stats/eurofxref/eurofxref-daily.xml", get(ecb_daily))
        .route("/stats/eurofxref/eurofxref-hist.xml", get(ecb_hist))
        .route("/sim/stats", get(sim_stats))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// Shared: faults, auth, bodies.

fn status(code: StatusCode, body: &'static str) -> Response {
    (code, body).into_response()
}

/// Counts the request, applies the fault drawn for it and, for authed endpoints, checks the
/// token. `Ok(fault)` to go on (the fault may be `Malformed`), `Err(response)` to answer now.
async fn preflight(
    s: &SimState,
    endpoint: Endpoint,
    auth: Option<(&HeaderMap, &str)>,
) -> Result<Fault, Response> {
    s.stats.hit(endpoint);
    let fault = s.next_fault(auth.is_some());
    match fault {
        Fault::TooMany | Fault::Unavailable => {
            let code = if fault == Fault::TooMany {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let mut r = status(code, "slow down");
            if let Ok(v) = HeaderValue::from_str(&s.config.faults.retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Err(r);
        }
        Fault::ServerError => {
            return Err(status(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
        }
        Fault::ExpiredToken => return Err(status(StatusCode::UNAUTHORIZED, "token expired")),
        Fault::Hang => tokio::time::sleep(Duration::from_millis(s.config.faults.hang_ms)).await,
        Fault::None | Fault::Malformed => {}
    }
    if let Some((headers, prefix)) = auth {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        match token.and_then(|t| check_token(s, t, prefix)) {
            Some(_) => {}
            None => return Err(status(StatusCode::UNAUTHORIZED, "invalid or expired token")),
        }
    }
    Ok(fault)
}

/// Issues `{prefix}.{generation}.{issued}.{ttl}.{n}.{flag}`.
fn issue_token(s: &SimState, prefix: &str, ttl: u64, flag: u8) -> String {
    let n = s.token_no.fetch_add(1, Ordering::Relaxed);
    let generation = s.token_generation.load(Ordering::Relaxed);
    format!("{prefix}.{generation}.{}.{ttl}.{n}.{flag}", s.now_secs())
}

/// The token's flag if it is ours, of this generation and not expired.
fn check_token(s: &SimState, token: &str, prefix: &str) -> Option<u8> {
    let mut parts = token.strip_prefix(prefix)?.strip_prefix('.')?.split('.');
    let generation: u64 = parts.next()?.parse().ok()?;
    let issued: i64 = parts.next()?.parse().ok()?;
    let ttl: i64 = parts.next()?.parse().ok()?;
    let _n: u64 = parts.next()?.parse().ok()?;
    let flag: u8 = parts.next()?.parse().ok()?;
    let fresh =
        generation == s.token_generation.load(Ordering::Relaxed) && s.now_secs() < issued + ttl;
    fresh.then_some(flag)
}

fn body_response(fault: Fault, content_type: &'static str, mut body: Vec<u8>) -> Response {
    if fault == Fault::Malformed {
        body.truncate(body.len() / 2);
    }
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn json_response<T: Serialize>(fault: Fault, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => body_response(fault, "application/json", body),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR, "encode"),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<T: Serialize> {
    success: bool,
    errors: Vec<String>,
    results: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_items: Option<usize>,
}

fn ok_env<T: Serialize>(fault: Fault, results: T, total: Option<usize>) -> Response {
    json_response(
        fault,
        &Envelope {
            success: true,
            errors: Vec::new(),
            results,
            total_items: total,
        },
    )
}

/// TCGplayer's failure shape: `success:false` (with HTTP 200 for "nothing found", as upstream).
fn fail_env(code: StatusCode, message: &str) -> Response {
    let env = Envelope::<[(); 0]> {
        success: false,
        errors: vec![message.to_owned()],
        results: [],
        total_items: None,
    };
    match serde_json::to_vec(&env) {
        Ok(body) => (code, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR, "encode"),
    }
}

fn parse_ids(text: &str) -> Option<Vec<u64>> {
    text.split(',').map(|t| t.trim().parse().ok()).collect()
}

const MODIFIED: &str = "2024-01-01T00:00:00";

// ---------------------------------------------------------------------------------------------
// TCGplayer shapes.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CategoryOut {
    category_id: u32,
    name: &'static str,
    display_name: &'static str,
    modified_on: &'static str,
    popularity: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupOut<'a> {
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
struct ExtendedOut<'a> {
    name: &'static str,
    display_name: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PresaleOut {
    is_presale: bool,
    released_on: Option<String>,
    note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SkuOut {
    sku_id: u64,
    product_id: u64,
    language_id: u32,
    printing_id: u32,
    condition_id: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductOut<'a> {
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
struct PriceOut<'a> {
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
struct SkuPriceOut {
    sku_id: u64,
    low_price: Option<f64>,
    lowest_shipping: Option<f64>,
    lowest_listing_price: Option<f64>,
    market_price: Option<f64>,
    direct_low_price: Option<f64>,
}

fn category_out(s: &SimState) -> Vec<CategoryOut> {
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

fn group_out(g: &SimGroup) -> GroupOut<'_> {
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

fn sku_out(s: &SimState, p: &SimProduct, k: &SkuParts) -> SkuOut {
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

fn product_out<'a>(s: &SimState, p: &'a SimProduct, extended: bool, skus: bool) -> ProductOut<'a> {
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

fn price_rows<'a>(
    s: &'a SimState,
    p: &'a SimProduct,
    step: i64,
) -> impl Iterator<Item = PriceOut<'a>> + 'a {
    let printings = s
        .catalog
        .category(p.category_id)
        .map_or(&[][..], |c| c.printings);
    p.printings.iter().map(move |&i| {
        let r = price_row(s.config.seed, p, i, step);
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

fn tp_now_step(s: &SimState) -> i64 {
    s.step_at(s.now_secs())
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

fn page<T: Serialize>(fault: Fault, all: Vec<T>, limit: usize, offset: usize) -> Response {
    let total = all.len();
    let results: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    ok_env(fault, results, Some(total))
}

async fn tp_token(State(s): St, Form(form): Form<HashMap<String, String>>) -> Response {
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
    let token = issue_token(&s, "tp", ttl, 0);
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

async fn tp_categories(State(s): St, headers: HeaderMap, Query(q): Params) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (limit, offset) = match limit_offset(&q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    page(fault, category_out(&s), limit, offset)
}

async fn tp_category_listing(
    State(s): St,
    headers: HeaderMap,
    Path((cat, what)): Path<(u32, String)>,
    Query(q): Params,
) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(category) = s.catalog.category(cat) else {
        return fail_env(StatusCode::NOT_FOUND, "No category was found.");
    };
    match what.as_str() {
        "groups" => {
            let (limit, offset) = match limit_offset(&q) {
                Ok(x) => x,
                Err(r) => return r,
            };
            page(fault, s.catalog.groups_of(cat).map(group_out).collect(), limit, offset)
        }
        "printings" => ok_env(
            fault,
            category.printings.iter().enumerate().map(|(i, (id, name))| json!({"printingId": id, "name": name, "displayOrder": i + 1, "modifiedOn": MODIFIED})).collect::<Vec<_>>(),
            None,
        ),
        "conditions" => ok_env(
            fault,
            ["Near Mint", "Lightly Played", "Moderately Played", "Heavily Played", "Damaged", "Unopened"].iter().zip(["NM", "LP", "MP", "HP", "DMG", "U"]).enumerate()
                .map(|(i, (name, abbr))| json!({"conditionId": i + 1, "name": name, "abbreviation": abbr, "displayOrder": i + 1})).collect::<Vec<_>>(),
            None,
        ),
        "languages" => ok_env(
            fault,
            ["English", "Chinese (S)", "Chinese (T)", "French", "German", "Italian", "Japanese", "Korean", "Portuguese (BR)", "Russian", "Spanish"].iter().zip(["EN", "CS", "CT", "FR", "DE", "IT", "JP", "KO", "PT", "RU", "ES"]).enumerate()
                .map(|(i, (name, abbr))| json!({"languageId": i + 1, "name": name, "abbr": abbr})).collect::<Vec<_>>(),
            None,
        ),
        "rarities" => {
            let mut names: Vec<&str> = s.catalog.products.iter().filter(|p| p.category_id == cat).filter_map(|p| p.rarity.as_deref()).collect();
            names.sort_unstable();
            names.dedup();
            ok_env(fault, names.iter().enumerate().map(|(i, n)| json!({"rarityId": i + 1, "displayText": n, "dbValue": n})).collect::<Vec<_>>(), None)
        }
        _ => status(StatusCode::NOT_FOUND, "not found"),
    }
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

async fn tp_products(State(s): St, headers: HeaderMap, Query(q): Params) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (limit, offset) = match limit_offset(&q) {
        Ok(x) => x,
        Err(r) => return r,
    };
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
    page(fault, all, limit, offset)
}

async fn tp_products_by_id(
    State(s): St,
    headers: HeaderMap,
    Path(ids): Path<String>,
    Query(q): Params,
) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(ids) = parse_ids(&ids) else {
        return fail_env(StatusCode::BAD_REQUEST, "bad product ids");
    };
    let found: Vec<ProductOut> = ids
        .iter()
        .filter_map(|id| s.catalog.product(*id))
        .map(|p| {
            product_out(
                &s,
                p,
                flag(&q, "getExtendedFields"),
                flag(&q, "includeSkus"),
            )
        })
        .collect();
    if found.is_empty() {
        return fail_env(StatusCode::OK, "No products were found.");
    }
    ok_env(fault, found, None)
}

async fn tp_product_skus(State(s): St, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(p) = s.catalog.product(id) else {
        return fail_env(StatusCode::OK, "No products were found.");
    };
    ok_env(
        fault,
        s.catalog
            .skus(p)
            .iter()
            .map(|k| sku_out(&s, p, k))
            .collect::<Vec<_>>(),
        None,
    )
}

async fn tp_skus(State(s): St, headers: HeaderMap, Path(ids): Path<String>) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(ids) = parse_ids(&ids) else {
        return fail_env(StatusCode::BAD_REQUEST, "bad sku ids");
    };
    let found: Vec<SkuOut> = ids
        .iter()
        .filter_map(|id| s.catalog.sku(*id))
        .map(|(k, p)| sku_out(&s, p, &k))
        .collect();
    if found.is_empty() {
        return fail_env(StatusCode::OK, "No SKUs were found.");
    }
    ok_env(fault, found, None)
}

async fn tp_group_prices(State(s): St, headers: HeaderMap, Path(group): Path<u32>) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(g) = s.catalog.group(group) else {
        return fail_env(StatusCode::OK, "No products were found.");
    };
    let step = tp_now_step(&s);
    let rows: Vec<PriceOut> = s
        .catalog
        .products_of(g)
        .iter()
        .flat_map(|p| price_rows(&s, p, step))
        .collect();
    ok_env(fault, rows, None)
}

async fn tp_product_prices(State(s): St, headers: HeaderMap, Path(ids): Path<String>) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(ids) = parse_ids(&ids) else {
        return fail_env(StatusCode::BAD_REQUEST, "bad product ids");
    };
    if ids.len() > 250 {
        return fail_env(StatusCode::BAD_REQUEST, "At most 250 ids may be requested.");
    }
    let step = tp_now_step(&s);
    let rows: Vec<PriceOut> = ids
        .iter()
        .filter_map(|id| s.catalog.product(*id))
        .flat_map(|p| price_rows(&s, p, step))
        .collect();
    if rows.is_empty() {
        return fail_env(StatusCode::OK, "No products were found.");
    }
    ok_env(fault, rows, None)
}

fn sku_price_out(s: &SimState, k: &SkuParts, p: &SimProduct, step: i64) -> SkuPriceOut {
    let [low, ship, listing, market, direct] = sku_row(s.config.seed, p, k, step);
    SkuPriceOut {
        sku_id: k.id(),
        low_price: low.map(dollars),
        lowest_shipping: ship.map(dollars),
        lowest_listing_price: listing.map(dollars),
        market_price: market.map(dollars),
        direct_low_price: direct.map(dollars),
    }
}

async fn tp_sku_prices(State(s): St, headers: HeaderMap, Path(ids): Path<String>) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(ids) = parse_ids(&ids) else {
        return fail_env(StatusCode::BAD_REQUEST, "bad sku ids");
    };
    if ids.len() > 250 {
        return fail_env(StatusCode::BAD_REQUEST, "At most 250 ids may be requested.");
    }
    let step = tp_now_step(&s);
    let rows: Vec<SkuPriceOut> = ids
        .iter()
        .filter_map(|id| s.catalog.sku(*id))
        .map(|(k, p)| sku_price_out(&s, &k, p, step))
        .collect();
    if rows.is_empty() {
        return fail_env(StatusCode::OK, "No SKUs were found.");
    }
    ok_env(fault, rows, None)
}

async fn tp_market_prices(State(s): St, headers: HeaderMap, Path(sku): Path<u64>) -> Response {
    let fault = match preflight(&s, Endpoint::Tcgplayer, Some((&headers, "tp"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some((k, p)) = s.catalog.sku(sku) else {
        return fail_env(StatusCode::OK, "No SKUs were found.");
    };
    let step = tp_now_step(&s);
    let m = sku_row(s.config.seed, p, &k, step)[3].unwrap_or(1);
    ok_env(
        fault,
        vec![
            json!({"productConditionId": sku, "price": dollars(m), "lowestRange": dollars((m * 8 / 10).max(1)), "highestRange": dollars(m * 13 / 10)}),
        ],
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// TCGCSV shapes.

/// The last TCGCSV update at or before `now`: every `period` seconds from 20:00 UTC.
fn last_update(s: &SimState, now: i64) -> i64 {
    let period = s.config.tcgcsv_update_secs.max(1);
    let offset = 20 * 3600;
    (now - offset).div_euclid(period) * period + offset
}

fn csv_preflight_ua(headers: &HeaderMap) -> Result<(), Response> {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let generic = ua.is_empty()
        || [
            "python-requests",
            "curl/",
            "wget",
            "reqwest",
            "go-http-client",
            "okhttp",
            "axios",
        ]
        .iter()
        .any(|g| ua.starts_with(g));
    if generic {
        return Err(status(
            StatusCode::UNAUTHORIZED,
            "a custom User-Agent is required",
        ));
    }
    Ok(())
}

async fn csv_start(
    s: &SimState,
    headers: &HeaderMap,
    endpoint: Endpoint,
) -> Result<Fault, Response> {
    csv_preflight_ua(headers)?;
    preflight(s, endpoint, None).await
}

async fn csv_categories(State(s): St, headers: HeaderMap) -> Response {
    let fault = match csv_start(&s, &headers, Endpoint::Tcgcsv).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let cats = category_out(&s);
    let n = cats.len();
    ok_env(fault, cats, Some(n))
}

async fn csv_groups(State(s): St, headers: HeaderMap, Path(cat): Path<u32>) -> Response {
    let fault = match csv_start(&s, &headers, Endpoint::Tcgcsv).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if s.catalog.category(cat).is_none() {
        return status(StatusCode::NOT_FOUND, "not found");
    }
    let groups: Vec<GroupOut> = s.catalog.groups_of(cat).map(group_out).collect();
    let n = groups.len();
    ok_env(fault, groups, Some(n))
}

async fn csv_group_file(
    State(s): St,
    headers: HeaderMap,
    Path((cat, group, what)): Path<(u32, u32, String)>,
) -> Response {
    let fault = match csv_start(&s, &headers, Endpoint::Tcgcsv).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(g) = s.catalog.group(group).filter(|g| g.category_id == cat) else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    match what.as_str() {
        "products" => {
            let products: Vec<ProductOut> = s
                .catalog
                .products_of(g)
                .iter()
                .map(|p| product_out(&s, p, true, false))
                .collect();
            let n = products.len();
            ok_env(fault, products, Some(n))
        }
        "prices" => {
            let step = s.step_at(last_update(&s, s.now_secs()));
            let rows: Vec<PriceOut> = s
                .catalog
                .products_of(g)
                .iter()
                .flat_map(|p| price_rows(&s, p, step))
                .collect();
            let n = rows.len();
            ok_env(fault, rows, Some(n))
        }
        _ => status(StatusCode::NOT_FOUND, "not found"),
    }
}

fn tcgcsv_time(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S+0000")
        .to_string()
}

async fn csv_last_updated(State(s): St, headers: HeaderMap) -> Response {
    let fault = match csv_start(&s, &headers, Endpoint::Tcgcsv).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let text = tcgcsv_time(last_update(&s, s.now_secs()));
    body_response(
        if fault == Fault::Malformed {
            Fault::None
        } else {
            fault
        },
        "text/plain",
        text.into_bytes(),
    )
}

/// The archive of one day: every group's prices as of that day's 20:00 UTC update.
fn build_archive(s: &SimState, day: NaiveDate) -> Result<Vec<u8>, SimError> {
    let secs = day
        .and_hms_opt(20, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    let step = s.step_at(secs);
    let mut files = Vec::new();
    for g in &s.catalog.groups {
        let rows: Vec<PriceOut> = s
            .catalog
            .products_of(g)
            .iter()
            .flat_map(|p| price_rows(s, p, step))
            .collect();
        let n = rows.len();
        let body = serde_json::to_vec(&Envelope {
            success: true,
            errors: Vec::new(),
            results: rows,
            total_items: Some(n),
        })?;
        files.push((
            format!("{day}/{}/{}/prices", g.category_id, g.group_id),
            body,
        ));
    }
    write_ppmd_archive(&files)
}

async fn csv_archive(State(s): St, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let fault = match csv_start(&s, &headers, Endpoint::TcgcsvArchive).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(day) = file
        .strip_prefix("prices-")
        .and_then(|f| f.strip_suffix(".ppmd.7z"))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    let start =
        NaiveDate::parse_from_str(&s.config.archive_start, "%Y-%m-%d").unwrap_or(NaiveDate::MIN);
    let last = DateTime::<Utc>::from_timestamp(last_update(&s, s.now_secs()), 0)
        .map(|d| d.date_naive())
        .unwrap_or(NaiveDate::MIN);
    if day < start || day > last {
        return status(StatusCode::NOT_FOUND, "not found");
    }
    let key = day.to_string();
    let cached = s.archives.lock().ok().and_then(|m| m.get(&key).cloned());
    let bytes = match cached {
        Some(b) => b,
        None => {
            let st = s.clone();
            match tokio::task::spawn_blocking(move || build_archive(&st, day)).await {
                Ok(Ok(b)) => {
                    let b = bytes::Bytes::from(b);
                    if let Ok(mut m) = s.archives.lock() {
                        if m.len() >= 64 {
                            m.clear();
                        }
                        m.insert(key, b.clone());
                    }
                    b
                }
                _ => return status(StatusCode::INTERNAL_SERVER_ERROR, "archive failed"),
            }
        }
    };
    body_response(fault, "application/x-7z-compressed", bytes.to_vec())
}

// ---------------------------------------------------------------------------------------------
// eBay shapes.

async fn ebay_token(
    State(s): St,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.stats.hit(Endpoint::EbayToken);
    let basic_ok = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|d| String::from_utf8(d).ok())
        .is_some_and(|d| {
            d.split_once(':')
                .is_some_and(|(id, secret)| !id.is_empty() && !secret.is_empty())
        });
    if !basic_ok || form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client", "error_description": "client authentication failed"}))).into_response();
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    let insights = scope.contains("buy.marketplace.insights");
    let ttl = s.config.ebay_token_ttl_secs;
    let token = issue_token(&s, "v^1.1#eb", ttl, u8::from(insights));
    axum::Json(
        json!({"access_token": token, "expires_in": ttl, "token_type": "Application Access Token"}),
    )
    .into_response()
}

#[derive(Debug, Default)]
struct Filters {
    graded: Option<bool>,
    buying: Vec<String>,
    min_cents: Option<i64>,
    max_cents: Option<i64>,
}

fn cents_of(text: &str) -> Option<i64> {
    tcg_schemas::Money::parse_decimal(text, tcg_schemas::Currency::USD)
        .ok()
        .map(|m| m.minor)
}

fn parse_filter(f: &str) -> Filters {
    let mut out = Filters::default();
    // Split on commas outside braces and brackets.
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in f.char_indices() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&f[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&f[start..]);
    for part in parts {
        let Some((key, value)) = part.split_once(':') else {
            continue;
        };
        let inner = value.trim_matches(|c| c == '{' || c == '}' || c == '[' || c == ']');
        match key.trim() {
            "conditionIds" => {
                let ids: Vec<&str> = inner.split('|').collect();
                out.graded = match (ids.contains(&"2750"), ids.contains(&"4000")) {
                    (true, false) => Some(true),
                    (false, true) => Some(false),
                    _ => None,
                };
            }
            "buyingOptions" => out.buying = inner.split('|').map(str::to_owned).collect(),
            "price" => {
                if let Some((lo, hi)) = inner.split_once("..") {
                    out.min_cents = cents_of(lo);
                    out.max_cents = cents_of(hi);
                }
            }
            _ => {}
        }
    }
    out
}

fn money_json(cents: i64, currency: &str) -> serde_json::Value {
    let value = if currency == "JPY" {
        format!("{}", cents)
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
    };
    json!({"value": value, "currency": currency})
}

/// Marketplace → (currency, units per USD cent in that currency's minor unit).
fn marketplace_currency(headers: &HeaderMap) -> (&'static str, f64) {
    match headers
        .get("X-EBAY-C-MARKETPLACE-ID")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("EBAY_US")
    {
        "EBAY_DE" | "EBAY_FR" | "EBAY_IT" | "EBAY_ES" => ("EUR", 0.92),
        "EBAY_GB" => ("GBP", 0.79),
        "EBAY_AU" => ("AUD", 1.52),
        "EBAY_CA" => ("CAD", 1.37),
        _ => ("USD", 1.0),
    }
}

fn game_word(category_id: u32) -> &'static str {
    match category_id {
        1 => "MTG",
        2 => "Yugioh",
        3 => "Pokemon",
        68 => "One Piece",
        71 => "Lorcana",
        _ => "TCG",
    }
}

/// Every listing for `q` (before pagination), filtered.
fn search_listings(s: &SimState, q: &str, filters: &Filters, sold: bool) -> Vec<Listing> {
    let Some(p) = s.catalog.match_query(q) else {
        return Vec::new();
    };
    let now = s.now_secs();
    let day = now.div_euclid(86_400) as u64;
    let hour = now.div_euclid(3600) as u64;
    let slots = 5 + rng::hash(&[s.config.seed, p.product_id, day, u64::from(sold)])
        % s.config.listings_per_query.max(1);
    let market = market_cents(
        s.config.seed,
        p,
        p.printings.first().copied().unwrap_or(0),
        s.step_at(now),
    );
    (0..slots)
        .map(|slot| {
            let generation = (hour + slot * 37) / 72 + if sold { 1 << 40 } else { 0 };
            listing(
                s.config.seed,
                p,
                market,
                slot,
                generation,
                game_word(p.category_id),
            )
        })
        .filter(|l| filters.graded.is_none_or(|g| g == l.graded()))
        .filter(|l| {
            filters.buying.is_empty()
                || (l.auction && filters.buying.iter().any(|b| b == "AUCTION"))
                || (!l.auction
                    && filters
                        .buying
                        .iter()
                        .any(|b| b == "FIXED_PRICE" || (b == "BEST_OFFER" && l.best_offer)))
        })
        .filter(|l| {
            filters.min_cents.is_none_or(|m| l.price_cents >= m)
                && filters.max_cents.is_none_or(|m| l.price_cents <= m)
        })
        .collect()
}

fn ebay_paging(q: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let limit = match q.get("limit").map(|v| v.parse::<usize>()) {
        None => 50,
        Some(Ok(l)) if (1..=200).contains(&l) => l,
        _ => {
            return Err(ebay_error(
                StatusCode::BAD_REQUEST,
                12001,
                "The 'limit' value must be between 1 and 200.",
            ));
        }
    };
    let offset = match q.get("offset").map(|v| v.parse::<usize>()) {
        None => 0,
        Some(Ok(o)) if o < 10_000 => o,
        _ => {
            return Err(ebay_error(
                StatusCode::BAD_REQUEST,
                12002,
                "The 'offset' value must be below 10,000.",
            ));
        }
    };
    Ok((limit, offset))
}

fn ebay_error(code: StatusCode, id: u32, message: &str) -> Response {
    (code, axum::Json(json!({"errors": [{"errorId": id, "domain": "API_BROWSE", "category": "REQUEST", "message": message}]}))).into_response()
}

fn iso(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn condition(l: &Listing) -> (&'static str, &'static str) {
    if l.graded() {
        ("Graded", "2750")
    } else {
        ("Ungraded", "4000")
    }
}

async fn ebay_browse(State(s): St, headers: HeaderMap, Query(q): Params) -> Response {
    let fault = match preflight(&s, Endpoint::EbayBrowse, Some((&headers, "v^1.1#eb"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (limit, offset) = match ebay_paging(&q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let query = q.get("q").cloned().unwrap_or_default();
    s.stats.query(&query);
    let filters = parse_filter(q.get("filter").map_or("", String::as_str));
    let all = search_listings(&s, &query, &filters, false);
    let (currency, fx) = marketplace_currency(&headers);
    let now = s.now_secs();
    let conv = |c: i64| ((c as f64) * fx).round() as i64;
    let items: Vec<serde_json::Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|l| {
            let (cond, cond_id) = condition(l);
            let id = l.item_number;
            let mut item = json!({
                "itemId": format!("v1|{id}|0"),
                "legacyItemId": id.to_string(),
                "title": l.title,
                "condition": cond,
                "conditionId": cond_id,
                "buyingOptions": if l.auction { vec!["AUCTION"] } else if l.best_offer { vec!["FIXED_PRICE", "BEST_OFFER"] } else { vec!["FIXED_PRICE"] },
                "seller": {"username": l.seller, "feedbackPercentage": l.feedback_pct, "feedbackScore": l.feedback_score},
                "itemWebUrl": format!("https://www.ebay.com/itm/{id}"),
                "image": {"imageUrl": format!("https://i.ebayimg.com/images/g/{id}/s-l225.jpg")},
                "itemLocation": {"country": l.country},
                "itemCreationDate": iso(now - (l.age_hours as i64) * 3600),
                "categories": [{"categoryId": "183454", "categoryName": "CCG Individual Cards"}],
                "shippingOptions": match l.shipping_cents {
                    Some(c) => json!([{"shippingCostType": "FIXED", "shippingCost": money_json(conv(c), currency)}]),
                    None => json!([{"shippingCostType": "CALCULATED"}]),
                },
            });
            if l.auction {
                item["currentBidPrice"] = money_json(conv(l.price_cents), currency);
                item["bidCount"] = json!(l.age_hours % 17);
                item["itemEndDate"] = json!(iso(now + ((l.item_number % 7) as i64 + 1) * 86_400));
            } else {
                item["price"] = money_json(conv(l.price_cents), currency);
            }
            item
        })
        .collect();
    let total = all.len();
    let mut body = json!({
        "href": format!("/buy/browse/v1/item_summary/search?q={}&limit={limit}&offset={offset}", query.replace(' ', "+")),
        "total": total,
        "limit": limit,
        "offset": offset,
        "itemSummaries": items,
    });
    if offset + limit < total {
        body["next"] = json!(format!(
            "/buy/browse/v1/item_summary/search?q={}&limit={limit}&offset={}",
            query.replace(' ', "+"),
            offset + limit
        ));
    }
    json_response(fault, &body)
}

async fn ebay_insights(State(s): St, headers: HeaderMap, Query(q): Params) -> Response {
    let fault = match preflight(&s, Endpoint::EbayInsights, Some((&headers, "v^1.1#eb"))).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let insights_scope = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .and_then(|(_, t)| check_token(&s, t.trim(), "v^1.1#eb"))
        == Some(1);
    if !insights_scope {
        return (StatusCode::FORBIDDEN, axum::Json(json!({"errors": [{"errorId": 1100, "message": "Insufficient permissions to fulfill the request."}]}))).into_response();
    }
    let (limit, offset) = match ebay_paging(&q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let query = q.get("q").cloned().unwrap_or_default();
    s.stats.query(&query);
    let filters = parse_filter(q.get("filter").map_or("", String::as_str));
    let all = search_listings(&s, &query, &filters, true);
    let (currency, fx) = marketplace_currency(&headers);
    let now = s.now_secs();
    let sales: Vec<serde_json::Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|l| {
            let (cond, cond_id) = condition(l);
            json!({
                "itemId": format!("v1|{}|0", l.item_number),
                "title": l.title,
                "lastSoldDate": iso(now - (l.age_hours as i64) * 3 * 3600),
                "lastSoldPrice": money_json(((l.price_cents as f64) * fx * 0.93).round() as i64, currency),
                "totalSoldQuantity": l.quantity,
                "condition": cond,
                "conditionId": cond_id,
                "itemWebUrl": format!("https://www.ebay.com/itm/{}", l.item_number),
                "categories": [{"categoryId": "183454", "categoryName": "CCG Individual Cards"}],
            })
        })
        .collect();
    json_response(
        fault,
        &json!({"total": all.len(), "limit": limit, "offset": offset, "itemSales": sales}),
    )
}

// ---------------------------------------------------------------------------------------------
// ECB shapes.

fn today(s: &SimState) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(s.now_secs(), 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

async fn ecb_daily(State(s): St) -> Response {
    let fault = match preflight(&s, Endpoint::Ecb, None).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let days = business_days_back(today(&s), 1);
    body_response(
        fault,
        "text/xml",
        ecb_document(&days, s.config.seed).into_bytes(),
    )
}

async fn ecb_hist(State(s): St) -> Response {
    let fault = match preflight(&s, Endpoint::Ecb, None).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let days = business_days_back(today(&s), s.config.fx_history_days.max(1));
    body_response(
        fault,
        "text/xml",
        ecb_document(&days, s.config.seed).into_bytes(),
    )
}

async fn sim_stats(State(s): St) -> Response {
    axum::Json(s.stats.snapshot()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_filter(
            "buyingOptions:{FIXED_PRICE|AUCTION},conditionIds:{2750},price:[10..50.5],priceCurrency:USD",
        );
        assert_eq!(f.graded, Some(true));
        assert_eq!(f.buying, vec!["FIXED_PRICE", "AUCTION"]);
        assert_eq!((f.min_cents, f.max_cents), (Some(1000), Some(5050)));
        let f = parse_filter("price:[..20]");
        assert_eq!((f.min_cents, f.max_cents), (None, Some(2000)));
        assert_eq!(parse_filter("").graded, None);
    }
}
