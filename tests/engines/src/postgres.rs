//! PostgreSQL from Debian's packages as a throwaway cluster: `initdb` into a folder, then the
//! `postgres` server itself as the child process (no daemon, so that it is stopped with the
//! harness), listening on 127.0.0.1 only, with trust authentication for the `postgres` role.
//! PostgreSQL refuses to run as root; as root the harness runs it as the `postgres` user.

use std::{
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use nix::sys::signal::Signal;

use crate::{
    error::{EngineError, Result},
    process::{DataDir, Instance, free_port, listening},
    versions,
};

/// How a cluster is started.
#[derive(Debug, Clone, Default)]
pub struct PostgresOptions {
    /// The port; a free one when `None`.
    pub port: Option<u16>,
    /// A folder to keep the cluster in; a temporary one (removed on drop) when `None`.
    pub data_dir: Option<PathBuf>,
    /// Durable commits (`fsync`); off by default, as for a test cluster.
    pub durable: bool,
}

/// A running PostgreSQL cluster.
#[derive(Debug)]
pub struct Postgres {
    inst: Instance,
    port: u16,
    durable: bool,
}

/// The folder of PostgreSQL's server programs: `$TCG_POSTGRES_BIN`, else Debian's.
pub fn bin_dir() -> Result<PathBuf> {
    let dir = std::env::var_os("TCG_POSTGRES_BIN").map_or_else(
        || {
            PathBuf::from(format!(
                "/usr/lib/postgresql/{}/bin",
                versions::POSTGRES_MAJOR
            ))
        },
        PathBuf::from,
    );
    if dir.join("postgres").is_file() && dir.join("initdb").is_file() {
        Ok(dir)
    } else {
        Err(EngineError::Missing {
            what: format!(
                "PostgreSQL {} server ({})",
                versions::POSTGRES_MAJOR,
                dir.display()
            ),
            hint: format!(
                "apt-get install postgresql-{} (or set TCG_POSTGRES_BIN to a folder with initdb and postgres)",
                versions::POSTGRES_MAJOR
            ),
        })
    }
}

impl Postgres {
    /// A cluster on a free loopback port in a temporary folder.
    pub fn start() -> Result<Postgres> {
        Self::start_with(PostgresOptions::default())
    }

    /// A cluster as `options` say.
    pub fn start_with(options: PostgresOptions) -> Result<Postgres> {
        let bin = bin_dir()?;
        let port = options.port.map_or_else(free_port, Ok)?;
        let dir = DataDir::new(options.data_dir, "tcg-postgres-")?;
        let as_root = nix::unistd::geteuid().is_root();
        if as_root {
            // The cluster's owner must be able to reach and own its folder.
            let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755));
            chown_to_postgres(dir.path())?;
        }
        let mut pg = Postgres {
            // SIGINT: a fast shutdown (open sessions are ended, the checkpoint is written).
            inst: Instance::new("postgres", dir, Signal::SIGINT),
            port,
            durable: options.durable,
        };
        if !pg.data().join("PG_VERSION").is_file() {
            let mut init = pg.command(as_root, &bin.join("initdb"));
            init.arg("-D").arg(pg.data()).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]);
            let out = init.output().map_err(EngineError::io("running initdb"))?;
            if !out.status.success() {
                return Err(EngineError::Prepare {
                    engine: "postgres",
                    step: "initdb",
                    status: out.status.to_string(),
                    output: format!(
                        "{}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ),
                });
            }
        }
        pg.restart()?;
        Ok(pg)
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The URL of another database on this cluster.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The postmaster's process id (or, as root, that of `runuser` above it), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.inst.pid()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The end of the server's log.
    pub fn log(&self) -> String {
        self.inst.log()
    }

    /// SIGKILL to the postmaster and its backends, as in a crash.
    pub fn kill(&mut self) {
        self.inst.kill();
    }

    /// A fast shutdown (SIGINT: open sessions are ended, the checkpoint is written).
    pub fn stop(&mut self) {
        self.inst.stop();
    }

    /// Starts the server (again) on the same cluster and port; waits until it accepts
    /// connections (`pg_isready`).
    pub fn restart(&mut self) -> Result<()> {
        let bin = bin_dir()?;
        let as_root = nix::unistd::geteuid().is_root();
        let mut cmd = self.command(as_root, &bin.join("postgres"));
        cmd.arg("-D")
            .arg(self.data())
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.inst.dir().display()
            ))
            .args(["-c", "max_connections=200"]);
        if !self.durable {
            cmd.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        // The server writes its log through the handle it inherits, whoever owns the file.
        let (port, isready) = (self.port, bin.join("pg_isready"));
        self.inst.start(cmd, Duration::from_secs(60), || {
            listening(port)
                && Command::new(&isready)
                    .args([
                        "-q",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &port.to_string(),
                        "-U",
                        "postgres",
                    ])
                    .status()
                    .is_ok_and(|s| s.success())
        })
    }

    fn data(&self) -> PathBuf {
        self.inst.dir().join("data")
    }

    /// `program`, run as the `postgres` user when we are root.
    fn command(&self, as_root: bool, program: &Path) -> Command {
        if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c.current_dir(self.inst.dir());
            c
        } else {
            let mut c = Command::new(program);
            c.current_dir(self.inst.dir());
            c
        }
    }
}

fn chown_to_postgres(path: &Path) -> Result<()> {
    let user = nix::unistd::User::from_name("postgres")
        .ok()
        .flatten()
        .ok_or_else(|| EngineError::Missing {
            what: "the `postgres` user".into(),
            hint: "PostgreSQL refuses to run as root; install Debian's postgresql package (it creates the user) or run the tests as another user".into(),
        })?;
    nix::unistd::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| EngineError::Io {
        context: format!("handing {} to the postgres user", path.display()),
        source: e.into(),
    })
}
