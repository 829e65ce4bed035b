//! Runs the store benchmark: `cargo run --release -p tcg-store --example bench_store -- --json`
//! (the same as `tcgtracker bench store --json`).

use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: tcg_store::BenchStoreArgs,
}

fn main() -> Result<(), tcg_store::StoreError> {
    let cli = Cli::parse();
    let out = tcg_store::bench_store(&cli.args)?;
    if cli.args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}
