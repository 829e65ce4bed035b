//! `tcgtracker collect --sync-catalog --track-from-store` (distributed mode): the collector writes
//! TCGCSV's catalog to the shared store, and eBay is searched for the cards users watch with alert
//! rules there, not only for a static watch list.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};
use tcg_store::prelude::*;

use common::{BIN, Killed, free_port};
use tcg_schemas::{
    AlertRule, Money, ProductId, RuleCondition, RuleId, SeriesFilter, Timestamp, UserId,
};
use tcg_store::{AccountStore, SqliteStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_searches_the_cards_users_watch_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _sim = Killed(
        Command::new(BIN)
            .args([
                "sim",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--seed",
                "5",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // One card of the simulator's catalog, in the store, watched by a rule.
    let client = tcg_collectors::tcgcsv::TcgcsvClient::new(&tcg_collectors::tcgcsv::TcgcsvConfig {
        base_url: base.clone(),
        ..Default::default()
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let groups = loop {
        match client.groups(3).await {
            Ok(g) => break g,
            Err(e) => {
                assert!(Instant::now() < deadline, "simulator not up: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let products: Vec<_> = client
        .products(3, groups[0].group_id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.to_product())
        .filter(|p| !p.is_sealed())
        .collect();
    let card = products[3].clone();
    let db = dir.path().join("shared.db");
    // No catalog in the store yet: `--sync-catalog` writes it before the first eBay pass.
    let store = SqliteStore::open(&db).unwrap();
    let at = Timestamp::from_secs(1_700_000_000);
    store.ensure_user(&UserId("ann".into()), at).await.unwrap();
    store
        .upsert_rule(&AlertRule {
            id: RuleId(uuid::Uuid::new_v4()),
            owner: UserId("ann".into()),
            name: "watch".into(),
            product_id: card.product_id,
            filter: SeriesFilter::default(),
            condition: RuleCondition::PriceBelow {
                threshold_usd: Money::usd_cents(1),
            },
            cooldown_secs: 60,
            paused: false,
            created_at: at,
            updated_at: at,
        })
        .await
        .unwrap();
    drop(store);

    let out = Command::new(BIN)
        .args([
            "collect",
            "--base-url",
            &base,
            "--sources",
            "ebay",
            "--stdout",
        ])
        .args(["--track-from-store", "--sync-catalog", "--categories", "3"])
        .args(["--sqlite", db.to_str().unwrap()])
        .args(["--duration-secs", "4"])
        .env_remove("TCG_SQLITE")
        .env_remove("QUESTDB_HTTP")
        .env_remove("QUESTDB_PG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let quotes: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        !quotes.is_empty(),
        "no eBay quotes; collect said:\n{stderr}"
    );
    let ProductId(id) = card.product_id;
    let for_card = quotes
        .iter()
        .filter(|q| q.to_string().contains(&format!("\"product_id\":{id}")))
        .count();
    assert_eq!(
        for_card,
        quotes.len(),
        "every listing is for the watched card {id}"
    );
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        store
            .product(card.product_id)
            .await
            .unwrap()
            .map(|p| p.name),
        Some(card.name.clone()),
        "the catalog was synced"
    );
    assert!(store.sets(None).await.unwrap().len() >= groups.len());
}
