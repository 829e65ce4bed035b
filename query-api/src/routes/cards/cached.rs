//! Answering from the response cache, or computing the answer and keeping it there.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::response::Response;
use serde::Serialize;

use crate::{
    error::{ApiError, ApiResult},
    response_cache::{Answer, Cover},
    state::AppState,
};

/// A request whose answer may be kept: its route (the metric label), its normalized key (every
/// parameter, defaults resolved), what it covers, and how long it stays true without a tick.
pub(crate) struct Cacheable {
    pub route: &'static str,
    pub key: String,
    pub cover: Cover,
    pub fresh_for: Duration,
}

/// A request whose answer may be kept, and whose cover is learnt while computing the answer
/// (a portfolio's held series): route, key and freshness as in [`Cacheable`].
pub(crate) struct Keyed {
    pub route: &'static str,
    pub key: String,
    pub fresh_for: Duration,
}

/// The kept answer to `request`, or `compute`'s, kept for the next asker; with its `ETag` and
/// `Cache-Control: private, max-age=…`.
pub(crate) async fn cached<T: Serialize>(
    state: &AppState,
    request: Cacheable,
    compute: impl Future<Output = ApiResult<T>>,
) -> ApiResult<Response> {
    let Cacheable {
        route,
        key,
        cover,
        fresh_for,
    } = request;
    let keyed = Keyed {
        route,
        key,
        fresh_for,
    };
    cached_with_cover(state, keyed, async move { Ok((compute.await?, cover)) }).await
}

/// As [`cached`], for an answer that `compute` returns with its cover.
pub(crate) async fn cached_with_cover<T: Serialize>(
    state: &AppState,
    request: Keyed,
    compute: impl Future<Output = ApiResult<(T, Cover)>>,
) -> ApiResult<Response> {
    let cache = state.response_cache();
    let max_age = state.config().cache_max_age;
    if let Some(hit) = cache.get(request.route, &request.key) {
        return Ok(hit.response(max_age));
    }
    // Concurrent misses of one request compute it once: the others wait and take its answer.
    let _turn = cache.turn(&request.key).await;
    if let Some(hit) = cache.peek(&request.key) {
        return Ok(hit.response(max_age));
    }
    let epoch = cache.epoch();
    let (value, cover) = compute.await?;
    let body = serde_json::to_vec(&value)
        .map_err(|e| ApiError::Internal(format!("encoding the answer: {e}")))?;
    let lives = request.fresh_for.min(cache.ttl());
    let answer = Arc::new(Answer::new(body, cover, Instant::now() + lives));
    cache.insert(&request.key, answer.clone(), epoch);
    Ok(answer.response(max_age))
}
