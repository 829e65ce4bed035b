//! `tcgtracker questdb init`: creates the QuestDB tables of schemas/sql/questdb/ddl.sql
//! (`CREATE TABLE IF NOT EXISTS`, so it is safe to run again) and exits. The stack's one-shot
//! init job runs it before the processors, the query API and Grafana need the tables; it is the
//! same code the QuestDB store runs when it connects.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

#[derive(Debug, clap::Subcommand)]
pub enum QuestdbCommand {
    /// Creates the tables (safe to run again), waiting for QuestDB to answer first.
    Init(QuestdbInitArgs),
}

#[derive(Debug, clap::Args)]
pub struct QuestdbInitArgs {
    /// QuestDB HTTP endpoint (ILP writes), e.g. http://127.0.0.1:9000.
    #[arg(long, env = "QUESTDB_HTTP")]
    questdb_http: String,
    /// QuestDB PGWire URL, e.g. postgres://admin:PASSWORD@127.0.0.1:8812/qdb.
    #[arg(long, env = "QUESTDB_PG", hide_env_values = true)]
    questdb_pg: String,
    /// How long to keep retrying while QuestDB does not answer yet (seconds).
    #[arg(long, default_value_t = 120)]
    wait_secs: u64,
}

pub async fn run(which: QuestdbCommand) -> Result<()> {
    match which {
        QuestdbCommand::Init(args) => init(args).await,
    }
}

async fn init(args: QuestdbInitArgs) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(args.wait_secs);
    loop {
        let config = tcg_store::QuestDbConfig::from_urls(&args.questdb_http, &args.questdb_pg)?;
        match tcg_store::QuestDbStore::connect(config).await {
            Ok(_store) => {
                for t in tcg_store::questdb::TABLES {
                    println!("table    {t}");
                }
                return Ok(());
            }
            Err(e) if Instant::now() < deadline => {
                eprintln!("QuestDB not ready ({e}); retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("creating the QuestDB tables at {}", args.questdb_http)
                });
            }
        }
    }
}
