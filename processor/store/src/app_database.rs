//! Which database keeps the app's own data, from one URL (`--database-url` / `TCG_DATABASE_URL`):
//! `sqlite://path` (one machine) or `postgres://…` (several instances on several machines).

use std::{fmt, path::PathBuf, sync::Arc};

use crate::{AppStore, Result, SqliteStore, StoreError};

/// The app database a URL names.
#[derive(Clone, PartialEq, Eq)]
pub enum AppDatabase {
    /// A SQLite file (`sqlite://data/tcgtracker.db`, `sqlite:///abs/path.db`, `sqlite:path`).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://…` or `postgresql://…`), as given.
    Postgres(String),
}

impl AppDatabase {
    /// Parses a URL; anything but `sqlite:` and `postgres(ql)://` is refused, naming both.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::InvalidQuery(
                    "a sqlite URL needs a file path: sqlite://data/tcgtracker.db".into(),
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        Err(StoreError::InvalidQuery(format!(
            "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DB",
            masked(url)
        )))
    }
}

/// The URL with any password replaced by `***`.
fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Display for AppDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&masked(url)),
        }
    }
}

impl fmt::Debug for AppDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppDatabase({self})")
    }
}

/// Opens the app store a URL names (PostgreSQL: a pool, migrations applied).
pub async fn connect_app_store(db: &AppDatabase) -> Result<Arc<dyn AppStore>> {
    match db {
        AppDatabase::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path)?)),
        AppDatabase::Postgres(_) => Err(StoreError::InvalidQuery(format!(
            "{db}: the PostgreSQL app store is not built in yet"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sqlite_urls_name_a_path() {
        for (url, path) in [
            ("sqlite://data/tcgtracker.db", "data/tcgtracker.db"),
            ("sqlite:///var/lib/tcg/app.db", "/var/lib/tcg/app.db"),
            ("sqlite:app.db", "app.db"),
        ] {
            assert_eq!(
                AppDatabase::parse(url).unwrap(),
                AppDatabase::Sqlite(path.into())
            );
        }
        assert!(AppDatabase::parse("sqlite://").is_err());
    }

    #[test]
    fn postgres_urls_are_kept_and_shown_without_their_password() {
        let db = AppDatabase::parse("postgres://tcg:s3cret@db.internal:5432/tcg?sslmode=disable")
            .unwrap();
        assert_eq!(
            db.to_string(),
            "postgres://tcg:***@db.internal:5432/tcg?sslmode=disable"
        );
        assert!(!format!("{db:?}").contains("s3cret"));
        let plain = AppDatabase::parse("postgresql://tcg@127.0.0.1/app").unwrap();
        assert_eq!(plain.to_string(), "postgresql://tcg@127.0.0.1/app");
    }

    #[test]
    fn other_schemes_are_refused_naming_the_accepted_ones_and_never_the_password() {
        let err = AppDatabase::parse("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sqlite://") && err.contains("postgres://"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
}
