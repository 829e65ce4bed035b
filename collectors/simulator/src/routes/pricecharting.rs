//! PriceCharting: the JSON API (`/api/product?t=&id=`, `/api/products?t=&q=`) and the CSV price
//! guide (`/price-guide/download-custom?t=&category=`), from [`crate::pricecharting`]. The token
//! is the `t` parameter: a wrong one gets `{"status":"error","error-message":"Unknown access
//! token"}` from the API and a 403 page from the guide; an unknown id gets "No such product".
//! An unknown guide category gets every product, as PriceCharting's own fallback does.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::{Params, St, body_response, json_response, preflight::Gate, status};
use crate::{
    pricecharting::{self as pc, KEYS, PcProduct},
    state::SimState,
    stats::Endpoint,
};

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let gate = Gate::new(state, Endpoint::Pricecharting);
    Router::new()
        .route("/api/product", gate.get(product))
        .route("/api/products", gate.get(search))
        .route("/price-guide/download-custom", gate.get(guide))
}

/// Search results per answer (PriceCharting's page).
const SEARCH_LIMIT: usize = 20;

/// `{"status":"error","error-message":…}` (HTTP 200, as the API answers).
fn api_error(message: &str) -> Response {
    let body = json!({ "status": "error", "error-message": message }).to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn token_ok(q: &HashMap<String, String>) -> bool {
    q.get("t").is_some_and(|t| pc::token_ok(t))
}

/// A product's JSON fields: ids as strings, prices in pennies (0 = no data).
fn product_json(s: &SimState, p: &PcProduct) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id.to_string()));
    m.insert("product-name".into(), json!(p.product_name));
    m.insert("console-name".into(), json!(p.console_name));
    m.insert("genre".into(), json!(p.genre));
    m.insert("release-date".into(), json!(p.release_date));
    if let Some(t) = p.tcg_id {
        m.insert("tcg-id".into(), json!(t.to_string()));
    }
    let seed = s.config.seed;
    m.insert(
        "sales-volume".into(),
        json!(pc::sales_volume(seed, p).to_string()),
    );
    let prices = pc::prices(&s.catalog, seed, p, s.now_secs());
    for (key, cents) in KEYS.iter().zip(prices) {
        m.insert((*key).into(), json!(cents.unwrap_or(0)));
    }
    m
}

async fn product(State(s): St, Query(q): Params) -> Response {
    if !token_ok(&q) {
        return api_error("Unknown access token");
    }
    let Some(id) = q.get("id").and_then(|i| i.trim().parse::<u64>().ok()) else {
        return api_error("No such product");
    };
    let all = pc::products(&s.catalog, s.config.seed);
    match all.iter().find(|p| p.id == id) {
        Some(p) => {
            let mut m = product_json(&s, p);
            m.insert("status".into(), json!("success"));
            json_response(&Value::Object(m))
        }
        None => api_error("No such product"),
    }
}

async fn search(State(s): St, Query(q): Params) -> Response {
    if !token_ok(&q) {
        return api_error("Unknown access token");
    }
    let words: Vec<String> = q
        .get("q")
        .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    if words.is_empty() {
        return api_error("Missing q parameter");
    }
    let found: Vec<Value> = pc::products(&s.catalog, s.config.seed)
        .iter()
        .filter(|p| {
            let text = format!("{} {}", p.product_name, p.console_name).to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .take(SEARCH_LIMIT)
        .map(|p| Value::Object(product_json(&s, p)))
        .collect();
    json_response(&json!({ "status": "success", "products": found }))
}

/// The guide's columns: PriceCharting's, prices as dollars.
const HEADER: [&str; 8] = [
    "id",
    "console-name",
    "product-name",
    "genre",
    "release-date",
    "tcg-id",
    "sales-volume",
    "retail-loose-sell",
];

async fn guide(State(s): St, Query(q): Params) -> Response {
    if !token_ok(&q) {
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Subscribe to download a custom price guide.</body></html>",
        )
            .into_response();
    }
    let category = q.get("category").map(String::as_str).unwrap_or("");
    let all = pc::products(&s.catalog, s.config.seed);
    let known = pc::GAMES.iter().any(|g| g.1 == category);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = HEADER.iter().chain(KEYS.iter());
    if w.write_record(header).is_err() {
        return status(StatusCode::INTERNAL_SERVER_ERROR, "encode");
    }
    let seed = s.config.seed;
    for p in all.iter().filter(|p| !known || p.slug == category) {
        let prices = pc::prices(&s.catalog, seed, p, s.now_secs());
        let cell = |c: Option<i64>| c.map(pc::csv_dollars).unwrap_or_default();
        let mut record = vec![
            p.id.to_string(),
            p.console_name.clone(),
            p.product_name.clone(),
            p.genre.clone(),
            p.release_date.clone(),
            p.tcg_id.map(|t| t.to_string()).unwrap_or_default(),
            pc::sales_volume(seed, p).to_string(),
            cell(prices[0].map(|c| c * 11 / 10)),
        ];
        record.extend(prices.iter().map(|c| cell(*c)));
        if w.write_record(&record).is_err() {
            return status(StatusCode::INTERNAL_SERVER_ERROR, "encode");
        }
    }
    match w.into_inner() {
        Ok(body) => body_response("text/csv", body),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR, "encode"),
    }
}
