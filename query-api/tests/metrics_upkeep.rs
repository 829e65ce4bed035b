//! The latency histogram keeps every sample until an upkeep folds them into buckets: `serve`
//! runs one every `UPKEEP_EVERY`, so a server nobody scrapes does not grow with its requests.
//! Measured with dhat's heap statistics (the only test of this binary, so nothing else
//! allocates meanwhile).

use tcg_query_api::{ServeLimits, metrics::Metrics, metrics::UPKEEP_EVERY, serve};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Bytes allocated and not yet freed.
fn live() -> isize {
    isize::try_from(dhat::HeapStats::get().curr_bytes).unwrap_or(isize::MAX)
}

const SAMPLES: usize = 50_000;

fn record(m: &Metrics, n: usize) {
    for _ in 0..n {
        m.record("GET", "/healthz", 200, 0.001);
    }
}

/// The bucket frees what an upkeep drained through crossbeam's epochs, once later records (each
/// pins an epoch) have moved them on: a few more samples, kept (no upkeep here).
fn settle(m: &Metrics) {
    record(m, 2_000);
}

#[tokio::test(start_paused = true)]
async fn latency_samples_are_folded_not_kept() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let m = Metrics::new();
    record(&m, 10);
    m.upkeep();

    // Without an upkeep every sample is kept (8 bytes each at least).
    let before = live();
    record(&m, SAMPLES);
    let kept = live() - before;
    assert!(
        kept > (SAMPLES * 8) as isize,
        "{SAMPLES} samples kept only {kept} bytes: the test no longer sees the growth"
    );
    m.upkeep();
    settle(&m);
    let after_upkeep = live() - before;
    assert!(
        after_upkeep < 64 * 1024,
        "an upkeep left {after_upkeep} bytes of {SAMPLES} samples"
    );

    // `serve` runs the upkeep on its own.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        axum::Router::new(),
        ServeLimits::default().with_metrics(m.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    tokio::time::sleep(UPKEEP_EVERY / 2).await;
    let before = live();
    record(&m, SAMPLES);
    assert!(live() - before > (SAMPLES * 8) as isize);
    tokio::time::sleep(UPKEEP_EVERY).await;
    settle(&m);
    let left = live() - before;
    assert!(
        left < 64 * 1024,
        "serve left {left} bytes of {SAMPLES} samples after {UPKEEP_EVERY:?}"
    );
    let _ = stop.send(());
    server
        .await
        .expect("serve's task")
        .expect("serve ends cleanly");
}
