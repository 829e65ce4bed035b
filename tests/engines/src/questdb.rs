//! QuestDB: the server jar run as a module (`io.questdb/io.questdb.ServerMain -d DIR`), with
//! its ports in `DIR/conf/server.conf`: HTTP (REST, ILP over HTTP, `/ping`), PGWire and the
//! minimal health server. ILP over TCP and UDP and telemetry are off.

use std::{path::PathBuf, process::Command, time::Duration};

use nix::sys::signal::Signal;

use crate::{
    cache,
    error::{EngineError, Result},
    process::{DataDir, Instance, free_port, http_status, listening},
};

/// How a server is started.
#[derive(Debug, Clone, Default)]
pub struct QuestDbOptions {
    /// HTTP port (REST, ILP/HTTP); a free one when `None`.
    pub http_port: Option<u16>,
    /// PGWire port; a free one when `None`.
    pub pg_port: Option<u16>,
    /// Minimal health server port; a free one when `None`.
    pub health_port: Option<u16>,
    /// A data folder to keep; a temporary one (removed on drop) when `None`.
    pub data_dir: Option<PathBuf>,
    /// More `server.conf` lines (`key=value`), after the harness's own.
    pub extra_conf: Vec<String>,
}

/// A running (or stopped, restartable) QuestDB server.
#[derive(Debug)]
pub struct QuestDb {
    inst: Instance,
    http_port: u16,
    pg_port: u16,
    health_port: u16,
}

impl QuestDb {
    /// A server on free loopback ports with its data in a temporary folder.
    pub fn start() -> Result<QuestDb> {
        Self::start_with(QuestDbOptions::default())
    }

    /// A server as `options` say.
    pub fn start_with(options: QuestDbOptions) -> Result<QuestDb> {
        let pick = |p: Option<u16>| p.map_or_else(free_port, Ok);
        let (http_port, pg_port, health_port) = (
            pick(options.http_port)?,
            pick(options.pg_port)?,
            pick(options.health_port)?,
        );
        let dir = DataDir::new(options.data_dir, "tcg-questdb-")?;
        let conf = dir.path().join("conf");
        std::fs::create_dir_all(&conf)
            .map_err(EngineError::io(format!("creating {}", conf.display())))?;
        std::fs::write(
            conf.join("server.conf"),
            server_conf(http_port, pg_port, health_port, &options.extra_conf),
        )
        .map_err(EngineError::io("writing server.conf"))?;
        let mut db = QuestDb {
            inst: Instance::new("questdb", dir, Signal::SIGTERM),
            http_port,
            pg_port,
            health_port,
        };
        db.restart()?;
        Ok(db)
    }

    /// `http://127.0.0.1:PORT`: REST and ILP over HTTP.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// `postgres://admin:quest@127.0.0.1:PORT/qdb`: PGWire with the default credentials.
    pub fn pg_url(&self) -> String {
        format!("postgres://admin:quest@127.0.0.1:{}/qdb", self.pg_port)
    }

    /// The PGWire port.
    pub fn pg_port(&self) -> u16 {
        self.pg_port
    }

    /// The HTTP port.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// The minimal health server's port (any GET answers 200 while healthy).
    pub fn health_port(&self) -> u16 {
        self.health_port
    }

    /// The server's data root (`conf/`, `db/`, the log).
    pub fn dir(&self) -> PathBuf {
        self.inst.dir().to_owned()
    }

    /// The end of the server's log.
    pub fn log(&self) -> String {
        self.inst.log()
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.inst.pid()
    }

    /// SIGKILL, as in a crash.
    pub fn kill(&mut self) {
        self.inst.kill();
    }

    /// SIGTERM and a wait for a clean shutdown.
    pub fn stop(&mut self) {
        self.inst.stop();
    }

    /// Starts the server (again) on the same data and ports; waits until `/ping` answers 204
    /// and PGWire accepts connections. A running server is stopped first.
    pub fn restart(&mut self) -> Result<()> {
        let jar = cache::questdb_jar()?;
        let mut cmd = Command::new(cache::java()?);
        cmd.arg(format!(
            "-Xmx{}",
            std::env::var("TCG_QUESTDB_HEAP").unwrap_or_else(|_| "1g".into())
        ))
        .arg("-Xms128m")
        .args(["--add-exports", "java.base/jdk.internal.math=io.questdb"])
        .arg("-p")
        .arg(&jar)
        .args(["-m", "io.questdb/io.questdb.ServerMain", "-d"])
        .arg(self.inst.dir())
        .current_dir(self.inst.dir());
        let (http, pg) = (self.http_port, self.pg_port);
        self.inst.start(cmd, Duration::from_secs(90), || {
            listening(pg) && http_status(http, "/ping") == Some(204)
        })
    }
}

fn server_conf(http: u16, pg: u16, health: u16, extra: &[String]) -> String {
    let mut s = format!(
        "http.bind.to=127.0.0.1:{http}\n\
         http.min.enabled=true\n\
         http.min.net.bind.to=127.0.0.1:{health}\n\
         pg.enabled=true\n\
         pg.net.bind.to=127.0.0.1:{pg}\n\
         line.tcp.enabled=false\n\
         line.udp.enabled=false\n\
         telemetry.enabled=false\n"
    );
    for line in extra {
        s.push_str(line);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_binds_every_port_on_loopback() {
        let c = server_conf(1, 2, 3, &["x=y".into()]);
        assert!(c.contains("http.bind.to=127.0.0.1:1\n"));
        assert!(c.contains("pg.net.bind.to=127.0.0.1:2\n"));
        assert!(c.contains("http.min.net.bind.to=127.0.0.1:3\n"));
        assert!(c.ends_with("x=y\n"));
    }
}
