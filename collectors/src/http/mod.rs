//! The shared HTTP machinery: timeouts, a governor rate limit per source, retries with jittered
//! exponential backoff that honour `Retry-After`, a circuit breaker, metrics and a tracing span
//! per request; and the OAuth token cache the authenticated sources share.

pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod clock;
pub mod token;

use std::{
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{
    Quota, RateLimiter,
    middleware::NoOpMiddleware,
    state::{InMemoryState, NotKeyed},
};
use serde::Deserialize;
use tokio::time::Instant;
use tracing::Instrument;

pub use backoff::{backoff_delay, parse_retry_after};
pub use breaker::{Breaker, BreakerConfig, BreakerState};
pub use budget::{DailyBudget, SharedBudget};
pub use clock::{TokioClock, TokioInstant};
pub use token::{Minted, TokenCache, mint_client_credentials};

use crate::{CollectorError, internal_events, rng::SplitMix, telemetry};

/// Retry settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// Backoff cap of the first retry; doubles each retry.
    pub base_delay_ms: u64,
    /// Largest backoff.
    pub max_delay_ms: u64,
    /// A `Retry-After` longer than this is not waited out: the error goes to the caller.
    pub max_retry_after_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 4,
            base_delay_ms: 250,
            max_delay_ms: 30_000,
            max_retry_after_ms: 300_000,
        }
    }
}

/// HTTP settings of one source.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Connect timeout; 0 disables it.
    pub connect_timeout_ms: u64,
    /// Whole-request timeout; 0 disables it.
    pub request_timeout_ms: u64,
    /// Minimum spacing between requests (the governor quota's period); 0 disables the limit.
    pub min_interval_ms: u64,
    /// Requests that may go out back to back before the spacing applies.
    pub burst: u32,
    /// Idle pooled connections are closed after this; 0 keeps them.
    pub pool_idle_timeout_ms: u64,
    /// Sent as `User-Agent` (TCGCSV refuses generic ones).
    pub user_agent: String,
    pub retry: RetryConfig,
    pub breaker: BreakerConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout_ms: 5_000,
            request_timeout_ms: 30_000,
            min_interval_ms: 100,
            burst: 1,
            pool_idle_timeout_ms: 90_000,
            user_agent: crate::USER_AGENT.to_owned(),
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
        }
    }
}

impl HttpConfig {
    /// No timers of its own (no timeouts, no idle-pool timer, no rate limit): for tests on
    /// tokio's paused clock, where any pending timer would fire while real I/O is in flight.
    pub fn for_paused_clock(mut self) -> Self {
        self.connect_timeout_ms = 0;
        self.request_timeout_ms = 0;
        self.pool_idle_timeout_ms = 0;
        self
    }

    /// This config with a request rate of `per_sec` (burst 1).
    pub fn with_rate(mut self, per_sec: u32) -> Self {
        self.min_interval_ms = 1000 / u64::from(per_sec.max(1));
        self
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>;

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub url: String,
    pub body: bytes::Bytes,
}

#[derive(Debug)]
struct Inner {
    source: &'static str,
    client: reqwest::Client,
    limiter: Option<Limiter>,
    breaker: Mutex<Breaker>,
    retry: RetryConfig,
    jitter: Mutex<SplitMix>,
}

/// One source's HTTP client. Cheap to clone (shared state inside).
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

enum Attempt {
    Done(Fetched),
    /// Retryable failure: the error, and the upstream's `Retry-After` if it sent one.
    Retry(CollectorError, Option<Duration>),
    Fatal(CollectorError),
}

impl HttpClient {
    /// A client for `source` (the metrics label) with these settings.
    pub fn new(source: &'static str, config: &HttpConfig) -> Result<Self, CollectorError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .pool_idle_timeout(
                (config.pool_idle_timeout_ms > 0)
                    .then(|| Duration::from_millis(config.pool_idle_timeout_ms)),
            );
        if config.connect_timeout_ms > 0 {
            builder = builder.connect_timeout(Duration::from_millis(config.connect_timeout_ms));
        }
        if config.request_timeout_ms > 0 {
            builder = builder.timeout(Duration::from_millis(config.request_timeout_ms));
        }
        let client = builder.build().map_err(|e| CollectorError::Transport {
            source_name: source,
            source: e,
        })?;
        let limiter = match Duration::from_millis(config.min_interval_ms) {
            d if d.is_zero() => None,
            period => Quota::with_period(period).map(|q| {
                let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
                RateLimiter::direct_with_clock(q.allow_burst(burst), TokioClock)
            }),
        };
        metrics::gauge!(internal_events::BREAKER, "source" => source)
            .set(BreakerState::Closed.gauge());
        Ok(HttpClient {
            inner: Arc::new(Inner {
                source,
                client,
                limiter,
                breaker: Mutex::new(Breaker::new(config.breaker.clone())),
                retry: config.retry.clone(),
                jitter: Mutex::new(SplitMix::new(crate::rng::hash_str(source))),
            }),
        })
    }

    pub fn source(&self) -> &'static str {
        self.inner.source
    }

    /// The breaker's state now.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner
            .breaker
            .lock()
            .map(|b| b.state())
            .unwrap_or(BreakerState::Open)
    }

    /// `GET url`.
    pub async fn get(&self, op: &'static str, url: &str) -> Result<Fetched, CollectorError> {
        self.send(op, |c| c.get(url)).await
    }

    /// Sends the request `build` makes (rebuilt for every attempt), with rate limit, breaker and
    /// retries. 2xx is `Ok`; 429 and 5xx answers, timeouts and transport errors are retried
    /// (waiting at least `Retry-After` when given); other statuses return `Status` at once.
    pub async fn send(
        &self,
        op: &'static str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Fetched, CollectorError> {
        let source = self.inner.source;
        let retry = &self.inner.retry;
        let mut attempt: u32 = 0;
        loop {
            self.pass_breaker()?;
            self.wait_for_rate_limit().await;
            let span = tracing::debug_span!("http", source, op, attempt);
            let outcome = self.attempt(op, &build).instrument(span).await;
            let (err, retry_after) = match outcome {
                Attempt::Done(f) => return Ok(f),
                Attempt::Fatal(e) => {
                    telemetry::error(source, &e);
                    return Err(e);
                }
                Attempt::Retry(e, ra) => (e, ra),
            };
            telemetry::error(source, &err);
            if attempt >= retry.max_retries {
                return Err(err);
            }
            let backoff = backoff_delay(
                attempt,
                Duration::from_millis(retry.base_delay_ms),
                Duration::from_millis(retry.max_delay_ms),
                self.jitter(),
            );
            let delay = match retry_after {
                Some(ra) if ra > Duration::from_millis(retry.max_retry_after_ms) => {
                    return Err(err);
                }
                // Honour Retry-After: never earlier, plus a little jitter to avoid a herd.
                Some(ra) => ra + backoff / 8,
                None => backoff,
            };
            metrics::counter!(internal_events::RETRIES, "source" => source, "reason" => err.kind())
                .increment(1);
            tracing::warn!(source, op, attempt, delay_ms = delay.as_millis() as u64, error = %err, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn jitter(&self) -> f64 {
        self.inner
            .jitter
            .lock()
            .map(|mut j| j.next_f64())
            .unwrap_or(0.5)
    }

    fn pass_breaker(&self) -> Result<(), CollectorError> {
        let source = self.inner.source;
        let mut breaker = self
            .inner
            .breaker
            .lock()
            .map_err(|_| CollectorError::BreakerOpen {
                source_name: source,
            })?;
        let allowed = breaker.allow(Instant::now());
        metrics::gauge!(internal_events::BREAKER, "source" => source).set(breaker.state().gauge());
        allowed.map_err(|_| {
            let e = CollectorError::BreakerOpen {
                source_name: source,
            };
            telemetry::error(source, &e);
            e
        })
    }

    fn record(&self, outcome: Outcome) {
        if let Ok(mut b) = self.inner.breaker.lock() {
            match outcome {
                Outcome::Success => b.on_success(),
                Outcome::Neutral => b.on_neutral(),
                Outcome::Failure => b.on_failure(Instant::now()),
            }
            metrics::gauge!(internal_events::BREAKER, "source" => self.inner.source)
                .set(b.state().gauge());
        }
    }

    async fn wait_for_rate_limit(&self) {
        let Some(limiter) = &self.inner.limiter else {
            return;
        };
        loop {
            match limiter.check() {
                Ok(()) => return,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(TokioClock.now_instant());
                    tokio::time::sleep(wait.max(Duration::from_micros(100))).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        op: &'static str,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Attempt {
        let source = self.inner.source;
        let started = Instant::now();
        let (status_label, attempt) = match build(&self.inner.client).send().await {
            Err(e) => {
                self.record(Outcome::Failure);
                let label = if e.is_timeout() {
                    "timeout"
                } else {
                    "transport"
                };
                (
                    label.to_owned(),
                    Attempt::Retry(self.send_error(e, None), None),
                )
            }
            Ok(resp) => (resp.status().as_u16().to_string(), self.answer(resp).await),
        };
        metrics::counter!(internal_events::REQUESTS, "source" => source, "op" => op, "status" => status_label.clone())
            .increment(1);
        metrics::histogram!(internal_events::LATENCY, "source" => source, "op" => op)
            .record(started.elapsed().as_secs_f64());
        tracing::debug!(status = %status_label, elapsed_ms = started.elapsed().as_millis() as u64, "answer");
        attempt
    }

    /// A request that got no (whole) answer from `url` (else the one reqwest names): `Timeout`
    /// or `Transport` (keeping reqwest's error).
    fn send_error(&self, e: reqwest::Error, url: Option<String>) -> CollectorError {
        let source_name = self.inner.source;
        if e.is_timeout() {
            CollectorError::Timeout {
                source_name,
                url: url
                    .or_else(|| e.url().map(ToString::to_string))
                    .unwrap_or_default(),
            }
        } else {
            CollectorError::Transport {
                source_name,
                source: e,
            }
        }
    }

    /// Reads an answer: a 2xx body is done; 429, 5xx and a body cut off are retried; other
    /// statuses are final. Records the outcome on the breaker.
    async fn answer(&self, resp: reqwest::Response) -> Attempt {
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        if (200..300).contains(&status) {
            return match resp.bytes().await {
                Ok(body) => {
                    self.record(Outcome::Success);
                    Attempt::Done(Fetched { status, url, body })
                }
                Err(e) => {
                    self.record(Outcome::Failure);
                    Attempt::Retry(self.send_error(e, Some(url)), None)
                }
            };
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let status_err = CollectorError::Status {
            source_name: self.inner.source,
            status,
            url,
        };
        if status == 429 {
            // Being told to slow down is not the upstream failing.
            self.record(Outcome::Neutral);
            Attempt::Retry(status_err, retry_after)
        } else if status >= 500 {
            self.record(Outcome::Failure);
            let ra = if status == 503 { retry_after } else { None };
            Attempt::Retry(status_err, ra)
        } else {
            self.record(Outcome::Neutral);
            Attempt::Fatal(status_err)
        }
    }
}

enum Outcome {
    Success,
    Neutral,
    Failure,
}

impl TokioClock {
    fn now_instant(&self) -> TokioInstant {
        TokioInstant(Instant::now())
    }
}

/// Joins a base URL and a path with exactly one `/` between them.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_urls() {
        assert_eq!(join("http://x/", "/a/b"), "http://x/a/b");
        assert_eq!(join("http://x", "a"), "http://x/a");
    }
}
