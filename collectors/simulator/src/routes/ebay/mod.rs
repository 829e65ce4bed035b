//! eBay: `POST /identity/v1/oauth2/token` (Basic auth), Browse item summaries and Marketplace
//! Insights item sales (the latter needs a token with the insights scope).

// Helpers return `Err(Response)` to answer early; boxing a response the handler returns at once
// would buy nothing.
#![allow(clippy::result_large_err)]

mod search;

use std::{collections::HashMap, sync::Arc};

use axum::{
    Extension, Form, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::Engine;
use serde_json::json;

use super::{
    Params, St, json_response,
    preflight::{Gate, TokenFlag, issue_token},
};
use crate::{listings::Listing, state::SimState, stats::Endpoint};
use search::{condition, iso, marketplace_currency, money_json, parse_filter, search_listings};

/// The prefix of the tokens eBay's token endpoint issues.
const TOKEN_PREFIX: &str = "v^1.1#eb";

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let browse = Gate::new(state, Endpoint::EbayBrowse).bearer(TOKEN_PREFIX);
    let insights = Gate::new(state, Endpoint::EbayInsights).bearer(TOKEN_PREFIX);
    Router::new()
        .route("/identity/v1/oauth2/token", post(token))
        .route(
            "/buy/browse/v1/item_summary/search",
            browse.get(browse_search),
        )
        .route(
            "/buy/marketplace_insights/v1_beta/item_sales/search",
            insights.get(insights_search),
        )
}

fn basic_auth_ok(headers: &HeaderMap) -> bool {
    headers
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
        })
}

async fn token(
    State(s): St,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.stats.hit(Endpoint::EbayToken);
    if !basic_auth_ok(&headers)
        || form.get("grant_type").map(String::as_str) != Some("client_credentials")
    {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client", "error_description": "client authentication failed"}))).into_response();
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    let insights = scope.contains("buy.marketplace.insights");
    let ttl = s.config.ebay_token_ttl_secs;
    let token = issue_token(&s, TOKEN_PREFIX, ttl, u8::from(insights));
    axum::Json(
        json!({"access_token": token, "expires_in": ttl, "token_type": "Application Access Token"}),
    )
    .into_response()
}

fn paging(q: &HashMap<String, String>) -> Result<(usize, usize), Response> {
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

/// One Browse item summary, prices converted by `fx` into `currency`.
fn item_summary(l: &Listing, now: i64, currency: &str, fx: f64) -> serde_json::Value {
    let conv = |c: i64| ((c as f64) * fx).round() as i64;
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
}

async fn browse_search(State(s): St, headers: HeaderMap, Query(q): Params) -> Response {
    let (limit, offset) = match paging(&q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let query = q.get("q").cloned().unwrap_or_default();
    s.stats.query(&query);
    let filters = parse_filter(q.get("filter").map_or("", String::as_str));
    let all = search_listings(&s, &query, &filters, false);
    let (currency, fx) = marketplace_currency(&headers);
    let now = s.now_secs();
    let items: Vec<serde_json::Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|l| item_summary(l, now, currency, fx))
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
    json_response(&body)
}

async fn insights_search(
    State(s): St,
    token: Option<Extension<TokenFlag>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let insights_scope = token.is_some_and(|Extension(TokenFlag(flag))| flag == 1);
    if !insights_scope {
        return (StatusCode::FORBIDDEN, axum::Json(json!({"errors": [{"errorId": 1100, "message": "Insufficient permissions to fulfill the request."}]}))).into_response();
    }
    let (limit, offset) = match paging(&q) {
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
        &json!({"total": all.len(), "limit": limit, "offset": offset, "itemSales": sales}),
    )
}
