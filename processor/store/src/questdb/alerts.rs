//! [`AlertStore`] on QuestDB: rules (visible on return) and fired alerts.

use async_trait::async_trait;
use tcg_schemas::{AlertEvent, AlertId, AlertRule, RuleId, UserId};

use super::{ilp::*, sql::*, store::*};
use crate::{AlertStore, Result, model::*};

#[async_trait]
impl AlertStore for QuestDbStore {
    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()> {
        let (rule, at) = (rule.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_rule(buf, rule.id, &rule.owner, Some(&rule), at)
            })
            .await?;
        self.visible().await
    }

    async fn delete_rule(&self, rule_id: RuleId, owner: &UserId) -> Result<()> {
        let (owner, at) = (owner.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_rule(buf, rule_id, &owner, None, at)
            })
            .await?;
        self.visible().await
    }

    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>> {
        match owner {
            Some(o) => {
                self.newest_bodies(
                    "alert_rules",
                    "rule_id",
                    " AND owner = $1 ORDER BY rule_id",
                    &[Param::Text(o.0.clone())],
                )
                .await
            }
            None => {
                self.newest_bodies("alert_rules", "rule_id", " ORDER BY rule_id", &[])
                    .await
            }
        }
    }

    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        let alerts = alerts.to_vec();
        let n = alerts.len();
        self.writer
            .append(n, true, move |buf| {
                alerts.iter().try_for_each(|a| encode_alert(buf, a))
            })
            .await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn alerts(&self, owner: &UserId, limit: usize) -> Result<Vec<AlertEvent>> {
        let sql = format!(
            "SELECT body FROM alerts WHERE owner = $1 ORDER BY observed_at DESC, alert_id LIMIT {}",
            limit.max(1)
        );
        let rows = self.query(&sql, &[Param::Text(owner.0.clone())]).await?;
        bodies(&rows)
    }

    async fn alerts_after(&self, after: Option<AlertId>, limit: usize) -> Result<Vec<AlertEvent>> {
        let limit = limit.max(1);
        let rows = match after {
            Some(a) => {
                let sql = format!(
                    "SELECT body FROM alerts WHERE alert_id > $1 ORDER BY alert_id LIMIT {limit}"
                );
                self.query(&sql, &[Param::Text(a.to_string())]).await?
            }
            None => {
                let sql = format!("SELECT body FROM alerts ORDER BY alert_id LIMIT {limit}");
                self.query(&sql, &[]).await?
            }
        };
        bodies(&rows)
    }

    /// QuestDB has no outbox: the same as [`AlertStore::write_alerts`].
    async fn import_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        self.write_alerts(alerts).await
    }
}
