//! The simulator on its own (`tcgtracker sim` has every flag):
//! `cargo run -p tcg-simulator --example sim -- [ADDR (127.0.0.1:8787)] [SEED (42)] [chaos]`

use tcg_simulator::{FaultConfig, SimConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .map_or("127.0.0.1:8787", String::as_str)
        .parse()?;
    let seed = args.get(1).map_or(Ok(42), |s| s.parse())?;
    let faults = if args.get(2).is_some_and(|a| a == "chaos") {
        FaultConfig::chaos()
    } else {
        FaultConfig::default()
    };
    let config = SimConfig {
        seed,
        faults,
        ..SimConfig::default()
    };
    let sim = tcg_simulator::spawn(addr, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    eprintln!(
        "simulator on {} (seed {seed}); Ctrl-C stops it",
        sim.base_url
    );
    sim.task.await??;
    Ok(())
}
