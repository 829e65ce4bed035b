//! The app-store contract: the same checks against every [`AppStore`] backend, one module per
//! store trait. SQLite (a fresh file per test) and PostgreSQL (a fresh database per test, on the
//! server `TCG_TEST_DATABASE_URL` names or else on one cluster the harness starts for this
//! binary; see `pg.rs`). Never skipped: when no PostgreSQL can start, the tests fail.

#![allow(clippy::unwrap_used)] // tests may unwrap
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod accounts;
mod alerts;
mod copy;
mod deliveries;
#[allow(dead_code)] // shared with tests/contract, which uses more of it
#[path = "../contract/fixtures.rs"]
mod fixtures;
mod pg;
mod portfolios;
mod postgres;

use std::sync::Arc;

use tcg_store::*;

use accounts::*;
use alerts::*;
use deliveries::*;
use fixtures::*;
use portfolios::*;

fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        SqliteStore::open(dir.path().join("app.sqlite")).unwrap(),
        dir,
    )
}

/// One test per check and backend: `sqlite_backend::NAME` and `postgres_backend::NAME`.
macro_rules! app_contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = sqlite();
                    super::$name(&store, Ids::new()).await;
                }
            )*
        }
        mod postgres_backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = pg::TestDb::create().await;
                    let store = db.store().await;
                    super::$name(&store, Ids::new()).await;
                    drop(store);
                    db.drop_db().await;
                }
            )*
        }
    };
}

app_contract!(
    keys_and_webhooks_round_trip,
    users_and_keys,
    webhooks_patches_and_rotation,
    app_data_reads_its_own_writes,
    portfolios_holdings_and_events,
    imports_are_undone_as_a_whole,
    revision_follows_holdings_and_events,
    rules_and_alerts,
    rule_order_and_alert_counts,
    alert_pages_and_import,
    fan_out_and_claims_with_leases,
    attempts_retries_and_failure_streaks,
    give_up_disable_and_enable,
    delete_and_rotation_reach_the_outbox,
);

/// Every check in a row through one `Arc<dyn AppStore>`, as the services hold it.
async fn run_app_contract(store: Arc<dyn AppStore>) {
    let s = store.as_ref();
    let ids = Ids::new;
    keys_and_webhooks_round_trip(s, ids()).await;
    app_data_reads_its_own_writes(s, ids()).await;
    rules_and_alerts(s, ids()).await;
}

mod sqlite_only {
    use super::*;

    #[tokio::test]
    async fn schema_version_and_dyn_app_store() {
        let (store, _dir) = sqlite();
        assert_eq!(store.schema_version().unwrap(), 7);
        assert_eq!(
            store.schema_version().unwrap(),
            tcg_store::sqlite::MIGRATIONS.len() as i64
        );
        run_app_contract(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn connect_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("by-url.db").display());
        let db = AppDatabase::parse(&url).unwrap();
        assert_eq!(db.to_string(), url);
        let store = connect_app_store(&db).await.unwrap();
        store.ping().await.unwrap();
        run_app_contract(store).await;
    }

    /// One process, one file: the dispatcher's handles of one store share its writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_share_the_outbox() {
        let (store, _dir) = sqlite();
        let other = store.clone();
        two_stores_share_the_outbox(&store, &other, Ids::new()).await;
    }

    /// Two processes on one file (a second service with the same `sqlite://` URL): their
    /// write transactions wait for each other instead of failing as "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_opens_of_one_file_share_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let a = SqliteStore::open(dir.path().join("shared.db")).unwrap();
        let b = SqliteStore::open(dir.path().join("shared.db")).unwrap();
        two_stores_share_the_outbox(&a, &b, Ids::new()).await;
    }
}

mod postgres_only {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dyn_app_store() {
        let db = pg::TestDb::create().await;
        run_app_contract(Arc::new(db.store().await)).await;
        db.drop_db().await;
    }

    /// Two instances (two pools) on one database: no delivery is handed to both.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_share_the_outbox() {
        let db = pg::TestDb::create().await;
        let (a, b) = (db.store().await, db.store().await);
        super::two_stores_share_the_outbox(&a, &b, Ids::new()).await;
        drop((a, b));
        db.drop_db().await;
    }
}

mod copying {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_to_sqlite_twice() {
        let ((from, _a), (to, _b)) = (sqlite(), sqlite());
        copy::copy_twice(&from, &to, Ids::new()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_to_postgres_twice() {
        let (from, _dir) = sqlite();
        let db = pg::TestDb::create().await;
        let to = db.store().await;
        copy::copy_twice(&from, &to, Ids::new()).await;
        drop(to);
        db.drop_db().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_to_sqlite_twice() {
        let db = pg::TestDb::create().await;
        let from = db.store().await;
        let (to, _dir) = sqlite();
        copy::copy_twice(&from, &to, Ids::new()).await;
        drop(from);
        db.drop_db().await;
    }
}
