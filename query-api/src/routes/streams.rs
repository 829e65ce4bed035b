//! Server-Sent Events: ticks (filtered by product or series) and the caller's own alerts.
//!
//! Events: `tick` (a `Tick` with its card's name, set and number: `TickEvent`), `alert` (an
//! `AlertEvent` with its card: `AlertView`), `lagged` (`{"skipped": n}` when the
//! client fell behind the broadcast buffer and missed `n` messages; the stream ends after it),
//! `revoked` (the key was revoked; the stream ends after it). A comment line is sent as a
//! keep-alive every 15 s (configurable).
//!
//! Open streams are capped per key and in all (`max_streams_per_key`, `max_streams`; 429
//! beyond). Each stream checks its key again every `stream_key_recheck`, through the auth cache,
//! so a revoked key's streams end within the cache's time-to-live and one re-check. Nothing is
//! buffered per stream beyond the server's write buffer: a reader that stops reading stops the
//! stream from being polled, falls behind the shared broadcast buffer, and is told `lagged` and
//! dropped (and the connection is closed after `idle_timeout` without progress).

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{ProductId, Tick};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};
use utoipa::IntoParams;

use crate::{
    auth::{Caller, KeyRef, verify},
    card_names::CardRef,
    error::{ApiError, ApiResult},
    metrics::Metrics,
    openapi::doc,
    problem::FieldError,
    query::{ApiQuery, QueryParams, opt},
    routes::{params::SeriesIds, rules::AlertView},
    state::AppState,
};

/// Sent when the client fell behind and missed messages; the stream ends after it (reconnect to
/// read on from now).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Lagged {
    pub skipped: u64,
}

/// Sent when the stream's key is no longer valid (revoked); the stream ends after it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Revoked {
    pub detail: String,
}

/// A tick with its card in words (the `tick` event's data).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TickEvent {
    #[serde(flatten)]
    pub tick: Tick,
    /// Absent when the catalog does not know the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
}

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<TickEvent>();
    g.subschema_for::<AlertView>();
    g.subschema_for::<Lagged>();
    g.subschema_for::<Revoked>();
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
    #[serde(default, deserialize_with = "crate::query::opt_text")]
    #[param(pattern = "^tcg_[0-9a-f]{12}_[0-9a-f]{64}$")]
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
    #[serde(default, deserialize_with = "crate::query::opt_text")]
    #[param(pattern = "^tcg_[0-9a-f]{12}_[0-9a-f]{64}$")]
    access_token: Option<String>,
}

impl QueryParams for StreamAuthParams {}

fn event<T: Serialize>(name: &str, value: &T) -> Event {
    Event::default()
        .event(name)
        .json_data(value)
        .unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

/// Open streams, per key and in all. A [`StreamSlot`] is one open stream; dropping it (the
/// stream ended or its client left) frees it.
#[derive(Debug, Default)]
pub(crate) struct StreamSlots {
    open: Mutex<(HashMap<String, usize>, usize)>,
}

impl StreamSlots {
    fn lock(&self) -> MutexGuard<'_, (HashMap<String, usize>, usize)> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a stream of `key_id`, or 429 naming the cap that is reached.
    fn take(self: &Arc<Self>, state: &AppState, key_id: &str) -> ApiResult<StreamSlot> {
        let config = state.config();
        let metrics = &state.inner.metrics;
        let mut open = self.lock();
        let (per_key, total) = &mut *open;
        if *total >= config.max_streams {
            metrics.stream_refused("all");
            return Err(ApiError::TooManyStreams(format!(
                "the server holds its most open streams ({}); retry later",
                config.max_streams
            )));
        }
        let mine = per_key.entry(key_id.to_owned()).or_insert(0);
        if *mine >= config.max_streams_per_key {
            metrics.stream_refused("key");
            return Err(ApiError::TooManyStreams(format!(
                "this key has {} open streams, the most allowed; close one first",
                config.max_streams_per_key
            )));
        }
        *mine += 1;
        *total += 1;
        metrics.streams(*total);
        Ok(StreamSlot {
            slots: self.clone(),
            key_id: key_id.to_owned(),
            metrics: metrics.clone(),
        })
    }
}

/// One open stream (see [`StreamSlots`]).
#[derive(Debug)]
pub(crate) struct StreamSlot {
    slots: Arc<StreamSlots>,
    key_id: String,
    metrics: Metrics,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.lock();
        let (per_key, total) = &mut *open;
        if let Some(n) = per_key.get_mut(&self.key_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_key.remove(&self.key_id);
            }
        }
        *total = total.saturating_sub(1);
        self.metrics.streams(*total);
    }
}

/// What a stream carries: events for the client, or how many messages it missed.
type Item = Result<Event, u64>;

/// A stream being served: its events, its key (checked again every `stream_key_recheck`) and
/// its slot.
struct Live<S> {
    events: Pin<Box<S>>,
    recheck: tokio::time::Interval,
    state: AppState,
    key: KeyRef,
    _slot: StreamSlot,
    ended: bool,
}

/// The next event of a live stream; after `lagged` or `revoked`, the end. A reader that fell
/// behind the broadcast buffer is told how much it missed and dropped (it reconnects and reads
/// on from now), so nothing is buffered for it; a revoked key's stream is told and ended.
async fn next_event<S: Stream<Item = Item> + Send>(
    mut live: Live<S>,
) -> Option<(Result<Event, Infallible>, Live<S>)> {
    if live.ended {
        return None;
    }
    loop {
        tokio::select! {
            item = live.events.next() => {
                return match item? {
                    Ok(e) => Some((Ok(e), live)),
                    Err(skipped) => {
                        live.ended = true;
                        live.state.inner.metrics.stream_ended("lagged");
                        Some((Ok(event("lagged", &Lagged { skipped })), live))
                    }
                };
            }
            _ = live.recheck.tick() => {
                if let Err(e @ ApiError::Unauthorized(_)) = verify(&live.state, &live.key).await {
                    live.ended = true;
                    live.state.inner.metrics.stream_ended("revoked");
                    let notice = Revoked { detail: e.problem().detail };
                    return Some((Ok(event("revoked", &notice)), live));
                }
            }
        }
    }
}

/// Serves `events` as SSE while the key stays valid, in a slot of the stream caps.
fn serve_stream<S>(
    state: &AppState,
    caller: &Caller,
    key: KeyRef,
    events: S,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>> + use<S>>>
where
    S: Stream<Item = Item> + Send + 'static,
{
    let slot = state.inner.streams.take(state, &caller.key_id)?;
    let every = state
        .config()
        .stream_key_recheck
        .max(Duration::from_millis(10));
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let live = Live {
        events: Box::pin(events),
        recheck,
        state: state.clone(),
        key,
        _slot: slot,
        ended: false,
    };
    let stream = futures_util::stream::unfold(live, next_event);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(state.config().sse_keep_alive)))
}

/// The card of a streamed tick or alert; a store error leaves the event without it rather than
/// ending the stream.
async fn card_of(state: &AppState, id: ProductId) -> Option<CardRef> {
    match state.card_names().get(state.prices().as_ref(), id).await {
        Ok(card) => card.map(|c| (*c).clone()),
        Err(e) => {
            tracing::debug!(error = %e, product = id.0, "stream: card name not read");
            None
        }
    }
}

fn lag(e: BroadcastStreamRecvError) -> u64 {
    let BroadcastStreamRecvError::Lagged(n) = e;
    n
}

/// A live stream of ticks as the processor stores them (`text/event-stream`; events `tick`
/// with a `TickEvent` (the tick and its card) as data; `lagged` then the end when the client fell behind; `revoked` then the
/// end when the key is revoked).
#[utoipa::path(get, path = "/v1/stream/ticks", tag = "streams", params(TickParams),
    responses((status = 200, description = "Server-Sent Events: `tick` (TickEvent), `lagged` (Lagged), `revoked` (Revoked)", content_type = "text/event-stream", body = String),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem),
              (status = 429, description = "Over the key's or the server's cap of open streams, or the rate limit", body = crate::problem::Problem)))]
pub async fn ticks(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyRef,
    ApiQuery(q): ApiQuery<TickParams>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let product = q.product_id;
    let series = q.series.map(|s| s.0);
    let rx = state.tick_sender().subscribe();
    let names = state.clone();
    let events = BroadcastStream::new(rx).filter_map(move |msg| {
        let keep = match &msg {
            Ok(t) => {
                product.is_none_or(|p| t.series.product_id() == p)
                    && series.as_ref().is_none_or(|s| s.contains(&t.series_id))
            }
            Err(_) => true,
        };
        let state = names.clone();
        async move {
            match msg {
                Ok(tick) if keep => {
                    let card = card_of(&state, tick.series.product_id()).await;
                    Some(Ok(event("tick", &TickEvent { tick, card })))
                }
                Ok(_) => None,
                Err(e) => Some(Err(lag(e))),
            }
        }
    });
    serve_stream(&state, &caller, key, events)
}

/// A live stream of the caller's alerts (`text/event-stream`; events `alert` with an
/// `AlertView` (the alert and its card) as data; `lagged` and `revoked` as for ticks).
#[utoipa::path(get, path = "/v1/stream/alerts", tag = "streams", params(StreamAuthParams),
    responses((status = 200, description = "Server-Sent Events: `alert` (AlertView), `lagged` (Lagged), `revoked` (Revoked)", content_type = "text/event-stream", body = String),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem),
              (status = 429, description = "Over the key's or the server's cap of open streams, or the rate limit", body = crate::problem::Problem)))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyRef,
    ApiQuery(_q): ApiQuery<StreamAuthParams>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let rx = state.alert_sender().subscribe();
    let user = caller.user.clone();
    let names = state.clone();
    let events = BroadcastStream::new(rx).filter_map(move |msg| {
        let state = names.clone();
        let mine = msg.as_ref().map_or(true, |a| a.owner == user);
        async move {
            match msg {
                Ok(alert) if mine => {
                    let card = card_of(&state, alert.product_id).await;
                    Some(Ok(event("alert", &AlertView { alert, card })))
                }
                Ok(_) => None,
                Err(e) => Some(Err(lag(e))),
            }
        }
    });
    serve_stream(&state, &caller, key, events)
}
