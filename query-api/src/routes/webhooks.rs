//! Webhook endpoints: where the caller's alerts are POSTed, signed with a per-endpoint secret
//! that is shown once, in the answer to the creation.

use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, Uri},
    response::Response,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::Timestamp;
use tcg_store::{Webhook, WebhookPatch};

use crate::{
    auth::{Caller, random_hex},
    error::{ApiError, ApiResult},
    openapi::api_schema,
    problem::{ApiJson, FieldError, Problem},
    routes::{created, portfolios::double_option},
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
    /// `https://…` or `http://…`, at most 2048 characters.
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Changes to an endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    #[serde(default)]
    pub url: Option<String>,
    /// `null` clears it.
    #[serde(default, with = "double_option")]
    #[schemars(with = "Option<String>")]
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
    WebhookList
);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<WebhookView>();
    g.subschema_for::<WebhookCreated>();
    g.subschema_for::<WebhookInput>();
    g.subschema_for::<WebhookUpdate>();
    g.subschema_for::<WebhookList>();
}

fn view(w: Webhook) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url,
        description: w.description,
        enabled: w.enabled,
        created_at: w.created_at,
        updated_at: w.updated_at,
    }
}

/// An absolute http(s) URL with a host and without credentials.
pub fn check_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.is_empty() || url.len() > 2048 {
        return Err("must be 1 to 2048 characters".into());
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

fn check_description(errors: &mut Vec<FieldError>, d: Option<&str>) {
    if d.is_some_and(|d| d.chars().count() > 200) {
        errors.push(FieldError::new("description", "at most 200 characters"));
    }
}

/// The caller's webhook endpoints.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "Endpoints", body = WebhookList)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WebhookList>> {
    let items = state.accounts().webhooks(&caller.user).await?;
    Ok(Json(WebhookList {
        items: items.into_iter().map(view).collect(),
    }))
}

/// Create an endpoint; the answer carries the signing secret, shown only this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, description = "Created (with the secret)", body = WebhookCreated),
              (status = 422, description = "Invalid fields", body = Problem)))]
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
    check_description(&mut errors, input.description.as_deref());
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if state.accounts().webhooks(&caller.user).await?.len() >= state.config().max_webhooks {
        return Err(ApiError::Conflict(format!(
            "at most {} webhooks per user",
            state.config().max_webhooks
        )));
    }
    let now = state.now();
    let secret = format!("whsec_{}", random_hex(32));
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
    state.accounts().insert_webhook(&hook).await?;
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
    params(("id" = String, Path, description = "Webhook id (UUID)")),
    responses((status = 200, description = "The endpoint", body = WebhookView),
              (status = 404, description = "No such endpoint of the caller", body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let id = parse_id(&id)?;
    state
        .accounts()
        .webhook(&caller.user, &id)
        .await?
        .map(|w| Json(view(w)))
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))
}

/// Change an endpoint's URL, description or enabled flag (the secret stays).
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id (UUID)")), request_body = WebhookUpdate,
    responses((status = 200, description = "Updated", body = WebhookView),
              (status = 404, description = "No such endpoint of the caller", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<WebhookUpdate>,
) -> ApiResult<Json<WebhookView>> {
    let id = parse_id(&id)?;
    let mut errors = Vec::new();
    let url = match input.url.as_deref().map(check_url) {
        Some(Ok(u)) => Some(u),
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
    state
        .accounts()
        .update_webhook(&caller.user, &id, &patch, state.now())
        .await?
        .map(|w| Json(view(w)))
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))
}

/// Delete an endpoint.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id (UUID)")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such endpoint of the caller", body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    if state.accounts().delete_webhook(&caller.user, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no webhook {id}")))
    }
}
