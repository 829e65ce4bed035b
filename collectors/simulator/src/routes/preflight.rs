//! The pre-flight of every data request, as one middleware: TCGCSV's User-Agent rule, the request
//! counter, the fault drawn for the request (429/503 with Retry-After, 500, a hang, an early
//! "expired" token, a malformed body) and the bearer token of authenticated upstreams. Also the
//! tokens themselves, which the token endpoints issue.

use std::{
    marker::PhantomData,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    handler::Handler,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{Next, from_fn_with_state},
    response::Response,
    routing::{MethodRouter, get},
};

use super::status;
use crate::{
    state::{Fault, SimState},
    stats::Endpoint,
};

/// Marks a response as data, so that a malformed fault may cut it (error answers stay whole).
#[derive(Debug, Clone, Copy)]
pub(super) struct Truncatable;

/// The flag of the request's valid bearer token (eBay: 1 when it has the insights scope).
#[derive(Debug, Clone, Copy)]
pub(super) struct TokenFlag(pub(super) u8);

/// What the pre-flight of a group of data routes checks. `P` is the route's typed path, parsed
/// first: a path that does not parse is refused as axum refuses it, before anything is counted
/// (as when the handlers extracted it before their pre-flight).
#[derive(Debug)]
pub(super) struct Gate<P = ()> {
    state: Arc<SimState>,
    endpoint: Endpoint,
    /// The prefix of the upstream's bearer tokens; `None` for open upstreams.
    token_prefix: Option<&'static str>,
    /// Refuse generic User-Agents (TCGCSV), before anything is counted.
    custom_user_agent: bool,
    path: PhantomData<fn() -> P>,
}

impl<P> Clone for Gate<P> {
    fn clone(&self) -> Self {
        Gate {
            state: self.state.clone(),
            endpoint: self.endpoint,
            token_prefix: self.token_prefix,
            custom_user_agent: self.custom_user_agent,
            path: PhantomData,
        }
    }
}

impl Gate {
    pub(super) fn new(state: &Arc<SimState>, endpoint: Endpoint) -> Self {
        Gate {
            state: state.clone(),
            endpoint,
            token_prefix: None,
            custom_user_agent: false,
            path: PhantomData,
        }
    }
}

impl<P> Gate<P>
where
    P: FromRequestParts<Gate<P>> + Send + 'static,
{
    /// Requests need a bearer token issued with `prefix`.
    pub(super) fn bearer(mut self, prefix: &'static str) -> Self {
        self.token_prefix = Some(prefix);
        self
    }

    /// Requests need a custom User-Agent.
    pub(super) fn custom_user_agent(mut self) -> Self {
        self.custom_user_agent = true;
        self
    }

    /// The same checks for a route whose path parses as `Q` (e.g. `Path<u64>`).
    pub(super) fn parsing<Q>(&self) -> Gate<Q> {
        Gate {
            state: self.state.clone(),
            endpoint: self.endpoint,
            token_prefix: self.token_prefix,
            custom_user_agent: self.custom_user_agent,
            path: PhantomData,
        }
    }

    /// A GET route behind this pre-flight (other methods get 405 without it, as before).
    pub(super) fn get<H, T>(&self, handler: H) -> MethodRouter<Arc<SimState>>
    where
        H: Handler<T, Arc<SimState>>,
        T: 'static,
    {
        get(handler).route_layer(from_fn_with_state(self.clone(), preflight::<P>))
    }
}

/// The middleware: answers now (fault, User-Agent, token) or runs the handler, then cuts a data
/// body in half when the request drew the malformed fault.
async fn preflight<P>(
    State(gate): State<Gate<P>>,
    _path: P,
    mut request: Request,
    next: Next,
) -> Response {
    if gate.custom_user_agent && generic_user_agent(request.headers()) {
        return status(StatusCode::UNAUTHORIZED, "a custom User-Agent is required");
    }
    let s = &gate.state;
    s.stats.hit(gate.endpoint);
    let fault = s.next_fault(gate.token_prefix.is_some());
    if let Some(refused) = apply_fault(s, fault).await {
        return refused;
    }
    if let Some(prefix) = gate.token_prefix {
        match bearer_token(request.headers()).and_then(|t| check_token(s, t, prefix)) {
            Some(flag) => {
                request.extensions_mut().insert(TokenFlag(flag));
            }
            None => return status(StatusCode::UNAUTHORIZED, "invalid or expired token"),
        }
    }
    let response = next.run(request).await;
    if fault == Fault::Malformed && response.extensions().get::<Truncatable>().is_some() {
        truncate(response).await
    } else {
        response
    }
}

/// The answer a fault forces, if any (a hang waits, then lets the request go on).
async fn apply_fault(s: &SimState, fault: Fault) -> Option<Response> {
    match fault {
        Fault::TooMany | Fault::Unavailable => {
            let code = if fault == Fault::TooMany {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let mut r = status(code, "slow down");
            if let Ok(v) = HeaderValue::from_str(&s.config.faults.retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(r)
        }
        Fault::ServerError => Some(status(StatusCode::INTERNAL_SERVER_ERROR, "internal error")),
        Fault::ExpiredToken => Some(status(StatusCode::UNAUTHORIZED, "token expired")),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_millis(s.config.faults.hang_ms)).await;
            None
        }
        Fault::None | Fault::Malformed => None,
    }
}

/// The first half of the body (truncated JSON or XML, status 200).
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
        }
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR, "encode"),
    }
}

fn generic_user_agent(headers: &HeaderMap) -> bool {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    ua.is_empty()
        || [
            "python-requests",
            "curl/",
            "wget",
            "reqwest",
            "go-http-client",
            "okhttp",
            "axios",
        ]
        .iter()
        .any(|g| ua.starts_with(g))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
}

/// Issues `{prefix}.{generation}.{issued}.{ttl}.{n}.{flag}`.
pub(super) fn issue_token(s: &SimState, prefix: &str, ttl: u64, flag: u8) -> String {
    let n = s.token_no.fetch_add(1, Ordering::Relaxed);
    let generation = s.token_generation.load(Ordering::Relaxed);
    format!("{prefix}.{generation}.{}.{ttl}.{n}.{flag}", s.now_secs())
}

/// The token's flag if it is ours, of this generation and not expired.
fn check_token(s: &SimState, token: &str, prefix: &str) -> Option<u8> {
    let mut parts = token.strip_prefix(prefix)?.strip_prefix('.')?.split('.');
    let generation: u64 = parts.next()?.parse().ok()?;
    let issued: i64 = parts.next()?.parse().ok()?;
    let ttl: i64 = parts.next()?.parse().ok()?;
    let _n: u64 = parts.next()?.parse().ok()?;
    let flag: u8 = parts.next()?.parse().ok()?;
    let fresh =
        generation == s.token_generation.load(Ordering::Relaxed) && s.now_secs() < issued + ttl;
    fresh.then_some(flag)
}
