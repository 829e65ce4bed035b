//! Webhook endpoints: where the caller's alerts are POSTed, signed with a per-endpoint secret
//! that is shown once, in the answer to the creation (or to a rotation). The delivery attempts
//! and why an endpoint was disabled are readable here; delivery itself is `tcg-webhooks`.

use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, Uri},
    response::Response,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::Timestamp;
use tcg_store::{DeliveryAttempt, Webhook, WebhookHealth, WebhookPatch};
use utoipa::IntoParams;

use crate::{
    auth::{Caller, random_hex},
    error::{ApiError, ApiResult},
    limits,
    openapi::api_schema,
    problem::{ApiJson, FieldError, Problem},
    query::{ApiQuery, QueryParams, check_limit, check_range, limit_or, opt},
    routes::{created, double_option},
    state::AppState,
};

/// A webhook endpoint (never with its secret).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Why delivery disabled the endpoint (a 410 answer, or failing for days); cleared when it is
    /// enabled again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
    /// The first failed attempt since the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// Until when deliveries also carry a signature with the secret before the last rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<Timestamp>,
    /// Deliveries waiting to be sent or retried.
    #[serde(default)]
    pub pending_deliveries: u64,
}

/// One delivery attempt of an alert to an endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryAttemptView {
    /// Increasing; pass as `before` to page back.
    pub attempt_id: i64,
    /// The alert, also sent as the `webhook-id` header (the same on every retry).
    pub alert_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub attempted_at: Timestamp,
    pub latency_ms: f64,
    /// `delivered`, `http_error`, `gone`, `timeout`, `network`, `refused` or `invalid`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The start of the response body (at most a few KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
}

/// An endpoint's delivery attempts, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryAttemptList {
    pub items: Vec<DeliveryAttemptView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// A rotated secret: shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WebhookSecretRotated {
    pub webhook: WebhookView,
    /// The new signing secret (`whsec_…`); store it now.
    pub secret: String,
    /// Deliveries carry a second signature with the previous secret until then.
    pub previous_secret_valid_until: Timestamp,
}

/// A webhook just created, with its signing secret: shown this once, never again.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WebhookCreated {
    pub webhook: WebhookView,
    /// HMAC-SHA256 signing secret (`whsec_…`); store it now.
    pub secret: String,
}

/// A new endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// `https://…` or `http://…` with a host, at most 2048 characters (the pattern:
    /// `crate::wire::webhook_url_pattern`).
    #[schemars(length(min = 1, max = 2048))]
    pub url: String,
    /// At most 200 characters.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub description: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Changes to an endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    /// `https://…` or `http://…` with a host, at most 2048 characters (the pattern:
    /// `crate::wire::webhook_url_pattern`).
    #[serde(default)]
    #[schemars(length(min = 1, max = 2048))]
    pub url: Option<String>,
    /// At most 200 characters; `null` clears it.
    #[serde(default, with = "double_option")]
    #[schemars(with = "Option<String>", length(max = 200))]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// The caller's endpoints.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

api_schema!(
    WebhookView,
    WebhookCreated,
    WebhookInput,
    WebhookUpdate,
    WebhookList,
    DeliveryAttemptList,
    WebhookSecretRotated
);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<WebhookView>();
    g.subschema_for::<WebhookCreated>();
    g.subschema_for::<WebhookInput>();
    g.subschema_for::<WebhookUpdate>();
    g.subschema_for::<WebhookList>();
    g.subschema_for::<DeliveryAttemptList>();
    g.subschema_for::<WebhookSecretRotated>();
}

fn view(w: Webhook) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url,
        description: w.description,
        enabled: w.enabled,
        created_at: w.created_at,
        updated_at: w.updated_at,
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        previous_secret_valid_until: None,
        pending_deliveries: 0,
    }
}

fn with_health(mut v: WebhookView, h: Option<&WebhookHealth>) -> WebhookView {
    if let Some(h) = h {
        v.disabled_reason = h.disabled_reason.clone();
        v.disabled_at = h.disabled_at;
        v.failing_since = h.failing_since;
        v.previous_secret_valid_until = h.previous_secret_until;
        v.pending_deliveries = h.pending_deliveries;
    }
    v
}

/// One endpoint's view with its delivery health.
async fn full_view(state: &AppState, caller: &Caller, w: Webhook) -> ApiResult<WebhookView> {
    let health = state
        .app()
        .webhook_health(&caller.user, Some(&w.id))
        .await?;
    Ok(with_health(view(w), health.first()))
}

/// A new signing secret: `whsec_` and 32 random bytes in hex (hex digits are base64 characters,
/// so Standard Webhooks libraries take the part after `whsec_` as a base64 key, as we do).
fn new_secret() -> String {
    format!("whsec_{}", random_hex(32))
}

/// An absolute http(s) URL of the documented form (`crate::wire::webhook_url_pattern`, or an
/// IP literal as the host), without credentials, as sent (no blanks around).
pub fn check_url(url: &str) -> Result<String, String> {
    if url.is_empty() || url.len() > 2048 {
        return Err("must be 1 to 2048 characters".into());
    }
    if let Some(problem) = crate::wire::webhook_url_problem(url) {
        return Err(problem.into());
    }
    let uri: Uri = url.parse().map_err(|_| "is not a URL".to_owned())?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        _ => return Err("must start with https:// or http://".into()),
    }
    let authority = uri.authority().ok_or("has no host")?;
    if authority.as_str().contains('@') {
        return Err("must not carry credentials".into());
    }
    if authority.host().is_empty() {
        return Err("has no host".into());
    }
    Ok(url.to_owned())
}

/// Refuses a target that resolves only to internal addresses (loopback, private, link-local,
/// unique-local, cloud metadata) unless the guard allows them. A name that does not resolve now
/// is accepted: the dispatcher resolves and checks it again before every delivery.
pub async fn check_target(
    guard: &tcg_address_guard::AddressGuard,
    url: &str,
) -> Result<(), String> {
    let Ok(uri) = url.parse::<Uri>() else {
        return Ok(());
    };
    let Some(authority) = uri.authority() else {
        return Ok(());
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    let addrs: Vec<std::net::SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => match tokio::time::timeout(
            std::time::Duration::from_secs(2),
            tokio::net::lookup_host((host, port)),
        )
        .await
        {
            Ok(Ok(found)) => found.collect(),
            _ => return Ok(()),
        },
    };
    if addrs.is_empty() {
        return Ok(());
    }
    guard.filter(host, addrs).map(|_| ()).map_err(|refused| {
        format!(
            "{}: internal addresses are refused unless allowed in the configuration ([webhooks] allow_private or allow_cidrs)",
            refused.detail
        )
    })
}

fn check_description(errors: &mut Vec<FieldError>, d: Option<&str>) {
    if d.is_some_and(|d| d.chars().count() > 200) {
        errors.push(FieldError::new("description", "at most 200 characters"));
    }
}

/// The caller's webhook endpoints.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "Endpoints", body = WebhookList)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WebhookList>> {
    let items = state.app().webhooks(&caller.user).await?;
    let health = state.app().webhook_health(&caller.user, None).await?;
    Ok(Json(WebhookList {
        items: items
            .into_iter()
            .map(|w| {
                let h = health.iter().find(|h| h.webhook_id == w.id);
                with_health(view(w), h)
            })
            .collect(),
    }))
}

/// Create an endpoint; the answer carries the signing secret, shown only this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, description = "Created (with the secret)", body = WebhookCreated),
              (status = 422, description = "Invalid fields, or a target the address guard refuses (an internal address, unless the configuration allows it)", body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<Response> {
    let mut errors = Vec::new();
    let url = check_url(&input.url).unwrap_or_else(|m| {
        errors.push(FieldError::new("url", m));
        String::new()
    });
    if !url.is_empty()
        && let Err(m) = check_target(&state.config().webhook_guard, &url).await
    {
        errors.push(FieldError::new("url", m));
    }
    check_description(&mut errors, input.description.as_deref());
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if limits::read(&state, state.app().webhooks(&caller.user))
        .await?
        .len()
        >= state.config().max_webhooks
    {
        return Err(ApiError::Conflict(format!(
            "at most {} webhooks per user",
            state.config().max_webhooks
        )));
    }
    let now = state.now();
    let secret = new_secret();
    let hook = Webhook {
        id: uuid::Uuid::new_v4().to_string(),
        owner: caller.user,
        url,
        description: input.description.filter(|d| !d.trim().is_empty()),
        enabled: input.enabled.unwrap_or(true),
        secret: secret.clone(),
        created_at: now,
        updated_at: now,
    };
    state.app().insert_webhook(&hook).await?;
    Ok(created(WebhookCreated {
        webhook: view(hook),
        secret,
    }))
}

fn parse_id(raw: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::NotFound(format!("no webhook {raw:?}")))
}

/// One endpoint (without its secret).
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, format = "uuid", description = "Webhook id (UUID)")),
    responses((status = 200, description = "The endpoint", body = WebhookView),
              (status = 404, description = "No such endpoint of the caller", body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let id = parse_id(&id)?;
    let w = state
        .app()
        .webhook(&caller.user, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))?;
    Ok(Json(full_view(&state, &caller, w).await?))
}

/// Change an endpoint's URL, description or enabled flag (the secret stays).
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, format = "uuid", description = "Webhook id (UUID)")), request_body = WebhookUpdate,
    responses((status = 200, description = "Updated", body = WebhookView),
              (status = 404, description = "No such endpoint of the caller", body = Problem),
              (status = 422, description = "Invalid fields, or a target the address guard refuses (an internal address, unless the configuration allows it)", body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<WebhookUpdate>,
) -> ApiResult<Json<WebhookView>> {
    let id = parse_id(&id)?;
    let mut errors = Vec::new();
    let url = match input.url.as_deref().map(check_url) {
        Some(Ok(u)) => match check_target(&state.config().webhook_guard, &u).await {
            Ok(()) => Some(u),
            Err(m) => {
                errors.push(FieldError::new("url", m));
                None
            }
        },
        Some(Err(m)) => {
            errors.push(FieldError::new("url", m));
            None
        }
        None => None,
    };
    if let Some(d) = &input.description {
        check_description(&mut errors, d.as_deref());
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let patch = WebhookPatch {
        url,
        description: input
            .description
            .map(|d| d.filter(|d| !d.trim().is_empty())),
        enabled: input.enabled,
    };
    let w = state
        .app()
        .update_webhook(&caller.user, &id, &patch, state.now())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))?;
    Ok(Json(full_view(&state, &caller, w).await?))
}

/// Delete an endpoint.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, format = "uuid", description = "Webhook id (UUID)")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such endpoint of the caller", body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    if state.app().delete_webhook(&caller.user, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no webhook {id}")))
    }
}

/// Query of `GET /v1/webhooks/{id}/deliveries`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// 1–200 (default 50).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Only attempts older than this `attempt_id` (from `next_before`).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1)]
    before: Option<i64>,
}

impl QueryParams for DeliveryParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        check_limit(errors, "limit", self.limit, state.config().max_page);
        if let Some(n) = self.before.filter(|n| *n <= 0) {
            errors.push(FieldError::new(
                "before",
                format!("\"{n}\" is not an attempt id"),
            ));
        }
    }
}

fn attempt_view(a: DeliveryAttempt) -> DeliveryAttemptView {
    DeliveryAttemptView {
        attempt_id: a.attempt_id,
        alert_id: a.alert_id,
        attempt: a.attempt,
        attempted_at: a.attempted_at,
        latency_ms: a.latency_us as f64 / 1000.0,
        outcome: a.outcome,
        status_code: a.status_code,
        error: a.error,
        response_body: a.response_body,
    }
}

/// An endpoint's delivery attempts (status, latency, error), newest first.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, format = "uuid", description = "Webhook id (UUID)"), DeliveryParams),
    responses((status = 200, description = "Attempts", body = DeliveryAttemptList),
              (status = 400, description = "Bad parameters", body = Problem),
              (status = 404, description = "No such endpoint of the caller", body = Problem)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<ApiQuery<DeliveryParams>, ApiError>,
) -> ApiResult<Json<DeliveryAttemptList>> {
    let id = parse_id(&id)?;
    let ApiQuery(q) = query?;
    let limit = limit_or(q.limit, 50);
    let before = q.before;
    let items = state
        .app()
        .webhook_attempts(&caller.user, &id, limit, before)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))?;
    let next_before = (items.len() == limit)
        .then(|| items.last().map(|a| a.attempt_id))
        .flatten();
    Ok(Json(DeliveryAttemptList {
        items: items.into_iter().map(attempt_view).collect(),
        next_before,
    }))
}

/// Query of `POST /v1/webhooks/{id}/rotate-secret`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RotateParams {
    /// How long the previous secret keeps signing, seconds: 0 to 604800 (default 86400).
    #[serde(default, deserialize_with = "opt")]
    #[param(maximum = 604_800)]
    grace_secs: Option<u32>,
}

impl QueryParams for RotateParams {
    fn check(&mut self, _state: &AppState, errors: &mut Vec<FieldError>) {
        check_range(errors, "grace_secs", self.grace_secs, 0, MAX_GRACE_SECS);
    }
}

/// Longest grace period of a rotated secret (7 days).
const MAX_GRACE_SECS: usize = 7 * 86_400;

/// Replace the signing secret. The answer carries the new secret, shown only this once; the
/// previous secret keeps signing deliveries (a second `v1,` signature) during the grace period.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, format = "uuid", description = "Webhook id (UUID)"), RotateParams),
    responses((status = 200, description = "Rotated (with the new secret)", body = WebhookSecretRotated),
              (status = 400, description = "Bad parameters", body = Problem),
              (status = 404, description = "No such endpoint of the caller", body = Problem)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<ApiQuery<RotateParams>, ApiError>,
) -> ApiResult<Json<WebhookSecretRotated>> {
    let id = parse_id(&id)?;
    let ApiQuery(q) = query?;
    let grace = q.grace_secs.map_or(86_400, i64::from);
    let now = state.now();
    let until = now.plus_secs(grace);
    let secret = new_secret();
    let w = state
        .app()
        .rotate_webhook_secret(&caller.user, &id, &secret, until, now)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))?;
    Ok(Json(WebhookSecretRotated {
        webhook: full_view(&state, &caller, w).await?,
        secret,
        previous_secret_valid_until: until,
    }))
}
