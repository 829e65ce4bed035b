//! Each engine starts, answers, keeps its data across a crash and a restart, and leaves no
//! process behind: neither when its value is dropped nor when the process that started it is
//! killed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use rdkafka::{
    ClientConfig, Message as _, Offset, TopicPartitionList,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    consumer::{BaseConsumer, Consumer as _},
    producer::{FutureProducer, FutureRecord},
};
use tcg_engines::{Kafka, Postgres, QuestDb};

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state is 'Z'.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

fn gone_within(pid: u32, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    !alive(pid)
}

/// `psql` (Debian's client) against a PGWire server, one value back.
fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql (Debian: postgresql-client)");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_keeps_acknowledged_messages_across_a_kill_and_a_restart() {
    let mut kafka = Kafka::start().expect("kafka");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", kafka.brokers())
        .create()
        .unwrap();
    admin
        .create_topics(
            &[NewTopic::new("t", 2, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", kafka.brokers())
        .set("enable.idempotence", "true")
        .create()
        .unwrap();
    for i in 0..50 {
        let payload = format!("m{i}");
        producer
            .send(
                FutureRecord::to("t").key("k").payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    let pid = kafka.pid().unwrap();
    kafka.kill();
    assert!(!alive(pid), "SIGKILL leaves no broker");
    kafka.restart().expect("restart on the same data");
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka.brokers())
        .set("group.id", "g")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..2 {
        tpl.add_partition_offset("t", p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 50 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            seen.push(String::from_utf8_lossy(m.payload().unwrap()).into_owned());
        }
    }
    let expected: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected, "every acknowledged message, in order, once");
    let pid = kafka.pid().unwrap();
    drop(kafka);
    assert!(gone_within(pid, 5), "dropping the broker stops it");
}

#[test]
fn questdb_answers_pgwire_and_keeps_its_tables_across_a_restart() {
    let mut db = QuestDb::start().expect("questdb");
    psql(
        &db.pg_url(),
        "CREATE TABLE t (ts TIMESTAMP, v LONG) TIMESTAMP(ts) PARTITION BY DAY WAL",
    );
    psql(
        &db.pg_url(),
        "INSERT INTO t VALUES ('2024-03-01T00:00:00.000000Z', 7)",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while psql(&db.pg_url(), "SELECT count() FROM t") != "1" {
        assert!(Instant::now() < deadline, "the WAL row became visible");
        std::thread::sleep(Duration::from_millis(100));
    }
    db.restart().expect("restart");
    assert_eq!(psql(&db.pg_url(), "SELECT sum(v) FROM t"), "7");
    let pid = db.pid().unwrap();
    drop(db);
    assert!(gone_within(pid, 5), "dropping the server stops it");
}

#[test]
fn postgres_runs_a_throwaway_cluster() {
    let mut pg = Postgres::start().expect("postgres");
    psql(
        &pg.url(),
        "CREATE TABLE t (v int); INSERT INTO t VALUES (41)",
    );
    pg.restart().expect("restart");
    assert_eq!(psql(&pg.url(), "SELECT v + 1 FROM t"), "42");
    let pid = pg.pid().unwrap();
    drop(pg);
    assert!(gone_within(pid, 5), "dropping the cluster stops it");
}

/// The harness's own binary starts QuestDB; SIGKILL to the binary (no destructor runs) still
/// stops the server: the watchdog sees its starter gone.
#[test]
fn a_killed_starter_leaves_no_engine_behind() {
    let ports: Vec<String> = (0..3)
        .map(|_| tcg_engines::free_port().unwrap().to_string())
        .collect();
    let mut starter = Command::new(env!("CARGO_BIN_EXE_tcg-engines"))
        .args(["run", "questdb", "--questdb-http-port", &ports[0]])
        .args([
            "--questdb-pg-port",
            &ports[1],
            "--questdb-health-port",
            &ports[2],
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(starter.stdout.take().unwrap()).lines();
    let line = lines.next().expect("a line naming the server").unwrap();
    let pid: u32 = line
        .split_whitespace()
        .nth(2)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a pid in {line:?}"));
    assert!(alive(pid));
    starter.kill().unwrap();
    starter.wait().unwrap();
    assert!(
        gone_within(pid, 20),
        "QuestDB (pid {pid}) outlived its starter"
    );
}
