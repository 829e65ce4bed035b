//! Answers of history, latest prices, movers and portfolio value histories kept in memory (moka,
//! bounded in bytes), keyed by the normalized request, and dropped when a tick of a series they
//! cover is written.
//!
//! Whoever writes ticks says so with [`ResponseCache::ticks_written`] (`up`: its output sink,
//! every tick, back-filled ones included; `serve --kafka`: the `tcg.ticks.v1` follower). Each
//! answer also lives at most `cache_ttl`, and one computed for "up to now" at most until the
//! next bucket starts, so a process that is told of no ticks (`serve` alone on a file another
//! process writes) serves answers at most that old.
//!
//! An answer computed while a tick was written is not kept (it may have been read before the
//! tick): [`ResponseCache::epoch`] is read before the store is, and [`ResponseCache::insert`]
//! keeps the answer only if no invalidation ran since.

mod cover;
mod single_flight;

pub use cover::Cover;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use moka::{notification::RemovalCause, sync::Cache};
use sha2::{Digest, Sha256};
use tcg_schemas::{ProductId, Tick};

use crate::metrics::Metrics;

/// One cached answer: the JSON body, its entity tag and what it covers.
#[derive(Debug)]
pub struct Answer {
    /// Tells this answer from a later one under the same key.
    id: u64,
    body: Bytes,
    etag: HeaderValue,
    cover: Cover,
    expires_at: Instant,
}

impl Answer {
    /// `body` (JSON), valid until `expires_at` unless a tick `cover` covers is written first.
    pub fn new(body: Vec<u8>, cover: Cover, expires_at: Instant) -> Self {
        let digest = Sha256::digest(&body);
        // weak: the gzip and br encodings of the answer are the same entity
        let mut tag = String::with_capacity(36);
        tag.push_str("W/\"");
        for b in &digest[..16] {
            tag.push_str(&format!("{b:02x}"));
        }
        tag.push('"');
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            body: Bytes::from(body),
            etag: HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\"")),
            cover,
            expires_at,
        }
    }

    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    pub fn len(&self) -> usize {
        self.body.len()
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// `200` with the body, its `ETag` and `Cache-Control: private, max-age=…` (at most
    /// `max_age`, and no longer than the answer stays valid).
    pub fn response(&self, max_age: Duration) -> Response {
        let left = self.expires_at.saturating_duration_since(Instant::now());
        let age = max_age.min(left).as_secs();
        let control = HeaderValue::from_str(&format!("private, max-age={age}"))
            .unwrap_or(HeaderValue::from_static("private, no-cache"));
        (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::ETAG, self.etag.clone()),
                (header::CACHE_CONTROL, control),
            ],
            self.body.clone(),
        )
            .into_response()
    }
}

/// Which keys cover which cards (and which cover the whole market), with the id of the answer
/// each key holds, to find the answers a tick changes without looking at every one.
#[derive(Debug, Default)]
struct Index {
    by_product: HashMap<ProductId, HashMap<Arc<str>, u64>>,
    market: HashMap<Arc<str>, u64>,
}

impl Index {
    fn add(&mut self, key: &Arc<str>, answer: &Answer) {
        match answer.cover.products() {
            Some(products) => {
                for p in products {
                    self.by_product
                        .entry(p)
                        .or_default()
                        .insert(key.clone(), answer.id);
                }
            }
            None => {
                self.market.insert(key.clone(), answer.id);
            }
        }
    }

    /// Forgets `key` if it still lists `answer` (not a later answer under the same key).
    fn remove(&mut self, key: &str, answer: &Answer) {
        let forget = |keys: &mut HashMap<Arc<str>, u64>| {
            if keys.get(key) == Some(&answer.id) {
                keys.remove(key);
            }
        };
        match answer.cover.products() {
            Some(products) => {
                for p in products {
                    if let Some(keys) = self.by_product.get_mut(&p) {
                        forget(keys);
                        if keys.is_empty() {
                            self.by_product.remove(&p);
                        }
                    }
                }
            }
            None => forget(&mut self.market),
        }
    }

    /// Keys that may cover `tick` (their cover decides).
    fn candidates<'a>(&'a self, tick: &Tick) -> impl Iterator<Item = &'a Arc<str>> {
        self.by_product
            .get(&tick.series.product_id())
            .into_iter()
            .flat_map(HashMap::keys)
            .chain(self.market.keys())
    }
}

/// The response cache (see the module's documentation). Cheap to share behind an `Arc`.
pub struct ResponseCache {
    entries: Option<Cache<Arc<str>, Arc<Answer>>>,
    index: Arc<Mutex<Index>>,
    epoch: AtomicU64,
    bytes: Arc<AtomicI64>,
    ttl: Duration,
    metrics: Metrics,
    flights: single_flight::SingleFlight,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("enabled", &self.entries.is_some())
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Bytes an entry is counted as: its body and key, and a fixed overhead for the rest.
fn weight(key: &str, answer: &Answer) -> u32 {
    u32::try_from(answer.len() + key.len() + 256).unwrap_or(u32::MAX)
}

struct ExpireAt;

impl moka::Expiry<Arc<str>, Arc<Answer>> for ExpireAt {
    fn expire_after_create(
        &self,
        _key: &Arc<str>,
        value: &Arc<Answer>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(created_at))
    }
}

impl ResponseCache {
    /// A cache of at most `max_bytes` (0: nothing is cached) whose answers live at most `ttl`.
    pub fn new(max_bytes: u64, ttl: Duration, metrics: Metrics) -> Self {
        let index = Arc::new(Mutex::new(Index::default()));
        let bytes = Arc::new(AtomicI64::new(0));
        let entries = (max_bytes > 0 && !ttl.is_zero()).then(|| {
            let (index, bytes, metrics) = (index.clone(), bytes.clone(), metrics.clone());
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &Arc<str>, v: &Arc<Answer>| weight(k, v))
                .expire_after(ExpireAt)
                .eviction_listener(move |key: Arc<Arc<str>>, answer: Arc<Answer>, cause| {
                    let size = i64::from(weight(&key, &answer));
                    metrics.cache_bytes(bytes.fetch_sub(size, Ordering::Relaxed) - size);
                    lock(&index).remove(&key, &answer);
                    match cause {
                        RemovalCause::Size => metrics.cache_evicted("size"),
                        RemovalCause::Expired => metrics.cache_evicted("expired"),
                        RemovalCause::Explicit | RemovalCause::Replaced => {}
                    }
                })
                .build()
        });
        Self {
            entries,
            index,
            epoch: AtomicU64::new(0),
            bytes,
            ttl,
            metrics,
            flights: single_flight::SingleFlight::default(),
        }
    }

    /// Whether answers are kept at all.
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// How long an answer lives at most.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The kept answer to `key`, counting a hit or a miss for `route`.
    pub fn get(&self, route: &str, key: &str) -> Option<Arc<Answer>> {
        let entries = self.entries.as_ref()?;
        let found = entries.get(key);
        match found {
            Some(_) => self.metrics.cache_hit(route),
            None => self.metrics.cache_miss(route),
        }
        found
    }

    /// Waits until no other request computes `key` (none when nothing is kept); then look
    /// again with [`Self::peek`]: the answer may have been computed meanwhile.
    pub async fn turn(&self, key: &str) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.entries {
            Some(_) => Some(self.flights.turn(key).await),
            None => None,
        }
    }

    /// The kept answer to `key`, not counted.
    pub fn peek(&self, key: &str) -> Option<Arc<Answer>> {
        self.entries.as_ref()?.get(key)
    }

    /// Read before the store is read; pass to [`Self::insert`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `answer` under `key`, unless a tick was written since `epoch` was read.
    pub fn insert(&self, key: &str, answer: Arc<Answer>, epoch: u64) {
        let Some(entries) = &self.entries else {
            return;
        };
        let key: Arc<str> = Arc::from(key);
        let size = i64::from(weight(&key, &answer));
        // moka may run its listener (which locks the index) inside any call: never call it
        // with the index locked.
        entries.insert(key.clone(), answer.clone());
        self.metrics
            .cache_bytes(self.bytes.fetch_add(size, Ordering::Relaxed) + size);
        let mut index = lock(&self.index);
        if self.epoch.load(Ordering::Acquire) == epoch {
            index.add(&key, &answer);
        } else {
            drop(index);
            entries.invalidate(&key);
        }
    }

    /// Drops every answer a tick of `ticks` changes (call once the ticks are in the store).
    pub fn ticks_written(&self, ticks: &[Tick]) {
        let Some(entries) = &self.entries else {
            return;
        };
        if ticks.is_empty() {
            return;
        }
        // The keys that may cover a tick, under the index lock; their covers are read after
        // it is let go (moka may call the listener, which locks the index, inside `get`).
        let mut candidates: HashMap<Arc<str>, Vec<&Tick>> = HashMap::new();
        {
            let index = lock(&self.index);
            self.epoch.fetch_add(1, Ordering::AcqRel);
            for t in ticks {
                for key in index.candidates(t) {
                    candidates.entry(key.clone()).or_default().push(t);
                }
            }
        }
        let stale: Vec<Arc<str>> = candidates
            .into_iter()
            .filter(|(key, ticks)| {
                entries
                    .get(key.as_ref())
                    .is_some_and(|a| ticks.iter().any(|t| a.cover.covers(t)))
            })
            .map(|(key, _)| key)
            .collect();
        self.metrics.cache_invalidated(stale.len());
        for key in stale {
            entries.invalidate(&key);
        }
    }

    /// Drops every answer (the ticks written are not known: a follower fell behind).
    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            entries.invalidate_all();
        }
    }

    /// Runs moka's pending work (evictions and their listener) now; tests read exact figures.
    pub fn settle(&self) {
        if let Some(entries) = &self.entries {
            entries.run_pending_tasks();
        }
    }
}

/// The index lock; a panic while it was held left nothing half-done that matters (the worst
/// is a key listed that is no longer cached), so a poisoned lock is used as it is.
fn lock(index: &Mutex<Index>) -> MutexGuard<'_, Index> {
    index
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tcg_schemas::{
        Condition, Game, Language, Money, PriceKind, Printing, SeriesKey, Source, Timestamp,
    };
    use tcg_store::PriceFilter;

    fn tick(product: u64) -> Tick {
        let series = SeriesKey::Sku {
            product_id: ProductId(product),
            printing: Printing::Normal,
            condition: Condition::NearMint,
            language: Language::English,
        };
        Tick {
            series_id: series.id(),
            series,
            game: Game::Pokemon,
            source: Source::Tcgcsv,
            kind: PriceKind::Market,
            observed_at: Timestamp::from_secs(1_714_521_600),
            price_usd: Money::usd_cents(100),
            original: Money::usd_cents(100),
            shipping: None,
            listing_id: None,
            confidence: None,
            agreeing: Vec::new(),
            heartbeat: false,
        }
    }

    fn answer(product: u64, bytes: usize, lives: Duration) -> Arc<Answer> {
        let t = tick(product);
        Arc::new(Answer::new(
            vec![b'x'; bytes],
            Cover::Series {
                series: vec![(ProductId(product), t.series_id)],
                prices: PriceFilter::any(),
            },
            Instant::now() + lives,
        ))
    }

    fn cache(max_bytes: u64) -> ResponseCache {
        ResponseCache::new(max_bytes, Duration::from_secs(60), Metrics::new())
    }

    #[test]
    fn an_answer_computed_while_a_tick_was_written_is_not_kept() {
        let c = cache(1 << 20);
        let epoch = c.epoch();
        c.ticks_written(&[tick(9)]);
        c.insert("k", answer(1, 10, Duration::from_secs(60)), epoch);
        assert!(c.get("r", "k").is_none());
        // read after the tick: kept
        c.insert("k", answer(1, 10, Duration::from_secs(60)), c.epoch());
        assert!(c.get("r", "k").is_some());
    }

    #[test]
    fn a_replaced_answer_is_still_dropped_by_its_ticks_and_others_stay() {
        let c = cache(1 << 20);
        c.insert("k", answer(1, 10, Duration::from_secs(60)), c.epoch());
        c.insert("k", answer(1, 12, Duration::from_secs(60)), c.epoch());
        c.insert("other", answer(2, 10, Duration::from_secs(60)), c.epoch());
        c.settle();
        c.ticks_written(&[tick(3)]);
        assert!(c.get("r", "k").is_some());
        c.ticks_written(&[tick(1)]);
        assert!(c.get("r", "k").is_none());
        assert!(c.get("r", "other").is_some());
    }

    #[test]
    fn answers_expire_and_the_bytes_are_bounded() {
        let c = cache(64 * 1024);
        c.insert("old", answer(1, 10, Duration::ZERO), c.epoch());
        assert!(c.get("r", "old").is_none());
        for i in 0..100 {
            c.insert(
                &format!("k{i}"),
                answer(i, 4_000, Duration::from_secs(60)),
                c.epoch(),
            );
        }
        c.settle();
        let held = c.bytes.load(Ordering::Relaxed);
        assert!(held > 0 && held <= 64 * 1024, "{held} bytes held");
        let kept = (0..100)
            .filter(|i| c.get("r", &format!("k{i}")).is_some())
            .count();
        assert!((1..100).contains(&kept), "{kept} of 100 kept");
        let text = c.metrics.render();
        assert!(
            text.contains("tcg_api_cache_evictions_total{cause=\"size\"}"),
            "{text}"
        );
    }

    #[test]
    fn a_cache_of_no_bytes_keeps_nothing() {
        let c = cache(0);
        assert!(!c.enabled());
        c.insert("k", answer(1, 10, Duration::from_secs(60)), c.epoch());
        assert!(c.get("r", "k").is_none());
        c.ticks_written(&[tick(1)]);
    }
}
