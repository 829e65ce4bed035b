//! Operational endpoints for admin keys.

use axum::{
    Json,
    extract::{Path, State},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{Timestamp, UserId};
use tcg_store::ApiKeyRecord;
use utoipa::IntoParams;

use crate::{
    auth::{Caller, revoke_key},
    error::ApiResult,
    openapi::api_schema,
    openapi::doc,
    problem::Problem,
    query::{ApiQuery, QueryParams},
    state::AppState,
};

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UserView {
    pub name: UserId,
    pub created_at: Timestamp,
    pub active_keys: u32,
    pub admin: bool,
}

/// Every user.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
}

/// An API key, never the key itself.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeyView {
    pub id: String,
    /// The non-secret part of the key (`tcg_<prefix>_…`).
    pub prefix: String,
    pub user: UserId,
    pub admin: bool,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// API keys.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KeyList {
    pub items: Vec<KeyView>,
}

api_schema!(UserList, KeyList, KeyView);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<UserList>();
    g.subschema_for::<KeyList>();
    g.subschema_for::<KeyView>();
}

fn key_view(k: ApiKeyRecord) -> KeyView {
    KeyView {
        id: k.id,
        prefix: k.prefix,
        user: k.user,
        admin: k.admin,
        created_at: k.created_at,
        revoked_at: k.revoked_at,
    }
}

/// Every user with the number of active keys (admin keys only).
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin",
    responses((status = 200, description = "Users", body = UserList),
              (status = 403, description = "Not an admin key", body = Problem)))]
pub async fn users(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<UserList>> {
    caller.require_admin()?;
    let users = state.app().users().await?;
    Ok(Json(UserList {
        items: users
            .into_iter()
            .map(|u| UserView {
                name: u.name,
                created_at: u.created_at,
                active_keys: u.active_keys,
                admin: u.admin,
            })
            .collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KeyParams {
    /// Only this user's keys.
    #[serde(default, deserialize_with = "crate::query::opt_serde")]
    #[param(value_type = Option<doc::UserId>)]
    user: Option<UserId>,
}

impl QueryParams for KeyParams {}

/// API keys, newest first (admin keys only).
#[utoipa::path(get, path = "/v1/admin/keys", tag = "admin", params(KeyParams),
    responses((status = 200, description = "Keys", body = KeyList),
              (status = 403, description = "Not an admin key", body = Problem)))]
pub async fn keys(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<KeyParams>,
) -> ApiResult<Json<KeyList>> {
    caller.require_admin()?;
    let keys = state.app().api_keys(q.user.as_ref()).await?;
    Ok(Json(KeyList {
        items: keys.into_iter().map(key_view).collect(),
    }))
}

/// Revoke a key by id or prefix (admin keys only). Takes effect at once on this instance, and
/// within the auth cache's time-to-live (3 s by default) on the others; the key's open streams
/// end within that and one stream re-check.
#[utoipa::path(delete, path = "/v1/admin/keys/{id}", tag = "admin",
    params(("id" = String, Path, description = "Key id or prefix")),
    responses((status = 200, description = "The revoked key", body = KeyView),
              (status = 403, description = "Not an admin key", body = Problem),
              (status = 404, description = "No such key", body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyView>> {
    caller.require_admin()?;
    let k = revoke_key(state.app().as_ref(), &id).await?;
    // This instance stops accepting it at once; others within their cache's time-to-live.
    state.inner.auth.forget(&k.id);
    Ok(Json(key_view(k)))
}
