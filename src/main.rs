//! `tcgtracker`: one binary, one subcommand per job.

mod bench;

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
    /// Benchmarks that print machine-readable results.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// The processor core on a synthetic market, against plain JSON decoding of the same quotes.
    Core(bench::core::CoreBenchArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench { which } => match which {
            BenchCommand::Core(args) => bench::core::run(&args),
        },
    }
}
