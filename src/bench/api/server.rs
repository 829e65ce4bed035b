//! `tcgtracker serve` as its own process over the bench's store, on a free loopback port; killed
//! when dropped. Its per-key rate is raised so that no answer is a 429.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use super::dataset::Dataset;

pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `serve --sqlite db` (and `--questdb-http … --questdb-pg …` when the prices are in
    /// QuestDB) and waits until `/healthz` answers.
    pub async fn start(data: &Dataset) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let exe = std::env::current_exe().context("the tcgtracker binary")?;
        let mut cmd = Command::new(exe);
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--sqlite",
        ])
        .arg(&data.db);
        if let Some(q) = &data.questdb {
            cmd.args(["--questdb-http", &q.http, "--questdb-pg", &q.pg]);
        }
        let child = cmd
            .env_remove("TCG_DATABASE_URL")
            .env_remove("QUESTDB_HTTP")
            .env_remove("QUESTDB_PG")
            .env("TCG_RATE_PER_SEC", "1000000")
            .env("TCG_RATE_BURST", "1000000")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting tcgtracker serve")?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let health = format!("{}/healthz", server.base);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("serve did not answer {health} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Resident memory now and at its peak, MiB (`VmRSS`, `VmHWM` of /proc).
    pub fn rss_mib(&self) -> Result<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .context("reading serve's /proc status")?;
        let field = |name: &str| -> Option<f64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib / 1024.0)
        };
        Ok((
            field("VmRSS:").context("VmRSS")?,
            field("VmHWM:").context("VmHWM")?,
        ))
    }
}
