//! Collectors on their own, quotes as JSON lines on standard output (`tcgtracker collect` has
//! every flag): `cargo run -p tcg-collectors --example collect -- BASE_URL [PASSES (1)]`, e.g.
//! against `cargo run -p tcg-simulator --example sim`.

use std::sync::Arc;

use tcg_collectors::{CollectOptions, JsonLinesSink, run_collect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = CollectOptions {
        base_url: Some(
            args.first()
                .cloned()
                .unwrap_or_else(|| "http://127.0.0.1:8787".into()),
        ),
        passes: Some(args.get(1).map_or(Ok(1), |p| p.parse())?),
        ..CollectOptions::default()
    };
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    run_collect(options, Arc::new(JsonLinesSink), None, ctrl_c).await?;
    Ok(())
}
