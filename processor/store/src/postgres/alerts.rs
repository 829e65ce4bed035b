//! [`AlertStore`] on PostgreSQL: rules, and fired alerts (queued in the outbox when new).

use async_trait::async_trait;
use tcg_schemas::{AlertEvent, AlertId, AlertRule, RuleId, UserId};

use super::{PostgresAppStore, bodies, limit, to_usize};
use crate::{AlertStore, Result, model::WriteReport};

/// What inserting alerts does besides storing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queue {
    /// New alerts are queued for delivery (the processor's writes).
    Outbox,
    /// Alerts are history only (a copy of an installation).
    No,
}

impl PostgresAppStore {
    /// Inserts alerts idempotently by id, in one transaction; the new ones are queued in the
    /// outbox when `queue` says so (what SQLite's trigger does).
    async fn insert_alerts(&self, alerts: &[AlertEvent], queue: Queue) -> Result<WriteReport> {
        let rows = alerts
            .iter()
            .map(|a| Ok((a, a.id.to_string(), serde_json::to_string(a)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let insert = tx
            .prepare_cached(
                "INSERT INTO alerts (alert_id, rule_id, owner, series_id, observed_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .await?;
        let enqueue = tx
            .prepare_cached("INSERT INTO alert_outbox (alert_id) VALUES ($1)")
            .await?;
        let mut n = 0;
        for (a, id, body) in &rows {
            let new = tx
                .execute(
                    &insert,
                    &[
                        id,
                        &a.rule_id.to_string(),
                        &a.owner.0,
                        &a.series_id,
                        &a.observed_at.as_micros(),
                        body,
                    ],
                )
                .await?;
            if new == 1 && queue == Queue::Outbox {
                tx.execute(&enqueue, &[id]).await?;
            }
            n += new;
        }
        tx.commit().await?;
        Ok(WriteReport {
            rows: rows.len(),
            new_rows: Some(to_usize(n)),
        })
    }
}

#[async_trait]
impl AlertStore for PostgresAppStore {
    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()> {
        let body = serde_json::to_string(rule)?;
        let product = i64::try_from(rule.product_id.0).unwrap_or(i64::MAX);
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "INSERT INTO alert_rules (rule_id, owner, product_id, updated_at, body)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (rule_id) DO UPDATE
                 SET owner = excluded.owner, product_id = excluded.product_id,
                     updated_at = excluded.updated_at, body = excluded.body",
            )
            .await?;
        c.execute(
            &st,
            &[
                &rule.id.to_string(),
                &rule.owner.0,
                &product,
                &rule.updated_at.as_micros(),
                &body,
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_rule(&self, rule_id: RuleId, _owner: &UserId) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM alert_rules WHERE rule_id = $1",
            &[&rule_id.to_string()],
        )
        .await?;
        Ok(())
    }

    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT body FROM alert_rules WHERE $1::text IS NULL OR owner = $1 ORDER BY rule_id",
            )
            .await?;
        bodies(&c.query(&st, &[&owner.map(|o| o.0.as_str())]).await?)
    }

    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        self.insert_alerts(alerts, Queue::Outbox).await
    }

    async fn alerts(&self, owner: &UserId, limit_: usize) -> Result<Vec<AlertEvent>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT body FROM alerts WHERE owner = $1
                 ORDER BY observed_at DESC, alert_id LIMIT $2",
            )
            .await?;
        let n = i64::try_from(limit_).unwrap_or(i64::MAX);
        bodies(&c.query(&st, &[&owner.0, &n]).await?)
    }

    async fn alerts_after(&self, after: Option<AlertId>, n: usize) -> Result<Vec<AlertEvent>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT body FROM alerts WHERE $1::text IS NULL OR alert_id > $1
                 ORDER BY alert_id LIMIT $2",
            )
            .await?;
        let after = after.map(|a| a.to_string());
        bodies(&c.query(&st, &[&after, &limit(n)]).await?)
    }

    async fn import_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        self.insert_alerts(alerts, Queue::No).await
    }
}
