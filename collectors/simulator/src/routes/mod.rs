//! The simulator's HTTP routes, one module per upstream. Every data route sits behind the one
//! pre-flight middleware ([`preflight`]: faults, User-Agent and token checks); token endpoints and
//! `/sim/stats` do not. Handlers only serve data.

mod archive;
mod cardkingdom;
mod cardmarket;
mod ebay;
mod ecb;
mod justtcg;
mod preflight;
mod pricecharting;
mod scryfall;
mod shapes;
mod tcgcsv;
mod tcgplayer;

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

use crate::state::SimState;

type St = State<Arc<SimState>>;
type Params = Query<HashMap<String, String>>;

pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .merge(tcgplayer::routes(&state))
        .merge(tcgcsv::routes(&state))
        .merge(archive::routes(&state))
        .merge(ebay::routes(&state))
        .merge(ecb::routes(&state))
        .merge(pricecharting::routes(&state))
        .merge(justtcg::routes(&state))
        .merge(cardkingdom::routes(&state))
        .merge(cardmarket::routes(&state))
        .merge(scryfall::routes(&state))
        .route("/sim/stats", get(sim_stats))
        .with_state(state)
}

async fn sim_stats(State(s): St) -> Response {
    axum::Json(s.stats.snapshot()).into_response()
}

// ---------------------------------------------------------------------------------------------
// Bodies shared by the upstreams.

fn status(code: StatusCode, body: &'static str) -> Response {
    (code, body).into_response()
}

/// A data answer: the pre-flight cuts it in half when the request drew the malformed fault.
fn body_response(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    response.extensions_mut().insert(preflight::Truncatable);
    response
}

fn json_response<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => body_response("application/json", body),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR, "encode"),
    }
}

/// TCGplayer's (and TCGCSV's) JSON envelope.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<T: Serialize> {
    success: bool,
    errors: Vec<String>,
    results: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_items: Option<usize>,
}

impl<T: Serialize> Envelope<T> {
    fn ok(results: T, total_items: Option<usize>) -> Self {
        Envelope {
            success: true,
            errors: Vec::new(),
            results,
            total_items,
        }
    }
}

fn ok_env<T: Serialize>(results: T, total: Option<usize>) -> Response {
    json_response(&Envelope::ok(results, total))
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
