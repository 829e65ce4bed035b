//! Prometheus from Debian's package (`/usr/bin/prometheus`, or `$TCG_PROMETHEUS_BIN`): the
//! server itself as the child process, its configuration (and any rule files next to it) and
//! its TSDB in a temporary folder, the web API on a free loopback port. Ready when `/-/ready`
//! answers 200.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use nix::sys::signal::Signal;

use crate::{
    error::{EngineError, Result},
    process::{DataDir, Instance, free_port, http_status},
};

/// The configuration's file name inside the server's folder; rule files go next to it, so that
/// `rule_files: [alerts.yml]` resolves (Prometheus reads rule paths relative to the config).
const CONFIG_FILE: &str = "prometheus.yml";

/// A running Prometheus server.
#[derive(Debug)]
pub struct Prometheus {
    inst: Instance,
    port: u16,
}

/// The `prometheus` program: `$TCG_PROMETHEUS_BIN`, else the first `prometheus` on `PATH`.
pub fn bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TCG_PROMETHEUS_BIN") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(missing(&format!("$TCG_PROMETHEUS_BIN ({})", p.display())))
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("prometheus"))
        .find(|p| p.is_file())
        .ok_or_else(|| missing("prometheus (on PATH)"))
}

fn missing(what: &str) -> EngineError {
    EngineError::Missing {
        what: what.to_owned(),
        hint: "apt-get install prometheus (or set TCG_PROMETHEUS_BIN to the server binary)".into(),
    }
}

impl Prometheus {
    /// A server with `config_yaml` as its `prometheus.yml`.
    pub fn start(config_yaml: &str) -> Result<Prometheus> {
        Self::start_with(config_yaml, &[])
    }

    /// A server with `config_yaml` as its `prometheus.yml` and each `(name, text)` of `files`
    /// written next to it (rule files such as `alerts.yml`).
    pub fn start_with(config_yaml: &str, files: &[(&str, &str)]) -> Result<Prometheus> {
        Self::start_on(free_port()?, config_yaml, files)
    }

    /// As [`Prometheus::start_with`], listening on `port` (for a configuration that scrapes the
    /// server itself, which needs the port before the server starts).
    pub fn start_on(port: u16, config_yaml: &str, files: &[(&str, &str)]) -> Result<Prometheus> {
        let bin = bin()?;
        let dir = DataDir::new(None, "tcg-prometheus-")?;
        write_file(dir.path(), CONFIG_FILE, config_yaml)?;
        for (name, text) in files {
            write_file(dir.path(), name, text)?;
        }
        let mut cmd = Command::new(bin);
        cmd.arg(format!(
            "--config.file={}",
            dir.path().join(CONFIG_FILE).display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .current_dir(dir.path());
        let mut inst = Instance::new("prometheus", dir, Signal::SIGTERM);
        inst.start(cmd, Duration::from_secs(60), || {
            http_status(port, "/-/ready") == Some(200)
        })?;
        Ok(Prometheus { inst, port })
    }

    /// `http://127.0.0.1:PORT`: the web UI and the HTTP API (`/api/v1/query`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The web port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's folder (configuration, rule files, `data/`, the log).
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

    /// SIGTERM and a wait for a clean shutdown (also done on drop).
    pub fn stop(&mut self) {
        self.inst.stop();
    }
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(EngineError::io(format!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_names_the_package() {
        let e = missing("prometheus (on PATH)").to_string();
        assert!(e.contains("apt-get install prometheus"), "{e}");
    }
}
