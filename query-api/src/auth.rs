//! API keys: `tcg_<prefix>_<secret>`, stored as SHA-256 with the prefix for lookup; the bearer
//! middleware (authentication, then the per-key rate limit); key management for the CLI.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, MatchedPath, Request, State},
    http::{HeaderValue, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tcg_schemas::{Timestamp, UserId};
use tcg_store::{AccountStore, ApiKeyRecord};

use crate::{error::ApiError, limits, state::ApiConfig, state::AppState};

/// Who is calling: set by the bearer middleware on every `/v1` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub admin: bool,
    pub key_id: String,
}

impl Caller {
    /// 403 unless the key is an admin key.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this endpoint needs an admin key".into(),
            ))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("missing API key".into()))
    }
}

/// Lower-case hex of SHA-256 of the whole key: what is stored.
pub fn hash_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// `n` random bytes as hex, from the thread's CSPRNG (ChaCha seeded by the OS).
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    hex(&buf)
}

/// The prefix of a well-formed key.
fn key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("tcg_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 12
        && secret.len() == 64
        && prefix.bytes().all(|b| b.is_ascii_hexdigit())
        && secret.bytes().all(|b| b.is_ascii_hexdigit()))
    .then_some(prefix)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A key just created: `key` is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKey {
    pub key: String,
    pub record: ApiKeyRecord,
}

/// Creates a key for `user` (creating the user too); returns the key, to be shown once.
/// Wired as `tcgtracker keys create --user NAME [--admin]`.
pub async fn create_key(
    accounts: &dyn AccountStore,
    user: &str,
    admin: bool,
) -> Result<CreatedKey, ApiError> {
    let name = user.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(ApiError::field(
            "user",
            "1 to 64 characters: letters, digits, - _ . @",
        ));
    }
    let prefix = random_hex(6);
    let key = format!("tcg_{prefix}_{}", random_hex(32));
    let record = ApiKeyRecord {
        id: uuid::Uuid::new_v4().to_string(),
        prefix,
        hash: hash_key(&key),
        user: UserId(name.to_owned()),
        admin,
        created_at: Timestamp::from(chrono::Utc::now()),
        revoked_at: None,
    };
    accounts.insert_api_key(&record).await?;
    Ok(CreatedKey { key, record })
}

/// Revokes a key by its id or prefix (a whole key is accepted too: its prefix is used).
/// Wired as `tcgtracker keys revoke KEY_PREFIX_OR_ID`. 404 when there is no such key.
pub async fn revoke_key(
    accounts: &dyn AccountStore,
    id_or_prefix: &str,
) -> Result<ApiKeyRecord, ApiError> {
    let needle = key_prefix(id_or_prefix.trim()).unwrap_or(id_or_prefix.trim());
    accounts
        .revoke_api_key(needle, Timestamp::from(chrono::Utc::now()))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no API key {needle:?}")))
}

/// A `tcgtracker keys …` command (the binary parses its flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysCommand {
    /// Create a key for `user` (created if new) and print it once.
    Create { user: String, admin: bool },
    /// Revoke a key by its id or prefix.
    Revoke { key: String },
    /// List keys (never the keys themselves), optionally of one user.
    List { user: Option<String> },
}

/// Runs a `keys` command and returns what to print.
pub async fn run_keys_command(
    accounts: &dyn AccountStore,
    command: &KeysCommand,
) -> Result<String, ApiError> {
    match command {
        KeysCommand::Create { user, admin } => {
            let created = create_key(accounts, user, *admin).await?;
            Ok(format!(
                "{}\n# key id {} (prefix {}) for user {}{}; this key is shown once, store it now",
                created.key,
                created.record.id,
                created.record.prefix,
                created.record.user,
                if *admin { ", admin" } else { "" }
            ))
        }
        KeysCommand::Revoke { key } => {
            let r = revoke_key(accounts, key).await?;
            Ok(format!(
                "revoked key {} (prefix {}) of {}",
                r.id, r.prefix, r.user
            ))
        }
        KeysCommand::List { user } => {
            let keys = accounts.api_keys(user.clone().map(UserId).as_ref()).await?;
            Ok(keys
                .iter()
                .map(|k| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        k.id,
                        k.prefix,
                        k.user,
                        if k.admin { "admin" } else { "user" },
                        k.revoked_at
                            .map_or("active".to_owned(), |t| format!("revoked {t}"))
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

type KeyLimiter = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// Most verified keys remembered at once.
const CACHE_CAPACITY: u64 = 100_000;

/// Verified keys remembered briefly (moka, time-to-live `auth_cache_ttl`), and the per-key rate
/// limiter.
pub(crate) struct AuthCache {
    /// By SHA-256 of the key; `None` when the time-to-live is zero.
    verified: Option<moka::sync::Cache<String, Caller>>,
    limiter: Arc<KeyLimiter>,
}

impl AuthCache {
    pub(crate) fn new(config: &ApiConfig) -> Self {
        let quota = Quota::per_second(config.rate_per_sec).allow_burst(config.rate_burst);
        let verified = (!config.auth_cache_ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_live(config.auth_cache_ttl)
                .build()
        });
        Self {
            verified,
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    fn cached(&self, hash: &str) -> Option<Caller> {
        self.verified.as_ref()?.get(hash)
    }

    fn remember(&self, hash: String, caller: Caller) {
        if let Some(cache) = &self.verified {
            cache.insert(hash, caller);
        }
    }

    /// Forgets a key at once (it was revoked through this instance).
    pub(crate) fn forget(&self, key_id: &str) {
        if let Some(cache) = &self.verified {
            let stale: Vec<Arc<String>> = cache
                .iter()
                .filter(|(_, c)| c.key_id == key_id)
                .map(|(hash, _)| hash)
                .collect();
            for hash in stale {
                cache.invalidate(hash.as_str());
            }
        }
    }

    fn check_rate(&self, key_id: &str) -> Result<(), ApiError> {
        self.limiter
            .check_key(&key_id.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::RateLimited {
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                }
            })
    }
}

/// The key a request was authenticated with, without its secret: its prefix and hash, enough
/// to check it again (open streams do, every `stream_key_recheck`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    prefix: String,
    hash: String,
}

impl<S: Send + Sync> FromRequestParts<S> for KeyRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<KeyRef>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("missing API key".into()))
    }
}

fn invalid() -> ApiError {
    ApiError::Unauthorized("the API key is not valid".into())
}

async fn authenticate(
    state: &AppState,
    header_value: Option<&str>,
) -> Result<(Caller, KeyRef), ApiError> {
    let value = header_value.ok_or_else(|| {
        ApiError::Unauthorized("send the API key as `Authorization: Bearer <key>`".into())
    })?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::Unauthorized("the Authorization scheme must be Bearer".into()))?;
    let key_ref = KeyRef {
        prefix: key_prefix(key).ok_or_else(invalid)?.to_owned(),
        hash: hash_key(key),
    };
    let caller = verify(state, &key_ref).await?;
    Ok((caller, key_ref))
}

/// The key's caller: from the cache, or from the account store (under the store deadline) when
/// the key is unknown there or its entry expired. 401 for an unknown or revoked key.
pub(crate) async fn verify(state: &AppState, key: &KeyRef) -> Result<Caller, ApiError> {
    let cache = &state.inner.auth;
    if let Some(caller) = cache.cached(&key.hash) {
        return Ok(caller);
    }
    let record = limits::read(state, state.inner.app.api_key_by_prefix(&key.prefix))
        .await?
        .ok_or_else(invalid)?;
    if !constant_time_eq(record.hash.as_bytes(), key.hash.as_bytes()) || record.revoked_at.is_some()
    {
        return Err(invalid());
    }
    let caller = Caller {
        user: record.user,
        admin: record.admin,
        key_id: record.id,
    };
    cache.remember(key.hash.clone(), caller.clone());
    Ok(caller)
}

/// Routes that also take the key as `?access_token=` (browsers' `EventSource` cannot send
/// headers). Nowhere else: a key in a URL can end up in logs and histories.
pub const QUERY_TOKEN_ROUTES: &[&str] = &["/v1/stream/ticks", "/v1/stream/alerts"];

/// `access_token` of a stream route's query string, as `Bearer <key>`.
fn query_token(req: &Request) -> Option<String> {
    let route = req.extensions().get::<MatchedPath>()?.as_str();
    if !QUERY_TOKEN_ROUTES.contains(&route) {
        return None;
    }
    let query = req.uri().query()?;
    query.split('&').find_map(|pair| {
        let value = pair
            .strip_prefix("access_token=")
            .filter(|v| !v.is_empty())?;
        // Keys are `tcg_<hex>_<hex>`: nothing to percent-decode.
        Some(format!("Bearer {value}"))
    })
}

/// The bearer middleware of `/v1`: 401 without a valid key, 429 over the key's rate. The stream
/// routes ([`QUERY_TOKEN_ROUTES`]) also accept `?access_token=<key>` when no header is sent.
/// Every answer carries `Cache-Control: no-store` (they are the caller's own data, secrets
/// among them), unless the route set its own (`private, max-age` on history, latest prices and
/// movers: market data, the same for every caller).
pub(crate) async fn require_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let header_value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query_token(&req));
    let mut resp = match authenticate(&state, header_value.as_deref()).await {
        Ok((caller, key_ref)) => match state.inner.auth.check_rate(&caller.key_id) {
            Ok(()) => {
                req.extensions_mut().insert(caller);
                req.extensions_mut().insert(key_ref);
                next.run(req).await
            }
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    };
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape() {
        let prefix = random_hex(6);
        let key = format!("tcg_{prefix}_{}", random_hex(32));
        assert_eq!(key_prefix(&key), Some(prefix.as_str()));
        assert_eq!(key_prefix("tcg_short_abc"), None);
        assert_eq!(key_prefix("nope"), None);
        assert_eq!(hash_key("abc").len(), 64);
        assert!(constant_time_eq(b"ab", b"ab"));
        assert!(!constant_time_eq(b"ab", b"ac"));
    }
}
