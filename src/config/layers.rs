//! The configuration's layers, merged by figment: `up`'s own defaults < the file <
//! `TCG__SECTION__KEY` variables. Each layer is a figment provider named after where its values
//! came from (the file's path, the variable's name), so an error names the key and its origin.

use std::path::{Path, PathBuf};

use figment::{
    Figment, Metadata, Profile, Provider,
    error::Kind,
    providers::Serialized,
    util::nest,
    value::{Dict, Map, Value},
};

use super::Config;

/// The file read when neither `--config` nor `TCG_CONFIG` names one (only if it exists).
pub const DEFAULT_FILE: &str = "tcgtracker.toml";
/// Prefix of the generic per-key overrides: `TCG__TCGCSV__DAILY_BUDGET=5000`.
pub const ENV_PREFIX: &str = "TCG__";

/// Keys that hold secrets: refused in the file, read from the named variables instead.
const SECRET_KEYS: [(&str, &str, &str); 6] = [
    ("tcgplayer", "client_id", "TCGPLAYER_CLIENT_ID"),
    ("tcgplayer", "client_secret", "TCGPLAYER_CLIENT_SECRET"),
    ("ebay", "client_id", "EBAY_CLIENT_ID"),
    ("ebay", "client_secret", "EBAY_CLIENT_SECRET"),
    ("pricecharting", "token", "PRICECHARTING_TOKEN"),
    ("justtcg", "api_key", "JUSTTCG_API_KEY"),
];

/// A configuration that cannot be used; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {source}")]
    Syntax {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("configuration key `{key}` (from {origin}): {message}")]
    Key {
        key: String,
        origin: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Builds the configuration from the file's text (if any) and the environment's variables.
/// `file` is the path shown in messages.
pub fn load(file: Option<(&Path, &str)>, env: &[(String, String)]) -> Result<Config, ConfigError> {
    // `up`'s defaults that differ from the components' own (the demo's simulator seed).
    let mut figment = Figment::from(Named {
        name: "defaults".into(),
        data: nest("simulator.seed", Value::from(7u64))
            .into_dict()
            .unwrap_or_default(),
    });
    if let Some((path, text)) = file {
        figment = figment.merge(file_layer(path, text)?);
    }
    for layer in env_layers(env)? {
        figment = figment.merge(layer);
    }
    let config: Config = figment.extract().map_err(|e| key_error(&figment, e))?;
    config.validate()?;
    Ok(config)
}

/// The file's values, refusing credentials.
fn file_layer(path: &Path, text: &str) -> Result<Named, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|source| ConfigError::Syntax {
        path: path.to_owned(),
        source,
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
    let name = path.display().to_string();
    let data = Serialized::defaults(table)
        .data()
        .map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?
        .remove(&Profile::Default)
        .unwrap_or_default();
    Ok(Named { name, data })
}

/// One layer per `TCG__…` variable, so that an error names the variable. Values read as
/// figment reads environment values: numbers, booleans and arrays as such, anything else as text.
fn env_layers(env: &[(String, String)]) -> Result<Vec<Named>, ConfigError> {
    let mut layers = Vec::new();
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
        if let [section, key] = path.as_slice()
            && let Some((_, _, var)) = SECRET_KEYS
                .iter()
                .find(|(s, k, _)| s == section && k == key)
        {
            return Err(ConfigError::Invalid(format!(
                "{name}: credentials are read from {var}"
            )));
        }
        let value: Value = value.parse().unwrap_or_else(|_| Value::from(value.clone()));
        layers.push(Named {
            name: format!("the environment, {name}"),
            data: nest(&path.join("."), value).into_dict().unwrap_or_default(),
        });
    }
    Ok(layers)
}

/// A figment error as the key it concerns, where that key's value came from, and what is wrong.
fn key_error(figment: &Figment, e: figment::Error) -> ConfigError {
    let Some(e) = e.into_iter().next() else {
        return ConfigError::Invalid("the configuration cannot be read".into());
    };
    let mut path = e.path.clone();
    let message = match &e.kind {
        Kind::UnknownField(field, expected) => {
            // Reported at the field itself, or (at the top level) at its parent.
            if path.last() != Some(field) {
                path.push(field.clone());
            }
            format!("unknown field `{field}`, expected {}", one_of(expected))
        }
        kind => kind.to_string(),
    };
    let key = path.join(".");
    let origin = figment
        .find_metadata(&key)
        .or(e.metadata.as_ref())
        .map_or_else(|| "defaults".to_owned(), |m| m.name.to_string());
    ConfigError::Key {
        key,
        origin,
        message,
    }
}

/// serde's wording of a list of expected names.
fn one_of(expected: &[&str]) -> String {
    match expected {
        [] => "no fields".to_owned(),
        [one] => format!("`{one}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        many => {
            let names: Vec<String> = many.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", names.join(", "))
        }
    }
}

/// A layer of values under a name (the file's path, an environment variable).
#[derive(Debug)]
struct Named {
    name: String,
    data: Dict,
}

impl Provider for Named {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
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
