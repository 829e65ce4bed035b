//! Alert rules and fired alerts.

use async_trait::async_trait;
use rusqlite::{Connection, params, params_from_iter, types::Value};
use tcg_schemas::{AlertEvent, AlertId, AlertRule, RuleId, UserId};

use super::{SqliteStore, to_i64};
use crate::{AlertStore, Result, model::WriteReport};

fn json_bodies<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    args: &[Value],
) -> Result<Vec<T>> {
    let bodies = conn
        .prepare_cached(sql)?
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies
        .iter()
        .map(|b| Ok(serde_json::from_str(b)?))
        .collect()
}

#[async_trait]
impl AlertStore for SqliteStore {
    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()> {
        let (id, owner, pid, at, body) = (
            rule.id.to_string(),
            rule.owner.0.clone(),
            to_i64(rule.product_id.0),
            rule.updated_at.as_micros(),
            serde_json::to_string(rule)?,
        );
        self.write(move |w| {
            w.conn
                .prepare_cached("INSERT OR REPLACE INTO alert_rules (rule_id, owner, product_id, updated_at, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![id, owner, pid, at, body])?;
            Ok(())
        })
        .await
    }

    async fn delete_rule(&self, rule_id: RuleId, _owner: &UserId) -> Result<()> {
        let id = rule_id.to_string();
        self.write(move |w| {
            w.conn
                .execute("DELETE FROM alert_rules WHERE rule_id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>> {
        let owner = owner.map(|o| o.0.clone());
        self.read(move |c| {
            json_bodies(
                c,
                "SELECT body FROM alert_rules WHERE ?1 IS NULL OR owner = ?1 ORDER BY rule_id",
                &[owner.map_or(Value::Null, Value::Text)],
            )
        })
        .await
    }

    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        self.insert_alerts(alerts, true).await
    }

    async fn alerts(&self, owner: &UserId, limit: usize) -> Result<Vec<AlertEvent>> {
        let owner = owner.0.clone();
        self.read(move |c| {
            json_bodies(
                c,
                "SELECT body FROM alerts WHERE owner = ?1 ORDER BY observed_at DESC, alert_id LIMIT ?2",
                &[Value::Text(owner), Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX))],
            )
        })
        .await
    }

    async fn alerts_after(&self, after: Option<AlertId>, limit: usize) -> Result<Vec<AlertEvent>> {
        let after = after.map_or(Value::Null, |a| Value::Text(a.to_string()));
        let limit = Value::Integer(i64::try_from(limit.max(1)).unwrap_or(i64::MAX));
        self.read(move |c| {
            json_bodies(
                c,
                "SELECT body FROM alerts WHERE ?1 IS NULL OR alert_id > ?1 ORDER BY alert_id LIMIT ?2",
                &[after, limit],
            )
        })
        .await
    }

    async fn import_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        self.insert_alerts(alerts, false).await
    }
}

impl SqliteStore {
    /// Inserts alerts idempotently by id in one transaction. The trigger queues each new one in
    /// the outbox; unless `queue`, that entry is taken out again in the same transaction.
    async fn insert_alerts(&self, alerts: &[AlertEvent], queue: bool) -> Result<WriteReport> {
        let rows = alerts
            .iter()
            .map(|a| {
                Ok((
                    a.id.to_string(),
                    a.rule_id.to_string(),
                    a.owner.0.clone(),
                    a.series_id.clone(),
                    a.observed_at.as_micros(),
                    serde_json::to_string(a)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let mut n = 0;
            {
                let mut st = tx.prepare_cached("INSERT OR IGNORE INTO alerts (alert_id, rule_id, owner, series_id, observed_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
                let mut unqueue = tx.prepare_cached("DELETE FROM alert_outbox WHERE alert_id = ?1")?;
                for r in &rows {
                    let new = st.execute(params![r.0, r.1, r.2, r.3, r.4, r.5])?;
                    if new == 1 && !queue {
                        unqueue.execute([&r.0])?;
                    }
                    n += new;
                }
            }
            tx.commit()?;
            Ok(WriteReport { rows: rows.len(), new_rows: Some(n) })
        })
        .await
    }
}
