//! The processes of the compose topology: every `tcgtracker` service as its own child process
//! with its log in the test's folder, killed when the test ends however it ends.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::{Duration, Instant},
};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tcgtracker");

/// One `tcgtracker` process.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Service {
    /// Starts `tcgtracker ARGS` with `envs`; its output is appended to `DIR/NAME.log`.
    pub fn start(dir: &Path, name: &str, args: &[&str], envs: &[(&str, &str)]) -> Service {
        let mut s = Service {
            name: name.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            envs: envs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log: dir.join(format!("{name}.log")),
            child: None,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut cmd = Command::new(BIN);
        cmd.args(&self.args)
            .env("RUST_LOG", "info")
            // Nothing from the developer's environment leaks into the stack.
            .env_remove("TCG_SQLITE")
            .env_remove("QUESTDB_HTTP")
            .env_remove("QUESTDB_PG")
            .env_remove("TCG_KAFKA_BROKERS")
            .env_remove("TCG_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("spawn tcgtracker"));
    }

    /// What it printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, as in a crash.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again with the same arguments.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// SIGTERM and the exit status.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        c.wait().ok()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The logs of the services `names` in `dir`, each under its name.
pub fn logs(dir: &Path, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default();
            format!("== {n}\n{text}")
        })
        .collect()
}

/// `tcgtracker ARGS` to completion; panics with its output unless it succeeds.
pub fn run(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("TCG_SQLITE")
        .env_remove("QUESTDB_HTTP")
        .env_remove("QUESTDB_PG")
        .output()
        .expect("run tcgtracker");
    assert!(
        out.status.success(),
        "tcgtracker {args:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A free loopback port.
pub fn free_port() -> u16 {
    tcg_engines::free_port().expect("a free port")
}

/// Polls `done` every 250 ms until it answers true; fails naming `what` after `limit`, with
/// `logs()` for the reader.
pub async fn wait_for(
    what: &str,
    limit: Duration,
    logs: impl Fn() -> String,
    mut done: impl AsyncFnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "timed out ({limit:?}) waiting for {what}:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
