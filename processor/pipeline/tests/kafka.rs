//! The Kafka transport and processor runtime against a real broker: Apache Kafka (KRaft, one
//! node) from `tcg-engines`, on free loopback ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, atomic::Ordering},
    time::{Duration, Instant},
};

use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
    producer::{FutureProducer, FutureRecord},
};
use tcg_engines::Kafka;
use tcg_pipeline::{
    ConsumeConfig, FanOut, KafkaConfig, OutputSink, PartitionedCore, TopicConfig,
    kafka::{
        admin::{TopicOutcome, ensure_topics},
        consumer::{KafkaProcessor, header},
        producer::EnvelopeProducer,
    },
};
use tcg_processor_core::CoreConfig;
use tcg_schemas::*;
use tcg_store::{SqliteStore, StoreError, StoreSink};

// The quote fixture the crate's unit tests use too (test code, not library API).
#[path = "../src/testkit.rs"]
mod testkit;
use testkit::market_quote;

/// Records what was delivered, counting repeats.
#[derive(Debug, Default)]
struct Collecting {
    ticks: Mutex<BTreeMap<String, u32>>,
    alerts: Mutex<BTreeMap<AlertId, u32>>,
}

impl OutputSink for Collecting {
    fn deliver<'a>(
        &'a self,
        ticks: &'a [Tick],
        alerts: &'a [AlertEvent],
    ) -> tcg_ports::BoxFuture<'a, Result<(), tcg_ports::SinkError>> {
        Box::pin(async move {
            let mut t = self.ticks.lock().unwrap();
            for tick in ticks {
                let k = tick.key();
                *t.entry(format!(
                    "{}|{}|{}|{}",
                    k.observed_at,
                    k.series_id,
                    k.source.as_str(),
                    k.kind.as_str()
                ))
                .or_default() += 1;
            }
            let mut a = self.alerts.lock().unwrap();
            for alert in alerts {
                *a.entry(alert.id).or_default() += 1;
            }
            Ok(())
        })
    }
}

/// Whether a [`Collecting`] key is a fair value's (the core adds them beside quoted prices).
fn is_fair(key: &str) -> bool {
    key.contains(&format!("|{}|", Source::Tcgtracker.as_str()))
}

impl Collecting {
    /// Distinct ticks of quoted prices (the fair values left out).
    fn distinct_ticks(&self) -> usize {
        let ticks = self.ticks.lock().unwrap();
        ticks.keys().filter(|k| !is_fair(k)).count()
    }
    fn distinct_alerts(&self) -> usize {
        self.alerts.lock().unwrap().len()
    }
}

fn quote(product: u64, poll: i64, cents: i64) -> RawQuote {
    market_quote(
        product,
        Timestamp::from_secs(1_714_521_600 + poll * 3600),
        cents,
    )
}

fn kafka(broker: &Kafka) -> KafkaConfig {
    KafkaConfig {
        brokers: broker.brokers(),
        client_id: "tcg-test".into(),
    }
}

fn topics() -> TopicConfig {
    TopicConfig {
        partitions: 4,
        ..TopicConfig::default()
    }
}

fn consume(group: &str) -> ConsumeConfig {
    ConsumeConfig {
        group: group.into(),
        batch_max: 200,
        batch_linger_ms: 50,
        state_lookback_hours: 24,
        session_timeout_ms: 6_000,
        instance_id: None,
    }
}

async fn produce_quotes(producer: &EnvelopeProducer, quotes: Vec<RawQuote>) {
    let items = quotes
        .into_iter()
        .map(|q| (q.subject.product_id().to_string(), q))
        .collect();
    producer.send_all(items).await.unwrap();
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn start_processor(
    kafka: &KafkaConfig,
    group: &str,
    sink: Arc<Collecting>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<tcg_pipeline::kafka::consumer::RunReport>,
) {
    start_with(kafka, consume(group), sink).await
}

async fn start_with(
    kafka: &KafkaConfig,
    args: ConsumeConfig,
    sink: Arc<Collecting>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<tcg_pipeline::kafka::consumer::RunReport>,
) {
    let runtime = KafkaProcessor::start(
        kafka.clone(),
        args,
        sink,
        PartitionedCore::new(CoreConfig::default()),
    )
    .await
    .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        runtime
            .run(async {
                let _ = rx.await;
            })
            .await
            .unwrap()
    });
    (tx, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_are_created_once_and_quotes_flow_with_dead_letters() {
    let broker = Kafka::start().expect("kafka broker");
    let kafka = kafka(&broker);
    let first = ensure_topics(&kafka, &topics()).await.unwrap();
    assert_eq!(first.len(), 5);
    assert!(
        first.iter().all(|o| matches!(o, TopicOutcome::Created(_))),
        "{first:?}"
    );
    let second = ensure_topics(&kafka, &topics()).await.unwrap();
    assert!(
        second
            .iter()
            .all(|o| matches!(o, TopicOutcome::AlreadyExists(_))),
        "{second:?}"
    );

    let producer = EnvelopeProducer::new(&kafka).unwrap();
    // 20 products × 15 polls, every poll a new price: 300 unique observations.
    let quotes: Vec<RawQuote> = (0..15)
        .flat_map(|poll| (1..=20).map(move |p| quote(p, poll, 100 + poll * 10 + p as i64)))
        .collect();
    produce_quotes(&producer, quotes).await;
    // garbage, and a quote that is not believable
    let raw: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.brokers())
        .create()
        .unwrap();
    raw.send(
        FutureRecord::to(topics::QUOTES_RAW)
            .key("1")
            .payload("{not json"),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    producer.send("2", quote(2, 99, 0)).await.unwrap();

    let sink = Arc::new(Collecting::default());
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(
        Option<ProductId>,
        &'static str,
    )>::new()));
    let runtime = KafkaProcessor::start(
        kafka.clone(),
        consume("g1"),
        sink.clone(),
        PartitionedCore::new(CoreConfig::default()),
    )
    .await
    .unwrap()
    .on_rejected({
        let seen = seen.clone();
        move |r| {
            seen.lock().unwrap().push((
                r.to_card_rejection(Timestamp::from_secs(0)).product_id,
                r.reason.as_str(),
            ));
        }
    });
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        runtime
            .run(async {
                let _ = rx.await;
            })
            .await
            .unwrap()
    });
    wait_for("300 ticks", || sink.distinct_ticks() == 300).await;
    // the pipeline goes on after the bad messages
    produce_quotes(&producer, vec![quote(3, 100, 999)]).await;
    wait_for("the tick after the garbage", || {
        sink.distinct_ticks() == 301
    })
    .await;
    stop.send(()).unwrap();
    let report = handle.await.unwrap();
    assert_eq!(report.dead_letters, 2, "{report:?}");
    // the hook (what `process` keeps for `/rejections`) saw the quote the core refused; the
    // undecodable message never reached the core
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(Some(ProductId(2)), "implausible_price")],
        "the rejection hook"
    );
    assert!(
        sink.ticks.lock().unwrap().values().all(|n| *n == 1),
        "a clean run delivers each tick once"
    );

    let dlq: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.brokers())
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    dlq.subscribe(&[topics::QUOTES_DLQ]).unwrap();
    let mut reasons = BTreeSet::new();
    for _ in 0..2 {
        let m = tokio::time::timeout(Duration::from_secs(30), dlq.recv())
            .await
            .unwrap()
            .unwrap();
        reasons.insert(header(&m, "tcg-dlq-reason").unwrap());
        assert_eq!(
            header(&m, "tcg-origin-topic").as_deref(),
            Some(topics::QUOTES_RAW)
        );
        let letter = Envelope::<DeadLetter>::decode(m.payload().unwrap())
            .unwrap()
            .payload;
        assert!(letter.origin.is_some());
    }
    assert_eq!(
        reasons,
        BTreeSet::from(["implausible_price".to_owned(), "undecodable".to_owned()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_published_to_the_rules_topic_takes_effect_in_a_running_processor() {
    let broker = Kafka::start().expect("kafka broker");
    let kafka = kafka(&broker);
    ensure_topics(&kafka, &topics()).await.unwrap();
    let producer = EnvelopeProducer::new(&kafka).unwrap();
    produce_quotes(&producer, vec![quote(7, 0, 500)]).await;
    let sink = Arc::new(Collecting::default());
    let (stop, handle) = start_processor(&kafka, "g2", sink.clone()).await;
    wait_for("first tick", || sink.distinct_ticks() == 1).await;
    assert_eq!(sink.distinct_alerts(), 0);

    let rule = AlertRule {
        id: RuleId(uuid::Uuid::from_u128(42)),
        owner: UserId("brock".into()),
        name: "above $10".into(),
        product_id: ProductId(7),
        filter: SeriesFilter::default(),
        condition: RuleCondition::PriceAbove {
            threshold_usd: Money::usd_cents(1000),
        },
        cooldown_secs: 0,
        paused: false,
        created_at: Timestamp::from_secs(0),
        updated_at: Timestamp::from_secs(0),
    };
    producer
        .send(&rule.id.to_string(), RuleChange::Upsert { rule })
        .await
        .unwrap();
    // keep feeding until the rule is live and the crossing fires
    for poll in 1..200 {
        produce_quotes(
            &producer,
            vec![quote(7, poll, if poll % 2 == 0 { 900 } else { 1100 })],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if sink.distinct_alerts() > 0 {
            break;
        }
    }
    assert!(sink.distinct_alerts() > 0, "the rule never fired");
    stop.send(()).unwrap();
    handle.await.unwrap();
}

/// "Partitions being revoked are flushed and committed first": A holds a batch in hand (a linger
/// far longer than the test's patience) when B joins the group. At the revocation A processes
/// and delivers that batch and commits before it lets the partitions go, so the batch is not
/// left to the linger or to the next owner: B starts after A's committed offsets and redoes
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_partitions_are_flushed_and_committed_before_the_hand_over() {
    let broker = Kafka::start().expect("kafka broker");
    let kafka = kafka(&broker);
    ensure_topics(&kafka, &topics()).await.unwrap();
    let producer = EnvelopeProducer::new(&kafka).unwrap();
    let (sink_a, sink_b) = (
        Arc::new(Collecting::default()),
        Arc::new(Collecting::default()),
    );
    let holding = ConsumeConfig {
        batch_max: 10_000,
        batch_linger_ms: 600_000,
        ..consume("g-flush")
    };
    let runtime = KafkaProcessor::start(
        kafka.clone(),
        holding,
        sink_a.clone(),
        PartitionedCore::new(CoreConfig::default()),
    )
    .await
    .unwrap();
    let fetched_a = runtime.fetched();
    let (stop_a, stopped_a) = tokio::sync::oneshot::channel::<()>();
    let a = tokio::spawn(async move {
        runtime
            .run(async {
                let _ = stopped_a.await;
            })
            .await
            .unwrap()
    });
    // 120 quotes (40 products × 3 polls) into A's batch in hand.
    let first: Vec<RawQuote> = (0..3)
        .flat_map(|poll| (1..=40).map(move |p| quote(p, poll, 1000 + poll * 7 + p as i64)))
        .collect();
    produce_quotes(&producer, first).await;
    let group = "g-flush";
    wait_for("A to take the first wave into its batch", || {
        fetched_a.load(std::sync::atomic::Ordering::Relaxed) == 120
    })
    .await;
    assert_eq!(sink_a.distinct_ticks(), 0, "A still holds its batch");

    // B joins: the group revokes A's partitions while A holds the batch.
    let (stop_b, b) = start_processor(&kafka, group, sink_b.clone()).await;
    wait_for("A to flush its batch at the revocation", || {
        sink_a.distinct_ticks() == 120
    })
    .await;
    wait_for("the first wave's offsets committed", || {
        committed(&kafka, group).iter().sum::<i64>() == 120
    })
    .await;
    assert_eq!(sink_b.distinct_ticks(), 0, "B redid none of A's batch");

    // A leaves; B carries on from A's committed offsets.
    stop_a.send(()).unwrap();
    let ra = a.await.unwrap();
    let second: Vec<RawQuote> = (3..5)
        .flat_map(|poll| (1..=40).map(move |p| quote(p, poll, 1000 + poll * 7 + p as i64)))
        .collect();
    produce_quotes(&producer, second).await;
    wait_for("B to deliver the second wave", || {
        sink_b.distinct_ticks() == 80
    })
    .await;
    stop_b.send(()).unwrap();
    let rb = b.await.unwrap();

    let a_ticks = sink_a.ticks.lock().unwrap().clone();
    let b_ticks = sink_b.ticks.lock().unwrap().clone();
    assert!(a_ticks.values().chain(b_ticks.values()).all(|n| *n == 1));
    assert!(
        a_ticks.keys().all(|k| !b_ticks.contains_key(k)),
        "no tick delivered by both"
    );
    assert_eq!((ra.messages, rb.messages), (120, 80), "a={ra:?} b={rb:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processors_share_the_partitions_and_survive_one_leaving() {
    let broker = Kafka::start().expect("kafka broker");
    let kafka = kafka(&broker);
    ensure_topics(&kafka, &topics()).await.unwrap();
    let producer = EnvelopeProducer::new(&kafka).unwrap();
    let (sa, sb) = (
        Arc::new(Collecting::default()),
        Arc::new(Collecting::default()),
    );
    let (stop_a, a) = start_processor(&kafka, "g3", sa.clone()).await;
    let (stop_b, b) = start_processor(&kafka, "g3", sb.clone()).await;
    let distinct = || {
        let mut keys: BTreeSet<String> = sa.ticks.lock().unwrap().keys().cloned().collect();
        keys.extend(sb.ticks.lock().unwrap().keys().cloned());
        keys.iter().filter(|k| !is_fair(k)).count()
    };
    let poll_quotes = |poll: i64| -> Vec<RawQuote> {
        (1..=40)
            .map(|p| quote(p, poll, 1000 + poll * 7 + p as i64))
            .collect()
    };
    // A poll at a time until both handle part of one: the partitions are shared. (Kafka may
    // first give every partition to the member that joined first and hand some over only
    // when the second one's join completes.)
    let mut polls = 0i64;
    loop {
        produce_quotes(&producer, poll_quotes(polls)).await;
        polls += 1;
        let want = polls as usize * 40;
        wait_for("every tick of the polls so far", || distinct() == want).await;
        if sa.distinct_ticks() > 0 && sb.distinct_ticks() > 0 {
            break;
        }
        assert!(
            polls < 100,
            "the two processors never shared the partitions"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_a.send(()).unwrap();
    let ra = a.await.unwrap();
    // B takes A's partitions over and goes on.
    for poll in polls..polls + 5 {
        produce_quotes(&producer, poll_quotes(poll)).await;
    }
    let want = (polls as usize + 5) * 40;
    wait_for("every tick after one processor left", || distinct() == want).await;
    stop_b.send(()).unwrap();
    let rb = b.await.unwrap();
    assert!(
        ra.messages > 0 && rb.messages > 0,
        "both processed: a={ra:?} b={rb:?}"
    );
    assert!(
        rb.replayed > 0,
        "B rebuilt the state of A's partitions: {rb:?}"
    );
}

/// Where the child processor of the kill test finds its broker, group, store and tally file:
/// `BROKERS|GROUP|SQLITE_PATH|TALLY_PATH`.
const CHILD_ENV: &str = "TCG_TEST_CHILD_PROCESSOR";

/// Counts the ticks handed to it (before the store gets them, when first in a [`FanOut`]), and
/// writes the running total to a file when it has one (the child process's tally).
#[derive(Debug, Default)]
struct Tally {
    ticks: std::sync::atomic::AtomicU64,
    file: Option<PathBuf>,
}

impl OutputSink for Tally {
    fn deliver<'a>(
        &'a self,
        ticks: &'a [Tick],
        _: &'a [AlertEvent],
    ) -> tcg_ports::BoxFuture<'a, Result<(), tcg_ports::SinkError>> {
        Box::pin(async move {
            let n = self.ticks.fetch_add(ticks.len() as u64, Ordering::SeqCst) + ticks.len() as u64;
            if let Some(f) = &self.file {
                let tmp = f.with_extension("tmp");
                std::fs::write(&tmp, n.to_string()).unwrap();
                std::fs::rename(&tmp, f).unwrap();
            }
            Ok(())
        })
    }
}

fn read_tally(file: &Path) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Not a test of its own: the child process of
/// `two_processors_share_the_partitions_and_survive_one_being_killed`, which runs this test
/// binary again with only this test selected and [`CHILD_ENV`] set. A processor writing to a
/// SQLite store until it is killed. Without the variable it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of two_processors_share_the_partitions_and_survive_one_being_killed"]
async fn child_processor() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.splitn(4, '|').collect();
    let [brokers, group, db, tally] = parts[..] else {
        panic!("{CHILD_ENV}={spec}");
    };
    let kafka = KafkaConfig {
        brokers: brokers.to_owned(),
        client_id: "tcg-test-child".into(),
    };
    let store = SqliteStore::open(db).unwrap();
    let sinks: Vec<Arc<dyn OutputSink>> = vec![
        Arc::new(Tally {
            file: Some(PathBuf::from(tally)),
            ..Tally::default()
        }),
        Arc::new(StoreSink(Arc::new(store))),
    ];
    let runtime = KafkaProcessor::start(
        kafka,
        consume(group),
        Arc::new(FanOut(sinks)),
        PartitionedCore::new(CoreConfig::default()),
    )
    .await
    .unwrap();
    eprintln!("child processor started");
    runtime.run(std::future::pending()).await.unwrap();
}

/// A child process killed when dropped, and its scratch directory removed.
struct Scratch {
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The committed offset of each quotes partition for `group` (-1 when none).
fn committed(kafka: &KafkaConfig, group: &str) -> Vec<i64> {
    let consumer: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..topics().partitions {
        tpl.add_partition(topics::QUOTES_RAW, p);
    }
    consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .map(|tpl| {
            tpl.elements()
                .iter()
                .map(|e| match e.offset() {
                    rdkafka::Offset::Offset(o) => o,
                    _ => -1,
                })
                .collect()
        })
        .unwrap_or_else(|_| vec![-1])
}

/// Rows of the store's tick table, and distinct (series, time) among them (quoted prices: the
/// fair values the core adds beside them left out).
fn stored_ticks(db: &Path) -> (i64, i64) {
    let store = SqliteStore::open(db).unwrap();
    let sql = format!(
        "SELECT count(*), count(DISTINCT sid || '|' || ts) FROM ticks WHERE source != {}",
        tcg_store::codes::source_code(Source::Tcgtracker)
    );
    store
        .with_reader(|c| {
            c.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(StoreError::from)
        })
        .unwrap()
}

/// Two processors in one group, one of them (A, another process) killed with SIGKILL while
/// quotes flow: no leave, no commit of what it stored since its last auto-commit. The other (B)
/// takes A's partitions over once A's session times out, rebuilds their state from the log,
/// redoes A's uncommitted work, and every quote's tick ends in the store exactly once. Nothing
/// but the session timeout hands A's partitions over: no other member joins or leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processors_share_the_partitions_and_survive_one_being_killed() {
    const PRODUCTS: u64 = 40;
    const MORE_POLLS: i64 = 60;
    let broker = Kafka::start().expect("kafka broker");
    let kafka = kafka(&broker);
    ensure_topics(&kafka, &topics()).await.unwrap();
    let producer = EnvelopeProducer::new(&kafka).unwrap();
    let dir =
        std::env::temp_dir().join(format!("tcg-kill-{}-{}", std::process::id(), broker.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut scratch = Scratch {
        dir: dir.clone(),
        child: None,
    };
    let db = dir.join("store.db");
    let log = dir.join("child.log");
    let a_tally = dir.join("a.tally");
    let child_log = || std::fs::read_to_string(&log).unwrap_or_default();
    // Created (and migrated) before either processor opens it.
    let store = SqliteStore::open(&db).unwrap();
    // Every quote a new price of its product: one tick each.
    let poll = |n: i64| -> Vec<RawQuote> {
        (1..=PRODUCTS)
            .map(|p| quote(p, n, 1000 + n * 7 + p as i64))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let wait_stored = |want: i64, what: &'static str| {
        let db = db.clone();
        let log = log.clone();
        async move {
            while stored_ticks(&db).0 < want {
                assert!(
                    Instant::now() < deadline,
                    "{what}: fewer than {want} ticks stored; child:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };

    // B, here.
    let b_tally = Arc::new(Tally::default());
    let b_sinks: Vec<Arc<dyn OutputSink>> =
        vec![b_tally.clone(), Arc::new(StoreSink(Arc::new(store)))];
    let runtime = KafkaProcessor::start(
        kafka.clone(),
        consume("g4"),
        Arc::new(FanOut(b_sinks)),
        PartitionedCore::new(CoreConfig::default()),
    )
    .await
    .unwrap();
    let (stop_b, rx) = tokio::sync::oneshot::channel::<()>();
    let b = tokio::spawn(async move {
        runtime
            .run(async {
                let _ = rx.await;
            })
            .await
            .unwrap()
    });
    produce_quotes(&producer, poll(0)).await;
    wait_stored(PRODUCTS as i64, "B alone").await;
    let mut polls = 1i64;

    // A, another process.
    let log_file = std::fs::File::create(&log).unwrap();
    scratch.child = Some(
        Command::new(std::env::current_exe().unwrap())
            .args(["child_processor", "--exact", "--ignored", "--nocapture"])
            .env(
                CHILD_ENV,
                format!(
                    "{}|g4|{}|{}",
                    kafka.brokers,
                    db.display(),
                    a_tally.display()
                ),
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    );

    // A poll at a time until both handle part of one poll: the partitions are shared. (The
    // tallies count before the store writes, so they are complete once the store is.)
    loop {
        let (a0, b0) = (read_tally(&a_tally), b_tally.ticks.load(Ordering::SeqCst));
        produce_quotes(&producer, poll(polls)).await;
        polls += 1;
        wait_stored(polls * PRODUCTS as i64, "sharing").await;
        let (a1, b1) = (read_tally(&a_tally), b_tally.ticks.load(Ordering::SeqCst));
        if a1 > a0 && b1 > b0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shared_at = polls;

    // Quotes keep coming; A dies in the middle of them.
    let feeder = {
        let producer = producer.clone();
        tokio::spawn(async move {
            for n in shared_at..shared_at + MORE_POLLS {
                produce_quotes(&producer, poll(n)).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    // Kill once every partition has a committed offset (so the survivor has state to rebuild)
    // and A handled two more polls' worth: A has stored output it may not have committed yet.
    let a_before = read_tally(&a_tally);
    while read_tally(&a_tally) < a_before + PRODUCTS
        || committed(&kafka, "g4").iter().any(|o| *o <= 0)
    {
        assert!(
            Instant::now() < deadline,
            "A made no progress before the kill; child:\n{}",
            child_log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut child = scratch.child.take().unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = stored_ticks(&db).0;
    let by_a = read_tally(&a_tally);
    feeder.await.unwrap();
    let total = (shared_at + MORE_POLLS) * PRODUCTS as i64;

    // B takes A's partitions over once A's session has timed out, and stores the rest.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (rows, distinct) = stored_ticks(&db);
        assert_eq!(rows, distinct, "a tick stored twice");
        if rows == total {
            break;
        }
        assert!(
            rows < total && Instant::now() < deadline,
            "{rows} of {total} ticks stored after the kill; child:\n{}",
            child_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop_b.send(()).unwrap();
    let rb = b.await.unwrap();
    let by_b = b_tally.ticks.load(Ordering::SeqCst);
    eprintln!(
        "{total} quotes; A killed with {at_kill} ticks stored, after delivering {by_a}; B delivered {by_b} ({} redone); B: {rb:?}",
        (by_a + by_b).saturating_sub(total as u64)
    );
    assert_eq!(stored_ticks(&db), (total, total), "each quote's tick once");
    assert!(
        rb.replayed > 0,
        "B rebuilt the state of A's partitions: {rb:?}"
    );
    assert!(
        by_a + by_b >= total as u64,
        "every tick was delivered by one of them"
    );
    drop(scratch);
}
