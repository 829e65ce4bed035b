//! The real engines the distributed product runs on, as plain processes for the tests and for
//! a developer's local stack: Apache Kafka (KRaft) and QuestDB resolved from Maven Central into
//! a cache outside the clone ([`cache`]), PostgreSQL from Debian's packages.
//!
//! Each engine starts on free loopback ports (127.0.0.1) with its data in a temporary folder,
//! is waited for until it answers, and is stopped with its whole process group when its value
//! is dropped, also when a test panics; a watchdog stops it if the process that started it dies
//! without dropping it. Versions are pinned in [`versions`].
//!
//! ```no_run
//! let kafka = tcg_engines::Kafka::start()?;
//! let questdb = tcg_engines::QuestDb::start()?;
//! println!("{} {} {}", kafka.brokers(), questdb.http_url(), questdb.pg_url());
//! # Ok::<(), tcg_engines::EngineError>(())
//! ```

pub mod cache;
mod error;
mod kafka;
mod postgres;
mod process;
mod prometheus;
mod questdb;
pub mod versions;

pub use error::{EngineError, Result};
pub use kafka::{Kafka, KafkaOptions};
pub use postgres::bin_dir as postgres_bin_dir;
pub use postgres::{Postgres, PostgresOptions};
pub use process::free_port;
pub use prometheus::{Prometheus, bin as prometheus_bin};
pub use questdb::{QuestDb, QuestDbOptions};

/// Resolves every engine that comes from Maven Central and checks Java and PostgreSQL, so that
/// a missing piece is reported before any test starts.
pub fn fetch_all() -> Result<()> {
    cache::java()?;
    cache::kafka_lib()?;
    cache::questdb_jar()?;
    postgres::bin_dir()?;
    Ok(())
}
