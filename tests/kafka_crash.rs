//! The distributed processor against a real broker, killed with SIGKILL at random moments and
//! restarted: every unique observation ends in the store exactly once and every alert exactly
//! once in the outbox (the store's alert table), and SIGTERM stops it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    collections::BTreeSet,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{alert_ids, count};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use tcg_pipeline::{
    KafkaArgs, TopicArgs,
    kafka::{admin::ensure_topics, producer::EnvelopeProducer},
    testkit::Tansu,
};
use tcg_processor_core::{CoreConfig, Processor};
use tcg_schemas::*;

const PARTITIONS: i32 = 4;
const PRODUCTS: u64 = 24;
const POLLS: i64 = 250;

fn quote(product: u64, poll: i64, rng: &mut StdRng) -> RawQuote {
    RawQuote {
        source: Source::Tcgcsv,
        observed_at: Timestamp::from_secs(1_714_521_600 + poll * 600),
        kind: PriceKind::Market,
        // Prices wander around $10 so that the rules keep crossing.
        price: Money::usd_cents(900 + rng.random_range(0..200)),
        shipping: None,
        subject: Subject::TcgProduct {
            category_id: CategoryId(3),
            group_id: None,
            product_id: ProductId(product),
            sub_type_name: "Holofoil".into(),
        },
    }
}

fn rules() -> Vec<AlertRule> {
    (1..=PRODUCTS)
        .map(|p| AlertRule {
            id: RuleId(uuid::Uuid::from_u128(u128::from(p))),
            owner: UserId(format!("user{}", p % 3)),
            name: format!("p{p}"),
            product_id: ProductId(p),
            filter: SeriesFilter::default(),
            condition: if p % 2 == 0 {
                RuleCondition::PriceAbove {
                    threshold_usd: Money::usd_cents(1050),
                }
            } else {
                RuleCondition::PercentChange {
                    percent: "8".parse().unwrap(),
                    window_secs: 3600,
                    direction: Direction::Either,
                }
            },
            cooldown_secs: 1800,
            paused: false,
            created_at: Timestamp::from_secs(0),
            updated_at: Timestamp::from_secs(0),
        })
        .collect()
}

/// The processor's static group membership (`--instance-id`), the same across its restarts: a
/// restarted processor takes its killed predecessor's place in the group at once. Without it, a
/// SIGKILLed member is only expired when another dynamic member heartbeats (tansu checks missed
/// heartbeats on a dynamic member's requests), so the restarted processor alone may wait for
/// partitions that never come.
const INSTANCE_ID: &str = "crash-test-processor-0";

fn spawn_processor(brokers: &str, db: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
        .args(["process", "--brokers", brokers, "--group", "crash-test"])
        .args(["--instance-id", INSTANCE_ID])
        .args([
            "--batch-max",
            "100",
            "--batch-linger-ms",
            "50",
            "--publish",
            "false",
        ])
        .arg("--sqlite")
        .arg(db)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Reads each partition back in order and runs one core per partition, as the processor does.
fn expected(brokers: &str) -> (usize, BTreeSet<String>) {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "expected")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut ticks = BTreeSet::new();
    let mut alerts = BTreeSet::new();
    for partition in 0..PARTITIONS {
        let (low, high) = consumer
            .fetch_watermarks(topics::QUOTES_RAW, partition, Duration::from_secs(10))
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topics::QUOTES_RAW, partition, Offset::Offset(low))
            .unwrap();
        consumer.assign(&tpl).unwrap();
        let mut core = Processor::new(CoreConfig::default());
        for r in rules() {
            core.upsert_rule(r).unwrap();
        }
        let mut next = low;
        while next < high {
            let Some(m) = consumer.poll(Duration::from_secs(5)) else {
                continue;
            };
            let m = m.unwrap();
            next = m.offset() + 1;
            let env = Envelope::<RawQuote>::decode(m.payload().unwrap()).unwrap();
            let out = core.process(env.produced_at, &[env.payload]);
            for t in out.ticks {
                let k = t.key();
                ticks.insert(format!(
                    "{:?}",
                    (k.observed_at, k.series_id, k.source, k.kind, k.listing_id)
                ));
            }
            alerts.extend(out.alerts.into_iter().map(|a| a.id.to_string()));
        }
    }
    (ticks.len(), alerts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processor_killed_three_times_loses_and_duplicates_nothing() {
    let broker = Tansu::start().expect("tansu broker");
    let brokers = broker.brokers();
    let kafka = KafkaArgs {
        brokers: brokers.clone(),
        client_id: "crash-test".into(),
    };
    ensure_topics(
        &kafka,
        &TopicArgs {
            partitions: PARTITIONS,
            ..TopicArgs::default()
        },
    )
    .await
    .unwrap();
    let producer = EnvelopeProducer::new(&kafka).unwrap();
    for r in rules() {
        producer
            .send(&r.id.to_string(), RuleChange::Upsert { rule: r })
            .await
            .unwrap();
    }

    let dir = std::env::temp_dir().join(format!("tcg-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("store.db");
    let log = dir.join("processor.log");

    // Quotes keep arriving while the processor is being killed.
    let feeder = {
        let producer = producer.clone();
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(11);
            for poll in 0..POLLS {
                let batch: Vec<(String, RawQuote)> = (1..=PRODUCTS)
                    .map(|p| (p.to_string(), quote(p, poll, &mut rng)))
                    .collect();
                producer.send_all(batch).await.unwrap();
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };

    let mut rng = StdRng::seed_from_u64(2024);
    let mut kills = 0;
    let mut child = spawn_processor(&brokers, &db, &log);
    while kills < 3 {
        // Kill at a random moment while the processor is working: once it has stored something
        // new since it (re)started.
        let before = count(&db, "SELECT count(*) FROM ticks");
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(&db, "SELECT count(*) FROM ticks") == before {
            assert!(
                Instant::now() < deadline,
                "no progress after a restart:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1500))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        eprintln!(
            "kill -9 #{kills}: {} ticks stored so far",
            count(&db, "SELECT count(*) FROM ticks")
        );
        child = spawn_processor(&brokers, &db, &log);
    }
    feeder.await.unwrap();

    let (expected_ticks, expected_alerts) = expected(&brokers);
    // Unchanged prices are not new observations (no tick), so a little under one per quote.
    assert!(
        expected_ticks > (PRODUCTS as i64 * POLLS) as usize * 9 / 10,
        "{expected_ticks}"
    );
    assert!(
        expected_alerts.len() > 50,
        "the rules fire often enough to matter: {}",
        expected_alerts.len()
    );

    let deadline = Instant::now() + Duration::from_secs(180);
    while count(&db, "SELECT count(*) FROM ticks") < expected_ticks as i64
        || alert_ids(&db).len() < expected_alerts.len()
    {
        assert!(
            Instant::now() < deadline,
            "the restarted processor did not catch up:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // SIGTERM: drains and exits promptly.
    let term = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status}");
    assert!(
        term.elapsed() < Duration::from_secs(5),
        "SIGTERM took {:?}",
        term.elapsed()
    );

    let stored_ticks = count(&db, "SELECT count(*) FROM ticks");
    let stored_alerts = alert_ids(&db);
    eprintln!(
        "kills: {kills}; unique observations: {expected_ticks}, stored ticks: {stored_ticks}; expected alerts: {}, stored alerts: {}",
        expected_alerts.len(),
        stored_alerts.len()
    );
    assert_eq!(
        stored_ticks, expected_ticks as i64,
        "each observation exactly once"
    );
    let extra: Vec<&String> = stored_alerts.difference(&expected_alerts).take(5).collect();
    let missing: Vec<&String> = expected_alerts.difference(&stored_alerts).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "each alert exactly once: {} stored, {} expected; extra (first 5) {extra:?}, missing (first 5) {missing:?}",
        stored_alerts.len(),
        expected_alerts.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
