//! Users' alert rules and the alerts they fired (the app's own data).

use async_trait::async_trait;
use tcg_schemas::{AlertEvent, AlertId, AlertRule, RuleChange, RuleId, UserId};

use crate::{Result, model::WriteReport};

/// Rules are upserts (last write wins); alerts are idempotent by their id. Object safe.
#[async_trait]
pub trait AlertStore: Send + Sync + std::fmt::Debug {
    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()>;
    async fn delete_rule(&self, rule_id: RuleId, owner: &UserId) -> Result<()>;
    /// Applies a change from `tcg.alert-rules.v1`.
    async fn apply_rule_change(&self, change: &RuleChange) -> Result<()> {
        match change {
            RuleChange::Upsert { rule } => self.upsert_rule(rule).await,
            RuleChange::Delete { rule_id, owner } => self.delete_rule(*rule_id, owner).await,
        }
    }
    /// Rules, of one owner or all (the processor loads all at start).
    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>>;

    /// Stores fired alerts, idempotent by id.
    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport>;
    /// An owner's alerts, newest first.
    async fn alerts(&self, owner: &UserId, limit: usize) -> Result<Vec<AlertEvent>>;
    /// Every owner's alerts by id, those after `after` (exclusive), at most `limit` (at least
    /// one): pages for copying an installation.
    async fn alerts_after(&self, after: Option<AlertId>, limit: usize) -> Result<Vec<AlertEvent>>;
    /// Stores alerts as history, idempotent by id like [`AlertStore::write_alerts`], but never
    /// queued for webhook delivery (they were delivered where they fired).
    async fn import_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport>;
}
