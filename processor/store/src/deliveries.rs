//! The webhook outbox: what the delivery dispatcher (`tcg-webhooks`) reads and writes.
//!
//! Alerts written through [`crate::AlertStore::write_alerts`] are queued by a trigger in the same
//! transaction (`alert_outbox`, migration `0003_webhook_delivery.sql`). The dispatcher
//! [`fans them out`](DeliveryStore::fan_out) into one delivery per enabled endpoint of the
//! owner, [`claims`](DeliveryStore::claim_due) due deliveries with a lease, and
//! [`records`](DeliveryStore::record_attempts) every attempt with its consequence (delivered,
//! retry at, given up, endpoint disabled). All state is in SQLite, so a restarted dispatcher goes on
//! where the last one stopped; a delivery with a recorded 2xx is never sent again.
//!
//! `SqliteStore` (below) and `PostgresAppStore` (`postgres/deliveries.rs`, where several
//! dispatchers may share one database) implement [`DeliveryStore`].

use async_trait::async_trait;
use rusqlite::{CachedStatement, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use tcg_schemas::Timestamp;

use crate::{Result, sqlite::SqliteStore};

/// A delivery to make now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub alert_id: String,
    pub webhook_id: String,
    /// Attempts already made (0 for the first).
    pub attempts: u32,
    pub url: String,
    pub secret: String,
    /// The secret before the last rotation, while it is still honoured.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<Timestamp>,
    /// The alert event as stored (JSON of `AlertEvent`).
    pub alert_json: String,
}

/// What one attempt decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResolution {
    /// 2xx: done, never sent again.
    Delivered,
    /// Try again at this instant.
    RetryAt(Timestamp),
    /// No more attempts (schedule exhausted).
    GiveUp,
    /// Give up and disable the endpoint with this reason (e.g. 410 Gone).
    DisableEndpoint(String),
}

/// One attempt to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub alert_id: String,
    pub webhook_id: String,
    /// 1-based number of this attempt.
    pub attempt: u32,
    pub attempted_at: Timestamp,
    pub latency_us: i64,
    /// `delivered`, `http_error`, `gone`, `timeout`, `network`, `refused` or `invalid`.
    pub outcome: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// The start of the response body (already truncated).
    pub response_body: Option<String>,
    pub resolution: AttemptResolution,
}

/// An endpoint the recording disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledEndpoint {
    pub webhook_id: String,
    pub reason: String,
}

/// What [`DeliveryStore::record_attempts`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordReport {
    pub recorded: usize,
    pub disabled: Vec<DisabledEndpoint>,
}

/// What [`DeliveryStore::fan_out`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOut {
    /// Alerts taken from the outbox queue.
    pub alerts: usize,
    /// Deliveries created (alerts × enabled endpoints of their owners).
    pub deliveries: usize,
}

/// One delivery attempt as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// Increasing; use as the `before` cursor.
    pub attempt_id: i64,
    pub alert_id: String,
    pub attempt: u32,
    pub attempted_at: Timestamp,
    pub latency_us: i64,
    pub outcome: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

/// Delivery health of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookHealth {
    pub webhook_id: String,
    /// Why the dispatcher disabled the endpoint (`None` when enabled or disabled by its owner).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<Timestamp>,
    /// The first failure since the last success.
    pub failing_since: Option<Timestamp>,
    /// Until when the secret before the last rotation still signs deliveries.
    pub previous_secret_until: Option<Timestamp>,
    /// Deliveries waiting to be (re)tried.
    pub pending_deliveries: u64,
}

/// The outbox side of the store, used by the dispatcher. Object safe.
#[async_trait]
pub trait DeliveryStore: Send + Sync + std::fmt::Debug {
    /// Takes up to `limit` queued alerts and creates their deliveries (due at `now`) for every
    /// enabled endpoint of each alert's owner. Idempotent by (alert, endpoint).
    async fn fan_out(&self, now: Timestamp, limit: usize) -> Result<FanOut>;
    /// Up to `limit` deliveries due at `now` to enabled endpoints, oldest due first; each is
    /// leased until `lease_until` (not handed out again before, unless recorded).
    async fn claim_due(
        &self,
        now: Timestamp,
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<DueDelivery>>;
    /// Stores attempts and applies their resolutions. A failure starts (or continues) the
    /// endpoint's failure streak; a streak older than `disable_after_us` at the failing attempt
    /// disables the endpoint, as does [`AttemptResolution::DisableEndpoint`]; a success ends it.
    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        disable_after_us: i64,
    ) -> Result<RecordReport>;
    /// The earliest instant a pending delivery is due (leases included), or the smallest
    /// timestamp when alerts wait to be fanned out; `None` when there is nothing to do.
    async fn next_due(&self) -> Result<Option<Timestamp>>;
    /// Pending deliveries plus alerts not fanned out yet.
    async fn backlog(&self) -> Result<u64>;
}

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_micros)
}

fn clamp_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn fan_out(&self, now: Timestamp, limit: usize) -> Result<FanOut> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let now = now.as_micros();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let (alerts, max_seq): (i64, Option<i64>) = tx
                .prepare_cached(
                    "SELECT count(*), max(seq) FROM
                       (SELECT seq FROM alert_outbox ORDER BY seq LIMIT ?1)",
                )?
                .query_row([limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let Some(max_seq) = max_seq else {
                return Ok(FanOut::default());
            };
            let deliveries = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO webhook_deliveries
                       (alert_id, webhook_id, state, attempts, next_attempt_at, created_at, updated_at)
                     SELECT o.alert_id, w.webhook_id, 'pending', 0, ?2, ?2, ?2
                       FROM alert_outbox o
                       JOIN alerts a ON a.alert_id = o.alert_id
                       JOIN webhooks w ON w.owner = a.owner AND w.enabled = 1
                      WHERE o.seq <= ?1
                      ORDER BY o.seq, w.webhook_id",
                )?
                .execute(params![max_seq, now])?;
            tx.prepare_cached("DELETE FROM alert_outbox WHERE seq <= ?1")?
                .execute([max_seq])?;
            tx.commit()?;
            Ok(FanOut {
                alerts: usize::try_from(alerts).unwrap_or(0),
                deliveries,
            })
        })
        .await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<DueDelivery>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (now, lease) = (now.as_micros(), lease_until.as_micros());
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let due = tx
                .prepare_cached(
                    "SELECT d.alert_id, d.webhook_id, d.attempts, w.url, w.secret,
                            w.previous_secret, w.previous_secret_until, a.body
                       FROM webhook_deliveries d
                       JOIN webhooks w ON w.webhook_id = d.webhook_id
                       JOIN alerts a ON a.alert_id = d.alert_id
                      WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 AND w.enabled = 1
                      ORDER BY d.next_attempt_at
                      LIMIT ?2",
                )?
                .query_map(params![now, limit], |r| {
                    Ok(DueDelivery {
                        alert_id: r.get(0)?,
                        webhook_id: r.get(1)?,
                        attempts: clamp_u32(r.get(2)?),
                        url: r.get(3)?,
                        secret: r.get(4)?,
                        previous_secret: r.get(5)?,
                        previous_secret_until: ts(r.get(6)?),
                        alert_json: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            {
                let mut lease_st = tx.prepare_cached(
                    "UPDATE webhook_deliveries SET next_attempt_at = ?3
                      WHERE alert_id = ?1 AND webhook_id = ?2",
                )?;
                for d in &due {
                    lease_st.execute(params![d.alert_id, d.webhook_id, lease])?;
                }
            }
            tx.commit()?;
            Ok(due)
        })
        .await
    }

    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        disable_after_us: i64,
    ) -> Result<RecordReport> {
        let records = records.to_vec();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            let mut report = RecordReport::default();
            {
                let mut writer = AttemptWriter::prepare(&tx)?;
                for r in &records {
                    writer.record(r, disable_after_us, &mut report)?;
                }
            }
            tx.commit()?;
            Ok(report)
        })
        .await
    }

    async fn next_due(&self) -> Result<Option<Timestamp>> {
        self.read(|c| {
            let queued: bool = c
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM alert_outbox)")?
                .query_row([], |r| r.get(0))?;
            if queued {
                return Ok(Some(Timestamp::from_micros(i64::MIN)));
            }
            let next: Option<i64> = c
                .prepare_cached(
                    "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(ts(next))
        })
        .await
    }

    async fn backlog(&self) -> Result<u64> {
        self.read(|c| {
            let n: i64 = c
                .prepare_cached(
                    "SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending')
                          + (SELECT count(*) FROM alert_outbox)",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }
}

/// The delivery state and next attempt time an attempt's resolution leaves.
pub(crate) fn delivery_state(resolution: &AttemptResolution) -> (&'static str, Option<i64>) {
    match resolution {
        AttemptResolution::Delivered => ("delivered", None),
        AttemptResolution::RetryAt(t) => ("pending", Some(t.as_micros())),
        AttemptResolution::GiveUp | AttemptResolution::DisableEndpoint(_) => ("failed", None),
    }
}

/// The statements that record attempts, prepared once per batch (in its transaction).
struct AttemptWriter<'c> {
    /// Moves the delivery to the attempt's state (unless already delivered).
    delivery: CachedStatement<'c>,
    /// Logs the attempt.
    attempt: CachedStatement<'c>,
    /// Ends the endpoint's failure streak.
    healthy: CachedStatement<'c>,
    /// Starts or continues the streak; returns its start.
    failing: CachedStatement<'c>,
    /// Disables the endpoint with a reason.
    disable: CachedStatement<'c>,
}

impl<'c> AttemptWriter<'c> {
    fn prepare(c: &'c rusqlite::Connection) -> Result<Self> {
        Ok(Self {
            delivery: c.prepare_cached(
                "UPDATE webhook_deliveries
                    SET state = ?3, attempts = max(attempts, ?4), next_attempt_at = ?5,
                        updated_at = ?6, last_status = ?7, last_error = ?8
                  WHERE alert_id = ?1 AND webhook_id = ?2 AND state <> 'delivered'",
            )?,
            attempt: c.prepare_cached(
                "INSERT INTO webhook_attempts (webhook_id, alert_id, attempt, attempted_at,
                    latency_us, outcome, status_code, error, response_body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            healthy: c.prepare_cached(
                "UPDATE webhooks SET failing_since = NULL
                  WHERE webhook_id = ?1 AND failing_since IS NOT NULL",
            )?,
            failing: c.prepare_cached(
                "UPDATE webhooks SET failing_since = coalesce(failing_since, ?2)
                  WHERE webhook_id = ?1 RETURNING failing_since",
            )?,
            disable: c.prepare_cached(
                "UPDATE webhooks SET enabled = 0, disabled_reason = ?2, disabled_at = ?3,
                        updated_at = ?3
                  WHERE webhook_id = ?1 AND enabled = 1",
            )?,
        })
    }

    /// Records one attempt and applies its resolution; counts it, and any endpoint it
    /// disabled, in `report`.
    fn record(
        &mut self,
        r: &AttemptRecord,
        disable_after_us: i64,
        report: &mut RecordReport,
    ) -> Result<()> {
        let at = r.attempted_at.as_micros();
        // A delivery already delivered, or gone with its endpoint: log nothing more.
        if !self.update_delivery(r, at)? {
            return Ok(());
        }
        self.attempt.execute(params![
            r.webhook_id,
            r.alert_id,
            i64::from(r.attempt),
            at,
            r.latency_us,
            r.outcome,
            r.status_code.map(i64::from),
            r.error,
            r.response_body
        ])?;
        report.recorded += 1;
        if let Some(reason) = self.streak(r, at, disable_after_us)?
            && self.disable.execute(params![r.webhook_id, reason, at])? == 1
        {
            report.disabled.push(DisabledEndpoint {
                webhook_id: r.webhook_id.clone(),
                reason,
            });
        }
        Ok(())
    }

    /// Moves the delivery to the attempt's state; false when there was none to move.
    fn update_delivery(&mut self, r: &AttemptRecord, at: i64) -> Result<bool> {
        let (state, next) = delivery_state(&r.resolution);
        let n = self.delivery.execute(params![
            r.alert_id,
            r.webhook_id,
            state,
            i64::from(r.attempt),
            next,
            at,
            r.status_code.map(i64::from),
            r.error
        ])?;
        Ok(n > 0)
    }

    /// Ends the endpoint's failure streak on a success, starts or continues it otherwise.
    /// Returns why the endpoint is to be disabled: the attempt said so, or the streak is older
    /// than `disable_after_us`.
    fn streak(
        &mut self,
        r: &AttemptRecord,
        at: i64,
        disable_after_us: i64,
    ) -> Result<Option<String>> {
        if r.resolution == AttemptResolution::Delivered {
            self.healthy.execute([&r.webhook_id])?;
            return Ok(None);
        }
        let since: Option<i64> = self
            .failing
            .query_row(params![r.webhook_id, at], |row| row.get(0))
            .optional()?
            .flatten();
        Ok(streak_reason(r, at, since, disable_after_us))
    }
}

/// Why a failed attempt at `at` disables its endpoint, if it does: the attempt said so, or the
/// failure streak (started at `since`) is older than `disable_after_us`.
pub(crate) fn streak_reason(
    r: &AttemptRecord,
    at: i64,
    since: Option<i64>,
    disable_after_us: i64,
) -> Option<String> {
    match (&r.resolution, since) {
        (AttemptResolution::DisableEndpoint(why), _) => Some(why.clone()),
        (_, Some(since)) if at.saturating_sub(since) >= disable_after_us => Some(format!(
            "failing continuously since {} (last error: {})",
            Timestamp::from_micros(since),
            r.error.as_deref().unwrap_or(&r.outcome)
        )),
        _ => None,
    }
}

/// Reads for the API (implemented in `accounts.rs` as part of `AccountStore`).
pub(crate) fn attempts_blocking(
    c: &rusqlite::Connection,
    webhook_id: &str,
    limit: usize,
    before: Option<i64>,
) -> Result<Vec<DeliveryAttempt>> {
    let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
    Ok(c.prepare_cached(
        "SELECT attempt_id, alert_id, attempt, attempted_at, latency_us, outcome, status_code,
                error, response_body
           FROM webhook_attempts
          WHERE webhook_id = ?1 AND attempt_id < ?2
          ORDER BY attempt_id DESC LIMIT ?3",
    )?
    .query_map(
        params![webhook_id, before.unwrap_or(i64::MAX), limit],
        |r| {
            Ok(DeliveryAttempt {
                attempt_id: r.get(0)?,
                alert_id: r.get(1)?,
                attempt: clamp_u32(r.get(2)?),
                attempted_at: Timestamp::from_micros(r.get(3)?),
                latency_us: r.get(4)?,
                outcome: r.get(5)?,
                status_code: r
                    .get::<_, Option<i64>>(6)?
                    .and_then(|s| u16::try_from(s).ok()),
                error: r.get(7)?,
                response_body: r.get(8)?,
            })
        },
    )?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn health_blocking(
    c: &rusqlite::Connection,
    owner: &str,
    id: Option<&str>,
) -> Result<Vec<WebhookHealth>> {
    Ok(c.prepare_cached(
        "SELECT w.webhook_id, w.disabled_reason, w.disabled_at, w.failing_since,
                w.previous_secret_until,
                (SELECT count(*) FROM webhook_deliveries d
                  WHERE d.webhook_id = w.webhook_id AND d.state = 'pending')
           FROM webhooks w
          WHERE w.owner = ?1 AND (?2 IS NULL OR w.webhook_id = ?2)
          ORDER BY w.created_at, w.webhook_id",
    )?
    .query_map(params![owner, id], |r| {
        Ok(WebhookHealth {
            webhook_id: r.get(0)?,
            disabled_reason: r.get(1)?,
            disabled_at: ts(r.get(2)?),
            failing_since: ts(r.get(3)?),
            previous_secret_until: ts(r.get(4)?),
            pending_deliveries: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
        })
    })?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}
