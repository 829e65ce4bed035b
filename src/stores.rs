//! The stores a distributed service opens from its flags: the price data (the SQLite file, or
//! QuestDB when both of its URLs are given) and the app's own data (`--database-url`:
//! `sqlite://…` or `postgres://…`; without it, the same SQLite file).

use std::{path::PathBuf, sync::Arc};

use anyhow::{Context, Result};
use tcg_store::{
    AppDatabase, AppStore, PortfolioCopy, PortfolioStore, SqliteOptions, SqliteStore, Store,
};

/// Where prices and the app's own data are stored.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// SQLite file of the embedded store: the ticks unless QuestDB is given, and the app's own
    /// data unless `--database-url` is given.
    #[arg(long, env = "TCG_SQLITE", default_value = "data/tcgtracker.db")]
    pub sqlite: PathBuf,
    /// The app's own data (users, API keys, portfolios, rules, alerts, webhooks and the outbox):
    /// `postgres://user@host:5432/db` (several instances on several machines) or
    /// `sqlite://path` (one machine). Without it, the `--sqlite` file keeps them.
    #[arg(long, env = "TCG_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// QuestDB HTTP endpoint (ILP writes), e.g. http://127.0.0.1:9000.
    #[arg(long, env = "QUESTDB_HTTP", requires = "questdb_pg")]
    pub questdb_http: Option<String>,
    /// QuestDB PGWire URL (reads), e.g. postgres://admin:quest@127.0.0.1:8812/qdb.
    #[arg(
        long,
        env = "QUESTDB_PG",
        requires = "questdb_http",
        hide_env_values = true
    )]
    pub questdb_pg: Option<String>,
    #[command(flatten)]
    pub sqlite_tuning: SqliteTuning,
}

/// How the SQLite file is read: reader connections and each connection's page cache (what
/// `serve`'s memory is mostly made of on a large file).
#[derive(Debug, Clone, clap::Args)]
pub struct SqliteTuning {
    /// Page cache per SQLite connection (the writer and each reader), MiB.
    #[arg(long, env = "TCG_SQLITE_CACHE_MIB", default_value_t = SqliteOptions::default().cache_mib)]
    pub sqlite_cache_mib: i64,
    /// SQLite reader connections (reads run beside the writer).
    #[arg(long, env = "TCG_SQLITE_READERS", default_value_t = SqliteOptions::default().readers)]
    pub sqlite_readers: usize,
}

impl Default for SqliteTuning {
    fn default() -> Self {
        let d = SqliteOptions::default();
        Self {
            sqlite_cache_mib: d.cache_mib,
            sqlite_readers: d.readers,
        }
    }
}

impl SqliteTuning {
    pub fn options(&self) -> SqliteOptions {
        SqliteOptions {
            readers: self.sqlite_readers.max(1),
            cache_mib: self.sqlite_cache_mib.max(1),
        }
    }
}

/// The opened stores of a service.
#[derive(Debug, Clone)]
pub struct Stores {
    /// Ticks, latest prices, candles, movers and the catalog (and the alerts the dashboards read).
    pub prices: Arc<dyn Store>,
    /// The app's own data.
    pub app: Arc<dyn AppStore>,
    /// Portfolios: the app store's, copied into QuestDB for the dashboards when prices live there.
    pub portfolios: Arc<dyn PortfolioStore>,
    /// Whether `prices` and `app` are one store (one SQLite file): its alert table is the outbox.
    pub shared: bool,
}

impl StoreArgs {
    /// Only the app store (`keys`, `webhook dispatch`).
    pub async fn app(&self) -> Result<Arc<dyn AppStore>> {
        match self.app_database()? {
            Some(db) => connect(&db).await,
            None => Ok(Arc::new(self.sqlite()?)),
        }
    }

    /// Both stores.
    pub async fn open(&self) -> Result<Stores> {
        let database = self.app_database()?;
        // The app store is the `--sqlite` file itself unless the URL names another database.
        let elsewhere = database
            .filter(|db| !matches!(db, AppDatabase::Sqlite(p) if same_file(p, &self.sqlite)));
        let quest = match (&self.questdb_http, &self.questdb_pg) {
            (Some(http), Some(pg)) => Some(quest_db(http, pg).await?),
            _ => None,
        };
        let shared = quest.is_none() && elsewhere.is_none();
        let (prices, app): (Arc<dyn Store>, Arc<dyn AppStore>) = match (quest, elsewhere) {
            (None, None) => {
                let file = Arc::new(self.sqlite()?);
                (file.clone(), file)
            }
            (None, Some(db)) => (Arc::new(self.sqlite()?), connect(&db).await?),
            (Some(q), None) => (q, Arc::new(self.sqlite()?)),
            (Some(q), Some(db)) => (q, connect(&db).await?),
        };
        let portfolios: Arc<dyn PortfolioStore> = if prices.backend() == "questdb" {
            Arc::new(PortfolioCopy::new(app.clone(), prices.clone()))
        } else {
            app.clone()
        };
        Ok(Stores {
            prices,
            app,
            portfolios,
            shared,
        })
    }

    /// Where the app's own data is, for a log line (never a password).
    pub fn app_description(&self) -> String {
        match self.app_database() {
            Ok(Some(db)) => db.to_string(),
            _ => self.sqlite.display().to_string(),
        }
    }

    /// `--database-url`, parsed.
    fn app_database(&self) -> Result<Option<AppDatabase>> {
        self.database_url
            .as_deref()
            .map(AppDatabase::parse)
            .transpose()
            .context("--database-url / TCG_DATABASE_URL")
    }

    /// The SQLite file, its folder created.
    pub fn sqlite(&self) -> Result<SqliteStore> {
        open_sqlite(&self.sqlite, self.sqlite_tuning.options())
    }
}

/// Opens (creating its folder) a SQLite store.
pub fn open_sqlite(path: &std::path::Path, options: SqliteOptions) -> Result<SqliteStore> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    SqliteStore::open_with(path, options)
        .with_context(|| format!("opening the store {}", path.display()))
}

async fn connect(db: &AppDatabase) -> Result<Arc<dyn AppStore>> {
    if let AppDatabase::Sqlite(path) = db {
        return Ok(Arc::new(open_sqlite(path, SqliteOptions::default())?));
    }
    tcg_store::connect_app_store(db)
        .await
        .with_context(|| format!("connecting to the app database {db}"))
}

async fn quest_db(http: &str, pg: &str) -> Result<Arc<dyn Store>> {
    let config = tcg_store::QuestDbConfig::from_urls(http, pg)?;
    Ok(Arc::new(
        tcg_store::QuestDbStore::connect(config)
            .await
            .with_context(|| format!("connecting to QuestDB at {http} / {pg}"))?,
    ))
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn args(dir: &std::path::Path, database_url: Option<String>) -> StoreArgs {
        StoreArgs {
            sqlite: dir.join("ticks.db"),
            database_url,
            questdb_http: None,
            questdb_pg: None,
            sqlite_tuning: SqliteTuning::default(),
        }
    }

    #[tokio::test]
    async fn without_a_database_url_one_sqlite_file_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let stores = args(dir.path(), None).open().await.unwrap();
        assert!(stores.shared);
        assert_eq!(stores.prices.backend(), "sqlite");
    }

    #[tokio::test]
    async fn a_sqlite_database_url_elsewhere_keeps_the_app_data_apart() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("app.db").display());
        let stores = args(dir.path(), Some(url)).open().await.unwrap();
        assert!(!stores.shared);
        stores
            .app
            .ensure_user(
                &tcg_schemas::UserId("ann".into()),
                tcg_schemas::Timestamp::from_micros(1),
            )
            .await
            .unwrap();
        assert!(dir.path().join("app.db").exists());
        let file = SqliteStore::open(dir.path().join("ticks.db")).unwrap();
        use tcg_store::AccountStore as _;
        assert!(file.users().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_bad_database_url_names_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let err = args(dir.path(), Some("mysql://x/y".into()))
            .open()
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("--database-url"), "{err:#}");
    }
}
