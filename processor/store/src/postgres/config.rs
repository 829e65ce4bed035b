//! Where the app store's PostgreSQL is and how its connection pool behaves.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::{Result, StoreError, app_database::mask_url};

/// The connection settings of a [`super::PostgresAppStore`].
///
/// The pool makes connections on demand and checks each one before handing it out again
/// ([`RecyclingMethod::Verified`]: a broken connection, e.g. after the server restarted, is
/// dropped and a new one made), so the store recovers by itself. Every wait is bounded: making a
/// connection (`connect_timeout`), waiting for a free one (`wait_timeout`), checking one; a call
/// fails fast with an error whose [`StoreError::is_unavailable`] is true instead of hanging.
#[derive(Clone)]
pub struct PostgresConfig {
    /// Host, port, user, database and options (from the URL).
    pub pg: tokio_postgres::Config,
    /// Connections at most (default 16).
    pub max_connections: usize,
    /// Making one connection, TCP and startup (default 5 s; a `connect_timeout` in the URL wins).
    pub connect_timeout: Duration,
    /// Waiting for a free connection, and checking an idle one before reuse (default 5 s).
    pub wait_timeout: Duration,
    /// The URL as given, password masked (for messages).
    display: String,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.display)
            .field("database", &self.pg.get_dbname())
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("wait_timeout", &self.wait_timeout)
            .finish()
    }
}

impl PostgresConfig {
    /// From a `postgres://` or `postgresql://` URL (or libpq's `key=value` form), with the
    /// default pool settings.
    pub fn from_url(url: &str) -> Result<Self> {
        let display = mask_url(url);
        let pg = url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| StoreError::DatabaseUrl {
                url: display.clone(),
                reason: "not a PostgreSQL connection URL".into(),
                source: Some(e),
            })?;
        Ok(Self::from_pg(pg, display))
    }

    /// From a client configuration, with the default pool settings.
    pub fn from_pg(pg: tokio_postgres::Config, display: String) -> Self {
        Self {
            pg,
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(5),
            display,
        }
    }

    /// The same server, another database.
    #[must_use]
    pub fn with_database(mut self, database: &str) -> Self {
        self.pg.dbname(database);
        self.display = format!("{} (database {database})", self.display);
        self
    }

    /// The URL with its password masked.
    pub fn display_url(&self) -> &str {
        &self.display
    }

    /// The client configuration the pool connects with: our timeouts and keepalives unless the
    /// URL set them.
    pub(crate) fn client_config(&self) -> tokio_postgres::Config {
        let mut pg = self.pg.clone();
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(self.connect_timeout);
        }
        if pg.get_application_name().is_none() {
            pg.application_name("tcgtracker");
        }
        // A peer that vanished without a reset (a network partition) is noticed within about a
        // minute on an idle connection.
        pg.keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3);
        pg
    }

    /// A pool (no connection is made yet).
    pub(crate) fn pool(&self) -> Result<Pool> {
        let manager = Manager::from_config(
            self.client_config(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Verified,
            },
        );
        Pool::builder(manager)
            .max_size(self.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(self.wait_timeout))
            .create_timeout(Some(self.connect_timeout))
            .recycle_timeout(Some(self.wait_timeout))
            .build()
            .map_err(StoreError::PoolBuild)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let c = PostgresConfig::from_url("postgres://app:hunter2@db.example:5433/tcg").unwrap();
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("db.example"), "{text}");
        assert_eq!(c.pg.get_dbname(), Some("tcg"));
        let c = c.with_database("other");
        assert_eq!(c.pg.get_dbname(), Some("other"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn the_url_timeout_wins_over_ours() {
        let c = PostgresConfig::from_url("postgres://u@h/db?connect_timeout=2").unwrap();
        assert_eq!(
            c.client_config().get_connect_timeout(),
            Some(&Duration::from_secs(2))
        );
        let c = PostgresConfig::from_url("postgres://u@h/db").unwrap();
        assert_eq!(
            c.client_config().get_connect_timeout(),
            Some(&Duration::from_secs(5))
        );
    }

    #[test]
    fn an_unreadable_url_is_refused_without_its_password() {
        let err = PostgresConfig::from_url("postgres://u:secret@h:notaport/db").unwrap_err();
        assert!(matches!(err, StoreError::DatabaseUrl { .. }), "{err:?}");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
