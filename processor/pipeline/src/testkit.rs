//! A real Kafka-protocol broker for tests: `tansu` with its sqlite storage engine, started on a
//! free loopback port in a temporary directory and killed (and the directory removed) on drop.
//!
//! Its log level is `$TCG_TANSU_LOG` (`warn` by default); [`Tansu::log`] returns what it printed.
//!
//! The binary is `$TANSU_BIN`, else `tansu` on the PATH, else `~/.cargo/bin/tansu`
//! (`cargo install tansu --version 0.6.0 --locked --features libsql`; `.ci/run` installs it).
//!
//! Also the quote the pipeline's tests send: [`market_quote`].

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A TCGCSV market price (Pokémon, Holofoil) of `product`, observed at `observed_at`.
pub fn market_quote(
    product: u64,
    observed_at: tcg_schemas::Timestamp,
    cents: i64,
) -> tcg_schemas::RawQuote {
    use tcg_schemas::{CategoryId, Money, PriceKind, ProductId, RawQuote, Source, Subject};
    RawQuote {
        source: Source::Tcgcsv,
        observed_at,
        kind: PriceKind::Market,
        price: Money::usd_cents(cents),
        shipping: None,
        subject: Subject::TcgProduct {
            category_id: CategoryId(3),
            group_id: None,
            product_id: ProductId(product),
            sub_type_name: "Holofoil".into(),
        },
    }
}

/// A running broker.
#[derive(Debug)]
pub struct Tansu {
    child: Child,
    dir: PathBuf,
    pub addr: SocketAddr,
}

/// Where the tansu binary is, if anywhere.
pub fn tansu_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TANSU_BIN") {
        return Some(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("tansu");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let candidate = home.join(".cargo/bin/tansu");
    candidate.is_file().then_some(candidate)
}

/// A port nobody listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Tansu {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Result<Tansu, String> {
        let bin = tansu_binary().ok_or_else(|| {
            "tansu is not installed: cargo install tansu --version 0.6.0 --locked --features libsql".to_owned()
        })?;
        let port = free_port().map_err(|e| e.to_string())?;
        let dir = std::env::temp_dir().join(format!("tcg-tansu-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let url = format!("tcp://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.join("tansu.log")).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&bin)
            .arg("broker")
            .args(["--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .current_dir(&dir)
            .env(
                "RUST_LOG",
                std::env::var("TCG_TANSU_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut broker = Tansu { child, dir, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(broker);
            }
            if let Ok(Some(status)) = broker.child.try_wait() {
                return Err(format!("tansu exited with {status}: {}", broker.log()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "tansu did not listen on {addr} within 30 s: {}",
                    broker.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub fn brokers(&self) -> String {
        self.addr.to_string()
    }

    /// What the broker printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tansu.log")).unwrap_or_default()
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
