//! Apache Kafka in KRaft mode, one node that is both broker and controller: the storage is
//! formatted once (`kafka.tools.StorageTool format`), then `kafka.Kafka server.properties` runs
//! until stopped. A restart reuses the data folder and the ports, as a restarted broker does.

use std::{path::PathBuf, process::Command, time::Duration};

use base64::Engine as _;
use nix::sys::signal::Signal;
use rdkafka::{
    ClientConfig,
    consumer::{BaseConsumer, Consumer as _},
};

use crate::{
    cache,
    error::{EngineError, Result},
    process::{DataDir, Instance, free_port, listening},
};

/// How a broker is started.
#[derive(Debug, Clone, Default)]
pub struct KafkaOptions {
    /// The client port; a free one when `None`.
    pub port: Option<u16>,
    /// The controller port; a free one when `None`.
    pub controller_port: Option<u16>,
    /// A data folder to keep; a temporary one (removed on drop) when `None`.
    pub data_dir: Option<PathBuf>,
    /// More `server.properties` lines (`key=value`), after the harness's own.
    pub extra_properties: Vec<String>,
}

/// A running (or stopped, restartable) Kafka broker.
#[derive(Debug)]
pub struct Kafka {
    inst: Instance,
    port: u16,
    controller_port: u16,
}

impl Kafka {
    /// A broker on free loopback ports with its data in a temporary folder.
    pub fn start() -> Result<Kafka> {
        Self::start_with(KafkaOptions::default())
    }

    /// A broker as `options` say.
    pub fn start_with(options: KafkaOptions) -> Result<Kafka> {
        let port = match options.port {
            Some(p) => p,
            None => free_port()?,
        };
        let controller_port = match options.controller_port {
            Some(p) => p,
            None => free_port()?,
        };
        let dir = DataDir::new(options.data_dir, "tcg-kafka-")?;
        let props = dir.path().join("server.properties");
        std::fs::write(
            &props,
            server_properties(
                port,
                controller_port,
                &dir.path().join("data"),
                &options.extra_properties,
            ),
        )
        .map_err(EngineError::io(format!("writing {}", props.display())))?;
        let log4j = dir.path().join("log4j2.properties");
        std::fs::write(&log4j, LOG4J2)
            .map_err(EngineError::io(format!("writing {}", log4j.display())))?;
        let mut kafka = Kafka {
            inst: Instance::new("kafka", dir, Signal::SIGTERM),
            port,
            controller_port,
        };
        if !kafka.inst.dir().join("data/meta.properties").is_file() {
            kafka.format()?;
        }
        kafka.restart()?;
        Ok(kafka)
    }

    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.inst.pid()
    }

    /// The folder holding `server.properties`, the log and the data.
    pub fn dir(&self) -> PathBuf {
        self.inst.dir().to_owned()
    }

    /// The end of the broker's log.
    pub fn log(&self) -> String {
        self.inst.log()
    }

    /// SIGKILL: the broker dies without a word, as in a crash.
    pub fn kill(&mut self) {
        self.inst.kill();
    }

    /// SIGTERM and a wait for a controlled shutdown.
    pub fn stop(&mut self) {
        self.inst.stop();
    }

    /// Starts the broker (again) on the same data and ports and waits until it answers a
    /// metadata request. A running broker is stopped first.
    pub fn restart(&mut self) -> Result<()> {
        let dir = self.inst.dir().to_owned();
        let lib = cache::kafka_lib()?;
        let mut cmd = Command::new(cache::java()?);
        cmd.arg(format!("-Xmx{}", heap()))
            .arg("-Xms128m")
            .arg("-XX:+UseG1GC")
            .arg("-Djava.awt.headless=true")
            .arg(format!(
                "-Dlog4j2.configurationFile={}",
                dir.join("log4j2.properties").display()
            ))
            .arg("-cp")
            .arg(format!("{}/*", lib.display()))
            .arg("kafka.Kafka")
            .arg(dir.join("server.properties"))
            .current_dir(dir);
        let brokers = self.brokers();
        let port = self.port;
        self.inst.start(cmd, Duration::from_secs(90), || {
            listening(port) && answers_metadata(&brokers)
        })
    }

    fn format(&self) -> Result<()> {
        let dir = self.inst.dir();
        let lib = cache::kafka_lib()?;
        let cluster_id = cluster_id();
        let out = Command::new(cache::java()?)
            .arg("-Xmx256m")
            .arg(format!(
                "-Dlog4j2.configurationFile={}",
                dir.join("log4j2.properties").display()
            ))
            .arg("-cp")
            .arg(format!("{}/*", lib.display()))
            .args([
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
            ])
            .arg(&cluster_id)
            .arg("-c")
            .arg(dir.join("server.properties"))
            .output()
            .map_err(EngineError::io("running Kafka's StorageTool"))?;
        if !out.status.success() {
            return Err(EngineError::Prepare {
                engine: "kafka",
                step: "formatting the storage",
                status: out.status.to_string(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        Ok(())
    }

    /// The controller port (the KRaft quorum's listener).
    pub fn controller_port(&self) -> u16 {
        self.controller_port
    }
}

/// A new cluster id: a random UUID in URL-safe base64 without padding, as
/// `kafka-storage random-uuid` prints it. Like Kafka's `Uuid.randomUuid`, one that would start
/// with `-` is drawn again: the storage tool's argument parser reads it as an option
/// ("argument --cluster-id/-t: expected one argument").
fn cluster_id() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

/// The broker's heap: `$TCG_KAFKA_HEAP` (e.g. `1g`), 512 MiB by default.
fn heap() -> String {
    std::env::var("TCG_KAFKA_HEAP").unwrap_or_else(|_| "512m".into())
}

/// Whether a broker at `brokers` answers a metadata request naming itself.
fn answers_metadata(brokers: &str) -> bool {
    let consumer: BaseConsumer = match ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("log_level", "0")
        .create()
    {
        Ok(c) => c,
        Err(_) => return false,
    };
    consumer
        .fetch_metadata(None, Duration::from_secs(2))
        .map(|m| !m.brokers().is_empty())
        .unwrap_or(false)
}

/// The one-node configuration. Group and offsets settings are those of a test cluster: one
/// replica, no initial rebalance delay, short minimum session timeouts (the tests' processors
/// use a few seconds so that a dead member is noticed quickly).
fn server_properties(
    port: u16,
    controller_port: u16,
    data: &std::path::Path,
    extra: &[String],
) -> String {
    let mut s = format!(
        "process.roles=broker,controller\n\
         node.id=1\n\
         controller.quorum.voters=1@127.0.0.1:{controller_port}\n\
         listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n\
         advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
         controller.listener.names=CONTROLLER\n\
         inter.broker.listener.name=PLAINTEXT\n\
         listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
         log.dirs={}\n\
         num.partitions=1\n\
         auto.create.topics.enable=false\n\
         offsets.topic.replication.factor=1\n\
         offsets.topic.num.partitions=4\n\
         transaction.state.log.replication.factor=1\n\
         transaction.state.log.min.isr=1\n\
         transaction.state.log.num.partitions=4\n\
         share.coordinator.state.topic.replication.factor=1\n\
         share.coordinator.state.topic.min.isr=1\n\
         group.initial.rebalance.delay.ms=0\n\
         group.min.session.timeout.ms=1000\n\
         num.network.threads=2\n\
         num.io.threads=2\n\
         log.retention.check.interval.ms=300000\n",
        data.display()
    );
    for line in extra {
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// Warnings and errors to the log file (the process's stdout).
const LOG4J2: &str = "\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_22_characters_and_never_start_with_a_dash() {
        for _ in 0..2_000 {
            let id = cluster_id();
            assert_eq!(id.len(), 22, "{id}");
            assert!(!id.starts_with('-'), "{id}");
        }
    }

    #[test]
    fn properties_name_both_listeners_and_the_quorum() {
        let p = server_properties(9092, 9093, std::path::Path::new("/d"), &["a=b".into()]);
        assert!(p.contains("listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\n"));
        assert!(p.contains("controller.quorum.voters=1@127.0.0.1:9093\n"));
        assert!(p.contains("log.dirs=/d\n"));
        assert!(p.ends_with("a=b\n"));
    }
}
