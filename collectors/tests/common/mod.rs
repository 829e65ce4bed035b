//! Starting the simulator for tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod markets;
pub mod mock;

use std::time::Duration;

use tcg_collectors::http::{BreakerConfig, HttpConfig, RetryConfig};
use tcg_simulator::{SimConfig, SimHandle, Simulator};

/// A simulator on its own thread and runtime (real time), so a test may pause its own clock.
pub struct SimThread {
    pub base_url: String,
    pub handle: SimHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SimThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn start_sim(config: SimConfig) -> SimThread {
    let sim = Simulator::new(config);
    let handle = sim.handle();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            sim.serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    SimThread {
        base_url: format!("http://{addr}"),
        handle,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// A small, frozen-clock simulator config.
pub fn small_sim(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        categories: vec![3, 68],
        sets_per_game: 2,
        cards_per_set: 12,
        sealed_per_set: 1,
        // 2024-03-01T21:00:00Z
        fixed_time: Some(1_709_326_800),
        ..SimConfig::default()
    }
}

/// HTTP settings for tests on a paused clock: no timers of the client's own, no rate limit.
pub fn paused_http() -> HttpConfig {
    HttpConfig {
        min_interval_ms: 0,
        retry: RetryConfig {
            max_retries: 3,
            base_delay_ms: 100,
            max_delay_ms: 2_000,
            max_retry_after_ms: 60_000,
        },
        breaker: BreakerConfig {
            failure_threshold: 5,
            cool_down_ms: 10_000,
        },
        ..HttpConfig::default()
    }
    .for_paused_clock()
}

pub fn fast_http() -> HttpConfig {
    HttpConfig {
        min_interval_ms: 0,
        request_timeout_ms: 5_000,
        ..HttpConfig::default()
    }
}

pub const SECOND: Duration = Duration::from_secs(1);
