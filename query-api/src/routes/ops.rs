//! Health, readiness, metrics and the API description.

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::{error::ApiError, openapi::api_schema, problem::Problem, state::AppState};

/// Liveness and readiness.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// `ok` (alive) or `ready` (the stores answer).
    pub status: String,
    /// The tick store backend (`sqlite` or `questdb`), on `/readyz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// On `/readyz` of a process that runs the collectors: each price source's health. A
    /// source that is down does not make the API unready (it still serves what it has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<tcg_schemas::SourceHealth>,
}
api_schema!(Health, Problem);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Health>();
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        store: None,
        sources: Vec::new(),
    })
}

/// The tick store and the account store answer, and a slot for store reads is free; the
/// sources' health is given as detail.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "A store does not answer, or the store is saturated (type `urn:tcgtracker:problem:saturated`: every slot for store reads is taken)", body = Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let gate = &state.inner.gate;
    if gate.saturated() {
        return Err(ApiError::Saturated);
    }
    let store = state.prices();
    let probe = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        store.product(tcg_schemas::ProductId(0)).await?;
        state.app().ping().await
    })
    .await;
    match probe {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ready".into(),
            store: Some(store.backend().into()),
            sources: state
                .source_reports()
                .map(|r| r.sources())
                .unwrap_or_default(),
        })),
        Ok(Err(e)) => Err(ApiError::Unavailable(format!("store not reachable: {e}"))),
        Err(_) => Err(ApiError::Unavailable(
            "store did not answer within 5 s".into(),
        )),
    }
}

/// Prometheus metrics: `tcg_api_requests_total{method,route,status}` and
/// `tcg_api_request_duration_seconds{method,route}` (histogram).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut resp = state.render_metrics().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Response {
    (StatusCode::OK, Json(crate::openapi::spec())).into_response()
}

/// A self-contained HTML page describing the API (reads `/openapi.json`; loads nothing external).
/// Its Content-Security-Policy allows its own inline script and style by their SHA-256 hashes,
/// connections to this origin, and nothing else.
#[utoipa::path(get, path = "/docs", tag = "ops",
    responses((status = 200, description = "HTML docs", content_type = "text/html", body = String)))]
pub async fn docs() -> Response {
    let mut resp = Html(crate::openapi::DOCS_HTML).into_response();
    let h = resp.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(docs_csp()) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// `'sha256-…'` of the text of each `<tag>…</tag>` element of `html`.
pub fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    html.split(open.as_str())
        .skip(1)
        .filter_map(|rest| rest.split_once(close.as_str()).map(|(text, _)| text))
        .map(|text| {
            let digest = Sha256::digest(text.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect()
}

/// The Content-Security-Policy of `/docs` (computed once from the page).
pub fn docs_csp() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        let html = crate::openapi::DOCS_HTML;
        format!(
            "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self' data:; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            inline_hashes(html, "script").join(" "),
            inline_hashes(html, "style").join(" ")
        )
    })
}
