//! What the pipeline owes: every quote on tcg.quotes.raw.v1 read back, partition by partition
//! in log order, through one uninterrupted processor core per partition that holds the rules of
//! tcg.alert-rules.v1 (all of them were published before the first quote).

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use rdkafka::{
    Message as _, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer as _},
};
use tcg_processor_core::{CoreConfig, Processor};
use tcg_schemas::{
    AlertEvent, Envelope, PriceKind, RawQuote, RuleChange, Source, Tick, Timestamp, TopicPayload,
};

/// Every message of `T`'s topic (all partitions, up to the current end), decoded, with its
/// partition; messages that are not an envelope of `T` are left out.
pub fn read_topic<T: TopicPayload>(brokers: &str) -> Vec<(i32, Envelope<T>)> {
    read_topic_counting::<T>(brokers).0
}

/// [`read_topic`], and the number of messages that are not an envelope of `T`.
pub fn read_topic_counting<T: TopicPayload>(brokers: &str) -> (Vec<(i32, Envelope<T>)>, usize) {
    let topic = T::TOPIC;
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "stack-reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    let partitions = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata")
        .topics()
        .first()
        .map_or(0, |t| t.partitions().len() as i32);
    let mut out = Vec::new();
    let mut undecodable = 0;
    for partition in 0..partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, Duration::from_secs(10))
            .expect("watermarks");
        if high <= low {
            continue;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(low))
            .expect("offset");
        consumer.assign(&tpl).expect("assign");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut next = low;
        while next < high {
            assert!(Instant::now() < deadline, "reading {topic}/{partition}");
            let Some(m) = consumer.poll(Duration::from_millis(500)) else {
                continue;
            };
            let m = m.expect("message");
            next = m.offset() + 1;
            match Envelope::<T>::decode(m.payload().unwrap_or_default()) {
                Ok(env) => out.push((partition, env)),
                Err(_) => undecodable += 1,
            }
        }
    }
    (out, undecodable)
}

/// One (series, source, kind): the price line the API and the dashboards show.
pub type Line = (String, Source, PriceKind);

/// An owed tick: when, at what price (USD cents), and the listing it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedTick {
    pub observed_at: Timestamp,
    pub cents: i64,
    pub listing_id: Option<String>,
}

/// The core's output for the whole topic.
#[derive(Debug, Default)]
pub struct Owed {
    pub quotes: usize,
    /// Messages that are no quote envelope at all, and quotes the core refuses as invalid:
    /// both go to the dead-letter topic.
    pub dead_letters: usize,
    /// Every tick, per line, in observation order.
    pub lines: BTreeMap<Line, Vec<OwedTick>>,
    pub ticks: usize,
    /// Every alert, by id.
    pub alerts: BTreeMap<String, AlertEvent>,
}

/// Runs the topic through one core per partition.
pub fn owed(brokers: &str) -> Owed {
    let rules: Vec<RuleChange> = read_topic::<RuleChange>(brokers)
        .into_iter()
        .map(|(_, e)| e.payload)
        .collect();
    let mut by_partition: BTreeMap<i32, Vec<Envelope<RawQuote>>> = BTreeMap::new();
    let (quotes, undecodable) = read_topic_counting::<RawQuote>(brokers);
    for (p, env) in quotes {
        by_partition.entry(p).or_default().push(env);
    }
    let mut owed = Owed {
        dead_letters: undecodable,
        ..Owed::default()
    };
    for envs in by_partition.values() {
        let mut core = Processor::new(CoreConfig::default());
        for change in &rules {
            core.apply_rule_change(change.clone()).expect("rule");
        }
        for env in envs {
            owed.quotes += 1;
            let out = core.process(env.produced_at, std::slice::from_ref(&env.payload));
            owed.dead_letters += out
                .rejected
                .iter()
                .filter(|r| r.reason.is_invalid_input())
                .count();
            for t in &out.ticks {
                owed.add_tick(t);
            }
            for a in out.alerts {
                owed.alerts.insert(a.id.to_string(), a);
            }
        }
    }
    for ticks in owed.lines.values_mut() {
        ticks.sort_by_key(|t| t.observed_at);
    }
    owed
}

impl Owed {
    fn add_tick(&mut self, t: &Tick) {
        self.ticks += 1;
        self.lines
            .entry((t.series_id.clone(), t.source, t.kind))
            .or_default()
            .push(OwedTick {
                observed_at: t.observed_at,
                cents: t.price_usd.minor,
                listing_id: t.listing_id.clone(),
            });
    }

    /// The prices a line may show as its latest: those of its newest observation (several
    /// eBay listings of one series can share an instant).
    pub fn latest(&self, line: &Line) -> Option<(Timestamp, Vec<i64>)> {
        let ticks = self.lines.get(line)?;
        let newest = ticks.last()?.observed_at;
        let prices = ticks
            .iter()
            .filter(|t| t.observed_at == newest)
            .map(|t| t.cents)
            .collect();
        Some((newest, prices))
    }

    /// Hourly candles of a line: bucket start (unix s) → (low, high, count).
    pub fn hourly(&self, line: &Line) -> BTreeMap<i64, (i64, i64, u64)> {
        let mut out: BTreeMap<i64, (i64, i64, u64)> = BTreeMap::new();
        for t in self.lines.get(line).into_iter().flatten() {
            let secs = t.observed_at.as_secs();
            let bucket = secs - secs.rem_euclid(3600);
            let e = out.entry(bucket).or_insert((t.cents, t.cents, 0));
            e.0 = e.0.min(t.cents);
            e.1 = e.1.max(t.cents);
            e.2 += 1;
        }
        out
    }
}
