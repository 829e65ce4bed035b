//! The stores as the processor's output sinks: what `StoreSink` and `AlertOutboxSink` write.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::sync::Arc;

use tcg_ports::OutputSink;
use tcg_schemas::{
    AlertEvent, AlertId, Game, Language, Money, PriceKind, Printing, ProductId, RuleId, SeriesKey,
    Source, Tick, Timestamp, Trigger, UserId,
};
use tcg_store::{AlertOutboxSink, AlertStore, PriceFilter, SqliteStore, StoreSink, TickStore};

fn series(product: u64) -> SeriesKey {
    SeriesKey::Sku {
        product_id: ProductId(product),
        printing: Printing::Holofoil,
        condition: tcg_schemas::Condition::NearMint,
        language: Language::English,
    }
}

fn tick(product: u64, secs: i64, cents: i64) -> Tick {
    let s = series(product);
    Tick {
        series_id: s.id(),
        series: s,
        game: Game::Pokemon,
        source: Source::Tcgcsv,
        kind: PriceKind::Market,
        observed_at: Timestamp::from_secs(1_709_251_200 + secs),
        price_usd: Money::usd_cents(cents),
        original: Money::usd_cents(cents),
        shipping: None,
        listing_id: None,
        confidence: None,
        agreeing: Vec::new(),
        heartbeat: false,
    }
}

fn alert(t: &Tick) -> AlertEvent {
    let rule = RuleId(uuid::Uuid::from_u128(7));
    AlertEvent {
        id: AlertId::derive(rule, &t.series_id, t.observed_at, t.source, t.kind, None),
        rule_id: rule,
        owner: UserId("ash".into()),
        rule_name: "below $5".into(),
        product_id: t.series.product_id(),
        series_id: t.series_id.clone(),
        series: t.series.clone(),
        source: t.source,
        kind: t.kind,
        observed_at: t.observed_at,
        price_usd: t.price_usd,
        listing_id: None,
        trigger: Trigger::PriceBelow {
            threshold_usd: Money::usd_cents(500),
        },
        message: "below $5".into(),
    }
}

fn open() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
    (dir, Arc::new(store))
}

async fn latest_cents(store: &SqliteStore, product: u64) -> Vec<i64> {
    let ids = vec![series(product).id()];
    store
        .latest_prices(&ids, &PriceFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|l| l.price_usd.minor)
        .collect()
}

#[tokio::test]
async fn the_store_sink_stores_ticks_and_alerts_and_a_replay_changes_nothing() {
    let (_dir, store) = open();
    let sink = StoreSink(store.clone());
    let ticks = vec![tick(1, 0, 400), tick(1, 60, 450)];
    let alerts = vec![alert(&ticks[0])];
    sink.deliver(&ticks, &alerts).await.unwrap();
    sink.deliver(&ticks, &alerts).await.unwrap();
    assert_eq!(latest_cents(&store, 1).await, vec![450]);
    let stored = store.alerts(&UserId("ash".into()), 10).await.unwrap();
    assert_eq!(stored, alerts, "once, although delivered twice");
}

#[tokio::test]
async fn the_outbox_sink_takes_alerts_only() {
    let (_dir, store) = open();
    let sink = AlertOutboxSink(store.clone());
    let ticks = vec![tick(2, 0, 300)];
    let alerts = vec![alert(&ticks[0])];
    sink.deliver(&ticks, &alerts).await.unwrap();
    assert!(latest_cents(&store, 2).await.is_empty(), "no tick stored");
    assert_eq!(
        store.alerts(&UserId("ash".into()), 10).await.unwrap(),
        alerts
    );
}
