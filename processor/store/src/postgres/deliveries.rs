//! [`DeliveryStore`] on PostgreSQL: the webhook outbox, shared safely by several dispatchers.
//!
//! Fan-out takes outbox entries and `claim_due` takes due deliveries with `FOR UPDATE … SKIP
//! LOCKED`, so two dispatchers never take the same ones; `claim_due` sets the lease in the same
//! transaction. Recording locks the endpoints of a batch first, in id order, so concurrent
//! recorders (and the trigger that abandons a disabled endpoint's deliveries) cannot deadlock.

use async_trait::async_trait;
use tcg_schemas::Timestamp;
use tokio_postgres::{GenericClient, Row, Transaction};

use super::{PostgresAppStore, limit, to_i64, to_usize};
use crate::{
    AttemptRecord, AttemptResolution, DeliveryAttempt, DeliveryStore, DisabledEndpoint,
    DueDelivery, FanOut, RecordReport, Result, WebhookHealth,
    deliveries::{delivery_state, streak_reason},
};

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_micros)
}

fn clamp_u32(v: i32) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

fn attempt_no(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn due_from_row(r: &Row) -> Result<DueDelivery> {
    Ok(DueDelivery {
        alert_id: r.try_get(0)?,
        webhook_id: r.try_get(1)?,
        attempts: clamp_u32(r.try_get(2)?),
        url: r.try_get(3)?,
        secret: r.try_get(4)?,
        previous_secret: r.try_get(5)?,
        previous_secret_until: ts(r.try_get(6)?),
        alert_json: r.try_get(7)?,
    })
}

#[async_trait]
impl DeliveryStore for PostgresAppStore {
    async fn fan_out(&self, now: Timestamp, n: usize) -> Result<FanOut> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let seqs: Vec<i64> = tx
            .query(
                "SELECT seq FROM alert_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                &[&limit(n)],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if seqs.is_empty() {
            tx.commit().await?;
            return Ok(FanOut::default());
        }
        // Endpoints are share-locked: one its owner or the dispatcher disables meanwhile is
        // seen disabled (and gets no delivery), as its pending ones are abandoned.
        let deliveries = tx
            .execute(
                "INSERT INTO webhook_deliveries
                   (alert_id, webhook_id, state, attempts, next_attempt_at, created_at, updated_at)
                 SELECT o.alert_id, w.webhook_id, 'pending', 0, $2, $2, $2
                   FROM alert_outbox o
                   JOIN alerts a ON a.alert_id = o.alert_id
                   JOIN webhooks w ON w.owner = a.owner AND w.enabled
                  WHERE o.seq = ANY($1)
                  ORDER BY o.seq, w.webhook_id
                    FOR SHARE OF w
                 ON CONFLICT DO NOTHING",
                &[&seqs, &now.as_micros()],
            )
            .await?;
        tx.execute("DELETE FROM alert_outbox WHERE seq = ANY($1)", &[&seqs])
            .await?;
        tx.commit().await?;
        Ok(FanOut {
            alerts: seqs.len(),
            deliveries: to_usize(deliveries),
        })
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        n: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<DueDelivery>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let select = tx
            .prepare_cached(
                "SELECT d.alert_id, d.webhook_id, d.attempts, w.url, w.secret,
                        w.previous_secret, w.previous_secret_until, a.body
                   FROM webhook_deliveries d
                   JOIN webhooks w ON w.webhook_id = d.webhook_id
                   JOIN alerts a ON a.alert_id = d.alert_id
                  WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND w.enabled
                  ORDER BY d.next_attempt_at
                  LIMIT $2
                    FOR UPDATE OF d SKIP LOCKED",
            )
            .await?;
        let due = tx
            .query(&select, &[&now.as_micros(), &to_i64(n)])
            .await?
            .iter()
            .map(due_from_row)
            .collect::<Result<Vec<_>>>()?;
        if !due.is_empty() {
            let alerts: Vec<&str> = due.iter().map(|d| d.alert_id.as_str()).collect();
            let hooks: Vec<&str> = due.iter().map(|d| d.webhook_id.as_str()).collect();
            tx.execute(
                "UPDATE webhook_deliveries d SET next_attempt_at = $3
                   FROM unnest($1::text[], $2::text[]) AS t (alert_id, webhook_id)
                  WHERE d.alert_id = t.alert_id AND d.webhook_id = t.webhook_id",
                &[&alerts, &hooks, &lease_until.as_micros()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(due)
    }

    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        disable_after_us: i64,
    ) -> Result<RecordReport> {
        let mut report = RecordReport::default();
        if records.is_empty() {
            return Ok(report);
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let mut hooks: Vec<&str> = records.iter().map(|r| r.webhook_id.as_str()).collect();
        hooks.sort_unstable();
        hooks.dedup();
        tx.execute(
            "SELECT 1 FROM webhooks WHERE webhook_id = ANY($1)
              ORDER BY webhook_id FOR NO KEY UPDATE",
            &[&hooks],
        )
        .await?;
        for r in records {
            record(&tx, r, disable_after_us, &mut report).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn next_due(&self) -> Result<Option<Timestamp>> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM alert_outbox),
                        (SELECT min(next_attempt_at) FROM webhook_deliveries
                          WHERE state = 'pending')",
                &[],
            )
            .await?;
        if row.try_get::<_, bool>(0)? {
            return Ok(Some(Timestamp::from_micros(i64::MIN)));
        }
        Ok(ts(row.try_get(1)?))
    }

    async fn backlog(&self) -> Result<u64> {
        let c = self.client().await?;
        let n: i64 = c
            .query_one(
                "SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending')
                      + (SELECT count(*) FROM alert_outbox)",
                &[],
            )
            .await?
            .try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Records one attempt and applies its resolution; counts it, and any endpoint it disabled, in
/// `report`. A delivery already delivered, or gone with its endpoint, logs nothing more.
async fn record(
    tx: &Transaction<'_>,
    r: &AttemptRecord,
    disable_after_us: i64,
    report: &mut RecordReport,
) -> Result<()> {
    let at = r.attempted_at.as_micros();
    let (state, next) = delivery_state(&r.resolution);
    let status = r.status_code.map(i32::from);
    let moved = tx
        .execute(
            "UPDATE webhook_deliveries
                SET state = $3, attempts = GREATEST(attempts, $4), next_attempt_at = $5,
                    updated_at = $6, last_status = $7, last_error = $8
              WHERE alert_id = $1 AND webhook_id = $2 AND state <> 'delivered'",
            &[
                &r.alert_id,
                &r.webhook_id,
                &state,
                &attempt_no(r.attempt),
                &next,
                &at,
                &status,
                &r.error,
            ],
        )
        .await?;
    if moved == 0 {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO webhook_attempts (webhook_id, alert_id, attempt, attempted_at, latency_us,
                                       outcome, status_code, error, response_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &r.webhook_id,
            &r.alert_id,
            &attempt_no(r.attempt),
            &at,
            &r.latency_us,
            &r.outcome,
            &status,
            &r.error,
            &r.response_body,
        ],
    )
    .await?;
    report.recorded += 1;
    if let Some(reason) = streak(tx, r, at, disable_after_us).await?
        && tx
            .execute(
                "UPDATE webhooks SET enabled = false, disabled_reason = $2, disabled_at = $3,
                        updated_at = $3
                  WHERE webhook_id = $1 AND enabled",
                &[&r.webhook_id, &reason, &at],
            )
            .await?
            == 1
    {
        report.disabled.push(DisabledEndpoint {
            webhook_id: r.webhook_id.clone(),
            reason,
        });
    }
    Ok(())
}

/// Ends the endpoint's failure streak on a success, starts or continues it otherwise. Returns
/// why the endpoint is to be disabled, if it is.
async fn streak(
    tx: &Transaction<'_>,
    r: &AttemptRecord,
    at: i64,
    disable_after_us: i64,
) -> Result<Option<String>> {
    if r.resolution == AttemptResolution::Delivered {
        tx.execute(
            "UPDATE webhooks SET failing_since = NULL
              WHERE webhook_id = $1 AND failing_since IS NOT NULL",
            &[&r.webhook_id],
        )
        .await?;
        return Ok(None);
    }
    let since: Option<i64> = tx
        .query_opt(
            "UPDATE webhooks SET failing_since = coalesce(failing_since, $2)
              WHERE webhook_id = $1 RETURNING failing_since",
            &[&r.webhook_id, &at],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?
        .flatten();
    Ok(streak_reason(r, at, since, disable_after_us))
}

/// An endpoint's attempts, newest first, older than the attempt id `before`.
pub(super) async fn attempts(
    c: &impl GenericClient,
    webhook_id: &str,
    n: usize,
    before: Option<i64>,
) -> Result<Vec<DeliveryAttempt>> {
    c.query(
        "SELECT attempt_id, alert_id, attempt, attempted_at, latency_us, outcome, status_code,
                error, response_body
           FROM webhook_attempts
          WHERE webhook_id = $1 AND attempt_id < $2
          ORDER BY attempt_id DESC LIMIT $3",
        &[&webhook_id, &before.unwrap_or(i64::MAX), &limit(n)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(DeliveryAttempt {
            attempt_id: r.try_get(0)?,
            alert_id: r.try_get(1)?,
            attempt: clamp_u32(r.try_get(2)?),
            attempted_at: Timestamp::from_micros(r.try_get(3)?),
            latency_us: r.try_get(4)?,
            outcome: r.try_get(5)?,
            status_code: r
                .try_get::<_, Option<i32>>(6)?
                .and_then(|s| u16::try_from(s).ok()),
            error: r.try_get(7)?,
            response_body: r.try_get(8)?,
        })
    })
    .collect()
}

/// Delivery health of an owner's endpoints (all, or the one with `id`), oldest first.
pub(super) async fn health(
    c: &impl GenericClient,
    owner: &str,
    id: Option<&str>,
) -> Result<Vec<WebhookHealth>> {
    c.query(
        "SELECT w.webhook_id, w.disabled_reason, w.disabled_at, w.failing_since,
                w.previous_secret_until,
                (SELECT count(*) FROM webhook_deliveries d
                  WHERE d.webhook_id = w.webhook_id AND d.state = 'pending')
           FROM webhooks w
          WHERE w.owner = $1 AND ($2::text IS NULL OR w.webhook_id = $2)
          ORDER BY w.created_at, w.webhook_id",
        &[&owner, &id],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(WebhookHealth {
            webhook_id: r.try_get(0)?,
            disabled_reason: r.try_get(1)?,
            disabled_at: ts(r.try_get(2)?),
            failing_since: ts(r.try_get(3)?),
            previous_secret_until: ts(r.try_get(4)?),
            pending_deliveries: u64::try_from(r.try_get::<_, i64>(5)?).unwrap_or(0),
        })
    })
    .collect()
}
