//! `tcgtracker bench core`: the processor core against plain JSON decoding of the same quotes.

use std::{hint::black_box, time::Instant};

use anyhow::{Context, Result};
use serde_json::json;
use tcg_processor_core::{CoreConfig, Processor, Stats};
use tcg_schemas::{
    AlertRule, Direction, Envelope, Money, ProductId, RawQuote, RuleCondition, RuleId,
    SeriesFilter, Timestamp, UserId,
};

use super::synth;

#[derive(Debug, clap::Args)]
pub struct CoreBenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Number of quotes in the synthetic mix.
    #[arg(long, default_value_t = 1_000_000)]
    quotes: usize,
    /// Number of distinct products (cards) in the mix.
    #[arg(long, default_value_t = 20_000)]
    products: u64,
    /// Quotes per `process` call.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Rounds of each measurement; the best round counts.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// One alert rule for every this many products.
    #[arg(long, default_value_t = 10)]
    rule_every: u64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn rules(products: u64, every: u64) -> Vec<AlertRule> {
    let every = every.max(1);
    (0..products)
        .step_by(every as usize)
        .enumerate()
        .map(|(n, i)| {
            let condition = match n % 4 {
                0 => RuleCondition::PriceAbove {
                    threshold_usd: Money::usd_cents(20_000),
                },
                1 => RuleCondition::PriceBelow {
                    threshold_usd: Money::usd_cents(1_000),
                },
                2 => RuleCondition::PercentChange {
                    percent: "5".parse().unwrap_or_default(),
                    window_secs: 86_400,
                    direction: Direction::Either,
                    min_confirming_sources: None,
                },
                _ => RuleCondition::Deal {
                    percent: "15".parse().unwrap_or_default(),
                },
            };
            AlertRule {
                id: RuleId(uuid::Uuid::from_u128(n as u128 + 1)),
                owner: UserId("bench".into()),
                name: format!("bench rule {n}"),
                product_id: ProductId(100_000 + i),
                filter: SeriesFilter::default(),
                condition,
                cooldown_secs: 3600,
                paused: false,
                created_at: Timestamp::from_secs(0),
                updated_at: Timestamp::from_secs(0),
            }
        })
        .collect()
}

fn processor(rules: &[AlertRule]) -> Result<Processor> {
    let mut p = Processor::new(CoreConfig::default());
    for r in rules {
        p.upsert_rule(r.clone())
            .map_err(|e| anyhow::anyhow!("bench rule refused: {e}"))?;
    }
    Ok(p)
}

/// CPU time of this thread so far (Linux `schedstat`), so that figures on a shared machine count
/// what this thread used rather than the time other processes held the core.
fn thread_cpu() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Best (wall seconds, thread CPU seconds) over `rounds`.
fn best<F: FnMut() -> Result<()>>(rounds: usize, mut f: F) -> Result<(f64, f64)> {
    let mut best = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds.max(1) {
        let cpu0 = thread_cpu();
        let start = Instant::now();
        f()?;
        let wall = start.elapsed().as_secs_f64();
        let cpu = match (cpu0, thread_cpu()) {
            (Some(a), Some(b)) => b - a,
            _ => wall,
        };
        best = (best.0.min(wall), best.1.min(cpu));
    }
    Ok(best)
}

/// What every measurement runs on: the synthetic quotes, their encoded envelopes and the rules.
struct Workload {
    quotes: Vec<RawQuote>,
    payloads: Vec<Vec<u8>>,
    rules: Vec<AlertRule>,
    batch: usize,
    /// The processor's clock: an hour after the last quote.
    now: Timestamp,
}

impl Workload {
    fn new(args: &CoreBenchArgs) -> Result<Self> {
        let quotes = synth::market(args.seed, args.products, args.quotes);
        let now = quotes
            .last()
            .map_or(Timestamp::from_secs(0), |q| q.observed_at.plus_secs(3600));
        let produced = Timestamp::from_secs(1_714_521_600);
        let payloads: Vec<Vec<u8>> = quotes
            .iter()
            .map(|q| Envelope::new(produced, q.clone()).encode())
            .collect::<Result<_, _>>()
            .context("encoding the synthetic quotes")?;
        Ok(Self {
            quotes,
            payloads,
            rules: rules(args.products, args.rule_every),
            batch: args.batch.max(1),
            now,
        })
    }
}

/// Best (wall, CPU) seconds of each measurement, and what the core made of the quotes.
struct Timings {
    decode: (f64, f64),
    decoder: (f64, f64),
    core: (f64, f64),
    pipeline: (f64, f64),
    stats: Stats,
}

/// The baseline: plain serde_json decoding of the payloads.
fn decode_only(rounds: usize, w: &Workload) -> Result<(f64, f64)> {
    best(rounds, || {
        for p in &w.payloads {
            black_box(serde_json::from_slice::<Envelope<RawQuote>>(p)?);
        }
        Ok(())
    })
}

/// The processor's own decoder (serde_json into a borrowed envelope, the schema name checked in
/// place).
fn decoder(rounds: usize, w: &Workload) -> Result<(f64, f64)> {
    best(rounds, || {
        for p in &w.payloads {
            black_box(Envelope::<RawQuote>::decode_payload(p)?);
        }
        Ok(())
    })
}

/// The core alone on decoded quotes, in batches; also what it made of them (the last round's).
fn core_only(rounds: usize, w: &Workload) -> Result<((f64, f64), Stats)> {
    let mut stats = Stats::default();
    let timing = best(rounds, || {
        let mut p = processor(&w.rules)?;
        let mut s = Stats::default();
        for chunk in w.quotes.chunks(w.batch) {
            let out = p.process(w.now, chunk);
            s.add(&out.stats);
            black_box(out);
        }
        stats = s;
        Ok(())
    })?;
    Ok((timing, stats))
}

/// The processor's decoder then the core, batch by batch, as the pipeline runs them.
fn decode_and_core(rounds: usize, w: &Workload) -> Result<(f64, f64)> {
    best(rounds, || {
        let mut p = processor(&w.rules)?;
        let mut decoded = Vec::with_capacity(w.batch);
        for chunk in w.payloads.chunks(w.batch) {
            decoded.clear();
            for bytes in chunk {
                decoded.push(Envelope::<RawQuote>::decode_payload(bytes)?.1);
            }
            black_box(p.process(w.now, &decoded));
        }
        Ok(())
    })
}

fn measure(rounds: usize, w: &Workload) -> Result<Timings> {
    let decode = decode_only(rounds, w)?;
    let decoder = decoder(rounds, w)?;
    let (core, stats) = core_only(rounds, w)?;
    let pipeline = decode_and_core(rounds, w)?;
    Ok(Timings {
        decode,
        decoder,
        core,
        pipeline,
        stats,
    })
}

/// The JSON object the bench prints.
fn report(args: &CoreBenchArgs, w: &Workload, t: &Timings) -> serde_json::Value {
    let n = w.quotes.len() as f64;
    let bytes: usize = w.payloads.iter().map(Vec::len).sum();
    let Timings {
        decode,
        decoder,
        core,
        pipeline,
        stats,
    } = t;
    json!({
        "bench": "core",
        "quotes": w.quotes.len(),
        "products": args.products,
        "rules": w.rules.len(),
        "batch": w.batch,
        "rounds": args.rounds,
        "avg_payload_bytes": bytes as f64 / n,
        "wall": {
            "decode_only_quotes_per_s": n / decode.0,
            "decoder_quotes_per_s": n / decoder.0,
            "core_only_quotes_per_s": n / core.0,
            "decode_and_core_quotes_per_s": n / pipeline.0,
        },
        "cpu": {
            "decode_only_quotes_per_cpu_s": n / decode.1,
            "decoder_quotes_per_cpu_s": n / decoder.1,
            "core_only_quotes_per_cpu_s": n / core.1,
            "decode_and_core_quotes_per_cpu_s": n / pipeline.1,
            "core_ns_per_quote": core.1 * 1e9 / n,
            "decode_ns_per_quote": decode.1 * 1e9 / n,
            "decoder_ns_per_quote": decoder.1 * 1e9 / n,
        },
        "note": "decode_only is plain serde_json decoding of the envelopes (the baseline); decoder is the processor's (Envelope::decode_payload: serde_json too, into a borrowed envelope whose schema name is checked in place); decode_and_core uses the processor's decoder",
        "ratio_decoder_to_decode_only": decode.1 / decoder.1,
        "ratio_core_only_to_decode_only": decode.1 / core.1,
        "ratio_decode_and_core_to_decode_only": decode.1 / pipeline.1,
        "outcome": stats,
        "targets": {
            "core_only_quotes_per_cpu_s": 1_000_000,
            "ratio_decode_and_core_to_decode_only": 0.5
        }
    })
}

pub fn run(args: &CoreBenchArgs) -> Result<()> {
    let workload = Workload::new(args)?;
    let timings = measure(args.rounds, &workload)?;
    let report = report(args, &workload, &timings);
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
