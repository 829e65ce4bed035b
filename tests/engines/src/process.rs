//! One engine process: started in a process group of its own with its output in a log file,
//! stopped with its whole group (the JVM, or the postmaster and its backends), also when the
//! test that started it panics. A watchdog shell kills the group if the process that started it
//! dies without cleaning up (SIGKILL, abort), so no JVM outlives its test run.

use std::{
    fs::File,
    io::{Read as _, Seek as _, SeekFrom},
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};

use crate::error::{EngineError, Result};

/// How much of a log [`EngineProcess::log`] returns (its end).
const LOG_TAIL: u64 = 64 * 1024;

/// The watchdog's script: while the starter (`$1`) lives, sleep; then SIGTERM to the engine's
/// group (`$2`), and SIGKILL if it is still there 10 s later.
const WATCHDOG: &str = r#"while kill -0 "$1" 2>/dev/null; do sleep 1; done
kill -TERM "-$2" 2>/dev/null || exit 0
for _ in 1 2 3 4 5 6 7 8 9 10; do sleep 1; kill -0 "-$2" 2>/dev/null || exit 0; done
kill -KILL "-$2" 2>/dev/null"#;

/// A running engine process and its watchdog.
#[derive(Debug)]
pub(crate) struct EngineProcess {
    engine: &'static str,
    child: Child,
    watchdog: Option<Child>,
    log_path: PathBuf,
}

impl EngineProcess {
    /// Starts `cmd` with stdout and stderr appended to `log_path`.
    pub(crate) fn spawn(engine: &'static str, mut cmd: Command, log_path: &Path) -> Result<Self> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(log_path)
            .map_err(EngineError::io(format!("opening {}", log_path.display())))?;
        let log2 = log
            .try_clone()
            .map_err(EngineError::io("duplicating a log handle"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0)
            .spawn()
            .map_err(EngineError::io(format!("starting {engine} ({cmd:?})")))?;
        let group = child.id();
        // The watchdog: in a group of its own too, so that a signal meant for the test run's
        // group does not take it first.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("tcg-engines-watchdog")
            .arg(std::process::id().to_string())
            .arg(group.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok();
        Ok(Self {
            engine,
            child,
            watchdog,
            log_path: log_path.to_owned(),
        })
    }

    /// The process id (also its group's id).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The end of what the engine printed.
    pub(crate) fn log(&self) -> String {
        read_tail(&self.log_path)
    }

    /// Waits until `ready` answers true, checking every 100 ms that the process still runs.
    pub(crate) fn wait_ready(
        &mut self,
        timeout: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(EngineError::Exited {
                    engine: self.engine,
                    status: status.to_string(),
                    log_path: self.log_path.clone(),
                    log: self.log(),
                });
            }
            if Instant::now() > deadline {
                return Err(EngineError::NotReady {
                    engine: self.engine,
                    secs: timeout.as_secs(),
                    log_path: self.log_path.clone(),
                    log: self.log(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL to the whole group, then reaps the process: a crash.
    pub(crate) fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        let _ = self.child.wait();
        self.stop_watchdog();
    }

    /// `signal` to the group, then SIGKILL if it has not exited within `grace`.
    pub(crate) fn stop(&mut self, signal: Signal, grace: Duration) {
        if self.exited().is_none() {
            self.signal(signal);
            let deadline = Instant::now() + grace;
            while self.exited().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.kill();
    }

    fn signal(&self, signal: Signal) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = killpg(Pid::from_raw(pid), signal);
        }
    }

    fn stop_watchdog(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for EngineProcess {
    fn drop(&mut self) {
        self.stop(Signal::SIGTERM, Duration::from_secs(15));
    }
}

/// The last [`LOG_TAIL`] bytes of a file, as text.
pub(crate) fn read_tail(path: &Path) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// What every engine type shares: its folder and, while it runs, its process, with the log in
/// `DIR/ENGINE.log`. The process is stopped before the folder goes (field order).
#[derive(Debug)]
pub(crate) struct Instance {
    engine: &'static str,
    process: Option<EngineProcess>,
    dir: DataDir,
    stop_signal: Signal,
}

impl Instance {
    /// An engine in `dir`, not running yet; `stop_signal` asks it for a clean shutdown.
    pub(crate) fn new(engine: &'static str, dir: DataDir, stop_signal: Signal) -> Self {
        Self {
            engine,
            process: None,
            dir,
            stop_signal,
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.engine))
    }

    /// The end of the engine's log.
    pub(crate) fn log(&self) -> String {
        read_tail(&self.log_path())
    }

    /// The process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(EngineProcess::pid)
    }

    /// SIGKILL, as in a crash.
    pub(crate) fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    /// The stop signal and a wait (30 s at most) for a clean shutdown.
    pub(crate) fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(self.stop_signal, Duration::from_secs(30));
        }
    }

    /// Stops a running process, starts `cmd` and waits (up to `timeout`) until `ready`.
    pub(crate) fn start(
        &mut self,
        cmd: Command,
        timeout: Duration,
        ready: impl FnMut() -> bool,
    ) -> Result<()> {
        self.stop();
        let mut process = EngineProcess::spawn(self.engine, cmd, &self.log_path())?;
        process.wait_ready(timeout, ready)?;
        self.process = Some(process);
        Ok(())
    }
}

/// The status code of `GET path` on 127.0.0.1:`port`.
pub(crate) fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::Write as _;
    let mut s = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A port nobody listens on right now (bound on 127.0.0.1, read, released).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(EngineError::io("binding a free port"))?;
    Ok(l.local_addr()
        .map_err(EngineError::io("reading a bound port"))?
        .port())
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub(crate) fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// Where an engine keeps its data: a temporary folder removed with the engine, or one the
/// caller keeps.
#[derive(Debug)]
pub(crate) enum DataDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl DataDir {
    pub(crate) fn new(kept: Option<PathBuf>, prefix: &str) -> Result<Self> {
        match kept {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(EngineError::io(format!("creating {}", dir.display())))?;
                Ok(Self::Kept(dir))
            }
            None => tempfile::Builder::new()
                .prefix(prefix)
                .tempdir()
                .map(Self::Temp)
                .map_err(EngineError::io("creating a temporary folder")),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        match self {
            Self::Temp(t) => t.path(),
            Self::Kept(p) => p,
        }
    }
}
