//! The JustTCG API (`/v1/games`, `/v1/sets`, `GET /v1/cards`, `POST /v1/cards`) over
//! [`crate::justtcg`]'s cards, in JustTCG's shapes: `{data, meta, _metadata}` answers and
//! `{error, code}` errors.
//!
//! Its own pre-flight (the shared [`preflight::Gate`](super::preflight) serves GET routes with
//! bearer tokens; JustTCG needs POST and an `x-api-key`): the request counter, the fault drawn
//! for the request (429 in JustTCG's shape, 503, 500, a hang, a cut body), the key
//! (`MISSING_API_KEY`, `INVALID_API_KEY` unless it starts with `tcg_`) and the plan's allowance:
//! keys starting `tcg_free` are on the Free plan (20 cards a request, 10 requests a minute, 100 a
//! day, 1,000 a month), others on Enterprise (200, 500, 50,000, 500,000). Spent allowances answer
//! 429 `RATE_LIMIT_EXCEEDED`, `DAILY_LIMIT_EXCEEDED` or `REQUEST_LIMIT_EXCEEDED`; more cards a
//! request than the plan allows answer 403.

// Helpers return `Err(Response)` to answer early; boxing a response the handler returns at once
// would buy nothing.
#![allow(clippy::result_large_err)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
    middleware::from_fn_with_state,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use super::{Params, St, json_response};
use crate::{
    justtcg::{
        GAMES, JtCard, JtData, JtGame, JtVariant, game, history_times, last_updated, price_cents,
        variants,
    },
    market::dollars,
    state::SimState,
};
use gate::{Counter, Granted, Plan, preflight};

mod gate;

/// JustTCG's data of the simulator, and the usage of each key.
#[derive(Debug)]
pub(super) struct Jt {
    data: JtData,
    keys: Mutex<HashMap<String, Counter>>,
}

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let jt = Arc::new(Jt {
        data: JtData::build(&state.catalog),
        keys: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/v1/games", get(games))
        .route("/v1/sets", get(sets))
        .route("/v1/cards", get(cards_get).post(cards_post))
        .route_layer(from_fn_with_state((state.clone(), jt.clone()), preflight))
        .layer(Extension(jt))
}

/// JustTCG's error shape.
fn error(code: StatusCode, error_code: &str, message: &str) -> Response {
    (code, Json(json!({"error": message, "code": error_code}))).into_response()
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
}

// ---------------------------------------------------------------------------------------------
// Games and sets.

/// The games of the simulated categories.
fn games_of(s: &SimState) -> Vec<&'static JtGame> {
    GAMES
        .iter()
        .filter(|g| s.catalog.category(g.category_id).is_some())
        .collect()
}

async fn games(
    State(s): St,
    Extension(jt): Extension<Arc<Jt>>,
    Extension(g): Extension<Granted>,
) -> Response {
    let now = s.now_secs();
    let data: Vec<Value> = games_of(&s)
        .into_iter()
        .map(|game| {
            let sets: Vec<_> = jt
                .data
                .sets
                .iter()
                .filter(|s| s.game.id == game.id)
                .collect();
            let cards: usize = sets.iter().map(|s| s.cards.len()).sum();
            let sealed = (sets.iter().flat_map(|s| &s.cards))
                .filter(|&&i| jt.data.cards[i].number.is_none())
                .count();
            json!({
                "id": game.id, "name": game.name, "game_id": game.id,
                "cards_count": cards, "sets_count": sets.len(), "sealed_count": sealed,
                "last_updated": last_updated(game, now),
            })
        })
        .collect();
    json_response(&json!({"data": data, "_metadata": g.metadata}))
}

/// The game of the `game` parameter, or the error JustTCG answers.
fn game_param(
    s: &SimState,
    q: &HashMap<String, String>,
) -> Result<Option<&'static JtGame>, Response> {
    let Some(text) = q.get("game") else {
        return Ok(None);
    };
    match game(text) {
        Some(g) if s.catalog.category(g.category_id).is_some() => Ok(Some(g)),
        _ => {
            let ids: Vec<&str> = games_of(s).iter().map(|g| g.id).collect();
            Err(bad_request(&format!(
                "Invalid game parameter. Must be one of: {}",
                ids.join(", ")
            )))
        }
    }
}

async fn sets(
    State(s): St,
    Extension(jt): Extension<Arc<Jt>>,
    Extension(g): Extension<Granted>,
    Query(q): Params,
) -> Response {
    let game = match game_param(&s, &q) {
        Ok(Some(game)) => game,
        Ok(None) => return bad_request("Required query parameter \"game\" is missing"),
        Err(refused) => return refused,
    };
    let data: Vec<Value> = (jt.data.sets.iter())
        .filter(|set| set.game.id == game.id)
        .map(|set| {
            let sealed = (set.cards.iter())
                .filter(|&&i| jt.data.cards[i].number.is_none())
                .count();
            let variants_n: usize = (set.cards.iter())
                .map(|&i| variants(&s.catalog, &jt.data.cards[i]).len())
                .sum();
            json!({
                "id": set.id, "name": set.name, "game_id": game.id, "game": game.name,
                "count": set.cards.len(), "variants_count": variants_n, "sealed_count": sealed,
                "release_date": set.release_date,
            })
        })
        .collect();
    let total = data.len();
    let meta = json!({"total": total, "limit": total, "offset": 0, "hasMore": false});
    json_response(&json!({"data": data, "meta": meta, "_metadata": g.metadata}))
}

// ---------------------------------------------------------------------------------------------
// Cards.

/// What to include of each card.
#[derive(Debug, Default)]
struct Opts {
    conditions: Vec<String>,
    printings: Vec<String>,
    updated_after: Option<i64>,
    /// Days of price history to include.
    history_days: Option<i64>,
    /// Only this variant (a lookup by variant or SKU id).
    only_variant: Option<String>,
}

fn list(text: Option<String>) -> Vec<String> {
    text.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// A parameter as text (strings, numbers, booleans; arrays joined with commas).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) => Some(a.iter().filter_map(text).collect::<Vec<_>>().join(",")),
        _ => None,
    }
}

impl Opts {
    fn read(get: impl Fn(&str) -> Option<String>) -> Result<Opts, Response> {
        let history = get("include_price_history").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let days = match get("priceHistoryDuration").as_deref() {
            None | Some("7d") => 7,
            Some("30d") => 30,
            Some("90d") => 90,
            Some("180d") => 180,
            Some("1y") => 365,
            Some(_) => {
                return Err(bad_request(
                    "Invalid priceHistoryDuration. Must be one of: 7d, 30d, 90d, 180d, 1y",
                ));
            }
        };
        let updated_after = match get("updated_after") {
            None => None,
            Some(t) => Some(
                t.parse()
                    .map_err(|_| bad_request("Invalid updated_after"))?,
            ),
        };
        Ok(Opts {
            conditions: list(get("condition")),
            printings: list(get("printing")),
            updated_after,
            history_days: history.then_some(days),
            only_variant: None,
        })
    }
}

fn condition_matches(wanted: &[String], condition: &str) -> bool {
    let abbr = match condition {
        "Near Mint" => "nm",
        "Lightly Played" => "lp",
        "Moderately Played" => "mp",
        "Heavily Played" => "hp",
        "Damaged" => "dmg",
        _ => "s",
    };
    wanted.is_empty()
        || wanted.iter().any(|w| {
            w == abbr || *w == condition.to_ascii_lowercase() || (abbr == "dmg" && w == "d")
        })
}

/// Whether a variant passes the filters of `opts`.
fn wanted(opts: &Opts, v: &JtVariant) -> bool {
    opts.only_variant.as_ref().is_none_or(|o| *o == v.id)
        && condition_matches(&opts.conditions, v.condition)
        && (opts.printings.is_empty() || opts.printings.contains(&v.printing.to_ascii_lowercase()))
}

/// A variant as JustTCG sends it, priced at `lu` (its game's last repricing).
fn variant_json(s: &SimState, card: &JtCard, v: &JtVariant, lu: i64, opts: &Opts) -> Value {
    let price = |t| price_cents(s.config.seed, &s.catalog, card, v, t);
    let now = price(lu);
    // Percent, to two places.
    let change = |back: i64| match (now, price(lu - back)) {
        (Some(a), Some(b)) if b > 0 => {
            json!(((a as f64 / b as f64 - 1.0) * 10_000.0).round() / 100.0)
        }
        _ => Value::Null,
    };
    let mut out = json!({
        "id": v.id,
        "condition": v.condition,
        "printing": v.printing,
        "language": v.language,
        "price": now.map(dollars),
        "lastUpdated": lu,
        "priceChange24hr": change(86_400),
        "priceChange7d": change(7 * 86_400),
    });
    if let Some(sku) = v.sku {
        out["tcgplayerSkuId"] = json!(sku.to_string());
    }
    if let Some(days) = opts.history_days {
        let points: Vec<Value> = history_times(card.game, s.now_secs(), days)
            .into_iter()
            .map(|t| json!({"p": price(t).map(dollars), "t": t}))
            .collect();
        out["priceHistory"] = Value::Array(points);
    }
    out
}

/// A card as JustTCG sends it, or `None` when the filters leave it no variant.
fn card_json(s: &SimState, jt: &Jt, i: usize, opts: &Opts) -> Option<Value> {
    let card: &JtCard = &jt.data.cards[i];
    let set = &jt.data.sets[card.set];
    let lu = last_updated(card.game, s.now_secs());
    if opts.updated_after.is_some_and(|after| lu <= after) {
        return None;
    }
    let variants: Vec<Value> = (variants(&s.catalog, card).iter())
        .filter(|v| wanted(opts, v))
        .map(|v| variant_json(s, card, v, lu, opts))
        .collect();
    if variants.is_empty() {
        return None;
    }
    Some(json!({
        "id": card.id,
        "name": card.name,
        "game": card.game.name,
        "set": set.id,
        "set_name": set.name,
        "number": card.number.as_deref().unwrap_or("N/A"),
        "rarity": card.rarity,
        "tcgplayerId": card.tcgplayer_id.map(|t| t.to_string()),
        "scryfallId": null,
        "mtgjsonId": null,
        "details": null,
        "variants": variants,
    }))
}

fn too_many_cards(plan: Plan) -> Response {
    error(
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        &format!(
            "Your plan ({}) allows at most {} cards per request. Upgrade your plan for larger \
             requests.",
            plan.name, plan.per_request
        ),
    )
}

/// The cards a lookup names (variant id, SKU id, TCGplayer id or card id, in that precedence):
/// the cards, and the variant a variant or SKU lookup is about.
fn lookup(jt: &Jt, get: &impl Fn(&str) -> Option<String>) -> Option<(Vec<usize>, Option<String>)> {
    if let Some(v) = get("variantId") {
        let card = jt.data.card_of_variant(&v);
        return Some((card.into_iter().collect(), Some(v)));
    }
    if let Some(sku) = get("tcgplayerSkuId") {
        let sku: u64 = sku.trim().parse().unwrap_or(0);
        let card = jt.data.card_of_sku(sku);
        return Some((card.into_iter().collect(), Some(format!("sku:{sku}"))));
    }
    if let Some(t) = get("tcgplayerId") {
        let t: u64 = t.trim().parse().unwrap_or(0);
        return Some((jt.data.by_tcgplayer(t).to_vec(), None));
    }
    get("cardId").map(|c| (jt.data.card(&c).into_iter().collect(), None))
}

/// A lookup's variant filter: a variant id, or `sku:N` resolved to the SKU's variant id.
fn resolve_variant(s: &SimState, jt: &Jt, cards: &[usize], only: Option<String>) -> Option<String> {
    let only = only?;
    let Some(sku) = only
        .strip_prefix("sku:")
        .and_then(|t| t.parse::<u64>().ok())
    else {
        return Some(only);
    };
    let card = &jt.data.cards[*cards.first()?];
    let found = variants(&s.catalog, card)
        .into_iter()
        .find(|v| v.sku == Some(sku));
    // An unknown SKU of a known product matches no variant.
    Some(found.map_or_else(String::new, |v| v.id))
}

async fn cards_get(
    State(s): St,
    Extension(jt): Extension<Arc<Jt>>,
    Extension(g): Extension<Granted>,
    Query(q): Params,
) -> Response {
    let get = |k: &str| q.get(k).cloned();
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 20,
        Some(Ok(l)) if l >= 1 => l,
        _ => return bad_request("Invalid limit"),
    };
    if limit > g.plan.per_request {
        return too_many_cards(g.plan);
    }
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let mut opts = match Opts::read(get) {
        Ok(o) => o,
        Err(refused) => return refused,
    };
    let game = match game_param(&s, &q) {
        Ok(game) => game,
        Err(refused) => return refused,
    };
    let matched: Vec<usize> = match lookup(&jt, &get) {
        Some((cards, only)) => {
            opts.only_variant = resolve_variant(&s, &jt, &cards, only);
            cards
        }
        None => {
            let needle = q.get("q").map(|t| t.to_lowercase());
            (0..jt.data.cards.len())
                .filter(|&i| {
                    let c = &jt.data.cards[i];
                    game.is_none_or(|g| g.id == c.game.id)
                        && q.get("set")
                            .is_none_or(|set| *set == jt.data.sets[c.set].id)
                        && q.get("number")
                            .is_none_or(|n| c.number.as_deref() == Some(n.as_str()))
                        && needle
                            .as_ref()
                            .is_none_or(|n| c.name.to_lowercase().contains(n))
                })
                .collect()
        }
    };
    let all: Vec<Value> = (matched.into_iter())
        .filter_map(|i| card_json(&s, &jt, i, &opts))
        .collect();
    let total = all.len();
    let data: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    let more = offset + data.len() < total;
    let meta = json!({"total": total, "limit": limit, "offset": offset, "hasMore": more});
    json_response(&json!({"data": data, "meta": meta, "_metadata": g.metadata}))
}

async fn cards_post(
    State(s): St,
    Extension(jt): Extension<Arc<Jt>>,
    Extension(g): Extension<Granted>,
    body: Bytes,
) -> Response {
    let Ok(items) = serde_json::from_slice::<Vec<Value>>(&body) else {
        return bad_request("The request body must be an array of lookup objects");
    };
    if items.is_empty() {
        return bad_request("The request body must name at least one card");
    }
    if items.len() > g.plan.per_request {
        return too_many_cards(g.plan);
    }
    let mut seen = Vec::new();
    let mut data = Vec::new();
    for item in &items {
        let get = |k: &str| item.get(k).and_then(text);
        let mut opts = match Opts::read(get) {
            Ok(o) => o,
            Err(refused) => return refused,
        };
        let Some((cards, only)) = lookup(&jt, &get) else {
            return bad_request(
                "Each lookup object needs an identifier (tcgplayerId, tcgplayerSkuId, cardId, \
                 variantId, scryfallId or mtgjsonId)",
            );
        };
        opts.only_variant = resolve_variant(&s, &jt, &cards, only);
        for i in cards {
            if seen.contains(&(i, opts.only_variant.clone())) {
                continue;
            }
            seen.push((i, opts.only_variant.clone()));
            data.extend(card_json(&s, &jt, i, &opts));
        }
    }
    json_response(&json!({"data": data, "_metadata": g.metadata}))
}
