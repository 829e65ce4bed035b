//! The configuration of `tcgtracker up`: one TOML file, then environment overrides, then flags.
//!
//! Layers, the later winning: built-in defaults < the file (`--config`, `TCG_CONFIG`, or
//! `./tcgtracker.toml` when it exists) < `TCG__SECTION__KEY` variables (any key of the file) <
//! the named variables and flags of `up` (`TCG_DATA_DIR`, `--listen`, …). Everything that is not
//! a secret has a default; secrets (source credentials) come only from the environment and are
//! refused in the file. Unknown keys and bad values stop the start with a message naming them.
//! `tcgtracker.example.toml` at the repository root documents every key.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use tcg_collectors::{
    CollectConfig, ebay::EbayConfig, ecb::EcbConfig, tcgcsv::TcgcsvConfig,
    tcgplayer::TcgplayerConfig,
};
use tcg_processor_core::CoreConfig;
use tcg_simulator::SimConfig;
use tcg_webhooks::DispatcherConfig;

/// The file read when neither `--config` nor `TCG_CONFIG` names one (only if it exists).
pub const DEFAULT_FILE: &str = "tcgtracker.toml";
/// Prefix of the generic per-key overrides: `TCG__TCGCSV__DAILY_BUDGET=5000`.
pub const ENV_PREFIX: &str = "TCG__";

/// A configuration that cannot be used; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("configuration key `{key}` (from {origin}): {message}")]
    Key {
        key: String,
        origin: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Where the collectors read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Upstream {
    /// The live services when any source credentials are set, the built-in simulator otherwise.
    Auto,
    /// The built-in market simulator (no network).
    Simulator,
    /// TCGCSV and ECB (public); the TCGplayer API and eBay when their credentials are set.
    Live,
}

/// Every setting of `tcgtracker up`. Field names are the file's keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite store, the core's state and the demo key live.
    pub data_dir: PathBuf,
    /// Address of the query API and the web page.
    pub listen: SocketAddr,
    /// `auto`, `simulator` or `live`.
    pub upstream: Upstream,
    /// Seconds between collector passes; unset: 5 on the simulator, each source's own interval live.
    pub poll_secs: Option<u64>,
    /// Days of history loaded from TCGCSV's daily archives on first start; unset: 30 on the
    /// simulator, 0 live (a live archive is tens of megabytes a day).
    pub history_days: Option<u64>,
    /// TCGplayer categories collected from the live services (the simulator has its own, in
    /// `[simulator] categories`).
    pub categories: Vec<u32>,
    pub simulator: SimConfig,
    pub tcgplayer: TcgplayerConfig,
    pub tcgcsv: TcgcsvConfig,
    pub ebay: EbayConfig,
    pub ecb: EcbConfig,
    pub core: CoreConfig,
    pub webhooks: DispatcherConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            upstream: Upstream::Auto,
            poll_secs: None,
            history_days: None,
            categories: vec![3],
            simulator: SimConfig {
                seed: 7,
                ..SimConfig::default()
            },
            tcgplayer: TcgplayerConfig::default(),
            tcgcsv: TcgcsvConfig::default(),
            ebay: EbayConfig::default(),
            ecb: EcbConfig::default(),
            core: CoreConfig::default(),
            webhooks: DispatcherConfig::default(),
        }
    }
}

/// Source credentials, from the environment only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub tcgplayer: Option<(String, String)>,
    pub ebay: Option<(String, String)>,
}

impl Credentials {
    /// Reads `TCGPLAYER_CLIENT_ID`/`_SECRET` and `EBAY_CLIENT_ID`/`_SECRET`; a pair counts only
    /// when both halves are set and not empty.
    pub fn from_env(env: &[(String, String)]) -> Credentials {
        let get = |k: &str| {
            env.iter()
                .find(|(name, v)| name == k && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_owned())
        };
        let pair = |id: &str, secret: &str| get(id).zip(get(secret));
        Credentials {
            tcgplayer: pair("TCGPLAYER_CLIENT_ID", "TCGPLAYER_CLIENT_SECRET"),
            ebay: pair("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"),
        }
    }

    pub fn any(&self) -> bool {
        self.tcgplayer.is_some() || self.ebay.is_some()
    }
}

/// Keys that hold secrets: refused in the file, read from the named variables instead.
const SECRET_KEYS: [(&str, &str, &str); 4] = [
    ("tcgplayer", "client_id", "TCGPLAYER_CLIENT_ID"),
    ("tcgplayer", "client_secret", "TCGPLAYER_CLIENT_SECRET"),
    ("ebay", "client_id", "EBAY_CLIENT_ID"),
    ("ebay", "client_secret", "EBAY_CLIENT_SECRET"),
];

/// Builds the configuration from the file's text (if any) and the environment's variables.
/// `file` is the path shown in messages.
pub fn load(file: Option<(&Path, &str)>, env: &[(String, String)]) -> Result<Config, ConfigError> {
    let mut table = toml::Table::new();
    if let Some((path, text)) = file {
        table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError::Syntax {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        for (section, key, var) in SECRET_KEYS {
            if table
                .get(section)
                .and_then(|s| s.as_table())
                .is_some_and(|s| s.contains_key(key))
            {
                return Err(ConfigError::Key {
                    key: format!("{section}.{key}"),
                    origin: path.display().to_string(),
                    message: format!(
                        "credentials are not read from the file; set {var} in the environment (or .env)"
                    ),
                });
            }
        }
    }
    // The generic overrides, remembered so that an error can name the variable.
    let mut from_env: Vec<(String, String)> = Vec::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid(format!(
                "{name}: an override is TCG__KEY or TCG__SECTION__KEY (double underscores)"
            )));
        }
        if path.len() == 2
            && let Some((_, _, var)) = SECRET_KEYS
                .iter()
                .find(|(s, k, _)| *s == path[0] && *k == path[1])
        {
            return Err(ConfigError::Invalid(format!(
                "{name}: credentials are read from {var}"
            )));
        }
        insert(&mut table, &path, parse_env_value(value));
        from_env.push((path.join("."), name.clone()));
    }
    let origin_of = |key: &str| {
        from_env
            .iter()
            .find(|(k, _)| key == k || key.starts_with(&format!("{k}.")))
            .map(|(_, var)| format!("the environment, {var}"))
            .or_else(|| file.map(|(p, _)| p.display().to_string()))
            .unwrap_or_else(|| "defaults".into())
    };
    let config: Config = serde_path_to_error::deserialize(toml::Value::Table(with_up_defaults(
        table,
    )))
    .map_err(|e| {
        let key = e.path().to_string();
        // toml adds "in `section`" on a line of its own; the key already says where.
        let inner = e.into_inner().to_string();
        let inner = inner.lines().next().unwrap_or_default().to_owned();
        // An unknown field may be reported at its parent: name the field itself.
        let key = match unknown_field(&inner) {
            Some(field) if key == "." => field,
            Some(field) if !key.ends_with(&field) => format!("{key}.{field}"),
            _ => key,
        };
        ConfigError::Key {
            origin: origin_of(&key),
            key,
            message: inner,
        }
    })?;
    config.validate()?;
    Ok(config)
}

/// `up`'s defaults that differ from the components' own (the demo's simulator seed).
fn with_up_defaults(mut table: toml::Table) -> toml::Table {
    let sim = table
        .entry("simulator")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(sim) = sim.as_table_mut() {
        sim.entry("seed").or_insert(toml::Value::Integer(7));
    }
    table
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// An environment value as TOML when it reads as one (numbers, booleans, arrays), else a string.
fn parse_env_value(text: &str) -> toml::Value {
    let probe = format!("v = {text}");
    match probe.parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| text.into()),
        Err(_) => toml::Value::String(text.to_owned()),
    }
}

fn insert(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let Some(inner) = entry.as_table_mut() {
                insert(inner, rest, value);
            }
        }
    }
}

impl Config {
    /// Values that parse but cannot work.
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Invalid(format!(
                "configuration key `{key}`: {message}"
            )))
        };
        if self.poll_secs == Some(0) {
            return bad("poll_secs", "must be at least 1");
        }
        if self.categories.is_empty() {
            return bad("categories", "name at least one TCGplayer category id");
        }
        if self.simulator.categories.is_empty() {
            return bad(
                "simulator.categories",
                "name at least one TCGplayer category id",
            );
        }
        for (key, url) in [
            ("tcgplayer.base_url", &self.tcgplayer.base_url),
            ("tcgcsv.base_url", &self.tcgcsv.base_url),
            ("ebay.base_url", &self.ebay.base_url),
            ("ecb.base_url", &self.ecb.base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad(key, &format!("{url:?} is not an http(s) URL"));
            }
        }
        if self.webhooks.concurrency == 0 {
            return bad("webhooks.concurrency", "must be at least 1");
        }
        if self.core.min_confidence > 100 {
            return bad("core.min_confidence", "is a percentage (0-100)");
        }
        Ok(())
    }

    /// Whether the collectors read the live services, given the credentials found.
    pub fn is_live(&self, creds: &Credentials) -> bool {
        match self.upstream {
            Upstream::Simulator => false,
            Upstream::Live => true,
            Upstream::Auto => creds.any(),
        }
    }

    pub fn history_days(&self, live: bool) -> u64 {
        self.history_days.unwrap_or(if live { 0 } else { 30 })
    }

    /// The TCGplayer categories collected.
    pub fn categories(&self, live: bool) -> Vec<u32> {
        if live {
            self.categories.clone()
        } else {
            self.simulator.categories.clone()
        }
    }

    /// The collectors' configuration: every source against the simulator at `sim_url`, or the
    /// live services (TCGCSV and ECB always, the TCGplayer API and eBay with credentials).
    pub fn collect_config(&self, creds: &Credentials, sim_url: Option<&str>) -> CollectConfig {
        match sim_url {
            Some(url) => {
                let mut c = CollectConfig::for_simulator(url);
                let poll = self.poll_secs.unwrap_or(5);
                let categories = self.simulator.categories.clone();
                if let Some(t) = c.tcgplayer.as_mut() {
                    t.categories = categories.clone();
                    t.poll_interval_secs = poll;
                }
                if let Some(t) = c.tcgcsv.as_mut() {
                    t.categories = categories;
                    t.poll_interval_secs = poll;
                }
                c
            }
            None => {
                let mut tcgplayer = self.tcgplayer.clone();
                let mut tcgcsv = self.tcgcsv.clone();
                tcgplayer.categories = self.categories.clone();
                tcgcsv.categories = self.categories.clone();
                if let Some(p) = self.poll_secs {
                    tcgplayer.poll_interval_secs = p;
                    tcgcsv.poll_interval_secs = p;
                }
                CollectConfig {
                    tcgplayer: creds.tcgplayer.clone().map(|(id, secret)| TcgplayerConfig {
                        client_id: id,
                        client_secret: secret,
                        ..tcgplayer
                    }),
                    tcgcsv: Some(tcgcsv),
                    ebay: creds.ebay.clone().map(|(id, secret)| EbayConfig {
                        client_id: id,
                        client_secret: secret,
                        ..self.ebay.clone()
                    }),
                    ecb: Some(self.ecb.clone()),
                }
            }
        }
    }
}

/// Which file to read: the one named (it must exist), else `./tcgtracker.toml` if present.
pub fn locate(named: Option<&Path>) -> Result<Option<(PathBuf, String)>, ConfigError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })
    };
    match named {
        Some(path) => Ok(Some((path.to_owned(), read(path)?))),
        None => {
            let path = Path::new(DEFAULT_FILE);
            if path.is_file() {
                Ok(Some((path.to_owned(), read(path)?)))
            } else {
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn file(text: &str) -> Result<Config, ConfigError> {
        load(Some((Path::new("my.toml"), text)), &[])
    }

    #[test]
    fn no_file_and_no_environment_gives_the_defaults() {
        let c = load(None, &[]).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.upstream, Upstream::Auto);
        assert_eq!(c.simulator.seed, 7);
        assert_eq!(c.history_days(false), 30);
        assert_eq!(c.history_days(true), 0);
        assert_eq!(c.tcgcsv.daily_budget, 10_000);
        assert_eq!(c.ebay.daily_budget, 5_000);
    }

    /// The documented example holds every section, and its values are the defaults: the docs
    /// cannot drift from the code.
    #[test]
    fn the_example_file_parses_and_documents_the_defaults() {
        let text = include_str!("../tcgtracker.example.toml");
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| looks_like_toml(r))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let from_example = file(&uncommented).unwrap();
        let defaults = load(None, &[]).unwrap();
        assert_eq!(format!("{from_example:?}"), format!("{defaults:?}"));
        for section in [
            "[simulator]",
            "[tcgplayer]",
            "[tcgcsv]",
            "[ebay]",
            "[ecb]",
            "[core]",
            "[webhooks]",
        ] {
            assert!(text.contains(section), "the example lacks {section}");
        }
    }

    fn looks_like_toml(line: &str) -> bool {
        let line = line.trim();
        (line.starts_with('[') && line.ends_with(']'))
            || line
                .split_once(" = ")
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    }

    #[test]
    fn file_values_override_defaults() {
        let c = file(
            "listen = \"0.0.0.0:9999\"\nupstream = \"simulator\"\npoll_secs = 2\n[simulator]\nseed = 99\n[tcgcsv]\ndaily_budget = 500\n[webhooks]\ntimeout = \"3s\"\n",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9999);
        assert_eq!(c.upstream, Upstream::Simulator);
        assert_eq!(c.simulator.seed, 99);
        assert_eq!(c.tcgcsv.daily_budget, 500);
        assert_eq!(c.webhooks.timeout, std::time::Duration::from_secs(3));
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let e = file("pol_secs = 3\n").unwrap_err().to_string();
        assert!(e.contains("`pol_secs`") && e.contains("my.toml"), "{e}");
        let e = file("[tcgcsv]\ndaily_budgt = 3\n").unwrap_err().to_string();
        assert!(e.contains("`tcgcsv.daily_budgt`"), "{e}");
        let e = file("[tcgplayer.http]\nburts = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`tcgplayer.http.burts`"), "{e}");
        let e = file("[nope]\n").unwrap_err().to_string();
        assert!(e.contains("`nope`"), "{e}");
    }

    #[test]
    fn a_bad_value_is_refused_by_name() {
        let e = file("poll_secs = \"soon\"\n").unwrap_err().to_string();
        assert!(e.contains("`poll_secs`"), "{e}");
        let e = file("listen = \"here\"\n").unwrap_err().to_string();
        assert!(e.contains("`listen`"), "{e}");
        let e = file("upstream = \"cloud\"\n").unwrap_err().to_string();
        assert!(e.contains("`upstream`") && e.contains("cloud"), "{e}");
        let e = file("[webhooks]\ntimeout = \"fortnight\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`webhooks.timeout`"), "{e}");
        let e = file("[ebay]\nbase_url = \"api.ebay.com\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`ebay.base_url`"), "{e}");
        let e = file("poll_secs = 0\n").unwrap_err().to_string();
        assert!(e.contains("`poll_secs`"), "{e}");
        let e = file("listen = [").unwrap_err().to_string();
        assert!(e.contains("my.toml is not valid TOML"), "{e}");
    }

    #[test]
    fn secrets_in_the_file_are_refused() {
        let e = file("[ebay]\nclient_secret = \"abc\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`ebay.client_secret`") && e.contains("EBAY_CLIENT_SECRET"),
            "{e}"
        );
        let e = load(None, &env(&[("TCG__TCGPLAYER__CLIENT_ID", "x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("TCGPLAYER_CLIENT_ID"), "{e}");
    }

    #[test]
    fn environment_overrides_beat_the_file_and_are_named_in_errors() {
        let text = "[tcgcsv]\ndaily_budget = 500\n";
        let c = load(
            Some((Path::new("my.toml"), text)),
            &env(&[
                ("TCG__TCGCSV__DAILY_BUDGET", "700"),
                ("TCG__EBAY__INSIGHTS__ENABLED", "true"),
                ("TCG__CATEGORIES", "[1, 3]"),
                ("TCG__EBAY__MARKETPLACE_ID", "EBAY_GB"),
                ("TCG_KAFKA_BROKERS", "ignored: not a TCG__ override"),
            ]),
        )
        .unwrap();
        assert_eq!(c.tcgcsv.daily_budget, 700);
        assert!(c.ebay.insights.enabled);
        assert_eq!(c.categories, vec![1, 3]);
        assert_eq!(c.ebay.marketplace_id, "EBAY_GB");

        let e = load(None, &env(&[("TCG__TCGCSV__DAILY_BUDGET", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`tcgcsv.daily_budget`") && e.contains("TCG__TCGCSV__DAILY_BUDGET"),
            "{e}"
        );
        let e = load(None, &env(&[("TCG__TCGCSV__BUDGET", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`tcgcsv.budget`") && e.contains("TCG__TCGCSV__BUDGET"),
            "{e}"
        );
    }

    #[test]
    fn credentials_switch_auto_to_the_live_services() {
        let c = load(None, &[]).unwrap();
        let none = Credentials::from_env(&[]);
        assert!(!c.is_live(&none));
        // Half a pair is not a credential.
        let half = Credentials::from_env(&env(&[("EBAY_CLIENT_ID", "id")]));
        assert!(!c.is_live(&half));
        let ebay = Credentials::from_env(&env(&[
            ("EBAY_CLIENT_ID", "id"),
            ("EBAY_CLIENT_SECRET", "s"),
        ]));
        assert!(c.is_live(&ebay));
        let live = c.collect_config(&ebay, None);
        assert!(live.tcgplayer.is_none(), "no TCGplayer credentials");
        let e = live.ebay.unwrap();
        assert_eq!(
            (e.base_url.as_str(), e.client_id.as_str()),
            ("https://api.ebay.com", "id")
        );
        assert_eq!(live.tcgcsv.unwrap().base_url, "https://tcgcsv.com");
        assert_eq!(live.ecb.unwrap().base_url, "https://www.ecb.europa.eu");

        let forced = file("upstream = \"simulator\"\n").unwrap();
        assert!(!forced.is_live(&ebay));
        let sim = forced.collect_config(&ebay, Some("http://127.0.0.1:1"));
        assert_eq!(sim.ebay.unwrap().base_url, "http://127.0.0.1:1");
        assert_eq!(sim.tcgcsv.unwrap().poll_interval_secs, 5);
    }

    #[test]
    fn live_sources_use_the_configured_urls_and_categories() {
        let c = file(
            "upstream = \"live\"\ncategories = [1, 86]\n[tcgplayer]\nbase_url = \"http://tcgp.test\"\n[tcgcsv]\nbase_url = \"http://csv.test\"\n",
        )
        .unwrap();
        let creds = Credentials::from_env(&env(&[
            ("TCGPLAYER_CLIENT_ID", "id"),
            ("TCGPLAYER_CLIENT_SECRET", "secret"),
        ]));
        let live = c.collect_config(&creds, None);
        let t = live.tcgplayer.unwrap();
        assert_eq!(t.base_url, "http://tcgp.test");
        assert_eq!(t.categories, vec![1, 86]);
        assert_eq!(t.client_secret, "secret");
        let csv = live.tcgcsv.unwrap();
        assert_eq!(csv.base_url, "http://csv.test");
        assert_eq!(csv.poll_interval_secs, 1800, "live keeps its own interval");
        assert!(live.ebay.is_none());
    }
}
