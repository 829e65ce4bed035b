//! The engine versions, pinned here and nowhere else.
//!
//! Every artifact comes from Maven Central (resolved by `mvn`), except PostgreSQL, which is
//! Debian's `postgresql` package (its major version is what [`POSTGRES_MAJOR`] names).

/// Apache Kafka, `org.apache.kafka:kafka_2.13` (KRaft; needs Java 17 or later).
pub const KAFKA: &str = "4.1.1";
/// The log4j 2 release Kafka's own dependencies name (its SLF4J binding is added beside it, so
/// the broker's log is not silent).
pub const LOG4J: &str = "2.24.3";
/// QuestDB, `org.questdb:questdb` (the whole server in one jar, native libraries inside).
pub const QUESTDB: &str = "9.3.4";
/// PostgreSQL's major version, from Debian's packages (`/usr/lib/postgresql/15/bin`).
pub const POSTGRES_MAJOR: &str = "15";
