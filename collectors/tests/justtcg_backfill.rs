//! The JustTCG history back-fill against the simulator: resumable product by product (a run cut
//! off by its sink leaves the products done in the state file, and the next run reads only the
//! others), products JustTCG lacks settled as missing, and a spent free-plan allowance stops the
//! run cleanly.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{paused_http, small_sim, start_sim};
use tcg_collectors::{
    QuoteSink, VecSink,
    justtcg::{
        HistoryDuration, JusttcgClient, JusttcgConfig,
        backfill::{HistoryPlan, HistoryState, Stopped, backfill_history},
    },
    sink::BoxFuture,
};
use tcg_schemas::{CategoryId, ProductId, RawQuote, Source};
use tcg_simulator::justtcg::{Extra, JtData};

/// A sink that takes `ok_batches` batches, then reports itself closed.
struct FailingSink {
    ok_batches: usize,
    seen: AtomicUsize,
    inner: VecSink,
}

impl QuoteSink for FailingSink {
    fn publish<'a>(
        &'a self,
        quotes: Vec<RawQuote>,
    ) -> BoxFuture<'a, Result<(), tcg_ports::SinkError>> {
        Box::pin(async move {
            if self.seen.fetch_add(1, Ordering::SeqCst) >= self.ok_batches {
                return Err(tcg_ports::SinkError::Closed);
            }
            self.inner.publish(quotes).await
        })
    }
}

fn state_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tcg-jt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_history_backfill_resumes_product_by_product() {
    let sim = start_sim(small_sim(9));
    let catalog = sim.handle.catalog();
    let data = JtData::build(catalog);
    // Four products JustTCG has once each, and one it does not have.
    let mut products: Vec<(ProductId, CategoryId)> = data
        .cards
        .iter()
        .filter(|c| c.extra == Extra::No && data.by_tcgplayer(c.product).len() == 1)
        .take(4)
        .map(|c| (ProductId(c.product), CategoryId(c.game.category_id)))
        .collect();
    products.insert(2, (ProductId(1), CategoryId(3)));
    let client = JusttcgClient::new(&JusttcgConfig {
        base_url: format!("{}/v1", sim.base_url),
        api_key: "tcg_test".into(),
        http: paused_http(),
        ..JusttcgConfig::default()
    })
    .unwrap();
    let dir = state_dir("resume");
    let plan = HistoryPlan {
        products: products.clone(),
        duration: HistoryDuration::Month,
        state_path: dir.join("state.json"),
    };
    let bar = indicatif::ProgressBar::hidden();

    // First run: the sink closes at the third product with a history.
    let failing = FailingSink {
        ok_batches: 2,
        seen: AtomicUsize::new(0),
        inner: VecSink::new(),
    };
    let err = backfill_history(&client, &plan, &failing, &bar, std::future::pending())
        .await
        .unwrap_err();
    assert!(err.is_sink_closed(), "{err}");
    let state = HistoryState::load(&plan.state_path, plan.duration).unwrap();
    assert_eq!(
        state.done,
        [products[0].0.0, products[1].0.0].into_iter().collect(),
        "the products done are kept"
    );
    assert_eq!(state.missing.len(), 1, "JustTCG lacks product 1");
    let first = failing.inner.take();
    assert!(first.iter().all(|q| q.source == Source::Justtcg));
    let days: std::collections::BTreeSet<i64> = first.iter().map(|q| q.observed_at.day()).collect();
    assert!(days.len() >= 28, "a month of history: {} days", days.len());
    let requests = sim.handle.stats().justtcg_requests;

    // Second run: only the two products left.
    let sink = VecSink::new();
    let report = backfill_history(&client, &plan, &sink, &bar, std::future::pending())
        .await
        .unwrap();
    assert_eq!(report.products_already_done, 3);
    assert_eq!(report.products_done, 2);
    assert_eq!(report.stopped, None);
    assert_eq!(sim.handle.stats().justtcg_requests, requests + 2);
    assert!(!sink.take().is_empty());

    // A longer history reads every product again.
    let year = HistoryPlan {
        duration: HistoryDuration::Year,
        ..plan
    };
    let report = backfill_history(
        &client,
        &year,
        &VecSink::new(),
        &bar,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(report.products_already_done, 0);
    assert_eq!(report.products_done, 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_spent_allowance_stops_the_backfill_to_be_resumed() {
    let sim = start_sim(small_sim(4));
    let catalog = sim.handle.catalog();
    let data = JtData::build(catalog);
    let products: Vec<(ProductId, CategoryId)> = data
        .cards
        .iter()
        .filter(|c| c.extra == Extra::No && data.by_tcgplayer(c.product).len() == 1)
        .take(14)
        .map(|c| (ProductId(c.product), CategoryId(c.game.category_id)))
        .collect();
    // The free plan: ten requests a minute, then 429 (the retries give up on a paused clock).
    let client = JusttcgClient::new(&JusttcgConfig {
        base_url: format!("{}/v1", sim.base_url),
        api_key: "tcg_free_backfill".into(),
        http: paused_http(),
        ..JusttcgConfig::default()
    })
    .unwrap();
    let dir = state_dir("limit");
    let plan = HistoryPlan {
        products,
        duration: HistoryDuration::Week,
        state_path: dir.join("state.json"),
    };
    let report = backfill_history(
        &client,
        &plan,
        &VecSink::new(),
        &indicatif::ProgressBar::hidden(),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            report.stopped,
            Some(Stopped::RateLimited | Stopped::AllowanceSpent)
        ),
        "{report:?}"
    );
    assert!(
        report.products_done >= 1 && report.products_done < 14,
        "{report:?}"
    );
    let state = HistoryState::load(&plan.state_path, plan.duration).unwrap();
    assert_eq!(
        state.done.len() as u32,
        report.products_done,
        "what was read is kept"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
