//! Bounded work per request: a slot per request that uses the stores (a semaphore, with a smaller
//! one for the portfolio-wide reads), a deadline over every read request and over each store read
//! of a write request, and the size of a request's head (414, 431 as problem+json).
//!
//! A request waits for its slot up to [`ApiConfig::store_deadline`] (503 `saturated` beyond); a
//! read request (`GET`, `HEAD`) then runs whole under the deadline: past it the handler's future
//! is dropped (the work stops at its next await) and the answer is 503. A write request is never
//! cut between two writes: only its reads are bounded, one by one, by [`read`], and its body is
//! read before it takes a slot. A client that hangs up drops the handler's future the same way.
//!
//! [`ApiConfig::store_deadline`]: crate::ApiConfig::store_deadline

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::BodyExt;
use tcg_store::StoreError;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::{Instant, timeout, timeout_at},
};

use crate::{
    auth::QUERY_TOKEN_ROUTES,
    error::{ApiError, ApiResult},
    state::{ApiConfig, AppState},
};

/// The CSV import: its body may be larger than a JSON body.
const IMPORT_ROUTE: &str = "/v1/portfolios/{id}/import";

/// Routes that read every holding of a portfolio: they also take a heavy slot. A portfolio's
/// value history takes one only to compute an answer the response cache does not hold
/// ([`heavy_slot`]).
pub const HEAVY_ROUTES: &[&str] = &[
    "/v1/portfolios/{id}/valuation",
    "/v1/portfolios/{id}/export",
    "/v1/portfolios/{id}/import",
];

/// The slots of requests that use the stores.
#[derive(Debug)]
pub(crate) struct Gate {
    reads: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
    max_reads: usize,
}

impl Gate {
    pub(crate) fn new(config: &ApiConfig) -> Self {
        let max_reads = config.max_concurrent_reads.max(1);
        Self {
            reads: Arc::new(Semaphore::new(max_reads)),
            heavy: Arc::new(Semaphore::new(config.max_concurrent_heavy_reads.max(1))),
            max_reads,
        }
    }

    /// Every slot is taken: new requests wait.
    pub(crate) fn saturated(&self) -> bool {
        self.reads.available_permits() == 0
    }

    /// Requests holding a slot now.
    pub(crate) fn in_flight(&self) -> usize {
        self.max_reads
            .saturating_sub(self.reads.available_permits())
    }
}

async fn slot(
    semaphore: &Arc<Semaphore>,
    deadline: Instant,
) -> Result<OwnedSemaphorePermit, ApiError> {
    match timeout_at(deadline, semaphore.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        // Timed out, or closed (never: the gate lives as long as the state).
        Ok(Err(_)) | Err(_) => Err(ApiError::Saturated),
    }
}

/// Middleware of the `/v1` routes (inside authentication). A write request's body is read
/// first (within `body_read_timeout` and the route's size limit), so that a slow upload holds
/// no slot. Then a slot is taken (and a heavy one for [`HEAVY_ROUTES`]), waiting up to the
/// deadline (503 `saturated` beyond), and a read request runs under the deadline from there
/// (503 beyond). Streams take no slot (they are capped by [`crate::routes::streams`]).
pub(crate) async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    if QUERY_TOKEN_ROUTES.contains(&route.as_str()) {
        return next.run(req).await;
    }
    let read_only = matches!(*req.method(), Method::GET | Method::HEAD);
    let req = if read_only {
        req
    } else {
        match buffer_body(&state, &route, req).await {
            Ok(req) => req,
            Err(e) => return e.into_response(),
        }
    };
    let config = state.config();
    let gate = &state.inner.gate;
    let metrics = &state.inner.metrics;
    let slots = match take_slots(gate, &route, config.store_deadline).await {
        Ok(slots) => slots,
        Err(e) => {
            metrics.saturated(&route);
            return e.into_response();
        }
    };
    metrics.reads_in_flight(gate.in_flight());
    let resp = if read_only {
        match timeout(config.store_deadline, next.run(req)).await {
            Ok(resp) => resp,
            Err(_) => {
                metrics.deadline_exceeded(&route);
                ApiError::StoreDeadline(config.store_deadline).into_response()
            }
        }
    } else {
        next.run(req).await
    };
    drop(slots);
    metrics.reads_in_flight(gate.in_flight());
    resp
}

/// A heavy slot, for work that values a whole portfolio outside [`HEAVY_ROUTES`]; waits up to
/// the store deadline (a read request's own deadline, counted from its first slot, usually
/// ends the wait first: 503 either way).
pub(crate) async fn heavy_slot(state: &AppState) -> ApiResult<OwnedSemaphorePermit> {
    let deadline = Instant::now() + state.config().store_deadline;
    slot(&state.inner.gate.heavy, deadline).await
}

/// A slot, and a heavy one for [`HEAVY_ROUTES`], both within `wait`.
async fn take_slots(
    gate: &Gate,
    route: &str,
    wait: Duration,
) -> ApiResult<(OwnedSemaphorePermit, Option<OwnedSemaphorePermit>)> {
    let deadline = Instant::now() + wait;
    let read = slot(&gate.reads, deadline).await?;
    let heavy = if HEAVY_ROUTES.contains(&route) {
        Some(slot(&gate.heavy, deadline).await?)
    } else {
        None
    };
    Ok((read, heavy))
}

/// The request with its body read into memory: 413 over the route's limit, 408 when it does not
/// arrive within `body_read_timeout`.
async fn buffer_body(state: &AppState, route: &str, req: Request) -> ApiResult<Request> {
    let config = state.config();
    let limit = if route == IMPORT_ROUTE {
        config.import_body_limit
    } else {
        config.json_body_limit
    };
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, limit);
    let read = timeout(config.body_read_timeout, limited.collect())
        .await
        .map_err(|_| ApiError::BodyTimeout(config.body_read_timeout))?;
    match read {
        Ok(collected) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::PayloadTooLarge),
        Err(e) => Err(ApiError::BadRequest(format!("cannot read the body: {e}"))),
    }
}

/// One store read under [`ApiConfig::store_deadline`] (503 beyond it).
pub(crate) async fn read<T>(
    state: &AppState,
    fut: impl Future<Output = Result<T, StoreError>>,
) -> ApiResult<T> {
    let deadline = state.config().store_deadline;
    within(deadline, fut).await
}

/// `fut` under `deadline`: its own error, or [`ApiError::StoreDeadline`].
pub(crate) async fn within<T, E: Into<ApiError>>(
    deadline: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> ApiResult<T> {
    match timeout(deadline, fut).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(ApiError::StoreDeadline(deadline)),
    }
}

/// Middleware of the whole app: a request target over [`ApiConfig::max_uri_bytes`] answers 414,
/// a head over [`ApiConfig::max_header_bytes`] or with more than [`ApiConfig::max_headers`]
/// fields 431, both as problem+json. (The server's own limits, larger, answer bare 414/431 for
/// what is larger still: see [`crate::serve`].)
pub(crate) async fn head_size(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let config = state.config();
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > config.max_uri_bytes {
        return ApiError::UriTooLong {
            max: config.max_uri_bytes,
        }
        .into_response();
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers.len() > config.max_headers || bytes > config.max_header_bytes {
        return ApiError::HeadersTooLarge {
            max_bytes: config.max_header_bytes,
            max_fields: config.max_headers,
        }
        .into_response();
    }
    next.run(req).await
}
