//! The shared HTTP machinery against the simulator: Retry-After, backoff, the breaker, rate
//! limits. The client's clock is paused (the simulator runs on its own thread in real time).

mod common;

use std::time::Duration;

use common::{paused_http, small_sim, start_sim};
use tcg_collectors::{
    CollectorError,
    http::{BreakerConfig, BreakerState, HttpClient, HttpConfig, RetryConfig},
};
use tokio::time::Instant;

fn ecb_url(base: &str) -> String {
    format!("{base}/stats/eurofxref/eurofxref-daily.xml")
}

#[tokio::test(start_paused = true)]
async fn retry_after_on_429_is_honoured() {
    let mut cfg = small_sim(1);
    cfg.faults.first_429 = 2;
    cfg.faults.retry_after_secs = 7;
    let sim = start_sim(cfg);
    let client = HttpClient::new("test", &paused_http()).unwrap();
    let start = Instant::now();
    client.get("daily", &ecb_url(&sim.base_url)).await.unwrap();
    let waited = start.elapsed();
    // Two waits of at least 7 s each; the added jitter is at most an eighth of the backoff.
    assert!(waited >= Duration::from_secs(14), "{waited:?}");
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    assert_eq!(sim.handle.stats().ecb_requests, 3);
    assert_eq!(sim.handle.stats().faults_429, 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_on_503_is_honoured_and_too_long_a_wait_is_returned() {
    let mut cfg = small_sim(1);
    cfg.faults.first_503 = 1;
    cfg.faults.retry_after_secs = 5;
    let sim = start_sim(cfg);
    let client = HttpClient::new("test", &paused_http()).unwrap();
    let start = Instant::now();
    client.get("daily", &ecb_url(&sim.base_url)).await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(5));

    let mut cfg = small_sim(1);
    cfg.faults.first_429 = 1;
    cfg.faults.retry_after_secs = 3600;
    let sim = start_sim(cfg);
    let start = Instant::now();
    let err = client
        .get("daily", &ecb_url(&sim.base_url))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CollectorError::Status { status: 429, .. }),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "an hour is not waited out"
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_back_off_exponentially_then_give_up() {
    let mut cfg = small_sim(1);
    cfg.faults.first_500 = 10;
    let sim = start_sim(cfg);
    let mut http = paused_http();
    http.breaker.failure_threshold = 100;
    let client = HttpClient::new("test", &http).unwrap();
    let start = Instant::now();
    let err = client
        .get("daily", &ecb_url(&sim.base_url))
        .await
        .unwrap_err();
    assert!(matches!(err, CollectorError::Status { status: 500, .. }));
    // 3 retries: backoff caps 100, 200, 400 ms, each jittered into [cap/2, cap].
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(350) && waited <= Duration::from_millis(700),
        "{waited:?}"
    );
    assert_eq!(sim.handle.stats().ecb_requests, 4);
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_after_failures_and_recovers_after_cool_down() {
    let mut cfg = small_sim(1);
    cfg.faults.first_500 = 3;
    let sim = start_sim(cfg);
    let http = HttpConfig {
        retry: RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        },
        breaker: BreakerConfig {
            failure_threshold: 3,
            cool_down_ms: 30_000,
        },
        ..paused_http()
    };
    let client = HttpClient::new("test", &http).unwrap();
    let url = ecb_url(&sim.base_url);
    for _ in 0..3 {
        assert!(matches!(
            client.get("daily", &url).await,
            Err(CollectorError::Status { status: 500, .. })
        ));
    }
    assert_eq!(client.breaker_state(), BreakerState::Open);
    // Open: nothing is sent.
    assert!(matches!(
        client.get("daily", &url).await,
        Err(CollectorError::BreakerOpen { .. })
    ));
    assert_eq!(sim.handle.stats().ecb_requests, 3);
    tokio::time::advance(Duration::from_secs(29)).await;
    assert!(matches!(
        client.get("daily", &url).await,
        Err(CollectorError::BreakerOpen { .. })
    ));
    tokio::time::advance(Duration::from_secs(1)).await;
    // Half-open: one probe goes through, succeeds, and the breaker closes.
    client.get("daily", &url).await.unwrap();
    assert_eq!(client.breaker_state(), BreakerState::Closed);
    client.get("daily", &url).await.unwrap();
    assert_eq!(sim.handle.stats().ecb_requests, 5);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_spaces_requests() {
    let sim = start_sim(small_sim(1));
    let http = HttpConfig {
        min_interval_ms: 100,
        burst: 1,
        ..paused_http()
    };
    let client = HttpClient::new("test", &http).unwrap();
    let start = Instant::now();
    for _ in 0..11 {
        client.get("daily", &ecb_url(&sim.base_url)).await.unwrap();
    }
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_millis(1100),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_hung_upstream_times_out_and_is_retried() {
    let mut cfg = small_sim(1);
    cfg.faults.rate_hang = 1.0;
    cfg.faults.hang_ms = 600;
    let sim = start_sim(cfg);
    let http = HttpConfig {
        request_timeout_ms: 100,
        retry: RetryConfig {
            max_retries: 1,
            base_delay_ms: 10,
            ..RetryConfig::default()
        },
        ..HttpConfig::default()
    };
    let client = HttpClient::new("test", &http).unwrap();
    let err = client
        .get("daily", &ecb_url(&sim.base_url))
        .await
        .unwrap_err();
    assert!(matches!(err, CollectorError::Timeout { .. }), "{err}");
    assert_eq!(sim.handle.stats().faults_hang, 2);
}
