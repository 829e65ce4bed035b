//! The ECB reference rates: `eurofxref-daily.xml` (the last business day) and `eurofxref-hist.xml`
//! (`fx_history_days` business days).

use std::sync::Arc;

use axum::{Router, extract::State, response::Response};
use chrono::{DateTime, NaiveDate, Utc};

use super::{St, body_response, preflight::Gate};
use crate::{
    fx::{business_days_back, ecb_document},
    state::SimState,
    stats::Endpoint,
};

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let gate = Gate::new(state, Endpoint::Ecb);
    Router::new()
        .route("/stats/eurofxref/eurofxref-daily.xml", gate.get(daily))
        .route("/stats/eurofxref/eurofxref-hist.xml", gate.get(history))
}

fn today(s: &SimState) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(s.now_secs(), 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

fn document(s: &SimState, days: u32) -> Response {
    let days = business_days_back(today(s), days);
    body_response("text/xml", ecb_document(&days, s.config.seed).into_bytes())
}

async fn daily(State(s): St) -> Response {
    document(&s, 1)
}

async fn history(State(s): St) -> Response {
    document(&s, s.config.fx_history_days.max(1))
}
