//! Which database keeps the app's own data, from one URL (`--database-url` / `TCG_DATABASE_URL`):
//! `sqlite://path` (one machine) or `postgres://…` (several instances on several machines).

use std::{fmt, path::PathBuf, sync::Arc};

use crate::{AppStore, PostgresAppStore, Result, SqliteStore, StoreError};

/// What an app-store URL names.
#[derive(Clone, PartialEq, Eq)]
pub enum AppDatabase {
    /// The SQLite file at this path (created and migrated when opened).
    Sqlite(PathBuf),
    /// The PostgreSQL of this URL (`postgres://` or `postgresql://`, as given).
    Postgres(String),
}

const ACCEPTED: &str =
    "expected sqlite://PATH (or sqlite:PATH), postgres://USER@HOST/DB or postgresql://…";

impl AppDatabase {
    /// Reads an app-store URL:
    /// - `sqlite://PATH` or `sqlite:PATH`, PATH relative (`sqlite://data/app.db`) or absolute
    ///   (`sqlite:///var/lib/tcg/app.db`);
    /// - `postgres://…` or `postgresql://…` (checked to parse; nothing is connected).
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let invalid = |reason: String| StoreError::DatabaseUrl {
            url: mask_url(url),
            reason,
            source: None,
        };
        let (scheme, rest) = url
            .split_once(':')
            .ok_or_else(|| invalid(format!("no scheme; {ACCEPTED}")))?;
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(invalid(format!("no file path; {ACCEPTED}")));
                }
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => {
                if !rest.starts_with("//") {
                    return Err(invalid(format!("not a URL; {ACCEPTED}")));
                }
                url.parse::<tokio_postgres::Config>()
                    .map_err(|e| StoreError::DatabaseUrl {
                        url: mask_url(url),
                        reason: "not a PostgreSQL connection URL".into(),
                        source: Some(e),
                    })?;
                Ok(Self::Postgres(url.to_owned()))
            }
            other => Err(invalid(format!("unknown scheme {other:?}; {ACCEPTED}"))),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl std::str::FromStr for AppDatabase {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// The URL, its password masked.
impl fmt::Display for AppDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&mask_url(url)),
        }
    }
}

/// As `Display`: never the password.
impl fmt::Debug for AppDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppDatabase({self})")
    }
}

/// Opens the app store a URL names: the SQLite file (opened on the blocking pool), or a pool to
/// PostgreSQL (both migrated).
pub async fn connect_app_store(db: &AppDatabase) -> Result<Arc<dyn AppStore>> {
    Ok(match db {
        AppDatabase::Sqlite(path) => {
            let path = path.clone();
            Arc::new(tokio::task::spawn_blocking(move || SqliteStore::open(path)).await??)
        }
        AppDatabase::Postgres(url) => Arc::new(PostgresAppStore::connect_url(url).await?),
    })
}

/// A database URL with its password replaced by `***`: the password of the user part
/// (`scheme://user:PASSWORD@host`), and `password=` parameters (in the query string, or in
/// libpq's `key=value` form).
pub(crate) fn mask_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let end = out[start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@').map(|i| start + i)
            && let Some(colon) = out[start..at].find(':').map(|i| start + i)
        {
            out.replace_range(colon + 1..at, "***");
        }
    }
    mask_password_params(&out)
}

/// `password=VALUE` (case-insensitive, after `?`, `&`, a space or at the start) → `password=***`.
fn mask_password_params(text: &str) -> String {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(i) = lower[from..].find(KEY).map(|i| from + i) {
        let boundary = i == 0 || matches!(text.as_bytes()[i - 1], b'?' | b'&' | b' ' | b'\t');
        let value = i + KEY.len();
        from = value;
        if !boundary {
            continue;
        }
        let end = if text[value..].starts_with('\'') {
            // libpq quoting: up to the closing quote (backslash escapes it).
            let mut end = text.len();
            let mut escaped = false;
            for (j, ch) in text[value + 1..].char_indices() {
                match ch {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = value + 1 + j + 1;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            end
        } else {
            text[value..]
                .find(['&', ' ', '\t', '#'])
                .map_or(text.len(), |j| value + j)
        };
        out.push_str(&text[copied..value]);
        out.push_str("***");
        copied = end;
        from = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sqlite(url: &str) -> PathBuf {
        match AppDatabase::parse(url).unwrap() {
            AppDatabase::Sqlite(p) => p,
            other => panic!("{url} gave {other}"),
        }
    }

    #[test]
    fn sqlite_urls_take_relative_and_absolute_paths() {
        assert_eq!(sqlite("sqlite://data/app.db"), PathBuf::from("data/app.db"));
        assert_eq!(sqlite("sqlite:data/app.db"), PathBuf::from("data/app.db"));
        assert_eq!(
            sqlite("sqlite:///var/lib/tcg/app.db"),
            PathBuf::from("/var/lib/tcg/app.db")
        );
        assert_eq!(sqlite("sqlite:/abs.db"), PathBuf::from("/abs.db"));
        assert_eq!(sqlite("SQLite://x.db"), PathBuf::from("x.db"));
        assert_eq!(sqlite("  sqlite://x.db  "), PathBuf::from("x.db"));
        let db = AppDatabase::parse("sqlite:///var/a.db").unwrap();
        assert_eq!(db.to_string(), "sqlite:///var/a.db");
        assert_eq!(db.backend(), "sqlite");
        assert_eq!(
            "sqlite://a.db".parse::<AppDatabase>().unwrap(),
            AppDatabase::Sqlite("a.db".into())
        );
    }

    #[test]
    fn postgres_urls_are_kept_as_given() {
        for url in [
            "postgres://tcg@db:5432/app",
            "postgresql://tcg@db/app?connect_timeout=3",
            "postgres://tcg:pw@127.0.0.1/app",
        ] {
            let db = AppDatabase::parse(url).unwrap();
            assert_eq!(db, AppDatabase::Postgres(url.into()));
            assert_eq!(db.backend(), "postgres");
        }
    }

    #[test]
    fn anything_else_names_the_accepted_schemes() {
        for url in [
            "",
            "app.db",
            "/var/lib/app.db",
            "mysql://u@h/db",
            "sqlite:",
            "sqlite://",
            "postgres:db",
            "http://example.test",
        ] {
            let err = AppDatabase::parse(url).unwrap_err();
            assert!(
                matches!(err, StoreError::DatabaseUrl { .. }),
                "{url}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.contains("sqlite://") && text.contains("postgres://"),
                "{url}: {text}"
            );
        }
        let err = AppDatabase::parse("postgres://u:hunter2@h:port/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn display_and_debug_mask_the_password() {
        let db = AppDatabase::parse("postgres://tcg:hunter2@db.example:5432/app").unwrap();
        assert_eq!(db.to_string(), "postgres://tcg:***@db.example:5432/app");
        assert!(!format!("{db:?}").contains("hunter2"));
        let db =
            AppDatabase::parse("postgresql://tcg@db/app?sslmode=disable&password=hunter2").unwrap();
        assert_eq!(
            db.to_string(),
            "postgresql://tcg@db/app?sslmode=disable&password=***"
        );
        let db = AppDatabase::parse("postgres://tcg@db/app").unwrap();
        assert_eq!(db.to_string(), "postgres://tcg@db/app");
    }

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

    #[test]
    fn masking_handles_odd_urls() {
        // A password with '@' and ':' in it: the last '@' ends the user part.
        assert_eq!(
            mask_url("postgres://u:p@ss:w@rd@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url("postgres://h/db?user=u"), "postgres://h/db?user=u");
        // '@' only after the host part is not a user part.
        assert_eq!(
            mask_url("postgres://h/db?x=a:b@c"),
            "postgres://h/db?x=a:b@c"
        );
        assert_eq!(
            mask_url("host=h password=secret user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(
            mask_url("host=h password='se cr\\'et' user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(mask_url("PASSWORD=x"), "PASSWORD=***");
        assert_eq!(mask_url("mypassword=x"), "mypassword=x");
    }
}
