//! Accounts of the query API: users, API keys (stored hashed) and webhook endpoints.
//!
//! Small, mutable, relational rows with unique keys, which QuestDB's append-only tables are not
//! made for: `SqliteStore` (embedded; migration `schemas/sql/sqlite/0002_accounts.sql`) and
//! `PostgresAppStore` (distributed; `postgres/accounts.rs`) implement [`AccountStore`].

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use tcg_schemas::{Timestamp, UserId};

use crate::{
    Result, StoreError,
    deliveries::{DeliveryAttempt, WebhookHealth, attempts_blocking, health_blocking},
    sqlite::SqliteStore,
};

/// A user and what they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: UserId,
    pub created_at: Timestamp,
    /// Keys not revoked.
    pub active_keys: u32,
    /// Whether one of the active keys is an admin key.
    pub admin: bool,
}

/// An API key as stored: never the key itself, only its SHA-256 and its non-secret prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// A UUID naming the key.
    pub id: String,
    /// The random, non-secret part of the key used to find it (`tcg_<prefix>_<secret>`).
    pub prefix: String,
    /// Lower-case hex SHA-256 of the whole key.
    pub hash: String,
    pub user: UserId,
    pub admin: bool,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A webhook endpoint, with its signing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub owner: UserId,
    pub url: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub secret: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What creating a webhook stores.
pub type NewWebhook = Webhook;

/// A webhook endpoint with all of its state: the secret before the last rotation and the
/// delivery health beside the endpoint itself. What copying an installation reads and writes
/// ([`AccountStore::webhook_records`], [`AccountStore::import_webhook`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub hook: Webhook,
    /// The secret before the last rotation, and until when it still signs.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<Timestamp>,
    /// Why and when the dispatcher disabled the endpoint.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<Timestamp>,
    /// The first failure since the last success.
    pub failing_since: Option<Timestamp>,
}

/// A partial update of a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WebhookPatch {
    pub url: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// Storage of accounts. Object safe: `Arc<dyn AccountStore>`.
#[async_trait]
pub trait AccountStore: Send + Sync + std::fmt::Debug {
    /// Creates the user if it does not exist yet.
    async fn ensure_user(&self, name: &UserId, at: Timestamp) -> Result<()>;
    /// Every user with key counts, by name.
    async fn users(&self) -> Result<Vec<User>>;
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<()>;
    /// The key with this prefix, revoked or not.
    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRecord>>;
    /// Revokes the key whose id or prefix is given; `None` when there is none.
    async fn revoke_api_key(
        &self,
        id_or_prefix: &str,
        at: Timestamp,
    ) -> Result<Option<ApiKeyRecord>>;
    /// Keys of a user (or all), newest first.
    async fn api_keys(&self, user: Option<&UserId>) -> Result<Vec<ApiKeyRecord>>;
    async fn insert_webhook(&self, hook: &NewWebhook) -> Result<()>;
    /// An owner's webhooks, oldest first.
    async fn webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>>;
    /// One webhook of its owner (`None` for another owner's id).
    async fn webhook(&self, owner: &UserId, id: &str) -> Result<Option<Webhook>>;
    /// Applies a patch; `None` when the owner has no such webhook.
    async fn update_webhook(
        &self,
        owner: &UserId,
        id: &str,
        patch: &WebhookPatch,
        at: Timestamp,
    ) -> Result<Option<Webhook>>;
    /// Deletes; `false` when the owner has no such webhook.
    async fn delete_webhook(&self, owner: &UserId, id: &str) -> Result<bool>;
    /// Every enabled webhook of an owner (for delivery).
    async fn enabled_webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>> {
        Ok(self
            .webhooks(owner)
            .await?
            .into_iter()
            .filter(|w| w.enabled)
            .collect())
    }
    /// Delivery health of an owner's endpoints (all, or the one with `id`), oldest first.
    async fn webhook_health(&self, owner: &UserId, id: Option<&str>) -> Result<Vec<WebhookHealth>>;
    /// An endpoint's delivery attempts, newest first, older than the attempt id `before`;
    /// `None` when the owner has no such webhook.
    async fn webhook_attempts(
        &self,
        owner: &UserId,
        id: &str,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Option<Vec<DeliveryAttempt>>>;
    /// Replaces the signing secret; the old one keeps signing deliveries (a second signature)
    /// until `previous_valid_until`. `None` when the owner has no such webhook.
    async fn rotate_webhook_secret(
        &self,
        owner: &UserId,
        id: &str,
        new_secret: &str,
        previous_valid_until: Timestamp,
        at: Timestamp,
    ) -> Result<Option<Webhook>>;
    /// Every owner's webhooks with all of their state, oldest first (for copying an
    /// installation).
    async fn webhook_records(&self) -> Result<Vec<WebhookRecord>>;
    /// Stores a webhook exactly as given (secrets, health, times) unless its id exists;
    /// `true` when it was stored. Nothing else changes (no delivery is made for it).
    async fn import_webhook(&self, record: &WebhookRecord) -> Result<bool>;
    /// A cheap query proving the database answers.
    async fn ping(&self) -> Result<()>;
}

const KEY_COLS: &str = "key_id, prefix, hash, user_name, admin, created_at, revoked_at";
const HOOK_COLS: &str =
    "webhook_id, owner, url, description, enabled, secret, created_at, updated_at";
const RECORD_COLS: &str = "webhook_id, owner, url, description, enabled, secret, created_at, \
     updated_at, previous_secret, previous_secret_until, disabled_reason, disabled_at, failing_since";

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        prefix: r.get(1)?,
        hash: r.get(2)?,
        user: UserId(r.get(3)?),
        admin: r.get::<_, i64>(4)? != 0,
        created_at: Timestamp::from_micros(r.get(5)?),
        revoked_at: r.get::<_, Option<i64>>(6)?.map(Timestamp::from_micros),
    })
}

fn hook_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Webhook> {
    Ok(Webhook {
        id: r.get(0)?,
        owner: UserId(r.get(1)?),
        url: r.get(2)?,
        description: r.get(3)?,
        enabled: r.get::<_, i64>(4)? != 0,
        secret: r.get(5)?,
        created_at: Timestamp::from_micros(r.get(6)?),
        updated_at: Timestamp::from_micros(r.get(7)?),
    })
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebhookRecord> {
    let ts = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp::from_micros))
    };
    Ok(WebhookRecord {
        hook: hook_from_row(r)?,
        previous_secret: r.get(8)?,
        previous_secret_until: ts(9)?,
        disabled_reason: r.get(10)?,
        disabled_at: ts(11)?,
        failing_since: ts(12)?,
    })
}

fn hook_blocking(conn: &rusqlite::Connection, owner: &str, id: &str) -> Result<Option<Webhook>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {HOOK_COLS} FROM webhooks WHERE owner = ?1 AND webhook_id = ?2"
        ))?
        .query_row(params![owner, id], hook_from_row)
        .optional()?)
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn ensure_user(&self, name: &UserId, at: Timestamp) -> Result<()> {
        let name = name.0.clone();
        self.write(move |w| {
            w.conn
                .prepare_cached("INSERT OR IGNORE INTO users (name, created_at) VALUES (?1, ?2)")?
                .execute(params![name, at.as_micros()])?;
            Ok(())
        })
        .await
    }

    async fn users(&self) -> Result<Vec<User>> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT u.name, u.created_at,
                        count(k.key_id) FILTER (WHERE k.revoked_at IS NULL),
                        coalesce(max(k.admin) FILTER (WHERE k.revoked_at IS NULL), 0)
                 FROM users u LEFT JOIN api_keys k ON k.user_name = u.name
                 GROUP BY u.name ORDER BY u.name",
            )?
            .query_map([], |r| {
                Ok(User {
                    name: UserId(r.get(0)?),
                    created_at: Timestamp::from_micros(r.get(1)?),
                    active_keys: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                    admin: r.get::<_, i64>(3)? != 0,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        let k = key.clone();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            tx.prepare_cached("INSERT OR IGNORE INTO users (name, created_at) VALUES (?1, ?2)")?
                .execute(params![k.user.0, k.created_at.as_micros()])?;
            tx.prepare_cached(&format!(
                "INSERT INTO api_keys ({KEY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                k.id,
                k.prefix,
                k.hash,
                k.user.0,
                i64::from(k.admin),
                k.created_at.as_micros(),
                k.revoked_at.map(Timestamp::as_micros)
            ])?;
            Ok(tx.commit()?)
        })
        .await
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRecord>> {
        let prefix = prefix.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM api_keys WHERE prefix = ?1"
            ))?
            .query_row([&prefix], key_from_row)
            .optional()?)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        id_or_prefix: &str,
        at: Timestamp,
    ) -> Result<Option<ApiKeyRecord>> {
        let needle = id_or_prefix.trim().to_owned();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            tx.prepare_cached(
                "UPDATE api_keys SET revoked_at = ?2
                 WHERE (key_id = ?1 OR prefix = ?1) AND revoked_at IS NULL",
            )?
            .execute(params![needle, at.as_micros()])?;
            let key = tx
                .prepare_cached(&format!(
                    "SELECT {KEY_COLS} FROM api_keys WHERE key_id = ?1 OR prefix = ?1"
                ))?
                .query_row([&needle], key_from_row)
                .optional()?;
            tx.commit()?;
            Ok(key)
        })
        .await
    }

    async fn api_keys(&self, user: Option<&UserId>) -> Result<Vec<ApiKeyRecord>> {
        let user = user.map(|u| u.0.clone());
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM api_keys WHERE ?1 IS NULL OR user_name = ?1
                 ORDER BY created_at DESC, key_id"
            ))?
            .query_map([user], key_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn insert_webhook(&self, hook: &NewWebhook) -> Result<()> {
        let h = hook.clone();
        self.write(move |w| {
            w.conn
                .prepare_cached(&format!(
                    "INSERT INTO webhooks ({HOOK_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ))?
                .execute(params![
                    h.id,
                    h.owner.0,
                    h.url,
                    h.description,
                    i64::from(h.enabled),
                    h.secret,
                    h.created_at.as_micros(),
                    h.updated_at.as_micros()
                ])?;
            Ok(())
        })
        .await
    }

    async fn webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>> {
        let owner = owner.0.clone();
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {HOOK_COLS} FROM webhooks WHERE owner = ?1 ORDER BY created_at, webhook_id"
            ))?
            .query_map([owner], hook_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn webhook(&self, owner: &UserId, id: &str) -> Result<Option<Webhook>> {
        let (owner, id) = (owner.0.clone(), id.to_owned());
        self.read(move |c| hook_blocking(c, &owner, &id)).await
    }

    async fn update_webhook(
        &self,
        owner: &UserId,
        id: &str,
        patch: &WebhookPatch,
        at: Timestamp,
    ) -> Result<Option<Webhook>> {
        let (owner, id, patch) = (owner.0.clone(), id.to_owned(), patch.clone());
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let Some(mut hook) = hook_blocking(&tx, &owner, &id)? else {
                return Ok(None);
            };
            if let Some(url) = patch.url {
                hook.url = url;
            }
            if let Some(d) = patch.description {
                hook.description = d;
            }
            if let Some(e) = patch.enabled {
                hook.enabled = e;
            }
            hook.updated_at = at;
            let n = tx
                .prepare_cached(
                    "UPDATE webhooks SET url = ?3, description = ?4, enabled = ?5, updated_at = ?6
                     WHERE owner = ?1 AND webhook_id = ?2",
                )?
                .execute(params![
                    owner,
                    id,
                    hook.url,
                    hook.description,
                    i64::from(hook.enabled),
                    at.as_micros()
                ])?;
            if n != 1 {
                return Err(StoreError::NotFound(format!("webhook {id}")));
            }
            tx.commit()?;
            Ok(Some(hook))
        })
        .await
    }

    async fn delete_webhook(&self, owner: &UserId, id: &str) -> Result<bool> {
        let (owner, id) = (owner.0.clone(), id.to_owned());
        self.write(move |w| {
            Ok(w.conn.execute(
                "DELETE FROM webhooks WHERE owner = ?1 AND webhook_id = ?2",
                params![owner, id],
            )? == 1)
        })
        .await
    }

    async fn webhook_health(&self, owner: &UserId, id: Option<&str>) -> Result<Vec<WebhookHealth>> {
        let (owner, id) = (owner.0.clone(), id.map(str::to_owned));
        self.read(move |c| health_blocking(c, &owner, id.as_deref()))
            .await
    }

    async fn webhook_attempts(
        &self,
        owner: &UserId,
        id: &str,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Option<Vec<DeliveryAttempt>>> {
        let (owner, id) = (owner.0.clone(), id.to_owned());
        self.read(move |c| {
            if hook_blocking(c, &owner, &id)?.is_none() {
                return Ok(None);
            }
            attempts_blocking(c, &id, limit, before).map(Some)
        })
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        owner: &UserId,
        id: &str,
        new_secret: &str,
        previous_valid_until: Timestamp,
        at: Timestamp,
    ) -> Result<Option<Webhook>> {
        let (owner, id, secret) = (owner.0.clone(), id.to_owned(), new_secret.to_owned());
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let n = tx
                .prepare_cached(
                    "UPDATE webhooks SET previous_secret = secret, previous_secret_until = ?4,
                            secret = ?3, updated_at = ?5
                      WHERE owner = ?1 AND webhook_id = ?2",
                )?
                .execute(params![
                    owner,
                    id,
                    secret,
                    previous_valid_until.as_micros(),
                    at.as_micros()
                ])?;
            if n == 0 {
                return Ok(None);
            }
            let hook = hook_blocking(&tx, &owner, &id)?;
            tx.commit()?;
            Ok(hook)
        })
        .await
    }

    async fn webhook_records(&self) -> Result<Vec<WebhookRecord>> {
        self.read(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {RECORD_COLS} FROM webhooks ORDER BY created_at, webhook_id"
            ))?
            .query_map([], record_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn import_webhook(&self, record: &WebhookRecord) -> Result<bool> {
        let r = record.clone();
        self.write(move |w| {
            let h = &r.hook;
            let n = w
                .conn
                .prepare_cached(&format!(
                    "INSERT OR IGNORE INTO webhooks ({RECORD_COLS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ))?
                .execute(params![
                    h.id,
                    h.owner.0,
                    h.url,
                    h.description,
                    i64::from(h.enabled),
                    h.secret,
                    h.created_at.as_micros(),
                    h.updated_at.as_micros(),
                    r.previous_secret,
                    r.previous_secret_until.map(Timestamp::as_micros),
                    r.disabled_reason,
                    r.disabled_at.map(Timestamp::as_micros),
                    r.failing_since.map(Timestamp::as_micros)
                ])?;
            Ok(n == 1)
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
            Ok(())
        })
        .await
    }
}
