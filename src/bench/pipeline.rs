//! `tcgtracker bench pipeline`: quotes from a pre-filled tcg.quotes.raw.v1 through the processor
//! into a null sink and into the SQLite store, against a bare consume of the same topic, in one
//! run. The test broker caps absolute rates here, so the processor's CPU time per quote is given
//! beside the rates.

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
};
use serde_json::json;
use tcg_pipeline::{
    ConsumeConfig, KafkaConfig, NullSink, OutputSink, PartitionedCore, TopicConfig,
    kafka::{admin::ensure_topics, consumer::KafkaProcessor, producer::EnvelopeProducer},
};
use tcg_processor_core::CoreConfig;
use tcg_schemas::topics;

use super::synth;

#[derive(Debug, clap::Args)]
pub struct PipelineBenchArgs {
    /// Print one JSON object instead of an indented one.
    #[arg(long)]
    json: bool,
    /// Bootstrap brokers, e.g. 127.0.0.1:9092.
    #[arg(long, env = "TCG_KAFKA_BROKERS")]
    brokers: String,
    /// Quotes to add to tcg.quotes.raw.v1 before measuring (0: use what is there).
    #[arg(long, default_value_t = 200_000)]
    quotes: usize,
    /// Cards in the synthetic market the quotes are polled from (default: quotes / 80, so every
    /// card is polled about ten times: 8 quotes per card and poll).
    #[arg(long)]
    products: Option<u64>,
    /// Partitions, when the topics have to be created.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Largest processor batch.
    #[arg(long, default_value_t = 5_000)]
    batch_max: usize,
    /// Directory for the SQLite store of the store run (a temporary one when absent).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Skip the run into the SQLite store (to profile the null-sink run alone).
    #[arg(long)]
    skip_sqlite: bool,
}

/// CPU seconds (user + system) this process has used so far.
fn process_cpu() -> f64 {
    process_stat().0
}

/// CPU seconds (user + system) and minor page faults (first touches of fresh memory) of this
/// process so far.
fn process_stat() -> (f64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0);
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return (0.0, 0);
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    ((ticks(11) + ticks(12)) / 100.0, ticks(7) as u64)
}

/// The thread the measured processor runs on.
const PROCESSOR_THREAD: &str = "tcg-processor";

/// CPU seconds of this process's live threads so far, by kind: the processor's thread and the
/// tokio runtime's, librdkafka's threads, the main thread (this harness), and any other.
#[derive(Debug, Clone, Copy, Default)]
struct ThreadCpu {
    runtime: f64,
    librdkafka: f64,
    harness: f64,
    other: f64,
}

impl ThreadCpu {
    fn now() -> Self {
        let mut cpu = ThreadCpu::default();
        let me = std::process::id().to_string();
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return cpu;
        };
        for task in tasks.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            let secs = std::fs::read_to_string(task.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(0.0, |ns| ns / 1e9);
            let comm = comm.trim();
            if task.file_name().to_string_lossy() == me {
                cpu.harness += secs;
            } else if comm.starts_with("tokio-rt-worker") || comm == PROCESSOR_THREAD {
                cpu.runtime += secs;
            } else if comm.starts_with("rdk:") {
                cpu.librdkafka += secs;
            } else {
                cpu.other += secs;
            }
        }
        cpu
    }

    fn since(self, earlier: ThreadCpu) -> ThreadCpu {
        ThreadCpu {
            runtime: self.runtime - earlier.runtime,
            librdkafka: self.librdkafka - earlier.librdkafka,
            harness: self.harness - earlier.harness,
            other: self.other - earlier.other,
        }
    }

    /// µs per quote by kind (threads that ended within the span are missing here, not in the
    /// process total).
    fn per_quote(&self, quotes: u64) -> serde_json::Value {
        let us = |s: f64| s * 1e6 / (quotes.max(1) as f64);
        json!({
            "runtime_workers": us(self.runtime),
            "librdkafka_threads": us(self.librdkafka),
            "harness_main_thread": us(self.harness),
            "other_threads": us(self.other),
        })
    }
}

/// Resident memory of this process now and at its peak, MiB (from /proc/self/status).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Messages on the quotes topic, all partitions.
fn topic_size(consumer: &StreamConsumer) -> Result<i64> {
    let metadata = consumer.fetch_metadata(Some(topics::QUOTES_RAW), Duration::from_secs(10))?;
    let mut total = 0;
    for t in metadata.topics() {
        for p in t.partitions() {
            let (low, high) =
                consumer.fetch_watermarks(topics::QUOTES_RAW, p.id(), Duration::from_secs(10))?;
            total += high - low;
        }
    }
    Ok(total)
}

struct Measured {
    messages: u64,
    wall: f64,
    cpu: f64,
    /// CPU seconds over the second half of the messages alone, when the core's state for most
    /// series exists already (the first half grows it from empty).
    warm_cpu: Option<(u64, f64)>,
    /// Minor page faults of the process over the measured span.
    faults: u64,
    /// Resident memory at the start and the end of the measured span, MiB.
    rss: (f64, f64),
    /// CPU by kind of thread over the measured span.
    threads: ThreadCpu,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.wall.max(1e-9)
    }
    fn cpu_us_per_quote(&self) -> f64 {
        self.cpu * 1e6 / (self.messages.max(1) as f64)
    }
    fn faults_per_1000_quotes(&self) -> f64 {
        self.faults as f64 * 1000.0 / (self.messages.max(1) as f64)
    }
    fn warm_cpu_us_per_quote(&self) -> Option<f64> {
        self.warm_cpu.map(|(n, cpu)| cpu * 1e6 / (n.max(1) as f64))
    }
}

async fn bare_consume(kafka: &KafkaConfig, expected: i64) -> Result<Measured> {
    let consumer: StreamConsumer = tcg_pipeline::kafka::base_config(kafka)
        .set("group.id", format!("bench-bare-{}", std::process::id()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topics::QUOTES_RAW])?;
    let mut seen = 0i64;
    let mut bytes = 0usize;
    let mut started = None;
    let (mut cpu0, mut faults0, mut rss0) = (0.0, 0, 0.0);
    let mut threads0 = ThreadCpu::default();
    while seen < expected {
        let m = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
            .await
            .context("bare consume stalled")??;
        if started.is_none() {
            started = Some(Instant::now());
            (cpu0, faults0) = process_stat();
            rss0 = rss_mib().0;
            threads0 = ThreadCpu::now();
        }
        bytes += m.payload().map_or(0, <[u8]>::len);
        seen += 1;
    }
    std::hint::black_box(bytes);
    let (cpu_end, faults_end) = process_stat();
    Ok(Measured {
        messages: seen as u64,
        wall: started.map_or(0.0, |s| s.elapsed().as_secs_f64()),
        cpu: cpu_end - cpu0,
        warm_cpu: None,
        faults: faults_end.saturating_sub(faults0),
        rss: (rss0, rss_mib().0),
        threads: ThreadCpu::now().since(threads0),
    })
}

async fn through_processor(
    kafka: &KafkaConfig,
    args: &PipelineBenchArgs,
    expected: i64,
    sink: Arc<dyn OutputSink>,
    label: &str,
) -> Result<Measured> {
    let consume = ConsumeConfig {
        group: format!("bench-{label}-{}", std::process::id()),
        batch_max: args.batch_max,
        batch_linger_ms: 20,
        ..ConsumeConfig::default()
    };
    let runtime = KafkaProcessor::start(
        kafka.clone(),
        consume,
        sink,
        PartitionedCore::new(CoreConfig::default()),
    )
    .await?;
    let progress = runtime.progress();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // As in `tcgtracker process`, where the processor's loop is the future the main thread's
    // `block_on` drives: one thread runs it from start to end (it never migrates between tokio's
    // workers, so what it allocates is freed on the thread that allocated it).
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(PROCESSOR_THREAD.into())
        .spawn(move || {
            let run = || -> Result<_> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                Ok(rt.block_on(runtime.run(async {
                    let _ = stop_rx.await;
                }))?)
            };
            let _ = done_tx.send(run());
        })
        .context("starting the processor thread")?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let (mut started, mut cpu0, mut faults0, mut rss0) = (None, 0.0, 0, 0.0);
    let mut threads0 = ThreadCpu::default();
    let mut half: Option<(i64, f64)> = None;
    loop {
        let done = progress.load(Ordering::Relaxed) as i64;
        if started.is_none() {
            // Count from the first delivered batch: the group join is not throughput.
            if done > 0 {
                started = Some((Instant::now(), done));
                (cpu0, faults0) = process_stat();
                rss0 = rss_mib().0;
                threads0 = ThreadCpu::now();
            }
        }
        if half.is_none() && done >= expected / 2 {
            half = Some((done, process_cpu()));
        }
        if done >= expected {
            break;
        }
        if Instant::now() > deadline {
            bail!("{label}: only {done} of {expected} messages after 10 minutes");
        }
        // Often until the first batch is seen (the count starts there), then rarely: this loop
        // is the harness, and its wake-ups count as processor CPU.
        let pause = if started.is_none() { 2 } else { 50 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let (cpu_end, faults_end) = process_stat();
    let cpu = cpu_end - cpu0;
    let faults = faults_end.saturating_sub(faults0);
    let rss = (rss0, rss_mib().0);
    let threads = ThreadCpu::now().since(threads0);
    let warm_cpu = half
        .filter(|(at, _)| *at < expected)
        .map(|(at, c)| ((expected - at) as u64, cpu_end - c));
    let (t0, first) = started.unwrap_or((Instant::now(), 0));
    let wall = t0.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    done_rx.await.context("processor thread")??;
    Ok(Measured {
        messages: (expected - first) as u64,
        wall,
        cpu,
        warm_cpu,
        faults,
        rss,
        threads,
    })
}

async fn sqlite_run(
    kafka: &KafkaConfig,
    args: &PipelineBenchArgs,
    expected: i64,
) -> Result<Measured> {
    let dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("tcg-bench-pipeline-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let store = tcg_store::SqliteStore::open(dir.join("bench.db"))?;
    let measured = through_processor(
        kafka,
        args,
        expected,
        Arc::new(tcg_store::StoreSink(Arc::new(store))),
        "sqlite",
    )
    .await;
    if args.data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    measured
}

pub async fn run(args: PipelineBenchArgs) -> Result<()> {
    let kafka = KafkaConfig {
        brokers: args.brokers.clone(),
        client_id: "tcg-bench".into(),
    };
    ensure_topics(
        &kafka,
        &TopicConfig {
            partitions: args.partitions,
            ..TopicConfig::default()
        },
    )
    .await
    .with_context(|| format!("creating topics on {}", args.brokers))?;
    let mut fill_rate = None;
    if args.quotes > 0 {
        let producer = EnvelopeProducer::new(&kafka)?;
        let products = args
            .products
            .unwrap_or((args.quotes as u64 / 80).max(1))
            .max(1);
        let quotes = synth::market(args.seed, products, args.quotes);
        let started = Instant::now();
        for chunk in quotes.chunks(10_000) {
            let items = chunk
                .iter()
                .map(|q| (q.subject.product_id().to_string(), q.clone()))
                .collect();
            producer.send_all(items).await?;
        }
        fill_rate = Some(args.quotes as f64 / started.elapsed().as_secs_f64());
    }
    let probe: StreamConsumer = tcg_pipeline::kafka::base_config(&kafka)
        .set("group.id", "bench-probe")
        .create()?;
    let expected = topic_size(&probe)?;
    // Its idle threads would count as processor CPU.
    drop(probe);
    if expected == 0 {
        bail!("tcg.quotes.raw.v1 is empty: run with --quotes N");
    }

    let bare = bare_consume(&kafka, expected).await?;
    let null_run = through_processor(&kafka, &args, expected, Arc::new(NullSink), "null").await?;
    let sqlite = if args.skip_sqlite {
        None
    } else {
        Some(sqlite_run(&kafka, &args, expected).await?)
    };

    let report = json!({
        "bench": "pipeline",
        "brokers": args.brokers,
        "messages": expected,
        "fill_quotes_per_s": fill_rate,
        "bare_consume": { "quotes_per_s": bare.rate(), "cpu_us_per_quote": bare.cpu_us_per_quote(), "page_faults_per_1000_quotes": bare.faults_per_1000_quotes(), "rss_mib_start_end": [bare.rss.0, bare.rss.1], "cpu_us_per_quote_by_thread": bare.threads.per_quote(bare.messages), "messages": bare.messages },
        "null_sink": { "quotes_per_s": null_run.rate(), "cpu_us_per_quote": null_run.cpu_us_per_quote(), "cpu_us_per_quote_second_half": null_run.warm_cpu_us_per_quote(), "page_faults_per_1000_quotes": null_run.faults_per_1000_quotes(), "rss_mib_start_end": [null_run.rss.0, null_run.rss.1], "cpu_us_per_quote_by_thread": null_run.threads.per_quote(null_run.messages), "messages": null_run.messages },
        "sqlite_store": sqlite.as_ref().map(|s| json!({ "quotes_per_s": s.rate(), "cpu_us_per_quote": s.cpu_us_per_quote(), "cpu_us_per_quote_second_half": s.warm_cpu_us_per_quote(), "page_faults_per_1000_quotes": s.faults_per_1000_quotes(), "rss_mib_start_end": [s.rss.0, s.rss.1], "cpu_us_per_quote_by_thread": s.threads.per_quote(s.messages), "messages": s.messages })),
        "ratio_null_sink_to_bare_consume": null_run.rate() / bare.rate().max(1e-9),
        "ratio_sqlite_to_bare_consume": sqlite.as_ref().map(|s| s.rate() / bare.rate().max(1e-9)),
        "processor_cpu_us_per_quote_null_sink": null_run.cpu_us_per_quote(),
        "note": "cpu_us_per_quote is this process's user+system time (processor, librdkafka threads, sinks) per quote; the broker runs in its own process; cpu_us_per_quote_by_thread splits it by live thread (runtime_workers: the processor's own thread, as the main thread runs it in `tcgtracker process`, and tokio's threads; librdkafka: its Kafka clients; the main thread: this harness); cpu_us_per_quote_second_half counts only the second half of the messages, when the core's state for most series exists",
        "peak_rss_mib": rss_mib().1,
        "targets": { "ratio_null_sink_to_bare_consume": 0.5, "processor_cpu_us_per_quote_null_sink": 2.0 }
    });
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
