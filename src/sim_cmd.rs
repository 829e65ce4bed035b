//! `tcgtracker sim`: the market simulator's flags, mapped onto `tcg_simulator::SimConfig`.

use std::net::SocketAddr;

use anyhow::Result;
use tcg_simulator::{FaultConfig, SimConfig};

/// `tcgtracker sim`: the market simulator.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Seed of the catalog, prices, listings and faults.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// TCGplayer category ids to generate (1 Magic, 2 Yu-Gi-Oh, 3 Pokémon, 68 One Piece, 71 Lorcana).
    #[arg(long, value_delimiter = ',', default_value = "3,1,2,68")]
    pub categories: Vec<u32>,
    #[arg(long, default_value_t = 3)]
    pub sets_per_game: u32,
    #[arg(long, default_value_t = 40)]
    pub cards_per_set: u32,
    #[arg(long, default_value_t = 2)]
    pub sealed_per_set: u32,
    /// Prices move every this many seconds.
    #[arg(long, default_value_t = 60)]
    pub step_secs: u64,
    /// Freeze the simulated clock at this Unix time.
    #[arg(long)]
    pub fixed_time: Option<i64>,
    /// TCGCSV publishes an update every this many seconds (a day upstream).
    #[arg(long, default_value_t = 86_400)]
    pub tcgcsv_update_secs: i64,
    #[arg(long, default_value_t = 1_209_599)]
    pub tcgplayer_token_ttl_secs: u64,
    #[arg(long, default_value_t = 7_200)]
    pub ebay_token_ttl_secs: u64,
    /// Switch every fault on at modest rates (3% 429, 3% 500, 1% hangs, 2% malformed, 1% expired tokens).
    #[arg(long)]
    pub chaos: bool,
    /// Share of requests answered 429 with Retry-After.
    #[arg(long)]
    pub fault_429: Option<f64>,
    /// Share of requests answered 500.
    #[arg(long)]
    pub fault_500: Option<f64>,
    /// Share of requests that hang for --hang-ms before answering.
    #[arg(long)]
    pub fault_hang: Option<f64>,
    /// Share of answers with truncated JSON.
    #[arg(long)]
    pub fault_malformed: Option<f64>,
    /// Share of authenticated requests refused as if the token had expired.
    #[arg(long)]
    pub fault_expired_token: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub retry_after_secs: u64,
    #[arg(long, default_value_t = 30_000)]
    pub hang_ms: u64,
}

impl SimArgs {
    /// The simulator configuration these flags describe: `--chaos` starts from
    /// [`FaultConfig::chaos`] (whose hang is kept unless `--hang-ms` is given), each `--fault-*`
    /// rate (clamped to 0..=1) overrides.
    pub fn config(&self) -> SimConfig {
        let mut faults = if self.chaos {
            FaultConfig::chaos()
        } else {
            FaultConfig::default()
        };
        faults.retry_after_secs = self.retry_after_secs;
        if !self.chaos || self.hang_ms != 30_000 {
            faults.hang_ms = self.hang_ms;
        }
        let set = |slot: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *slot = v.clamp(0.0, 1.0);
            }
        };
        set(&mut faults.rate_429, self.fault_429);
        set(&mut faults.rate_500, self.fault_500);
        set(&mut faults.rate_hang, self.fault_hang);
        set(&mut faults.rate_malformed, self.fault_malformed);
        set(&mut faults.rate_expired_token, self.fault_expired_token);
        SimConfig {
            seed: self.seed,
            categories: self.categories.clone(),
            sets_per_game: self.sets_per_game,
            cards_per_set: self.cards_per_set,
            sealed_per_set: self.sealed_per_set,
            step_secs: self.step_secs,
            fixed_time: self.fixed_time,
            tcgplayer_token_ttl_secs: self.tcgplayer_token_ttl_secs,
            ebay_token_ttl_secs: self.ebay_token_ttl_secs,
            tcgcsv_update_secs: self.tcgcsv_update_secs,
            faults,
            ..SimConfig::default()
        }
    }
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs the simulator until Ctrl-C.
pub async fn run(args: SimArgs) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!(
        "simulator on http://{} (seed {}): TCGplayer /token /v1.39.0/…, TCGCSV /tcgplayer/… /last-updated.txt /archive/tcgplayer/…, eBay /identity/… /buy/…, ECB /stats/eurofxref/…",
        listener.local_addr()?,
        args.seed
    );
    tcg_simulator::run(listener, args.config(), ctrl_c()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Sim {
        #[command(flatten)]
        args: SimArgs,
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let config = Sim::parse_from(["sim"]).args.config();
        // The flags' fault timings (used once a rate is set) are the only difference.
        let want = SimConfig {
            faults: FaultConfig {
                retry_after_secs: 1,
                hang_ms: 30_000,
                ..FaultConfig::default()
            },
            ..SimConfig::default()
        };
        let json = |c: &SimConfig| serde_json::to_value(c).unwrap();
        assert_eq!(json(&config), json(&want));
    }

    #[test]
    fn sim_flags_become_a_config() {
        let s = Sim::try_parse_from([
            "sim",
            "--seed",
            "7",
            "--chaos",
            "--fault-429",
            "0.5",
            "--categories",
            "3,68",
        ])
        .unwrap();
        let c = s.args.config();
        assert_eq!(c.seed, 7);
        assert_eq!(c.categories, vec![3, 68]);
        assert_eq!(c.faults.rate_429, 0.5);
        assert_eq!(c.faults.rate_500, FaultConfig::chaos().rate_500);
        assert_eq!(c.faults.hang_ms, FaultConfig::chaos().hang_ms);
        let quiet = Sim::try_parse_from(["sim"]).unwrap().args.config();
        assert_eq!(quiet.faults.rate_429, 0.0);
        assert_eq!(quiet.seed, 42);
    }
}
