//! The router: one table of routes (also used by the test that checks them against the spec).

pub mod admin;
pub mod cards;
pub mod ops;
pub mod portfolios;
pub mod rules;
pub mod streams;
pub mod web;
pub mod webhooks;

use std::str::FromStr;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    middleware::from_fn_with_state,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{
    auth,
    error::{ApiError, ApiResult},
    metrics,
    problem::FieldError,
    state::AppState,
};

/// Builds a router from `path => method(handler).method(handler);` lines and lists
/// (method, path) of every route.
macro_rules! table {
    ($( $path:literal => $first:ident($fh:path) $(. $m:ident($h:path))* ;)*) => {{
        let mut router: Router<AppState> = Router::new();
        let mut list: Vec<(&'static str, &'static str)> = Vec::new();
        $(
            router = router.route($path, axum::routing::$first($fh) $(.$m($h))*);
            list.push((stringify!($first), $path));
            $( list.push((stringify!($m), $path)); )*
        )*
        (router, list)
    }};
}

fn v1_routes() -> (Router<AppState>, Vec<(&'static str, &'static str)>) {
    table! {
        "/v1/cards" => get(cards::search);
        "/v1/sets" => get(cards::sets);
        "/v1/cards/{product_id}" => get(cards::card);
        "/v1/cards/{product_id}/history" => get(cards::history);
        "/v1/prices/latest" => get(cards::latest);
        "/v1/movers" => get(cards::movers);
        "/v1/portfolios" => get(portfolios::list).post(portfolios::create);
        "/v1/portfolios/{id}" => get(portfolios::get_one).patch(portfolios::rename).delete(portfolios::delete);
        "/v1/portfolios/{id}/holdings" => get(portfolios::holdings).post(portfolios::add_holding);
        "/v1/portfolios/{id}/holdings/{holding_id}" => get(portfolios::get_holding).patch(portfolios::update_holding).delete(portfolios::delete_holding);
        "/v1/portfolios/{id}/holdings/{holding_id}/sales" => post(portfolios::record_sale);
        "/v1/portfolios/{id}/events" => get(portfolios::events);
        "/v1/portfolios/{id}/valuation" => get(portfolios::valuation);
        "/v1/portfolios/{id}/history" => get(portfolios::history);
        "/v1/portfolios/{id}/export" => get(portfolios::export);
        "/v1/alert-rules" => get(rules::list).post(rules::create);
        "/v1/alert-rules/{id}" => get(rules::get_one).put(rules::replace).patch(rules::patch).delete(rules::delete);
        "/v1/alert-rules/{id}/pause" => post(rules::pause);
        "/v1/alert-rules/{id}/resume" => post(rules::resume);
        "/v1/alerts" => get(rules::alerts);
        "/v1/webhooks" => get(webhooks::list).post(webhooks::create);
        "/v1/webhooks/{id}" => get(webhooks::get_one).patch(webhooks::update).delete(webhooks::delete);
        "/v1/webhooks/{id}/deliveries" => get(webhooks::deliveries);
        "/v1/webhooks/{id}/rotate-secret" => post(webhooks::rotate_secret);
        "/v1/stream/ticks" => get(streams::ticks);
        "/v1/stream/alerts" => get(streams::alerts);
        "/v1/admin/users" => get(admin::users);
        "/v1/admin/keys" => get(admin::keys);
        "/v1/admin/keys/{id}" => delete(admin::revoke);
    }
}

fn public_routes() -> (Router<AppState>, Vec<(&'static str, &'static str)>) {
    table! {
        "/healthz" => get(ops::healthz);
        "/readyz" => get(ops::readyz);
        "/metrics" => get(ops::metrics);
        "/openapi.json" => get(ops::openapi_json);
        "/docs" => get(ops::docs);
        "/" => get(web::index);
        "/assets/{file}" => get(web::asset);
    }
}

const IMPORT_PATH: &str = "/v1/portfolios/{id}/import";

/// Every (method, path template) the router serves.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    let mut all = v1_routes().1;
    all.push(("post", IMPORT_PATH));
    all.extend(public_routes().1);
    all
}

/// The application: `/v1` (bearer key, per-key rate limit, JSON body limit) and the public
/// operational endpoints, with request metrics and problem+json for unknown paths and methods.
pub fn app(state: AppState) -> Router {
    let config = state.config().clone();
    let (v1, _) = v1_routes();
    let import = Router::new().route(
        IMPORT_PATH,
        axum::routing::post(portfolios::import)
            .layer(DefaultBodyLimit::max(config.import_body_limit)),
    );
    let v1 = v1
        .merge(import)
        .route_layer(from_fn_with_state(state.clone(), auth::require_key));
    let (public, _) = public_routes();
    v1.merge(public)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.json_body_limit))
        .layer(axum::middleware::map_response(problem_everywhere))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Any error answer that is not problem+json yet (a rejection of an extractor from axum itself)
/// becomes one, with the original text as `detail`.
async fn problem_everywhere(resp: Response) -> Response {
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(crate::problem::PROBLEM_JSON));
    if status.as_u16() < 400 || is_problem {
        return resp;
    }
    let (_, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    crate::problem::Problem::new(status, "about:blank", detail).into_response()
}

async fn not_found() -> Response {
    ApiError::NotFound("no such endpoint; see /openapi.json".into()).into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}

/// `201 Created` with a JSON body.
pub(crate) fn created<T: Serialize>(body: T) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// An id from the path; one that does not parse names nothing, so 404.
pub(crate) fn path_id<T: FromStr>(raw: &str, what: &str) -> ApiResult<T> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(format!("no {what} {raw:?}")))
}

/// Collects every bad query parameter before answering, so one 400 names them all.
#[derive(Debug, Default)]
pub(crate) struct Params {
    errors: Vec<FieldError>,
}

impl Params {
    /// Parses an optional parameter; records an error when present but invalid.
    pub(crate) fn opt<T>(
        &mut self,
        name: &str,
        raw: &Option<String>,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        match parse(raw) {
            Some(v) => Some(v),
            None => {
                self.errors
                    .push(FieldError::new(name, format!("{raw:?} is not {expected}")));
                None
            }
        }
    }

    pub(crate) fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(name, message));
    }

    pub(crate) fn finish(self) -> ApiResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidParams(self.errors))
        }
    }
}

/// A `limit` parameter within `1..=max`.
pub(crate) fn limit_param(
    p: &mut Params,
    raw: &Option<String>,
    default: usize,
    max: usize,
) -> usize {
    p.opt("limit", raw, &format!("an integer from 1 to {max}"), |s| {
        s.parse::<usize>().ok().filter(|n| (1..=max).contains(n))
    })
    .unwrap_or(default)
}
