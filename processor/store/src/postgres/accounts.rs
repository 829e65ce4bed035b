//! [`AccountStore`] on PostgreSQL: users, API keys, webhook endpoints and their health.

use async_trait::async_trait;
use tcg_schemas::{Timestamp, UserId};
use tokio_postgres::{GenericClient, Row};

use super::PostgresAppStore;
use crate::{
    AccountStore, ApiKeyRecord, NewWebhook, Result, StoreError, User, Webhook, WebhookPatch,
    WebhookRecord,
    deliveries::{DeliveryAttempt, WebhookHealth},
};

const KEY_COLS: &str = "key_id, prefix, hash, user_name, admin, created_at, revoked_at";
const HOOK_COLS: &str =
    "webhook_id, owner, url, description, enabled, secret, created_at, updated_at";
const RECORD_COLS: &str = "webhook_id, owner, url, description, enabled, secret, created_at, \
     updated_at, previous_secret, previous_secret_until, disabled_reason, disabled_at, failing_since";

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_micros)
}

fn key_from_row(r: &Row) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.try_get(0)?,
        prefix: r.try_get(1)?,
        hash: r.try_get(2)?,
        user: UserId(r.try_get(3)?),
        admin: r.try_get(4)?,
        created_at: Timestamp::from_micros(r.try_get(5)?),
        revoked_at: ts(r.try_get(6)?),
    })
}

fn hook_from_row(r: &Row) -> Result<Webhook> {
    Ok(Webhook {
        id: r.try_get(0)?,
        owner: UserId(r.try_get(1)?),
        url: r.try_get(2)?,
        description: r.try_get(3)?,
        enabled: r.try_get(4)?,
        secret: r.try_get(5)?,
        created_at: Timestamp::from_micros(r.try_get(6)?),
        updated_at: Timestamp::from_micros(r.try_get(7)?),
    })
}

fn record_from_row(r: &Row) -> Result<WebhookRecord> {
    Ok(WebhookRecord {
        hook: hook_from_row(r)?,
        previous_secret: r.try_get(8)?,
        previous_secret_until: ts(r.try_get(9)?),
        disabled_reason: r.try_get(10)?,
        disabled_at: ts(r.try_get(11)?),
        failing_since: ts(r.try_get(12)?),
    })
}

/// One webhook of its owner, locked for update when `lock`.
async fn hook_of(
    c: &impl GenericClient,
    owner: &str,
    id: &str,
    lock: bool,
) -> Result<Option<Webhook>> {
    let sql = format!(
        "SELECT {HOOK_COLS} FROM webhooks WHERE owner = $1 AND webhook_id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(&sql, &[&owner, &id])
        .await?
        .as_ref()
        .map(hook_from_row)
        .transpose()
}

#[async_trait]
impl AccountStore for PostgresAppStore {
    async fn ensure_user(&self, name: &UserId, at: Timestamp) -> Result<()> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "INSERT INTO users (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .await?;
        c.execute(&st, &[&name.0, &at.as_micros()]).await?;
        Ok(())
    }

    async fn users(&self) -> Result<Vec<User>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT u.name, u.created_at,
                        count(k.key_id) FILTER (WHERE k.revoked_at IS NULL),
                        coalesce(bool_or(k.admin) FILTER (WHERE k.revoked_at IS NULL), false)
                 FROM users u LEFT JOIN api_keys k ON k.user_name = u.name
                 GROUP BY u.name ORDER BY u.name",
            )
            .await?;
        c.query(&st, &[])
            .await?
            .iter()
            .map(|r| {
                Ok(User {
                    name: UserId(r.try_get(0)?),
                    created_at: Timestamp::from_micros(r.try_get(1)?),
                    active_keys: u32::try_from(r.try_get::<_, i64>(2)?).unwrap_or(u32::MAX),
                    admin: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "INSERT INTO users (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&k.user.0, &k.created_at.as_micros()],
        )
        .await?;
        tx.execute(
            &format!("INSERT INTO api_keys ({KEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &k.id,
                &k.prefix,
                &k.hash,
                &k.user.0,
                &k.admin,
                &k.created_at.as_micros(),
                &k.revoked_at.map(Timestamp::as_micros),
            ],
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM api_keys WHERE prefix = $1"
            ))
            .await?;
        c.query_opt(&st, &[&prefix])
            .await?
            .as_ref()
            .map(key_from_row)
            .transpose()
    }

    async fn revoke_api_key(
        &self,
        id_or_prefix: &str,
        at: Timestamp,
    ) -> Result<Option<ApiKeyRecord>> {
        let needle = id_or_prefix.trim();
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "UPDATE api_keys SET revoked_at = $2
             WHERE (key_id = $1 OR prefix = $1) AND revoked_at IS NULL",
            &[&needle, &at.as_micros()],
        )
        .await?;
        let key = tx
            .query(
                &format!(
                    "SELECT {KEY_COLS} FROM api_keys WHERE key_id = $1 OR prefix = $1 LIMIT 1"
                ),
                &[&needle],
            )
            .await?
            .first()
            .map(key_from_row)
            .transpose()?;
        tx.commit().await?;
        Ok(key)
    }

    async fn api_keys(&self, user: Option<&UserId>) -> Result<Vec<ApiKeyRecord>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {KEY_COLS} FROM api_keys WHERE $1::text IS NULL OR user_name = $1
                 ORDER BY created_at DESC, key_id"
            ))
            .await?;
        let user = user.map(|u| u.0.as_str());
        c.query(&st, &[&user])
            .await?
            .iter()
            .map(key_from_row)
            .collect()
    }

    async fn insert_webhook(&self, h: &NewWebhook) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            &format!("INSERT INTO webhooks ({HOOK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            &[
                &h.id,
                &h.owner.0,
                &h.url,
                &h.description,
                &h.enabled,
                &h.secret,
                &h.created_at.as_micros(),
                &h.updated_at.as_micros(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn webhooks(&self, owner: &UserId) -> Result<Vec<Webhook>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {HOOK_COLS} FROM webhooks WHERE owner = $1 ORDER BY created_at, webhook_id"
            ))
            .await?;
        c.query(&st, &[&owner.0])
            .await?
            .iter()
            .map(hook_from_row)
            .collect()
    }

    async fn webhook(&self, owner: &UserId, id: &str) -> Result<Option<Webhook>> {
        hook_of(&**self.client().await?, &owner.0, id, false).await
    }

    async fn update_webhook(
        &self,
        owner: &UserId,
        id: &str,
        patch: &WebhookPatch,
        at: Timestamp,
    ) -> Result<Option<Webhook>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let Some(mut hook) = hook_of(&*tx, &owner.0, id, true).await? else {
            return Ok(None);
        };
        if let Some(url) = &patch.url {
            hook.url.clone_from(url);
        }
        if let Some(d) = &patch.description {
            hook.description.clone_from(d);
        }
        if let Some(e) = patch.enabled {
            hook.enabled = e;
        }
        hook.updated_at = at;
        let n = tx
            .execute(
                "UPDATE webhooks SET url = $3, description = $4, enabled = $5, updated_at = $6
                 WHERE owner = $1 AND webhook_id = $2",
                &[
                    &owner.0,
                    &id,
                    &hook.url,
                    &hook.description,
                    &hook.enabled,
                    &at.as_micros(),
                ],
            )
            .await?;
        if n != 1 {
            return Err(StoreError::NotFound(format!("webhook {id}")));
        }
        tx.commit().await?;
        Ok(Some(hook))
    }

    async fn delete_webhook(&self, owner: &UserId, id: &str) -> Result<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "DELETE FROM webhooks WHERE owner = $1 AND webhook_id = $2",
                &[&owner.0, &id],
            )
            .await?;
        Ok(n == 1)
    }

    async fn webhook_health(&self, owner: &UserId, id: Option<&str>) -> Result<Vec<WebhookHealth>> {
        super::deliveries::health(&**self.client().await?, &owner.0, id).await
    }

    async fn webhook_attempts(
        &self,
        owner: &UserId,
        id: &str,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Option<Vec<DeliveryAttempt>>> {
        let c = self.client().await?;
        if hook_of(&**c, &owner.0, id, false).await?.is_none() {
            return Ok(None);
        }
        super::deliveries::attempts(&**c, id, limit, before)
            .await
            .map(Some)
    }

    async fn rotate_webhook_secret(
        &self,
        owner: &UserId,
        id: &str,
        new_secret: &str,
        previous_valid_until: Timestamp,
        at: Timestamp,
    ) -> Result<Option<Webhook>> {
        let c = self.client().await?;
        c.query_opt(
            &format!(
                "UPDATE webhooks SET previous_secret = secret, previous_secret_until = $4,
                        secret = $3, updated_at = $5
                  WHERE owner = $1 AND webhook_id = $2
                 RETURNING {HOOK_COLS}"
            ),
            &[
                &owner.0,
                &id,
                &new_secret,
                &previous_valid_until.as_micros(),
                &at.as_micros(),
            ],
        )
        .await?
        .as_ref()
        .map(hook_from_row)
        .transpose()
    }

    async fn webhook_records(&self) -> Result<Vec<WebhookRecord>> {
        let c = self.client().await?;
        c.query(
            &format!("SELECT {RECORD_COLS} FROM webhooks ORDER BY created_at, webhook_id"),
            &[],
        )
        .await?
        .iter()
        .map(record_from_row)
        .collect()
    }

    async fn import_webhook(&self, r: &WebhookRecord) -> Result<bool> {
        let c = self.client().await?;
        let h = &r.hook;
        let n = c
            .execute(
                &format!(
                    "INSERT INTO webhooks ({RECORD_COLS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                     ON CONFLICT (webhook_id) DO NOTHING"
                ),
                &[
                    &h.id,
                    &h.owner.0,
                    &h.url,
                    &h.description,
                    &h.enabled,
                    &h.secret,
                    &h.created_at.as_micros(),
                    &h.updated_at.as_micros(),
                    &r.previous_secret,
                    &r.previous_secret_until.map(Timestamp::as_micros),
                    &r.disabled_reason,
                    &r.disabled_at.map(Timestamp::as_micros),
                    &r.failing_since.map(Timestamp::as_micros),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn ping(&self) -> Result<()> {
        let c = self.client().await?;
        c.query_one("SELECT 1", &[]).await?;
        Ok(())
    }
}
