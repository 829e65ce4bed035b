//! `tcg-engines fetch`: resolve the engines into the cache and check Java and PostgreSQL.
//! `tcg-engines run [kafka] [questdb] [postgres]`: start them for a local stack on the
//! usual ports (or those given), print where they listen, and run until Ctrl-C.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use tcg_engines::{Kafka, KafkaOptions, Postgres, PostgresOptions, QuestDb, QuestDbOptions};

#[derive(Debug, Parser)]
#[command(
    name = "tcg-engines",
    about = "Apache Kafka, QuestDB and PostgreSQL for tcgtracker's tests and local stacks"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Resolve Kafka and QuestDB from Maven Central into the cache; check Java 17+ and PostgreSQL.
    Fetch,
    /// Start engines on fixed loopback ports and keep them running until Ctrl-C (then each
    /// gets SIGTERM, and SIGKILL 10 s later if still there).
    Run {
        /// Which engines (all three when none is named).
        engines: Vec<EngineName>,
        /// Keep the data here (one folder per engine), across runs; a temporary folder otherwise.
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long, default_value_t = 9092)]
        kafka_port: u16,
        #[arg(long, default_value_t = 9093)]
        kafka_controller_port: u16,
        #[arg(long, default_value_t = 9000)]
        questdb_http_port: u16,
        #[arg(long, default_value_t = 8812)]
        questdb_pg_port: u16,
        #[arg(long, default_value_t = 9003)]
        questdb_health_port: u16,
        #[arg(long, default_value_t = 5432)]
        postgres_port: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineName {
    Kafka,
    Questdb,
    Postgres,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Fetch => {
            tcg_engines::fetch_all()?;
            println!(
                "engines ready in {} (Kafka {}, QuestDB {}; PostgreSQL {} from {})",
                tcg_engines::cache::engines_dir().display(),
                tcg_engines::versions::KAFKA,
                tcg_engines::versions::QUESTDB,
                tcg_engines::versions::POSTGRES_MAJOR,
                tcg_engines::postgres_bin_dir()?.display()
            );
        }
        Cmd::Run {
            mut engines,
            data,
            kafka_port,
            kafka_controller_port,
            questdb_http_port,
            questdb_pg_port,
            questdb_health_port,
            postgres_port,
        } => {
            if engines.is_empty() {
                engines = vec![EngineName::Kafka, EngineName::Questdb, EngineName::Postgres];
            }
            let sub = |name: &str| data.as_ref().map(|d| d.join(name));
            let mut running: Vec<Box<dyn std::fmt::Debug>> = Vec::new();
            if engines.contains(&EngineName::Kafka) {
                let k = Kafka::start_with(KafkaOptions {
                    port: Some(kafka_port),
                    controller_port: Some(kafka_controller_port),
                    data_dir: sub("kafka"),
                    extra_properties: vec![],
                })?;
                println!(
                    "kafka     pid {}  {}  (TCG_KAFKA_BROKERS={})",
                    k.pid().unwrap_or(0),
                    k.dir().display(),
                    k.brokers()
                );
                running.push(Box::new(k));
            }
            if engines.contains(&EngineName::Questdb) {
                let q = QuestDb::start_with(QuestDbOptions {
                    http_port: Some(questdb_http_port),
                    pg_port: Some(questdb_pg_port),
                    health_port: Some(questdb_health_port),
                    data_dir: sub("questdb"),
                    extra_conf: vec![],
                })?;
                println!(
                    "questdb   pid {}  {}  (QUESTDB_HTTP={} QUESTDB_PG={})",
                    q.pid().unwrap_or(0),
                    q.dir().display(),
                    q.http_url(),
                    q.pg_url()
                );
                running.push(Box::new(q));
            }
            if engines.contains(&EngineName::Postgres) {
                let p = Postgres::start_with(PostgresOptions {
                    port: Some(postgres_port),
                    data_dir: sub("postgres"),
                    durable: data.is_some(),
                })?;
                println!("postgres  pid {}  {}", p.pid().unwrap_or(0), p.url());
                running.push(Box::new(p));
            }
            println!("running; Ctrl-C stops them");
            loop {
                std::thread::park();
            }
        }
    }
    Ok(())
}
