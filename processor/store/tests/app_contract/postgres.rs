//! What only the PostgreSQL app store has: versioned migrations under an advisory lock, and a
//! pool that fails fast while the server is away and recovers by itself.

use std::time::{Duration, Instant};

use tcg_schemas::Timestamp;
use tcg_store::*;

use crate::{fixtures::*, pg::*};

/// Four instances starting at once on a fresh database: each migration is applied and recorded
/// once, and all four stores work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connects_migrate_once() {
    let db = TestDb::create().await;
    let config = db.config();
    let (a, b, c, d) = tokio::join!(
        PostgresAppStore::connect(&config),
        PostgresAppStore::connect(&config),
        PostgresAppStore::connect(&config),
        PostgresAppStore::connect(&config),
    );
    let stores = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT version, name, count(*) OVER (PARTITION BY version)
               FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let recorded: Vec<(i64, String, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let want: Vec<(i64, String, i64)> = tcg_store::postgres::MIGRATIONS
        .iter()
        .map(|m| (m.version, m.name.to_owned(), 1))
        .collect();
    assert_eq!(recorded, want);
    for (i, s) in stores.iter().enumerate() {
        s.ping().await.unwrap();
        s.ensure_user(
            &tcg_schemas::UserId(format!("u{i}")),
            Timestamp::from_secs(1),
        )
        .await
        .unwrap();
    }
    for s in &stores {
        assert_eq!(s.users().await.unwrap().len(), 4);
        let applied = s.applied_migrations().await.unwrap();
        assert_eq!(applied.len(), want.len());
    }
    // A later start applies nothing.
    let again = db.store().await;
    assert_eq!(
        again.applied_migrations().await.unwrap(),
        stores[0].applied_migrations().await.unwrap()
    );
    drop((stores, again));
    db.drop_db().await;
}

/// A database migrated by a newer binary is refused, not written to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let db = TestDb::create().await;
    drop(db.store().await);
    db.client()
        .await
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')",
            &[],
        )
        .await
        .unwrap();
    let err = PostgresAppStore::connect(&db.config()).await.unwrap_err();
    assert!(matches!(err, StoreError::Migration(_)), "{err:?}");
    assert!(err.to_string().contains("9999"), "{err}");
    assert!(!err.is_unavailable());
    db.drop_db().await;
}

/// Sessions ended under the store (as a restart or a failover ends them): every call either
/// works or fails as unavailable, and the store works again by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_sessions_are_replaced() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let ids = Ids::new();
    store
        .ensure_user(&ids.user("x"), Timestamp::from_secs(1))
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(
            db.terminate_sessions().await >= 1,
            "the store had a session"
        );
        let mut ok = false;
        for _ in 0..5 {
            match store.users().await {
                Ok(users) => {
                    assert_eq!(users.len(), 1);
                    ok = true;
                    break;
                }
                Err(e) => assert!(e.is_unavailable(), "{e:?}"),
            }
        }
        assert!(ok, "the store did not recover");
    }
    db.drop_db().await;
}

/// The server stopped under a store in use: calls fail within the timeouts with errors that say
/// unavailable; after the restart the same store works again, nothing reopened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_fails_fast_then_recovers() {
    let mut cluster = own_cluster().await;
    let db = TestDb::create_on(cluster.url()).await;
    let store = db.store().await;
    let ids = Ids::new();
    let user = ids.user("kept");
    store
        .ensure_user(&user, Timestamp::from_secs(1))
        .await
        .unwrap();
    cluster = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let err = store.users().await.unwrap_err();
        let took = started.elapsed();
        assert!(err.is_unavailable(), "{err:?}");
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
        assert!(took < Duration::from_secs(5), "failed after {took:?}");
        let err = store.claim_due(at(0), 10, at(60)).await.unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
    }
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.restart().unwrap();
        cluster
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let users = loop {
        match store.users().await {
            Ok(u) => break u,
            Err(e) if e.is_unavailable() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no recovery: {e:?}"),
        }
    };
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, user);
    drop(store);
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
}

/// No server at all: connecting fails at once, as unavailable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_is_unavailable() {
    let port = tcg_engines::free_port().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{port}/none");
    let started = Instant::now();
    let err = PostgresAppStore::connect_url(&url).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let db = AppDatabase::parse(&url).unwrap();
    let err = connect_app_store(&db).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

/// Every connection busy past the wait timeout: the call fails as unavailable, not hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_times_out() {
    let db = TestDb::create().await;
    let mut config = db.config();
    config.max_connections = 1;
    config.wait_timeout = Duration::from_millis(300);
    let store = PostgresAppStore::connect(&config).await.unwrap();
    let held = store.pool().get().await.unwrap();
    let started = Instant::now();
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Pool(_)), "{err:?}");
    assert!(err.is_unavailable());
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(held);
    store.ping().await.unwrap();
    drop(store);
    db.drop_db().await;
}

/// The store by URL: `connect_app_store` gives a working PostgreSQL store; its `Debug` shows no
/// password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_by_url() {
    let db = TestDb::create().await;
    let url = db.url();
    assert!(url.contains(&db.name), "{url}");
    let parsed = AppDatabase::parse(&url).unwrap();
    let store = connect_app_store(&parsed).await.unwrap();
    store.ping().await.unwrap();
    assert!(format!("{store:?}").contains("PostgresAppStore"));
    drop(store);
    db.drop_db().await;
}
