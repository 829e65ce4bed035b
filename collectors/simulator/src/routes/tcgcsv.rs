//! TCGCSV: the daily mirror of TCGplayer's catalog and prices (`/tcgplayer/…`) and its
//! `last-updated.txt`. Generic User-Agents are refused (in the pre-flight).

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};

use super::{
    St, ok_env,
    preflight::Gate,
    shapes::{GroupOut, PriceOut, ProductOut, category_out, group_out, price_rows, product_out},
    status,
};
use crate::{state::SimState, stats::Endpoint};

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let gate = Gate::new(state, Endpoint::Tcgcsv).custom_user_agent();
    Router::new()
        .route("/tcgplayer/categories", gate.get(categories))
        .route(
            "/tcgplayer/{cat}/groups",
            gate.parsing::<Path<u32>>().get(groups),
        )
        .route(
            "/tcgplayer/{cat}/{group}/{what}",
            gate.parsing::<Path<(u32, u32, String)>>().get(group_file),
        )
        .route("/last-updated.txt", gate.get(last_updated))
}

/// The last TCGCSV update at or before `now`: every `period` seconds from 20:00 UTC.
pub(super) fn last_update(s: &SimState, now: i64) -> i64 {
    let period = s.config.tcgcsv_update_secs.max(1);
    let offset = 20 * 3600;
    (now - offset).div_euclid(period) * period + offset
}

async fn categories(State(s): St) -> Response {
    let cats = category_out(&s);
    let n = cats.len();
    ok_env(cats, Some(n))
}

async fn groups(State(s): St, Path(cat): Path<u32>) -> Response {
    if s.catalog.category(cat).is_none() {
        return status(StatusCode::NOT_FOUND, "not found");
    }
    let groups: Vec<GroupOut> = s.catalog.groups_of(cat).map(group_out).collect();
    let n = groups.len();
    ok_env(groups, Some(n))
}

async fn group_file(State(s): St, Path((cat, group, what)): Path<(u32, u32, String)>) -> Response {
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
            ok_env(products, Some(n))
        }
        "prices" => {
            let t = s.quote_at(last_update(&s, s.now_secs()));
            let rows: Vec<PriceOut> = s
                .catalog
                .products_of(g)
                .iter()
                .flat_map(|p| price_rows(&s, p, t))
                .collect();
            let n = rows.len();
            ok_env(rows, Some(n))
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

/// The time of the last update. Never malformed: it is not a data body, so the pre-flight leaves
/// it whole.
async fn last_updated(State(s): St) -> Response {
    let text = tcgcsv_time(last_update(&s, s.now_secs()));
    ([(header::CONTENT_TYPE, "text/plain")], text.into_bytes()).into_response()
}
