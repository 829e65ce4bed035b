//! `tcgtracker`: one binary, one subcommand per job.

mod backfill_cmd;
mod bench;
mod catalog;
mod catalog_index;
mod collect_cmd;
mod config;
mod kafka_flags;
mod keys_cmd;
mod migrate_cmd;
mod ops_server;
mod pipeline_cmd;
mod questdb_init;
mod remote_reports;
mod serve_cmd;
mod sim_cmd;
mod stores;
mod tracked;
mod up;
mod webhook_cmd;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// mimalloc: the pipeline allocates many small short-lived values (quotes, ticks, strings).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "tcgtracker",
    version,
    about = "Self-hostable price tracker for trading card games"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Everything in one process: simulator, collectors, processor, SQLite store, webhooks, API and web page.
    Up(up::UpArgs),
    /// Webhook tools.
    Webhook {
        #[command(subcommand)]
        which: WebhookCommand,
    },
    /// Kafka topics of the distributed pipeline.
    Topics {
        #[command(subcommand)]
        which: TopicsCommand,
    },
    /// QuestDB tables of the distributed pipeline.
    Questdb {
        #[command(subcommand)]
        which: questdb_init::QuestdbCommand,
    },
    /// The processor of the distributed pipeline: tcg.quotes.raw.v1 → core → store (and topics).
    Process(pipeline_cmd::ProcessArgs),
    /// The collectors: TCGplayer, TCGCSV, eBay, ECB rates and the other markets → tcg.quotes.raw.v1.
    Collect(Box<collect_cmd::CollectCmdArgs>),
    /// Price history into the SQLite store (resumable): TCGCSV's daily archives, or JustTCG with a key.
    Backfill(backfill_cmd::BackfillCmdArgs),
    /// The market simulator: every upstream API shape on one port, deterministic under a seed.
    Sim(sim_cmd::SimArgs),
    /// The query API (REST, SSE, OpenAPI, metrics) on its own.
    Serve(serve_cmd::ServeArgs),
    /// API keys: create (printed once), revoke, list.
    Keys(keys_cmd::KeysCmdArgs),
    /// Copies the app's own data (users, keys, portfolios, rules, alerts, webhooks) from one
    /// database to another, e.g. from `up`'s SQLite file to PostgreSQL; safe to run again.
    MigrateAppData(migrate_cmd::MigrateArgs),
    /// Benchmarks that print machine-readable results.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum WebhookCommand {
    /// Checks the signature of a saved webhook request.
    Verify(webhook_cmd::VerifyFlags),
    /// Delivers stored alerts to webhook endpoints (the distributed mode's dispatcher).
    Dispatch(webhook_cmd::DispatchArgs),
}

#[derive(Debug, Subcommand)]
enum TopicsCommand {
    /// Creates the five topics (partitions, replication, retention from flags or environment).
    Create(pipeline_cmd::TopicsCreateArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// The processor core on a synthetic market, against plain JSON decoding of the same quotes.
    Core(bench::core::CoreBenchArgs),
    /// The SQLite tick store: ingest, then history, latest and movers latencies on a large set.
    Store(bench::store::BenchStoreFlags),
    /// The distributed processor through Kafka (null sink, SQLite) against a bare consume.
    Pipeline(bench::pipeline::PipelineBenchArgs),
    /// The query API at market scale: `serve` over a large store, driven by wrk, against
    /// /healthz in the same run.
    Api(bench::api::ApiBenchArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Up(args) => match runtime()?.block_on(up::up(args)) {
            // A configuration mistake is the user's to fix: say what, exit 2, start nothing.
            Err(e) if e.downcast_ref::<config::ConfigError>().is_some() => {
                eprintln!("error: {e:#}");
                std::process::exit(2);
            }
            other => other,
        },
        Command::Webhook { which } => match which {
            WebhookCommand::Verify(args) => webhook_cmd::verify(&args),
            WebhookCommand::Dispatch(args) => runtime()?.block_on(webhook_cmd::dispatch(args)),
        },
        Command::Bench { which } => match which {
            BenchCommand::Core(args) => bench::core::run(&args),
            BenchCommand::Pipeline(args) => runtime()?.block_on(bench::pipeline::run(args)),
            BenchCommand::Store(args) => bench::store::run(&args),
            BenchCommand::Api(args) => runtime()?.block_on(bench::api::run(args)),
        },
        Command::Topics { which } => match which {
            TopicsCommand::Create(args) => runtime()?.block_on(pipeline_cmd::topics_create(args)),
        },
        Command::Questdb { which } => runtime()?.block_on(questdb_init::run(which)),
        Command::Process(args) => runtime()?.block_on(pipeline_cmd::process(args)),
        Command::Collect(args) => runtime()?.block_on(collect_cmd::collect(*args)),
        Command::Backfill(args) => runtime()?.block_on(backfill_cmd::backfill(args)),
        Command::Sim(args) => runtime()?.block_on(sim_cmd::run(args)),
        Command::Serve(args) => serve_runtime()?.block_on(serve_cmd::serve(args)),
        Command::Keys(args) => runtime()?.block_on(keys_cmd::keys(args)),
        Command::MigrateAppData(args) => runtime()?.block_on(migrate_cmd::run(args)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// `serve`'s runtime: its blocking work is the SQLite reads and writes (bounded by the
/// connections) and portfolio valuations (bounded by the heavy slots), so a few blocking
/// threads serve it. Tokio's default (up to 512) let short reads start new threads while
/// others were still going idle, and each thread's allocations were left behind when it
/// ended: `bench api` measured ~50 MiB of such pages at the peak.
fn serve_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(SERVE_BLOCKING_THREADS)
        .enable_all()
        .build()?)
}

/// Blocking threads of `serve`.
const SERVE_BLOCKING_THREADS: usize = 8;

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
