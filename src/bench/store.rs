//! `tcgtracker bench store`: the flags of the store benchmark (the measuring is in tcg-store's
//! `bench` feature).

use std::path::PathBuf;

use tcg_store::BenchStoreConfig;

/// Flags of `tcgtracker bench store`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchStoreFlags {
    /// Print one JSON object (the default output is the same object, pretty-printed).
    #[arg(long)]
    pub json: bool,
    /// Ticks to ingest.
    #[arg(long, default_value_t = 10_000_000)]
    pub ticks: u64,
    /// Distinct series.
    #[arg(long, default_value_t = 50_000)]
    pub series: u64,
    /// Days the ticks span (ending now).
    #[arg(long, default_value_t = 365)]
    pub days: u64,
    /// Ticks per write batch (one transaction).
    #[arg(long, default_value_t = 50_000)]
    pub batch: usize,
    /// Where the databases go (default: a fresh folder in the system temp dir, removed after).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Runs of each read (p50 and max are reported).
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// Page cache per connection, MiB.
    #[arg(long, default_value_t = 1024)]
    pub cache_mib: i64,
    /// Bench QuestDB instead of SQLite: its HTTP endpoint (ILP), e.g. http://127.0.0.1:9000.
    /// Writes the generated ticks into its `ticks` table (and a scratch table
    /// `bench_bare_ticks`, dropped after).
    #[arg(long, requires = "questdb_pg")]
    pub questdb_http: Option<String>,
    /// QuestDB's PGWire URL, e.g. postgres://admin:quest@127.0.0.1:8812/qdb.
    #[arg(long, requires = "questdb_http")]
    pub questdb_pg: Option<String>,
}

impl BenchStoreFlags {
    pub fn config(&self) -> BenchStoreConfig {
        BenchStoreConfig {
            json: self.json,
            ticks: self.ticks,
            series: self.series,
            days: self.days,
            batch: self.batch,
            data_dir: self.data_dir.clone(),
            runs: self.runs,
            cache_mib: self.cache_mib,
            questdb_http: self.questdb_http.clone(),
            questdb_pg: self.questdb_pg.clone(),
        }
    }
}

/// Runs the benchmark and prints its report.
pub fn run(flags: &BenchStoreFlags) -> anyhow::Result<()> {
    let report = tcg_store::bench_store(&flags.config())?;
    if flags.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        flags: BenchStoreFlags,
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let got = Cli::parse_from(["x", "--json"]).flags.config();
        let want = BenchStoreConfig::default();
        assert_eq!(
            (
                got.ticks,
                got.series,
                got.days,
                got.batch,
                got.runs,
                got.cache_mib
            ),
            (
                want.ticks,
                want.series,
                want.days,
                want.batch,
                want.runs,
                want.cache_mib
            )
        );
        assert!(got.questdb_http.is_none() && got.data_dir.is_none());
    }

    #[test]
    fn questdb_needs_both_endpoints() {
        assert!(Cli::try_parse_from(["x", "--questdb-http", "http://127.0.0.1:9000"]).is_err());
    }
}
