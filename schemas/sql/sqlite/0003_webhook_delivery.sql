-- tcgtracker embedded store, migration 3 (PRAGMA user_version = 3): webhook delivery.
-- The alerts table is the outbox: every alert inserted from now on is queued in alert_outbox (by a
-- trigger, in the same transaction as the alert), fanned out by the dispatcher into one
-- webhook_deliveries row per enabled endpoint of the alert's owner, and each POST is logged in
-- webhook_attempts. Alerts stored before this migration are not delivered.
-- Times are microseconds since the Unix epoch (UTC).

-- Endpoint health and secret rotation.
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;     -- why the dispatcher disabled it
ALTER TABLE webhooks ADD COLUMN disabled_at INTEGER;
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;    -- first failure since the last success
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;     -- still signed with until ...
ALTER TABLE webhooks ADD COLUMN previous_secret_until INTEGER;

-- Alerts not yet fanned out to endpoints, in insertion order. `INSERT OR IGNORE` of a replayed
-- alert inserts nothing, so the trigger does not fire and nothing is queued twice.
CREATE TABLE alert_outbox (
    seq      INTEGER PRIMARY KEY,
    alert_id TEXT    NOT NULL
);
CREATE TRIGGER alerts_into_outbox AFTER INSERT ON alerts BEGIN
    INSERT INTO alert_outbox (alert_id) VALUES (NEW.alert_id);
END;

-- One row per (alert, endpoint). state: pending | delivered | failed (attempts exhausted or 410)
-- | abandoned (the endpoint was disabled). A pending row is due at next_attempt_at; a dispatcher
-- that takes it moves next_attempt_at forward by a lease, so a crash mid-POST retries later.
CREATE TABLE webhook_deliveries (
    alert_id        TEXT    NOT NULL,
    webhook_id      TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    PRIMARY KEY (alert_id, webhook_id)
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, state);

-- Every POST: outcome (delivered | http_error | gone | timeout | network | refused | invalid),
-- status, latency, error and the start of the response body.
CREATE TABLE webhook_attempts (
    attempt_id    INTEGER PRIMARY KEY,
    webhook_id    TEXT    NOT NULL,
    alert_id      TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    attempted_at  INTEGER NOT NULL,
    latency_us    INTEGER NOT NULL,
    outcome       TEXT    NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    response_body TEXT
);
CREATE INDEX webhook_attempts_hook ON webhook_attempts (webhook_id, attempt_id);

-- Disabling an endpoint (by its owner, a 410 or a failure streak) abandons what is pending for it.
CREATE TRIGGER webhook_disabled AFTER UPDATE OF enabled ON webhooks
WHEN OLD.enabled = 1 AND NEW.enabled = 0 BEGIN
    UPDATE webhook_deliveries
       SET state = 'abandoned', next_attempt_at = NULL, updated_at = NEW.updated_at,
           last_error = coalesce(NEW.disabled_reason, 'endpoint disabled by its owner')
     WHERE webhook_id = NEW.webhook_id AND state = 'pending';
END;
-- Enabling it again clears the reason and the failure streak.
CREATE TRIGGER webhook_enabled AFTER UPDATE OF enabled ON webhooks
WHEN OLD.enabled = 0 AND NEW.enabled = 1 BEGIN
    UPDATE webhooks SET disabled_reason = NULL, disabled_at = NULL, failing_since = NULL
     WHERE webhook_id = NEW.webhook_id;
END;
CREATE TRIGGER webhook_deleted AFTER DELETE ON webhooks BEGIN
    DELETE FROM webhook_deliveries WHERE webhook_id = OLD.webhook_id;
    DELETE FROM webhook_attempts WHERE webhook_id = OLD.webhook_id;
END;
