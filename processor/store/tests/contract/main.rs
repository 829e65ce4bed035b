//! The store contract: the same checks against every backend, one module per store trait. SQLite
//! always; QuestDB always too: the server `QUESTDB_HTTP` and `QUESTDB_PG` name, or else a real
//! QuestDB the harness starts. The checks of the app's own data that need no ticks live in the
//! app-store contract (`tests/app_contract`, SQLite and PostgreSQL); the whole suite here runs
//! them on every `Store` too.

#![allow(clippy::unwrap_used)] // tests may unwrap
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

#[path = "../support/mod.rs"]
mod support;

mod alerts;
#[allow(dead_code)] // the app-store contract's checks, of which this suite runs some
#[path = "../app_contract/alerts.rs"]
mod app_alerts;
#[allow(dead_code)]
#[path = "../app_contract/portfolios.rs"]
mod app_portfolios;
mod catalog;
mod fixtures;
mod portfolios;
mod ticks;

use tcg_schemas::{Condition, Currency, Money, ProductId};
use tcg_store::*;

use alerts::*;
use app_portfolios::app_data_reads_its_own_writes;
use catalog::*;
use fixtures::*;
use portfolios::*;
use ticks::*;

/// Every contract check, in order.
async fn run_contract(store: &dyn Store) {
    let ids = Ids::new();
    ticks_are_idempotent(store, ids).await;
    latest_prices_per_source_and_kind(store, ids).await;
    tcgplayer_printings_are_the_priced_ones(store, ids).await;
    candles_fill_and_filter(store, ids).await;
    movers_rank_by_window(store, ids).await;
    catalog_search_and_pages(store, ids).await;
    rules_and_alerts(store, ids).await;
    portfolio_valuation(store, ids).await;
    app_data_reads_its_own_writes(store, ids).await;
    listings_for_copying(store, ids).await;
}

fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        SqliteStore::open(dir.path().join("store.sqlite")).unwrap(),
        dir,
    )
}

macro_rules! sqlite_contract {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (store, _dir) = sqlite();
            super::$name(&store, Ids::new()).await;
        }
    )*};
}

mod sqlite_backend {
    use super::*;
    sqlite_contract!(
        ticks_are_idempotent,
        latest_prices_per_source_and_kind,
        tcgplayer_printings_are_the_priced_ones,
        candles_fill_and_filter,
        movers_rank_by_window,
        catalog_search_and_pages,
        portfolio_valuation,
        listings_for_copying
    );

    #[tokio::test]
    async fn whole_suite_through_dyn_store() {
        let (store, _dir) = sqlite();
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
        run_contract(store.as_ref()).await;
        assert_eq!(store.backend(), "sqlite");
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let s = sku(ProductId(1), Condition::NearMint);
        {
            let store = SqliteStore::open(&path).unwrap();
            store.write_ticks(&[market(&s, 0, 100)]).await.unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            tcg_store::sqlite::MIGRATIONS.len() as i64
        );
        assert_eq!(
            store
                .latest_prices(&[s.id()], &PriceFilter::any())
                .await
                .unwrap()
                .len(),
            1
        );
        let r = store.write_ticks(&[market(&s, 0, 100)]).await.unwrap();
        assert_eq!(r.new_rows, Some(0));
    }

    #[tokio::test]
    async fn non_usd_price_is_refused() {
        let (store, _dir) = sqlite();
        let mut t = market(&sku(ProductId(1), Condition::NearMint), 0, 100);
        t.price_usd = Money::new(100, Currency::EUR);
        assert!(matches!(
            store.write_ticks(&[t]).await,
            Err(StoreError::InvalidTick(_))
        ));
    }
}

/// Runs the whole contract against a real QuestDB: the one of `QUESTDB_HTTP` / `QUESTDB_PG`, or
/// one the harness starts (a failure to start it fails the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questdb_contract_suite() {
    let db = support::TestQuestDb::from_env_or_start().await;
    let mut config = db.config();
    config.max_age = std::time::Duration::from_millis(200);
    let store = QuestDbStore::connect(config).await.unwrap();
    run_contract(&store).await;
    assert_eq!(store.backend(), "questdb");
    assert_eq!(store.writer().pending_rows(), 0);
    drop(store);
    db.shut_down().await;
}
