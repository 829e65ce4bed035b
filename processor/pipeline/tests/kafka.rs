//! The Kafka transport and processor runtime against a real broker (tansu on a free port).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
    producer::{FutureProducer, FutureRecord},
};
use tcg_pipeline::{
    ConsumeArgs, KafkaArgs, OutputSink, PartitionedCore, TopicArgs,
    kafka::{
        admin::{TopicOutcome, ensure_topics},
        consumer::{KafkaProcessor, header},
        producer::EnvelopeProducer,
    },
    testkit::Tansu,
};
use tcg_processor_core::CoreConfig;
use tcg_schemas::*;

/// Records what was delivered, counting repeats.
#[derive(Debug, Default)]
struct Collecting {
    ticks: Mutex<BTreeMap<String, u32>>,
    alerts: Mutex<BTreeMap<AlertId, u32>>,
}

#[async_trait]
impl OutputSink for Collecting {
    async fn deliver(&self, ticks: &[Tick], alerts: &[AlertEvent]) -> tcg_pipeline::Result<()> {
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
    }
}

impl Collecting {
    fn distinct_ticks(&self) -> usize {
        self.ticks.lock().unwrap().len()
    }
    fn distinct_alerts(&self) -> usize {
        self.alerts.lock().unwrap().len()
    }
}

fn quote(product: u64, poll: i64, cents: i64) -> RawQuote {
    RawQuote {
        source: Source::Tcgcsv,
        observed_at: Timestamp::from_secs(1_714_521_600 + poll * 3600),
        kind: PriceKind::Market,
        price: Money::usd_cents(cents),
        shipping: None,
        subject: Subject::TcgProduct {
            category_id: CategoryId(3),
            group_id: None,
            product_id: ProductId(product),
            sub_type_name: "Holofoil".into(),
        },
    }
}

fn kafka(broker: &Tansu) -> KafkaArgs {
    KafkaArgs {
        brokers: broker.brokers(),
        client_id: "tcg-test".into(),
    }
}

fn topics() -> TopicArgs {
    TopicArgs {
        partitions: 4,
        ..TopicArgs::default()
    }
}

fn consume(group: &str) -> ConsumeArgs {
    ConsumeArgs {
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
    kafka: &KafkaArgs,
    group: &str,
    sink: Arc<Collecting>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<tcg_pipeline::kafka::consumer::RunReport>,
) {
    let runtime = KafkaProcessor::start(
        kafka.clone(),
        consume(group),
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
    let broker = Tansu::start().expect("tansu broker");
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
    let (stop, handle) = start_processor(&kafka, "g1", sink.clone()).await;
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
    let broker = Tansu::start().expect("tansu broker");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processors_share_the_partitions_and_survive_one_leaving() {
    let broker = Tansu::start().expect("tansu broker");
    let kafka = kafka(&broker);
    ensure_topics(&kafka, &topics()).await.unwrap();
    let producer = EnvelopeProducer::new(&kafka).unwrap();
    let sink = Arc::new(Collecting::default());
    let (stop_a, a) = start_processor(&kafka, "g3", sink.clone()).await;
    let (stop_b, b) = start_processor(&kafka, "g3", sink.clone()).await;
    let quotes: Vec<RawQuote> = (0..10)
        .flat_map(|poll| (1..=40).map(move |p| quote(p, poll, 1000 + poll * 7 + p as i64)))
        .collect();
    produce_quotes(&producer, quotes).await;
    wait_for("400 ticks from two processors", || {
        sink.distinct_ticks() == 400
    })
    .await;
    stop_a.send(()).unwrap();
    let ra = a.await.unwrap();
    // B takes A's partitions over and goes on.
    let more: Vec<RawQuote> = (10..15)
        .flat_map(|poll| (1..=40).map(move |p| quote(p, poll, 1000 + poll * 7 + p as i64)))
        .collect();
    produce_quotes(&producer, more).await;
    wait_for("600 ticks after one processor left", || {
        sink.distinct_ticks() == 600
    })
    .await;
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
