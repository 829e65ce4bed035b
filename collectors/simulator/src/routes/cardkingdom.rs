//! Card Kingdom's public price lists: `/api/v2/pricelist` (with per-grade retail in
//! `condition_values`) and the older `/api/pricelist` (without), open to all (no key). The list
//! is regenerated at every quote time; now and then it comes wrapped in HTML, as the real one
//! does (see [`crate::cardkingdom`]).

use std::sync::Arc;

use axum::{Router, extract::State, http::StatusCode, response::Response};

use super::{St, body_response, preflight::Gate, status};
use crate::{cardkingdom, state::SimState, stats::Endpoint};

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let gate = Gate::new(state, Endpoint::Cardkingdom);
    Router::new()
        .route("/api/v2/pricelist", gate.get(v2))
        .route("/api/pricelist", gate.get(v1))
}

async fn v2(State(s): St) -> Response {
    price_list(&s, true)
}

async fn v1(State(s): St) -> Response {
    price_list(&s, false)
}

fn price_list(s: &SimState, grades: bool) -> Response {
    let t = s.quote_at(s.now_secs());
    let list = cardkingdom::price_list(&s.catalog, s.config.seed, t, grades);
    let Ok(json) = serde_json::to_vec(&list) else {
        return status(StatusCode::INTERNAL_SERVER_ERROR, "encode");
    };
    if cardkingdom::html_wrapped(s.config.seed, t) {
        let mut body = b"<html><head></head><body>".to_vec();
        body.extend_from_slice(&json);
        body.extend_from_slice(b"</body></html>");
        body_response("text/html; charset=UTF-8", body)
    } else {
        body_response("application/json", json)
    }
}
