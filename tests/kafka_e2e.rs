//! The distributed pipeline end to end, every component its own `tcgtracker` process against a
//! real broker (Apache Kafka from `tcg-engines`, on free loopback ports): `sim` → two `collect` processes (TCGplayer API,
//! TCGCSV) → tcg.quotes.raw.v1 → `process` → the SQLite store, tcg.ticks.v1 and tcg.alerts.v1.
//!
//! What the collectors put on the quotes topic is read back and run through the processor core
//! (one core per partition, in log order, with the same rules), which says exactly which ticks
//! and alerts the pipeline owes. Every one of them must be in the store exactly once, with the
//! core's price, and nothing else; the ticks and alerts published on the output topics must be
//! the store's.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use common::{alert_ids, count, free_port};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use tcg_engines::Kafka;
use tcg_pipeline::{KafkaConfig, kafka::producer::EnvelopeProducer};
use tcg_processor_core::{CoreConfig, Processor, Stats};
use tcg_schemas::*;
use tcg_store::codes::{kind_code, source_code};

const PARTITIONS: i32 = 4;
const SEED: u64 = 7;
const SETS: u32 = 2;
const CARDS: u32 = 12;
const SEALED: u32 = 1;
const PASSES: u32 = 3;

/// A child process killed (if still running) when the test ends, however it ends.
struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    fn spawn(name: &'static str, dir: &Path, args: &[&str]) -> Proc {
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Proc { name, child }
    }

    /// SIGTERM, then the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn log_of(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tcgtracker {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Rules on every card of the simulated catalog: a 0.01 % move within an hour, either way, no
/// cooldown. The simulated prices drift a little every second (intraday noise of at most
/// ±0.5 %; real singles rarely move 1 % within an hour), so a cent's move fires them; but a
/// run of a few seconds may see no card move a whole cent, so the first three cards also have
/// a rule that fires on their first price (above $0.01), whatever the market does.
fn rules() -> Vec<AlertRule> {
    let catalog = tcg_simulator::catalog::SimCatalog::generate(SEED, &[3], SETS, CARDS, SEALED);
    let cards: Vec<_> = catalog.products.iter().filter(|p| !p.is_sealed()).collect();
    let first_price = cards.iter().take(3).enumerate().map(|(i, p)| AlertRule {
        id: RuleId(uuid::Uuid::from_u128(5000 + i as u128)),
        owner: UserId(format!("user{i}")),
        name: format!("first price of {}", p.product_id),
        product_id: ProductId(p.product_id),
        filter: SeriesFilter::default(),
        condition: RuleCondition::PriceAbove {
            threshold_usd: tcg_schemas::Money::usd_cents(1),
        },
        cooldown_secs: 0,
        paused: false,
        created_at: Timestamp::from_secs(0),
        updated_at: Timestamp::from_secs(0),
    });
    cards
        .iter()
        .enumerate()
        .map(|(i, p)| AlertRule {
            id: RuleId(uuid::Uuid::from_u128(1000 + i as u128)),
            owner: UserId(format!("user{}", i % 3)),
            name: format!("moves of {}", p.product_id),
            product_id: ProductId(p.product_id),
            filter: SeriesFilter::default(),
            condition: RuleCondition::PercentChange {
                percent: "0.01".parse().unwrap(),
                window_secs: 3600,
                direction: Direction::Either,
                min_confirming_sources: None,
            },
            cooldown_secs: 0,
            paused: false,
            created_at: Timestamp::from_secs(0),
            updated_at: Timestamp::from_secs(0),
        })
        .chain(first_price)
        .collect()
}

/// Every message of `topic` (all partitions, up to the current end), decoded.
fn read_topic<T: TopicPayload>(brokers: &str) -> Vec<(i32, Envelope<T>)> {
    let topic = T::TOPIC;
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "e2e-reader")
        .set("enable.auto.commit", "false")
        .set("broker.address.family", "v4")
        .create()
        .unwrap();
    let mut out = Vec::new();
    for partition in 0..PARTITIONS {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, Duration::from_secs(10))
            .unwrap();
        if high <= low {
            continue;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(low))
            .unwrap();
        consumer.assign(&tpl).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut next = low;
        while next < high {
            assert!(Instant::now() < deadline, "reading {topic}/{partition}");
            let Some(m) = consumer.poll(Duration::from_millis(500)) else {
                continue;
            };
            let m = m.unwrap();
            next = m.offset() + 1;
            out.push((
                partition,
                Envelope::<T>::decode(m.payload().unwrap()).unwrap(),
            ));
        }
    }
    out
}

/// A tick's store identity (series, source, kind, observed at, listing).
fn tick_key(t: &Tick) -> String {
    store_key(
        &t.series_id,
        t.source,
        t.kind,
        t.observed_at,
        t.listing_id.as_deref(),
    )
}

/// The store identity of a tick, or of the tick an alert fired on.
fn store_key(
    series_id: &str,
    source: Source,
    kind: PriceKind,
    observed_at: Timestamp,
    listing_id: Option<&str>,
) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        series_id,
        source_code(source),
        kind_code(kind),
        observed_at.as_micros(),
        listing_id.unwrap_or("")
    )
}

/// What the pipeline owes for the quotes on the topic.
#[derive(Debug, Default)]
struct Expected {
    quotes: usize,
    unique_quotes: usize,
    stats: Stats,
    invalid: usize,
    /// tick key → (USD cents, heartbeat)
    ticks: BTreeMap<String, (i64, bool)>,
    alerts: BTreeSet<String>,
}

fn expected(brokers: &str) -> Expected {
    let mut by_partition: BTreeMap<i32, Vec<Envelope<RawQuote>>> = BTreeMap::new();
    for (p, env) in read_topic::<RawQuote>(brokers) {
        by_partition.entry(p).or_default().push(env);
    }
    let mut e = Expected::default();
    let mut unique = BTreeSet::new();
    for envs in by_partition.values() {
        let mut core = Processor::new(CoreConfig::default());
        for r in rules() {
            core.upsert_rule(r).unwrap();
        }
        for env in envs {
            e.quotes += 1;
            unique.insert(serde_json::to_string(&env.payload).unwrap());
            let out = core.process(env.produced_at, std::slice::from_ref(&env.payload));
            e.stats.add(&out.stats);
            e.invalid += out
                .rejected
                .iter()
                .filter(|r| r.reason.is_invalid_input())
                .count();
            for t in &out.ticks {
                assert!(
                    e.ticks
                        .insert(tick_key(t), (t.price_usd.minor, t.heartbeat))
                        .is_none(),
                    "the core made one tick twice"
                );
            }
            e.alerts.extend(out.alerts.iter().map(|a| a.id.to_string()));
        }
    }
    e.unique_quotes = unique.len();
    e
}

/// The store's ticks: key → (USD cents, heartbeat), and the number of rows.
fn stored_ticks(db: &Path) -> (BTreeMap<String, (i64, bool)>, usize) {
    let store = tcg_store::SqliteStore::open(db).unwrap();
    store
        .with_reader(|c| {
            let mut st = c.prepare(
                "SELECT s.series_id, t.source, t.kind, t.ts, t.listing_id, t.price_cents, t.heartbeat
                 FROM ticks t JOIN series s ON s.sid = t.sid",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        format!(
                            "{}|{}|{}|{}|{}",
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, String>(4)?
                        ),
                        (r.get::<_, i64>(5)?, r.get::<_, i64>(6)? != 0),
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let n = rows.len();
            Ok((rows.into_iter().collect(), n))
        })
        .unwrap()
}

fn first_differences<V: PartialEq + std::fmt::Debug>(
    a: &BTreeMap<String, V>,
    b: &BTreeMap<String, V>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => diffs.push(format!("only in the first: {k} {v:?}")),
            Some(w) if w != v => diffs.push(format!("{k}: {v:?} vs {w:?}")),
            _ => {}
        }
    }
    for (k, v) in b {
        if !a.contains_key(k) {
            diffs.push(format!("only in the second: {k} {v:?}"));
        }
    }
    diffs.truncate(5);
    diffs
}

async fn poll_until(
    what: &str,
    limit: Duration,
    logs: impl Fn() -> String,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_to_store_through_kafka_counts_every_unique_observation() {
    let started = Instant::now();
    let broker = Kafka::start().expect("kafka broker");
    let brokers = broker.brokers();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let db_arg = db.to_str().unwrap().to_owned();
    let partitions = PARTITIONS.to_string();

    // Topics, twice: the second run changes nothing.
    let topic_args = [
        "topics",
        "create",
        "--brokers",
        &brokers,
        "--partitions",
        &partitions,
    ];
    let first = String::from_utf8(run(&topic_args).stdout).unwrap();
    assert_eq!(first.matches("created").count(), 5, "{first}");
    let second = String::from_utf8(run(&topic_args).stdout).unwrap();
    assert_eq!(second.matches("exists").count(), 5, "{second}");

    // The rules are on their topic before the processor starts (it reads them all at start).
    let producer = EnvelopeProducer::new(&KafkaConfig {
        brokers: brokers.clone(),
        client_id: "e2e-test".into(),
    })
    .unwrap();
    let rules = rules();
    for r in &rules {
        producer
            .send(&r.id.to_string(), RuleChange::Upsert { rule: r.clone() })
            .await
            .unwrap();
    }

    let sim_port = free_port();
    let sim_addr = format!("127.0.0.1:{sim_port}");
    let (seed, sets, cards, sealed) = (
        SEED.to_string(),
        SETS.to_string(),
        CARDS.to_string(),
        SEALED.to_string(),
    );
    let _sim = Proc::spawn(
        "sim",
        dir.path(),
        &[
            "sim",
            "--listen",
            &sim_addr,
            "--seed",
            &seed,
            "--categories",
            "3",
            "--sets-per-game",
            &sets,
            "--cards-per-set",
            &cards,
            "--sealed-per-set",
            &sealed,
            // TCGplayer's prices move every second; TCGCSV publishes once a day (its default)
            "--step-secs",
            "1",
        ],
    );
    poll_until(
        "the simulator to listen",
        Duration::from_secs(30),
        || log_of(dir.path(), "sim"),
        || std::net::TcpStream::connect(&sim_addr).is_ok(),
    )
    .await;

    let mut processor = Proc::spawn(
        "processor",
        dir.path(),
        &[
            "process",
            "--brokers",
            &brokers,
            "--group",
            "e2e",
            "--batch-max",
            "200",
            "--batch-linger-ms",
            "50",
            "--sqlite",
            &db_arg,
            "--publish",
            "true",
        ],
    );

    // Three collector processes on the quotes topic: the TCGplayer API, and two replicas polling
    // TCGCSV (their observations interleave, out of order on a stream).
    let base_url = format!("http://{sim_addr}");
    let passes = PASSES.to_string();
    let mut collectors: Vec<Proc> = [
        ("collect-tcgplayer", "tcgplayer"),
        ("collect-tcgcsv-1", "tcgcsv"),
        ("collect-tcgcsv-2", "tcgcsv"),
    ]
    .into_iter()
    .map(|(name, source)| {
        Proc::spawn(
            name,
            dir.path(),
            &[
                "collect",
                "--base-url",
                &base_url,
                "--brokers",
                &brokers,
                "--sources",
                source,
                "--categories",
                "3",
                "--poll-secs",
                "1",
                "--passes",
                &passes,
            ],
        )
    })
    .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    for c in &mut collectors {
        let status = loop {
            if let Some(status) = c.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not finish its passes:\n{}",
                c.name,
                log_of(dir.path(), c.name)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(
            status.success(),
            "{} exited with {status}:\n{}",
            c.name,
            log_of(dir.path(), c.name)
        );
    }

    // Everything the collectors published is acknowledged: the topic holds it all. Every tenth
    // quote is published again, as a collector retrying a send whose acknowledgement it missed
    // would: the same observation twice.
    let published = read_topic::<RawQuote>(&brokers);
    let again: Vec<(String, RawQuote)> = published
        .iter()
        .step_by(10)
        .map(|(_, e)| {
            (
                e.payload.subject.product_id().to_string(),
                e.payload.clone(),
            )
        })
        .collect();
    let republished = again.len();
    producer.send_all(again).await.unwrap();
    let want = expected(&brokers);
    eprintln!(
        "quotes on {}: {} ({republished} published twice), unique observations: {}; core: {:?}; ticks owed: {}, alerts owed: {}, invalid: {}",
        topics::QUOTES_RAW,
        want.quotes,
        want.unique_quotes,
        want.stats,
        want.ticks.len(),
        want.alerts.len(),
        want.invalid
    );
    for c in &collectors {
        let log = log_of(dir.path(), c.name);
        eprintln!("{}: {}", c.name, log.lines().last().unwrap_or_default());
    }
    assert!(
        want.quotes > 500,
        "the collectors published too little to matter: {}",
        want.quotes
    );
    assert_eq!(want.quotes, published.len() + republished);
    assert_eq!(
        want.unique_quotes,
        published.len(),
        "the collectors' observations are unique, the republished ones are not"
    );
    assert!(
        want.stats.duplicates >= republished as u64,
        "{:?}",
        want.stats
    );
    assert!(want.ticks.len() > 200, "{}", want.ticks.len());
    assert!(
        !want.alerts.is_empty(),
        "the rules fire on the simulated moves"
    );

    let logs = || log_of(dir.path(), "processor");
    poll_until(
        "the store to hold every tick and alert owed",
        Duration::from_secs(120),
        logs,
        || {
            count(&db, "SELECT count(*) FROM ticks") >= want.ticks.len() as i64
                && count(&db, "SELECT count(*) FROM alerts") >= want.alerts.len() as i64
        },
    )
    .await;
    // The outputs are published after the store write: give them the time to arrive.
    let mut published_ticks: Vec<(i32, Envelope<Tick>)> = Vec::new();
    let mut published_alerts: Vec<(i32, Envelope<AlertEvent>)> = Vec::new();
    poll_until(
        "the output topics to hold every tick and alert",
        Duration::from_secs(60),
        logs,
        || {
            published_ticks = read_topic(&brokers);
            published_alerts = read_topic(&brokers);
            let ticks: BTreeSet<String> = published_ticks
                .iter()
                .map(|(_, e)| tick_key(&e.payload))
                .collect();
            let alerts: BTreeSet<AlertId> =
                published_alerts.iter().map(|(_, e)| e.payload.id).collect();
            ticks.len() >= want.ticks.len() && alerts.len() >= want.alerts.len()
        },
    )
    .await;

    // SIGTERM: the processor drains and exits cleanly.
    let status = processor.terminate();
    assert!(status.success(), "processor exit: {status}\n{}", logs());

    let (store_ticks, store_rows) = stored_ticks(&db);
    let store_alerts = alert_ids(&db);
    let topic_ticks: BTreeMap<String, (i64, bool)> = published_ticks
        .iter()
        .map(|(_, e)| {
            (
                tick_key(&e.payload),
                (e.payload.price_usd.minor, e.payload.heartbeat),
            )
        })
        .collect();
    let topic_alerts: BTreeSet<String> = published_alerts
        .iter()
        .map(|(_, e)| e.payload.id.to_string())
        .collect();
    let dlq = read_topic::<DeadLetter>(&brokers).len();
    eprintln!(
        "store: {store_rows} tick rows ({} distinct), {} alerts; {}: {} messages ({} distinct); {}: {} messages ({} distinct); dlq: {dlq}; took {:?}",
        store_ticks.len(),
        store_alerts.len(),
        topics::TICKS,
        published_ticks.len(),
        topic_ticks.len(),
        topics::ALERTS,
        published_alerts.len(),
        topic_alerts.len(),
        started.elapsed()
    );

    // No loss, no duplicates, the core's prices: the store is exactly what the core owes.
    assert_eq!(store_rows, store_ticks.len(), "a tick stored twice");
    assert_eq!(
        store_ticks.len(),
        want.ticks.len(),
        "ticks stored vs owed; first differences: {:?}",
        first_differences(&store_ticks, &want.ticks)
    );
    assert!(
        store_ticks == want.ticks,
        "the store's ticks are the core's: {:?}",
        first_differences(&store_ticks, &want.ticks)
    );
    assert_eq!(store_alerts, want.alerts, "each alert exactly once");
    // The output topics carry the store's ticks and alerts (at least once; a clean run once).
    assert!(
        topic_ticks == store_ticks,
        "tcg.ticks.v1 vs the store: {:?}",
        first_differences(&topic_ticks, &store_ticks)
    );
    assert_eq!(topic_alerts, store_alerts, "tcg.alerts.v1 vs the store");
    assert_eq!(dlq, want.invalid, "dead letters vs invalid quotes");
    // Every alert is about a tick in the store (the one that fired it).
    for a in published_alerts.iter().map(|(_, e)| &e.payload) {
        let key = store_key(
            &a.series_id,
            a.source,
            a.kind,
            a.observed_at,
            a.listing_id.as_deref(),
        );
        assert!(
            store_ticks.contains_key(&key),
            "alert {} fired on {key}, which is not a stored tick",
            a.id
        );
    }
    drop(broker);
}
