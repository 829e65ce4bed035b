//! Server-Sent Events: ticks (filtered by product or series) and the caller's own alerts.
//!
//! Events: `tick` (a `Tick`), `alert` (an `AlertEvent`), `lagged` (`{"skipped": n}` when the
//! client fell behind the broadcast buffer and missed `n` messages). A comment line is sent as
//! a keep-alive every 15 s (configurable).

use std::convert::Infallible;

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{AlertEvent, ProductId, Tick};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    openapi::doc,
    problem::FieldError,
    query::{ApiQuery, QueryParams, opt},
    routes::params::SeriesIds,
    state::AppState,
};

/// Sent when the client missed messages.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Lagged {
    pub skipped: u64,
}

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Tick>();
    g.subschema_for::<AlertEvent>();
    g.subschema_for::<Lagged>();
}

/// Tick filters (none: every tick).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TickParams {
    /// Only ticks of this product.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::ProductId>)]
    product_id: Option<ProductId>,
    /// Only ticks of these series (comma-separated ids).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<String>)]
    series: Option<SeriesIds>,
    /// The API key, for clients that cannot send `Authorization` (browsers' `EventSource`);
    /// accepted on the stream routes only, used when no `Authorization` header is sent.
    #[allow(dead_code)]
    access_token: Option<String>,
}

impl QueryParams for TickParams {
    fn check(&mut self, _state: &AppState, errors: &mut Vec<FieldError>) {
        if self.series.as_ref().is_some_and(|s| s.0.len() > 200) {
            errors.push(FieldError::new("series", "at most 200 series ids"));
        }
    }
}

/// Stream authentication for clients that cannot send headers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamAuthParams {
    /// The API key, for clients that cannot send `Authorization` (browsers' `EventSource`);
    /// accepted on the stream routes only, used when no `Authorization` header is sent.
    #[allow(dead_code)]
    access_token: Option<String>,
}

impl QueryParams for StreamAuthParams {}

fn event<T: Serialize>(name: &str, value: &T) -> Event {
    Event::default()
        .event(name)
        .json_data(value)
        .unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

fn lagged(e: BroadcastStreamRecvError) -> Event {
    let BroadcastStreamRecvError::Lagged(n) = e;
    event("lagged", &Lagged { skipped: n })
}

/// A live stream of ticks as the processor stores them (`text/event-stream`; events `tick`
/// with a `Tick` as data, `lagged`).
#[utoipa::path(get, path = "/v1/stream/ticks", tag = "streams", params(TickParams),
    responses((status = 200, description = "Server-Sent Events: `tick` (Tick), `lagged` (Lagged)", content_type = "text/event-stream", body = String),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn ticks(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<TickParams>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let product = q.product_id;
    let series = q.series.map(|s| s.0);
    let rx = state.tick_sender().subscribe();
    let stream = BroadcastStream::new(rx).filter_map(move |msg| {
        let out = match msg {
            Ok(t) => {
                let keep = product.is_none_or(|p| t.series.product_id() == p)
                    && series.as_ref().is_none_or(|s| s.contains(&t.series_id));
                keep.then(|| Ok(event("tick", &t)))
            }
            Err(e) => Some(Ok(lagged(e))),
        };
        std::future::ready(out)
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(state.config().sse_keep_alive))
}

/// A live stream of the caller's alerts (`text/event-stream`; events `alert` with an
/// `AlertEvent` as data, `lagged`).
#[utoipa::path(get, path = "/v1/stream/alerts", tag = "streams", params(StreamAuthParams),
    responses((status = 200, description = "Server-Sent Events: `alert` (AlertEvent), `lagged` (Lagged)", content_type = "text/event-stream", body = String),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(_q): ApiQuery<StreamAuthParams>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.alert_sender().subscribe();
    let user = caller.user;
    let stream = BroadcastStream::new(rx).filter_map(move |msg| {
        let out = match msg {
            Ok(a) => (a.owner == user).then(|| Ok(event("alert", &a))),
            Err(e) => Some(Ok(lagged(e))),
        };
        std::future::ready(out)
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(state.config().sse_keep_alive))
}
