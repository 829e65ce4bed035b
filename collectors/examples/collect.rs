//! Collectors on their own, quotes as JSON lines on standard output:
//! `cargo run -p tcg-collectors --example collect -- --base-url http://127.0.0.1:8787 --passes 1`

use std::sync::Arc;

use clap::Parser;
use tcg_collectors::{CollectArgs, JsonLinesSink, run_collect_cli};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    collect: CollectArgs,
}

#[tokio::main]
async fn main() -> Result<(), tcg_collectors::CollectorError> {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    run_collect_cli(Cli::parse().collect, Arc::new(JsonLinesSink), None, ctrl_c).await?;
    Ok(())
}
