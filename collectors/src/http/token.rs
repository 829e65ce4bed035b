//! One OAuth client-credentials token cache for every source: the token is kept until a margin
//! before it expires, only one mint runs at a time (the callers that find no valid token wait
//! for it and share its result), and a token the API refused is dropped and minted again once.
//!
//! A source supplies only how to mint its token, usually with [`mint_client_credentials`].

use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use serde::Deserialize;
use tokio::{sync::Mutex, time::Instant};

use super::HttpClient;
use crate::{CollectorError, internal_events};

/// A token as the endpoint handed it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    pub value: String,
    /// How long it lives from now.
    pub expires_in: Duration,
}

/// When to refresh a token living `life`: a tenth of its life early, at most `max_margin`.
pub fn refresh_margin(life: Duration, max_margin: Duration) -> Duration {
    (life / 10).min(max_margin)
}

#[derive(Debug)]
struct Cached {
    value: String,
    refresh_at: Instant,
}

/// A cached access token of one source.
#[derive(Debug)]
pub struct TokenCache {
    source: &'static str,
    max_margin: Duration,
    /// Held across a mint, so one mint runs at a time and waiting callers see its token.
    cached: Mutex<Option<Cached>>,
    mints: AtomicU64,
}

impl TokenCache {
    /// A cache for `source` (the metrics label) refreshing tokens [`refresh_margin`] early.
    pub fn new(source: &'static str, max_margin: Duration) -> Self {
        TokenCache {
            source,
            max_margin,
            cached: Mutex::new(None),
            mints: AtomicU64::new(0),
        }
    }

    /// Tokens minted so far.
    pub fn minted(&self) -> u64 {
        self.mints.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one until its refresh time, else one `mint` makes (which is
    /// then cached). A failed mint caches nothing and is the caller's error.
    pub async fn get<F, Fut>(&self, mint: F) -> Result<String, CollectorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Minted, CollectorError>>,
    {
        let mut cached = self.cached.lock().await;
        let asked_at = Instant::now();
        if let Some(c) = cached.as_ref()
            && asked_at < c.refresh_at
        {
            return Ok(c.value.clone());
        }
        let minted = mint().await?;
        let life = minted.expires_in;
        self.mints.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(internal_events::TOKEN_MINTS, "source" => self.source).increment(1);
        tracing::info!(
            source = self.source,
            expires_in_s = life.as_secs(),
            "minted token"
        );
        // Counted from before the request: the token cannot have been issued earlier.
        let refresh_at = asked_at + life - refresh_margin(life, self.max_margin);
        *cached = Some(Cached {
            value: minted.value.clone(),
            refresh_at,
        });
        Ok(minted.value)
    }

    /// Drops `value` if it is still the cached token (a caller that saw it refused), so the
    /// next [`TokenCache::get`] mints; a token minted since by another caller is kept.
    pub async fn invalidate(&self, value: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.value == value) {
            *cached = None;
        }
    }

    /// Runs `call` with a valid token. When the API answers 401 the token is invalidated, a new
    /// one minted and the call made once more; a second 401 is an [`CollectorError::Auth`].
    pub async fn authorized<T, M, MFut, C, CFut>(
        &self,
        mint: M,
        call: C,
    ) -> Result<T, CollectorError>
    where
        M: Fn() -> MFut,
        MFut: Future<Output = Result<Minted, CollectorError>>,
        C: Fn(String) -> CFut,
        CFut: Future<Output = Result<T, CollectorError>>,
    {
        let mut refreshed = false;
        loop {
            let token = self.get(&mint).await?;
            match call(token.clone()).await {
                Err(CollectorError::Status { status: 401, .. }) if !refreshed => {
                    tracing::info!(source = self.source, "401: refreshing token once");
                    self.invalidate(&token).await;
                    refreshed = true;
                }
                Err(refused @ CollectorError::Status { status: 401, .. }) => {
                    return Err(CollectorError::Auth {
                        source_name: self.source,
                        reason: "a freshly minted token was refused",
                        source: Box::new(refused),
                    });
                }
                other => return other,
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Mints a client-credentials token: sends the request `build` makes (op `token`) and reads
/// `{"access_token", "expires_in"}`, a token living `default_life` when the answer does not say.
/// A 400 or 401 from the endpoint is an [`CollectorError::Auth`] (bad credentials).
pub async fn mint_client_credentials(
    http: &HttpClient,
    default_life: Duration,
    build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> Result<Minted, CollectorError> {
    let source = http.source();
    let fetched = http.send("token", build).await.map_err(|e| match e {
        CollectorError::Status { status, .. } if status == 400 || status == 401 => {
            CollectorError::Auth {
                source_name: source,
                reason: "the token endpoint refused the credentials",
                source: Box::new(e),
            }
        }
        other => other,
    })?;
    let answer: TokenAnswer = serde_json::from_slice(&fetched.body)
        .map_err(|e| CollectorError::malformed_in(source, "token", e))?;
    Ok(Minted {
        value: answer.access_token,
        expires_in: answer.expires_in.map_or(default_life, Duration::from_secs),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    use super::*;

    /// A mint that takes `delay`, counts its calls and hands out `t1`, `t2` … living `life`.
    #[derive(Debug)]
    struct FakeMint {
        calls: AtomicU32,
        delay: Duration,
        life: Duration,
    }

    impl FakeMint {
        fn new(delay: Duration, life: Duration) -> Arc<Self> {
            Arc::new(FakeMint {
                calls: AtomicU32::new(0),
                delay,
                life,
            })
        }

        fn calls(&self) -> u32 {
            self.calls.load(Ordering::SeqCst)
        }

        async fn mint(&self) -> Result<Minted, CollectorError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.delay).await;
            Ok(Minted {
                value: format!("t{n}"),
                expires_in: self.life,
            })
        }
    }

    fn status(code: u16) -> CollectorError {
        CollectorError::Status {
            source_name: "test",
            status: code,
            url: "http://x/api".into(),
        }
    }

    #[test]
    fn refreshes_a_tenth_early_capped() {
        let hour = Duration::from_secs(3600);
        assert_eq!(
            refresh_margin(Duration::from_secs(100), hour),
            Duration::from_secs(10)
        );
        assert_eq!(refresh_margin(Duration::from_secs(14 * 86_400), hour), hour);
        assert_eq!(
            refresh_margin(Duration::from_secs(7200), Duration::from_secs(300)),
            Duration::from_secs(300)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_token_is_cached_and_refreshed_before_it_expires() {
        let mint = FakeMint::new(Duration::ZERO, Duration::from_secs(1000));
        let cache = TokenCache::new("test", Duration::from_secs(3600));
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t1");
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t1");
        // A 1000 s token is refreshed at 900 s.
        tokio::time::advance(Duration::from_secs(899)).await;
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t1");
        assert_eq!(mint.calls(), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t2");
        assert_eq!(mint.calls(), 2);
        assert_eq!(cache.minted(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_refresh_time_counts_from_before_the_mint() {
        let mint = FakeMint::new(Duration::from_secs(50), Duration::from_secs(1000));
        let cache = TokenCache::new("test", Duration::from_secs(3600));
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t1");
        // Asked at 0, answered at 50: due at 900, not 950.
        tokio::time::advance(Duration::from_secs(849)).await;
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t1");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t2");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_mint() {
        let mint = FakeMint::new(Duration::from_secs(2), Duration::from_secs(1000));
        let cache = Arc::new(TokenCache::new("test", Duration::from_secs(3600)));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (cache, mint) = (Arc::clone(&cache), Arc::clone(&mint));
            tasks.spawn(async move { cache.get(|| mint.mint()).await });
        }
        let tokens: Vec<String> = tasks
            .join_all()
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(tokens.len(), 16);
        assert!(tokens.iter().all(|t| t == "t1"), "{tokens:?}");
        assert_eq!(mint.calls(), 1);
        assert_eq!(cache.minted(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_mint_caches_nothing() {
        let cache = TokenCache::new("test", Duration::from_secs(3600));
        let err = cache.get(|| async { Err(status(503)) }).await.unwrap_err();
        assert!(matches!(err, CollectorError::Status { status: 503, .. }));
        assert_eq!(cache.minted(), 0);
        let mint = FakeMint::new(Duration::ZERO, Duration::from_secs(1000));
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t1");
    }

    #[tokio::test(start_paused = true)]
    async fn invalidate_makes_the_next_caller_mint_again() {
        let mint = FakeMint::new(Duration::ZERO, Duration::from_secs(1000));
        let cache = TokenCache::new("test", Duration::from_secs(3600));
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t1");
        cache.invalidate("t1").await;
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t2");
        // A stale refusal (of t1) does not drop t2, minted since.
        cache.invalidate("t1").await;
        assert_eq!(cache.get(|| mint.mint()).await.unwrap(), "t2");
        assert_eq!(mint.calls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_401_mints_once_more_and_a_second_is_an_auth_error() {
        let mint = FakeMint::new(Duration::ZERO, Duration::from_secs(1000));
        let cache = TokenCache::new("test", Duration::from_secs(3600));
        // The API refuses t1 only.
        let answer = cache
            .authorized(
                || mint.mint(),
                |token| async move {
                    if token == "t1" {
                        Err(status(401))
                    } else {
                        Ok(token)
                    }
                },
            )
            .await
            .unwrap();
        assert_eq!(answer, "t2");
        assert_eq!(mint.calls(), 2);
        // The API refuses every token: one retry, then Auth with the refusal as its source.
        let err = cache
            .authorized(|| mint.mint(), |_| async { Err::<(), _>(status(401)) })
            .await
            .unwrap_err();
        assert!(matches!(err, CollectorError::Auth { .. }), "{err}");
        assert_eq!(
            std::error::Error::source(&err).map(ToString::to_string),
            Some("test: HTTP 401 from http://x/api".to_owned())
        );
        assert_eq!(mint.calls(), 3);
        // Other errors are the caller's, without a new token.
        let err = cache
            .authorized(|| mint.mint(), |_| async { Err::<(), _>(status(403)) })
            .await
            .unwrap_err();
        assert!(matches!(err, CollectorError::Status { status: 403, .. }));
        assert_eq!(mint.calls(), 3);
    }

    /// The token answers as the services document them (TCGplayer: ASP.NET's OAuth answer with
    /// `.issued`, `.expires` and `userName`; eBay: `token_type` "Application Access Token"):
    /// the extra fields are ignored, the token and its life are read.
    #[test]
    fn the_documented_token_answers_are_read() {
        let tcgplayer = br#"{"access_token":"abc.def","token_type":"bearer","expires_in":1209599,".issued":"Mon, 04 Mar 2024 10:00:00 GMT",".expires":"Mon, 18 Mar 2024 10:00:00 GMT","userName":"3b1f0c2e-public-key"}"#;
        let a: TokenAnswer = serde_json::from_slice(tcgplayer).unwrap();
        assert_eq!(
            (a.access_token.as_str(), a.expires_in),
            ("abc.def", Some(1_209_599))
        );
        let ebay = br#"{"access_token":"ebay-test-token","expires_in":7200,"token_type":"Application Access Token"}"#;
        let a: TokenAnswer = serde_json::from_slice(ebay).unwrap();
        assert_eq!(a.expires_in, Some(7200));
        assert_eq!(a.access_token, "ebay-test-token");
    }
}
