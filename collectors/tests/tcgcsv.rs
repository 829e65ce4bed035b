//! TCGCSV and its back-fill against the simulator.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use chrono::NaiveDate;
use common::{paused_http, small_sim, start_sim};
use tcg_collectors::{
    CollectorError, QuoteSink, Source, VecSink,
    sink::BoxFuture,
    tcgcsv::{
        TcgcsvClient, TcgcsvConfig, TcgcsvSource,
        backfill::{BackfillPlan, BackfillState, archive_instant, backfill},
        catalog::{CatalogProgress, read_category},
    },
};
use tcg_schemas::{RawQuote, Source as QuoteSource, Subject};
use tcg_simulator::market::{price_row, quote_time};

fn config(base: &str) -> TcgcsvConfig {
    TcgcsvConfig {
        base_url: base.to_owned(),
        categories: vec![3, 68],
        http: paused_http(),
        ..TcgcsvConfig::default()
    }
}

/// Price quotes the simulator's catalog gives at `secs`.
fn expected_quotes(sim: &common::SimThread, seed: u64, secs: i64) -> usize {
    let t = quote_time(secs, 60);
    sim.handle
        .catalog()
        .products
        .iter()
        .flat_map(|p| p.printings.iter().map(move |&i| price_row(seed, p, i, t)))
        .map(|r| {
            [r.market, r.low, r.mid, r.high, r.direct_low]
                .iter()
                .flatten()
                .count()
        })
        .sum()
}

// small_sim's clock: 2024-03-01T21:00:00Z; TCGCSV's last update 2024-03-01T20:00:00Z.
const LAST_UPDATE: i64 = 1_709_323_200;

#[tokio::test]
async fn a_pass_collects_every_group_then_skips_an_unchanged_day() {
    let sim = start_sim(small_sim(5));
    let mut source = TcgcsvSource::new(config(&sim.base_url)).unwrap();
    let sink = VecSink::new();
    let first = source.collect(&sink).await.unwrap();
    let quotes = sink.take();
    assert_eq!(quotes.len(), expected_quotes(&sim, 5, LAST_UPDATE));
    assert_eq!(
        first.requests,
        1 + 2 + 4,
        "last-updated, 2 × groups, 4 × prices"
    );
    assert!(quotes.iter().all(|q| q.source == QuoteSource::Tcgcsv
        && matches!(
            q.subject,
            Subject::TcgProduct {
                group_id: Some(_),
                ..
            }
        )));
    assert_eq!(source.last_seen(), Some("2024-03-01T20:00:00+0000"));
    assert_eq!(sim.handle.stats().tcgcsv_requests, 7);

    let second = source.collect(&sink).await.unwrap();
    assert!(second.skipped);
    assert!(sink.is_empty());
    assert_eq!(
        sim.handle.stats().tcgcsv_requests,
        8,
        "only last-updated.txt"
    );
}

#[tokio::test]
async fn products_carry_numbers_and_rarities() {
    let sim = start_sim(small_sim(5));
    let client = TcgcsvClient::new(&config(&sim.base_url)).unwrap();
    let groups = client.groups(68).await.unwrap();
    let products = client.products(68, groups[0].group_id).await.unwrap();
    let p = products[0].to_product();
    assert!(
        p.number.as_deref().is_some_and(|n| n.starts_with("OP0")),
        "{p:?}"
    );
    assert!(p.rarity.is_some());
    assert_eq!(client.categories().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_generic_user_agent_is_refused() {
    let sim = start_sim(small_sim(5));
    let mut cfg = config(&sim.base_url);
    cfg.http.user_agent = "curl/8.5.0".into();
    let client = TcgcsvClient::new(&cfg).unwrap();
    assert!(matches!(
        client.last_updated().await,
        Err(CollectorError::Status { status: 401, .. })
    ));
    cfg.http.user_agent = String::new();
    assert!(TcgcsvClient::new(&cfg).is_err());
}

#[tokio::test(start_paused = true)]
async fn the_daily_budget_is_respected_and_refills() {
    let sim = start_sim(small_sim(5));
    let mut cfg = config(&sim.base_url);
    cfg.daily_budget = 5;
    let mut source = TcgcsvSource::new(cfg).unwrap();
    let sink = VecSink::new();
    let err = source.collect(&sink).await.unwrap_err();
    assert!(
        matches!(err, CollectorError::BudgetExhausted { limit: 5, .. }),
        "{err}"
    );
    assert_eq!(sim.handle.stats().tcgcsv_requests, 5);
    assert_eq!(source.client().budget_remaining(), 0);
    // Still spent an hour later …
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert!(source.collect(&sink).await.is_err());
    assert_eq!(sim.handle.stats().tcgcsv_requests, 5);
    // … and refilled the next day: five more requests go out (the pass starts over), then
    // the budget stops it again.
    tokio::time::advance(Duration::from_secs(86_400)).await;
    assert!(source.collect(&sink).await.is_err());
    assert_eq!(sim.handle.stats().tcgcsv_requests, 10);
    assert!(
        !sink.is_empty(),
        "the groups priced before the budget ran out were published"
    );
}

/// Accepts `ok_batches` publishes, then fails like a crashed consumer.
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

#[tokio::test]
async fn backfill_resumes_after_interruption() {
    let sim = start_sim(small_sim(9));
    let client = TcgcsvClient::new(&config(&sim.base_url)).unwrap();
    let dir = std::env::temp_dir().join(format!("tcg-backfill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state_path = dir.join("state.json");
    let _ = std::fs::remove_file(&state_path);
    let day = |d: u32| NaiveDate::from_ymd_opt(2024, 2, d).unwrap();
    let plan = BackfillPlan {
        from: day(5),
        to: day(14),
        categories: Vec::new(),
        state_path: state_path.clone(),
        archive_start: day(8),
    };
    let bar = indicatif::ProgressBar::hidden();

    // First run: dies while publishing the third archived day.
    let failing = FailingSink {
        ok_batches: 2,
        seen: AtomicUsize::new(0),
        inner: VecSink::new(),
    };
    let err = backfill(&client, &plan, &failing, &bar, std::future::pending())
        .await
        .unwrap_err();
    assert!(err.is_sink_closed(), "{err}");
    let state = BackfillState::load(&state_path).unwrap();
    assert_eq!(
        state.done.iter().copied().collect::<Vec<_>>(),
        vec![day(8), day(9)]
    );
    assert_eq!(state.missing.len(), 3, "5–7 Feb precede the archive");
    assert_eq!(sim.handle.stats().tcgcsv_archives, 3);
    let first_quotes = failing.inner.take();

    // Second run: only the unfinished days are fetched.
    let sink = Arc::new(VecSink::new());
    let report = backfill(&client, &plan, sink.as_ref(), &bar, std::future::pending())
        .await
        .unwrap();
    assert_eq!(report.days_already_done, 5);
    assert_eq!(report.days_done, 5);
    assert!(!report.interrupted);
    assert_eq!(sim.handle.stats().tcgcsv_archives, 3 + 5);
    let quotes = sink.take();
    let per_day = expected_quotes(&sim, 9, archive_instant(day(10)).as_secs());
    let on_day_10 = quotes
        .iter()
        .filter(|q| q.observed_at == archive_instant(day(10)))
        .count();
    assert_eq!(on_day_10, per_day);
    assert_eq!(
        first_quotes.len(),
        expected_quotes(&sim, 9, archive_instant(day(8)).as_secs())
            + expected_quotes(&sim, 9, archive_instant(day(9)).as_secs())
    );
    assert_eq!(archive_instant(day(10)).to_string(), "2024-02-10T20:00:00Z");

    // A third run has nothing left to do.
    let report = backfill(&client, &plan, sink.as_ref(), &bar, std::future::pending())
        .await
        .unwrap();
    assert_eq!((report.days_done, report.days_already_done), (0, 10));
    assert_eq!(sim.handle.stats().tcgcsv_archives, 8);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn days_without_an_archive_are_missing_not_errors() {
    let sim = start_sim(small_sim(9));
    let client = TcgcsvClient::new(&config(&sim.base_url)).unwrap();
    // The simulator's clock is 2024-03-01: later days have no archive yet.
    assert!(client.archive("2024-03-05").await.unwrap().is_none());
    assert!(client.archive("2024-03-01").await.unwrap().is_some());
}

/// The catalog read for the store: every set and product of the simulator's category, counted
/// right (the products of the last set too).
#[tokio::test]
async fn the_catalog_reads_every_set_and_product_and_counts_them() {
    let sim = start_sim(small_sim(3));
    let client = TcgcsvClient::new(&config(&sim.base_url)).unwrap();
    let mut progress = CatalogProgress::new(Some(Vec::new()), false);
    let c = read_category(&client, 3, &mut progress).await.unwrap();
    let expected = sim
        .handle
        .catalog()
        .products
        .iter()
        .filter(|p| p.category_id == 3)
        .count();
    assert_eq!(c.products.len(), expected);
    assert_eq!(progress.products(), expected);
    assert!(c.failed.is_empty());
    let out = String::from_utf8(progress.into_inner().unwrap()).unwrap();
    assert_eq!(
        out.lines().last().unwrap(),
        format!(
            "catalog: category 3: {expected} products in {} sets",
            c.sets.len()
        )
    );
}

/// TCGCSV's archive answering 403 (it stopped serving its archives to everyone): the back-fill
/// stops at once with a message that says so and what to do, after one request, not retries.
#[tokio::test]
async fn a_refused_archive_stops_the_backfill_with_a_clear_message() {
    let mock = common::mock::serve(|_, _| (403, "<html>403 Forbidden</html>".into())).await;
    let client = TcgcsvClient::new(&config(&mock.base_url)).unwrap();
    let dir = tempfile_dir("refused");
    let day = |d: u32| NaiveDate::from_ymd_opt(2024, 2, d).unwrap();
    let plan = BackfillPlan {
        from: day(8),
        to: day(14),
        categories: Vec::new(),
        state_path: dir.join("state.json"),
        archive_start: day(8),
    };
    let sink = VecSink::new();
    let bar = indicatif::ProgressBar::hidden();
    let err = backfill(&client, &plan, &sink, &bar, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        matches!(err, tcg_collectors::CollectorError::ArchiveRefused { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("HTTP 403") && text.contains("2024-02-08"),
        "{text}"
    );
    assert!(
        text.contains("tcgtracker backfill --source justtcg"),
        "{text}"
    );
    assert_eq!(mock.hits("/archive/"), 1, "one request, no retries");
    let state = BackfillState::load(&plan.state_path).unwrap();
    assert!(
        state.done.is_empty() && state.missing.is_empty(),
        "no day is settled"
    );
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tcg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}
