//! The QuestDB adapter against a real QuestDB (started by the harness, or the one of
//! `QUESTDB_HTTP` / `QUESTDB_PG` where a test needs no server of its own): a server crash or
//! stop while rows are buffered, a flush while it is down, and a write the server refuses.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod support;

use std::time::Duration;

use support::TestQuestDb;
use tcg_schemas::{
    Condition, Game, Language, Money, PriceKind, Printing, ProductId, SeriesKey, Source, Tick,
    Timestamp,
};
use tcg_store::{questdb as q, *};

/// 2024-03-01T00:00:00Z
const T0: i64 = 1_709_251_200;

/// `n` ticks with distinct keys from number `first` on: five series, one minute apart.
fn ticks(first: i64, n: i64) -> Vec<Tick> {
    (first..first + n)
        .map(|i| {
            let series = SeriesKey::Sku {
                product_id: ProductId(900_000 + (i % 5) as u64),
                printing: Printing::Normal,
                condition: Condition::NearMint,
                language: Language::English,
            };
            Tick {
                series_id: series.id(),
                series,
                game: Game::Pokemon,
                source: Source::Tcgplayer,
                kind: PriceKind::Market,
                observed_at: Timestamp::from_secs(T0 + i * 60),
                price_usd: Money::usd_cents(100 + i),
                original: Money::usd_cents(100 + i),
                shipping: None,
                listing_id: None,
                confidence: None,
                agreeing: Vec::new(),
                heartbeat: false,
            }
        })
        .collect()
}

/// Flushes only when asked: no row, byte or age limit is reached in these tests.
fn buffering(db: &TestQuestDb, retry: Duration) -> QuestDbConfig {
    let mut c = db.config();
    c.max_rows = 10_000_000;
    c.max_bytes = 512 * 1024 * 1024;
    c.max_age = Duration::from_secs(3600);
    c.retry_timeout = retry;
    c.visibility_timeout = Duration::from_secs(120);
    c
}

/// (rows, sum of prices, distinct tick keys) of the test's series, over PGWire.
async fn tick_counts(db: &TestQuestDb) -> (i64, i64, i64) {
    let c = db.pg_client().await;
    let r = c
        .query_one(
            "SELECT count(), sum(price_cents) FROM ticks WHERE product_id >= 900000 AND product_id < 900005",
            &[],
        )
        .await
        .unwrap();
    let d = c
        .query_one(
            "SELECT count() FROM (SELECT DISTINCT observed_at, series, source, kind, listing_id FROM ticks WHERE product_id >= 900000 AND product_id < 900005)",
            &[],
        )
        .await
        .unwrap();
    (
        r.get(0),
        r.try_get::<_, Option<i64>>(1).unwrap().unwrap_or(0),
        d.get(0),
    )
}

fn price_sum(first: i64, n: i64) -> i64 {
    (first..first + n).map(|i| 100 + i).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_with_rows_buffered_loses_nothing_and_doubles_nothing() {
    let mut db = TestQuestDb::start().await;
    let store = QuestDbStore::connect(buffering(&db, Duration::from_secs(30)))
        .await
        .unwrap();
    // Batch A is flushed and applied before the crash.
    let a = ticks(0, 500);
    store.write_ticks(&a).await.unwrap();
    store.sync().await.unwrap();
    assert_eq!(tick_counts(&db).await, (500, price_sum(0, 500), 500));
    // Batch B is only buffered when the server dies.
    let b = ticks(500, 700);
    store.write_ticks(&b).await.unwrap();
    assert_eq!(store.writer().pending_rows(), 700);
    assert_eq!(tick_counts(&db).await.0, 500, "B was not sent yet");
    db.with_server(|s| {
        s.kill();
        s.restart()
    })
    .await
    .unwrap();
    // The buffered rows go out to the restarted server; A is replayed too (a consumer that
    // had not committed its offsets): DEDUP keeps one row per key.
    store.flush().await.unwrap();
    assert_eq!(store.writer().pending_rows(), 0);
    store.write_ticks(&a).await.unwrap();
    store.sync().await.unwrap();
    assert_eq!(tick_counts(&db).await, (1200, price_sum(0, 1200), 1200));
    // Reads work again over a new PGWire connection.
    let latest = store
        .latest_prices(&[b[699].series_id.clone()], &PriceFilter::any())
        .await
        .unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].observed_at, Timestamp::from_secs(T0 + 1199 * 60));
    drop(store);
    db.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_while_the_server_is_down_keeps_the_rows_then_succeeds() {
    let mut db = TestQuestDb::start().await;
    // A writer that gives up quickly, and one that retries through the outage.
    let store = QuestDbStore::connect(buffering(&db, Duration::from_millis(500)))
        .await
        .unwrap();
    let patient = IlpWriter::new(&buffering(&db, Duration::from_secs(120))).unwrap();
    let b = ticks(0, 300);
    store.write_ticks(&b).await.unwrap();
    let c = ticks(300, 200);
    patient
        .append(c.len(), false, move |buf| {
            c.iter().try_for_each(|t| q::encode_tick(buf, t))
        })
        .await
        .unwrap();
    let pending = store.writer().pending_bytes();
    db.with_server(|s| s.stop()).await;

    let err = store.flush().await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::FlushFailed {
                pending_rows: 300,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
    assert_eq!(store.writer().pending_rows(), 300);
    assert_eq!(
        store.writer().pending_bytes(),
        pending,
        "rows kept as they were"
    );
    // Reads fail while it is down, too.
    assert!(
        store
            .latest_prices(&[b[0].series_id.clone()], &PriceFilter::any())
            .await
            .is_err()
    );

    // The patient flush starts while the server is down and ends once it is back.
    let flushing = tokio::spawn({
        let patient = patient.clone();
        async move { patient.flush().await }
    });
    db.with_server(|s| s.restart()).await.unwrap();
    flushing.await.unwrap().unwrap();
    assert_eq!(patient.pending_rows(), 0);

    store.flush().await.unwrap();
    assert_eq!(store.writer().pending_rows(), 0);
    // A flush with nothing pending sends nothing; the same rows once more change nothing.
    store.flush().await.unwrap();
    store.write_ticks(&b).await.unwrap();
    store.sync().await.unwrap();
    assert_eq!(tick_counts(&db).await, (500, price_sum(0, 500), 500));
    drop(store);
    db.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_names_the_table_and_the_column() {
    let db = TestQuestDb::start().await;
    // A `ticks` table made before ours, with a conflicting type: listing_id LONG. Our
    // CREATE TABLE IF NOT EXISTS leaves it as it is, and our text listing ids do not fit.
    db.pg_client()
        .await
        .simple_query(
            "CREATE TABLE ticks (observed_at TIMESTAMP, series SYMBOL, source SYMBOL, kind SYMBOL, listing_id LONG, price_cents LONG) \
             TIMESTAMP(observed_at) PARTITION BY DAY WAL",
        )
        .await
        .unwrap();
    let store = QuestDbStore::connect(buffering(&db, Duration::from_secs(5)))
        .await
        .unwrap();
    let t = ticks(0, 3);
    store.write_ticks(&t).await.unwrap();
    let err = store.flush().await.unwrap_err();
    let text = err.to_string();
    match &err {
        StoreError::Refused {
            table,
            column,
            reason,
            pending_rows,
            ..
        } => {
            assert_eq!(table.as_deref(), Some("ticks"), "{text}");
            assert_eq!(column.as_deref(), Some("listing_id"), "{text}");
            assert!(
                reason.contains("STRING") && reason.contains("LONG"),
                "{text}"
            );
            assert_eq!(*pending_rows, 3);
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert!(
        text.contains("table ticks") && text.contains("column listing_id"),
        "{text}"
    );
    let source = std::error::Error::source(&err).expect("the questdb-rs error is kept");
    assert!(source.to_string().contains("cast error"), "{source}");
    // Nothing of the batch went in, and the rows are still there (not lost silently).
    assert_eq!(store.writer().pending_rows(), 3);
    let c = db.pg_client().await;
    let n: i64 = c
        .query_one("SELECT count() FROM ticks", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // Once dropped on purpose, the writer goes on with other tables.
    assert_eq!(store.writer().discard_pending(), 3);
    let owner = tcg_schemas::UserId("refused-test".into());
    let pf = tcg_schemas::Portfolio {
        id: tcg_schemas::PortfolioId(uuid::Uuid::from_u128(7)),
        owner: owner.clone(),
        name: "after".into(),
        created_at: Timestamp::from_secs(T0),
    };
    store.upsert_portfolio(&pf).await.unwrap();
    store.sync().await.unwrap();
    assert_eq!(store.portfolios(&owner).await.unwrap(), vec![pf]);
    drop(store);
    db.shut_down().await;
}

/// A `ticks` table made by an older build (no `agreeing` column) gets the column at start-up,
/// and a fair value's confidence and agreeing sources come back with its latest price.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_ticks_table_gains_the_agreeing_column() {
    let db = TestQuestDb::start().await;
    db.pg_client()
        .await
        .simple_query(
            "CREATE TABLE ticks (observed_at TIMESTAMP, series SYMBOL, source SYMBOL, kind SYMBOL, \
             game SYMBOL, orig_currency SYMBOL, ship_currency SYMBOL, listing_id VARCHAR, \
             product_id LONG, price_cents LONG, orig_minor LONG, ship_minor LONG, confidence LONG, \
             heartbeat BOOLEAN) TIMESTAMP(observed_at) PARTITION BY DAY WAL \
             DEDUP UPSERT KEYS(observed_at, series, source, kind, listing_id)",
        )
        .await
        .unwrap();
    let store = QuestDbStore::connect(buffering(&db, Duration::from_millis(50)))
        .await
        .unwrap();
    let mut fair = ticks(0, 1).remove(0);
    fair.source = Source::Tcgtracker;
    fair.kind = PriceKind::Fair;
    fair.confidence = Some(72);
    fair.agreeing = vec![Source::Cardmarket, Source::Tcgplayer];
    store
        .write_ticks(std::slice::from_ref(&fair))
        .await
        .unwrap();
    store.flush().await.unwrap();
    store.sync().await.unwrap();
    let latest = store
        .latest_prices(std::slice::from_ref(&fair.series_id), &PriceFilter::any())
        .await
        .unwrap();
    assert_eq!(latest.len(), 1, "{latest:?}");
    assert_eq!(latest[0].confidence, Some(72));
    assert_eq!(latest[0].agreeing, fair.agreeing);
    // A second start finds the column and adds nothing.
    drop(store);
    QuestDbStore::connect(buffering(&db, Duration::from_millis(50)))
        .await
        .unwrap();
    db.shut_down().await;
}
