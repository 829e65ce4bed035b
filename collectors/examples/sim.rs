//! The simulator on its own, until the root binary wires `tcgtracker sim`:
//! `cargo run -p tcg-collectors --example sim -- --listen 127.0.0.1:8787 --seed 42 --chaos`

use clap::Parser;
use tcg_collectors::{SimArgs, run_sim_cli};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    sim: SimArgs,
}

#[tokio::main]
async fn main() -> Result<(), tcg_collectors::CollectorError> {
    run_sim_cli(Cli::parse().sim).await
}
