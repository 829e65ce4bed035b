//! The flags of `tcgtracker up`, and how they override the configuration file.

use std::{net::SocketAddr, path::PathBuf};

use crate::config::{self, Config, ConfigError, Upstream};

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// The configuration file (default: ./tcgtracker.toml when it exists; every key is documented
    /// in tcgtracker.example.toml). Flags and their variables override it.
    #[arg(long, env = "TCG_CONFIG")]
    config: Option<PathBuf>,
    /// Where the SQLite store, the core's state and the demo key live [default: data].
    #[arg(long, env = "TCG_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address of the query API and the web page [default: 127.0.0.1:8080].
    #[arg(long, env = "TCG_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where prices come from: the live services when credentials are set (auto), the built-in
    /// simulator, or live [default: auto].
    #[arg(long, env = "TCG_UPSTREAM", value_enum)]
    upstream: Option<Upstream>,
    /// Seed of the built-in market simulator [default: 7].
    #[arg(long, env = "TCG_SIM_SEED")]
    seed: Option<u64>,
    /// Seconds between collector passes [default: 5 on the simulator, each source's own live].
    #[arg(long, env = "TCG_POLL_SECS", value_parser = clap::value_parser!(u64).range(1..))]
    poll_secs: Option<u64>,
    /// Days of price history loaded from the daily archives on first start [default: 30 on the
    /// simulator, 0 live].
    #[arg(long, env = "TCG_HISTORY_DAYS")]
    history_days: Option<u64>,
    /// Deliver webhooks to loopback and private addresses too (local receivers, tests).
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_PRIVATE")]
    allow_private_webhooks: bool,
    /// Print a log line every few seconds instead of one updating progress line.
    #[arg(long)]
    pub plain: bool,
}

impl UpArgs {
    /// The file, then `TCG__…` overrides, then these flags and their variables; and the file
    /// read, if any.
    pub fn resolve(
        &self,
        env: &[(String, String)],
    ) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let found = config::locate(self.config.as_deref())?;
        let mut cfg = config::load(
            found
                .as_ref()
                .map(|(path, text)| (path.as_path(), text.as_str())),
            env,
        )?;
        if let Some(v) = &self.data_dir {
            cfg.data_dir = v.clone();
        }
        if let Some(v) = self.listen {
            cfg.listen = v;
        }
        if let Some(v) = self.upstream {
            cfg.upstream = v;
        }
        if let Some(v) = self.seed {
            cfg.simulator.seed = v;
        }
        if self.poll_secs.is_some() {
            cfg.poll_secs = self.poll_secs;
        }
        if self.history_days.is_some() {
            cfg.history_days = self.history_days;
        }
        if self.allow_private_webhooks {
            cfg.webhooks.allow_private = true;
        }
        Ok((cfg, found.map(|(path, _)| path)))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        up: UpArgs,
    }

    #[test]
    fn flags_beat_the_environment_overrides() {
        let cli = Cli::parse_from([
            "x",
            "--listen",
            "127.0.0.1:9",
            "--seed",
            "3",
            "--poll-secs",
            "2",
        ]);
        let env = vec![("TCG__LISTEN".to_owned(), "\"127.0.0.1:8\"".to_owned())];
        let (cfg, file) = cli.up.resolve(&env).unwrap();
        assert_eq!(cfg.listen.port(), 9);
        assert_eq!(cfg.simulator.seed, 3);
        assert_eq!(cfg.poll_secs, Some(2));
        assert!(file.is_none() || file.is_some_and(|f| f.ends_with("tcgtracker.toml")));
    }

    #[test]
    fn a_zero_poll_interval_is_refused_by_the_flag() {
        assert!(Cli::try_parse_from(["x", "--poll-secs", "0"]).is_err());
    }
}
