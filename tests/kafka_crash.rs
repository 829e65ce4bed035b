//! The distributed processor against a real broker (Apache Kafka from `tcg-engines`), killed
//! with SIGKILL at random moments and restarted, and the broker itself killed with SIGKILL and
//! restarted on the same data while the same processor runs on: every unique observation ends in
//! the store exactly once and every alert exactly once in the outbox (the store's alert table),
//! and SIGTERM stops the processor cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{
    collections::BTreeSet,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use common::{Killed, alert_ids, count};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use tcg_engines::Kafka;
use tcg_pipeline::{
    KafkaConfig, TopicConfig,
    kafka::{admin::ensure_topics, producer::EnvelopeProducer},
};
use tcg_processor_core::{CoreConfig, Processor};
use tcg_schemas::*;

const PARTITIONS: i32 = 4;
const PRODUCTS: u64 = 24;
/// The feeder's polls at least; it goes on until the last disruption is over.
const POLLS: i64 = 250;

/// What happens to the running system, in this order, each at a random moment once the processor
/// has stored something new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disruption {
    /// SIGKILL to the processor, then a new one.
    Processor,
    /// SIGKILL to the broker, a pause, then the broker again on the same data and ports; the
    /// processor is left alone and must carry on by itself.
    Broker,
}

const DISRUPTIONS: [Disruption; 4] = [
    Disruption::Processor,
    Disruption::Broker,
    Disruption::Processor,
    Disruption::Processor,
];

/// How long the broker stays dead.
const BROKER_DOWN: Duration = Duration::from_secs(3);

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
                    min_confirming_sources: None,
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
/// restarted processor takes its killed predecessor's place in the group at once. Kafka knows the
/// instance id, replaces the dead member with the new one and hands it the same partitions
/// without a rebalance. Without it the new member's join starts a rebalance that waits for the
/// dead member until its session times out (`--session-timeout-ms`, 10 s): each kill would stall
/// the partitions for that long. The broker's restart does not need it: the same member goes on.
const INSTANCE_ID: &str = "crash-test-processor-0";

/// A processor, killed if the test ends before it does.
fn spawn_processor(brokers: &str, db: &Path, log: &Path) -> Killed {
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
        .map(Killed)
        .unwrap()
}

/// What the quotes topic holds and what the pipeline owes for it.
#[derive(Debug)]
struct Owed {
    /// Messages on the topic.
    messages: usize,
    /// Distinct quotes among them (a producer's retry without idempotence would add copies).
    unique_quotes: usize,
    /// Distinct ticks the core makes of them.
    ticks: usize,
    alerts: BTreeSet<String>,
}

/// Reads each partition back in order and runs one core per partition, as the processor does.
fn expected(brokers: &str) -> Owed {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "expected")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut ticks = BTreeSet::new();
    let mut alerts = BTreeSet::new();
    let mut quotes = BTreeSet::new();
    let mut messages = 0;
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
            messages += 1;
            quotes.insert(serde_json::to_string(&env.payload).unwrap());
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
    Owed {
        messages,
        unique_quotes: quotes.len(),
        ticks: ticks.len(),
        alerts,
    }
}

/// Sends a poll of every product every 40 ms, at least [`POLLS`] polls and until `enough` is set;
/// counts the polls sent in `sent`. Every send must be acknowledged, through the broker's outage
/// too.
fn feed(
    producer: EnvelopeProducer,
    sent: Arc<AtomicI64>,
    enough: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut rng = StdRng::seed_from_u64(11);
        let mut poll = 0;
        while poll < POLLS || !enough.load(Ordering::SeqCst) {
            let batch: Vec<(String, RawQuote)> = (1..=PRODUCTS)
                .map(|p| (p.to_string(), quote(p, poll, &mut rng)))
                .collect();
            producer.send_all(batch).await.unwrap();
            poll += 1;
            sent.store(poll, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    })
}

/// Waits until the running processor has stored a tick more than `before`; it must not exit.
/// `context` says more when it does not.
async fn wait_for_progress(
    db: &Path,
    log: &Path,
    child: &mut Child,
    before: i64,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(db, "SELECT count(*) FROM ticks") == before {
        let processor_log = || std::fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the processor exited ({status}):\n{}\n{}",
                processor_log(),
                context()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no progress:\n{}\n{}",
            processor_log(),
            context()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The polls the feeder sent, and the end of the broker's log.
fn context(sent: &AtomicI64, broker: &Kafka) -> String {
    format!(
        "{} polls sent; the broker's log:\n{}",
        sent.load(Ordering::SeqCst),
        broker.log()
    )
}

/// SIGKILL to the broker, [`BROKER_DOWN`], and the broker again on the same data; the time it was
/// gone.
fn kill_and_restart_broker(broker: &mut Kafka) -> Duration {
    let killed = Instant::now();
    broker.kill();
    std::thread::sleep(BROKER_DOWN);
    broker
        .restart()
        .unwrap_or_else(|e| panic!("the broker's restart: {e}"));
    killed.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processor_killed_three_times_and_broker_once_loses_and_duplicates_nothing() {
    let mut broker = Kafka::start().expect("kafka broker");
    let brokers = broker.brokers();
    let kafka = KafkaConfig {
        brokers: brokers.clone(),
        client_id: "crash-test".into(),
    };
    ensure_topics(
        &kafka,
        &TopicConfig {
            partitions: PARTITIONS,
            ..TopicConfig::default()
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

    // Quotes keep arriving while the processor and the broker are being killed.
    let sent = Arc::new(AtomicI64::new(0));
    let enough = Arc::new(AtomicBool::new(false));
    let mut feeder = feed(producer.clone(), sent.clone(), enough.clone());

    let mut rng = StdRng::seed_from_u64(2024);
    let (mut kills, mut broker_kills) = (0, 0);
    let mut child = spawn_processor(&brokers, &db, &log);
    for disruption in DISRUPTIONS {
        // At a random moment while the processor is working: once it has stored something new
        // since it (re)started, or since the broker came back.
        let before = count(&db, "SELECT count(*) FROM ticks");
        wait_for_progress(&db, &log, &mut child.0, before, || context(&sent, &broker)).await;
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1500))).await;
        if feeder.is_finished() {
            (&mut feeder).await.unwrap();
            panic!("the quotes stopped before {disruption:?}");
        }
        match disruption {
            Disruption::Processor => {
                child.0.kill().unwrap(); // SIGKILL
                child.0.wait().unwrap();
                kills += 1;
                eprintln!(
                    "kill -9 of the processor #{kills}: {} ticks stored so far, {} polls sent",
                    count(&db, "SELECT count(*) FROM ticks"),
                    sent.load(Ordering::SeqCst)
                );
                child = spawn_processor(&brokers, &db, &log);
            }
            Disruption::Broker => {
                let at_kill = (
                    count(&db, "SELECT count(*) FROM ticks"),
                    sent.load(Ordering::SeqCst),
                );
                let gone = tokio::task::block_in_place(|| kill_and_restart_broker(&mut broker));
                broker_kills += 1;
                eprintln!(
                    "kill -9 of the broker: {} ticks stored, {} polls sent at the kill; back after {gone:?} with {} ticks stored, {} polls sent",
                    at_kill.0,
                    at_kill.1,
                    count(&db, "SELECT count(*) FROM ticks"),
                    sent.load(Ordering::SeqCst)
                );
            }
        }
    }
    // The last processor works too, then the quotes stop.
    let before = count(&db, "SELECT count(*) FROM ticks");
    wait_for_progress(&db, &log, &mut child.0, before, || context(&sent, &broker)).await;
    enough.store(true, Ordering::SeqCst);
    feeder.await.unwrap();

    let owed = expected(&brokers);
    let (expected_ticks, expected_alerts) = (owed.ticks, owed.alerts);
    let polls = sent.load(Ordering::SeqCst);
    eprintln!(
        "{polls} polls sent: {} quotes; on the topic {} messages, {} distinct quotes",
        polls * PRODUCTS as i64,
        owed.messages,
        owed.unique_quotes
    );
    assert_eq!(
        owed.unique_quotes as i64,
        polls * PRODUCTS as i64,
        "every quote sent is on the topic"
    );
    // Unchanged prices are not new observations (no tick), so a little under one per quote.
    assert!(
        expected_ticks > (PRODUCTS as i64 * polls) as usize * 9 / 10,
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
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status}");
    assert!(
        term.elapsed() < Duration::from_secs(5),
        "SIGTERM took {:?}",
        term.elapsed()
    );

    let stored_ticks = count(&db, "SELECT count(*) FROM ticks");
    let stored_alerts = alert_ids(&db);
    eprintln!(
        "kills of the processor: {kills}; kills of the broker: {broker_kills}; unique observations: {expected_ticks}, stored ticks: {stored_ticks}; expected alerts: {}, stored alerts: {}",
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
