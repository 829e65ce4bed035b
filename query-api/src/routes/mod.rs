//! The router and the OpenAPI paths, from one list: every route is registered with
//! `utoipa_axum::routes!`, which takes its method and path from the handler's
//! `#[utoipa::path]`, so a route cannot be served undocumented, nor documented unserved.

pub mod admin;
pub mod cards;
pub mod ops;
pub mod params;
pub mod portfolios;
pub mod rules;
pub mod sources;
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
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use crate::{
    auth,
    error::{ApiError, ApiResult},
    limits, metrics,
    state::AppState,
};

use self::{
    cards::{candles, prices},
    portfolios::{csv, holdings, valuation},
};

/// The `/v1` routes (they need a key). `import_body_limit` bounds the CSV import's body.
fn v1_routes(import_body_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cards::search))
        .routes(routes!(cards::sets))
        .routes(routes!(cards::card))
        .routes(routes!(candles::history))
        .routes(routes!(prices::latest))
        .routes(routes!(prices::movers))
        .routes(routes!(sources::list))
        .routes(routes!(sources::rejections))
        .routes(routes!(sources::unmapped))
        .routes(routes!(portfolios::list, portfolios::create))
        .routes(routes!(
            portfolios::get_one,
            portfolios::rename,
            portfolios::delete
        ))
        .routes(routes!(holdings::holdings, holdings::add_holding))
        .routes(routes!(
            holdings::get_holding,
            holdings::update_holding,
            holdings::delete_holding
        ))
        .routes(routes!(holdings::record_sale))
        .routes(routes!(holdings::events))
        .routes(routes!(valuation::valuation))
        .routes(routes!(valuation::history))
        .routes(routes!(csv::export))
        .routes(routes!(csv::import).layer(DefaultBodyLimit::max(import_body_limit)))
        .routes(routes!(csv::undo_import))
        .routes(routes!(rules::list, rules::create))
        .routes(routes!(
            rules::get_one,
            rules::replace,
            rules::patch,
            rules::delete
        ))
        .routes(routes!(rules::pause))
        .routes(routes!(rules::resume))
        .routes(routes!(rules::alerts))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(
            webhooks::get_one,
            webhooks::update,
            webhooks::delete
        ))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(streams::ticks))
        .routes(routes!(streams::alerts))
        .routes(routes!(admin::users))
        .routes(routes!(admin::keys))
        .routes(routes!(admin::revoke))
}

/// The routes that need no key.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi_json))
        .routes(routes!(ops::docs))
        .routes(routes!(web::index))
        .routes(routes!(web::asset))
}

/// The OpenAPI paths of every route (what [`crate::openapi`] completes into the document).
pub(crate) fn openapi_paths() -> utoipa::openapi::OpenApi {
    v1_routes(0).merge(public_routes()).into_openapi()
}

/// Every (method, path template) the router serves, as registered.
pub fn route_table() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (path, item) in openapi_paths().paths.paths {
        let methods = [
            ("get", &item.get),
            ("put", &item.put),
            ("post", &item.post),
            ("delete", &item.delete),
            ("options", &item.options),
            ("head", &item.head),
            ("patch", &item.patch),
            ("trace", &item.trace),
        ];
        for (method, op) in methods {
            if op.is_some() {
                all.push((method.to_owned(), path.clone()));
            }
        }
    }
    all
}

/// The application: `/v1` (bearer key, per-key rate limit, a slot and a deadline per request,
/// JSON body limit) and the public operational endpoints, with request metrics, head-size limits,
/// problem+json for unknown paths and methods, `304` for a conditional GET of an unchanged
/// answer, and compressed bodies when the client accepts them.
pub fn app(state: AppState) -> Router {
    let config = state.config().clone();
    let (v1, _) = v1_routes(config.import_body_limit)
        .route_layer(from_fn_with_state(state.clone(), limits::gate))
        .route_layer(from_fn_with_state(state.clone(), auth::require_key))
        .split_for_parts();
    let (public, _) = public_routes().split_for_parts();
    v1.merge(public)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(crate::not_modified::not_modified))
        .layer(DefaultBodyLimit::max(config.json_body_limit))
        .layer(axum::middleware::map_response(problem_everywhere))
        .layer(from_fn_with_state(state.clone(), limits::head_size))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        // gzip or br when the client asks (not for SSE, images or tiny bodies: tower-http's
        // default predicate)
        .layer(tower_http::compression::CompressionLayer::new())
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

/// Distinguishes a missing field (`None`) from `null` (`Some(None)`).
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}
